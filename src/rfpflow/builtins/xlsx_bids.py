"""The bid-response workbook: written for vendors at ``issue``, read back at ``bids import``.

Hooks: :func:`rfpflow_write_bid_workbook` (targets ending in ``.xlsx``) and
:func:`rfpflow_read_bids` (files ending in ``.xlsx`` or ``.xlsm``; any other
suffix is left to other plugins, e.g. a CSV importer). Both are ``trylast``.
The Python API is :func:`write_bid_workbook` and :func:`read_bid_workbook`.

The workbook
    Sheets, in order: ``Instructions``, ``Company``, ``Certifications``,
    ``Questionnaire``, ``Pricing`` and the very hidden ``_rfpflow``. Sheet
    names are stable English identifiers in every language, so problems read
    ``Pricing!E14`` for everyone; titles, headers, labels and instructions are
    in the RFP's language -- English, or for ``language = "zh"`` Chinese
    followed by English (``单价（CNY） / Unit price (CNY)``). The cells the
    vendor fills in are light yellow and are the only unlocked cells; every
    sheet is protected without a password (protection guides, it does not
    secure: a vendor may unprotect a sheet to insert rows, and the reader
    copes). Answers have a drop-down list of the question's choices; line
    totals and the total are formulas, for the vendor's convenience only.
    ``_rfpflow`` holds the RFP id, the definition hash, the workbook format
    version and the language. The same RFP always gives a byte-identical
    file (timestamps are pinned to the issue date).

Reading a returned workbook
    * File checks first (:func:`rfpflow.spreadsheets.filecheck.check_workbook_file`): not a
      real .xlsx, encrypted, damaged, ZIP bombs and XML entity attacks are
      refused with a message saying what the file is.
    * The metadata sheet must match: a workbook without it, of another RFP,
      or made before the RFP was amended (other definition hash) is refused
      with that one problem.
    * Everything is found by its text: sheets by name (English or a Chinese
      alias), tables by their header row, columns by header, company fields
      by label. Rows and columns may be inserted, moved or reordered, extra
      sheets and columns are ignored, merged cells are harmless (the value is
      in the first cell). Reading is bounded: 40 columns, and a table ends
      after 20 rows without a value in its columns, so a stray value in
      XFD1048576 or a lying ``<dimension>`` costs nothing.
    * Values are read as people type them (:mod:`rfpflow.spreadsheets.cells`): numbers as
      text, ``1,234.50``, ``¥1,200``, full-width digits, dates as text or
      serials (1900 or 1904 date system), ``是``/``否``; ambiguous values are
      refused naming the cell. Amounts in another currency than the RFP's are
      refused; comma decimals only when rfp.toml declares ``decimal_comma``.
    * Answers must be one of the question's choices (case, width and spaces
      ignored); ``Y``, ``yes``, ``是`` map onto the one choice meaning yes.
    * rfpflow never calculates a formula. An input cell holding a formula is
      read through the value the spreadsheet program saved with it; without
      one (a file written by a program, never opened in Excel or LibreOffice)
      it is a problem. The line totals and the total are ignored altogether:
      the bid's total is recomputed as RFP quantity × unit price, in Decimal.
    * Every problem of the workbook is reported at once, each with its
      ``Sheet!Cell``; a workbook with any problem is refused as a whole.

Decisions for odd workbooks
    * ``.xlsm`` (macro-enabled): accepted; macros are never run, and the bid
      carries the warning "macro-enabled workbook: macros are ignored, ...".
    * Hidden rows: read like any other, with a warning naming them, because a
      hidden row the officer does not see may still carry a price.
    * Rows below the pricing total: ignored, with a warning naming the first.
      (A line item typed there is then reported as missing, so nothing priced
      slips through.)
    * A changed quantity: the RFP's quantity is used, with a warning.
    * A cell longer than 32,767 characters (Excel's limit; only a program can
      write one): refused naming the cell -- truncating could change meaning.
    * Rows for unknown requirements or line items without an answer or a
      price are ignored with a warning; with a price they are a problem.

Vendor ids
    Buyers save each returned workbook under the vendor's name
    (``bids/acme.xlsx``), so the vendor id is a slug of the file name: ASCII
    letters and digits in lower case, every other run of characters turned
    into ``-`` (accents dropped: ``Société Générale.xlsx`` is
    ``societe-generale``). When nothing is left (``华为.xlsx``) it is the
    normalised registration number in lower case, else ``vendor-`` and the
    first 8 hex digits of the SHA-256 of the vendor name. A corrected
    workbook saved under the same name therefore replaces the earlier bid.

Vendors' own layouts
    A workbook without the metadata sheet is read through rfp.toml's
    ``[import.mapping]`` when there is one (sheet names, column headers and
    field labels as the vendor wrote them; see :mod:`rfpflow.spreadsheets.mapping`),
    with a warning that its RFP and version cannot be checked.
    :func:`rfpflow_validate_rfp` checks the mapping when rfp.toml is loaded.

Readers
    ``read_bid_workbook(path, rfp, reader="fast")`` streams the sheet XML
    (see :mod:`rfpflow.spreadsheets.fast_reader`) and falls back to openpyxl for XML it
    does not read; ``reader="openpyxl"`` uses openpyxl read-only mode only.
    Both give identical bids (openpyxl alone refuses sheets damaged only in
    cells or settings the bid does not use; see :mod:`rfpflow.spreadsheets.fast_reader`).
    ``[plugins.xlsx_bids] reader = "openpyxl"`` in rfp.toml chooses the
    reader for ``bids import``.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rfpflow.context import RunContext
from rfpflow.errors import Problem
from rfpflow.hookspecs import hookimpl
from rfpflow.model import Bid, Rfp

if TYPE_CHECKING:
    from rfpflow.spreadsheets.bid_reader import READERS, read_bid_workbook, vendor_id_for
    from rfpflow.spreadsheets.bid_writer import write_bid_workbook

#: The reader and writer load on first use, so that start-up (``rfpflow --help``) stays light.
_LAZY = {"READERS": "rfpflow.spreadsheets.bid_reader", "read_bid_workbook": "rfpflow.spreadsheets.bid_reader",
         "vendor_id_for": "rfpflow.spreadsheets.bid_reader", "write_bid_workbook": "rfpflow.spreadsheets.bid_writer"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _lazy(name: str) -> Any:
    """``name`` as this module has it: set here (by a test's monkeypatch, say) or loaded on first use."""
    return globals()[name] if name in globals() else __getattr__(name)

__all__ = [
    "PLUGIN_OPTIONS",
    "READERS",
    "READ_SUFFIXES",
    "read_bid_workbook",
    "rfpflow_read_bids",
    "rfpflow_validate_rfp",
    "rfpflow_write_bid_workbook",
    "vendor_id_for",
    "write_bid_workbook",
]

READ_SUFFIXES = (".xlsx", ".xlsm")
RFPFLOW_READS_IN_WORKERS = True
"""Reading keeps no state between files: a batch may be shared with a worker process
(:mod:`rfpflow.spreadsheets.batch`)."""
PLUGIN_OPTIONS = "xlsx_bids"
"""The ``[plugins.NAME]`` table of rfp.toml this plugin reads (``reader``)."""


@hookimpl(trylast=True)
def rfpflow_validate_rfp(rfp: Rfp, context: RunContext) -> list[Problem] | None:
    """Check ``[import.mapping]`` and ``[plugins.xlsx_bids]``."""
    from rfpflow.spreadsheets.layout import READERS
    from rfpflow.spreadsheets.mapping import check_mapping

    problems = check_mapping(rfp.import_mapping)
    reader = rfp.options_for(PLUGIN_OPTIONS).get("reader")
    if reader is not None and reader not in READERS:
        problems.append(Problem(f"must be one of {', '.join(READERS)}, got {reader!r}",
                                field=f"plugins.{PLUGIN_OPTIONS}.reader"))
    return problems or None


@hookimpl(trylast=True)
def rfpflow_write_bid_workbook(rfp: Rfp, target: Path, context: RunContext) -> Path | None:
    if Path(target).suffix.lower() != ".xlsx":
        return None
    return _lazy("write_bid_workbook")(rfp, Path(target))  # type: ignore[no-any-return]


@hookimpl(trylast=True)
def rfpflow_read_bids(source: Path, rfp: Rfp, context: RunContext) -> list[Bid] | None:
    source = Path(source)
    if source.suffix.lower() not in READ_SUFFIXES:
        return None
    from rfpflow.spreadsheets.layout import READERS

    read_bid_workbook = _lazy("read_bid_workbook")
    reader = rfp.options_for(PLUGIN_OPTIONS).get("reader", "fast")
    if reader not in READERS:
        reader = "fast"
    return [read_bid_workbook(source, rfp, reader=str(reader))]
