"""The trial run (pilot): reading the measurements and judging each vendor's KPIs.

Reading (``rfpflow_read_trial_data``)
    ``.csv`` and ``.xlsx`` files (any other suffix: ``None``, not mine). A header
    row names the columns ``date``, ``vendor``, ``kpi`` and ``value`` (or
    ``日期``, ``供应商``, ``指标``, ``数值``) in any order; other columns (notes)
    are ignored, and so are blank rows. In a workbook the first sheet is read and
    the header may sit below a title (within the first :data:`HEADER_SEARCH_ROWS`
    rows). A CSV file may be UTF-8 (with or without the byte-order mark Excel
    writes) or GBK/GB18030 (what Chinese Excel writes for "CSV" without
    "UTF-8"); its delimiter may be a comma, a semicolon or a tab.

    Cells are read the way people type them (:mod:`rfpflow.spreadsheets.cells`): dates in any
    unambiguous form, numbers with thousands separators, full-width digits, ...
    The KPI column holds a KPI id of the RFP (``service_level``), matched without
    regard to case, or the KPI's name; anything else is refused with a "did you
    mean". Vendors are not checked here (the workflow checks that they were
    shortlisted).

    Percentages: a KPI whose unit is ``%`` is measured in percentage points
    (target 80.0 means 80 %). ``85``, ``85%`` and ``"85 %"`` therefore all read
    as 85, and so does a workbook cell holding 0.85 formatted as a percentage
    (what Excel stores when one types 85%). A bare number is never rescaled:
    ``0.85`` stays 0.85 (abandonment of 0.85 % is a real value). A ``%`` value
    must lie between 0 and 100. A value with a ``%`` sign for a KPI in another
    unit (minutes, a count) is refused.

    Every problem of the file is reported at once, each with its place
    (``trial.csv:14``, ``trial.xlsx:Data!D14``), in one
    :class:`~rfpflow.errors.InputFileError`; nothing of a refused file is used.

Judging (``rfpflow_evaluate_trial``)
    For each KPI of the RFP, in definition order:

    * *Period*: measurements outside ``trial_start..trial_end`` (when rfp.toml
      gives them) are ignored, with a note.
    * *Window*: with ``window_days = N`` only the last N days count: the last N
      days up to ``trial_end``, or up to the vendor's latest measurement when
      the RFP gives no trial end. Without ``window_days`` the whole period counts.
    * *Aggregation*: several values of one day are first averaged into that
      day's value; the KPI's value is the mean of its daily values, so a day
      with many rows weighs as much as a day with one. A KPI whose unit is
      ``count`` (incidents) is the *sum* of every value in the window instead.
      Arithmetic is decimal, so 79.9 and 80.1 average to exactly 80.
    * *Met*: ``higher`` KPIs need value >= target, ``lower`` KPIs value <= target;
      a value exactly on the target meets it.
    * *Attainment*: ``min(1, value / target)`` for ``higher``, ``min(1, target /
      value)`` for ``lower``, kept within 0..1; with a target of 0 (or a value of
      0 for ``lower``) it is 1 when met and 0 when not.
    * *Missing data*: no measurement in the window -> not met, attainment 0, and
      a note saying so.

    The vendor passes when every ``must_have`` KPI is met; the trial score (0..100)
    is the mean of attainment x 100 weighted by ``kpi.weight`` (plain mean when
    all weights are 0). A high score does not rescue a failed must-have KPI.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any

from rfpflow.context import RunContext
from rfpflow.errors import InputFileError, Problem
from rfpflow.hookspecs import hookimpl
from rfpflow.model import Kpi, KpiAttainment, Rfp, TrialResult
from rfpflow.options import suggest
from rfpflow.registry import Measurement
from rfpflow.spreadsheets.cells import CellValueError, day_first_order, parse_date, parse_number, parse_text

__all__ = [
    "COUNT_UNITS",
    "HEADERS",
    "HEADER_SEARCH_ROWS",
    "MAX_REPORTED_PROBLEMS",
    "PERCENT_UNITS",
    "decode_csv",
    "evaluate",
    "read_csv_rows",
    "read_trial_file",
    "rfpflow_evaluate_trial",
    "rfpflow_read_trial_data",
]

#: Accepted header names per column (compared after NFKC folding and lower-casing).
HEADERS: Mapping[str, tuple[str, ...]] = {
    "date": ("date", "day", "日期"),
    "vendor": ("vendor", "vendor id", "vendor_id", "supplier", "供应商", "供应商编号"),
    "kpi": ("kpi", "kpi id", "kpi_id", "指标", "指标编号"),
    "value": ("value", "数值", "值"),
}
#: Units meaning "percentage points".
PERCENT_UNITS = frozenset({"%", "percent", "pct", "百分比"})
#: Units whose window value is the sum of the measurements, not the mean.
COUNT_UNITS = frozenset({"count", "次", "个", "件", "起"})
#: How far down a workbook's first sheet the header row is looked for.
HEADER_SEARCH_ROWS = 10
#: At most this many problems are listed one by one; the rest are counted.
MAX_REPORTED_PROBLEMS = 100
MAX_COLUMNS = 50


# ---------------------------------------------------------------------------
# CSV text (shared with the registry extract reader)
# ---------------------------------------------------------------------------


def decode_csv(path: Path, display: str) -> str:
    """The text of a CSV file: UTF-8 (with or without BOM), else GBK/GB18030.

    Raises :class:`InputFileError` naming ``display`` when the file cannot be
    read or is in neither encoding.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputFileError(f"{display}: cannot be read ({exc.strerror or exc})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass  # not UTF-8: Chinese Excel saves CSV as GBK, tried next
    try:
        # GB18030 is a superset of GBK, which Chinese Excel writes for "CSV".
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise InputFileError(
            f"{display}: is neither UTF-8 nor GBK text; save it from Excel as \"CSV UTF-8\""
        ) from None


def read_csv_rows(text: str, display: str,
                  wanted: Iterable[Iterable[str]] = ()) -> tuple[list[tuple[int, list[str]]], str]:
    """Split CSV text into ``(line number, cells)`` rows; return them and the delimiter.

    The delimiter (comma, semicolon or tab) is the one that splits the first
    line into the most cells naming a column of ``wanted`` (alias lists); with
    no match, the one giving the most cells. The line number is where the
    record starts (a quoted cell may span lines).
    """
    if "\r" in text:  # old Mac (CR-only) or Windows line ends: the csv module wants one kind
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    first = text.split("\n", 1)[0]
    names = {_header_key(n) for aliases in wanted for n in aliases}

    def rank(delimiter: str) -> tuple[int, int]:
        try:
            cells = next(csv.reader([first], delimiter=delimiter), [])
        except csv.Error:
            return (0, 0)
        return sum(1 for c in cells if _header_key(c) in names), len(cells)

    delimiter = max((",", ";", "\t"), key=rank)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    line = 1
    try:
        for cells in reader:
            rows.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise InputFileError(f"{display}: not valid CSV", [Problem(str(exc), file=display, place=str(line))]) from None
    return rows, delimiter


def _header_key(value: object) -> str:
    text = unicodedata.normalize("NFKC", str(value if value is not None else ""))
    return " ".join(text.replace("\ufeff", "").split()).lower()


def _find_header(cells: Sequence[object], headers: Mapping[str, tuple[str, ...]]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, cell in enumerate(cells):
        key = _header_key(cell)
        for field, aliases in headers.items():
            if key in aliases and field not in found:
                found[field] = index
    return found


def _is_blank_row(cells: Iterable[object]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------


class _Row:
    """One data row: raw values by field, and each value's place for messages."""

    def __init__(self, values: dict[str, Any], places: dict[str, str], percent_cells: frozenset[str]) -> None:
        self.values = values
        self.places = places
        self.percent_cells = percent_cells  # fields whose workbook cell is formatted as a percentage


def _kpi_lookup(rfp: Rfp) -> tuple[dict[str, Kpi], list[str]]:
    by_key: dict[str, Kpi] = {}
    for kpi in rfp.trial.kpis:
        by_key.setdefault(_header_key(kpi.id), kpi)
    for kpi in rfp.trial.kpis:
        by_key.setdefault(_header_key(kpi.name), kpi)
    return by_key, [k.id for k in rfp.trial.kpis]


def _is_percent(kpi: Kpi) -> bool:
    return kpi.unit.strip().lower() in PERCENT_UNITS


def _is_count(kpi: Kpi) -> bool:
    return kpi.unit.strip().lower() in COUNT_UNITS


def _parse_row(row: _Row, rfp: Rfp, kpis: dict[str, Kpi], kpi_ids: list[str], date1904: bool,
               problems: list[tuple[str, str]], day_first: bool | None = None) -> Measurement | None:
    """Parse one row; append ``(place, message)`` problems; return the measurement if all is well."""
    ok = True
    day: dt.date | None = None
    vendor = kpi_id = ""
    try:
        day = parse_date(row.values["date"], "date", date1904=date1904, day_first=day_first)
    except CellValueError as exc:
        problems.append((row.places["date"], str(exc)))
        ok = False
    try:
        vendor = parse_text(row.values["vendor"], "vendor")
    except CellValueError as exc:
        problems.append((row.places["vendor"], str(exc)))
        ok = False
    kpi: Kpi | None = None
    try:
        name = parse_text(row.values["kpi"], "KPI")
    except CellValueError as exc:
        problems.append((row.places["kpi"], str(exc)))
        ok = False
    else:
        kpi = kpis.get(_header_key(name))
        if kpi is None:
            problems.append((row.places["kpi"], (
                f"unknown KPI {name!r}{suggest(name, kpi_ids)}; the trial's KPIs are "
                f"{', '.join(kpi_ids) or 'none (rfp.toml defines no trial KPIs)'}")))
            ok = False
        else:
            kpi_id = kpi.id
    raw = row.values["value"]
    try:
        number = parse_number(raw, "value", allow_percent=True, decimal_comma=rfp.decimal_comma)
    except CellValueError as exc:
        problems.append((row.places["value"], str(exc)))
        return None
    typed_percent = isinstance(raw, str) and "%" in unicodedata.normalize("NFKC", raw)
    formatted_percent = "value" in row.percent_cells and not isinstance(raw, str)
    if kpi is None:
        return None
    if typed_percent or formatted_percent:
        if not _is_percent(kpi):
            problems.append((row.places["value"], (
                f"value {raw if isinstance(raw, str) else _plain(number.scaleb(2)) + '%'} is a percentage, "
                f"but the KPI {kpi.id} is measured in {kpi.unit or 'plain numbers'}; write the number without %")))
            return None
        number = number.scaleb(2)  # 85% was read as 0.85: the KPI is in percentage points
    if _is_percent(kpi) and not (0 <= number <= 100):
        problems.append((row.places["value"], (
            f"value {_plain(number)} is not a percentage between 0 and 100 (the KPI {kpi.id} is in %)")))
        return None
    if not ok or day is None:
        return None
    return Measurement(day, vendor, kpi_id, float(number), row.places["row"])


def _plain(number: Decimal) -> str:
    return format(number.normalize(), "f")


def _rows_from_csv(path: Path, display: str, problems: list[tuple[str, str]]) -> Iterator[_Row] | None:
    rows, _ = read_csv_rows(decode_csv(path, display), display, HEADERS.values())
    start = next((i for i, (_, cells) in enumerate(rows) if not _is_blank_row(cells)), None)
    if start is None:
        problems.append(("1", "the file is empty; it needs a header row: date, vendor, kpi, value"))
        return None
    header_line, header = rows[start]
    columns = _find_header(header, HEADERS)
    missing = [f for f in HEADERS if f not in columns]
    if missing:
        problems.append((str(header_line), _missing_columns(missing)))
        return None

    def generate() -> Iterator[_Row]:
        for line, cells in rows[start + 1:]:
            if _is_blank_row(cells):
                continue
            values = {f: (cells[i] if i < len(cells) else None) for f, i in columns.items()}
            places = {f: str(line) for f in columns}
            places["row"] = f"{display}:{line}"
            yield _Row(values, places, frozenset())

    return generate()


def _missing_columns(missing: list[str]) -> str:
    named = "; ".join(f"{f} ({' / '.join(a for a in HEADERS[f] if not a.isascii())})" for f in missing)
    return (f"the header row must name the columns date, vendor, kpi and value (日期, 供应商, 指标, 数值); "
            f"missing: {named}")


def _rows_from_xlsx(path: Path, display: str, problems: list[tuple[str, str]]) -> tuple[list[_Row], bool]:
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    from rfpflow.spreadsheets.workbooks import open_workbook

    wb = open_workbook(path, display)
    result: list[_Row] = []
    try:
        date1904 = getattr(wb, "epoch", None) == CALENDAR_MAC_1904
        if not wb.worksheets:
            problems.append(("", "the workbook has no sheet"))
            return [], date1904
        ws = wb.worksheets[0]
        sheet = ws.title
        columns: dict[str, int] | None = None
        header_row = 1
        for row_number, row in enumerate(ws.iter_rows(max_col=MAX_COLUMNS), start=1):
            values = [c.value for c in row]
            if columns is None:
                if _is_blank_row(values):
                    if row_number >= HEADER_SEARCH_ROWS:
                        break
                    continue
                found = _find_header(values, HEADERS)
                if len(found) == len(HEADERS):
                    columns = found
                    header_row = row_number
                elif row_number >= HEADER_SEARCH_ROWS or len(found) >= 2:
                    header_row = row_number
                    missing = [f for f in HEADERS if f not in found]
                    problems.append((f"{sheet}!{header_row}", _missing_columns(missing)))
                    return [], date1904
                continue
            cells = {f: (row[i] if i < len(row) else None) for f, i in columns.items()}
            raw = {f: (c.value if c is not None else None) for f, c in cells.items()}
            if _is_blank_row(raw.values()):
                continue
            places = {f: f"{sheet}!{get_column_letter(i + 1)}{row_number}" for f, i in columns.items()}
            places["row"] = f"{display}:{places['vendor']}"  # the row, told by who it is for
            percent = frozenset(
                f for f, c in cells.items() if c is not None and "%" in str(getattr(c, "number_format", "") or "")
            )
            result.append(_Row(raw, places, percent))
        if columns is None:
            problems.append((f"{sheet}!{header_row}", _missing_columns(list(HEADERS))))
    finally:
        wb.close()
    return result, date1904


def read_trial_file(source: Path, rfp: Rfp, display: str | None = None) -> list[Measurement] | None:
    """Read one trial-data file (see the module documentation); None for other suffixes."""
    suffix = source.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        return None
    name = display or source.name
    if not source.is_file():
        raise InputFileError(f"{name}: file not found")
    problems: list[tuple[str, str]] = []
    date1904 = False
    rows: Iterable[_Row] | None
    if suffix == ".csv":
        rows = _rows_from_csv(source, name, problems)
    else:
        rows, date1904 = _rows_from_xlsx(source, name, problems)
    kpis, kpi_ids = _kpi_lookup(rfp)
    measurements: list[Measurement] = []
    every = list(rows or ())
    day_first = day_first_order(row.values.get("date") for row in every)  # 13.04 in the column: day first
    for row in every:
        m = _parse_row(row, rfp, kpis, kpi_ids, date1904, problems, day_first)
        if m is not None:
            measurements.append(m)
    if not problems and not measurements:
        problems.append(("", "no measurements: the file has a header row but no data rows"))
    if problems:
        shown = [Problem(message, file=name, place=place or None) for place, message in problems]
        if len(shown) > MAX_REPORTED_PROBLEMS:
            rest = len(shown) - MAX_REPORTED_PROBLEMS
            shown = [*shown[:MAX_REPORTED_PROBLEMS], Problem(f"... and {rest} more problems", file=name)]
        count = len(problems)
        raise InputFileError(
            f"{name}: {count} problem{'s' if count != 1 else ''} in the trial data; nothing was imported", shown)
    return measurements


@hookimpl(trylast=True)
def rfpflow_read_trial_data(source: Path, rfp: Rfp, context: RunContext) -> list[Measurement] | None:
    display = source.name
    if context.workspace is not None:
        try:
            display = source.resolve().relative_to(context.workspace.resolve()).as_posix()
        except ValueError:
            display = source.name
    return read_trial_file(source, rfp, display)


# ---------------------------------------------------------------------------
# Judging
# ---------------------------------------------------------------------------


def _dec(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def _fmt(value: Decimal | float) -> str:
    number = value if isinstance(value, Decimal) else _dec(value)
    rounded = round(number, 4)
    text = format(rounded, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _with_unit(value: Decimal | float, kpi: Kpi) -> str:
    unit = kpi.unit.strip()
    if not unit:
        return _fmt(value)
    return f"{_fmt(value)}{unit}" if unit == "%" else f"{_fmt(value)} {unit}"


def _attainment(value: Decimal, kpi: Kpi, met: bool) -> float:
    target = _dec(kpi.target)
    if kpi.direction == "lower":
        if target <= 0 or value <= 0:
            return 1.0 if met else 0.0
        ratio = target / value
    else:
        if target <= 0:
            return 1.0 if met else 0.0
        ratio = value / target
    return float(min(Decimal(1), max(Decimal(0), ratio)))


def evaluate(vendor_id: str, measurements: Sequence[Measurement], rfp: Rfp) -> TrialResult:
    """Judge one vendor's measurements against the RFP's KPIs (see the module documentation)."""
    own = [m for m in measurements if m.vendor_id == vendor_id]
    start, end = rfp.timeline.trial_start, rfp.timeline.trial_end
    notes: list[str] = []
    in_period = [m for m in own if (start is None or m.day >= start) and (end is None or m.day <= end)]
    outside = len(own) - len(in_period)
    if outside:
        notes.append(f"{outside} measurement{'s' if outside != 1 else ''} outside the trial period "
                     f"({start.isoformat() if start else '...'} to {end.isoformat() if end else '...'}) ignored")
    known = {k.id for k in rfp.trial.kpis}
    unknown = sorted({m.kpi_id for m in in_period if m.kpi_id not in known})
    if unknown:
        notes.append(f"measurements of KPIs the RFP does not define ignored: {', '.join(unknown)}")
    last_day = end or max((m.day for m in in_period), default=None)

    results: list[KpiAttainment] = []
    weighted: list[tuple[float, float]] = []
    failed_must: list[str] = []
    for kpi in rfp.trial.kpis:
        window_days = kpi.window_days
        first_day: dt.date | None = start or min((m.day for m in in_period), default=None)
        if window_days and last_day is not None:
            window_start = last_day - dt.timedelta(days=window_days - 1)
            if first_day is None or window_start > first_day:
                first_day = window_start
        values = [m for m in in_period if m.kpi_id == kpi.id
                  and (first_day is None or m.day >= first_day) and (last_day is None or m.day <= last_day)]
        span = (f"{first_day.isoformat()} to {last_day.isoformat()}" if first_day and last_day else "the trial")
        span_note = f"{span}, the last {window_days} days" if window_days else span
        comparator = ">=" if kpi.direction != "lower" else "<="
        goal = f"target {comparator} {_with_unit(kpi.target, kpi)}"
        if not values:
            results.append(KpiAttainment(kpi.id, None, kpi.target, False, 0.0))
            notes.append(f"{kpi.id}: no measurements in {span_note}: not met ({goal})")
            weighted.append((0.0, kpi.weight))
            if kpi.must_have:
                failed_must.append(kpi.id)
            continue
        with localcontext() as ctx:
            ctx.prec = 34
            if _is_count(kpi):
                value = sum((_dec(m.value) for m in values), Decimal(0))
                how = f"sum of {len(values)} value{'s' if len(values) != 1 else ''}"
            else:
                by_day: dict[dt.date, list[Decimal]] = {}
                for m in values:
                    by_day.setdefault(m.day, []).append(_dec(m.value))
                daily = [sum(v, Decimal(0)) / len(v) for _, v in sorted(by_day.items())]
                value = sum(daily, Decimal(0)) / len(daily)
                how = f"mean of {len(daily)} daily value{'s' if len(daily) != 1 else ''}"
        target = _dec(kpi.target)
        met = value <= target if kpi.direction == "lower" else value >= target
        attainment = _attainment(value, kpi, met)
        results.append(KpiAttainment(kpi.id, float(value), kpi.target, met, attainment))
        weighted.append((attainment, kpi.weight))
        verdict = "met" if met else "not met"
        notes.append(f"{kpi.id}: {_with_unit(value, kpi)} ({how}, {span_note}): {verdict} ({goal})")
        if kpi.must_have and not met:
            failed_must.append(kpi.id)

    total_weight = math.fsum(w for _, w in weighted)
    if not weighted:
        score = 0.0
        notes.append("the RFP defines no trial KPIs")
    elif total_weight > 0:
        score = math.fsum(a * 100 * w for a, w in weighted) / total_weight
    else:
        score = math.fsum(a * 100 for a, _ in weighted) / len(weighted)
    passed = not failed_must
    if failed_must:
        notes.append(f"failed: must-have KPI{'s' if len(failed_must) != 1 else ''} not met: {', '.join(failed_must)}")
    return TrialResult(vendor_id, passed, round(score, 4), tuple(results), tuple(notes))


@hookimpl(trylast=True)
def rfpflow_evaluate_trial(
    vendor_id: str, measurements: Sequence[Measurement], rfp: Rfp, context: RunContext
) -> TrialResult:
    return evaluate(vendor_id, measurements, rfp)
