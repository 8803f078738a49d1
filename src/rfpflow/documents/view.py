"""The cycle view: everything documents and exports are made from, as plain JSON data.

:func:`build_view` reads a cycle's records and returns a dict of strings,
numbers, lists and dicts (documented in docs/cycle-view.md);
``rfpflow.workflow.cycle_view(context)`` is the hook-facing entry point.
Templates and exporters never touch the store or the clock: the view's
``as_of`` is the time of the last recorded event, so rendering the same
cycle twice gives the same bytes. In two-envelope mode prices are removed
from the view until technical evaluation is complete (``prices_sealed``).
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from rfpflow.bids import bid_record
from rfpflow.documents.labels import label_for
from rfpflow.formatting import parse_decimal
from rfpflow.model import PRICE_GATE_KINDS, STAGE_ORDER, Criterion, Rfp, Stage
from rfpflow.records import StoredBid, StoredGateResult, summarize
from rfpflow.store import CycleState, Event

__all__ = [
    "PRICE_GATE_KINDS",
    "SEALED_REASON",
    "STAGE_ORDER",
    "VIEW_SCHEMA",
    "CycleRecords",
    "award_view",
    "build_view",
    "evaluation_view",
    "prices_sealed",
    "rank_key",
    "ranked",
    "rfp_view",
    "seal_prices",
    "sealed",
    "trial_view",
    "vendor_names",
]

VIEW_SCHEMA = 1


class CycleRecords(Protocol):
    """What the view reads of a cycle (``rfpflow.workflow.Cycle`` provides it)."""

    def state(self) -> CycleState | None: ...
    def events(self) -> list[Event]: ...
    def record(self, collection: str, key: str) -> Any | None: ...
    def screening(self) -> list[StoredGateResult]: ...
    def bids(self) -> list[StoredBid]: ...


def _text(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def rfp_view(rfp: Rfp) -> dict[str, Any]:
    """The definition as plain data."""
    criteria: list[dict[str, Any]] = []

    def walk(node: Criterion, parent: str | None) -> None:
        if node.is_leaf:
            criteria.append({
                "id": node.id, "name": node.name, "weight": node.weight, "direction": node.direction,
                "source": node.source.kind, "parent": parent, "scale": list(node.scale), "guidance": node.guidance,
            })
        for child in node.children:
            walk(child, node.id)

    for root in rfp.criteria:
        walk(root, None)
    t = rfp.timeline
    return {
        "id": rfp.id, "title": rfp.title, "buyer": rfp.buyer, "category": rfp.category, "currency": rfp.currency,
        "language": rfp.language, "profile": rfp.profile, "timezone": rfp.timezone or "UTC",
        "contract_value": _text(rfp.contract_value), "budget_ceiling": _text(rfp.budget_ceiling),
        "two_envelope": rfp.two_envelope,
        "timeline": {name: _text(getattr(t, name)) for name in
                     ("issue_date", "clarification_deadline", "bid_deadline", "trial_start", "trial_end",
                      "decision_date", "contract_start")},
        "criteria": criteria,
        "dimensions": [{"id": c.id, "name": c.name, "weight": c.weight, "children": [leaf.id for leaf in c.leaves()]}
                       for c in rfp.criteria],
        "gates": [{"id": g.id, "kind": g.kind, "name": g.name, "on_fail": g.on_fail} for g in rfp.gates],
        "line_items": [{"id": i.id, "description": i.description, "unit": i.unit, "quantity": _text(i.quantity)}
                       for i in rfp.line_items],
        "questionnaire": [{"id": q.id, "text": q.text, "mandatory": q.mandatory, "choices": list(q.choices)}
                          for q in rfp.questionnaire],
        "kpis": [{"id": k.id, "name": k.name, "unit": k.unit, "target": k.target, "direction": k.direction,
                  "must_have": k.must_have, "weight": k.weight} for k in rfp.trial.kpis] if rfp.trial.enabled else [],
        "evaluators": [{"id": e.id, "name": e.name, "role": e.role} for e in rfp.evaluators],
        "scoring": {"method": rfp.scoring.method, "normalization": rfp.scoring.normalization,
                    "consensus": rfp.scoring.consensus, "outlier_threshold": rfp.scoring.outlier_threshold,
                    "price_formula": rfp.scoring.price_formula, "tie_break": list(rfp.scoring.tie_break),
                    "award_weights": dict(rfp.scoring.award_weights)},
        "standstill_days": rfp.standstill_days,
        "price_deviation": rfp.price_deviation,
    }


def prices_sealed(rfp: Rfp, stage: str) -> bool:
    """Two-envelope mode keeps prices sealed until technical evaluation is complete."""
    if not rfp.two_envelope:
        return False
    return stage in (Stage.DRAFT.value, Stage.ISSUED.value, Stage.BIDS_CLOSED.value, Stage.SCREENING.value,
                     Stage.EVALUATION.value)


def build_view(cycle: CycleRecords, rfp: Rfp) -> dict[str, Any]:
    """Everything about the cycle, as plain data, for documents and exports (prices sealed by :func:`seal_prices`)."""
    state = cycle.state()
    stage = state.stage if state else Stage.DRAFT.value
    events = cycle.events()
    sealed = prices_sealed(rfp, stage) and not cycle.record("evaluation", "technical-complete")
    stale_of = getattr(cycle, "stale_results", None)  # optional in CycleRecords: a cycle without digests
    stale: dict[str, str] = stale_of() if callable(stale_of) else {}
    screening = cycle.screening()
    overall = summarize(screening)
    vendors = []
    history = _history(cycle)
    for stored in sorted(cycle.bids(), key=lambda b: b.bid.vendor_id):
        bid = stored.bid
        gates = [
            {"gate": r.result.gate_id,
             "name": next((g.name for g in rfp.gates if g.id == r.result.gate_id), r.result.gate_id),
             "outcome": r.outcome, "reason": r.result.reason, "evidence": list(r.result.evidence),
             "resolution": None if r.resolution is None else {
                 "decision": r.resolution.decision, "reason": r.resolution.reason,
                 "actor": r.resolution.actor, "at": r.resolution.at}}
            for r in screening if r.result.vendor_id == bid.vendor_id
        ]
        vendors.append({
            "id": bid.vendor_id, "name": bid.vendor_name,
            "registration_no": str(bid.fields.get("registration_no", "")),
            "country": str(bid.fields.get("country", "")),
            "submitted_at": stored.submitted_at, "late": stored.late, "source_file": bid.source_file,
            "total_price": format(bid.total_price, "f"),
            "screening": overall.get(bid.vendor_id), "gates": gates,
            "status": stored.status, "status_reason": stored.status_reason,
            "bid": bid_record(stored, history),
        })
    view: dict[str, Any] = {
        "schema": VIEW_SCHEMA,
        "rfp": rfp_view(rfp),
        "definition_hash": state.definition_hash if state else rfp.definition_hash,
        "stage": stage,
        "chain_head": state.chain_head if state else "",
        "event_count": state.event_count if state else 0,
        "as_of": events[-1].at if events else "",
        "prices_sealed": sealed,
        "vendors": vendors,
        "evaluation": None if "evaluation" in stale else cycle.record("evaluation", "result"),
        "shortlist": [] if "shortlist" in stale else cycle.record("shortlist", "vendors") or [],
        "trial": None if "trial" in stale else cycle.record("trial", "result"),
        "award": None if "award" in stale else cycle.record("award", "decision"),
        # results whose inputs changed since they were computed: never shown (result -> command to run)
        "stale": dict(sorted(stale.items())),
        "events": [{"seq": e.seq, "at": e.at, "actor": e.actor, "kind": e.kind, "data": e.data, "hash": e.hash}
                   for e in events],
    }
    return seal_prices(view)


def _history(cycle: CycleRecords) -> list[StoredBid]:
    """The replaced submissions, when the records keep them."""
    read = getattr(cycle, "bid_history", None)
    return list(read()) if callable(read) else []


#: What a price gate's reason becomes while prices are sealed (in an English view).
SEALED_REASON = label_for("en", "withheld")

#: Keys whose text is a digest, never a price, so redaction leaves them alone.
_NO_REDACT_KEYS = {"hash", "chain_head", "definition_hash", "prev_hash", "sha256"}


def sealed(view: Mapping[str, Any]) -> bool:
    return bool(view.get("prices_sealed"))


def seal_prices(view: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``view`` with prices removed while they are sealed: the one sealing rule.

    While ``prices_sealed`` is true, every vendor's ``total_price`` becomes None,
    the ``price`` of every evaluation total is dropped, the reasons and evidence of
    price gates (which quote the prices) are withheld, and any other text quoting
    one of the bid prices (a note, a comment) has it replaced by the sealed label
    in the RFP's language. Documents and exports both go through here.
    """
    out = copy.deepcopy(dict(view))
    if not sealed(out):
        return out
    rfp = out.get("rfp") or {}
    lang = str(rfp.get("language") or "en")
    prices: list[object] = []
    price_gates = {g.get("id") for g in rfp.get("gates") or [] if g.get("kind") in PRICE_GATE_KINDS}
    for vendor in out.get("vendors") or []:
        if "total_price" in vendor:
            prices.append(vendor["total_price"])
            vendor["total_price"] = None
        bid = vendor.get("bid")
        if isinstance(bid, dict):  # the financial envelope: no price line, no price comment, no added column
            bid["total_price"] = None
            bid["prices"] = None
            bid["extra_columns"] = None
        for gate in vendor.get("gates") or []:
            if gate.get("gate") in price_gates:
                gate["reason"] = label_for(lang, "withheld")
                gate["evidence"] = []
    evaluation = out.get("evaluation")
    if isinstance(evaluation, dict):
        for row in evaluation.get("totals") or []:
            prices.append(row.pop("price", None))
    numbers = {n for n in (parse_decimal(p) for p in prices) if n is not None and abs(n) >= 100}
    redacted: dict[str, Any] = _redact(out, _price_patterns(prices), numbers,
                                       label_for(lang, "sealed"))
    return redacted


def _price_patterns(prices: Iterable[object]) -> list[re.Pattern[str]]:
    """Every way a price may be written in text (``1080000``, ``1,080,000.00``, as the vendor wrote it)."""
    variants: set[str] = set()
    for price in prices:
        number = parse_decimal(price)
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


def _redact(value: Any, patterns: Sequence[re.Pattern[str]], numbers: set[Decimal], text: str, key: str = "") -> Any:
    """``value`` with every bid price (as text or as a number) replaced by ``text``."""
    if isinstance(value, dict):
        return {k: _redact(v, patterns, numbers, text, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, patterns, numbers, text, key) for v in value]
    if isinstance(value, int | float) and not isinstance(value, bool) and parse_decimal(value) in numbers:
        return text
    if isinstance(value, str) and key not in _NO_REDACT_KEYS:
        for pattern in patterns:
            value = pattern.sub(text, value)
    return value


# Reading a prepared view


def vendor_names(view: Mapping[str, Any]) -> dict[str, str]:
    return {str(x["id"]): str(x["name"]) for x in view["vendors"]}


def rank_key(entry: Mapping[str, Any]) -> tuple[float, str]:
    """Sort key for ranked entries: rank (unranked last), then vendor id."""
    rank = entry.get("rank")
    return (float(rank) if isinstance(rank, int | float) else float("inf"), str(entry.get("vendor", "")))


def ranked(view: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The evaluation totals of a prepared view in rank order, each with the vendor's name."""
    names = vendor_names(view)
    rows = sorted(view["evaluation"]["totals"], key=rank_key)
    return [dict(t, name=names.get(str(t["vendor"]), str(t["vendor"]))) for t in rows]


# The parts of the view the workflow stores as it goes (evaluation, trial, award).


#: Documents report a weight change that changes the winner only within this share of the weight (±50 %).
SENSITIVITY_RANGE = 0.5


def decisive_changes(changes: Sequence[Mapping[str, Any]], leader: str | None = None) -> list[Mapping[str, Any]]:
    """The stored sensitivity entries that change the winner within ±:data:`SENSITIVITY_RANGE` of the weight.

    An entry without a threshold or a new winner (no weight changes the winner), one beyond the range, and
    one whose "new" winner is ``leader`` (the vendor already leading) are left out: never a placeholder.
    """
    kept = []
    for change in changes:
        weight, new, winner = change.get("current_weight"), change.get("new_weight"), change.get("new_winner")
        if weight is None or new is None or not winner or winner == leader:
            continue
        if abs(float(new) - float(weight)) <= SENSITIVITY_RANGE * float(weight) + 1e-9:
            kept.append(change)
    return kept


def evaluation_view(rfp: Rfp, matrix: Any, ranking: Any, outliers: Sequence[Any], sensitivity: Any,
                    scores: Sequence[Any]) -> dict[str, Any]:
    """The evaluation as plain data for the store, documents and exports."""
    dimensions = [c.id for c in rfp.criteria]
    leaves = [c.id for c in rfp.leaf_criteria()]
    totals = []
    for entry in ranking.entries:
        breakdown = dict(entry.breakdown)
        totals.append({
            "vendor": entry.vendor_id, "rank": entry.rank, "total": round(entry.total_score, 6),
            "price": None if entry.price is None else format(entry.price, "f"),
            "breakdown": {c: round(breakdown.get(c, 0.0), 6) for c in leaves},
            "dimensions": {d: round(breakdown.get(d, 0.0), 6) for d in dimensions},
            "technical_score": round(breakdown.get("technical_score", 0.0), 6),
            "notes": {c: list(matrix.value(entry.vendor_id, c).notes) for c in leaves},
        })
    return {
        "method": ranking.method,
        # the normalisation actually applied: the builtin weighted sum adds criterion points (each score's
        # position on its scale), TOPSIS always normalises by vector; others use the declared one
        "normalization": {"weighted-sum": "scale", "topsis": "vector", "lpta": "none"}.get(
            ranking.method, rfp.scoring.normalization),
        "totals": totals,
        "tied_groups": [list(g) for g in ranking.tied_groups],
        "notes": list(ranking.notes),
        # how many evaluators scored: with fewer than three, outliers are not looked for (the report says so)
        "panel_size": len({s.evaluator for s in scores}),
        "outliers": [{"evaluator": o.evaluator, "vendor": o.vendor, "criterion": o.criterion, "score": o.score,
                      "median": o.median, "distance": o.distance} for o in outliers],
        "sensitivity_leader": sensitivity.winner,
        "sensitivity": [{"criterion": c.criterion, "current_weight": c.weight, "new_weight": c.new_weight,
                         "new_winner": c.new_leader, "text": c.text} for c in sensitivity.changes],
        "scores": [{"evaluator": s.evaluator, "vendor": s.vendor, "criterion": s.criterion, "score": s.score,
                    "comment": s.comment} for s in sorted(scores, key=lambda s: (s.evaluator, s.vendor, s.criterion))],
    }




def trial_view(rfp: Rfp, results: Sequence[Any]) -> dict[str, Any]:
    names = {k.id: (k.name, k.unit) for k in rfp.trial.kpis}
    return {"results": [
        {"vendor": r.vendor_id, "passed": r.passed, "score": round(r.score, 6), "notes": list(r.notes),
         "kpis": [{"kpi": k.kpi_id, "name": names.get(k.kpi_id, (k.kpi_id, ""))[0],
                   "unit": names.get(k.kpi_id, ("", ""))[1], "value": k.value, "target": k.target, "met": k.met,
                   "attainment": round(k.attainment, 6)} for k in r.kpis]}
        for r in results]}


def award_view(decision: Any, ranking: Any, names: dict[str, str]) -> dict[str, Any]:
    return {
        "vendor": decision.vendor_id, "vendor_name": names.get(decision.vendor_id, decision.vendor_id),
        "justification": decision.justification, "follows_ranking": decision.follows_ranking,
        "standstill_ends": decision.standstill_ends.isoformat() if decision.standstill_ends else None,
        "decided_by": decision.decided_by,
        "ranking": [{"vendor": e.vendor_id, "rank": e.rank, "total": round(e.total_score, 6),
                     "evaluation": round(e.breakdown.get("evaluation_score", e.total_score), 6),
                     "price_score": None if "price_score" not in e.breakdown else round(e.breakdown["price_score"], 6),
                     "trial_score": None if "trial_score" not in e.breakdown else round(e.breakdown["trial_score"], 6)}
                    for e in ranking.entries],
        "tied_groups": [list(g) for g in ranking.tied_groups],
        "notes": list(ranking.notes),
        # hook API 1.2: a plugin's award ranking keeps its method, description and breakdown
        "method": ranking.method,
        "method_description": getattr(ranking, "description", ""),
        "breakdown": {e.vendor_id: {k: round(float(v), 6) for k, v in sorted(e.breakdown.items())}
                      for e in ranking.entries},
    }
