"""Printing documents to PDF and PNG with headless Chromium (skipped where none is installed).

CI installs Debian's chromium, fonts-noto-cjk and poppler-utils, so there
these tests run: page counts are sane, wide tables are not clipped at the
page edge (the last column's text is on the page), and the charts are drawn.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from rfpflow.builtins.pdf import find_browser, html_to_pdf, html_to_png
from rfpflow.documents import render_documents
from rfpflow.testing import make_host

from .view_fixture import sample_view

needs_browser = pytest.mark.skipif(find_browser() is None, reason="no Chromium or Chrome installed")


def page_count(pdf: Path) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf.read_bytes()))


def pdf_text(pdf: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


def png_size(png: Path) -> tuple[int, int]:
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture(params=["en", "zh"])
def rendered(request, tmp_path: Path) -> Path:
    out = tmp_path / request.param
    render_documents(sample_view(request.param), make_host(), workspace=None, out_dir=out)
    return out


@needs_browser
def test_award_recommendation_and_evaluation_report_print_to_pdf(rendered: Path, tmp_path: Path) -> None:
    for name in ("award-recommendation", "evaluation-report"):
        pdf = html_to_pdf(rendered / f"{name}.html", tmp_path / f"{rendered.name}-{name}.pdf")
        assert pdf.read_bytes().startswith(b"%PDF")
        assert 1 <= page_count(pdf) <= 6, page_count(pdf)
        text = pdf_text(pdf)
        assert "RFP-2027-001" in text
        # every evaluated vendor's row is on the page, including the rightmost column (the total)
        for vendor in ("Acme Services", "Beta BPO"):
            assert vendor in text
        if name == "evaluation-report":
            assert "82.40" in text or "82.4" in text


@needs_browser
def test_chinese_documents_print_chinese_text(tmp_path: Path) -> None:
    out = tmp_path / "zh"
    render_documents(sample_view("zh"), make_host(), workspace=None, out_dir=out)
    text = pdf_text(html_to_pdf(out / "award-recommendation.html", tmp_path / "zh.pdf"))
    assert "客服热线外包服务采购" in text  # extractable CJK text means a CJK font was used, not boxes


@needs_browser
def test_evaluation_report_screenshot_has_the_charts(tmp_path: Path) -> None:
    out = tmp_path / "en"
    render_documents(sample_view("en"), make_host(), workspace=None, out_dir=out)
    html = (out / "evaluation-report.html").read_text(encoding="utf-8")
    assert html.count("<svg") >= 2
    png = html_to_png(out / "evaluation-report.html", tmp_path / "evaluation-report.png")
    assert png_size(png) == (1240, 1754)
    assert png.stat().st_size > 20_000  # a blank page compresses to a few KB


def test_missing_browser_says_how_to_get_one(monkeypatch, tmp_path: Path) -> None:
    from rfpflow.errors import RfpflowError

    monkeypatch.setenv("RFPFLOW_CHROMIUM", str(tmp_path / "no-such-browser"))
    source = tmp_path / "x.html"
    source.write_text("<p>x</p>")
    with pytest.raises(RfpflowError, match="apt install chromium fonts-noto-cjk"):
        html_to_pdf(source, tmp_path / "x.pdf")
