"""Documents: the RFP, letters and reports rendered from a cycle view with Jinja.

A *cycle view* is the plain-JSON picture of a cycle the workflow builds (see
``tests/view_fixture.py`` for a complete example). :func:`render_documents`
renders every registered :class:`~rfpflow.registry.DocumentSpec` whose stage
the cycle has reached, in each of its formats, into ``out_dir``; the helpers
here (filters, SVG charts, per-vendor selection, safe file names) are what the
templates and the builtin plugin :mod:`rfpflow.builtins.documents` use.
docs/documents.md is the user-facing description.

Safety
    Every template runs in Jinja's immutable sandbox (workspace and plugin
    templates are outside the package and may come from anyone with write
    access to the workspace). HTML templates are autoescaped; Markdown
    templates are autoescaped too *and* every plain value they print goes
    through :func:`md_escape` (Markdown punctuation backslash-escaped, HTML
    special characters as entities), so vendor text is inert in both formats.
    Undefined names are errors (``StrictUndefined``), never blanks.

Determinism
    Nothing reads the clock or makes random ids; the view is copied with its
    keys sorted; vendors, documents and outputs are processed in sorted order.
    Rendering a view twice gives identical bytes.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import re
import traceback
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from rfpflow.errors import RfpflowError
from rfpflow.registry import AUDIENCES, EVERY_STAGE, DocumentSpec, VendorDocumentSpec, template_root

if TYPE_CHECKING:
    from rfpflow.model import Rfp
    from rfpflow.plugins import PluginHost

__all__ = [
    "AUDIENCES",
    "EVERY_STAGE",
    "FORMATS",
    "STAGE_ORDER",
    "RenderError",
    "VendorDocumentSpec",
    "audience_of",
    "dimension_chart_svg",
    "document_context",
    "documents_due",
    "format_date",
    "format_datetime",
    "format_long_date",
    "format_money",
    "format_number",
    "format_percent",
    "kpi_chart_svg",
    "make_environment",
    "md_escape",
    "prepare_view",
    "reached_stage",
    "render_documents",
    "sanitize_filename",
    "score_chart_svg",
    "select_vendors",
    "template_dirs",
    "template_names",
]

#: The stages of a cycle in order. A document registered for a stage renders
#: once the cycle is at that stage or past it.
STAGE_ORDER: tuple[str, ...] = (
    "draft", "issued", "bids-closed", "screening", "evaluation", "trial-run", "award-recommended", "awarded",
)
#: ``DocumentSpec.stage`` value for a document rendered at every stage once
#: the RFP is issued (the audit appendix).
#: Output formats the builtin templates exist in.
FORMATS: tuple[str, ...] = ("html", "md")

_LANGUAGES = ("en", "zh")
_MAX_NAME = 80


class RenderError(RfpflowError):
    """A document could not be rendered: a template is missing, wrong or unsafe."""


# --------------------------------------------------------------------------
# Labels the Python side prints (prose lives in the per-language templates)
# --------------------------------------------------------------------------

_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "sealed": "sealed until technical evaluation is complete",
        "none": "—",
        "pass": "passed", "fail": "failed", "review": "needs review",
        "yes": "yes", "no": "no", "met": "met", "missed": "missed",
        "higher": "higher is better", "lower": "lower is better",
        "draft": "draft", "issued": "issued", "bids-closed": "bids closed", "screening": "screening",
        "evaluation": "evaluation", "trial-run": "trial run", "award-recommended": "award recommended",
        "awarded": "awarded", "cancelled": "cancelled",
        "chart.scores": "Weighted score by dimension (points)",
        "chart.dimensions": "Share of each dimension's weight achieved",
        "chart.kpis": "Trial KPI results against target",
        "chart.target": "target", "chart.met": "target met", "chart.missed": "target missed",
        "chart.weight": "weight", "chart.nodata": "No results to chart.",
        "weighted-sum": "weighted sum of normalised criterion scores", "topsis": "TOPSIS (closeness to the ideal bid)",
        "lpta": "lowest price technically acceptable", "min-max": "min-max", "ratio": "ratio to the best value",
        "max": "share of the best value", "mean": "mean", "median": "median",
        "trimmed-mean": "trimmed mean (highest and lowest score dropped)",
        "lowest-ratio": "lowest price ÷ bid price × points", "linear": "linear from the lowest price to the highest",
        "total_score": "total score", "price": "price", "technical_score": "technical score",
        "submitted_at": "time of submission", "vendor": "vendor id", "trial_score": "trial score",
    },
    "zh": {
        "sealed": "技术评审完成前价格保密",
        "none": "—",
        "pass": "通过", "fail": "未通过", "review": "待复核",
        "yes": "是", "no": "否", "met": "达标", "missed": "未达标",
        "higher": "越高越好", "lower": "越低越好",
        "draft": "草稿", "issued": "已发布", "bids-closed": "投标截止", "screening": "资格审查",
        "evaluation": "评审", "trial-run": "试运行", "award-recommended": "定标建议",
        "awarded": "已定标", "cancelled": "已取消",
        "chart.scores": "各维度加权得分（分）",
        "chart.dimensions": "各维度得分占该维度权重的比例",
        "chart.kpis": "试运行关键指标实测值与目标值",
        "chart.target": "目标", "chart.met": "达标", "chart.missed": "未达标",
        "chart.weight": "权重", "chart.nodata": "暂无可绘制的结果。",
        "weighted-sum": "综合评分法（加权求和）", "topsis": "TOPSIS 逼近理想解法",
        "lpta": "最低评标价法（技术合格者中价格最低）", "min-max": "极差归一化", "ratio": "比值归一化",
        "max": "最优值比例归一化", "mean": "算术平均值", "median": "中位数",
        "trimmed-mean": "去掉一个最高分和一个最低分后的平均值",
        "lowest-ratio": "低价优先法（评标基准价 ÷ 投标报价 × 价格分值）",
        "linear": "线性插值法（最低价满分、最高价零分）",
        "total_score": "综合得分", "price": "投标报价", "technical_score": "技术得分", "submitted_at": "递交时间",
        "vendor": "供应商编号", "trial_score": "试运行得分",
    },
}

_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")


def _label(lang: str, key: str) -> str:
    table = _LABELS.get(lang, _LABELS["en"])
    return table.get(key, _LABELS["en"].get(key, key))


# --------------------------------------------------------------------------
# Escaping and formatting filters
# --------------------------------------------------------------------------

_MD_SPECIAL = set("\\`*_[]{}#|~")
_MD_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
_MD_LINE_START = re.compile(r"^(\s*)([-+=]|\d{1,9}[.)](?=\s|$))")


def md_escape(value: object) -> Markup:
    """Make ``value`` inert Markdown text (returned as Markup: already escaped).

    Markdown punctuation is backslash-escaped, ``< > &`` become entities (so
    no raw HTML survives), line breaks become spaces (so a value cannot start
    a heading, list or table row) and a leading ``-``, ``+``, ``=`` or ``1.``
    is escaped. ``Markup`` values (already safe) are returned unchanged.
    """
    if isinstance(value, Markup):
        return value
    text = " ".join(str(value).splitlines())
    out: list[str] = []
    for ch in text:
        if ch in _MD_ENTITIES:
            out.append(_MD_ENTITIES[ch])
        elif ch in _MD_SPECIAL:
            out.append("\\" + ch)
        else:
            out.append(ch)
    escaped = "".join(out)
    # A list marker or heading underline at the start: escape its final punctuation (1\. rather than \1.).
    escaped = _MD_LINE_START.sub(lambda m: m.group(1) + m.group(2)[:-1] + "\\" + m.group(2)[-1], escaped)
    return Markup(escaped)


def _is_markdown(name: str | None) -> bool:
    base = (name or "").removesuffix(".j2")
    return base.endswith((".md", ".markdown"))


def _autoescape(name: str | None) -> bool:
    """Autoescape on the name without ``.j2``: HTML-like files and Markdown (see md_escape)."""
    base = (name or "").removesuffix(".j2").lower()
    return base.endswith((".html", ".htm", ".xml", ".svg", ".md", ".markdown"))


@jinja2.pass_context
def _finalize(context: jinja2.runtime.Context, value: Any) -> Any:
    """Markdown templates: every plain string printed is Markdown-escaped."""
    if isinstance(value, str) and not isinstance(value, Markup) and _is_markdown(context.name):
        return md_escape(value)
    return value


def _decimal(value: object) -> Decimal | None:
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        number = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def format_money(value: object, currency: str = "", *, lang: str = "en", sealed: bool = False) -> str:
    """``CNY 1,080,000.00``; the sealed label for a missing price when prices are sealed."""
    number = _decimal(value)
    if number is None:
        if value not in (None, ""):
            return str(value)
        return _label(lang, "sealed") if sealed else _label(lang, "none")
    with localcontext() as wide:  # amounts beyond 28 digits must still print, not fail the document
        wide.prec = max(28, len(number.as_tuple().digits) + 4)
        text = f"{number.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"
    return f"{currency} {text}".strip()


@jinja2.pass_context
def _money_filter(context: jinja2.runtime.Context, value: object, currency: str | None = None) -> str:
    view = context.get("view") or {}
    if currency is None:
        currency = str(((view.get("rfp") or {}).get("currency")) or "")
    text = format_money(value, currency, lang=str(context.get("lang", "en")), sealed=bool(view.get("prices_sealed")))
    return text if isinstance(value, str) and text == value else Markup(escape(text))


def _parse_iso(value: object) -> dt.date | dt.datetime | None:
    if isinstance(value, dt.datetime | dt.date):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if len(text) == 10:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass  # not an ISO date-time: try the other forms below
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def format_date(value: object) -> str:
    """The ISO date (``2027-01-29``) of an ISO date or date-time string, as written (no clock, no conversion)."""
    parsed = _parse_iso(value)
    if parsed is None:
        return "" if value is None else str(value)
    if isinstance(parsed, dt.datetime):
        return parsed.date().isoformat()
    return parsed.isoformat()


def format_datetime(value: object) -> str:
    """``2027-01-29 17:00 +08:00`` from an ISO date-time; a bare date is printed as a date."""
    parsed = _parse_iso(value)
    if parsed is None:
        return "" if value is None else str(value)
    if not isinstance(parsed, dt.datetime):
        return parsed.isoformat()
    text = parsed.strftime("%Y-%m-%d %H:%M")
    offset = parsed.strftime("%z")
    if offset:
        text += f" {offset[:3]}:{offset[3:]}"
    return text


def format_long_date(value: object, lang: str = "en") -> str:
    """A date for letters: ``19 April 2027`` / ``2027年4月19日``."""
    parsed = _parse_iso(value)
    if parsed is None:
        return "" if value is None else str(value)
    day = parsed.date() if isinstance(parsed, dt.datetime) else parsed
    if lang == "zh":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"


def _round_half_up(value: float, digits: int) -> Decimal:
    quantum = Decimal(1).scaleb(-digits)
    return Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP)


def format_number(value: object, digits: int = 1) -> str:
    """A score with ``digits`` decimals (half up), ``—`` for a missing value."""
    if value is None or isinstance(value, bool):
        return "—"
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if number != number or number in (float("inf"), float("-inf")):
        return "—"
    return f"{_round_half_up(number, digits):.{digits}f}"


def format_percent(value: object, digits: int = 1) -> str:
    """A fraction as a percentage: ``0.975`` -> ``97.5%``."""
    if value is None or isinstance(value, bool):
        return "—"
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    return f"{format_number(number * 100, digits)}%"


def _formatted(function: Callable[..., str]) -> Callable[..., str]:
    """A formatting filter: its own output (digits, separators, labels) is safe as it is in both
    formats; a value it could not format and passed through unchanged is still escaped."""

    def apply(value: object, *args: Any, **kwargs: Any) -> str:
        result = function(value, *args, **kwargs)
        if isinstance(value, str) and result == value:
            return result
        return Markup(escape(result))

    apply.__name__ = apply.__qualname__ = function.__name__
    apply.__doc__ = function.__doc__
    return apply


def _json_filter(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


# --------------------------------------------------------------------------
# File names
# --------------------------------------------------------------------------

_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {
    f"{p}{n}" for p in ("COM", "LPT") for n in "0123456789"
}


def _clean_name(name: str) -> str:
    text = unicodedata.normalize("NFKC", name)
    chars = [ch if (ch.isalnum() or ch in "-_") else "-" for ch in text]
    cleaned = re.sub(r"-{2,}", "-", "".join(chars))
    return cleaned.strip("-_.")


def _is_reserved(stem: str) -> bool:
    head = stem.split(".", 1)[0].rstrip(" ").upper()
    return head in _WINDOWS_RESERVED


def sanitize_filename(name: str, taken: set[str]) -> str:
    """A safe, unique file-name stem made from ``name`` (a vendor name, id or document name).

    NFKC-normalised; letters (CJK included), digits, ``-`` and ``_`` are kept
    and anything else (dots, slashes, spaces, quotes) becomes ``-``; no leading
    dots or dashes; at most 80 characters; never a Windows device name (``CON``,
    ``NUL``, ``COM1``...: ``_`` is appended); ``"vendor"`` when nothing is left.
    A stem already in ``taken`` (compared case-insensitively, as Windows and
    macOS file systems do) gets ``-2``, ``-3``, ... The stem returned is added
    to ``taken``.
    """
    stem = _clean_name(name)[:_MAX_NAME].strip("-_.") or "vendor"
    if _is_reserved(stem):
        stem = f"{stem}_"
    folded = {t.casefold() for t in taken}
    candidate, n = stem, 1
    while candidate.casefold() in folded:
        n += 1
        suffix = f"-{n}"
        candidate = stem[: _MAX_NAME - len(suffix)].rstrip("-_.") + suffix
    taken.add(candidate)
    return candidate


# --------------------------------------------------------------------------
# The view: a sorted, defaulted copy; stages; who a letter is for
# --------------------------------------------------------------------------

_TIMELINE_KEYS = ("issue_date", "clarification_deadline", "bid_deadline", "trial_start", "trial_end",
                  "decision_date", "contract_start")
_NO_REDACT_KEYS = {"hash", "chain_head", "definition_hash"}


def _defaults(obj: dict[str, Any], /, **values: Any) -> dict[str, Any]:
    for key, value in values.items():
        if obj.get(key) is None:
            obj[key] = value
    return obj


def _price_patterns(prices: Iterable[object]) -> list[re.Pattern[str]]:
    variants: set[str] = set()
    for price in prices:
        number = _decimal(price)
        if number is None:
            continue
        if isinstance(price, str) and price.strip():
            variants.add(price.strip())
        two = number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        variants.update({f"{two:.2f}", f"{two:,.2f}", format(number.normalize(), "f")})
        if number == number.to_integral_value():
            whole = int(number)
            variants.update({str(whole), f"{whole:,}"})
    digits = [v for v in variants if sum(c.isdigit() for c in v) >= 3]
    return [re.compile(r"(?<![\d.,])" + re.escape(v) + r"(?![\d])") for v in sorted(digits, key=len, reverse=True)]


def _redact(value: Any, patterns: Sequence[re.Pattern[str]], numbers: set[Decimal], label: str, key: str = "") -> Any:
    """``value`` with every bid price (as text or as a number) replaced by ``label``."""
    if isinstance(value, dict):
        return {k: _redact(v, patterns, numbers, label, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, patterns, numbers, label, key) for v in value]
    if isinstance(value, int | float) and not isinstance(value, bool) and _decimal(value) in numbers:
        return label
    if isinstance(value, str) and key not in _NO_REDACT_KEYS:
        for pattern in patterns:
            value = pattern.sub(label, value)
    return value


def prepare_view(view: Mapping[str, Any]) -> dict[str, Any]:
    """A deep, key-sorted copy of ``view`` with every optional section defaulted.

    Templates run with ``StrictUndefined``; after this they can rely on every
    documented key existing (lists empty, ``award`` None before the award).
    When ``prices_sealed`` is true, every bid price is removed and any text
    mentioning one (a gate reason, a note) has it replaced by the sealed label.
    """
    v: dict[str, Any] = json.loads(json.dumps(view, sort_keys=True, default=str))
    events = v.get("events") or []
    _defaults(v, stage="draft", chain_head="", event_count=len(events), as_of="", prices_sealed=False,
              definition_hash="", shortlist=[], events=events)
    if not isinstance(v.get("rfp"), dict):
        v["rfp"] = {}
    rfp = _defaults(v["rfp"], id="", title="", buyer="", category="", currency="", language="en", profile="",
                    contract_value=None, budget_ceiling=None, two_envelope=False, timeline={}, criteria=[],
                    dimensions=[], gates=[], line_items=[], questionnaire=[], kpis=[], evaluators=[], scoring={},
                    standstill_days=None)
    for key in _TIMELINE_KEYS:
        rfp["timeline"].setdefault(key, None)
    _defaults(rfp["scoring"], method="", normalization="", consensus="", outlier_threshold=None, price_formula="",
              tie_break=[], award_weights={})
    for crit in rfp["criteria"]:
        _defaults(crit, name=crit.get("id", ""), weight=None, direction="benefit", source="", parent=None,
                  guidance="")
    for dim in rfp["dimensions"]:
        _defaults(dim, name=dim.get("id", ""), weight=None, children=[])
    for gate in rfp["gates"]:
        _defaults(gate, name=gate.get("id", ""), kind="", on_fail="fail")
    for kpi in rfp["kpis"]:
        _defaults(kpi, name=kpi.get("id", ""), unit="", target=None, direction="higher", must_have=False,
                  weight=None)
    for vendor in v.setdefault("vendors", []) or []:
        _defaults(vendor, id="", registration_no="", country="", submitted_at="", late=False, source_file="",
                  total_price=None, screening="", gates=[])
        _defaults(vendor, name=vendor["id"])
        for gate in vendor["gates"]:
            _defaults(gate, name=gate.get("gate", ""), outcome="", reason="", evidence=[])
            gate.setdefault("resolution", None)
    evaluation = v["evaluation"] = v.get("evaluation") or {}
    _defaults(evaluation, method="", totals=[], tied_groups=[], notes=[], outliers=[], sensitivity=[], scores=[])
    for total in evaluation["totals"]:
        _defaults(total, breakdown={}, dimensions={}, total=None, rank=None)
        total.setdefault("price", None)
    trial = v["trial"] = v.get("trial") or {}
    _defaults(trial, results=[])
    for result in trial["results"]:
        _defaults(result, kpis=[], notes=[], passed=None, score=None)
    award = v.get("award") or None
    if award is not None:
        _defaults(award, vendor="", vendor_name="", justification="", follows_ranking=True, standstill_ends=None,
                  ranking=[])
    v["award"] = award
    for position, event in enumerate(v["events"], start=1):
        _defaults(event, seq=position, at="", actor="", kind="", data={}, hash="")
    if v["prices_sealed"]:
        prices = [x.get("total_price") for x in v["vendors"]] + [t.get("price") for t in evaluation["totals"]]
        for vendor in v["vendors"]:
            vendor["total_price"] = None
        for total in evaluation["totals"]:
            total["price"] = None
        numbers = {n for n in (_decimal(p) for p in prices) if n is not None and abs(n) >= 100}
        v = _redact(v, _price_patterns(prices), numbers, _label(str(rfp["language"]), "sealed"))
    return v


def _stage_index(stage: str) -> int:
    return STAGE_ORDER.index(stage)


def reached_stage(view: Mapping[str, Any]) -> str:
    """The furthest stage of :data:`STAGE_ORDER` the cycle has reached.

    For a cancelled cycle: the furthest stage named by its ``stage.changed``
    events, or implied by the results the view holds (screening outcomes,
    evaluation totals, trial results, an award), whichever is further.
    """
    stage = str(view.get("stage") or "draft")
    if stage in STAGE_ORDER:
        return stage
    if stage != "cancelled":
        raise RenderError(f"the cycle view has an unknown stage {stage!r}; known: {', '.join(STAGE_ORDER)}, cancelled")
    best = 0
    for event in view.get("events") or []:
        if event.get("kind") == "stage.changed":
            for key in ("source", "target"):
                name = (event.get("data") or {}).get(key)
                if name in STAGE_ORDER:
                    best = max(best, _stage_index(name))
    implied = [
        ("issued", bool(view.get("rfp"))),
        ("screening", any(x.get("screening") for x in view.get("vendors") or [])),
        ("evaluation", bool((view.get("evaluation") or {}).get("totals"))),
        ("trial-run", bool((view.get("trial") or {}).get("results"))),
        ("award-recommended", bool((view.get("award") or {}).get("vendor"))),
    ]
    for name, present in implied:
        if present:
            best = max(best, _stage_index(name))
    return STAGE_ORDER[best]


def _has_stage_data(view: Mapping[str, Any], stage: str) -> bool:
    if stage == "evaluation":
        return bool(view["evaluation"]["totals"])
    if stage == "trial-run":
        return bool(view["trial"]["results"])
    if stage in ("award-recommended", "awarded"):
        return bool(view["award"] and view["award"].get("vendor"))
    return True


def audience_of(spec: DocumentSpec) -> str:
    """Who a per-vendor document is for.

    1. a spec with an ``audience`` attribute (:class:`VendorDocumentSpec`) says so;
    2. else the name: ``award-letter`` or a name ending ``-winner`` is for the
       recommended vendor; ``regret-letter`` or ``-unsuccessful``: every other
       vendor that bid; a name ending ``-evaluated``, ``-screened-out`` or
       ``-shortlisted``: those vendors;
    3. else every vendor that bid (``bidders``).
    """
    declared = getattr(spec, "audience", None)
    if isinstance(declared, str) and declared in AUDIENCES:
        return declared
    if spec.name == "award-letter":
        return "winner"
    if spec.name == "regret-letter":
        return "unsuccessful"
    for audience in AUDIENCES:
        if spec.name.endswith(f"-{audience}"):
            return audience
    return "bidders"


def select_vendors(audience: str, view: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The vendors (view entries, sorted by id) a per-vendor document of ``audience`` is rendered for.

    ``view`` must be a prepared view (:func:`prepare_view`). ``winner`` and
    ``unsuccessful`` are empty until the view has an award.
    """
    vendors = sorted(view["vendors"], key=lambda x: str(x["id"]))
    award = view["award"]
    winner = str(award["vendor"]) if award and award.get("vendor") else None
    if audience == "bidders":
        return vendors
    if audience == "winner":
        return [x for x in vendors if winner is not None and x["id"] == winner]
    if audience == "unsuccessful":
        return [x for x in vendors if winner is not None and x["id"] != winner]
    if audience == "evaluated":
        evaluated = {t["vendor"] for t in view["evaluation"]["totals"]}
        return [x for x in vendors if x["id"] in evaluated]
    if audience == "screened-out":
        return [x for x in vendors if x["screening"] == "fail"]
    if audience == "shortlisted":
        return [x for x in vendors if x["id"] in set(view["shortlist"])]
    raise RenderError(f"unknown document audience {audience!r}; known: {', '.join(AUDIENCES)}")


# --------------------------------------------------------------------------
# What the templates receive
# --------------------------------------------------------------------------


def _names(view: Mapping[str, Any]) -> dict[str, str]:
    return {str(x["id"]): str(x["name"]) for x in view["vendors"]}


def _rank_key(entry: Mapping[str, Any]) -> tuple[float, str]:
    rank = entry.get("rank")
    return (float(rank) if isinstance(rank, int | float) else float("inf"), str(entry.get("vendor", "")))


def _ranked(view: Mapping[str, Any]) -> list[dict[str, Any]]:
    names = _names(view)
    rows = sorted(view["evaluation"]["totals"], key=_rank_key)
    return [dict(t, name=names.get(str(t["vendor"]), str(t["vendor"]))) for t in rows]


def _consensus(scores: Sequence[float], method: str) -> float | None:
    from rfpflow import scoring

    if not scores or method not in scoring.CONSENSUS_METHODS:
        return None
    try:
        return scoring.consensus(scores, method)
    except ValueError:
        return None


def _criterion_rows(view: Mapping[str, Any], ranked: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    rfp = view["rfp"]
    names = _names(view)
    evaluator_ids = [str(e["id"]) for e in rfp["evaluators"]]
    cells: dict[tuple[str, str], dict[str, float]] = {}
    comments: dict[str, list[dict[str, Any]]] = {}
    for s in view["evaluation"]["scores"]:
        crit, vendor, evaluator = str(s.get("criterion", "")), str(s.get("vendor", "")), str(s.get("evaluator", ""))
        if isinstance(s.get("score"), int | float):
            cells.setdefault((crit, vendor), {})[evaluator] = float(s["score"])
        if evaluator not in evaluator_ids:
            evaluator_ids.append(evaluator)
        if s.get("comment"):
            comments.setdefault(crit, []).append(
                {"evaluator": evaluator, "vendor": vendor, "name": names.get(vendor, vendor), "text": s["comment"]})
    method = str(rfp["scoring"]["consensus"])
    rows: list[dict[str, Any]] = []
    for crit in rfp["criteria"]:
        cid = str(crit["id"])
        vendors = []
        for total in ranked:
            vid = str(total["vendor"])
            given = cells.get((cid, vid), {})
            vendors.append({
                "vendor": vid, "name": total["name"], "points": total["breakdown"].get(cid),
                "scores": [given.get(e) for e in evaluator_ids],
                "consensus": _consensus([given[e] for e in sorted(given)], method),
            })
        rows.append({"criterion": crit, "evaluators": list(evaluator_ids), "vendors": vendors,
                     "judged": crit.get("source") == "judgement",
                     "comments": sorted(comments.get(cid, []), key=lambda c: (c["vendor"], c["evaluator"]))})
    return rows


def _criteria_groups(view: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Criteria grouped under their dimension (definition order); loose criteria last, under None."""
    criteria = {str(c["id"]): c for c in view["rfp"]["criteria"]}
    placed: set[str] = set()
    groups: list[dict[str, Any]] = []
    for dim in view["rfp"]["dimensions"]:
        members = [criteria[str(c)] for c in dim["children"] if str(c) in criteria]
        placed.update(str(c["id"]) for c in members)
        groups.append({"dimension": dim, "criteria": members})
    loose = [c for cid, c in criteria.items() if cid not in placed]
    if loose:
        groups.append({"dimension": None, "criteria": loose})
    return groups


def _letter(view: Mapping[str, Any], vendor: Mapping[str, Any]) -> dict[str, Any]:
    """What one vendor's letter says: how its bid fared and against what."""
    award = view["award"] or {}
    winner = str(award.get("vendor") or "")
    vid = str(vendor["id"])
    letter: dict[str, Any] = {"vendor": vid, "winner": winner, "successful": vid == winner and bool(winner),
                              "basis": "none", "rank": None, "of": None, "score": None, "winner_score": None,
                              "reasons": [], "shortlisted": vid in set(view["shortlist"]), "components": None}
    ranking = sorted(award.get("ranking") or [], key=_rank_key)
    totals = sorted(view["evaluation"]["totals"], key=_rank_key)
    by_final = {str(r["vendor"]): r for r in ranking}
    by_eval = {str(t["vendor"]): t for t in totals}
    if vendor["screening"] == "fail":
        letter["basis"] = "screening"
        for gate in vendor["gates"]:
            resolution = gate.get("resolution") or {}
            outcome = resolution.get("decision") or gate["outcome"]
            if outcome == "fail":
                reason = resolution.get("reason") or gate["reason"]
                letter["reasons"].append({"gate": gate["name"], "reason": reason})
    elif vid in by_final:
        own = by_final[vid]
        letter.update(basis="final", rank=own.get("rank"), of=len(ranking), score=own.get("total"),
                      winner_score=(by_final.get(winner) or {}).get("total"),
                      components={k: own.get(k) for k in ("evaluation", "price_score", "trial_score")})
    elif vid in by_eval:
        own = by_eval[vid]
        letter.update(basis="evaluation", rank=own.get("rank"), of=len(totals), score=own.get("total"),
                      winner_score=(by_eval.get(winner) or {}).get("total"))
    return letter


def document_context(view: Mapping[str, Any], spec: DocumentSpec, fmt: str,
                     recipient: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The variables a document template is rendered with (docs/documents.md lists them).

    ``view`` must be prepared (:func:`prepare_view`).
    """
    names = _names(view)
    ranked = _ranked(view)
    award = view["award"]
    winner_id = str(award["vendor"]) if award and award.get("vendor") else ""
    criteria = {str(c["id"]): c for c in view["rfp"]["criteria"]}
    evaluators = {str(e["id"]): e for e in view["rfp"]["evaluators"]}
    kpis = {str(k["id"]): k for k in view["rfp"]["kpis"]}
    threshold = view["rfp"]["scoring"]["outlier_threshold"]
    outliers = [dict(o, name=names.get(str(o.get("vendor")), str(o.get("vendor"))),
                     criterion_name=criteria.get(str(o.get("criterion")), {}).get("name", o.get("criterion")),
                     evaluator_name=evaluators.get(str(o.get("evaluator")), {}).get("name", o.get("evaluator")),
                     threshold=threshold)
                for o in sorted(view["evaluation"]["outliers"],
                                key=lambda o: (str(o.get("criterion")), str(o.get("vendor")), str(o.get("evaluator"))))]
    sensitivity = [dict(s, criterion_name=criteria.get(str(s.get("criterion")), {}).get("name", s.get("criterion")),
                        new_winner_name=names.get(str(s.get("new_winner")), s.get("new_winner")))
                   for s in view["evaluation"]["sensitivity"]]
    order = {str(t["vendor"]): i for i, t in enumerate(ranked)}
    trial_results = []
    for result in sorted(view["trial"]["results"],
                         key=lambda r: (order.get(str(r.get("vendor")), len(order)), str(r.get("vendor")))):
        rows = [dict(k, direction=kpis.get(str(k.get("kpi")), {}).get("direction", "higher"),
                     must_have=kpis.get(str(k.get("kpi")), {}).get("must_have", False)) for k in result["kpis"]]
        trial_results.append(dict(result, name=names.get(str(result.get("vendor")), str(result.get("vendor"))),
                                  kpis=rows))
    award_ranking = [dict(r, name=names.get(str(r.get("vendor")), str(r.get("vendor"))))
                     for r in sorted((award or {}).get("ranking") or [], key=_rank_key)]
    return {
        "view": view,
        "rfp": view["rfp"],
        "lang": view["rfp"]["language"],
        "doc": {"name": spec.name, "stage": spec.stage, "format": fmt, "template": spec.template,
                "per_vendor": spec.per_vendor, "audience": audience_of(spec) if spec.per_vendor else None},
        "stage_reached": reached_stage(view),
        "prices_sealed": bool(view["prices_sealed"]),
        "vendors": sorted(view["vendors"], key=lambda x: str(x["id"])),
        "vendor_names": names,
        "ranked": ranked,
        "criteria_groups": _criteria_groups(view),
        "criterion_rows": _criterion_rows(view, ranked),
        "outliers": outliers,
        "sensitivity": sensitivity,
        "trial_results": trial_results,
        "award": award,
        "award_ranking": award_ranking,
        "winner": next((x for x in view["vendors"] if str(x["id"]) == winner_id), None) if winner_id else None,
        "recipient": recipient,
        "letter": _letter(view, recipient) if recipient is not None else None,
    }


# --------------------------------------------------------------------------
# SVG charts
# --------------------------------------------------------------------------

_W = 680
_FONT = "'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','PingFang SC',Arial,sans-serif"
_PALETTE = ("#1f4e79", "#c55a11", "#548235", "#7f6000", "#7030a0", "#2e75b6", "#bf9000", "#7f7f7f")
_MET, _MISSED = "#548235", "#c00000"


def _n(x: float) -> str:
    """A coordinate or value for SVG: at most 2 decimals, no float noise, no ``-0``."""
    text = f"{_round_half_up(x, 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _text_width(text: str, size: float) -> float:
    return sum(size * (1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.58) for ch in text)


def _fit(text: str, width: float, size: float = 12) -> str:
    if _text_width(text, size) <= width:
        return text
    out = ""
    for ch in text:
        if _text_width(out + ch + "…", size) > width:
            break
        out += ch
    return out + "…"


def _nice_max(value: float) -> tuple[float, float]:
    """An axis maximum >= value and a tick step giving 4-5 ticks."""
    value = max(value, 1e-9)
    magnitude = 10 ** len(str(int(value))) / 10 if value >= 1 else 1.0
    for step_factor in (0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0):
        step = magnitude * step_factor
        if value / step <= 5:
            ticks = -(-value // step)
            return float(ticks * step), float(step)
    return float(value), float(value)


class _Svg:
    def __init__(self, title: str) -> None:
        self.title = title
        self.parts: list[str] = []

    def text(self, x: float, y: float, text: str, *, size: float = 12, anchor: str = "start", weight: str = "",
             fill: str = "#1a1a1a", full: str | None = None) -> None:
        bold = f' font-weight="{weight}"' if weight else ""
        tip = f"<title>{escape(full)}</title>" if full is not None and full != text else ""
        self.parts.append(f'<text x="{_n(x)}" y="{_n(y)}" font-size="{_n(size)}" text-anchor="{anchor}" '
                          f'fill="{fill}"{bold}>{tip}{escape(text)}</text>')

    def rect(self, x: float, y: float, w: float, h: float, fill: str, tip: str | None = None) -> None:
        inner = f"<title>{escape(tip)}</title>" if tip else ""
        self.parts.append(f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(max(w, 0.0))}" height="{_n(h)}" '
                          f'fill="{fill}">{inner}</rect>')

    def line(self, x1: float, y1: float, x2: float, y2: float, stroke: str = "#bbbbbb", dash: str = "",
             width: float = 1) -> None:
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" stroke="{stroke}" '
                          f'stroke-width="{_n(width)}"{dashed}></line>')

    def render(self, height: float) -> Markup:
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_n(height)}" '
                f'viewBox="0 0 {_W} {_n(height)}" style="max-width:100%;height:auto" role="img" '
                f'font-family="{_FONT}"><title>{escape(self.title)}</title>')
        return Markup(head + "".join(self.parts) + "</svg>")


def _no_data(title: str, lang: str) -> Markup:
    svg = _Svg(title)
    svg.text(10, 24, _label(lang, "chart.nodata"))
    return svg.render(40)


def _legend(svg: _Svg, y: float, items: Sequence[tuple[str, str]], *, dashed: set[str] | None = None) -> float:
    """Colour keys left to right, wrapping; returns the y below the legend."""
    x = 10.0
    for label, colour in items:
        width = 18 + _text_width(label, 11) + 18
        if x + width > _W - 10 and x > 10:
            x, y = 10.0, y + 18
        if dashed and label in dashed:
            svg.line(x, y - 4, x + 12, y - 4, stroke=colour, dash="4 3", width=2)
        else:
            svg.rect(x, y - 10, 12, 12, colour)
        svg.text(x + 18, y, label, size=11)
        x += width
    return y + 10


def _axis(svg: _Svg, left: float, width: float, top: float, bottom: float, axis_max: float, step: float,
          fmt: Callable[[float], str]) -> None:
    ticks = round(axis_max / step) if step else 0
    for i in range(ticks + 1):
        value = step * i
        x = left + width * value / axis_max
        svg.line(x, top, x, bottom, stroke="#dddddd")
        svg.text(x, bottom + 13, fmt(value), size=10, anchor="middle", fill="#555555")


def score_chart_svg(rows: Sequence[tuple[str, Mapping[str, float], float]], dimensions: Sequence[tuple[str, str]],
                    *, max_points: float = 100.0, lang: str = "en") -> Markup:
    """Stacked horizontal bars: one per vendor, one segment per dimension (weighted points).

    ``rows`` is ``(vendor label, {dimension id: points}, total)`` in display
    order; ``dimensions`` is ``(id, name)`` in legend order.
    """
    title = _label(lang, "chart.scores")
    if not rows:
        return _no_data(title, lang)
    left, right, row_h, bar_h, top = 180.0, 56.0, 26.0, 16.0, 12.0
    plot = _W - left - right
    largest = max([max_points, *(float(t) for _, _, t in rows if isinstance(t, int | float))])
    axis_max, step = _nice_max(largest)
    svg = _Svg(title)
    bottom = top + row_h * len(rows)
    _axis(svg, left, plot, top, bottom, axis_max, step, lambda v: format_number(v, 0))
    colours = {dim: _PALETTE[i % len(_PALETTE)] for i, (dim, _) in enumerate(dimensions)}
    dim_names = dict(dimensions)
    for i, (label, parts, total) in enumerate(rows):
        y = top + row_h * i + (row_h - bar_h) / 2
        svg.text(left - 8, y + bar_h - 4, _fit(label, left - 16), anchor="end", full=label)
        x = left
        for dim, _ in dimensions:
            value = max(float(parts.get(dim) or 0.0), 0.0)
            width = plot * value / axis_max
            svg.rect(x, y, width, bar_h, colours[dim],
                     tip=f"{label} · {dim_names[dim]}: {format_number(value, 1)}")
            x += width
        svg.text(x + 6, y + bar_h - 4, format_number(total, 1), size=11, weight="bold")
    end = _legend(svg, bottom + 36, [(name, colours[dim]) for dim, name in dimensions])
    return svg.render(end + 6)


def dimension_chart_svg(dimensions: Sequence[tuple[str, str, float | None]],
                        rows: Sequence[tuple[str, Mapping[str, float]]], *, lang: str = "en") -> Markup:
    """Small multiples: per dimension, each vendor's points as a share of the dimension's weight.

    ``dimensions`` is ``(id, name, weight)``; ``rows`` is ``(vendor label,
    {dimension id: points})`` in display order.
    """
    title = _label(lang, "chart.dimensions")
    usable = [(d, name, float(w)) for d, name, w in dimensions if isinstance(w, int | float) and w > 0]
    if not rows or not usable:
        return _no_data(title, lang)
    left, right, row_h, bar_h = 180.0, 70.0, 20.0, 12.0
    plot = _W - left - right
    svg = _Svg(title)
    y = 4.0
    for index, (dim, name, weight) in enumerate(usable):
        colour = _PALETTE[index % len(_PALETTE)]
        heading = f"{name} ({_label(lang, 'chart.weight')} {format_number(weight, 1)})"
        svg.text(10, y + 14, _fit(heading, _W - 20, 12), weight="bold", full=heading)
        top = y + 22
        bottom = top + row_h * len(rows)
        _axis(svg, left, plot, top, bottom, 1.0, 0.25, lambda v: format_percent(v, 0))
        for i, (label, parts) in enumerate(rows):
            share = max(float(parts.get(dim) or 0.0), 0.0) / weight
            by = top + row_h * i + (row_h - bar_h) / 2
            svg.text(left - 8, by + bar_h - 2, _fit(label, left - 16, 11), size=11, anchor="end", full=label)
            svg.rect(left, by, plot * min(share, 1.0), bar_h, colour,
                     tip=f"{label} · {name}: {format_number(parts.get(dim), 1)} / {format_number(weight, 1)}")
            svg.text(left + plot * min(share, 1.0) + 6, by + bar_h - 2, format_percent(share, 1), size=10)
        y = bottom + 26
    return svg.render(y)


def kpi_chart_svg(kpis: Sequence[tuple[str, str, str, float | None, str]],
                  rows: Sequence[tuple[str, Mapping[str, tuple[float | None, bool | None]]]], *,
                  lang: str = "en") -> Markup:
    """Trial KPI results against target: one panel per KPI, one bar per vendor, a dashed target line.

    ``kpis`` is ``(id, name, unit, target, direction)``; ``rows`` is ``(vendor
    label, {kpi id: (value, met)})``. Bars are green when the target was met.
    """
    title = _label(lang, "chart.kpis")
    if not rows or not kpis:
        return _no_data(title, lang)
    left, right, row_h, bar_h = 180.0, 80.0, 20.0, 12.0
    plot = _W - left - right
    svg = _Svg(title)
    y = 4.0
    for kid, name, unit, target, direction in kpis:
        values = [v for _, parts in rows for v in [parts.get(kid, (None, None))[0]] if isinstance(v, int | float)]
        largest = max([*values, float(target) if isinstance(target, int | float) else 0.0, 0.0])
        axis_max, step = _nice_max(largest * 1.05 if largest > 0 else 1.0)
        target_text = "" if target is None else f"{format_number(target, 1)} {unit}".strip()
        heading = f"{name} ({_label(lang, 'chart.target')} {target_text}; {_label(lang, direction)})"
        svg.text(10, y + 14, _fit(heading, _W - 20, 12), weight="bold", full=heading)
        top = y + 22
        bottom = top + row_h * len(rows)
        tick_label = functools.partial(format_number, digits=0 if step >= 1 else 2)
        _axis(svg, left, plot, top, bottom, axis_max, step, tick_label)
        for i, (label, parts) in enumerate(rows):
            value, met = parts.get(kid, (None, None))
            by = top + row_h * i + (row_h - bar_h) / 2
            svg.text(left - 8, by + bar_h - 2, _fit(label, left - 16, 11), size=11, anchor="end", full=label)
            if not isinstance(value, int | float):
                svg.text(left + 4, by + bar_h - 2, _label(lang, "none"), size=10)
                continue
            width = plot * max(float(value), 0.0) / axis_max
            state = _label(lang, "met" if met else "missed")
            svg.rect(left, by, width, bar_h, _MET if met else _MISSED,
                     tip=f"{label} · {name}: {format_number(value, 1)} {unit} ({state})")
            svg.text(left + width + 6, by + bar_h - 2, f"{format_number(value, 1)} {unit}".strip(), size=10)
        if isinstance(target, int | float):
            tx = left + plot * max(float(target), 0.0) / axis_max
            svg.line(tx, top - 4, tx, bottom, stroke="#1a1a1a", dash="4 3", width=1.5)
        y = bottom + 26
    end = _legend(svg, y + 4, [(_label(lang, "chart.met"), _MET), (_label(lang, "chart.missed"), _MISSED),
                               (_label(lang, "chart.target"), "#1a1a1a")], dashed={_label(lang, "chart.target")})
    return svg.render(end + 6)


def _dimension_list(view: Mapping[str, Any]) -> list[dict[str, Any]]:
    dims = list(view["rfp"]["dimensions"])
    known = {str(d["id"]) for d in dims}
    extra = sorted({str(k) for t in view["evaluation"]["totals"] for k in t["dimensions"]} - known)
    return dims + [{"id": k, "name": k, "weight": None, "children": []} for k in extra]


def _score_chart(view: Mapping[str, Any]) -> Markup:
    lang = str(view["rfp"]["language"])
    dims = _dimension_list(view)
    rows = [(str(t["name"]), {str(k): float(v) for k, v in t["dimensions"].items() if isinstance(v, int | float)},
             t.get("total") or 0.0) for t in _ranked(view)]
    weights = [float(d["weight"]) for d in dims if isinstance(d.get("weight"), int | float)]
    return score_chart_svg(rows, [(str(d["id"]), str(d["name"])) for d in dims],
                           max_points=sum(weights) or 100.0, lang=lang)


def _dimension_chart(view: Mapping[str, Any]) -> Markup:
    lang = str(view["rfp"]["language"])
    dims = _dimension_list(view)
    rows = [(str(t["name"]), {str(k): float(v) for k, v in t["dimensions"].items() if isinstance(v, int | float)})
            for t in _ranked(view)]
    return dimension_chart_svg([(str(d["id"]), str(d["name"]), d.get("weight")) for d in dims], rows, lang=lang)


def _kpi_chart(view: Mapping[str, Any]) -> Markup:
    lang = str(view["rfp"]["language"])
    names = _names(view)
    order = {str(t["vendor"]): i for i, t in enumerate(_ranked(view))}
    results = sorted(view["trial"]["results"],
                     key=lambda r: (order.get(str(r.get("vendor")), len(order)), str(r.get("vendor"))))
    kpis: list[tuple[str, str, str, float | None, str]] = [
        (str(k["id"]), str(k["name"]), str(k["unit"] or ""),
         float(k["target"]) if isinstance(k.get("target"), int | float) else None, str(k["direction"]))
        for k in view["rfp"]["kpis"]]
    known = {k[0] for k in kpis}
    for result in results:  # KPIs measured but not in the definition (a plugin's)
        for k in result["kpis"]:
            if str(k.get("kpi")) not in known:
                known.add(str(k.get("kpi")))
                target = k.get("target")
                kpis.append((str(k.get("kpi")), str(k.get("name") or k.get("kpi")), str(k.get("unit") or ""),
                             float(target) if isinstance(target, int | float) else None, "higher"))
    rows = [(names.get(str(r["vendor"]), str(r["vendor"])),
             {str(k.get("kpi")): (k.get("value"), k.get("met")) for k in r["kpis"]}) for r in results]
    return kpi_chart_svg(kpis, rows, lang=lang)


# --------------------------------------------------------------------------
# The environment
# --------------------------------------------------------------------------


def _language(rfp_language: str) -> str:
    lang = (rfp_language or "en").lower().replace("_", "-").split("-", 1)[0]
    if lang not in _LANGUAGES:
        raise RenderError(f"no document templates for language {rfp_language!r}; rfpflow has: {', '.join(_LANGUAGES)}")
    return lang


def template_dirs(host: PluginHost, rfp_language: str, workspace: Path | None) -> list[Path]:
    """The folders searched for a template name, in order (the ``default:`` prefix aside)."""
    dirs: list[Path] = []
    if workspace is not None:
        dirs.append(Path(workspace) / "templates")
    found: list[Path | str] = host.collect("rfpflow_template_dirs", (Path, str))
    dirs.extend(Path(p) for p in found)
    dirs.append(template_root() / _language(rfp_language))
    unique: list[Path] = []
    for path in dirs:
        if path not in unique:
            unique.append(path)
    return unique


def make_environment(host: PluginHost, rfp_language: str, workspace: Path | None, *,
                     rfp: Rfp | None = None) -> jinja2.Environment:
    """The sandboxed Jinja environment documents render in.

    Templates are looked up in the workspace's ``templates/`` folder, then in
    the folders plugins return from ``rfpflow_template_dirs``, then in the
    defaults for the language; ``default:NAME`` always names the default (so
    an override can ``{% extends "default:NAME" %}``). The environment is an
    :class:`~jinja2.sandbox.ImmutableSandboxedEnvironment` with
    ``StrictUndefined``; plugins adjust it through ``rfpflow_prepare_jinja_env``
    (called with ``rfp``, which is None when rendering from a view alone).
    """
    lang = _language(rfp_language)
    defaults = template_root() / lang
    searched = [jinja2.FileSystemLoader(str(p), encoding="utf-8")
                for p in template_dirs(host, lang, workspace) if p.is_dir()]
    loader = jinja2.ChoiceLoader([
        jinja2.PrefixLoader({"default": jinja2.FileSystemLoader(str(defaults), encoding="utf-8")}, delimiter=":"),
        *searched,
    ])
    env = ImmutableSandboxedEnvironment(
        loader=loader, autoescape=_autoescape, undefined=jinja2.StrictUndefined, finalize=_finalize,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, auto_reload=False,
    )

    @jinja2.pass_context
    def t(context: jinja2.runtime.Context, key: object) -> str:
        return _label(str(context.get("lang", lang)), str(key))

    @jinja2.pass_context
    def long_date(context: jinja2.runtime.Context, value: object) -> str:
        return _formatted(format_long_date)(value, str(context.get("lang", lang)))

    env.filters.update({
        "t": t, "money": _money_filter, "date": _formatted(format_date), "datetime": _formatted(format_datetime),
        "long_date": long_date, "pct": _formatted(format_percent), "num": _formatted(format_number),
        "md": md_escape, "json": _json_filter,
    })
    env.globals.update({
        "t": t, "score_chart": _score_chart, "dimension_chart": _dimension_chart, "kpi_chart": _kpi_chart,
        "STAGE_ORDER": STAGE_ORDER,
    })
    host.call("rfpflow_prepare_jinja_env", firstresult=False, env=env, rfp=rfp)
    return env


# --------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------


def template_names(spec: DocumentSpec) -> dict[str, str]:
    """Format -> template name. ``template`` may be a base name (``award-letter``:
    ``.<fmt>.j2`` is appended), a name for one format (``x.html.j2``: the format
    part is swapped for each format) or contain ``{fmt}``."""
    names: dict[str, str] = {}
    for fmt in spec.formats:
        if "{fmt}" in spec.template:
            names[fmt] = spec.template.replace("{fmt}", fmt)
            continue
        base = spec.template.removesuffix(".j2")
        for known in (*FORMATS, *spec.formats):
            if base.endswith(f".{known}"):
                base = base[: -len(known) - 1]
                break
        names[fmt] = f"{base}.{fmt}.j2"
    return names


def documents_due(view: Mapping[str, Any], specs: Iterable[DocumentSpec], stage: str | None = None
                  ) -> list[DocumentSpec]:
    """The documents to render for a prepared view, sorted by name.

    A document is due when the cycle is at or past its stage (``*``: any stage
    from ``issued``), the stage's results are in the view (evaluation totals,
    trial results, an award) and, with ``stage`` given, its stage is ``stage``
    (``*`` documents are always included). A spec limited to ``profiles`` is
    due only for cycles made from one of them.
    """
    reached = _stage_index(reached_stage(view))
    profile = (view.get("rfp") or {}).get("profile")
    due: list[DocumentSpec] = []
    for spec in sorted(specs, key=lambda s: s.name):
        if spec.profiles and profile not in spec.profiles:
            continue  # an organisation's document, for its own profile's tenders only
        if spec.stage == EVERY_STAGE:
            if reached >= _stage_index("issued"):
                due.append(spec)
            continue
        if spec.stage not in STAGE_ORDER:
            raise RenderError(f"document {spec.name!r} is registered for an unknown stage {spec.stage!r}; "
                              f"stages: {', '.join(STAGE_ORDER)} or {EVERY_STAGE!r} for every stage")
        if stage is not None and spec.stage != stage:
            continue
        if _stage_index(spec.stage) <= reached and _has_stage_data(view, spec.stage):
            due.append(spec)
    return due


def _shown_path(filename: str, workspace: Path | None) -> str:
    path = Path(filename)
    for base, prefix in ((workspace, ""), (template_root(), "rfpflow default templates: ")):
        if base is None:
            continue
        try:
            return prefix + path.resolve().relative_to(Path(base).resolve()).as_posix()
        except ValueError:
            continue
    return filename


def _template_file(exc: BaseException, fallback: str | None, dirs: Sequence[Path]) -> str | None:
    """The innermost template file in the traceback (Jinja puts template files in it), else ``fallback``."""
    roots = [str(d.resolve()) + os.sep for d in dirs]
    found = fallback
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        name = frame.f_code.co_filename
        if name.endswith(".j2") or any(name.startswith(root) for root in roots):
            found = name
    return found


def _render_error(exc: BaseException, spec: DocumentSpec, template: jinja2.Template | None, name: str,
                  workspace: Path | None, dirs: Sequence[Path]) -> RenderError:
    if isinstance(exc, jinja2.TemplateSyntaxError):
        where = _shown_path(exc.filename or exc.name or name, workspace)
        return RenderError(f"document {spec.name!r}: template {where}, line {exc.lineno}: {exc.message}")
    file = _template_file(exc, template.filename if template is not None else None, dirs)
    where = _shown_path(file, workspace) if file else name
    if isinstance(exc, jinja2.exceptions.SecurityError):
        return RenderError(f"document {spec.name!r}: template {where} tried something the template sandbox "
                           f"forbids: {exc}")
    if isinstance(exc, jinja2.TemplateNotFound):
        return RenderError(f"document {spec.name!r}: template {where} needs {exc.name!r}, which is in no template "
                           f"folder")
    if isinstance(exc, jinja2.UndefinedError):
        return RenderError(f"document {spec.name!r}: template {where} uses something the cycle view does not "
                           f"have: {exc}")
    if isinstance(exc, RecursionError):
        return RenderError(f"document {spec.name!r}: template {where} includes or extends itself; use "
                           f"'default:NAME' to extend the default template")
    return RenderError(f"document {spec.name!r}: template {where} failed: {type(exc).__name__}: {exc}")


def _load(env: jinja2.Environment, name: str, spec: DocumentSpec, dirs: Sequence[Path],
          workspace: Path | None) -> jinja2.Template:
    try:
        return env.get_template(name)
    except jinja2.TemplateNotFound as exc:
        if exc.name != name:
            raise _render_error(exc, spec, None, name, workspace, dirs) from exc
        searched = ", ".join(str(d) for d in dirs)
        raise RenderError(f"document {spec.name!r}: no template {name!r} (searched {searched}); provide it or "
                          f"register the document with fewer formats") from exc
    except Exception as exc:
        raise _render_error(exc, spec, None, name, workspace, dirs) from exc


def render_documents(view: Mapping[str, Any], host: PluginHost, *, workspace: Path | None, out_dir: Path,
                     stage: str | None = None, rfp: Rfp | None = None) -> list[Path]:
    """Render every due document (see :func:`documents_due`) into ``out_dir``; return the paths, sorted.

    Per-vendor documents render once for each vendor of their audience
    (:func:`audience_of`) as ``<name>-<vendor name>.<fmt>``, others as
    ``<name>.<fmt>``; file names are made safe by :func:`sanitize_filename`.
    Files are UTF-8 with ``\\n`` line ends. Raises :class:`RenderError`
    naming the document and template file when a template fails.
    """
    prepared = prepare_view(view)
    env = make_environment(host, str(prepared["rfp"]["language"]), workspace, rfp=rfp)
    dirs = template_dirs(host, str(prepared["rfp"]["language"]), workspace)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    root = out_dir.resolve()
    taken: set[str] = set()
    jobs: list[tuple[DocumentSpec, str, dict[str, Any] | None]] = []
    for spec in documents_due(prepared, host.documents().items.values(), stage):
        if spec.per_vendor:
            for vendor in select_vendors(audience_of(spec), prepared):
                part = _clean_name(str(vendor["name"]))[:60] or _clean_name(str(vendor["id"]))[:60] or "vendor"
                jobs.append((spec, sanitize_filename(f"{spec.name}-{part}", taken), vendor))
        else:
            jobs.append((spec, sanitize_filename(spec.name, taken), None))
    written: list[Path] = []
    for spec, stem, recipient in jobs:
        for fmt, name in template_names(spec).items():
            if not re.fullmatch(r"[a-z0-9]{1,10}", fmt):
                raise RenderError(f"document {spec.name!r}: format {fmt!r} is not a file extension")
            template = _load(env, name, spec, dirs, workspace)
            try:
                text = template.render(document_context(prepared, spec, fmt, recipient))
            except RenderError:
                raise
            except Exception as exc:
                raise _render_error(exc, spec, template, name, workspace, dirs) from exc
            target = (root / f"{stem}.{fmt}").resolve()
            if target.parent != root:
                raise RenderError(f"document {spec.name!r}: refusing to write outside {root}: {target}")
            with target.open("w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
            written.append(target)
    return sorted(written)
