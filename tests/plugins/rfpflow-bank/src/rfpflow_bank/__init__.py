"""A bank's rules: customer data stays in the country, value-for-money prices, the bank-it profile."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from typing import Any

from rfpflow import hookimpl
from rfpflow.model import Bid, Gate, GateResult, Rfp
from rfpflow.registry import Profile, ScoringMethod, ScreeningRule

RFPFLOW_HOOK_API = (1, 2)

GATE_KIND = "bank-residency"
PRICE_FORMULA = "bank-value"
PROFILE = "bank-it"


def check_residency(bid: Bid, gate: Gate, bids: tuple[Bid, ...], rfp: Rfp, context: Any) -> GateResult:
    """The answer to the residency question (``question``, default Q2) must be "Yes"."""
    question = str(gate.params.get("question", "Q2"))
    answer = bid.answer(question)
    evidence = (f"{bid.source_file}: {answer.cell}",) if answer is not None and answer.cell else ()
    if answer is None or not answer.answer.strip():
        return GateResult(bid.vendor_id, gate.id, "review", f"{question} (data residency) not answered", evidence,
                          source=GATE_KIND)
    if answer.answer.strip().lower() == "yes":
        return GateResult(bid.vendor_id, gate.id, "pass", f"{question}: customer data stays in the country",
                          evidence, source=GATE_KIND)
    outcome = "review" if gate.on_fail == "review" else "fail"
    return GateResult(bid.vendor_id, gate.id, outcome, f"{question}: answered {answer.answer!r}, 'Yes' required",
                      evidence, source=GATE_KIND)


def bank_value(prices: Sequence[float], max_points: float, options: Mapping[str, Any],
               quality: Sequence[float]) -> tuple[float, ...]:
    """(lowest / price) ** bank_exponent x points; bids below bank_min_quality % get 0 points."""
    exponent = float(options.get("bank_exponent", 1.0))
    floor = float(options.get("bank_min_quality", 0.0))
    if exponent <= 0:
        raise ValueError(f"bank_exponent must be above 0, got {exponent:g}")
    lowest = min(prices, default=0.0)
    return tuple(0.0 if q < floor else max_points * (lowest / p) ** exponent for p, q in zip(prices, quality,
                                                                                              strict=True))


def _profile_text() -> str:
    text = resources.files(__package__).joinpath("bank-it.en.toml").read_text(encoding="utf-8")
    return text


@hookimpl
def rfpflow_register_screening_rules(register: Callable[[ScreeningRule], None]) -> None:
    register(ScreeningRule(GATE_KIND, "Customer data stays in the buyer's country (a questionnaire answer)",
                           check_residency, {"question": str}))


@hookimpl
def rfpflow_register_scoring_methods(register: Callable[[ScoringMethod], None]) -> None:
    register(ScoringMethod(PRICE_FORMULA, "price", "(lowest / price) ** bank_exponent; 0 below bank_min_quality",
                           bank_value))


@hookimpl
def rfpflow_register_profiles(register: Callable[[Profile], None]) -> None:
    register(Profile(PROFILE, "Bank IT outsourcing", "Data residency and value for money", {"en": _profile_text()}))
