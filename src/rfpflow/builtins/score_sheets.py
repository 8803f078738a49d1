"""Evaluators' score sheets as .xlsx workbooks: written per evaluator, read back strictly.

One workbook per evaluator. The sheet ``Scores`` (``评分表`` in Chinese) has
one row per criterion scored by judgement -- id, name, weight, scale and the
guidance for evaluators -- and, per vendor, a score column and a comment
column. Score cells are the only unlocked cells (yellow); the sheet is
protected without a password, so nothing else changes by accident, and each
score cell carries data validation allowing a decimal within the criterion's
scale. Vendors appear as the ``vendor_ids`` the caller passes: in a blind
evaluation (``[scoring] blind = true``) the workflow passes codes
(:func:`rfpflow.evaluation.blind_codes`) and maps them back after reading.

A hidden, protected sheet ``rfpflow`` records what the sheet is for: the
format, the RFP id, the definition hash, the evaluator, and which row holds
which criterion and which columns which vendor. Reading trusts that map, not
the headers, and checks the sheet against it.

The workbook's bytes depend only on what is written: document properties
carry a fixed date and the ZIP members a fixed time stamp, so the same RFP,
evaluator and vendors give the same file (and the same hash in the audit log).

Reading (:func:`read_score_sheet`) is as strict as bid import: the file
checks of :func:`rfpflow.spreadsheets.workbooks.open_workbook` first; a sheet for another
RFP, another version of the definition, an evaluator not on the panel, or
(when the caller names one) another evaluator is refused; then every score
is read with :func:`rfpflow.spreadsheets.cells.parse_number` (text such as ``"7.5"`` is
accepted, ``"7,5"`` only when rfp.toml declares ``decimal_comma``), and a
score outside the scale or blank is reported with its cell. All problems come
together in one :class:`~rfpflow.errors.InputFileError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from rfpflow.context import RunContext
from rfpflow.errors import InputFileError, Problem, RfpflowError
from rfpflow.hookspecs import hookimpl
from rfpflow.model import Criterion, Rfp
from rfpflow.spreadsheets.cells import CellValueError, MissingValue, is_blank, parse_number, parse_text, write_text

__all__ = [
    "FORMAT",
    "META_SHEET",
    "judged_criteria",
    "read_score_sheet",
    "rfpflow_read_scores",
    "rfpflow_write_score_sheet",
    "write_score_sheet",
]

#: Written into the metadata sheet; a sheet of another format is refused.
FORMAT: Final = "rfpflow score sheet 1"
#: The hidden sheet holding what the workbook is for.
META_SHEET: Final = "rfpflow"
#: The date in every score sheet's document properties (keeps the bytes reproducible).
FIXED_TIME: Final = datetime(2000, 1, 1)

HEADER_ROW: Final = 5
FIRST_ROW: Final = 6
FIRST_VENDOR_COLUMN: Final = 6  # F: after id, criterion, weight, scale, guidance
_MAX_META_ROWS: Final = 10_000

LABELS: Final[Mapping[str, Mapping[str, str]]] = {
    "en": {
        "sheet": "Scores",
        "title": "Score sheet",
        "evaluator": "Evaluator",
        "instructions": ("Score every criterion for every vendor in the yellow cells, within the criterion's "
                         "scale (column D); decimals are allowed. A comment is optional and goes into the "
                         "evaluation report. Do not move, insert or delete rows or columns."),
        "id": "Id",
        "criterion": "Criterion",
        "weight": "Weight",
        "scale": "Scale",
        "guidance": "Guidance",
        "score": "score",
        "comment": "comment",
        "error_title": "Outside the scale",
        "error": "Enter a number from {lo} to {hi}.",
        "prompt_title": "Score",
        "prompt": "A number from {lo} to {hi}.",
    },
    "zh": {
        "sheet": "评分表",
        "title": "评分表",
        "evaluator": "评审专家",
        "instructions": ("请在黄色单元格内为每个供应商的每项评审因素打分，分值须在该因素的分值范围内（D 列），"
                         "可填小数。备注可选，将写入评审报告。请勿移动、插入或删除行列。"),
        "id": "编号",
        "criterion": "评审因素",
        "weight": "权重",
        "scale": "分值范围",
        "guidance": "评分指引",
        "score": "得分",
        "comment": "备注",
        "error_title": "超出分值范围",
        "error": "请填写 {lo} 至 {hi} 之间的数字。",
        "prompt_title": "得分",
        "prompt": "{lo} 至 {hi} 之间的数字。",
    },
}


def _labels(rfp: Rfp) -> Mapping[str, str]:
    return LABELS.get(rfp.language, LABELS["en"])


def _exact(x: float) -> str:
    """A scale bound written in full precision, for a data-validation formula."""
    return format(x, ".15g")


def _letter(column: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(column))


def judged_criteria(rfp: Rfp) -> tuple[Criterion, ...]:
    """The leaf criteria evaluators score (``source = "judgement"``), in definition order."""
    return tuple(c for c in rfp.leaf_criteria() if c.source.kind == "judgement")


def _vendor_header(vendor: str, part: str) -> str:
    """A vendor column's header: what evaluators know the vendor by (its name, or its blind code)."""
    return f"{vendor}: {part}"


# --------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------


def write_score_sheet(rfp: Rfp, evaluator_id: str, vendor_ids: Sequence[str], target: Path,
                      names: Mapping[str, str] | None = None) -> Path:
    """Write the score sheet of one evaluator at ``target`` and return it.

    Raises :class:`RfpflowError` for an evaluator not on the panel, no
    vendors, a vendor listed twice or blank, or an RFP without judgement
    criteria.
    """
    import openpyxl
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
    from openpyxl.workbook.protection import WorkbookProtection
    from openpyxl.worksheet.datavalidation import DataValidation

    criteria = judged_criteria(rfp)
    panel = {e.id: e for e in rfp.evaluators}
    problems: list[str] = []
    if evaluator_id not in panel:
        problems.append(f"evaluator {evaluator_id!r} is not on the panel ({', '.join(panel) or 'none'})")
    if not criteria:
        problems.append("no criterion is scored by judgement, so there is nothing to score")
    if not vendor_ids:
        problems.append("no vendors to score")
    if any(not v or not v.strip() for v in vendor_ids):
        problems.append("a vendor id is blank")
    twice = sorted({v for v in vendor_ids if list(vendor_ids).count(v) > 1})
    if twice:
        problems.append(f"vendor(s) listed twice: {', '.join(twice)}")
    if problems:
        raise RfpflowError(f"cannot write the score sheet of {evaluator_id}: " + "; ".join(problems))

    labels = _labels(rfp)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = labels["sheet"]
    bold = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="FFD9D9D9")
    input_fill = PatternFill("solid", fgColor="FFFFF2CC")
    thin = Side(style="thin", color="FF999999")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="top")

    write_text(ws.cell(1, 1), f"{labels['title']}: {rfp.id} — {rfp.title}").font = Font(bold=True, size=14)
    evaluator = panel[evaluator_id]
    write_text(ws.cell(2, 1), f"{labels['evaluator']}:").font = bold
    write_text(ws.cell(2, 2), f"{evaluator.name} ({evaluator.id})")
    write_text(ws.cell(3, 1), labels["instructions"])

    headers = [labels["id"], labels["criterion"], labels["weight"], labels["scale"], labels["guidance"]]
    shown = {v: (names or {}).get(v) or v for v in vendor_ids}
    for vendor in vendor_ids:
        headers += [_vendor_header(shown[vendor], labels["score"]), _vendor_header(shown[vendor], labels["comment"])]
    for column, text in enumerate(headers, start=1):
        cell = write_text(ws.cell(HEADER_ROW, column), text)
        cell.font, cell.fill, cell.border, cell.alignment = bold, header_fill, box, wrap

    validations: dict[tuple[float, float], Any] = {}
    for n, crit in enumerate(criteria):
        row = FIRST_ROW + n
        lo, hi = crit.scale
        write_text(ws.cell(row, 1), crit.id)
        write_text(ws.cell(row, 2), crit.name)
        ws.cell(row, 3).value = crit.weight
        write_text(ws.cell(row, 4), f"{_exact(lo)}–{_exact(hi)}")
        write_text(ws.cell(row, 5), crit.guidance)
        for column in range(1, 6):
            ws.cell(row, column).border = box
            ws.cell(row, column).alignment = wrap
        dv = validations.get(crit.scale)
        if dv is None:
            dv = DataValidation(
                type="decimal", operator="between", formula1=_exact(lo), formula2=_exact(hi), allow_blank=True,
                showErrorMessage=True, errorStyle="stop", errorTitle=labels["error_title"],
                error=labels["error"].format(lo=_exact(lo), hi=_exact(hi)),
                showInputMessage=True, promptTitle=labels["prompt_title"],
                prompt=labels["prompt"].format(lo=_exact(lo), hi=_exact(hi)),
            )
            ws.add_data_validation(dv)
            validations[crit.scale] = dv
        for k in range(len(vendor_ids)):
            score_col = FIRST_VENDOR_COLUMN + 2 * k
            for column in (score_col, score_col + 1):
                cell = ws.cell(row, column)
                cell.protection = Protection(locked=False)
                cell.fill, cell.border, cell.alignment = input_fill, box, wrap
            dv.add(f"{_letter(score_col)}{row}")

    for letter, width in zip("ABCDE", (14, 32, 9, 10, 50), strict=True):
        ws.column_dimensions[letter].width = width
    for k in range(len(vendor_ids)):
        ws.column_dimensions[_letter(FIRST_VENDOR_COLUMN + 2 * k)].width = 14
        ws.column_dimensions[_letter(FIRST_VENDOR_COLUMN + 2 * k + 1)].width = 30
    ws.freeze_panes = f"{_letter(FIRST_VENDOR_COLUMN)}{FIRST_ROW}"
    ws.page_setup.orientation = "landscape"
    ws.protection.sheet = True
    ws.protection.formatColumns = False  # False = allowed: evaluators may widen columns
    ws.protection.formatRows = False

    meta = wb.create_sheet(META_SHEET)
    rows: list[list[Any]] = [
        ["format", FORMAT],
        ["rfp_id", rfp.id],
        ["definition_hash", rfp.definition_hash],
        ["evaluator", evaluator_id],
        ["language", rfp.language],
        ["sheet", ws.title],
    ]
    rows += [["criterion", crit.id, FIRST_ROW + n] for n, crit in enumerate(criteria)]
    rows += [["vendor", vendor, _letter(FIRST_VENDOR_COLUMN + 2 * k), _letter(FIRST_VENDOR_COLUMN + 2 * k + 1)]
             + ([shown[vendor]] if shown[vendor] != vendor else [])
             for k, vendor in enumerate(vendor_ids)]
    for r, values in enumerate(rows, start=1):
        for c, value in enumerate(values, start=1):
            if isinstance(value, str):
                write_text(meta.cell(r, c), value)
            else:
                meta.cell(r, c).value = value
    meta.sheet_state = "hidden"
    meta.protection.sheet = True
    wb.security = WorkbookProtection(lockStructure=True)

    props = wb.properties
    props.creator = "rfpflow"
    props.lastModifiedBy = "rfpflow"
    props.title = f"{rfp.id}: {labels['title']} {evaluator_id}"
    from rfpflow.spreadsheets.saving import save_workbook  # on first use: start-up stays light

    save_workbook(wb, target, FIXED_TIME)
    return target


# --------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_score_sheet(source: Path, rfp: Rfp, *, evaluator: str | None = None,
                     display: str | None = None) -> list[dict[str, Any]]:
    """Read a returned score sheet: one mapping per score, in sheet order.

    Each mapping has ``evaluator``, ``vendor``, ``criterion``, ``score``
    (float), ``comment`` (text, may be empty) and ``cell`` (``"Scores!F7"``).
    ``evaluator``, when given, is the evaluator the sheet must belong to;
    ``display`` is the file name used in messages (default: the file's name).
    Raises :class:`InputFileError` with every problem found.
    """
    name = display or source.name
    from rfpflow.spreadsheets.workbooks import open_workbook  # on first use: start-up stays light

    wb = open_workbook(source, name)
    try:
        return _read(wb, name, rfp, evaluator)
    finally:
        wb.close()


def _meta(wb: Any, name: str) -> tuple[dict[str, str], list[tuple[str, int]], list[tuple[str, str, str]]]:
    if META_SHEET not in wb.sheetnames:
        raise InputFileError(
            f"{name}: not an rfpflow score sheet (it has no {META_SHEET!r} sheet); "
            "return the score sheet rfpflow wrote for you, filled in",
            [Problem("no rfpflow metadata sheet: not a score sheet written by rfpflow", file=name)],
        )
    info: dict[str, str] = {}
    criteria: list[tuple[str, int]] = []
    vendors: list[tuple[str, str, str]] = []
    problems: list[Problem] = []
    heads: dict[str, str] = {}
    for r, row in enumerate(wb[META_SHEET].iter_rows(min_row=1, max_row=_MAX_META_ROWS, max_col=5,
                                                     values_only=True), start=1):
        key, *rest = (*row, None, None, None, None)[:5]
        key = _text(key)
        if key == "criterion":
            number = rest[1]
            if isinstance(number, (int, float)) and not isinstance(number, bool) and float(number).is_integer():
                criteria.append((_text(rest[0]), int(number)))
            else:
                problems.append(Problem("damaged metadata: a criterion without its row", file=name,
                                        place=f"{META_SHEET}!C{r}"))
        elif key == "vendor":
            vendors.append((_text(rest[0]), _text(rest[1]), _text(rest[2])))
            if rest[3] is not None:  # what the columns are headed with (the name), when not the id
                heads[_text(rest[0])] = _text(rest[3])
        elif key:
            info[key] = _text(rest[0])
    if info.get("format") != FORMAT:
        problems.append(Problem(f"the metadata says format {info.get('format')!r}; this rfpflow reads {FORMAT!r}",
                                file=name, place=f"{META_SHEET}!B1"))
    if problems:
        raise InputFileError(f"{name}: not a score sheet this rfpflow can read", problems)
    info.update({f"head:{vendor}": head for vendor, head in heads.items()})
    return info, criteria, vendors


def _identity_problems(info: Mapping[str, str], name: str, rfp: Rfp, expected: str | None) -> list[Problem]:
    problems: list[Problem] = []
    where = f"{META_SHEET}!B"
    sheet_rfp = info.get("rfp_id", "")
    if sheet_rfp != rfp.id:
        problems.append(Problem(f"this score sheet is for RFP {sheet_rfp!r}, not {rfp.id!r}",
                                file=name, place=f"{where}2"))
    elif info.get("definition_hash", "") != rfp.definition_hash:
        problems.append(Problem(
            f"this score sheet was made for another version of the RFP definition "
            f"({info.get('definition_hash', '')[:12] or 'none'}, now {rfp.definition_hash[:12] or 'none'}); "
            "write new score sheets after an amendment", file=name, place=f"{where}3"))
    who = info.get("evaluator", "")
    panel = [e.id for e in rfp.evaluators]
    if who not in panel:
        problems.append(Problem(f"evaluator {who!r} of this score sheet is not on the panel ({', '.join(panel)})",
                                file=name, place=f"{where}4"))
    if expected is not None and who != expected:
        problems.append(Problem(f"this is the score sheet of evaluator {who!r}, not of {expected!r}",
                                file=name, place=f"{where}4"))
    return problems


def _read(wb: Any, name: str, rfp: Rfp, expected: str | None) -> list[dict[str, Any]]:
    info, criteria, vendors = _meta(wb, name)
    problems = _identity_problems(info, name, rfp, expected)
    if problems:
        raise InputFileError(f"{name}: score sheet refused", problems)
    evaluator = info["evaluator"]
    labels = LABELS.get(info.get("language", ""), _labels(rfp))
    sheet = info.get("sheet", "")
    if sheet not in wb.sheetnames:
        raise InputFileError(f"{name}: the score sheet {sheet!r} is missing",
                             [Problem(f"no sheet {sheet!r}", file=name)])
    judged = {c.id: c for c in judged_criteria(rfp)}
    for crit_id, row in criteria:
        if crit_id not in judged:
            problems.append(Problem(f"criterion {crit_id!r} is not scored by judgement in {rfp.source}",
                                    file=name, place=f"{sheet}!A{row}"))
    listed = {c for c, _ in criteria}
    problems += [Problem(f"criterion {c!r} is missing from the sheet", file=name)
                 for c in judged if c not in listed]
    if not criteria or not vendors:
        problems.append(Problem("the sheet lists no criteria or no vendors", file=name))
    if problems:
        raise InputFileError(f"{name}: score sheet refused", problems)

    from openpyxl.utils import column_index_from_string

    try:
        columns = [(v, column_index_from_string(s), column_index_from_string(c)) for v, s, c in vendors]
    except ValueError:
        raise InputFileError(f"{name}: damaged metadata: a vendor column is not a column letter",
                             [Problem("damaged metadata", file=name, place=f"{META_SHEET}!C")]) from None
    top = min(HEADER_ROW, *(r for _, r in criteria))
    bottom = max(r for _, r in criteria)
    width = max(c for _, _, c in columns)
    grid: dict[tuple[int, int], object] = {}
    for r, values in enumerate(wb[sheet].iter_rows(min_row=top, max_row=bottom, min_col=1, max_col=width,
                                                   values_only=True), start=top):
        for c, value in enumerate(values, start=1):
            if value is not None:
                grid[(r, c)] = value

    for vendor, score_col, comment_col in columns:
        head = info.get(f"head:{vendor}", vendor)
        for column, part in ((score_col, labels["score"]), (comment_col, labels["comment"])):
            found = _text(grid.get((HEADER_ROW, column)))
            if found != _vendor_header(head, part):
                problems.append(Problem(f"column {_letter(column)} should be headed "
                                        f"{_vendor_header(head, part)!r}, found {found!r}: "
                                        "columns must not be moved, inserted or deleted",
                                        file=name, place=f"{sheet}!{_letter(column)}{HEADER_ROW}"))
    out: list[dict[str, Any]] = []
    for crit_id, row in criteria:
        found = _text(grid.get((row, 1)))
        if found != crit_id:
            problems.append(Problem(f"row {row} should hold criterion {crit_id!r}, found {found!r}: "
                                    "rows must not be moved, inserted or deleted", file=name, place=f"{sheet}!A{row}"))
            continue
        crit = judged[crit_id]
        lo, hi = crit.scale
        for vendor, score_col, comment_col in columns:
            place = f"{sheet}!{_letter(score_col)}{row}"
            raw = grid.get((row, score_col))
            label = f"score of {vendor} on {crit_id!r}"
            if raw is None or (isinstance(raw, str) and is_blank(raw)):
                problems.append(Problem(f"score missing: evaluator {evaluator}, vendor {vendor}, "
                                        f"criterion {crit_id!r}", file=name, place=place))
                continue
            try:
                number = float(parse_number(raw, label, decimal_comma=rfp.decimal_comma))  # type: ignore[arg-type]
            except CellValueError as exc:
                problems.append(Problem(str(exc), file=name, place=place))
                continue
            if not lo <= number <= hi:
                problems.append(Problem(f"{label} is {_exact(number)}, outside the scale {_exact(lo)}–{_exact(hi)}",
                                        file=name, place=place))
                continue
            comment_raw = grid.get((row, comment_col))
            try:
                comment = parse_text(comment_raw, "comment")  # type: ignore[arg-type]
            except MissingValue:
                comment = ""
            except CellValueError as exc:
                problems.append(Problem(str(exc), file=name, place=f"{sheet}!{_letter(comment_col)}{row}"))
                continue
            out.append({"evaluator": evaluator, "vendor": vendor, "criterion": crit_id, "score": number,
                        "comment": comment, "cell": place})
    if problems:
        missing = sum(1 for p in problems if p.message.startswith("score missing"))
        extra = f", {missing} score{'s' if missing != 1 else ''} missing" if missing else ""
        raise InputFileError(f"{name}: {len(problems)} problem{'s' if len(problems) != 1 else ''} in the score "
                             f"sheet of evaluator {evaluator}{extra}", problems)
    return out


# --------------------------------------------------------------------------
# hooks
# --------------------------------------------------------------------------


@hookimpl(trylast=True)
def rfpflow_write_score_sheet(
    rfp: Rfp, evaluator_id: str, vendor_ids: Sequence[str], target: Path, context: RunContext,
    vendor_names: Mapping[str, str],
) -> Path | None:
    """Write the builtin .xlsx score sheet (None for a target that is not .xlsx)."""
    if target.suffix.lower() != ".xlsx":
        return None
    return write_score_sheet(rfp, evaluator_id, vendor_ids, target, vendor_names)


@hookimpl(trylast=True)
def rfpflow_read_scores(source: Path, rfp: Rfp, context: RunContext) -> list[dict[str, Any]] | None:
    """Read a builtin .xlsx score sheet (None for any other file)."""
    if source.suffix.lower() != ".xlsx":
        return None
    return read_score_sheet(source, rfp)
