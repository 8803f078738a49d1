"""The builtin screening gates rfp.toml can declare (``[gates.ID] kind = ...``).

Each gate gives pass, fail or needs-review with a reason a procurement
officer can repeat to the vendor, and the evidence (file and cell) it read.
A gate declared with ``on_fail = "review"`` turns a failure into needs-review.
Missing information is needs-review, never a silent pass.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections.abc import Callable
from decimal import Decimal

from rfpflow.context import RunContext
from rfpflow.formatting import format_amount
from rfpflow.hookspecs import hookimpl
from rfpflow.model import Bid, Gate, GateResult, Rfp
from rfpflow.registry import ScreeningRule


def _evidence(bid: Bid, *fields: str) -> tuple[str, ...]:
    return tuple(f"{bid.source_file}: {bid.cells[f]}" for f in fields if f in bid.cells)


def _result(bid: Bid, gate: Gate, ok: bool | None, reason: str, evidence: tuple[str, ...] = ()) -> GateResult:
    if ok is None:
        outcome = "review"
    elif ok:
        outcome = "pass"
    else:
        outcome = "review" if gate.on_fail == "review" else "fail"
    return GateResult(bid.vendor_id, gate.id, outcome, reason, evidence, source=f"gate:{gate.kind}")


def reference_date(rfp: Rfp, context: RunContext) -> dt.date:
    """The date certificates and company age are judged at: the contract start if known."""
    t = rfp.timeline
    for value in (t.contract_start, t.decision_date):
        if value is not None:
            return value
    return context.now().date()


def _tokens(name: str) -> set[str]:
    return set(re.findall(r"[A-Z]+|\d+", name.upper()))


def check_certification(bid: Bid, gate: Gate, bids: tuple[Bid, ...], rfp: Rfp, context: RunContext) -> GateResult:
    wanted = [str(n) for n in gate.params.get("any_of", [])]
    when = reference_date(rfp, context)
    expired: list[str] = []
    undated: list[str] = []
    undated_where: list[str] = []
    for cert in bid.certifications:
        cert_tokens = _tokens(cert.name)
        for name in wanted:
            if _tokens(name) <= cert_tokens:
                where = (f"{bid.source_file}: {cert.evidence}",) if cert.evidence else ()
                if cert.expires is None:  # valid on the contract start? nobody can say: never a pass
                    undated.append(cert.name)
                    undated_where.extend(where)
                    break
                if cert.expires < when:
                    expired.append(f"{cert.name} expires {cert.expires.isoformat()}, before {when.isoformat()}")
                    break
                return _result(bid, gate, True, f"{cert.name} declared, valid until {cert.expires.isoformat()}",
                               where)
    if undated:
        reason = (f"{', '.join(undated)} declared without an expiry date: whether it is valid on "
                  f"{when.isoformat()} cannot be checked; ask the vendor for the certificate")
        if expired:
            reason += "; " + "; ".join(expired) + " (counts as missing)"
        return _result(bid, gate, None, reason, tuple(undated_where))
    if expired:
        return _result(bid, gate, False, "; ".join(expired) + " (counts as missing)")
    return _result(bid, gate, False, f"none of {', '.join(wanted)} declared")


def check_min_years(bid: Bid, gate: Gate, bids: tuple[Bid, ...], rfp: Rfp, context: RunContext) -> GateResult:
    years_needed = int(gate.params.get("years", 0))
    year = bid.fields.get("year_established")
    if not isinstance(year, int):
        return _result(bid, gate, None, "year established not declared")
    when = reference_date(rfp, context)
    age = when.year - year
    if age == years_needed and years_needed > 0:
        # a year without a date: founded after this day of the year, it is a year short
        return _result(bid, gate, None, f"established {year} (a year, no date): {age - 1} or {age} full years on "
                       f"{when.isoformat()} depending on the date, {years_needed} required; ask the vendor for "
                       "the date of establishment", _evidence(bid, "year_established"))
    ok = age >= years_needed
    return _result(bid, gate, ok, f"established {year}: {age} years, {years_needed} required",
                   _evidence(bid, "year_established"))


def _min_amount(field: str, label: str) -> Callable[..., GateResult]:
    def check(bid: Bid, gate: Gate, bids: tuple[Bid, ...], rfp: Rfp, context: RunContext) -> GateResult:
        needed = Decimal(str(gate.params.get("amount", 0)))
        value = bid.fields.get(field)
        if not isinstance(value, (int, Decimal)):
            return _result(bid, gate, None, f"{label} not declared")
        ok = Decimal(value) >= needed
        return _result(bid, gate, ok, f"{label} {Decimal(value):,} {rfp.currency}, {needed:,} required",
                       _evidence(bid, field))

    return check


def check_mandatory_answers(bid: Bid, gate: Gate, bids: tuple[Bid, ...], rfp: Rfp, context: RunContext) -> GateResult:
    failures: list[str] = []
    evidence: list[str] = []
    refused = False
    for question in rfp.questionnaire:
        if not question.mandatory:
            continue
        required = question.required_answer or question.choices[0]
        answer = bid.answer(question.id)
        if answer is None or not answer.answer.strip():
            failures.append(f"{question.id} not answered")  # blank: needs review, never a pass
        elif answer.answer != required:
            failures.append(f"{question.id} answered {answer.answer!r}, {required!r} required")
            refused = True
        else:
            continue
        if answer is not None and answer.cell:
            evidence.append(f"{bid.source_file}: {answer.cell}")
    if failures:
        return _result(bid, gate, False if refused else None, "; ".join(failures), tuple(evidence))
    return _result(bid, gate, True, "every mandatory requirement accepted")


def check_budget_ceiling(bid: Bid, gate: Gate, bids: tuple[Bid, ...], rfp: Rfp, context: RunContext) -> GateResult:
    ceiling = gate.params.get("amount", rfp.budget_ceiling)
    if ceiling is None:
        return _result(bid, gate, None, "no budget ceiling set in rfp.toml")
    ceiling = Decimal(str(ceiling))
    total = bid.total_price
    return _result(bid, gate, total <= ceiling,
                   f"total {format_amount(total)} {rfp.currency}, ceiling {format_amount(ceiling)}")


def check_abnormally_low(bid: Bid, gate: Gate, bids: tuple[Bid, ...], rfp: Rfp, context: RunContext) -> GateResult:
    threshold = Decimal(str(gate.params.get("threshold", 0.20)))
    others = [b.total_price for b in bids if b.vendor_id != bid.vendor_id and b.total_price > 0]
    if not others:
        return _result(bid, gate, True, "no other bids to compare with")
    mean = Decimal(str(statistics.fmean(float(p) for p in others)))
    floor = mean * (1 - threshold)
    total = bid.total_price
    below = (1 - total / mean) * 100 if mean else Decimal(0)
    reason = (f"total {format_amount(total)} is {below:.1f}% below the mean of the other bids "
              f"({format_amount(mean)}); "
              f"more than {threshold * 100:.0f}% below asks for an explanation of the price")
    if total < floor:
        return GateResult(bid.vendor_id, gate.id, "review", reason, (), source=f"gate:{gate.kind}")
    return _result(bid, gate, True,
                   f"total {format_amount(total)} against a mean of {format_amount(mean)} for the other bids")


@hookimpl(trylast=True)
def rfpflow_register_screening_rules(register: Callable[[ScreeningRule], None]) -> None:
    register(ScreeningRule("certification", "A certificate valid at the contract start (any of the listed ones)",
                           check_certification, {"any_of": list}, ("any_of",)))
    register(ScreeningRule("min_years", "Company established at least N years before the contract start",
                           check_min_years, {"years": int}, ("years",)))
    register(ScreeningRule("min_capital", "Registered capital of at least an amount",
                           _min_amount("registered_capital", "registered capital"), {"amount": (int, float)},
                           ("amount",)))
    register(ScreeningRule("min_turnover", "Annual turnover of at least an amount",
                           _min_amount("annual_turnover", "annual turnover"), {"amount": (int, float)},
                           ("amount",)))
    register(ScreeningRule("mandatory_answers", "Every mandatory questionnaire item answered as required",
                           check_mandatory_answers))
    register(ScreeningRule("budget_ceiling", "Total price not above the budget ceiling",
                           check_budget_ceiling, {"amount": (int, float)}))
    register(ScreeningRule("abnormally_low", "Total price more than a share below the mean of the other bids",
                           check_abnormally_low, {"threshold": float}))
