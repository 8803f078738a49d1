"""Writing the bid-response workbook vendors fill in (see :mod:`rfpflow.builtins.xlsx_bids`).

The workbook is written with openpyxl and saved deterministically: the same
RFP definition gives a byte-identical file, so a re-issued workbook can be
compared with the one sent earlier, and the file's hash can be recorded.
Two things make openpyxl's output vary from run to run and are pinned here:
the document properties' created/modified timestamps (set to the RFP's issue
date at midnight UTC) and the ZIP entries' timestamps (rewritten to the same
moment).

Every text that comes from the buyer (titles, descriptions, requirements,
choices) is written with :func:`rfpflow.spreadsheets.cells.write_text`, so a requirement
that happens to start with ``=`` is shown as text and never becomes a formula.
The only formulas in the workbook are rfpflow's own line totals and grand
total, which the reader never trusts (it recomputes totals from the RFP's
quantities and the vendor's unit prices).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
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
    INSTRUCTIONS,
    METADATA,
    PRICING_TABLE,
    QUESTIONNAIRE_TABLE,
    TableSpec,
    text,
)
from rfpflow.spreadsheets.saving import save_workbook

__all__ = ["CERTIFICATE_ROWS", "INPUT_FILL", "fixed_timestamp", "write_bid_workbook"]

INPUT_FILL = "FFFFF2CC"
"""Light yellow: the fill of every cell the vendor fills in (and only those)."""
HEADER_FILL = "FFD9E1F2"
CERTIFICATE_ROWS = 10
"""Empty certificate rows offered; a vendor with more inserts rows."""
_EARLIEST_ZIP_TIME = dt.datetime(1980, 1, 1)
_DEFAULT_TIME = dt.datetime(2000, 1, 1)


def fixed_timestamp(rfp: Rfp) -> dt.datetime:
    """The moment recorded as the workbook's creation and modification time:
    the RFP's issue date at midnight UTC (2000-01-01 without one), never "now",
    so that the file depends on the RFP alone. Naive, as openpyxl expects UTC."""
    issue = rfp.timeline.issue_date
    moment = dt.datetime(issue.year, issue.month, issue.day) if issue else _DEFAULT_TIME
    return max(moment, _EARLIEST_ZIP_TIME)


def write_bid_workbook(rfp: Rfp, target: Path) -> Path:
    """Write the bid-response workbook for ``rfp`` at ``target`` (an .xlsx path)."""
    import openpyxl

    wb = openpyxl.Workbook()
    writer = _Writer(rfp, wb)
    writer.instructions(wb.active)
    writer.company(wb.create_sheet(COMPANY_TABLE.sheet))
    writer.certifications(wb.create_sheet(CERTIFICATIONS_TABLE.sheet))
    writer.questionnaire(wb.create_sheet(QUESTIONNAIRE_TABLE.sheet))
    writer.pricing(wb.create_sheet(PRICING_TABLE.sheet))
    writer.metadata(wb.create_sheet(METADATA))
    wb.active = 0
    moment = fixed_timestamp(rfp)
    wb.properties.creator = "rfpflow"
    wb.properties.lastModifiedBy = None
    wb.properties.title = f"{rfp.id} bid-response workbook"
    save_workbook(wb, Path(target), moment)
    return Path(target)


class _Writer:
    def __init__(self, rfp: Rfp, wb: Any) -> None:
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side

        self.rfp = rfp
        self.wb = wb
        self.lang = "zh" if rfp.language == "zh" else "en"
        thin = Side(style="thin", color="FFB4B4B4")
        self.border = Border(left=thin, right=thin, top=thin, bottom=thin)
        self.input_fill = PatternFill("solid", fgColor=INPUT_FILL)
        self.header_fill = PatternFill("solid", fgColor=HEADER_FILL)
        self.unlocked = Protection(locked=False)
        self.bold = Font(bold=True)
        self.title_font = Font(bold=True, size=14)
        self.wrap = Alignment(wrap_text=True, vertical="top")
        self.top = Alignment(vertical="top")
        self._lists: list[tuple[int, tuple[str, ...]]] = []  # dropdown lists kept in the metadata sheet

    def t(self, en: str, zh: str) -> str:
        return text(self.lang, en, zh)

    # -- helpers ----------------------------------------------------------

    def protect(self, ws: Any) -> None:
        """Sheet protection without a password: only the input cells can be
        edited; column widths and row heights may still be changed."""
        ws.protection.sheet = True
        ws.protection.formatColumns = False
        ws.protection.formatRows = False

    def title(self, ws: Any, value: str) -> None:
        write_text(ws.cell(row=1, column=1), value).font = self.title_font

    def header(self, ws: Any, table: TableSpec, row: int, currency_keys: Sequence[str] = ()) -> None:
        from openpyxl.utils import get_column_letter

        for index, column in enumerate(table.columns, start=1):
            label = column.header(self.lang)
            if column.key in currency_keys:
                label = self.t(f"{column.en} ({self.rfp.currency})", f"{column.zh}（{self.rfp.currency}）")
            cell = write_text(ws.cell(row=row, column=index), label)
            cell.font = self.bold
            cell.fill = self.header_fill
            cell.border = self.border
            cell.alignment = self.wrap
            ws.column_dimensions[get_column_letter(index)].width = column.width
        ws.freeze_panes = ws.cell(row=row + 1, column=1)

    def buyer_text(self, ws: Any, row: int, column: int, value: str, *, wrap: bool = False) -> Any:
        cell = write_text(ws.cell(row=row, column=column), value)
        cell.border = self.border
        cell.alignment = self.wrap if wrap else self.top
        return cell

    def input_cell(self, ws: Any, row: int, column: int, number_format: str | None = None) -> Any:
        cell = ws.cell(row=row, column=column)
        cell.fill = self.input_fill
        cell.protection = self.unlocked
        cell.border = self.border
        cell.alignment = self.top
        if number_format:
            cell.number_format = number_format
        return cell

    # -- sheets -----------------------------------------------------------

    def instructions(self, ws: Any) -> None:
        from openpyxl.styles import Alignment

        rfp = self.rfp
        ws.title = INSTRUCTIONS
        ws.column_dimensions["A"].width = 110
        deadline = rfp.timeline.bid_deadline.isoformat() if rfp.timeline.bid_deadline else ""
        if self.lang == "zh":
            lines = [
                f"投标响应工作簿：{rfp.id} {rfp.title}",
                f"采购人：{rfp.buyer}",
                f"报价币种：{rfp.currency}",
                f"投标截止时间：{deadline}" if deadline else "",
                "",
                "填写说明",
                "1. 请只填写黄色单元格，分布在 Company（公司信息）、Certifications（资质证书）、"
                "Questionnaire（问卷）和 Pricing（报价）四个工作表中；其他单元格已锁定。",
                "2. 公司信息中带 * 的项目为必填项。在中国注册的企业请填写 18 位统一社会信用代码。",
                "3. 问卷的“响应”一栏请从下拉列表中选择；“是否必须”为“是”的要求必须作答。",
                f"4. 请在 Pricing 工作表中按 {rfp.currency} 填写每一行的单价；数量由采购人确定，小计与合计自动计算。",
                "5. 请勿修改工作表名称、编号或数量。如需增加行或列可以插入，rfpflow 按标题文字识别内容。",
                "6. 请保存为 Excel 工作簿（.xlsx），以贵公司名称命名（例如 acme.xlsx）后提交；"
                "以相同文件名重新提交的文件将替换之前的投标。",
                "",
                "Bid-response workbook (English): fill in the yellow cells on the sheets Company, Certifications, "
                "Questionnaire and Pricing; all other cells are locked. Save as .xlsx, named after your company.",
            ]
        else:
            lines = [
                f"Bid-response workbook: {rfp.id} {rfp.title}",
                f"Buyer: {rfp.buyer}",
                f"Currency of prices: {rfp.currency}",
                f"Bid deadline: {deadline}" if deadline else "",
                "",
                "How to fill in this workbook",
                "1. Fill in the yellow cells only, on the sheets Company, Certifications, Questionnaire and Pricing; "
                "all other cells are locked.",
                "2. Fields marked * on the Company sheet are required. Companies registered in China give their "
                "18-character unified social credit code as registration number.",
                "3. Answer every requirement on the Questionnaire sheet with the drop-down list; requirements marked "
                "mandatory must be answered.",
                f"4. On the Pricing sheet enter a unit price in {rfp.currency} for every line; the buyer fixes the "
                "quantities, line totals and the total are calculated.",
                "5. Do not rename the sheets or change item IDs and quantities. You may insert rows or columns if "
                "you need to: rfpflow finds the fields by their labels and headers.",
                "6. Save the workbook as .xlsx, named after your company (for example acme.xlsx), and return it. "
                "A corrected workbook sent under the same name replaces the earlier one.",
            ]
        for row, line in enumerate(lines, start=1):
            if line:
                cell = write_text(ws.cell(row=row, column=1), line)
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.cell(row=1, column=1).font = self.title_font
        self.protect(ws)

    def company(self, ws: Any) -> None:
        table = COMPANY_TABLE
        self.title(ws, self.t(f"Company information — {self.rfp.id}", f"公司信息 — {self.rfp.id}"))
        header_row = 3
        self.header(ws, table, header_row)
        for row, spec in enumerate(COMPANY_FIELDS, start=header_row + 1):
            label = self.buyer_text(ws, row, table.index("field"), spec.label(self.lang))
            if spec.required:
                label.font = self.bold
            fmt = {"amount": "#,##0.00", "integer": "0", "year": "0", "code": "@"}.get(spec.kind)
            self.input_cell(ws, row, table.index("value"), fmt)
            note = spec.note(self.lang)
            if spec.kind == "amount":
                note = f"{note} ({self.rfp.currency})" if note else self.rfp.currency
            self.buyer_text(ws, row, table.index("note"), note, wrap=True)
        self.protect(ws)

    def certifications(self, ws: Any) -> None:
        table = CERTIFICATIONS_TABLE
        self.title(ws, self.t("Certifications (e.g. ISO 9001, ISO 27001)", "资质证书（例如 ISO 9001、ISO 27001）"))
        header_row = 3
        self.header(ws, table, header_row)
        for row in range(header_row + 1, header_row + 1 + CERTIFICATE_ROWS):
            self.input_cell(ws, row, table.index("name"))
            self.input_cell(ws, row, table.index("number"), "@")
            self.input_cell(ws, row, table.index("expires"), "yyyy-mm-dd")
        self.protect(ws)

    def questionnaire(self, ws: Any) -> None:
        from openpyxl.worksheet.datavalidation import DataValidation

        table = QUESTIONNAIRE_TABLE
        self.title(ws, self.t("Questionnaire", "问卷"))
        header_row = 3
        self.header(ws, table, header_row)
        validations: dict[tuple[str, ...], Any] = {}
        for row, question in enumerate(self.rfp.questionnaire, start=header_row + 1):
            self.buyer_text(ws, row, table.index("id"), question.id)
            self.buyer_text(ws, row, table.index("text"), question.text, wrap=True)
            mandatory = self.t("Yes", "是") if question.mandatory else self.t("No", "否")
            cell = self.buyer_text(ws, row, table.index("mandatory"), mandatory)
            if question.mandatory:
                cell.font = self.bold
            answer = self.input_cell(ws, row, table.index("answer"))
            self.input_cell(ws, row, table.index("comment")).alignment = self.wrap
            self.input_cell(ws, row, table.index("evidence"))
            choices = tuple(question.choices)
            if choices not in validations:
                dv = DataValidation(
                    type="list",
                    formula1=self.choice_list(choices, len(validations)),
                    allow_blank=True,
                    showErrorMessage=True,
                    errorTitle=self.t("Answer", "响应"),
                    error=self.t("Choose one of the answers in the list.", "请从下拉列表中选择。"),
                )
                ws.add_data_validation(dv)
                validations[choices] = dv
            validations[choices].add(answer.coordinate)
        self.protect(ws)

    def choice_list(self, choices: tuple[str, ...], number: int) -> str:
        """The list a dropdown offers: inline (``"Yes,No"``) when the choices
        allow it, else a range of the metadata sheet holding them."""
        inline = ",".join(choices)
        if all("," not in c and '"' not in c for c in choices) and len(inline) <= 250:
            return f'"{inline}"'
        from openpyxl.utils import get_column_letter

        row = _LIST_FIRST_ROW + number
        self._lists.append((row, choices))
        last = get_column_letter(1 + len(choices))
        return f"'{METADATA}'!$B${row}:${last}${row}"

    def pricing(self, ws: Any) -> None:
        from openpyxl.utils import get_column_letter

        table = PRICING_TABLE
        rfp = self.rfp
        self.title(ws, self.t(f"Pricing — all prices in {rfp.currency}", f"报价 — 币种：{rfp.currency}"))
        header_row = 3
        self.header(ws, table, header_row, currency_keys=("unit_price", "line_total"))
        qty = get_column_letter(table.index("quantity"))
        price = get_column_letter(table.index("unit_price"))
        total_col = table.index("line_total")
        first = header_row + 1
        row = first
        for row, item in enumerate(rfp.line_items, start=first):
            self.buyer_text(ws, row, table.index("item_id"), item.id)
            self.buyer_text(ws, row, table.index("description"), item.description, wrap=True)
            self.buyer_text(ws, row, table.index("unit"), item.unit)
            quantity = ws.cell(row=row, column=table.index("quantity"), value=_number(item.quantity))
            quantity.border = self.border
            self.input_cell(ws, row, table.index("unit_price"), "#,##0.00")
            line = ws.cell(row=row, column=total_col, value=f'=IF(ISNUMBER({price}{row}),{qty}{row}*{price}{row},"")')
            line.number_format = "#,##0.00"
            line.border = self.border
            self.input_cell(ws, row, table.index("comment")).alignment = self.wrap
        total_row = (row + 1) if rfp.line_items else first
        label = write_text(ws.cell(row=total_row, column=table.index("item_id")), self.t("Total", "合计"))
        label.font = self.bold
        if rfp.line_items:
            letter = get_column_letter(total_col)
            total = ws.cell(row=total_row, column=total_col, value=f"=SUM({letter}{first}:{letter}{total_row - 1})")
            total.font = self.bold
            total.number_format = "#,##0.00"
            total.border = self.border
        self.protect(ws)

    def metadata(self, ws: Any) -> None:
        rfp = self.rfp
        rows: list[tuple[str, Any]] = [
            ("rfpflow", "bid-response workbook; do not edit this sheet"),
            ("format", FORMAT_VERSION),
            ("rfp_id", rfp.id),
            ("definition_hash", rfp.definition_hash),
            ("language", rfp.language),
            ("currency", rfp.currency),
        ]
        for row, (key, value) in enumerate(rows, start=1):
            write_text(ws.cell(row=row, column=1), key)
            if isinstance(value, str):
                write_text(ws.cell(row=row, column=2), value)
            else:
                ws.cell(row=row, column=2, value=value)
        for row, choices in self._lists:
            write_text(ws.cell(row=row, column=1), "choices")
            for column, choice in enumerate(choices, start=2):
                write_text(ws.cell(row=row, column=column), choice)
        ws.sheet_state = "veryHidden"
        self.protect(ws)


_LIST_FIRST_ROW = 10


def _number(value: Decimal) -> int | Decimal:
    """A quantity as written: a whole number as int, else the exact decimal."""
    return int(value) if value == value.to_integral_value() else value
