"""Start-up stays light: ``rfpflow --help`` and ``rfpflow status`` import no web framework, no
PostgreSQL driver, no spreadsheet library or reader, no Jinja (checked with ``python -X importtime``,
which lists every module a process imports). The time itself is measured by bench/bench_startup.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import clean_env

#: Modules (and their submodules) the two commands must not import.
HEAVY = ("jinja2", "markupsafe", "openpyxl", "xlsxwriter", "python_calamine", "pandas", "psycopg", "psycopg2",
         "asyncpg", "http.server", "wsgiref", "aiohttp", "flask", "starlette", "uvicorn", "werkzeug",
         "rfpflow.documents.render", "rfpflow.spreadsheets.fast_reader", "rfpflow.spreadsheets.bid_reader",
         "rfpflow.spreadsheets.bid_writer", "rfpflow.spreadsheets.workbooks", "rfpflow.spreadsheets.filecheck",
         "rfpflow.builtins.export_xlsx", "rfpflow.web", "rfpflow.store.postgres")


def imported(*args: str) -> list[str]:
    code = f"from rfpflow.cli import main\ntry:\n    main({list(args)!r})\nexcept SystemExit:\n    pass\n"
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True,
                          env=clean_env({"RFPFLOW_LOAD_PLUGINS": ""}), timeout=120, check=True)
    names = [line.split("|")[2].strip() for line in done.stderr.splitlines()
             if line.startswith("import time:") and line.count("|") == 2]
    assert "rfpflow.cli" in names
    return names


def heavy(names: list[str]) -> list[str]:
    return sorted({n for n in names if any(n == h or n.startswith(h + ".") for h in HEAVY)})


@pytest.mark.parametrize("args", [("--help",), ("status",)], ids=["help", "status"])
def test_start_up_imports_nothing_heavy(args: tuple[str, ...], tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    subprocess.run([sys.executable, "-m", "rfpflow", "new", str(workspace)], check=True, capture_output=True,
                   env=clean_env(), timeout=120)
    prefix = ("-C", str(workspace)) if args == ("status",) else ()
    assert heavy(imported(*prefix, *args)) == []
