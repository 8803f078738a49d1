"""rfp.toml -> :class:`rfpflow.model.Rfp`, reporting every problem at once.

Each problem names the file, the line (where it can be known) and the field
path, e.g. ``rfp.toml:42: criteria.technical.weight: must be > 0, got -5``.
Structural checks live here; rules that depend on plugins (gate kinds and
their options, scoring method names, KPI presets) are checked by the builtin
validation plugin through ``rfpflow_validate_rfp``, the same hook any
organisation plugin uses to add its own rules (see docs/rfp-format.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from rfpflow import model
from rfpflow.errors import DefinitionError, Problem, ProblemCollector
from rfpflow.options import suggest
from rfpflow.toml_lines import LineIndex

if TYPE_CHECKING:
    from rfpflow.context import RunContext

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
#: Three letters people write for a currency that are not its ISO 4217 code.
CURRENCY_ALIASES = {"RMB": "CNY", "YUA": "CNY", "NTD": "TWD", "UKP": "GBP", "STG": "GBP", "YEN": "JPY",
                    "RUR": "RUB", "EUD": "EUR", "SFR": "CHF", "HKD$": "HKD"}
WEIGHT_TOLERANCE = 1e-6

TOP_KEYS = {
    "format", "id", "title", "buyer", "category", "currency", "language", "profile", "timezone",
    "contract_value", "budget_ceiling", "two_envelope", "decimal_comma", "timeline",
    "criteria", "gates", "pricing", "questionnaire", "trial", "evaluators", "scoring",
    "shortlist", "award", "plugins", "import", "vendors", "bids",
}
TIMELINE_KEYS = (
    "issue_date", "clarification_deadline", "bid_deadline", "trial_start", "trial_end",
    "decision_date", "contract_start",
)
CRITERION_KEYS = {"name", "weight", "direction", "scale", "source", "field", "rule", "params", "guidance"}
GATE_KEYS = {"kind", "name", "on_fail"}
ITEM_KEYS = {"id", "description", "unit", "quantity"}
QUESTION_KEYS = {"id", "text", "mandatory", "choices", "required_answer"}
TRIAL_KEYS = {"enabled", "preset", "window_days", "kpis"}
KPI_KEYS = {"name", "unit", "target", "direction", "must_have", "weight", "window_days"}
EVALUATOR_KEYS = {"id", "name", "role"}
SCORING_KEYS = {
    "method", "normalization", "consensus", "outlier_threshold", "price_formula", "blind",
    "tie_break", "award", "options", "ahp",
}
TIE_BREAK_KEYS = ("total_score", "price", "technical_score", "submitted_at", "vendor", "trial_score")
SHORTLIST_KEYS = {"top", "min_score"}
AWARD_KEYS = {"standstill_days"}
PRICING_KEYS = {"items", "items_file"}


def _describe(value: object) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, str):
        return f"{value!r} (text)"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dt.datetime):
        return f"{value.isoformat()} (a date-time)"
    if isinstance(value, dt.date):
        return f"{value.isoformat()} (a date)"
    return repr(value)


class _DefinitionReader:
    """Reads the parsed TOML into the model, collecting a problem (line and field) for everything wrong."""

    def __init__(self, filename: str, index: LineIndex) -> None:
        self.index = index
        self.found = ProblemCollector(filename)

    @property
    def problems(self) -> list[Problem]:
        return self.found.problems

    def problem(self, path: str, message: str, severity: str = "error") -> None:
        line = self.index.line_of(path) if path else None
        self.found.add(message, place=str(line) if line else None, field=path or None, severity=severity)

    def unknown_keys(self, table: Mapping[str, Any], allowed: Iterable[str], path: str) -> None:
        allowed = set(allowed)
        for key in table:
            if key not in allowed:
                where = f"{path}.{key}" if path else key
                self.problem(where, f"unknown key {key!r}{suggest(key, allowed)}")

    def table(self, data: Mapping[str, Any], key: str, path: str) -> dict[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            self.problem(path, f"must be a table, got {_describe(value)}")
            return {}
        return value

    def text(self, data: Mapping[str, Any], key: str, path: str, *, required: bool = False,
             default: str = "", choices: Iterable[str] | None = None,
             pattern: re.Pattern[str] | None = None, hint: str = "") -> str:
        if key not in data:
            if required:
                self.problem(path, "is required")
            return default
        value = data[key]
        if not isinstance(value, str):
            self.problem(path, f"must be text, got {_describe(value)}")
            return default
        if required and not value.strip():
            self.problem(path, "must not be empty")
            return default
        if choices is not None:
            options = list(choices)
            if value not in options:
                self.problem(path, f"must be one of {', '.join(options)}; got {value!r}{suggest(value, options)}")
                return default
        if pattern is not None and not pattern.match(value):
            self.problem(path, f"{value!r} is not valid{hint}")
            return default
        return value

    def number(self, data: Mapping[str, Any], key: str, path: str, *, required: bool = False,
               default: float | None = None, minimum: float | None = None,
               exclusive: bool = False) -> float | None:
        if key not in data:
            if required:
                self.problem(path, "is required")
            return default
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.problem(path, f"must be a number, got {_describe(value)}")
            return default
        try:
            finite = math.isfinite(value)
        except OverflowError:
            self.problem(path, "is too large a number")
            return default
        if not finite:
            self.problem(path, f"must be a finite number, got {value}")
            return default
        if minimum is not None and (value <= minimum if exclusive else value < minimum):
            self.problem(path, f"must be {'>' if exclusive else '>='} {minimum:g}, got {value:g}")
            return default
        return float(value)

    def decimal(self, data: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> Decimal | None:
        value = self.number(data, key, path, required=required, minimum=0, exclusive=True)
        if value is None:
            return None
        return Decimal(str(data[key]))

    def integer(self, data: Mapping[str, Any], key: str, path: str, *, required: bool = False,
                default: int | None = None, minimum: int | None = None) -> int | None:
        if key not in data:
            if required:
                self.problem(path, "is required")
            return default
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(path, f"must be a whole number, got {_describe(value)}")
            return default
        if minimum is not None and value < minimum:
            self.problem(path, f"must be >= {minimum}, got {value}")
            return default
        return value

    def boolean(self, data: Mapping[str, Any], key: str, path: str, default: bool = False) -> bool:
        if key not in data:
            return default
        value = data[key]
        if not isinstance(value, bool):
            self.problem(path, f"must be true or false, got {_describe(value)}")
            return default
        return value

    def date(self, data: Mapping[str, Any], key: str, path: str, *, required: bool = False,
             allow_time: bool = False) -> dt.date | None:
        if key not in data:
            if required:
                self.problem(path, "is required")
            return None
        value = data[key]
        if isinstance(value, dt.datetime):
            if allow_time:
                return value
            self.problem(path, f"must be a date (YYYY-MM-DD), got {_describe(value)}")
            return None
        if isinstance(value, dt.date):
            return value
        if isinstance(value, dt.time):
            self.problem(path, "must be a date, got a time of day")
            return None
        hint = ""
        if isinstance(value, str):
            hint = f" (write it without quotes: {_unquoted_date(value)})"
        self.problem(path, f"must be a date, got {_describe(value)}{hint}")
        return None

    def string_list(self, data: Mapping[str, Any], key: str, path: str,
                    default: tuple[str, ...] = ()) -> tuple[str, ...]:
        if key not in data:
            return default
        value = data[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(path, f"must be a list of text, got {_describe(value)}")
            return default
        return tuple(value)


def _unquoted_date(text: str) -> str:
    """The user's own quoted date as a TOML date, when it is one; else an example in that form."""
    stripped = text.strip()
    for parse in (dt.datetime.fromisoformat, dt.date.fromisoformat):
        try:
            parse(stripped)
        except ValueError:
            continue
        return stripped.replace(" ", "T", 1) if "T" not in stripped and " " in stripped else stripped
    found = re.fullmatch(r"(\d{4})[./](\d{1,2})[./](\d{1,2})", stripped)
    if found:
        try:
            return dt.date(*(int(g) for g in found.groups())).isoformat()
        except ValueError:
            pass  # no such day (2027.02.30): the hint shows the form with an example instead
    return "2026-03-01"


def _finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _date_key(value: dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _impossible_date(line: str, table: str = "") -> str | None:
    """``timeline.x: 2027-02-30 is not a date: February 2027 has 28 days`` for a TOML line holding one."""
    import calendar

    found = re.search(r"^\s*([A-Za-z0-9_.-]+)\s*=\s*(\d{4})-(\d{2})-(\d{2})", line)
    if found is None:
        return None
    key = f"{table}.{found.group(1)}" if table else found.group(1)
    year, month, day = int(found.group(2)), int(found.group(3)), int(found.group(4))
    written = f"{found.group(2)}-{found.group(3)}-{found.group(4)}"
    if not 1 <= month <= 12:
        return f"{key}: {written} is not a date: there is no month {month}"
    days = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days:
        return (f"{key}: {written} is not a date: {calendar.month_name[month]} {year} has {days} days")
    return None


@attrs.frozen
class LoadedToml:
    data: dict[str, Any]
    index: LineIndex


def read_toml(path: Path, display_name: str | None = None, *, raw: bytes | None = None) -> LoadedToml:
    """Read and parse a TOML file (or ``raw`` bytes); refuse it, with the line, when it is not TOML."""
    name = display_name or path.name
    if raw is None:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise DefinitionError(f"{name}: file not found; create one with `rfpflow new DIR`") from None
        except OSError as exc:
            raise DefinitionError(f"{name}: cannot be read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DefinitionError(
            f"{name}:{line}: is not UTF-8 text; save the file as UTF-8 (most editors offer it under 'Save as')"
        ) from None
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise DefinitionError(f"{name}: not valid TOML: tables or lists are nested too deeply") from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = re.search(r"\(at line (\d+), column (\d+)\)", message)
        if found is None and "end of document" in message:
            last = max(1, text.rstrip("\n").count("\n") + 1)
            raise DefinitionError(f"{name}:{last}: not valid TOML: the file ends in the middle of a value "
                                  "(an unclosed list, table or string?)") from None
        where = f"{name}:{found.group(1)}" if found else name
        if found:
            lines = text.split("\n")
            number = int(found.group(1))
            tables = [m.group(1).strip() for line in lines[:number - 1]
                      if (m := re.match(r"^\s*\[+([^\]]+)\]+\s*(#.*)?$", line))]
            bad = _impossible_date(lines[number - 1], tables[-1] if tables else "")
            if bad:
                raise DefinitionError(f"{where}: {bad}") from None
        detail = re.sub(r"\s*\(at line \d+, column \d+\)", "", message) or "syntax error"
        if found:
            detail += f" (column {found.group(2)})"
        raise DefinitionError(f"{where}: not valid TOML: {detail}") from None
    except ValueError as exc:  # Python refuses integers of more than 4300 digits
        for line_number, line_text in enumerate(text.split("\n"), start=1):
            if (huge := re.search(r"\d{4301,}", line_text)) is not None:
                key = line_text.split("=", 1)[0].strip() if "=" in line_text else ""
                field = f"{key}: " if key else ""
                raise DefinitionError(f"{name}:{line_number}: {field}is too large a number "
                                      f"({len(huge.group(0))} digits)") from None
        raise DefinitionError(f"{name}: not valid TOML: {exc}") from None
    return LoadedToml(data, LineIndex(text))


def load_rfp(path: Path | str, *, context: RunContext | None = None, text: str | None = None) -> model.Rfp:
    """Load and validate an rfp.toml file.

    With a ``context`` the plugins' ``rfpflow_validate_rfp`` checks run too.
    ``text`` gives the file's content (e.g. the definition frozen in the store)
    instead of reading ``path``; ``path`` still names the file and its folder.
    Raises :class:`DefinitionError` carrying every problem found; warnings
    alone do not raise (they are returned by :func:`check_rfp`).
    """
    rfp, problems = check_rfp(path, context=context, text=text)
    errors = [p for p in problems if p.severity == "error"]
    if errors or rfp is None:
        raise DefinitionError(
            f"{Path(path).name}: {len(errors)} problem{'s' if len(errors) != 1 else ''} in the RFP definition",
            errors,
        )
    return rfp


def check_rfp(path: Path | str, *, context: RunContext | None = None,
              text: str | None = None) -> tuple[model.Rfp | None, list[Problem]]:
    """Load rfp.toml and return the RFP (None if invalid) with every problem and warning.

    The plugins' checks run even when structural problems were found (on the
    parts that could be read), so one run reports everything it can.
    """
    path = Path(path)
    loaded = read_toml(path, raw=text.encode("utf-8") if text is not None else None)
    reader = _DefinitionReader(path.name, loaded.index)
    rfp = _build_rfp(loaded.data, reader, path.parent, default_zone=_profile_zone(loaded.data, context))
    structural_errors = bool(reader.problems)
    if context is not None:
        rfp = attrs.evolve(_apply_preset(rfp, context), source=path.name)
        try:
            found = context.host.collect("rfpflow_validate_rfp", Problem, rfp=rfp, context=context.with_rfp(rfp))
        except Exception:
            if not structural_errors:
                raise
            found = []  # a plugin tripped over a half-read definition; the structural problems come first
        for problem in found:
            if problem.file is None:
                line = loaded.index.line_of(problem.field or "")
                problem = attrs.evolve(problem, file=path.name, place=problem.place or (str(line) if line else None))
            reader.problems.append(problem)
    errors = [p for p in reader.problems if p.severity == "error"]
    return (None if errors else rfp), reader.problems


def _apply_preset(rfp: model.Rfp, context: RunContext) -> model.Rfp:
    """Copy a KPI preset's KPIs into the definition (KPIs written in rfp.toml win).

    The KPIs are part of the frozen definition, so the hash covers the values
    actually used, not just a preset name whose plugin might change.
    """
    preset = context.host.kpi_presets().get(rfp.trial.preset) if rfp.trial.preset else None
    if preset is None:
        return rfp
    own = {k.id for k in rfp.trial.kpis}
    window = rfp.trial.window_days
    kpis = tuple(
        attrs.evolve(k, window_days=k.window_days or window) for k in preset.kpis if k.id not in own
    ) + rfp.trial.kpis
    rfp = attrs.evolve(rfp, trial=attrs.evolve(rfp.trial, kpis=kpis))
    return attrs.evolve(rfp, definition_hash=definition_hash(rfp))


# ---------------------------------------------------------------------------
# Building the records
# ---------------------------------------------------------------------------


def _profile_zone(data: Mapping[str, Any], context: RunContext | None) -> str | None:
    """The default time zone of the profile rfp.toml names (None without one, or without plugins)."""
    name = data.get("profile", "generic")
    if context is None or not isinstance(name, str):
        return None
    profile = context.host.profiles().get(name)
    return profile.timezone if profile is not None else None


def _timezone(c: _DefinitionReader, data: Mapping[str, Any], default: str | None) -> str | None:
    """The buyer's IANA time zone: rfp.toml's ``timezone``, else the profile's default."""
    if "timezone" not in data:
        return default
    name = c.text(data, "timezone", "timezone")
    if name is None:
        return None
    if zone_of(name) is None:
        import zoneinfo

        known = sorted(zoneinfo.available_timezones())
        c.problem("timezone", f"{name!r} is not an IANA time zone{suggest(name, known)}; "
                  "write the buyer's zone as Region/City, e.g. Asia/Shanghai, Europe/Berlin, UTC")
        return None
    return name


def zone_of(name: str | None) -> dt.tzinfo | None:
    """The zone for an IANA name, or None when the name is missing or unknown."""
    import zoneinfo

    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def _build_rfp(data: dict[str, Any], c: _DefinitionReader, base_dir: Path, *,
               default_zone: str | None = None) -> model.Rfp:
    """Build the RFP from what could be read; the caller rejects it if ``c`` found errors."""
    c.unknown_keys(data, TOP_KEYS, "")
    fmt = c.integer(data, "format", "format", default=1)
    if fmt is not None and fmt != 1:
        c.problem("format", f"this rfpflow reads format 1; got {fmt}")
    rfp_id = c.text(data, "id", "id", required=True, pattern=ID_PATTERN,
                    hint=": use letters, digits, '-', '_' and '.', e.g. RFP-2026-001")
    title = c.text(data, "title", "title", required=True)
    buyer = c.text(data, "buyer", "buyer", required=True)
    category = c.text(data, "category", "category", required=True, choices=model.CATEGORIES)
    currency = c.text(data, "currency", "currency", required=True, pattern=CURRENCY_PATTERN,
                      hint=": use the 3-letter ISO 4217 code, e.g. CNY, EUR, USD")
    if currency in CURRENCY_ALIASES:
        c.problem("currency", f"{currency!r} is not an ISO 4217 code; write currency = "
                  f"\"{CURRENCY_ALIASES[currency]}\"")
    language = c.text(data, "language", "language", default="en", choices=model.LANGUAGES)
    profile = c.text(data, "profile", "profile", default="generic")
    contract_value = c.decimal(data, "contract_value", "contract_value")
    budget_ceiling = c.decimal(data, "budget_ceiling", "budget_ceiling")
    two_envelope = c.boolean(data, "two_envelope", "two_envelope")
    decimal_comma = c.boolean(data, "decimal_comma", "decimal_comma")

    timezone = _timezone(c, data, default_zone)
    timeline = _timeline(c, c.table(data, "timeline", "timeline"), timezone,
                         zone_declared="timezone" in data)
    scoring_table = data.get("scoring", {}) if isinstance(data.get("scoring"), dict) else {}
    ahp_table = scoring_table.get("ahp")
    criteria = _criteria(c, c.table(data, "criteria", "criteria"), ahp=isinstance(ahp_table, dict))
    ahp_report: dict[str, Any] = {}
    if isinstance(ahp_table, dict):
        criteria, ahp_report = _ahp(c, ahp_table, criteria)
    gates = _gates(c, c.table(data, "gates", "gates"))
    line_items = _pricing(c, c.table(data, "pricing", "pricing"), base_dir)
    questionnaire = _questionnaire(c, data.get("questionnaire", []))
    trial = _trial(c, c.table(data, "trial", "trial"), "trial" in data)
    evaluators = _evaluators(c, data.get("evaluators", []))
    scoring = _scoring_with_ahp(_scoring(c, c.table(data, "scoring", "scoring")), ahp_report)
    shortlist_table = c.table(data, "shortlist", "shortlist")
    c.unknown_keys(shortlist_table, SHORTLIST_KEYS, "shortlist")
    shortlist = model.ShortlistRule(
        top=c.integer(shortlist_table, "top", "shortlist.top", minimum=1),
        min_score=c.number(shortlist_table, "min_score", "shortlist.min_score", minimum=0),
    )
    if shortlist.min_score is not None and shortlist.min_score > 100:
        c.problem("shortlist.min_score", f"{shortlist.min_score:g} is above 100: totals are points out of 100, so "
                  "no bid can reach it; write a score between 0 and 100, e.g. min_score = 70")
    award_table = c.table(data, "award", "award")
    c.unknown_keys(award_table, AWARD_KEYS, "award")
    standstill = c.integer(award_table, "standstill_days", "award.standstill_days", minimum=0)
    plugin_options = c.table(data, "plugins", "plugins")
    for key in ("disable", "prefer"):  # prefer: plugins asked first by firstresult hooks (docs/hooks.md)
        if key in plugin_options:
            c.string_list(plugin_options, key, f"plugins.{key}")
    for name, value in plugin_options.items():
        if name not in ("disable", "prefer") and not isinstance(value, dict):
            c.problem(f"plugins.{name}", f"must be a table of the plugin's options, got {_describe(value)}")
    import_table = c.table(data, "import", "import")
    c.unknown_keys(import_table, {"mapping"}, "import")
    mapping = c.table(import_table, "mapping", "import.mapping") if import_table else {}

    vendors, restricted, deviation = _vendors(c, data)
    _cross_checks(c, criteria, line_items, evaluators, trial, data)
    rfp = model.Rfp(
        id=rfp_id, title=title, buyer=buyer, category=category, currency=currency,
        language=language, profile=profile, contract_value=contract_value,
        budget_ceiling=budget_ceiling, two_envelope=two_envelope, timeline=timeline,
        criteria=criteria, gates=gates, line_items=line_items, questionnaire=questionnaire,
        trial=trial, evaluators=evaluators, scoring=scoring, shortlist=shortlist,
        standstill_days=standstill, decimal_comma=decimal_comma, timezone=timezone,
        plugin_options=plugin_options, import_mapping=mapping,
        vendors=vendors, vendors_restricted=restricted, price_deviation=deviation,
    )
    return attrs.evolve(rfp, definition_hash=definition_hash(rfp))


def _ahp(c: _DefinitionReader, table: dict[str, Any], roots: tuple[model.Criterion, ...]
         ) -> tuple[tuple[model.Criterion, ...], dict[str, Any]]:
    """Top-level weights from an AHP pairwise matrix (Saaty); refused when the CR is above 0.10.

    Sub-criteria keep their relative weights, rescaled to their parent's derived weight.
    """
    from rfpflow.scoring import ahp_weights

    c.unknown_keys(table, {"criteria", "matrix"}, "scoring.ahp")
    order = c.string_list(table, "criteria", "scoring.ahp.criteria")
    ids = [r.id for r in roots]
    if sorted(order) != sorted(ids) or len(set(order)) != len(order):
        c.problem("scoring.ahp.criteria", f"must list each top-level criterion once: {', '.join(ids)}")
        return roots, {}
    matrix = table.get("matrix")
    if not (isinstance(matrix, list) and all(isinstance(row, list) for row in matrix)):
        c.problem("scoring.ahp.matrix", f"must be a square list of lists of numbers, got {_describe(matrix)}")
        return roots, {}
    try:
        result = ahp_weights([[float(x) for x in row] for row in matrix])
    except (TypeError, ValueError) as exc:
        c.problem("scoring.ahp.matrix", str(exc))
        return roots, {}
    if len(result.weights) != len(order):
        c.problem("scoring.ahp.matrix", f"is {len(result.weights)}x{len(result.weights)} but lists "
                  f"{len(order)} criteria")
        return roots, {}
    if not result.consistent:
        c.problem("scoring.ahp.matrix", f"the pairwise judgements are inconsistent: consistency ratio "
                  f"{result.consistency_ratio:.3f} is above 0.10 (lambda max {result.lambda_max:.3f}); "
                  "revise the comparisons")
        return roots, {}
    derived = {cid: w * 100 for cid, w in zip(order, result.weights, strict=True)}

    def rescale(node: model.Criterion, weight: float) -> model.Criterion:
        total = sum(child.weight for child in node.children)
        children = tuple(rescale(child, child.weight * weight / total) for child in node.children)
        return attrs.evolve(node, weight=weight, children=children)

    report = {"criteria": order, "weights": [round(w, 6) for w in result.weights],
              "consistency_ratio": round(result.consistency_ratio, 6), "lambda_max": round(result.lambda_max, 6)}
    return tuple(rescale(r, derived[r.id]) for r in roots), report


def _timeline(c: _DefinitionReader, table: dict[str, Any], timezone: str | None = None, *,
              zone_declared: bool = False) -> model.Timeline:
    c.unknown_keys(table, TIMELINE_KEYS, "timeline")
    values: dict[str, Any] = {}
    zone = zone_of(timezone)
    for key in TIMELINE_KEYS:
        value = c.date(table, key, f"timeline.{key}", required=key == "bid_deadline",
                       allow_time=key in ("clarification_deadline", "bid_deadline"))
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            if zone is not None:
                value = value.replace(tzinfo=zone)  # read in the buyer's zone
            elif not zone_declared:  # (an unknown declared zone is reported once, at `timezone`)
                written = value.isoformat()
                c.problem(f"timeline.{key}", f"{written} has no UTC offset and neither rfp.toml nor its profile "
                          f"gives the buyer's time zone; add timezone = \"Asia/Shanghai\" (the buyer's IANA zone) "
                          f"at the top of the file, or write the offset: {written}+08:00")
        values[key] = value
    start, issued = values.get("contract_start"), values.get("issue_date")
    if start is not None and issued is not None and _date_key(start) < _date_key(issued):
        c.problem("timeline.contract_start", f"{_date_key(start).isoformat()} is before issue_date "
                  f"({_date_key(issued).isoformat()}): the contract cannot start before the RFP is issued")
    order = [k for k in TIMELINE_KEYS if k != "contract_start" and values[k] is not None]
    for earlier, later in itertools.pairwise(order):
        if _date_key(values[later]) < _date_key(values[earlier]):
            c.problem(f"timeline.{later}",
                      f"{_date_key(values[later]).isoformat()} is before {earlier} "
                      f"({_date_key(values[earlier]).isoformat()}); the timeline runs "
                      + " -> ".join(k for k in TIMELINE_KEYS if k != "contract_start"))
    return model.Timeline(**values)


def _criteria(c: _DefinitionReader, table: dict[str, Any], *, ahp: bool = False) -> tuple[model.Criterion, ...]:
    if not table:
        c.problem("criteria", "at least one criterion is required: add a [criteria.NAME] table")
        return ()
    seen: dict[str, str] = {}
    roots = tuple(
        crit for key, value in table.items()
        if (crit := _criterion(c, key, value, f"criteria.{key}", seen, depth=1, ahp=ahp)) is not None
    )
    total = sum(crit.weight for crit in roots)
    if ahp:
        return roots  # the top-level weights come from [scoring.ahp]
    if roots and len(roots) == len(table) and not (
        math.isclose(total, 100, abs_tol=WEIGHT_TOLERANCE) or math.isclose(total, 1, abs_tol=WEIGHT_TOLERANCE)
    ):
        c.problem("criteria", f"the top-level weights add up to {total:g}; "
                  "they must add up to 100 (points) or 1 (shares)")
    return roots


def _criterion(c: _DefinitionReader, key: str, value: Any, path: str, seen: dict[str, str],
               depth: int, ahp: bool = False) -> model.Criterion | None:
    if not isinstance(value, dict):
        c.problem(path, f"must be a table describing the criterion, got {_describe(value)}")
        return None
    if not ID_PATTERN.match(key):
        c.problem(path, f"criterion id {key!r} may only use letters, digits, '-', '_' and '.'")
    if key in seen:
        c.problem(path, f"criterion id {key!r} is used twice (also at {seen[key]}); ids must be unique")
    seen[key] = path
    child_tables = {k: v for k, v in value.items() if isinstance(v, dict) and k != "params"}
    fields = {k: v for k, v in value.items() if k not in child_tables}
    c.unknown_keys(fields, CRITERION_KEYS, path)
    name = c.text(fields, "name", f"{path}.name", required=True)
    # With [scoring.ahp] the top-level weights are derived from the pairwise matrix.
    derived = ahp and depth == 1
    weight = c.number(fields, "weight", f"{path}.weight", required=not derived, minimum=0, exclusive=True,
                      default=1.0 if derived else None)
    direction = c.text(fields, "direction", f"{path}.direction", default="benefit", choices=model.DIRECTIONS)
    guidance = c.text(fields, "guidance", f"{path}.guidance")
    scale = (0.0, 10.0)
    if "scale" in fields:
        raw = fields["scale"]
        if (isinstance(raw, list) and len(raw) == 2
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) and _finite(v) for v in raw)
                and raw[0] < raw[1]):
            scale = (float(raw[0]), float(raw[1]))
        else:
            shown = _describe(raw)
            if isinstance(raw, list):
                shown = "[" + ", ".join(_describe(v) for v in raw) + "]"
                if (len(raw) == 2 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw)
                        and raw[0] > raw[1]):
                    shown += f" (reversed; write scale = [{raw[1]!r}, {raw[0]!r}], and direction = \"cost\" " \
                             "if a lower value is better)"
            c.problem(f"{path}.scale", f"must be [lowest, highest] with lowest < highest, got {shown}")
    children = tuple(
        crit for child_key, child in child_tables.items()
        if (crit := _criterion(c, child_key, child, f"{path}.{child_key}", seen, depth + 1)) is not None
    )
    source = model.CriterionSource()
    if children:
        for leaf_only in ("source", "field", "rule", "params", "scale"):
            if leaf_only in fields:
                c.problem(f"{path}.{leaf_only}", "only a criterion without sub-criteria has a "
                          f"{leaf_only}; move it to a sub-criterion")
        total = sum(ch.weight for ch in children)
        if weight is not None and not derived and len(children) == len(child_tables) and not math.isclose(
            total, weight, rel_tol=1e-9, abs_tol=WEIGHT_TOLERANCE
        ):
            c.problem(f"{path}.weight", f"is {weight:g} but its sub-criteria's weights add up to {total:g}")
    else:
        kind = c.text(fields, "source", f"{path}.source", default="judgement", choices=model.SOURCE_KINDS)
        field = c.text(fields, "field", f"{path}.field") or None
        rule = c.text(fields, "rule", f"{path}.rule") or None
        params = c.table(fields, "params", f"{path}.params")
        if kind == "bid" and not field:
            c.problem(f"{path}.field", 'is required when source = "bid": name the bid field or question id')
        if kind == "bid" and not rule:
            c.problem(f"{path}.rule", 'is required when source = "bid": say how the value becomes points')
        if kind != "bid" and (field or rule):
            c.problem(f"{path}.source", f'a field or rule is only used when source = "bid", not {kind!r}')
        source = model.CriterionSource(kind=kind, field=field, rule=rule, params=params)
    if weight is None or not name:
        return None
    return model.Criterion(id=key, name=name, weight=weight, direction=direction, scale=scale,
                           source=source, guidance=guidance, children=children)


def _gates(c: _DefinitionReader, table: dict[str, Any]) -> tuple[model.Gate, ...]:
    gates = []
    for key, value in table.items():
        path = f"gates.{key}"
        if not isinstance(value, dict):
            c.problem(path, f"must be a table describing the gate, got {_describe(value)}")
            continue
        if not ID_PATTERN.match(key):
            c.problem(path, f"gate id {key!r} may only use letters, digits, '-', '_' and '.'")
        kind = c.text(value, "kind", f"{path}.kind", required=True)
        name = c.text(value, "name", f"{path}.name", default=key)
        on_fail = c.text(value, "on_fail", f"{path}.on_fail", default="fail", choices=("fail", "review"))
        params = {k: v for k, v in value.items() if k not in GATE_KEYS}
        if kind:
            gates.append(model.Gate(id=key, kind=kind, name=name, on_fail=on_fail, params=params))
    return tuple(gates)


def _pricing(c: _DefinitionReader, table: dict[str, Any], base_dir: Path) -> tuple[model.LineItem, ...]:
    c.unknown_keys(table, PRICING_KEYS, "pricing")
    items_file = c.text(table, "items_file", "pricing.items_file")
    raw_items = table.get("items", [])
    if items_file:
        if raw_items:
            c.problem("pricing.items_file", "give the line items inline or in items_file, not both")
        from rfpflow.spreadsheets.item_list import read_item_list  # openpyxl only when a workbook is named

        rows, problems = read_item_list(base_dir / items_file, items_file)
        c.problems.extend(problems)
        raw_items = rows
    if not isinstance(raw_items, list):
        c.problem("pricing.items", f"must be a list of line items ([[pricing.items]]), got {_describe(raw_items)}")
        return ()
    items: list[model.LineItem] = []
    seen: set[str] = set()
    for number, item in enumerate(raw_items, start=1):
        path = f"pricing.items[{number}]"
        if not isinstance(item, dict):
            c.problem(path, f"must be a table with id, description, unit and quantity, got {_describe(item)}")
            continue
        c.unknown_keys(item, ITEM_KEYS, path)
        item_id = c.text(item, "id", f"{path}.id", required=True, pattern=ID_PATTERN,
                         hint=": use letters, digits, '-', '_' and '.'")
        description = c.text(item, "description", f"{path}.description", required=True)
        unit = c.text(item, "unit", f"{path}.unit", required=True)
        quantity = c.decimal(item, "quantity", f"{path}.quantity", required=True)
        if item_id in seen:
            c.problem(f"{path}.id", f"line item id {item_id!r} is used twice")
        seen.add(item_id)
        if item_id and description and unit and quantity is not None:
            items.append(model.LineItem(item_id, description, unit, quantity))
    return tuple(items)


def _questionnaire(c: _DefinitionReader, raw: Any) -> tuple[model.Question, ...]:
    if not isinstance(raw, list):
        c.problem("questionnaire", f"must be a list of questions ([[questionnaire]]), got {_describe(raw)}")
        return ()
    questions = []
    seen: set[str] = set()
    for number, q in enumerate(raw, start=1):
        path = f"questionnaire[{number}]"
        if not isinstance(q, dict):
            c.problem(path, f"must be a table, got {_describe(q)}")
            continue
        c.unknown_keys(q, QUESTION_KEYS, path)
        qid = c.text(q, "id", f"{path}.id", required=True, pattern=ID_PATTERN,
                     hint=": use letters, digits, '-', '_' and '.'")
        text = c.text(q, "text", f"{path}.text", required=True)
        mandatory = c.boolean(q, "mandatory", f"{path}.mandatory")
        choices = c.string_list(q, "choices", f"{path}.choices", default=("Yes", "No"))
        if len(choices) < 2 or len(set(choices)) != len(choices):
            c.problem(f"{path}.choices", "must list at least two different answers")
        required_answer = c.text(q, "required_answer", f"{path}.required_answer") or None
        if required_answer is not None and required_answer not in choices:
            c.problem(f"{path}.required_answer", f"{required_answer!r} is not one of the choices {list(choices)}")
        if qid in seen:
            c.problem(f"{path}.id", f"question id {qid!r} is used twice")
        seen.add(qid)
        if qid and text:
            questions.append(model.Question(qid, text, mandatory, choices, required_answer))
    return tuple(questions)


def _trial(c: _DefinitionReader, table: dict[str, Any], present: bool) -> model.TrialPlan:
    c.unknown_keys(table, TRIAL_KEYS, "trial")
    enabled = c.boolean(table, "enabled", "trial.enabled", default=present)
    preset = c.text(table, "preset", "trial.preset") or None
    window = c.integer(table, "window_days", "trial.window_days", minimum=1)
    kpis = []
    for key, value in c.table(table, "kpis", "trial.kpis").items():
        path = f"trial.kpis.{key}"
        if not isinstance(value, dict):
            c.problem(path, f"must be a table describing the KPI, got {_describe(value)}")
            continue
        c.unknown_keys(value, KPI_KEYS, path)
        name = c.text(value, "name", f"{path}.name", required=True)
        unit = c.text(value, "unit", f"{path}.unit", default="")
        target = c.number(value, "target", f"{path}.target", required=True)
        direction = c.text(value, "direction", f"{path}.direction", default="higher", choices=("higher", "lower"))
        must_have = c.boolean(value, "must_have", f"{path}.must_have")
        weight = c.number(value, "weight", f"{path}.weight", default=1.0, minimum=0)
        kpi_window = c.integer(value, "window_days", f"{path}.window_days", default=window, minimum=1)
        if name and target is not None:
            kpis.append(model.Kpi(key, name, unit, target, direction, must_have, weight or 0.0, kpi_window))
    if enabled and not kpis and not preset:
        c.problem("trial", "a trial run needs KPIs: add [trial.kpis.NAME] tables or a preset, "
                  "or set enabled = false")
    return model.TrialPlan(enabled=enabled, preset=preset, kpis=kpis, window_days=window)


def _evaluators(c: _DefinitionReader, raw: Any) -> tuple[model.Evaluator, ...]:
    if not isinstance(raw, list):
        c.problem("evaluators", f"must be a list ([[evaluators]]), got {_describe(raw)}")
        return ()
    out = []
    seen: set[str] = set()
    for number, e in enumerate(raw, start=1):
        path = f"evaluators[{number}]"
        if not isinstance(e, dict):
            c.problem(path, f"must be a table with id and name, got {_describe(e)}")
            continue
        c.unknown_keys(e, EVALUATOR_KEYS, path)
        eid = c.text(e, "id", f"{path}.id", required=True, pattern=ID_PATTERN,
                     hint=": use letters, digits, '-', '_' and '.'")
        name = c.text(e, "name", f"{path}.name", required=True)
        role = c.text(e, "role", f"{path}.role", default="evaluator")
        if eid in seen:
            c.problem(f"{path}.id", f"evaluator id {eid!r} is used twice")
        seen.add(eid)
        if eid and name:
            out.append(model.Evaluator(eid, name, role))
    return tuple(out)


VENDOR_KEYS = {"id", "name", "registration_no", "email"}
BIDS_KEYS = {"restricted", "price_deviation"}


def _vendors(c: _DefinitionReader, data: Mapping[str, Any]
             ) -> tuple[tuple[model.InvitedVendor, ...], bool, float | None]:
    """The invited vendors (``[[vendors]]``) and the ``[bids]`` options: ``restricted`` (refuse bids
    from vendors not invited) and ``price_deviation`` (the price comparison's flag, a share of the median)."""
    from rfpflow.bids import registration_key

    options = c.table(data, "bids", "bids")
    c.unknown_keys(options, BIDS_KEYS, "bids")
    restricted = c.boolean(options, "restricted", "bids.restricted")
    deviation = c.number(options, "price_deviation", "bids.price_deviation", minimum=0)
    raw = data.get("vendors", [])
    if not isinstance(raw, list):
        c.problem("vendors", f"must be a list of invited vendors ([[vendors]]), got {_describe(raw)}")
        return (), restricted, deviation
    if restricted and not raw:
        c.problem("bids.restricted", "a restricted procedure needs the list of invited vendors ([[vendors]])")
    out: list[model.InvitedVendor] = []
    ids: set[str] = set()
    numbers: set[str] = set()
    for number, entry in enumerate(raw, start=1):
        path = f"vendors[{number}]"
        if not isinstance(entry, dict):
            c.problem(path, f"must be a table with id and name, got {_describe(entry)}")
            continue
        c.unknown_keys(entry, VENDOR_KEYS, path)
        vid = c.text(entry, "id", f"{path}.id", required=True, pattern=ID_PATTERN,
                     hint=": use letters, digits, '-', '_' and '.', e.g. acme")
        name = c.text(entry, "name", f"{path}.name", required=True)
        registration = c.text(entry, "registration_no", f"{path}.registration_no", default="")
        email = c.text(entry, "email", f"{path}.email", default="")
        if vid in ids:
            c.problem(f"{path}.id", f"vendor id {vid!r} is used twice")
        key = registration_key(registration or "")
        if key and key in numbers:
            c.problem(f"{path}.registration_no", f"registration number {registration!r} is listed twice")
        ids.add(vid or "")
        numbers.add(key)
        if vid and name:
            out.append(model.InvitedVendor(vid, name, registration or "", email or ""))
    return tuple(out), restricted, deviation


def _scoring(c: _DefinitionReader, table: dict[str, Any]) -> model.ScoringPlan:
    c.unknown_keys(table, SCORING_KEYS, "scoring")
    defaults = model.ScoringPlan()
    tie_break = c.string_list(table, "tie_break", "scoring.tie_break", default=defaults.tie_break)
    for key in tie_break:
        if key not in TIE_BREAK_KEYS:
            c.problem("scoring.tie_break", f"unknown tie-break key {key!r}{suggest(key, TIE_BREAK_KEYS)}; "
                      f"choose from {', '.join(TIE_BREAK_KEYS)}")
    award: dict[str, float] = {}
    for key, value in c.table(table, "award", "scoring.award").items():
        number = c.number({key: value}, key, f"scoring.award.{key}", minimum=0)
        if key not in ("evaluation", "price", "trial"):
            c.problem(f"scoring.award.{key}", f"unknown award component {key!r}"
                      f"{suggest(key, ('evaluation', 'price', 'trial'))}; use evaluation, price and trial")
        elif number is not None:
            award[key] = number
    if award and not math.isclose(sum(award.values()), 1.0, abs_tol=WEIGHT_TOLERANCE):
        c.problem("scoring.award", f"the award weights add up to {sum(award.values()):g}; they must add up to 1")
    return model.ScoringPlan(
        method=c.text(table, "method", "scoring.method", default=defaults.method),
        normalization=c.text(table, "normalization", "scoring.normalization", default=defaults.normalization,
                             choices=("min-max", "ratio", "max")),
        consensus=c.text(table, "consensus", "scoring.consensus", default=defaults.consensus,
                         choices=("mean", "median", "trimmed-mean")),
        outlier_threshold=c.number(table, "outlier_threshold", "scoring.outlier_threshold",
                                   default=defaults.outlier_threshold, minimum=0) or 0.0,
        price_formula=c.text(table, "price_formula", "scoring.price_formula", default=defaults.price_formula),
        blind=c.boolean(table, "blind", "scoring.blind"),
        tie_break=tie_break,
        award_weights=award,
        options=c.table(table, "options", "scoring.options"),
    )


def _scoring_with_ahp(plan: model.ScoringPlan, report: dict[str, Any]) -> model.ScoringPlan:
    if not report:
        return plan
    return attrs.evolve(plan, options={**plan.options, "ahp": report})


def _cross_checks(c: _DefinitionReader, criteria: tuple[model.Criterion, ...], items: tuple[model.LineItem, ...],
                  evaluators: tuple[model.Evaluator, ...], trial: model.TrialPlan, data: dict[str, Any]) -> None:
    leaves = [leaf for crit in criteria for leaf in crit.leaves()]
    kinds = {leaf.source.kind for leaf in leaves}
    if "judgement" in kinds and not evaluators:
        c.problem("evaluators", "criteria scored by evaluators' judgement need at least one [[evaluators]] entry")
    if "price" in kinds and not items:
        c.problem("pricing", 'a criterion with source = "price" needs line items ([[pricing.items]])')
    if "trial" in kinds and not trial.enabled:
        c.problem("trial", 'a criterion with source = "trial" needs a trial run ([trial] with KPIs)')
    award = data.get("scoring", {}).get("award", {}) if isinstance(data.get("scoring"), dict) else {}
    if isinstance(award, dict) and award.get("trial") and not trial.enabled:
        c.problem("scoring.award.trial", "the award gives weight to the trial run, but the RFP has none")
    priced = [leaf for leaf in leaves if leaf.source.kind == "price"]
    if isinstance(award, dict) and priced and isinstance(award.get("price"), (int, float)) and award["price"] > 0:
        total = sum(leaf.weight for leaf in leaves) or 1.0
        points = sum(leaf.weight for leaf in priced) * 100 / total
        c.problem("scoring.award.price", f"price is counted twice: criterion {priced[0].id!r} already scores it "
                  f"in the evaluation ({points:.1f} points of 100), and the award gives price a weight of "
                  f"{award['price']:g} on top; drop one of them", severity="warning")
    listed = data.get("questionnaire")
    questions: list[Any] = listed if isinstance(listed, list) else []
    question_ids = [str(q.get("id")) for q in questions if isinstance(q, dict) and q.get("id")]
    known = _bid_fields(data) | set(question_ids)
    for leaf in leaves:
        field, rule = leaf.source.field, leaf.source.rule
        if leaf.source.kind != "bid" or not field:
            continue
        path = f"criteria.{leaf.id}.field"
        for crit in criteria:  # the leaf's full path, for the line number
            trail = _path_to(crit, leaf.id)
            if trail:
                path = "criteria." + ".".join(trail) + ".field"
        if rule == "answer" and field not in question_ids:
            c.problem(path, f"the answer rule reads question {field!r}, which the questionnaire does not have"
                      f"{suggest(field, question_ids)}; questions: {', '.join(question_ids) or 'none'}")
        elif rule != "answer" and field not in known:
            c.problem(path, f"bids have no field {field!r}{suggest(field, sorted(known))}; "
                      f"fields: {', '.join(sorted(known))}")


def _path_to(node: model.Criterion, target: str) -> list[str]:
    if node.id == target:
        return [node.id]
    for child in node.children:
        trail = _path_to(child, target)
        if trail:
            return [node.id, *trail]
    return []


def _bid_fields(data: Mapping[str, Any]) -> set[str]:
    """The fields a bid has: the bid workbook's company fields, the computed ones, and any a mapping adds."""
    from rfpflow.spreadsheets.layout import COMPANY_FIELDS

    fields = {spec.key for spec in COMPANY_FIELDS} | {"years_established", "company_age", "certifications"}
    mapping = data.get("import", {}).get("mapping") if isinstance(data.get("import"), dict) else None

    def names(value: Any) -> None:
        if isinstance(value, str):
            fields.add(value)
        elif isinstance(value, Mapping):
            for key, item in value.items():
                fields.add(str(key))
                names(item)
        elif isinstance(value, list):
            for item in value:
                names(item)

    names(mapping)
    return fields


# ---------------------------------------------------------------------------
# The definition hash
# ---------------------------------------------------------------------------


def _canonical(value: Any) -> Any:
    if attrs.has(type(value)):
        return {f.name: _canonical(getattr(value, f.name)) for f in attrs.fields(type(value))
                if f.name not in ("definition_hash", "source")
                and not (f.name in model.HASHED_WHEN_SET and getattr(value, f.name) in ((), False, None))}
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value.normalize()) if value == value.to_integral() else str(value)
    if isinstance(value, float):
        return repr(value)
    return value


def definition_hash(rfp: model.Rfp) -> str:
    """SHA-256 of the definition's canonical JSON: changes with any rule, not with comments or layout."""
    text = json.dumps(_canonical(rfp), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
