"""Due diligence against a local registry extract, and the ``registration_code`` gate.

Due diligence (``rfpflow_due_diligence``)
    Compares what each vendor declared in its bid with a *registry extract*: a
    JSON or CSV file in the workspace holding, per company, what China's
    National Enterprise Credit Information Publicity System, Qichacha or
    Tianyancha show (status, business scope, registered capital, administrative
    penalties, dishonest-entity listing). docs/registry-extract.md documents the
    format. rfpflow never queries those services itself: someone exports or
    copies the records, and the extract is the evidence the findings cite.

    The extract is ``[plugins.registry] extract = "PATH"`` (relative to the
    workspace), else ``registry.json`` or ``registry.csv`` in the workspace.
    Without an extract there is no due diligence: the hook returns None.

    Findings, one :class:`~rfpflow.model.GateResult` each, reasons showing the
    declared and the registry value side by side:

    ``registry.identity``   not in the extract, or no registration number
                            declared -> review (and nothing else is checked);
                            name, registered capital or year established
                            differing from the registry -> review; else pass.
    ``registry.status``     active (存续, 在业, 开业, active, ...) -> pass;
                            注销, 吊销, 撤销, revoked, cancelled, dissolved, ...
                            -> fail; any other status (迁出, 停业, 清算, ...)
                            -> review.
    ``registry.scope``      only with ``scope_keywords``: any keyword found in
                            the business scope -> pass, none -> review.
    ``registry.penalties``  a major penalty within ``lookback_years`` (default
                            3) before the reference date -> fail; a penalty
                            not classified minor or major -> review; minor
                            penalties -> pass, listed in the reason (or review
                            with ``minor_penalties = "review"``); no penalty
                            information in the extract -> review.
    ``registry.dishonesty`` listed within ``lookback_years`` (or listed with
                            no date) -> fail; listed earlier -> review; not
                            listed -> pass; no information -> review.

    The reference date is the contract start, else the decision date, else
    today (:func:`rfpflow.builtins.screening.reference_date`). The default of
    3 years follows China's Government Procurement Law, art. 22: no *major*
    violation record in the three years before the procurement. That is why
    minor penalties pass by default.

The ``registration_code`` gate
    Checks a Chinese vendor's unified social credit code against GB 32100-2015
    (:func:`rfpflow.uscc.validate_uscc`): fail (or review with
    ``on_fail = "review"``) with the reason and the cell; review when no code is
    declared. A vendor is Chinese when its country is CN/China/中国/中华人民共和国
    (Hong Kong, Macao and Taiwan are not: they have no such code), or when its
    country is unknown and the code has 18 characters. Other vendors pass.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from rfpflow.builtins.screening import reference_date
from rfpflow.builtins.trial_run import decode_csv, read_csv_rows
from rfpflow.context import RunContext
from rfpflow.errors import InputFileError, Problem, ProblemCollector, RfpflowError
from rfpflow.hookspecs import hookimpl
from rfpflow.model import Bid, Gate, GateResult, Rfp
from rfpflow.options import suggest, unknown_options
from rfpflow.registry import ScreeningRule
from rfpflow.spreadsheets.cells import CellValue, CellValueError, parse_date, parse_number, parse_text, parse_yes_no
from rfpflow.uscc import check_character, normalize_uscc, validate_uscc

__all__ = [
    "ACTIVE_STATUSES",
    "CHINA",
    "COMPANY_COLUMNS",
    "DEFAULT_EXTRACTS",
    "DEFAULT_LOOKBACK_YEARS",
    "INACTIVE_STATUSES",
    "OPTIONS",
    "PENALTY_COLUMNS",
    "Dishonesty",
    "Penalty",
    "RegistryRecord",
    "check_registration_code",
    "due_diligence",
    "find_extract",
    "load_extract",
    "rfpflow_due_diligence",
    "rfpflow_register_screening_rules",
    "rfpflow_validate_rfp",
]

PLUGIN = "registry"
SOURCE = "due-diligence:registry"
DEFAULT_EXTRACTS = ("registry.json", "registry.csv")
DEFAULT_LOOKBACK_YEARS = 3

#: ``[plugins.registry]`` options and their types.
OPTIONS: Mapping[str, type] = {
    "extract": str,
    "penalties": str,
    "scope_keywords": list,
    "lookback_years": int,
    "minor_penalties": str,
}

#: Statuses meaning the company exists and may trade (substrings for Chinese,
#: whole words for English). Qichacha writes e.g. "存续（在营、开业、在册）".
ACTIVE_STATUSES = ("存续", "在业", "开业", "在营", "在册", "正常", "active", "existing", "in business",
                   "in operation", "registered", "subsisting")
#: Statuses meaning the company is gone or lost its licence. Checked first:
#: "吊销，未注销" (licence revoked, not yet deregistered) is revoked.
INACTIVE_STATUSES = ("注销", "吊销", "撤销", "歇业", "责令关闭", "revoked", "cancelled", "canceled", "dissolved",
                     "deregistered", "struck off", "closed", "inactive")

#: Countries meaning mainland China (compared after folding case, width and spaces).
CHINA = frozenset({"cn", "chn", "china", "prc", "p.r.china", "p.r. china", "peoplesrepublicofchina",
                   "thepeoplesrepublicofchina", "people's republic of china", "中国", "中华人民共和国",
                   "中国大陆", "中国内地"})

#: CSV columns of the company file: field -> accepted headers. ``*`` marks the required ones.
COMPANY_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "registration_no": ("registration_no", "registration no", "uscc", "统一社会信用代码", "信用代码"),
    "name": ("name", "company name", "企业名称", "名称", "公司名称"),
    "english_name": ("english_name", "english name", "英文名", "英文名称"),
    "legal_representative": ("legal_representative", "legal representative", "法定代表人", "法人"),
    "registered_capital": ("registered_capital", "registered capital", "注册资本"),
    "registered_capital_currency": ("registered_capital_currency", "capital currency", "注册资本币种", "币种"),
    "business_scope": ("business_scope", "business scope", "经营范围"),
    "status": ("status", "登记状态", "经营状态", "企业状态", "状态"),
    "established": ("established", "establishment date", "成立日期"),
    "dishonest_listed": ("dishonest_listed", "dishonest listed", "失信被执行人", "列入失信"),
    "dishonest_date": ("dishonest_date", "dishonest date", "列入失信日期", "失信日期"),
    "dishonest_reason": ("dishonest_reason", "dishonest reason", "失信原因", "列入原因"),
    "source": ("source", "来源", "数据来源"),
}
REQUIRED_COLUMNS = ("registration_no", "name", "status")
#: CSV columns of the penalties file (``<extract stem>.penalties.csv``).
PENALTY_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "registration_no": COMPANY_COLUMNS["registration_no"],
    "date": ("date", "处罚日期", "决定日期", "处罚决定日期"),
    "authority": ("authority", "处罚机关", "决定机关", "处罚决定机关"),
    "description": ("description", "处罚内容", "处罚事由", "违法行为", "内容"),
    "severity": ("severity", "严重程度", "情节"),
}
REQUIRED_PENALTY_COLUMNS = ("registration_no", "date", "severity")

_SEVERITY = {"minor": "minor", "major": "major", "轻微": "minor", "一般": "minor", "较轻": "minor",
             "重大": "major", "严重": "major", "较重": "major"}
_JSON_KEYS = ("registration_no", "name", "english_name", "legal_representative", "registered_capital",
              "registered_capital_currency", "business_scope", "status", "established", "penalties",
              "dishonest", "source")
_CURRENCIES = ("CNY", "USD", "HKD", "EUR", "GBP", "JPY", "TWD", "SGD", "AUD", "CAD", "KRW", "INR", "CHF")


# ---------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------


@attrs.frozen
class Penalty:
    """An administrative penalty (行政处罚). ``severity`` is minor, major or unclassified."""

    date: dt.date
    authority: str
    description: str
    severity: str
    place: str = ""


@attrs.frozen
class Dishonesty:
    """A dishonest-entity listing (失信被执行人 / 严重违法失信名单)."""

    listed: bool
    date: dt.date | None = None
    reason: str = ""


@attrs.frozen
class RegistryRecord:
    """One company as the registry extract shows it. ``None`` means "not in the extract"."""

    registration_no: str
    name: str
    status: str
    place: str  # e.g. "registry.json:14 (record 2)" or "registry.csv:3"
    line: str = ""  # the line number alone, for messages about the extract
    english_name: str | None = None
    legal_representative: str | None = None
    registered_capital: Decimal | None = None
    capital_currency: str | None = None
    business_scope: str | None = None
    established: dt.date | None = None
    penalties: tuple[Penalty, ...] | None = None  # None: the extract says nothing about penalties
    dishonesty: Dishonesty | None = None  # None: the extract says nothing about listings
    source: str = ""


# ---------------------------------------------------------------------------
# Reading the extract
# ---------------------------------------------------------------------------


def _raise_if_any(out: ProblemCollector) -> None:
    count = len(out)
    out.raise_if_any(f"{out.file}: {count} problem{'s' if count != 1 else ''} in the registry extract")


def _capital(value: CellValue, label: str, currency: str | None) -> tuple[Decimal, str]:
    """Registered capital and its currency: ``"1000万元人民币"`` -> (10000000, "CNY")."""
    if currency:
        return parse_number(value, label, currency=currency), currency.upper()
    first: CellValueError | None = None
    for code in _CURRENCIES:  # CNY first: a bare number or ¥ is yuan
        try:
            return parse_number(value, label, currency=code), code
        except CellValueError as exc:
            first = first or exc
    raise first if first else CellValueError(f"{label} is not a number")


def _optional_text(value: Any, label: str) -> str | None:
    try:
        return parse_text(value, label)
    except CellValueError:
        return None


def _build_record(raw: Mapping[str, Any], place: str, where: str, out: ProblemCollector) -> RegistryRecord | None:
    """A record from field values (JSON or CSV alike); problems go to ``out`` at ``where``."""
    ok = True

    def text(field: str, required: bool = False) -> str | None:
        nonlocal ok
        value = raw.get(field)
        if isinstance(value, (list, dict)):
            out.add(f"{field} must be text, got a {'list' if isinstance(value, list) else 'table'}", place=where)
            ok = False
            return None
        try:
            return parse_text(value, field)
        except CellValueError as exc:
            if required:
                out.add(f"{exc} (required)", place=where)
                ok = False
            return None

    code_text = text("registration_no", required=True)
    name = text("name", required=True)
    status = text("status", required=True)
    capital: Decimal | None = None
    currency = text("registered_capital_currency")
    capital_currency: str | None = None
    if raw.get("registered_capital") not in (None, ""):
        try:
            capital, capital_currency = _capital(raw["registered_capital"], "registered_capital", currency)
        except CellValueError as exc:
            out.add(str(exc), place=where)
            ok = False
    established: dt.date | None = None
    if raw.get("established") not in (None, ""):
        try:
            established = parse_date(raw["established"], "established")
        except CellValueError as exc:
            out.add(str(exc), place=where)
            ok = False
    if not ok or code_text is None or name is None or status is None:
        return None
    return RegistryRecord(
        registration_no=normalize_uscc(code_text), name=name, status=status, place=place, line=where,
        english_name=text("english_name"), legal_representative=text("legal_representative"),
        registered_capital=capital, capital_currency=capital_currency,
        business_scope=text("business_scope"), established=established, source=text("source") or "",
    )


def _penalty(raw: Mapping[str, Any], place: str, where: str, out: ProblemCollector) -> Penalty | None:
    ok = True
    date: dt.date | None = None
    try:
        date = parse_date(raw.get("date"), "penalty date")
    except CellValueError as exc:
        out.add(str(exc), place=where)
        ok = False
    severity = "unclassified"
    given = _optional_text(raw.get("severity"), "severity")
    if given is not None:
        key = given.strip().lower()
        if key not in _SEVERITY:
            out.add(f"penalty severity {given!r} is not minor or major (轻微/一般 or 重大/严重)"
                           f"{suggest(key, ['minor', 'major'])}", place=where)
            ok = False
        else:
            severity = _SEVERITY[key]
    if not ok or date is None:
        return None
    return Penalty(date, _optional_text(raw.get("authority"), "authority") or "",
                   _optional_text(raw.get("description"), "description") or "", severity, place)


def _dishonesty(raw: Mapping[str, Any], where: str, out: ProblemCollector) -> Dishonesty | None:
    try:
        listed = parse_yes_no(raw.get("listed"), "dishonest listed")
    except CellValueError as exc:
        out.add(str(exc), place=where)
        return None
    date: dt.date | None = None
    if raw.get("date") not in (None, ""):
        try:
            date = parse_date(raw.get("date"), "dishonest date")
        except CellValueError as exc:
            out.add(str(exc), place=where)
            return None
    return Dishonesty(listed, date, _optional_text(raw.get("reason"), "reason") or "")


def _record_lines(text: str) -> list[int]:
    """The line on which each element of a (valid) top-level JSON array starts."""
    decoder = json.JSONDecoder()
    lines: list[int] = []
    index = text.index("[") + 1
    space = re.compile(r"[\s,]*")
    while True:
        gap = space.match(text, index)
        index = gap.end() if gap else index
        if index >= len(text) or text[index] == "]":
            return lines
        lines.append(text.count("\n", 0, index) + 1)
        _, index = decoder.raw_decode(text, index)


def _load_json(path: Path, display: str) -> list[RegistryRecord]:
    out = ProblemCollector(display)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise InputFileError(f"{display}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise InputFileError(f"{display}: is not UTF-8 text; save the extract as UTF-8") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(f"{display}: not valid JSON", [
            Problem(f"{exc.msg} (column {exc.colno})", file=display, place=str(exc.lineno))]) from None
    if not isinstance(data, list):
        raise InputFileError(f"{display}: must be a JSON list of company records: [{{...}}, {{...}}]")
    lines = _record_lines(text)
    records: list[RegistryRecord] = []
    for number, (item, line) in enumerate(zip(data, lines, strict=True), start=1):
        where = str(line)
        place = f"{display}:{line} (record {number})"
        if not isinstance(item, dict):
            out.add(f"record {number} must be an object {{...}}, got {type(item).__name__}", place=where)
            continue
        for key in item:
            hint = suggest(key, _JSON_KEYS)
            if key not in _JSON_KEYS and hint:
                out.add(f"record {number}: unknown key {key!r}{hint}", place=where)
        before = len(out.problems)
        record = _build_record(item, place, where, out)
        penalties: list[Penalty] | None = None
        raw_penalties = item.get("penalties")
        if "penalties" in item and raw_penalties is not None:
            if not isinstance(raw_penalties, list):
                out.add(f"record {number}: penalties must be a list of objects (empty for none)", place=where)
            else:
                penalties = []
                for index, raw in enumerate(raw_penalties, start=1):
                    if not isinstance(raw, dict):
                        out.add(f"record {number}: penalties[{index}] must be an object", place=where)
                        continue
                    penalty = _penalty(raw, f"{place}, penalties[{index}]", where, out)
                    if penalty is not None:
                        penalties.append(penalty)
        dishonesty: Dishonesty | None = None
        raw_dishonest = item.get("dishonest")
        if raw_dishonest is not None:
            if isinstance(raw_dishonest, bool):
                dishonesty = Dishonesty(raw_dishonest)
            elif not isinstance(raw_dishonest, dict):
                out.add(f"record {number}: dishonest must be an object {{\"listed\": ...}}", place=where)
            else:
                dishonesty = _dishonesty(raw_dishonest, where, out)
        if len(out.problems) > before:
            fixed = [attrs.evolve(p, message=f"record {number}: {p.message}")
                     if not p.message.startswith("record ") else p for p in out.problems[before:]]
            out.problems[before:] = fixed
            continue
        if record is not None:
            records.append(attrs.evolve(record, penalties=None if penalties is None else tuple(penalties),
                                        dishonesty=dishonesty))
    _check_duplicates(records, out)
    _raise_if_any(out)
    return records


def _csv_table(path: Path, display: str, columns: Mapping[str, tuple[str, ...]], required: Sequence[str],
               out: ProblemCollector) -> list[tuple[int, dict[str, str | None]]]:
    rows, _ = read_csv_rows(decode_csv(path, display), display, columns.values())
    rows = [(line, cells) for line, cells in rows if any(c.strip() for c in cells)]
    if not rows:
        out.add(f"the file is empty; it needs a header row naming {', '.join(required)}", place="1")
        return []
    header_line, header = rows[0]
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = " ".join(unicodedata.normalize("NFKC", cell).replace("\ufeff", "").split()).lower()
        for field, aliases in columns.items():
            if key in aliases and field not in found:
                found[field] = index
    missing = [f for f in required if f not in found]
    if missing:
        out.add(f"missing column{'s' if len(missing) != 1 else ''}: "
                                  f"{', '.join(_column_label(columns, m) for m in missing)}", place=str(header_line))
        return []
    return [(line, {f: (cells[i] if i < len(cells) else None) for f, i in found.items()}) for line, cells in rows[1:]]


def _column_label(columns: Mapping[str, tuple[str, ...]], field: str) -> str:
    chinese = next((a for a in columns[field] if not a.isascii()), None)
    return f"{field} ({chinese})" if chinese else field


def _load_csv(path: Path, display: str, penalties_path: Path | None, penalties_display: str) -> list[RegistryRecord]:
    out = ProblemCollector(display)
    records: list[RegistryRecord] = []
    for line, raw in _csv_table(path, display, COMPANY_COLUMNS, REQUIRED_COLUMNS, out):
        place = f"{display}:{line}"
        record = _build_record(raw, place, str(line), out)
        dishonesty: Dishonesty | None = None
        if (raw.get("dishonest_listed") or "").strip():
            dishonesty = _dishonesty({"listed": raw.get("dishonest_listed"), "date": raw.get("dishonest_date"),
                                      "reason": raw.get("dishonest_reason")}, str(line), out)
        if record is not None:
            records.append(attrs.evolve(record, dishonesty=dishonesty))
    _check_duplicates(records, out)
    _raise_if_any(out)
    if penalties_path is None:
        return records
    pout = ProblemCollector(penalties_display)
    by_code: dict[str, list[Penalty]] = {r.registration_no: [] for r in records}
    for line, raw in _csv_table(penalties_path, penalties_display, PENALTY_COLUMNS, REQUIRED_PENALTY_COLUMNS, pout):
        code = normalize_uscc(raw.get("registration_no") or "")
        if not code:
            pout.add("registration_no is blank", place=str(line))
            continue
        if code not in by_code:
            pout.add(f"registration number {code} is not in {display}{suggest(code, by_code)}", place=str(line))
            continue
        penalty = _penalty(raw, f"{penalties_display}:{line}", str(line), pout)
        if penalty is not None:
            by_code[code].append(penalty)
    _raise_if_any(pout)
    return [attrs.evolve(r, penalties=tuple(by_code[r.registration_no])) for r in records]


def _check_duplicates(records: Sequence[RegistryRecord], out: ProblemCollector) -> None:
    seen: dict[str, RegistryRecord] = {}
    for record in records:
        if record.registration_no in seen:
            first = seen[record.registration_no]
            out.add(f"registration number {record.registration_no} appears twice (also at {first.place})",
                    place=record.line)
        else:
            seen[record.registration_no] = record


def load_extract(path: Path, display: str | None = None, *, penalties: Path | None = None) -> list[RegistryRecord]:
    """Read a registry extract (``.json`` or ``.csv``), refusing it whole on any problem.

    For a CSV extract, penalties come from ``penalties`` or, when that is
    None, from ``<stem>.penalties.csv`` beside it if present; without that file
    the records carry no penalty information (``penalties=None``).
    """
    name = display or path.name
    if not path.is_file():
        raise InputFileError(f"{name}: registry extract not found")
    suffix = path.suffix.lower()
    if suffix == ".json":
        return _load_json(path, name)
    if suffix == ".csv":
        companion = penalties or path.with_name(f"{path.stem}.penalties.csv")
        if penalties is not None and not penalties.is_file():
            raise InputFileError(f"{penalties.name}: penalties file not found")
        pdisplay = str(Path(name).with_name(companion.name).as_posix())
        return _load_csv(path, name, companion if companion.is_file() else None, pdisplay)
    raise InputFileError(f"{name}: a registry extract must be a .json or .csv file")


# ---------------------------------------------------------------------------
# Options and the extract's location
# ---------------------------------------------------------------------------


def _options(rfp: Rfp, context: RunContext) -> Mapping[str, Any]:
    return context.plugin_options(PLUGIN) if context.rfp is not None else rfp.options_for(PLUGIN)


def _option_problems(options: Mapping[str, Any]) -> list[Problem]:
    problems = unknown_options(PLUGIN, "the registry plugin", options, OPTIONS)
    wanted = {int: "a whole number", str: "text", list: "a list of texts"}
    for key, value in options.items():
        field = f"plugins.{PLUGIN}.{key}"
        expected = OPTIONS.get(key)
        if expected is None:
            continue
        given: Any = value
        if isinstance(value, bool) or not isinstance(value, expected):
            problems.append(Problem(f"must be {wanted[expected]}, got {value!r}", field=field))
        elif key == "scope_keywords" and not all(isinstance(k, str) and k.strip() for k in given):
            problems.append(Problem("must be a list of non-empty texts", field=field))
        elif key == "lookback_years" and given < 0:
            problems.append(Problem(f"must be 0 or more, got {given}", field=field))
        elif key == "minor_penalties" and given not in ("pass", "review"):
            problems.append(Problem(f"must be \"pass\" or \"review\", got {given!r}", field=field))
    return problems


def find_extract(rfp: Rfp, context: RunContext) -> tuple[Path, str, Path | None] | None:
    """The extract to use: (path, display name, penalties file or None); None without one."""
    options = _options(rfp, context)
    problems = _option_problems(options)
    if problems:
        raise RfpflowError("rfp.toml: invalid [plugins.registry] options", problems)
    base = context.workspace
    configured = options.get("extract")
    penalties = options.get("penalties")
    penalties_path = None
    if penalties:
        penalties_path = Path(penalties) if base is None else base / penalties
    if configured:
        path = Path(configured) if base is None else base / configured
        if not path.is_file():
            raise InputFileError(f"{configured}: the registry extract named in rfp.toml "
                                 f"([plugins.{PLUGIN}] extract) does not exist")
        return path, Path(configured).as_posix(), penalties_path
    if base is None:
        return None
    present = [name for name in DEFAULT_EXTRACTS if (base / name).is_file()]
    if len(present) > 1:
        raise InputFileError(f"the workspace has both {' and '.join(present)}; say which registry extract to use "
                             f"with [plugins.{PLUGIN}] extract = \"...\" in rfp.toml")
    if not present:
        return None
    return base / present[0], present[0], penalties_path


# ---------------------------------------------------------------------------
# Comparing
# ---------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Text for comparison: width and case folded, spaces and punctuation dropped."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if ch.isalnum())


def _status_class(status: str) -> str:
    text = unicodedata.normalize("NFKC", status).casefold()

    def has(term: str) -> bool:
        if term.isascii():
            return re.search(rf"(?<![a-z]){re.escape(term)}(?![a-z])", text) is not None
        return term in text

    if any(has(t) for t in INACTIVE_STATUSES):
        return "inactive"
    if any(has(t) for t in ACTIVE_STATUSES):
        return "active"
    return "unknown"


def _money(value: Decimal, currency: str | None) -> str:
    text = f"{int(value):,}" if value == value.to_integral_value() else f"{value:,}"
    return f"{text} {currency}" if currency else text


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _bid_evidence(bid: Bid, *fields: str) -> list[str]:
    return [f"{bid.source_file}: {bid.cells[f]}" for f in fields if f in bid.cells]


def _registry_evidence(record: RegistryRecord) -> str:
    return f"{record.place} ({record.source})" if record.source else record.place


def due_diligence(bid: Bid, records: Sequence[RegistryRecord], extract: str, rfp: Rfp,
                  context: RunContext) -> list[GateResult]:
    """The registry findings for one bid (see the module documentation)."""
    options = _options(rfp, context)

    def result(gate: str, outcome: str, reason: str, evidence: Sequence[str]) -> GateResult:
        return GateResult(bid.vendor_id, gate, outcome, reason, tuple(evidence), source=SOURCE)

    declared_code = bid.fields.get("registration_no")
    code = normalize_uscc(str(declared_code)) if declared_code else ""
    if not code:
        return [result("registry.identity", "review",
                       f"no registration number declared: cannot look the vendor up in {extract}", [extract])]
    record = next((r for r in records if r.registration_no == code), None)
    if record is None:
        return [result("registry.identity", "review",
                       f"registration number {code} not found in the registry extract {extract}",
                       [*_bid_evidence(bid, "registration_no"), extract])]
    where = _registry_evidence(record)
    findings = [_identity(bid, record, where, rfp.currency, result)]

    status_class = _status_class(record.status)
    status_evidence = [*_bid_evidence(bid, "registration_no"), where]
    if status_class == "active":
        findings.append(result("registry.status", "pass", f"status: registry {record.status!r} (active)",
                               status_evidence))
    elif status_class == "inactive":
        findings.append(result("registry.status", "fail",
                               f"status: registry {record.status!r}: the company is no longer active "
                               "(deregistered, revoked or dissolved) and cannot sign the contract", status_evidence))
    else:
        findings.append(result("registry.status", "review",
                               f"status: registry {record.status!r} is not a recognised active status; "
                               "check it with the registry", status_evidence))

    keywords = [str(k) for k in options.get("scope_keywords", [])]
    if keywords:
        if record.business_scope is None:
            findings.append(result("registry.scope", "review",
                                   "business scope: not in the registry extract; "
                                   f"expected one of {', '.join(keywords)}", [where]))
        else:
            scope = unicodedata.normalize("NFKC", record.business_scope).casefold()
            hits = [k for k in keywords if unicodedata.normalize("NFKC", k).casefold().strip() in scope]
            shown = record.business_scope if len(record.business_scope) <= 120 else record.business_scope[:117] + "..."
            if hits:
                findings.append(result("registry.scope", "pass",
                                       f"business scope covers the service: registry scope contains "
                                       f"{', '.join(repr(h) for h in hits)}", [where]))
            else:
                findings.append(result("registry.scope", "review",
                                       f"business scope: registry {shown!r} contains none of "
                                       f"{', '.join(repr(k) for k in keywords)}", [where]))

    years = int(options.get("lookback_years", DEFAULT_LOOKBACK_YEARS))
    when = reference_date(rfp, context)
    since = _years_before(when, years)
    window = f"the {years} years before {when.isoformat()} (since {since.isoformat()})"
    findings.append(_penalties(record, where, since, window, str(options.get("minor_penalties", "pass")), result))
    findings.append(_dishonesty_finding(record, where, since, window, result))
    return findings


_Result = Callable[[str, str, str, Sequence[str]], GateResult]


def _identity(bid: Bid, record: RegistryRecord, where: str, currency: str, result: _Result) -> GateResult:
    differences: list[str] = []
    matches: list[str] = []
    unchecked: list[str] = []
    fields: list[str] = ["registration_no"]

    declared_name = str(bid.fields.get("vendor_name") or bid.vendor_name or "")
    names = [record.name] + ([record.english_name] if record.english_name else [])
    if not declared_name:
        unchecked.append("name (not declared)")
    elif any(_fold(declared_name) == _fold(n) for n in names):
        matches.append(f"name {declared_name!r}")
    else:
        shown = record.name + (f" / {record.english_name}" if record.english_name else "")
        differences.append(f"name: declared {declared_name!r}, registry {shown!r}")
        fields.append("vendor_name")

    capital = bid.fields.get("registered_capital")
    if not isinstance(capital, (int, Decimal)) or isinstance(capital, bool):
        unchecked.append("registered capital (not declared)")
    elif record.registered_capital is None:
        unchecked.append("registered capital (not in the registry extract)")
    else:
        declared = Decimal(capital)
        registry_currency = record.capital_currency or currency
        pair = (f"declared {_money(declared, currency)}, "
                f"registry {_money(record.registered_capital, registry_currency)}")
        if registry_currency != currency:
            differences.append(f"registered capital: {pair} (different currencies: compare by hand)")
            fields.append("registered_capital")
        elif declared == record.registered_capital:
            matches.append(f"registered capital {_money(declared, currency)}")
        else:
            differences.append(f"registered capital: {pair}")
            fields.append("registered_capital")

    year = bid.fields.get("year_established")
    if not isinstance(year, int) or isinstance(year, bool):
        unchecked.append("year established (not declared)")
    elif record.established is None:
        unchecked.append("year established (not in the registry extract)")
    elif year == record.established.year:
        matches.append(f"established {year}")
    else:
        differences.append(f"year established: declared {year}, registry {record.established.year} "
                           f"({record.established.isoformat()})")
        fields.append("year_established")

    evidence = [*_bid_evidence(bid, *fields), where]
    tail = f"; not compared: {', '.join(unchecked)}" if unchecked else ""
    if differences:
        agree = f"; matching: {', '.join(matches)}" if matches else ""
        return result("registry.identity", "review", "; ".join(differences) + agree + tail, evidence)
    agreed = ", ".join(matches) if matches else "nothing to compare"
    return result("registry.identity", "pass",
                  f"registration number {record.registration_no} found; matches the registry: {agreed}{tail}", evidence)


def _describe_penalty(p: Penalty) -> str:
    by = f" by {p.authority}" if p.authority else ""
    what = f": {p.description}" if p.description else ""
    return f"{p.severity} penalty of {p.date.isoformat()}{by}{what}"


def _penalties(record: RegistryRecord, where: str, since: dt.date, window: str, minor_policy: str,
               result: _Result) -> GateResult:
    gate = "registry.penalties"
    if record.penalties is None:
        return result(gate, "review", "administrative penalties: the registry extract has no penalty "
                                      "information for this company; check them with the registry", [where])
    recent = [p for p in record.penalties if p.date >= since]
    older = len(record.penalties) - len(recent)
    before = f"; {older} older penalt{'ies' if older != 1 else 'y'} not counted" if older else ""
    major = [p for p in recent if p.severity == "major"]
    unclassified = [p for p in recent if p.severity == "unclassified"]
    minor = [p for p in recent if p.severity == "minor"]
    evidence = [where, *(p.place for p in major + unclassified + minor)]
    if major:
        return result(gate, "fail", f"major administrative penalty within {window}: "
                      + "; ".join(_describe_penalty(p) for p in major) + before, evidence)
    if unclassified:
        return result(gate, "review", f"administrative penalty within {window} not classified minor or major "
                      "in the extract: " + "; ".join(_describe_penalty(p) for p in unclassified) + before, evidence)
    if minor:
        listed = "; ".join(_describe_penalty(p) for p in minor)
        if minor_policy == "review":
            return result(gate, "review", f"minor administrative penalties within {window}: {listed}{before}",
                          evidence)
        return result(gate, "pass", f"no major penalty within {window}; note the minor penalties: {listed}{before}",
                      evidence)
    return result(gate, "pass", f"no administrative penalty within {window}{before}", evidence)


def _dishonesty_finding(record: RegistryRecord, where: str, since: dt.date, window: str,
                        result: _Result) -> GateResult:
    gate = "registry.dishonesty"
    listing = record.dishonesty
    if listing is None:
        return result(gate, "review", "dishonest-entity listing: the registry extract says nothing about it; "
                                      "check it with the registry (信用中国 / 失信被执行人)", [where])
    if not listing.listed:
        return result(gate, "pass", "not listed as a dishonest entity", [where])
    why = f" ({listing.reason})" if listing.reason else ""
    if listing.date is None:
        return result(gate, "fail", f"listed as a dishonest entity{why}; the listing has no date, so it counts "
                                    f"as within {window}", [where])
    if listing.date >= since:
        return result(gate, "fail", f"listed as a dishonest entity on {listing.date.isoformat()}{why}, "
                                    f"within {window}", [where])
    return result(gate, "review", f"listed as a dishonest entity on {listing.date.isoformat()}{why}, before "
                                  f"{window}; check whether the listing is still in force", [where])


@hookimpl(trylast=True)
def rfpflow_due_diligence(bid: Bid, rfp: Rfp, context: RunContext) -> list[GateResult] | None:
    found = find_extract(rfp, context)
    if found is None:
        return None
    path, display, penalties = found
    records = load_extract(path, display, penalties=penalties)
    return due_diligence(bid, records, display, rfp, context)


@hookimpl(trylast=True)
def rfpflow_validate_rfp(rfp: Rfp, context: RunContext) -> list[Problem]:
    return _option_problems(rfp.options_for(PLUGIN))


# ---------------------------------------------------------------------------
# The registration_code gate
# ---------------------------------------------------------------------------


def _is_china(country: object) -> bool | None:
    """True for mainland China, False for anywhere else, None when unknown."""
    if country is None or not str(country).strip():
        return None
    text = unicodedata.normalize("NFKC", str(country)).casefold().strip()
    squeezed = re.sub(r"[\s.'’]", "", text)
    return text in CHINA or squeezed in CHINA


def check_registration_code(bid: Bid, gate: Gate, bids: tuple[Bid, ...], rfp: Rfp, context: RunContext) -> GateResult:
    def result(ok: bool | None, reason: str, evidence: Sequence[str] = ()) -> GateResult:
        outcome = "review" if ok is None else "pass" if ok else ("review" if gate.on_fail == "review" else "fail")
        return GateResult(bid.vendor_id, gate.id, outcome, reason, tuple(evidence), source=f"gate:{gate.kind}")

    evidence = _bid_evidence(bid, "registration_no")
    raw = bid.fields.get("registration_no")
    code = normalize_uscc(str(raw)) if raw is not None else ""
    china = _is_china(bid.fields.get("country"))
    if not code:
        return result(None, "registration number (统一社会信用代码) not declared", evidence)
    if china is False:
        return result(True, f"vendor registered in {bid.fields.get('country')}: GB 32100 codes apply only to "
                            "mainland China", evidence)
    if china is None and len(code) != 18:
        return result(None, f"registration number {code!r} is not an 18-character unified social credit code "
                            "and the vendor's country is not declared", evidence)
    problem = validate_uscc(code)
    if problem is not None and len(code) == 18 and validate_uscc(code[:17] + check_character(code[:17])) is None:
        # Only the check character is wrong: most often a typo, which a reviewer settles with the vendor.
        return result(None, f"统一社会信用代码 {code!r} {problem} (GB 32100-2015); expected check character "
                            f"{check_character(code[:17])}: confirm the number with the vendor", evidence)
    if problem is not None:
        return result(False, f"统一社会信用代码 {code!r} {problem} (GB 32100-2015)", evidence)
    return result(True, f"统一社会信用代码 {code} is valid (GB 32100-2015 check character)", evidence)


@hookimpl(trylast=True)
def rfpflow_register_screening_rules(register: Callable[[ScreeningRule], None]) -> None:
    register(ScreeningRule("registration_code",
                           "A Chinese vendor's unified social credit code passes the GB 32100-2015 check",
                           check_registration_code))
