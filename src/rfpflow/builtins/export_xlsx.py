"""``rfpflow export xlsx``: the evaluation as a live workbook (docs/exports.md).

Sheets
    ``Matrix``   one row per evaluated vendor, one column per criterion holding
                 the criterion's *value*: the share of the criterion's weight the
                 vendor earned (0-100 %), so that ``points = value × weight``.
                 ``Total`` and ``Rank`` are formulas over the ``Weights`` sheet
                 (``=C2*Weights!$D$2+D2*Weights!$D$3+...`` and ``=RANK(...)``):
                 changing a weight recomputes every total, rank and the chart.
                 ``Recorded total`` and ``Recorded rank`` keep rfpflow's own
                 result as plain numbers, to compare with. A bar chart of the
                 live totals sits under the table.
    ``Weights``  criterion id, name, dimension and weight (plain numbers, the
                 cells to edit), with their sum as a formula.
    ``Scores <evaluator>``  one per evaluator: criteria × vendors, score and comment.
    ``Price comparison``  one row per price line, a column per vendor for each of unit price, line
                 total (formula), deviation from the median (formula) and comment; the median and
                 lowest price are live formulas; lowest, far-off, missing and zero prices coloured
                 by conditional formatting (absent while prices are sealed).
    ``Cycle``    what the workbook was made from (RFP, stage, as-of time, chain head).

Vendor and buyer text is written with :func:`rfpflow.spreadsheets.cells.write_text`: always
a string, never a formula. The file is byte-for-byte the same for the same
view: document properties and zip entry times come from the view's ``as_of``.
While prices are sealed the workbook has no price column.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rfpflow.builtins.export_common import EPOCH, as_of, by_id, export_view, number, sealed, write_bytes
from rfpflow.documents.price_comparison import price_comparison
from rfpflow.spreadsheets.cells import write_text
from rfpflow.spreadsheets.saving import workbook_bytes

MATRIX = "Matrix"
WEIGHTS = "Weights"
CYCLE = "Cycle"
SCORES_PREFIX = "Scores "

#: Weights!D holds the weights; criterion i (0-based) is on row i + 2.
WEIGHT_COLUMN = "D"
FIRST_ROW = 2

_HEADER_FONT_BOLD = True
_HEADER_FILL = "DDEBF7"
_OUTLIER_FILL = "F4B183"
_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")

Translate = Callable[[str], str]

#: Headings and notes of a workbook for an RFP written in Chinese (``language = "zh"``).
#: Sheet names stay English: the formulas and the user's own macros refer to them.
_ZH = {
    "Criterion id": "评分项编号", "Criterion": "评分项", "Dimension": "维度", "Weight": "权重",
    "Scored from": "评分来源", "Direction": "方向", "Sum of weights": "权重合计",
    "Vendor id": "供应商编号", "Vendor": "供应商", "Total": "总分", "Rank": "排名",
    "Recorded total": "记录总分", "Recorded rank": "记录排名", "Bid price": "投标总价",
    "Bid price ({currency})": "投标总价（{currency}）", "Evaluator": "评审人", "Score": "分数", "Comment": "评语",
    "Item": "项目", "Value": "内容", "RFP": "采购编号", "Title": "名称", "Buyer": "采购人", "Currency": "币种",
    "Stage": "阶段", "As of": "截至", "Scoring method": "评分方法", "Prices sealed": "价格密封",
    "yes": "是", "no": "否", "Recommended vendor": "推荐供应商", "Events": "事件数",
    "Event chain head": "事件链哈希", "Definition hash": "定义哈希", "Sensitivity": "敏感性",
    "Points": "分", "Total (live, from the Weights sheet)": "总分（按 Weights 表权重实时计算）",
    "No evaluation result yet.": "尚无评审结果。", "A weight is a number, zero or more.": "权重须为大于等于 0 的数字。",
    "No scores recorded for this evaluator.": "该评审人尚无评分记录。",
    "Orange: an outlier, far from the other evaluators' median for the same vendor.":
        "橙色：离群评分，与其他评审人对同一供应商评分的中位数相差较大。",
    "Prices are sealed: no price is shown until technical evaluation is complete.":
        "价格密封：技术评审完成前不显示价格。",
    "Each criterion column is the share of the criterion's weight the vendor earned (100% = full weight): "
    "points = value × weight ({weights}!{column}).":
        "各评分项列为供应商获得该项权重的比例（100% = 满分）：得分 = 比例 × 权重（{weights}!{column}）。",
    "Total and Rank are formulas over the {weights} sheet: change a weight there and they recompute. "
    "Recorded total and Recorded rank are rfpflow's result as of the export (ties broken by its rules).":
        "总分和排名是引用 {weights} 表的公式：修改权重即重新计算。记录总分和记录排名是导出时 rfpflow 的结果"
        "（并列按其规则处理）。",
    "The totals of {method} are not the sum of the criterion points; the weighted sums above are a what-if "
    "view, the Recorded total is the result.":
        "{method} 的总分不是各评分项得分之和；上面的加权和仅供假设分析，以记录总分为准。",
    "Edit the weights in column {column}: every Total and Rank on the {matrix} sheet is a formula over them. "
    "Totals are points out of the sum of the weights.":
        "在 {column} 列修改权重：{matrix} 表的总分和排名都是引用这些权重的公式。总分以权重合计为满分。",
}


def export_xlsx(view: Mapping[str, Any], target: Path) -> Path:
    """Write the evaluation workbook at ``target`` and return ``target``."""
    return write_bytes(target, xlsx_bytes(view))


def xlsx_bytes(view: Mapping[str, Any]) -> bytes:
    """The bytes :func:`export_xlsx` writes (the same bytes for the same view)."""
    data = export_view(view)
    workbook = build_workbook(data)
    when = as_of(data) or EPOCH
    return _save(workbook, when)


# ---------------------------------------------------------------------------
# Building the workbook
# ---------------------------------------------------------------------------


def translator(language: str) -> Translate:
    """English headings as they are, or in Chinese for ``zh``."""
    if str(language or "").startswith("zh"):
        return lambda text: _ZH.get(text, text)
    return lambda text: text


def build_workbook(view: Mapping[str, Any]) -> Any:
    """The openpyxl workbook for an export-safe view (see :func:`export_common.export_view`)."""
    from openpyxl import Workbook

    rfp = view.get("rfp") or {}
    tr = translator(str(rfp.get("language") or ""))
    criteria = [c for c in rfp.get("criteria") or [] if c.get("id") is not None]
    evaluation = view.get("evaluation") or {}
    totals = list(evaluation.get("totals") or [])
    vendors = by_id(view.get("vendors"))

    wb = Workbook()
    matrix = wb.active
    matrix.title = MATRIX
    weights = wb.create_sheet(WEIGHTS)
    _weights_sheet(weights, rfp, criteria, tr)
    _matrix_sheet(matrix, view, criteria, totals, vendors, tr)
    used = {MATRIX.casefold(), WEIGHTS.casefold(), CYCLE.casefold()}
    for evaluator_id, evaluator_name in _evaluators(rfp, evaluation):
        title = _sheet_title(SCORES_PREFIX + evaluator_id, used)
        _scores_sheet(wb.create_sheet(title), evaluator_id, evaluator_name, criteria, totals, vendors, evaluation,
                      tr)
    comparison = price_comparison(view)
    if comparison is not None:  # not while prices are sealed
        _comparison_sheet(wb.create_sheet(_sheet_title(COMPARISON, used)), comparison, tr)
    _cycle_sheet(wb.create_sheet(CYCLE), view, tr)
    wb.active = 0
    return wb


def _weights_sheet(ws: Any, rfp: Mapping[str, Any], criteria: Sequence[Mapping[str, Any]], tr: Translate) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation

    headers = [tr(h) for h in ("Criterion id", "Criterion", "Dimension", "Weight", "Scored from", "Direction")]
    _headers(ws, 1, headers)
    dimension_of = _dimensions(rfp)
    for i, criterion in enumerate(criteria):
        row = FIRST_ROW + i
        cid = str(criterion["id"])
        write_text(ws.cell(row, 1), cid)
        write_text(ws.cell(row, 2), str(criterion.get("name") or cid))
        write_text(ws.cell(row, 3), dimension_of.get(cid, ""))
        cell = ws.cell(row, 4)
        cell.value = number(criterion.get("weight")) or 0
        cell.number_format = "0.0##"
        write_text(ws.cell(row, 5), str(criterion.get("source") or ""))
        write_text(ws.cell(row, 6), str(criterion.get("direction") or ""))
    last = FIRST_ROW + len(criteria) - 1
    sum_row = last + 1
    write_text(ws.cell(sum_row, 2), tr("Sum of weights"))
    ws.cell(sum_row, 2).font = _bold()
    if criteria:
        ws.cell(sum_row, 4).value = f"=SUM({WEIGHT_COLUMN}{FIRST_ROW}:{WEIGHT_COLUMN}{last})"
        ws.cell(sum_row, 4).number_format = "0.0##"
        ws.cell(sum_row, 4).font = _bold()
        rule = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=False,
                              showErrorMessage=True, errorTitle=tr("Weight"),
                              error=tr("A weight is a number, zero or more."))
        ws.add_data_validation(rule)
        rule.add(f"{WEIGHT_COLUMN}{FIRST_ROW}:{WEIGHT_COLUMN}{last}")
    write_text(ws.cell(sum_row + 2, 1),
               tr("Edit the weights in column {column}: every Total and Rank on the {matrix} sheet is a formula "
                  "over them. Totals are points out of the sum of the weights.").format(column=WEIGHT_COLUMN,
                                                                                         matrix=MATRIX))
    ws.freeze_panes = "C2"
    _widths(ws, {1: 14, 2: 36, 3: 28, 4: 10, 5: 12, 6: 11})


def _matrix_sheet(ws: Any, view: Mapping[str, Any], criteria: Sequence[Mapping[str, Any]],
                  totals: Sequence[Mapping[str, Any]], vendors: Mapping[str, Mapping[str, Any]],
                  tr: Translate) -> None:
    from openpyxl.formatting.rule import ColorScaleRule
    from openpyxl.utils import get_column_letter

    rfp = view.get("rfp") or {}
    show_price = not sealed(view) and any(_price(row, vendors) is not None for row in totals)
    first_value_col = 3
    total_col = first_value_col + len(criteria)
    rank_col = total_col + 1
    recorded_col = rank_col + 1
    recorded_rank_col = recorded_col + 1
    price_col = recorded_rank_col + 1
    headers = [tr("Vendor id"), tr("Vendor"), *(str(c.get("name") or c["id"]) for c in criteria),
               tr("Total"), tr("Rank"), tr("Recorded total"), tr("Recorded rank")]
    if show_price:
        currency = rfp.get("currency")
        headers.append(tr("Bid price ({currency})").format(currency=currency) if currency else tr("Bid price"))
    _headers(ws, 1, headers)

    first = FIRST_ROW
    last = FIRST_ROW + len(totals) - 1
    total_letter = get_column_letter(total_col)
    mismatch = False
    for i, row_data in enumerate(totals):
        row = first + i
        vendor_id = str(row_data.get("vendor"))
        write_text(ws.cell(row, 1), vendor_id)
        write_text(ws.cell(row, 2), str((vendors.get(vendor_id) or {}).get("name") or vendor_id))
        breakdown = row_data.get("breakdown") or {}
        terms: list[str] = []
        points_sum = 0.0
        for j, criterion in enumerate(criteria):
            col = first_value_col + j
            cell = ws.cell(row, col)
            points = breakdown.get(criterion["id"])
            weight = number(criterion.get("weight")) or 0
            if points is not None and weight:
                cell.value = float(points) / float(weight)
                points_sum += float(points)
            cell.number_format = "0.0%"
            terms.append(f"{get_column_letter(col)}{row}*{WEIGHTS}!${WEIGHT_COLUMN}${FIRST_ROW + j}")
        total_cell = ws.cell(row, total_col)
        total_cell.value = "=" + ("+".join(terms) if terms else "0")
        total_cell.number_format = "0.00"
        total_cell.font = _bold()
        ws.cell(row, rank_col).value = f"=RANK({total_letter}{row},${total_letter}${first}:${total_letter}${last},0)"
        recorded = number(row_data.get("total"))
        ws.cell(row, recorded_col).value = recorded
        ws.cell(row, recorded_col).number_format = "0.00"
        ws.cell(row, recorded_rank_col).value = number(row_data.get("rank"))
        if recorded is not None and abs(points_sum - float(recorded)) > 0.05:
            mismatch = True
        if show_price:
            price = _price(row_data, vendors)
            ws.cell(row, price_col).value = price
            ws.cell(row, price_col).number_format = "#,##0.00"

    notes = [
        tr("Each criterion column is the share of the criterion's weight the vendor earned (100% = full weight): "
           "points = value × weight ({weights}!{column}).").format(weights=WEIGHTS, column=WEIGHT_COLUMN),
        tr("Total and Rank are formulas over the {weights} sheet: change a weight there and they recompute. "
           "Recorded total and Recorded rank are rfpflow's result as of the export (ties broken by its rules)."
           ).format(weights=WEIGHTS),
    ]
    if not totals:
        notes.insert(0, tr("No evaluation result yet."))
    if mismatch:
        method = (view.get("evaluation") or {}).get("method") or "?"
        notes.append(tr("The totals of {method} are not the sum of the criterion points; the weighted sums above "
                        "are a what-if view, the Recorded total is the result.").format(method=method))
    if sealed(view):
        notes.append(tr("Prices are sealed: no price is shown until technical evaluation is complete."))
    notes.extend(str(n) for n in (view.get("evaluation") or {}).get("notes") or [])
    note_row = max(last, first - 1) + 2
    for k, note in enumerate(notes):
        write_text(ws.cell(note_row + k, 1), note)

    if totals:
        value_range = f"{get_column_letter(first_value_col)}{first}:{get_column_letter(total_col - 1)}{last}"
        if criteria:
            ws.conditional_formatting.add(value_range, _colour_scale(ColorScaleRule))
        ws.conditional_formatting.add(f"{total_letter}{first}:{total_letter}{last}", _colour_scale(ColorScaleRule))
        _bar_chart(ws, total_col, first, last, f"B{note_row + len(notes) + 1}", tr)
    ws.freeze_panes = f"C{FIRST_ROW}"
    widths = {1: 12, 2: max(16, min(40, max((_text_width(h) for h in _names(totals, vendors)), default=0) + 2))}
    for j, criterion in enumerate(criteria):
        widths[first_value_col + j] = max(10, min(24, _text_width(str(criterion.get("name") or "")) // 2 + 2))
    widths.update({total_col: 10, rank_col: 8, recorded_col: 10, recorded_rank_col: 10, price_col: 16})
    _widths(ws, widths)
    ws.row_dimensions[1].height = 45
    _landscape(ws)


def _bar_chart(ws: Any, total_col: int, first: int, last: int, anchor: str, tr: Translate) -> None:
    from openpyxl.chart import BarChart, Reference

    chart = BarChart()
    chart.type = "col"
    chart.title = tr("Total (live, from the Weights sheet)")
    chart.y_axis.title = tr("Points")
    chart.x_axis.title = tr("Vendor")
    chart.legend = None
    chart.add_data(Reference(ws, min_col=total_col, min_row=first - 1, max_row=last), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=2, min_row=first, max_row=last))
    chart.x_axis.delete = False  # openpyxl 3.1 hides the axes unless told otherwise
    chart.y_axis.delete = False
    chart.width = 18
    chart.height = 9
    ws.add_chart(chart, anchor)


def _scores_sheet(ws: Any, evaluator_id: str, evaluator_name: str, criteria: Sequence[Mapping[str, Any]],
                  totals: Sequence[Mapping[str, Any]], vendors: Mapping[str, Mapping[str, Any]],
                  evaluation: Mapping[str, Any], tr: Translate) -> None:
    from openpyxl.formatting.rule import ColorScaleRule
    from openpyxl.styles import PatternFill
    from openpyxl.utils import get_column_letter

    scores = [s for s in evaluation.get("scores") or [] if str(s.get("evaluator")) == evaluator_id]
    vendor_ids = [str(t.get("vendor")) for t in totals]
    for score in scores:
        if str(score.get("vendor")) not in vendor_ids:
            vendor_ids.append(str(score.get("vendor")))
    outliers = {(str(o.get("vendor")), str(o.get("criterion")))
                for o in evaluation.get("outliers") or [] if str(o.get("evaluator")) == evaluator_id}
    write_text(ws.cell(1, 1), tr("Evaluator"))
    ws.cell(1, 1).font = _bold()
    write_text(ws.cell(1, 2), evaluator_id)
    write_text(ws.cell(1, 3), evaluator_name)
    header_row, sub_row = 3, 4
    _headers(ws, header_row, [tr("Criterion id"), tr("Criterion")])
    _headers(ws, sub_row, ["", ""])
    for k, vendor_id in enumerate(vendor_ids):
        col = 3 + 2 * k
        write_text(ws.cell(header_row, col), str((vendors.get(vendor_id) or {}).get("name") or vendor_id))
        ws.merge_cells(start_row=header_row, start_column=col, end_row=header_row, end_column=col + 1)
        _style_header(ws.cell(header_row, col))
        for c, label in ((col, tr("Score")), (col + 1, tr("Comment"))):
            write_text(ws.cell(sub_row, c), label)
            _style_header(ws.cell(sub_row, c))
    judged = [c for c in criteria if c.get("source") != "price"]  # evaluators do not score the price
    row_of = {str(c["id"]): sub_row + 1 + i for i, c in enumerate(judged)}
    for criterion in judged:
        row = row_of[str(criterion["id"])]
        write_text(ws.cell(row, 1), str(criterion["id"]))
        write_text(ws.cell(row, 2), str(criterion.get("name") or criterion["id"]))
    column_of = {vendor_id: 3 + 2 * k for k, vendor_id in enumerate(vendor_ids)}
    extra_row = sub_row + 1 + len(judged)
    for score in scores:
        criterion_id = str(score.get("criterion"))
        vendor_id = str(score.get("vendor"))
        if criterion_id not in row_of:  # a score for a criterion no longer defined: keep it visible
            row_of[criterion_id] = extra_row
            write_text(ws.cell(extra_row, 1), criterion_id)
            extra_row += 1
        row, col = row_of[criterion_id], column_of[vendor_id]
        ws.cell(row, col).value = number(score.get("score"))
        ws.cell(row, col).number_format = "0.0#"
        if score.get("comment"):
            write_text(ws.cell(row, col + 1), str(score["comment"]))
        if (vendor_id, criterion_id) in outliers:
            ws.cell(row, col).fill = PatternFill("solid", fgColor=_OUTLIER_FILL)
    last_row = max(extra_row - 1, sub_row + 1)
    if vendor_ids and scores:
        for col in column_of.values():
            letter = get_column_letter(col)
            ws.conditional_formatting.add(f"{letter}{sub_row + 1}:{letter}{last_row}", _colour_scale(ColorScaleRule))
    if outliers:
        legend = ws.cell(last_row + 2, 1)
        write_text(legend, tr("Orange: an outlier, far from the other evaluators' median for the same vendor."))
        legend.fill = PatternFill("solid", fgColor=_OUTLIER_FILL)
    if not scores:
        write_text(ws.cell(last_row + 2, 1), tr("No scores recorded for this evaluator."))
    ws.freeze_panes = ws.cell(sub_row + 1, 3).coordinate
    widths = {1: 14, 2: 32}
    for col in column_of.values():
        widths[col] = 8
        widths[col + 1] = 30
    _widths(ws, widths)
    _landscape(ws)


def _cycle_sheet(ws: Any, view: Mapping[str, Any], tr: Translate) -> None:
    rfp = view.get("rfp") or {}
    evaluation = view.get("evaluation") or {}
    award = view.get("award") or {}
    rows: list[tuple[str, Any]] = [
        ("RFP", rfp.get("id")),
        ("Title", rfp.get("title")),
        ("Buyer", rfp.get("buyer")),
        ("Currency", rfp.get("currency")),
        ("Stage", view.get("stage")),
        ("As of", view.get("as_of")),
        ("Scoring method", evaluation.get("method") or (rfp.get("scoring") or {}).get("method")),
        ("Prices sealed", tr("yes") if sealed(view) else tr("no")),
        ("Recommended vendor", award.get("vendor_name") or award.get("vendor")),
        ("Events", view.get("event_count")),
        ("Event chain head", view.get("chain_head")),
        ("Definition hash", view.get("definition_hash")),
    ]
    _headers(ws, 1, [tr("Item"), tr("Value")])
    for i, (label, value) in enumerate(rows):
        write_text(ws.cell(FIRST_ROW + i, 1), tr(label))
        cell = ws.cell(FIRST_ROW + i, 2)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            cell.value = value
        elif value is not None:
            write_text(cell, str(value))
    row = FIRST_ROW + len(rows) + 1
    for item in evaluation.get("sensitivity") or []:
        write_text(ws.cell(row, 1), tr("Sensitivity"))
        write_text(ws.cell(row, 2), str(item.get("text") or ""))
        row += 1
    ws.freeze_panes = "A2"
    _widths(ws, {1: 22, 2: 80})


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _dimensions(rfp: Mapping[str, Any]) -> dict[str, str]:
    """Criterion id -> the name of its top-level dimension."""
    names = {str(d.get("id")): str(d.get("name") or d.get("id")) for d in rfp.get("dimensions") or []}
    found: dict[str, str] = {}
    for dimension in rfp.get("dimensions") or []:
        for child in dimension.get("children") or []:
            found[str(child)] = names[str(dimension.get("id"))]
    for criterion in rfp.get("criteria") or []:
        parent = criterion.get("parent")
        if str(criterion.get("id")) not in found and parent is not None:
            found[str(criterion.get("id"))] = names.get(str(parent), str(parent))
    return found


def _evaluators(rfp: Mapping[str, Any], evaluation: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every evaluator of the definition, then anyone else who scored, as (id, name).

    None before evaluation: there is nothing to show on score sheets yet.
    """
    if not evaluation:
        return []
    found = [(str(e.get("id")), str(e.get("name") or e.get("id"))) for e in rfp.get("evaluators") or []]
    known = {ev_id for ev_id, _ in found}
    for score in evaluation.get("scores") or []:
        ev_id = str(score.get("evaluator"))
        if ev_id not in known:
            found.append((ev_id, ev_id))
            known.add(ev_id)
    return found


def _price(row: Mapping[str, Any], vendors: Mapping[str, Mapping[str, Any]]) -> int | float | None:
    value = row.get("price")
    if value is None:
        value = (vendors.get(str(row.get("vendor"))) or {}).get("total_price")
    return number(value)


def _names(totals: Sequence[Mapping[str, Any]], vendors: Mapping[str, Mapping[str, Any]]) -> list[str]:
    return [str((vendors.get(str(t.get("vendor"))) or {}).get("name") or t.get("vendor")) for t in totals]


def _sheet_title(wanted: str, used: set[str]) -> str:
    """A legal, unique sheet title (31 characters, none of ``[]:*?/\\``)."""
    base = _SHEET_TITLE_BAD.sub("_", wanted).strip("'")[:31] or "Sheet"
    title, n = base, 2
    while title.casefold() in used:
        suffix = f" ({n})"
        title = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(title.casefold())
    return title


def _text_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _bold() -> Any:
    from openpyxl.styles import Font

    return Font(bold=_HEADER_FONT_BOLD)


def _style_header(cell: Any) -> None:
    from openpyxl.styles import Alignment, PatternFill

    cell.font = _bold()
    cell.fill = PatternFill("solid", fgColor=_HEADER_FILL)
    cell.alignment = Alignment(wrap_text=True, vertical="top")


def _headers(ws: Any, row: int, labels: Sequence[str]) -> None:
    for col, label in enumerate(labels, start=1):
        cell = ws.cell(row, col)
        if label:
            write_text(cell, label)
        _style_header(cell)


def _widths(ws: Any, widths: Mapping[int, float]) -> None:
    from openpyxl.utils import get_column_letter

    for col, width in sorted(widths.items()):
        ws.column_dimensions[get_column_letter(col)].width = width


def _landscape(ws: Any) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _colour_scale(rule: Any) -> Any:
    """Red (lowest) - yellow - green (highest)."""
    return rule(start_type="min", start_color="F8696B", mid_type="percentile", mid_value=50, mid_color="FFEB84",
                end_type="max", end_color="63BE7B")


def _save(workbook: Any, when: dt.datetime) -> bytes:
    """Serialise ``workbook`` with fixed document dates and zip entry times."""
    workbook.properties.creator = "rfpflow"
    workbook.calculation.fullCalcOnLoad = True  # totals have no cached values: compute them on opening
    return workbook_bytes(workbook, when)


# ---------------------------------------------------------------------------
# The price comparison sheet
# ---------------------------------------------------------------------------

COMPARISON = "Price comparison"

_ZH.update({
    "Description": "内容", "Unit": "单位", "Quantity": "数量",
    "Median unit price": "中位单价", "Lowest unit price": "最低单价", "unit price": "单价",
    "line total": "小计", "vs median": "偏离中位", "comment": "备注", "Sum of line totals": "合计",
    "Green: the lowest unit price of the line. Yellow: more than {threshold} from the line's median, or a comment "
    "that may change the price's meaning. Red: missing or zero.":
        "绿色：该项最低单价。黄色：偏离该项中位单价超过 {threshold}，或备注可能改变报价含义。红色：缺报或零报价。",
})


def _comparison_sheet(ws: Any, comparison: Mapping[str, Any], tr: Translate) -> None:
    """One row per price line, one block of columns per measure, one column per vendor in each block:
    unit prices (then the median and lowest as live formulas), line totals (formulas), the deviation
    from the median (formulas) and the vendors' comments; totals at the foot."""
    from openpyxl.formatting.rule import FormulaRule
    from openpyxl.styles import PatternFill
    from openpyxl.utils import get_column_letter as letter
    from openpyxl.worksheet.formula import ArrayFormula

    vendors = list(comparison["vendors"])
    rows = list(comparison["rows"])
    n = len(vendors)
    first_price = 5
    median_col, lowest_col = first_price + n, first_price + n + 1
    first_total = lowest_col + 1
    first_dev = first_total + n
    first_comment = first_dev + n
    header = [tr("Item"), tr("Description"), tr("Unit"), tr("Quantity")]
    header += [f"{v['name']}: {tr('unit price')}" for v in vendors]
    header += [tr("Median unit price"), tr("Lowest unit price")]
    header += [f"{v['name']}: {tr('line total')}" for v in vendors]
    header += [f"{v['name']}: {tr('vs median')}" for v in vendors]
    header += [f"{v['name']}: {tr('comment')}" for v in vendors]
    _headers(ws, 1, header)
    yellow = PatternFill("solid", fgColor="FFFFEB9C")
    green = PatternFill("solid", fgColor="FFC6EFCE")
    red = PatternFill("solid", fgColor="FFFFC7CE")
    top = FIRST_ROW
    for i, row in enumerate(rows):
        r = top + i
        write_text(ws.cell(r, 1), row["item"])
        write_text(ws.cell(r, 2), row["description"])
        write_text(ws.cell(r, 3), row["unit"])
        ws.cell(r, 4).value = number(row["quantity"])
        prices = f"{letter(first_price)}{r}:{letter(first_price + n - 1)}{r}"
        for k, vendor in enumerate(vendors):
            cell = row["cells"][vendor["id"]]
            price_ref = f"{letter(first_price + k)}{r}"
            if not cell["missing"]:
                ws.cell(r, first_price + k).value = number(cell["unit_price"])
                ws.cell(r, first_total + k).value = f"=$D{r}*{price_ref}"
            ws.cell(r, first_dev + k).value = (f'=IF(AND(ISNUMBER({price_ref}),{price_ref}>0),'
                                               f'{price_ref}/${letter(median_col)}{r}-1,"")')
            notes = [cell["comment"]] if cell["comment"] else []
            notes += [f"{key}: {value}" for key, value in sorted(cell["extras"].items())]
            if notes:
                target = write_text(ws.cell(r, first_comment + k), "; ".join(notes))
                if cell["flag_comment"]:
                    target.fill = yellow
        median_ref = f"{letter(median_col)}{r}"
        ws[median_ref] = ArrayFormula(median_ref, f"=MEDIAN(IF({prices}>0,{prices}))")
        lowest_ref = f"{letter(lowest_col)}{r}"
        ws[lowest_ref] = ArrayFormula(lowest_ref, f"=MIN(IF({prices}>0,{prices}))")
    last = top + len(rows) - 1
    foot = last + 1
    write_text(ws.cell(foot, 1), tr("Sum of line totals")).font = _bold()
    for k in range(n):
        column = letter(first_total + k)
        ws.cell(foot, first_total + k).value = f"=SUM({column}{top}:{column}{last})"
        ws.cell(foot, first_total + k).font = _bold()
    if rows:
        price_block = f"{letter(first_price)}{top}:{letter(first_price + n - 1)}{last}"
        corner = f"{letter(first_price)}{top}"
        ws.conditional_formatting.add(price_block, FormulaRule(
            formula=[f"OR(ISBLANK({corner}),{corner}=0)"], fill=red, stopIfTrue=True))
        ws.conditional_formatting.add(price_block, FormulaRule(
            formula=[f"{corner}=${letter(lowest_col)}{top}"], fill=green))
        dev_block = f"{letter(first_dev)}{top}:{letter(first_dev + n - 1)}{last}"
        dev_corner = f"{letter(first_dev)}{top}"
        ws.conditional_formatting.add(dev_block, FormulaRule(
            formula=[f'AND(ISNUMBER({dev_corner}),ABS({dev_corner})>{comparison["threshold"]!r})'], fill=yellow))
    for column in range(first_dev, first_dev + n):
        for r in range(top, last + 1):
            ws.cell(r, column).number_format = "0.0%"
    for column in [*range(first_price, lowest_col + 1), *range(first_total, first_dev)]:
        for r in range(top, foot + 1):
            ws.cell(r, column).number_format = "#,##0.00"
    legend = tr("Green: the lowest unit price of the line. Yellow: more than {threshold} from the line's median, "
                "or a comment that may change the price's meaning. Red: missing or zero.")
    write_text(ws.cell(foot + 2, 1), legend.format(threshold=f"{comparison['threshold']:.0%}"))
    ws.freeze_panes = ws.cell(top, first_price).coordinate
    _widths(ws, {1: 10, 2: 36, 3: 10, 4: 10, **{c: 16 for c in range(first_price, first_comment)},
                 **{c: 30 for c in range(first_comment, first_comment + n)}})
    _landscape(ws)
