"""The due-diligence report and the dispatch-compliance memo, in English and Chinese."""

from __future__ import annotations

from pathlib import Path

import pytest

from rfpflow.documents import render_documents


@pytest.fixture
def render(rfpflow_host, plugin, screening_view, tmp_path: Path):
    # Only this plugin's documents: the builtin documents have their own tests.
    host = rfpflow_host(plugin, blocked=["rfpflow.builtins.documents"])

    def run(language: str) -> dict[str, str]:
        out = tmp_path / language
        paths = render_documents(screening_view(language), host, workspace=None, out_dir=out)
        return {p.name: p.read_text(encoding="utf-8") for p in paths}

    return run


def test_both_documents_are_registered_for_the_screening_stage(rfpflow_host, plugin) -> None:
    documents = rfpflow_host(plugin).documents()
    assert documents["due-diligence-report"].stage == "screening"
    assert documents["dispatch-compliance-memo"].stage == "screening"
    assert documents.suppliers["due-diligence-report"] == "outsourcing"  # its entry-point name, as the CLI shows it


@pytest.mark.parametrize("language", ["en", "zh"])
def test_documents_render_in_html_and_markdown(render, language: str) -> None:
    files = render(language)
    assert sorted(files) == ["dispatch-compliance-memo.html", "dispatch-compliance-memo.md",
                             "due-diligence-report.html", "due-diligence-report.md"]


def test_due_diligence_report_lists_certificates_cmmi_and_registry(render) -> None:
    html = render("en")["due-diligence-report.html"]
    assert "ISO 9001:2015 declared" in html
    assert "CMMI-DEV V2.0 ML3" in html
    assert "no administrative penalty" in html and "Registry: administrative penalties" in html
    assert "labour" not in html  # the dispatch finding belongs to the memo
    assert "Acme IT &lt;b&gt;Services&lt;/b&gt;" in html  # vendor text stays inert


def test_dispatch_memo_sends_review_findings_to_legal(render) -> None:
    files = render("en")
    assert "legal review" in files["dispatch-compliance-memo.html"]
    assert "art. 66" in files["dispatch-compliance-memo.html"]
    assert "person-month" in files["dispatch-compliance-memo.md"]


def test_chinese_documents_are_in_chinese(render) -> None:
    files = render("zh")
    assert "<h1>尽职调查报告</h1>" in files["due-diligence-report.html"]
    assert "法务复核" in files["dispatch-compliance-memo.html"]
    assert "第六十六条" in files["dispatch-compliance-memo.md"]
