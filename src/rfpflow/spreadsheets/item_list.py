"""A buyer's item-list workbook (``[pricing] items_file``): the priced lines of an RFP.

The first sheet holds a header row naming the columns ``id``, ``description``,
``unit`` and ``quantity`` (English or Chinese: 编号, 描述/名称, 单位, 数量), in
any order, followed by one line item per row until the first blank row.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rfpflow.errors import Problem, RfpflowError

HEADERS = {
    "id": ("id", "item id", "item", "编号", "序号", "项目编号"),
    "description": ("description", "name", "描述", "名称", "项目名称", "服务内容"),
    "unit": ("unit", "单位"),
    "quantity": ("quantity", "qty", "数量"),
}
MAX_COLUMNS = 50
MAX_BLANK_RUN = 1


def read_item_list(path: Path, display: str) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Read line items as dicts (id, description, unit, quantity) and every problem found."""
    from openpyxl.utils import get_column_letter

    from rfpflow.spreadsheets.cells import CellValueError, parse_number, parse_text
    from rfpflow.spreadsheets.workbooks import open_workbook

    try:
        wb = open_workbook(path, display)
    except RfpflowError as exc:
        return [], [Problem(str(exc), file=display)]
    problems: list[Problem] = []
    rows: list[dict[str, Any]] = []
    try:
        ws = wb.worksheets[0]
        sheet = ws.title
        it = ws.iter_rows(values_only=True, max_col=MAX_COLUMNS)
        header = next(it, None) or ()
        columns: dict[str, int] = {}
        for index, value in enumerate(header):
            label = str(value or "").strip().lower()
            for field, names in HEADERS.items():
                if label in names and field not in columns:
                    columns[field] = index
        missing = [f for f in HEADERS if f not in columns]
        if missing:
            problems.append(Problem(
                f"the header row must name the columns {', '.join(HEADERS)}; missing {', '.join(missing)}",
                file=display, place=f"{sheet}!1"))
            return [], problems
        for row_number, row in enumerate(it, start=2):
            values = {f: (row[i] if i < len(row) else None) for f, i in columns.items()}
            if all(v is None or str(v).strip() == "" for v in values.values()):
                break
            item: dict[str, Any] = {}
            for field, raw in values.items():
                place = f"{sheet}!{get_column_letter(columns[field] + 1)}{row_number}"
                try:
                    if field == "quantity":
                        item[field] = float(parse_number(raw, "quantity"))
                    else:
                        item[field] = parse_text(raw, field)
                except CellValueError as exc:
                    problems.append(Problem(str(exc), file=display, place=place))
            rows.append(item)
    finally:
        wb.close()
    return rows, problems
