"""The cycle view: everything documents and exports are made from, as plain JSON data.

One function, :func:`cycle_view`, reads the store and returns a dict of
strings, numbers, lists and dicts (documented in docs/cycle-view.md).
Templates and exporters never touch the store or the clock: the view's
``as_of`` is the time of the last recorded event, so rendering the same
cycle twice gives the same bytes. In two-envelope mode prices are removed
from the view until technical evaluation is complete (``prices_sealed``).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from rfpflow.errors import RfpflowError
from rfpflow.model import Criterion, Rfp, Stage

if TYPE_CHECKING:
    from rfpflow.context import RunContext
    from rfpflow.workflow import Cycle

VIEW_SCHEMA = 1
STAGE_ORDER = [s.value for s in Stage if s != Stage.CANCELLED]


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
        "language": rfp.language, "profile": rfp.profile,
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
    }


def prices_sealed(rfp: Rfp, stage: str) -> bool:
    """Two-envelope mode keeps prices sealed until technical evaluation is complete."""
    if not rfp.two_envelope:
        return False
    return stage in (Stage.DRAFT.value, Stage.ISSUED.value, Stage.BIDS_CLOSED.value, Stage.SCREENING.value,
                     Stage.EVALUATION.value)


def cycle_view(context: RunContext) -> dict[str, Any]:
    """The view of the cycle in ``context.workspace`` (the hook-facing entry point)."""
    from rfpflow.workflow import Cycle

    if context.workspace is None:
        raise RfpflowError("there is no workspace to describe; use -C DIR")
    cycle = Cycle(context.workspace, context)
    return build_view(cycle, context.rfp or cycle.current_rfp())


def build_view(cycle: Cycle, rfp: Rfp) -> dict[str, Any]:
    """Everything about the cycle, as plain data, for documents and exports."""
    from rfpflow.workflow import summarize

    state = cycle.state()
    stage = state.stage if state else Stage.DRAFT.value
    events = cycle.events()
    sealed = prices_sealed(rfp, stage) and not cycle.record("evaluation", "technical-complete")
    screening = cycle.screening()
    overall = summarize(screening)
    vendors = []
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
            "total_price": None if sealed else format(bid.total_price, "f"),
            "screening": overall.get(bid.vendor_id), "gates": gates,
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
        "evaluation": cycle.record("evaluation", "result"),
        "shortlist": cycle.record("shortlist", "vendors") or [],
        "trial": cycle.record("trial", "result"),
        "award": cycle.record("award", "decision"),
        "events": [{"seq": e.seq, "at": e.at, "actor": e.actor, "kind": e.kind, "data": e.data, "hash": e.hash}
                   for e in events],
    }
    return seal_prices(view)


#: Screening gate kinds whose reasons quote bid prices; withheld while prices are sealed.
PRICE_GATE_KINDS = frozenset({"abnormally_low", "budget_ceiling"})

#: What a price gate's reason becomes while prices are sealed.
SEALED_REASON = "withheld while prices are sealed"


def sealed(view: Mapping[str, Any]) -> bool:
    return bool(view.get("prices_sealed"))


def seal_prices(view: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``view`` with prices removed while they are sealed.

    One rule for documents and exports alike: while ``prices_sealed`` is true,
    every vendor's ``total_price`` becomes None, the ``price`` of every
    evaluation total is dropped, and the reasons and evidence of price gates
    (which quote the prices) are withheld.
    """
    out = copy.deepcopy(dict(view))
    if not sealed(out):
        return out
    rfp = out.get("rfp") or {}
    price_gates = {g.get("id") for g in rfp.get("gates") or [] if g.get("kind") in PRICE_GATE_KINDS}
    for vendor in out.get("vendors") or []:
        if "total_price" in vendor:
            vendor["total_price"] = None
        for gate in vendor.get("gates") or []:
            if gate.get("gate") in price_gates:
                gate["reason"] = SEALED_REASON
                gate["evidence"] = []
    evaluation = out.get("evaluation")
    if isinstance(evaluation, dict):
        for row in evaluation.get("totals") or []:
            row.pop("price", None)
    return out
