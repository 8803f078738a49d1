"""rfpflow-worldbank: the ``worldbank-qcbs`` profile (World Bank quality- and cost-based selection).

What this plugin adds (its README explains each rule and where it comes from):

* the profile ``worldbank-qcbs`` (English): technical criteria scored to St
  (0-100), a minimum technical score of 75, two envelopes, and the combined
  score S = St x T + Sf x (1 - T) with Sf = 100 x lowest price / price, T = 0.8;
* the scoring method ``qcbs`` (kind ``award``): :func:`rfpflow_worldbank.qcbs.qcbs`;
* checks of a ``worldbank-qcbs`` rfp.toml (:func:`validate`);
* the award rule: the proposal with the highest S among those reaching the
  minimum technical score, whose financial proposals alone are compared;
* the document ``notification-of-intention-to-award``, one per consultant, with
  the combined scores and the standstill period.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from rfpflow import hookimpl
from rfpflow.context import RunContext
from rfpflow.errors import Problem, RfpflowError
from rfpflow.model import AwardDecision, Ranking, Rfp
from rfpflow.options import suggest
from rfpflow.registry import DocumentSpec, Profile, ScoringMethod
from rfpflow_worldbank.qcbs import DEFAULT_MINIMUM_TECHNICAL, DEFAULT_TECHNICAL_WEIGHT, QcbsResult, qcbs

__all__ = ["OPTIONS", "PLUGIN", "PROFILE", "QcbsResult", "documents", "qcbs", "settings", "validate"]

RFPFLOW_HOOK_API = (1, 1)  # uses rfpflow_award_ranking (hook API 1.1)

PROFILE = "worldbank-qcbs"
#: This plugin's firstresult hooks answer only for RFPs of this profile (no conflict with others).
RFPFLOW_PROFILES = (PROFILE,)
#: The ``[plugins.worldbank]`` table of rfp.toml.
PLUGIN = "worldbank"
#: ``[plugins.worldbank]`` options and their types.
OPTIONS: Mapping[str, type | tuple[type, ...]] = {"minimum_technical": (int, float), "technical_weight": float}
#: Usual range of the technical weight T.
USUAL_TECHNICAL_WEIGHT = (0.7, 0.9)
#: Calendar days that cover a standstill of 10 business days (two working weeks).
STANDSTILL_CALENDAR_DAYS = 14
TEMPLATES = Path(__file__).resolve().parent / "templates"


def documents() -> tuple[DocumentSpec, ...]:
    """The notification, one per consultant (rfpflow.documents, and so Jinja, is imported only when needed)."""
    from rfpflow.registry import VendorDocumentSpec

    return (VendorDocumentSpec("notification-of-intention-to-award", "notification-of-intention-to-award",
                               "award-recommended", audience="bidders", profiles=(PROFILE,)),)


@hookimpl
def rfpflow_register_profiles(register: Callable[[Profile], None]) -> None:
    from importlib import resources

    text = resources.files(__package__).joinpath("profiles", f"{PROFILE}.en.toml").read_text(encoding="utf-8")
    register(Profile(
        name=PROFILE,
        title="World Bank quality- and cost-based selection of consultants (worldbank-qcbs)",
        description="Technical score St with a 75-point minimum, two envelopes, Sf = 100 x lowest price / price, "
                    "S = 0.8 St + 0.2 Sf; notification of intention to award with its standstill period.",
        templates={"en": text},
        timezone="Africa/Nairobi",
    ))


@hookimpl
def rfpflow_register_scoring_methods(register: Callable[[ScoringMethod], None]) -> None:
    register(ScoringMethod("qcbs", "award", "QCBS: S = St x T + Sf x (1 - T), Sf = 100 x lowest price / price, "
                                            "proposals below the minimum technical score rejected", qcbs))


@hookimpl
def rfpflow_register_documents(register: Callable[[DocumentSpec], None]) -> None:
    for spec in documents():
        register(spec)


@hookimpl
def rfpflow_template_dirs() -> list[Path]:
    return [TEMPLATES]


def settings(rfp: Rfp) -> tuple[float, float]:
    """``(technical_weight, minimum_technical)`` of an RFP, defaults filled in."""
    options = rfp.options_for(PLUGIN)
    weight = options.get("technical_weight", DEFAULT_TECHNICAL_WEIGHT)
    minimum = options.get("minimum_technical", DEFAULT_MINIMUM_TECHNICAL)
    return float(weight), float(minimum)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def validate(rfp: Rfp) -> list[Problem]:
    """Every problem of a ``worldbank-qcbs`` definition."""
    problems: list[Problem] = []
    options = rfp.options_for(PLUGIN)
    for key, value in options.items():
        field = f"plugins.{PLUGIN}.{key}"
        if key not in OPTIONS:
            problems.append(Problem(f"the worldbank plugin has no option {key!r}{suggest(key, OPTIONS)}; "
                                    f"options: {', '.join(OPTIONS)}", field=field))
        elif not _number(value):
            problems.append(Problem(f"must be a number, got {value!r}", field=field))
    minimum = options.get("minimum_technical")
    if minimum is None:
        problems.append(Problem(f"declare the minimum technical score: minimum_technical = "
                                f"{DEFAULT_MINIMUM_TECHNICAL:g} (proposals below it are rejected unopened)",
                                field=f"plugins.{PLUGIN}"))
    elif _number(minimum) and not 0 < minimum <= 100:
        problems.append(Problem(f"must be a score from 0 to 100, got {minimum}",
                                field=f"plugins.{PLUGIN}.minimum_technical"))
    elif _number(minimum) and minimum != DEFAULT_MINIMUM_TECHNICAL:
        problems.append(Problem(f"is {minimum:g}; the worldbank-qcbs profile is written for "
                                f"{DEFAULT_MINIMUM_TECHNICAL:g}: state the minimum in the request for proposals",
                                field=f"plugins.{PLUGIN}.minimum_technical", severity="warning"))
    weight = options.get("technical_weight", DEFAULT_TECHNICAL_WEIGHT)
    if _number(weight) and not 0 < weight < 1:
        problems.append(Problem(f"T must be between 0 and 1, got {weight}", field=f"plugins.{PLUGIN}.technical_weight"))
    elif _number(weight) and not USUAL_TECHNICAL_WEIGHT[0] <= weight <= USUAL_TECHNICAL_WEIGHT[1]:
        problems.append(Problem(f"T = {weight} is outside the usual {USUAL_TECHNICAL_WEIGHT[0]}-"
                                f"{USUAL_TECHNICAL_WEIGHT[1]}", field=f"plugins.{PLUGIN}.technical_weight",
                                severity="warning"))
    if not rfp.two_envelope:
        problems.append(Problem("QCBS opens the financial proposals only after the technical evaluation: set "
                                "two_envelope = true", field="two_envelope"))
    priced = [c.id for c in rfp.leaf_criteria() if c.source.kind == "price"]
    if priced:
        problems.append(Problem(f"the technical score St may not include the price ({', '.join(priced)}): the "
                                "price enters through Sf in [scoring] award", field="criteria"))
    if _number(weight) and 0 < weight < 1:
        expected = {"evaluation": float(weight), "price": round(1 - float(weight), 10)}
        given = {k: float(v) for k, v in rfp.scoring.award_weights.items() if v}
        if set(given) != set(expected) or not all(math.isclose(given[k], expected[k]) for k in expected):
            problems.append(Problem(
                f"must be {{ evaluation = {expected['evaluation']:g}, price = {expected['price']:g} }} so that "
                f"S = St x {expected['evaluation']:g} + Sf x {expected['price']:g}", field="scoring.award"))
    if rfp.scoring.price_formula != "lowest-ratio":
        problems.append(Problem(f"Sf = 100 x lowest price / price: use \"lowest-ratio\", not "
                                f"{rfp.scoring.price_formula!r}", field="scoring.price_formula"))
    if rfp.standstill_days is None or rfp.standstill_days < STANDSTILL_CALENDAR_DAYS:
        problems.append(Problem(
            f"the standstill period is 10 business days; rfpflow counts calendar days, so set standstill_days = "
            f"{STANDSTILL_CALENDAR_DAYS} or more (more across public holidays)",
            field="award.standstill_days" if rfp.standstill_days is not None else "award", severity="warning"))
    return problems


@hookimpl
def rfpflow_validate_rfp(rfp: Rfp, context: RunContext) -> list[Problem] | None:
    return validate(rfp) if rfp.profile == PROFILE else None


@hookimpl
def rfpflow_award_ranking(ranking: Ranking, rfp: Rfp, context: RunContext) -> Ranking | None:
    """The QCBS ranking: S = St x T + Sf x (1 - T) among proposals reaching the minimum St.

    Financial scores use the lowest price *among the qualified proposals*; firms below
    the minimum technical score are listed after them, their financial proposals unopened.
    """
    if rfp.profile != PROFILE or not ranking.entries:
        return None
    weight, minimum = settings(rfp)
    entries = list(ranking.entries)
    technical = [float(e.breakdown.get("evaluation_score", e.breakdown.get("technical_score", 0.0)))
                 for e in entries]
    result = qcbs(technical, [float(e.price) if e.price is not None else None for e in entries],
                  technical_weight=weight, minimum_technical=minimum)
    order = sorted(range(len(entries)), key=lambda i: (not result.qualified[i], result.ranks[i], i))
    ranked = []
    for position, i in enumerate(order, start=1):
        entry = entries[i]
        score = result.scores[i]
        breakdown = {**entry.breakdown, "technical_score": technical[i],
                     "financial_score": result.financial[i] or 0.0, "qcbs_score": score or 0.0,
                     "below_minimum": 0.0 if result.qualified[i] else 1.0}
        ranked.append(attrs.evolve(entry, rank=position, total_score=score or 0.0, breakdown=breakdown))
    rejected = [e.vendor_id for e, ok in zip(entries, result.qualified, strict=True) if not ok]
    notes = (f"QCBS: S = St x {weight:g} + Sf x {1 - weight:g}, Sf = 100 x lowest qualified price / price; "
             f"technical minimum {minimum:g}" + (f"; below it, financial proposal not opened: {', '.join(rejected)}"
                                                   if rejected else ""),)
    return attrs.evolve(ranking, method="qcbs", entries=tuple(ranked), tied_groups=(), notes=notes)


@hookimpl
def rfpflow_decide_award(ranking: Ranking, rfp: Rfp, context: RunContext) -> AwardDecision | None:
    """Refuse an award when no proposal reached the minimum technical score (else follow the QCBS ranking)."""
    if rfp.profile != PROFILE or not ranking.entries:
        return None
    top = ranking.entries[0]
    if top.breakdown.get("below_minimum"):
        _, minimum = settings(rfp)
        raise RfpflowError(f"no proposal reached the minimum technical score of {minimum:g} with a financial "
                           "proposal: there is nothing to award")
    return AwardDecision(top.vendor_id, "", follows_ranking=True, decided_by=PLUGIN)
