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

import json
import os
import re
import traceback
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from rfpflow.documents.charts import (
    dimension_chart,
    dimension_chart_svg,
    kpi_chart,
    kpi_chart_svg,
    score_chart,
    score_chart_svg,
)
from rfpflow.documents.labels import label_for
from rfpflow.documents.price_comparison import price_comparison
from rfpflow.documents.view import decisive_changes, rank_key, seal_prices, vendor_names
from rfpflow.documents.view import ranked as ranked_totals
from rfpflow.errors import RfpflowError
from rfpflow.formatting import (
    format_date,
    format_datetime,
    format_long_date,
    format_money,
    format_number,
    format_percent,
    format_quantity,
)
from rfpflow.model import STAGE_ORDER
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

#: Output formats the builtin templates exist in.
FORMATS: tuple[str, ...] = ("html", "md")

_LANGUAGES = ("en", "zh")
_MAX_NAME = 80


class RenderError(RfpflowError):
    """A document could not be rendered: a template is missing, wrong or unsafe."""


# --------------------------------------------------------------------------
# Labels the Python side prints (prose lives in the per-language templates)
# --------------------------------------------------------------------------


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


@jinja2.pass_context
def _money_filter(context: jinja2.runtime.Context, value: object, currency: str | None = None) -> str:
    view = context.get("view") or {}
    if currency is None:
        currency = str(((view.get("rfp") or {}).get("currency")) or "")
    lang = str(context.get("lang", "en"))
    missing = label_for(lang, "sealed") if view.get("prices_sealed") else label_for(lang, "none")
    text = format_money(value, currency, missing=missing)
    return text if isinstance(value, str) and text == value else Markup(escape(text))


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


def _defaults(obj: dict[str, Any], /, **values: Any) -> dict[str, Any]:
    for key, value in values.items():
        if obj.get(key) is None:
            obj[key] = value
    return obj


def prepare_view(view: Mapping[str, Any]) -> dict[str, Any]:
    """A deep, key-sorted copy of ``view`` with every optional section defaulted.

    Templates run with ``StrictUndefined``; after this they can rely on every
    documented key existing (lists empty, ``award`` None before the award).
    While ``prices_sealed`` is true, prices are sealed by the view's one rule
    (:func:`rfpflow.documents.view.seal_prices`).
    """
    v: dict[str, Any] = json.loads(json.dumps(view, sort_keys=True, default=str))
    events = v.get("events") or []
    _defaults(v, stage="draft", chain_head="", event_count=len(events), as_of="", prices_sealed=False,
              definition_hash="", shortlist=[], events=events)
    if not isinstance(v.get("rfp"), dict):
        v["rfp"] = {}
    rfp = _defaults(v["rfp"], id="", title="", buyer="", category="", currency="", language="en", profile="",
                    timezone="UTC",
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
    v = seal_prices(v)
    for total in v["evaluation"]["totals"]:
        total.setdefault("price", None)  # sealed prices are dropped; templates still find the key
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
    names = vendor_names(view)
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
    ranking = sorted(award.get("ranking") or [], key=rank_key)
    totals = sorted(view["evaluation"]["totals"], key=rank_key)
    by_final = {str(r["vendor"]): r for r in ranking}
    by_eval = {str(t["vendor"]): t for t in totals}
    if vendor.get("status") in ("withdrawn", "excluded"):
        # withdrawn by the vendor or excluded by the buyer: never evaluated, and the letter says why
        letter.update(basis=vendor["status"], status_reason=str(vendor.get("status_reason") or ""))
    elif vendor["screening"] == "fail":
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
    # why, stage by stage: the evaluation rank (the evaluation report's numbers) and the trial verdict
    letter["evaluation"] = None
    letter["trial"] = None
    if letter["basis"] in ("final", "evaluation") and vid in by_eval:
        own = by_eval[vid]
        letter["evaluation"] = {"rank": own.get("rank"), "of": len(totals), "score": own.get("total")}
    trial = next((r for r in ((view.get("trial") or {}).get("results") or []) if str(r.get("vendor")) == vid), None)
    if trial is not None and letter["basis"] != "screening":
        must = {str(k.get("id")) for k in (view["rfp"].get("kpis") or []) if k.get("must_have")}
        missed = [{"name": k.get("name") or k.get("kpi"), "value": k.get("value"), "target": k.get("target"),
                   "unit": k.get("unit") or "", "must_have": str(k.get("kpi")) in must}
                  for k in trial.get("kpis") or [] if not k.get("met")]
        letter["trial"] = {"passed": bool(trial.get("passed")), "score": trial.get("score"), "missed": missed}
    return letter


def document_context(view: Mapping[str, Any], spec: DocumentSpec, fmt: str,
                     recipient: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The variables a document template is rendered with (docs/documents.md lists them).

    ``view`` must be prepared (:func:`prepare_view`).
    """
    names = vendor_names(view)
    ranked = ranked_totals(view)
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
    leader = view["evaluation"].get("sensitivity_leader") or next((str(t["vendor"]) for t in ranked), None)
    sensitivity = [dict(s, criterion_name=criteria.get(str(s.get("criterion")), {}).get("name", s.get("criterion")),
                        new_winner_name=names.get(str(s.get("new_winner")), s.get("new_winner")),
                        leader_name=names.get(str(leader), leader))
                   for s in decisive_changes(view["evaluation"]["sensitivity"], leader)]
    order = {str(t["vendor"]): i for i, t in enumerate(ranked)}
    trial_results = []
    for result in sorted(view["trial"]["results"],
                         key=lambda r: (order.get(str(r.get("vendor")), len(order)), str(r.get("vendor")))):
        rows = [dict(k, direction=kpis.get(str(k.get("kpi")), {}).get("direction", "higher"),
                     must_have=kpis.get(str(k.get("kpi")), {}).get("must_have", False)) for k in result["kpis"]]
        trial_results.append(dict(result, name=names.get(str(result.get("vendor")), str(result.get("vendor"))),
                                  kpis=rows))
    reported = {str(t["vendor"]): t.get("total") for t in view["evaluation"]["totals"]}
    award_ranking = [dict(r, name=names.get(str(r.get("vendor")), str(r.get("vendor"))),
                          evaluation_report=reported.get(str(r.get("vendor"))))
                     for r in sorted((award or {}).get("ranking") or [], key=rank_key)]
    # a later stage that re-scores (price among the finalists) shows both numbers, labelled
    rescored = any(r["evaluation_report"] is not None and r.get("evaluation") is not None
                   and round(float(r["evaluation"]), 2) != round(float(r["evaluation_report"]), 2)
                   for r in award_ranking)
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
        "rescored": rescored,
        "price_comparison": price_comparison(view),
        "winner": next((x for x in view["vendors"] if str(x["id"]) == winner_id), None) if winner_id else None,
        "recipient": recipient,
        "letter": _letter(view, recipient) if recipient is not None else None,
    }


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
        return label_for(str(context.get("lang", lang)), str(key))

    @jinja2.pass_context
    def long_date(context: jinja2.runtime.Context, value: object) -> str:
        return _formatted(format_long_date)(value, str(context.get("lang", lang)))

    env.filters.update({
        "t": t, "money": _money_filter, "date": _formatted(format_date), "datetime": _formatted(format_datetime),
        "long_date": long_date, "pct": _formatted(format_percent), "num": _formatted(format_number),
        "qty": _formatted(format_quantity),
        "md": md_escape, "json": _json_filter,
    })
    env.globals.update({
        "t": t, "score_chart": score_chart, "dimension_chart": dimension_chart, "kpi_chart": kpi_chart,
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
        if spec.name == "price-comparison" and price_comparison(view) is None:
            continue  # sealed prices (two envelopes) or nothing priced: no comparison yet
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
            _write_atomically(target, text)
            written.append(target)
    return sorted(written)


def _write_atomically(target: Path, text: str) -> None:
    """Write ``target`` through a temporary file and a rename, so that a full disk or a crash never
    leaves a truncated document where a good one was: the old one stays until the new one is whole."""
    temporary = target.with_name(f".{target.name}.partial")
    try:
        with temporary.open("w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
