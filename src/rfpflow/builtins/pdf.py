"""PDF export: print the rendered HTML documents to A4 PDF with headless Chromium.

Procurement files PDFs. The HTML documents are already print-ready (A4
``@page`` rules, tables that wrap instead of overflowing), so a browser's
print engine gives clean PDFs without another typesetting dependency.
Where no Chromium or Chrome is installed, the export says how to get one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from rfpflow.context import RunContext
from rfpflow.errors import RfpflowError
from rfpflow.hookspecs import hookimpl

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
BROWSER_ENV = "RFPFLOW_CHROMIUM"
TIMEOUT_SECONDS = 120
# Flags for a quiet, offline, deterministic headless run (no network, no profile state).
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--hide-scrollbars", "--mute-audio")


def find_browser() -> str | None:
    """The Chromium/Chrome executable: ``RFPFLOW_CHROMIUM`` or the first one on PATH."""
    explicit = os.environ.get(BROWSER_ENV)
    if explicit:
        return explicit if Path(explicit).exists() else None
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def _browser() -> str:
    browser = find_browser()
    if browser is None:
        raise RfpflowError(
            "PDF export needs Chromium or Google Chrome, and none was found. Install one "
            "(Debian/Ubuntu: `apt install chromium fonts-noto-cjk`; the CJK fonts keep Chinese documents "
            f"from printing as boxes), or point {BROWSER_ENV} at the executable. "
            "Meanwhile, open the HTML documents in out/ in a browser and print them to PDF."
        )
    return browser


def _run(browser: str, args: list[str], source: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="rfpflow-chromium-") as profile:
        command = [browser, *FLAGS, f"--user-data-dir={profile}", *args, source.resolve().as_uri()]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            raise RfpflowError(f"{source.name}: the browser did not finish printing in {TIMEOUT_SECONDS} s") from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise RfpflowError(f"{source.name}: the browser failed to print it ({detail[0]})")


def html_to_pdf(source: Path, target: Path) -> Path:
    """Print one HTML file to an A4 PDF (the page size comes from the document's CSS)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    _run(_browser(), [f"--print-to-pdf={target}", "--no-pdf-header-footer"], source)
    if not target.exists() or target.stat().st_size == 0:
        raise RfpflowError(f"{source.name}: the browser produced no PDF")
    return target


def html_to_png(source: Path, target: Path, *, width: int = 1240, height: int = 1754) -> Path:
    """A screenshot of the HTML file (default: A4 at 150 dpi), to look at a document as a picture."""
    target.parent.mkdir(parents=True, exist_ok=True)
    _run(_browser(), [f"--screenshot={target}", f"--window-size={width},{height}"], source)
    if not target.exists():
        raise RfpflowError(f"{source.name}: the browser produced no screenshot")
    return target


@hookimpl(trylast=True)
def rfpflow_export(fmt: str, target: Path, context: RunContext) -> Path | None:
    """``export pdf``: every HTML document in out/ printed into the folder ``target``."""
    if fmt != "pdf":
        return None
    if context.workspace is None:
        raise RfpflowError("PDF export works on a workspace: use -C DIR")
    sources = sorted((context.workspace / "out").glob("*.html"))
    if not sources:
        raise RfpflowError("there are no HTML documents in out/ yet; they are rendered as the cycle goes on")
    target.mkdir(parents=True, exist_ok=True)
    for source in sources:
        html_to_pdf(source, target / f"{source.stem}.pdf")
    return target
