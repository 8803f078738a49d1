"""The client's legacy price workbook (``*.legacy.xlsx``): sheet "Prices", the vendor in B1 (name) and
B2 (code), a header row "Item | Qty | Unit price" in row 4 and one line per row below it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from rfpflow import hookimpl
from rfpflow.errors import InputFileError, Problem
from rfpflow.model import Bid, PriceLine, Rfp
from rfpflow.spreadsheets.cells import CellValueError, is_blank, parse_number, parse_text

RFPFLOW_HOOK_API = (1, 1)
SUFFIX = ".legacy.xlsx"
SHEET = "Prices"


def read_legacy(source: Path, rfp: Rfp) -> Bid:
    import openpyxl

    wb = openpyxl.load_workbook(source, read_only=True, data_only=True)
    try:
        if SHEET not in wb.sheetnames:
            raise InputFileError(f"{source.name}: no sheet {SHEET!r}",
                                 [Problem(f"the legacy workbook has no sheet {SHEET!r}", file=source.name)])
        rows = [list(r) for r in wb[SHEET].iter_rows(values_only=True)]
    finally:
        wb.close()
    problems: list[Problem] = []

    def cell(row: int, column: int) -> Any:
        return rows[row - 1][column - 1] if len(rows) >= row and len(rows[row - 1]) >= column else None

    def text(row: int, column: int, label: str) -> str:
        try:
            return parse_text(cell(row, column), label)
        except CellValueError as exc:
            problems.append(Problem(str(exc), file=source.name, place=f"{SHEET}!{'ABC'[column - 1]}{row}"))
            return ""

    name, code = text(1, 2, "vendor name"), text(2, 2, "vendor code")
    items = {item.id for item in rfp.line_items}
    lines: list[PriceLine] = []
    for number in range(5, len(rows) + 1):
        if is_blank(cell(number, 1)):
            continue
        item = text(number, 1, "item")
        try:
            quantity = parse_number(cell(number, 2), "quantity")
            price = parse_number(cell(number, 3), "unit price", currency=rfp.currency)
        except CellValueError as exc:
            problems.append(Problem(str(exc), file=source.name, place=f"{SHEET}!B{number}:C{number}"))
            continue
        if item not in items:
            problems.append(Problem(f"line item {item!r} is not in the RFP", file=source.name,
                                    place=f"{SHEET}!A{number}"))
            continue
        lines.append(PriceLine(item, Decimal(quantity), Decimal(price), f"{SHEET}!C{number}"))
    if problems:
        raise InputFileError(f"{source.name}: {len(problems)} problem(s) in the legacy price workbook", problems)
    return Bid(code.lower(), name, source.name, fields={"vendor_name": name}, prices=tuple(lines),
               cells={"vendor_name": f"{SHEET}!B1"})


@hookimpl
def rfpflow_read_bids(source: Path, rfp: Rfp, context: Any) -> list[Bid] | None:
    if not Path(source).name.lower().endswith(SUFFIX):
        return None
    return [read_legacy(Path(source), rfp)]
