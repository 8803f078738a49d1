"""Saving workbooks reproducibly: the same content gives the same bytes.

openpyxl's ``save()`` stamps the document's "modified" time with the wall
clock, and zip entries carry their write time; both would make every export,
score sheet and bid workbook differ from run to run. Auditors rerun things,
so every workbook rfpflow writes goes through :func:`workbook_bytes`.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import zipfile
from pathlib import Path
from typing import Any

EARLIEST_ZIP_TIME = dt.datetime(1980, 1, 1)  # the zip format cannot record earlier times


def workbook_bytes(workbook: Any, when: dt.datetime) -> bytes:
    """Serialise ``workbook`` with ``when`` as its created/modified time and every zip entry's time."""
    from openpyxl.writer.excel import ExcelWriter

    moment = when.astimezone(dt.UTC).replace(tzinfo=None) if when.tzinfo else when
    moment = max(moment, EARLIEST_ZIP_TIME)
    workbook.properties.created = moment
    workbook.properties.modified = moment
    raw = io.BytesIO()
    # ExcelWriter, not save_workbook: save_workbook stamps "modified" with the wall clock.
    ExcelWriter(workbook, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True)).save()
    stamp = moment.timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dest:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.create_system = 3
            entry.external_attr = 0o644 << 16
            dest.writestr(entry, source.read(info.filename))
    return out.getvalue()


def save_workbook(workbook: Any, target: Path, when: dt.datetime) -> Path:
    """Write :func:`workbook_bytes` to ``target`` atomically (a half-written file never replaces a good one)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_bytes(workbook_bytes(workbook, when))
    os.replace(partial, target)
    return target
