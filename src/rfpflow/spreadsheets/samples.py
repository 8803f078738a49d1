"""Filled-in bid-response workbooks for tests, benchmarks and plugin authors.

:func:`fill_bid_workbook` fills the workbook rfpflow generated the way a
vendor does in a spreadsheet program (with openpyxl, which writes inline
strings); :func:`write_vendor_workbook` writes an equivalent workbook from
scratch with xlsxwriter (shared strings, other styles), optionally with
columns reordered, extra columns and rows, to exercise the reader's
tolerance. Both take the same ``data`` mapping::

    {
        "company": {"vendor_name": "Acme", "registration_no": "...", ...},
        "certifications": [{"name": "ISO 9001", "number": "Q-1", "expires": "2028-01-31"}],
        "answers": {"Q1": "Yes", "Q3": {"answer": "Partly", "comment": "...", "evidence": "p. 4"}},
        "prices": {"L1": 980, "L2": "¥1,200"},
        "quantities": {"L1": 10},          # optional: a vendor who changed a quantity
    }

Values are written as given: ``str`` as text (never as a formula, even
``=cmd|' /C calc'!A0``), numbers as numbers, dates as dates, and
:class:`Formula` as a formula (openpyxl saves it without a calculated value).
xlsxwriter is imported only by :func:`write_vendor_workbook` (it is a test
dependency).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from rfpflow.model import Rfp
from rfpflow.spreadsheets.cells import write_text
from rfpflow.spreadsheets.layout import (
    CERTIFICATIONS_TABLE,
    COMPANY_FIELDS,
    COMPANY_TABLE,
    FORMAT_VERSION,
    METADATA,
    PRICING_TABLE,
    QUESTIONNAIRE_TABLE,
    TableSpec,
    label_keys,
    text,
)
from rfpflow.spreadsheets.saving import EARLIEST_ZIP_TIME, save_workbook

__all__ = ["Formula", "fill_bid_workbook", "fill_score_sheet", "write_bid_workbooks", "write_vendor_workbook"]


class Formula(str):
    """A value to be written as a formula (``Formula("=B2*2")``)."""

    __slots__ = ()


def _answer(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {"answer": value}


def _certificate(value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    return dict(zip(("name", "number", "expires"), value, strict=False))


# ---------------------------------------------------------------------------
# openpyxl: fill the generated workbook
# ---------------------------------------------------------------------------


def _find_header(ws: Any, table: TableSpec) -> tuple[int, dict[str, int]]:
    keyed = {k: c.key for c in table.columns for k in c.labels}
    for row in ws.iter_rows(min_row=1, max_row=40):
        columns: dict[str, int] = {}
        for cell in row:
            for key in label_keys(cell.value):
                if key in keyed and keyed[key] not in columns:
                    columns[keyed[key]] = cell.column
                    break
        if all(c.key in columns for c in table.columns if c.required):
            return row[0].row, columns
    raise LookupError(f"no header row in {ws.title}")


def _put(cell: Any, value: Any) -> None:
    if isinstance(value, Formula):
        cell.value = str(value)
    elif isinstance(value, str):
        write_text(cell, value)
    elif isinstance(value, Decimal):
        cell.value = float(value)
    else:
        cell.value = value
        if isinstance(value, (dt.date, dt.datetime)):
            cell.number_format = "yyyy-mm-dd"


def fill_bid_workbook(template_path: Path, out_path: Path, data: Mapping[str, Any]) -> Path:
    """Fill the generated bid-response workbook as a vendor would; save at ``out_path``."""
    import openpyxl

    wb = openpyxl.load_workbook(template_path)
    company = data.get("company", {})
    if company:
        ws = wb[COMPANY_TABLE.sheet]
        header, columns = _find_header(ws, COMPANY_TABLE)
        specs = {k: spec for spec in COMPANY_FIELDS for k in spec.labels}
        for row in range(header + 1, ws.max_row + 1):
            label = ws.cell(row=row, column=columns["field"]).value
            spec = next((specs[k] for k in label_keys(label) if k in specs), None)
            if spec is not None and spec.key in company:
                _put(ws.cell(row=row, column=columns["value"]), company[spec.key])
    certificates = [_certificate(c) for c in data.get("certifications", ())]
    if certificates:
        ws = wb[CERTIFICATIONS_TABLE.sheet]
        header, columns = _find_header(ws, CERTIFICATIONS_TABLE)
        for offset, cert in enumerate(certificates, start=1):
            for key, value in cert.items():
                if value is not None:
                    _put(ws.cell(row=header + offset, column=columns[key]), value)
    answers = {k: _answer(v) for k, v in data.get("answers", {}).items()}
    if answers:
        ws = wb[QUESTIONNAIRE_TABLE.sheet]
        header, columns = _find_header(ws, QUESTIONNAIRE_TABLE)
        for row in range(header + 1, ws.max_row + 1):
            qid = ws.cell(row=row, column=columns["id"]).value
            for key, value in answers.get(str(qid), {}).items():
                if value is not None:
                    _put(ws.cell(row=row, column=columns[key]), value)
    prices = data.get("prices", {})
    quantities = data.get("quantities", {})
    comments = data.get("price_comments", {})  # item -> the vendor's comment on the line
    added = data.get("price_columns", {})  # header -> {item: value}: columns the vendor added
    if prices or quantities or comments or added:
        ws = wb[PRICING_TABLE.sheet]
        header, columns = _find_header(ws, PRICING_TABLE)
        last = max(columns.values())
        for offset, title in enumerate(added, start=1):
            _put(ws.cell(row=header, column=last + offset), title)
        for row in range(header + 1, ws.max_row + 1):
            item = str(ws.cell(row=row, column=columns["item_id"]).value)
            if item in prices and prices[item] is not None:
                _put(ws.cell(row=row, column=columns["unit_price"]), prices[item])
            if item in quantities:
                _put(ws.cell(row=row, column=columns["quantity"]), quantities[item])
            if item in comments and "comment" in columns:
                _put(ws.cell(row=row, column=columns["comment"]), comments[item])
            for offset, values in enumerate(added.values(), start=1):
                if item in values:
                    _put(ws.cell(row=row, column=last + offset), values[item])
    # As if saved by the vendor's spreadsheet program, but reproducibly (samples are committed).
    save_workbook(wb, Path(out_path), wb.properties.created or EARLIEST_ZIP_TIME)
    return Path(out_path)


# ---------------------------------------------------------------------------
# xlsxwriter: a vendor workbook from scratch
# ---------------------------------------------------------------------------


def write_vendor_workbook(
    path: Path,
    rfp: Rfp,
    data: Mapping[str, Any],
    *,
    options: Mapping[str, Any] | None = None,
    column_order: Mapping[str, Sequence[str]] | None = None,
    extra_columns: Sequence[str] = (),
    extra_values: Any = None,
    first_row: int = 3,
    metadata: Mapping[str, Any] | None = None,
    language: str | None = None,
) -> Path:
    """Write a filled-in bid-response workbook with xlsxwriter.

    ``column_order`` maps a sheet name to its column keys in the order to
    write them (columns left out are not written); ``extra_columns`` adds
    headers of the vendor's own to the Pricing sheet, filled by
    ``extra_values(item_index, column_index)``; ``metadata`` overrides values
    of the metadata sheet (``None`` values leave the key out).
    """
    import xlsxwriter

    lang = language or rfp.language
    wb = xlsxwriter.Workbook(str(path), dict(options or {"strings_to_formulas": False, "strings_to_numbers": False,
                                                          "strings_to_urls": False}))
    date_format = wb.add_format({"num_format": "yyyy-mm-dd"})
    header_format = wb.add_format({"bold": True, "bg_color": "#DDEBF7"})
    order = dict(column_order or {})

    def put(ws: Any, row: int, column: int, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, Formula):
            ws.write_formula(row, column, str(value))
        elif isinstance(value, str):
            ws.write_string(row, column, value)
        elif isinstance(value, bool):
            ws.write_boolean(row, column, value)
        elif isinstance(value, (dt.date, dt.datetime)):
            moment = value if isinstance(value, dt.datetime) else dt.datetime(value.year, value.month, value.day)
            ws.write_datetime(row, column, moment, date_format)
        elif isinstance(value, (int, float, Decimal)):
            ws.write_number(row, column, float(value))
        else:
            ws.write(row, column, value)

    def table(name: str, spec: TableSpec, rows: Iterable[Mapping[str, Any]], extras: Sequence[str] = ()) -> Any:
        ws = wb.add_worksheet(name)
        keys = list(order.get(name, [c.key for c in spec.columns]))
        ws.write_string(0, 0, text(lang, f"{name} ({rfp.id})", f"{name}（{rfp.id}）"))
        for column, key in enumerate(keys):
            ws.write_string(first_row - 1, column, spec.column(key).header(lang), header_format)
        for column, header in enumerate(extras, start=len(keys)):
            ws.write_string(first_row - 1, column, header, header_format)
        for offset, values in enumerate(rows):
            for column, key in enumerate(keys):
                put(ws, first_row + offset, column, values.get(key))
            for column in range(len(keys), len(keys) + len(extras)):
                if extra_values is not None:
                    put(ws, first_row + offset, column, extra_values(offset, column - len(keys)))
        return ws

    wb.add_worksheet("Instructions").write_string(0, 0, f"Bid for {rfp.id}")
    company = data.get("company", {})
    table(COMPANY_TABLE.sheet, COMPANY_TABLE,
          ({"field": spec.label(lang), "value": company.get(spec.key)} for spec in COMPANY_FIELDS))
    table(CERTIFICATIONS_TABLE.sheet, CERTIFICATIONS_TABLE,
          [_certificate(c) for c in data.get("certifications", ())])
    answers = {k: _answer(v) for k, v in data.get("answers", {}).items()}
    table(QUESTIONNAIRE_TABLE.sheet, QUESTIONNAIRE_TABLE, (
        {"id": q.id, "text": q.text, "mandatory": "Yes" if q.mandatory else "No", **answers.get(q.id, {})}
        for q in rfp.questionnaire))
    prices = data.get("prices", {})
    quantities = data.get("quantities", {})
    rows: list[Mapping[str, Any]] = [
        {"item_id": item.id, "description": item.description, "unit": item.unit,
         "quantity": quantities.get(item.id, item.quantity), "unit_price": prices.get(item.id)}
        for item in rfp.line_items
    ]
    rows.append({"item_id": text(lang, "Total", "合计")})
    table(PRICING_TABLE.sheet, PRICING_TABLE, rows, extra_columns)
    meta: dict[str, Any] = {"rfpflow": "bid-response workbook", "format": FORMAT_VERSION, "rfp_id": rfp.id,
                            "definition_hash": rfp.definition_hash, "language": rfp.language,
                            "currency": rfp.currency}
    meta.update(metadata or {})
    ws = wb.add_worksheet(METADATA)
    for row, (key, value) in enumerate((k, v) for k, v in meta.items() if v is not None):
        ws.write_string(row, 0, key)
        put(ws, row, 1, value)
    ws.very_hidden()
    wb.close()
    return Path(path)


# ---------------------------------------------------------------------------
# Whole sets: what sample generators and plugin tests need
# ---------------------------------------------------------------------------


def write_bid_workbooks(rfp: Rfp, vendors: Mapping[str, Mapping[str, Any]], folder: Path) -> list[Path]:
    """Write each vendor's filled bid workbook (``folder/<vendor id>.xlsx``) on the RFP's own workbook."""
    import tempfile

    from rfpflow.spreadsheets.bid_writer import write_bid_workbook

    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        blank = write_bid_workbook(rfp, Path(tmp) / "blank.xlsx")
        return [fill_bid_workbook(blank, folder / f"{vendor}.xlsx", data) for vendor, data in vendors.items()]


def fill_score_sheet(path: Path, vendors: Sequence[str], scores: Mapping[str, Mapping[str, float]],
                     when: dt.datetime, comments: Mapping[tuple[str, str], str] | None = None) -> Path:
    """Type an evaluator's scores into a score sheet rfpflow wrote, as the evaluator would; save reproducibly.

    ``vendors`` is the order the sheet lists them in; ``scores[criterion][vendor]``;
    ``comments[(vendor, criterion)]`` optional; ``when`` is the time the sheet was "saved".
    """
    import openpyxl

    from rfpflow.builtins.score_sheets import FIRST_ROW, FIRST_VENDOR_COLUMN

    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    for n, (criterion, row_scores) in enumerate(scores.items()):
        row = FIRST_ROW + n
        if ws.cell(row, 1).value != criterion:
            raise ValueError(f"{path.name}: row {row} is {ws.cell(row, 1).value!r}, not {criterion!r}")
        for v, vendor in enumerate(vendors):
            column = FIRST_VENDOR_COLUMN + 2 * v
            ws.cell(row, column).value = row_scores[vendor]
            comment = (comments or {}).get((vendor, criterion))
            if comment:
                ws.cell(row, column + 1).value = comment
    return save_workbook(wb, path, when)
