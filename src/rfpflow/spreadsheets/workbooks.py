"""Opening workbooks handed to rfpflow: file checks first, then openpyxl.

Every workbook a user gives rfpflow goes through :func:`open_workbook`, so the
file-level safety checks of :mod:`rfpflow.spreadsheets.filecheck` (not a real .xlsx,
encrypted, zip bombs, XML entity declarations) run before any parser sees it.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from rfpflow.errors import InputFileError
from rfpflow.spreadsheets.filecheck import Limits, check_workbook_file


def open_workbook(path: Path, display: str | None = None, *, limits: Limits | None = None) -> Any:
    """Check ``path`` and open it read-only with cached values (never formulas)."""
    import openpyxl

    name = display or path.name
    if not path.exists():
        raise InputFileError(f"{name}: file not found")
    check_workbook_file(path, limits=limits or Limits())
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as exc:
        raise InputFileError(
            f"{name}: could not be read as an Excel workbook ({type(exc).__name__}: {exc}); "
            "open it in Excel or LibreOffice and save it again as .xlsx"
        ) from None
