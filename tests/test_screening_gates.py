"""Every builtin screening gate called directly, at its limit, one past it, with data missing or malformed.

The rules are taken from the host's registry (as the workflow runs them), and every test asserts
the whole GateResult: outcome, the exact reason a procurement officer repeats to the vendor,
the evidence and the source.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs
import pytest

from rfpflow.builtins import screening
from rfpflow.model import Answer, Bid, Certification, Gate, GateResult, PriceLine, Question, Rfp, Timeline
from rfpflow.testing import FIXED_NOW, make_context, make_host

RULES = make_host().screening_rules()
CONTEXT = make_context()  # the clock reads 2027-01-01
START = dt.date(2028, 3, 1)  # the contract start: the reference date of every gate below
RFP = Rfp("R-1", "Cleaning", "Buyer", "services", "CNY", "en", timeline=Timeline(contract_start=START))


def gate(kind: str, on_fail: str = "fail", **params: Any) -> Gate:
    return Gate("g1", kind, on_fail=on_fail, params=params)


def bid(vendor: str = "V1", *, fields: dict[str, Any] | None = None, cells: dict[str, str] | None = None,
        certifications: tuple[Certification, ...] = (), answers: tuple[Answer, ...] = (),
        total: Decimal | str | None = None) -> Bid:
    prices = () if total is None else (PriceLine("L1", Decimal(1), Decimal(total)),)
    return Bid(vendor, vendor.title(), f"{vendor}.xlsx", fields or {}, certifications, answers, prices,
               cells or {})


def check(kind: str, b: Bid, g: Gate | None = None, bids: tuple[Bid, ...] | None = None,
          rfp: Rfp = RFP) -> GateResult:
    g = g or gate(kind)
    return RULES[kind].check(b, g, bids if bids is not None else (b,), rfp, CONTEXT)


def result(outcome: str, reason: str, evidence: tuple[str, ...] = (), kind: str = "min_years",
           vendor: str = "V1") -> GateResult:
    return GateResult(vendor, "g1", outcome, reason, evidence, source=f"gate:{kind}")


# -- the registrations -------------------------------------------------------


@pytest.mark.parametrize(("kind", "options", "required"), [
    ("certification", {"any_of": list}, ("any_of",)),
    ("min_years", {"years": int}, ("years",)),
    ("min_capital", {"amount": (int, float)}, ("amount",)),
    ("min_turnover", {"amount": (int, float)}, ("amount",)),
    ("mandatory_answers", {}, ()),
    ("budget_ceiling", {"amount": (int, float)}, ()),
    ("abnormally_low", {"threshold": float}, ()),
])
def test_each_gate_kind_is_registered_with_its_options(kind: str, options: dict[str, Any],
                                                       required: tuple[str, ...]) -> None:
    rule = RULES[kind]
    assert (rule.name, dict(rule.options), rule.required) == (kind, options, required)


# -- the reference date ------------------------------------------------------


@pytest.mark.parametrize(("timeline", "expected"), [
    (Timeline(contract_start=dt.date(2028, 3, 1), decision_date=dt.date(2028, 1, 15)), dt.date(2028, 3, 1)),
    (Timeline(decision_date=dt.date(2028, 1, 15)), dt.date(2028, 1, 15)),
    (Timeline(), FIXED_NOW.date()),
])
def test_reference_date_is_the_contract_start_then_the_decision_then_today(timeline: Timeline,
                                                                          expected: dt.date) -> None:
    assert screening.reference_date(attrs.evolve(RFP, timeline=timeline), CONTEXT) == expected


# -- min_years ---------------------------------------------------------------


@pytest.mark.parametrize(("year", "outcome", "age"), [
    (2019, "fail", 9),   # one short
    (2017, "pass", 11),  # one over: 10 full years whatever the date
])
def test_min_years_at_the_limit(year: int, outcome: str, age: int) -> None:
    b = bid(fields={"year_established": year}, cells={"year_established": "Company!C7"})
    assert check("min_years", b, gate("min_years", years=10)) == result(
        outcome, f"established {year}: {age} years, 10 required", ("V1.xlsx: Company!C7",))


def test_min_years_a_year_without_a_date_at_the_limit_needs_review() -> None:
    b = bid(fields={"year_established": 2018}, cells={"year_established": "Company!C7"})
    assert check("min_years", b, gate("min_years", years=10)) == result(
        "review", "established 2018 (a year, no date): 9 or 10 full years on 2028-03-01 depending on the date, "
        "10 required; ask the vendor for the date of establishment", ("V1.xlsx: Company!C7",))


def test_min_years_is_counted_to_the_decision_date_when_no_contract_start() -> None:
    rfp = attrs.evolve(RFP, timeline=Timeline(decision_date=dt.date(2020, 6, 1)))
    b = bid(fields={"year_established": 2012})
    assert check("min_years", b, gate("min_years", years=10), rfp=rfp) == result(
        "fail", "established 2012: 8 years, 10 required")


def test_min_years_default_is_zero_years() -> None:
    assert check("min_years", bid(fields={"year_established": 2028})) == result(
        "pass", "established 2028: 0 years, 0 required")
    assert check("min_years", bid(fields={"year_established": 2029})) == result(
        "fail", "established 2029: -1 years, 0 required")


def test_min_years_failure_is_review_when_the_gate_says_so() -> None:
    b = bid(fields={"year_established": 2027})
    assert check("min_years", b, gate("min_years", on_fail="review", years=3)) == result(
        "review", "established 2027: 1 years, 3 required")


@pytest.mark.parametrize("year", [None, "2010", 2010.0, Decimal(2010)])
def test_min_years_missing_or_malformed_year_is_review_not_a_pass(year: object) -> None:
    fields = {} if year is None else {"year_established": year}
    b = bid(fields=fields, cells={"year_established": "Company!C7"})
    assert check("min_years", b, gate("min_years", years=1)) == result("review", "year established not declared")


# -- min_capital / min_turnover ----------------------------------------------


@pytest.mark.parametrize(("kind", "field", "label"), [
    ("min_capital", "registered_capital", "registered capital"),
    ("min_turnover", "annual_turnover", "annual turnover"),
])
@pytest.mark.parametrize(("value", "outcome", "shown"), [
    (5_000_000, "pass", "5,000,000"),                    # at the limit
    (Decimal("4999999.99"), "fail", "4,999,999.99"),     # a cent short
    (4_999_999, "fail", "4,999,999"),
    (5_000_001, "pass", "5,000,001"),
    (Decimal(0), "fail", "0"),
    (-1, "fail", "-1"),
])
def test_min_amount_at_the_limit(kind: str, field: str, label: str, value: object, outcome: str,
                                 shown: str) -> None:
    b = bid(fields={field: value}, cells={field: "Company!C8"})
    assert check(kind, b, gate(kind, amount=5_000_000)) == result(
        outcome, f"{label} {shown} CNY, 5,000,000 required", ("V1.xlsx: Company!C8",), kind)


@pytest.mark.parametrize(("kind", "field", "label"), [
    ("min_capital", "registered_capital", "registered capital"),
    ("min_turnover", "annual_turnover", "annual turnover"),
])
def test_min_amount_missing_malformed_and_default(kind: str, field: str, label: str) -> None:
    g = gate(kind, amount=100)
    assert check(kind, bid(), g) == result("review", f"{label} not declared", kind=kind)
    assert check(kind, bid(fields={field: "5 million"}), g) == result("review", f"{label} not declared", kind=kind)
    assert check(kind, bid(fields={field: 5e6}), g) == result("review", f"{label} not declared", kind=kind)
    # no amount: anything not negative passes
    assert check(kind, bid(fields={field: 0})) == result("pass", f"{label} 0 CNY, 0 required", kind=kind)
    assert check(kind, bid(fields={field: -1})) == result("fail", f"{label} -1 CNY, 0 required", kind=kind)
    assert check(kind, bid(fields={field: 99}), gate(kind, "review", amount=100)) == result(
        "review", f"{label} 99 CNY, 100 required", kind=kind)


# -- certification -----------------------------------------------------------


def cert(name: str, expires: dt.date | None = None, evidence: str | None = None) -> Certification:
    return Certification(name, expires, evidence)


def test_certificate_valid_on_the_contract_start_passes() -> None:
    b = bid(certifications=(cert("ISO/IEC 27001:2013", START, "Certifications!B3"),))
    assert check("certification", b, gate("certification", any_of=["ISO 27001"])) == result(
        "pass", "ISO/IEC 27001:2013 declared, valid until 2028-03-01", ("V1.xlsx: Certifications!B3",),
        "certification")


def test_certificate_expiring_the_day_before_counts_as_missing() -> None:
    b = bid(certifications=(cert("ISO 27001", START - dt.timedelta(days=1), "Certifications!B3"),))
    assert check("certification", b, gate("certification", any_of=["ISO 27001"])) == result(
        "fail", "ISO 27001 expires 2028-02-29, before 2028-03-01 (counts as missing)", kind="certification")


def test_every_expired_certificate_is_named_and_review_when_the_gate_says_so() -> None:
    b = bid(certifications=(cert("ISO 9001", dt.date(2027, 1, 1)), cert("ISO 14001", dt.date(2026, 5, 2))))
    g = gate("certification", "review", any_of=["ISO 9001", "ISO 14001"])
    assert check("certification", b, g) == result(
        "review", "ISO 9001 expires 2027-01-01, before 2028-03-01; ISO 14001 expires 2026-05-02, before 2028-03-01"
        " (counts as missing)", kind="certification")


def test_an_expired_certificate_does_not_hide_a_valid_one_after_it() -> None:
    b = bid(certifications=(cert("ISO 9001", dt.date(2020, 1, 1)), cert("iso9001", dt.date(2030, 1, 1))))
    assert check("certification", b, gate("certification", any_of=["ISO 9001"])) == result(
        "pass", "iso9001 declared, valid until 2030-01-01", kind="certification")


def test_a_certificate_without_an_expiry_date_needs_review_never_a_pass() -> None:
    b = bid(certifications=(cert("ISO 27001", None, "Certs!B3"),))
    assert check("certification", b, gate("certification", any_of=["ISO 27001"])) == result(
        "review", "ISO 27001 declared without an expiry date: whether it is valid on 2028-03-01 cannot be "
        "checked; ask the vendor for the certificate", ("V1.xlsx: Certs!B3",), kind="certification")


@pytest.mark.parametrize(("declared", "wanted", "outcome"), [
    ("ISO 9001:2015", "ISO 9001", "pass"),
    ("ISO 9001", "ISO 9001:2015", "fail"),  # every token of the wanted name must be declared
    ("ISO 19001", "ISO 9001", "fail"),      # numbers are whole tokens, not substrings
    ("CMMI-DEV ML3", "cmmi ml3", "pass"),
])
def test_certificate_names_match_by_tokens(declared: str, wanted: str, outcome: str) -> None:
    b = bid(certifications=(cert(declared, dt.date(2030, 1, 1)),))
    reason = f"{declared} declared, valid until 2030-01-01" if outcome == "pass" else f"none of {wanted} declared"
    assert check("certification", b, gate("certification", any_of=[wanted])) == result(
        outcome, reason, kind="certification")


def test_no_certificate_fails_naming_every_accepted_one() -> None:
    g = gate("certification", any_of=["ISO 9001", "GB/T 19001"])
    assert check("certification", bid(), g) == result(
        "fail", "none of ISO 9001, GB/T 19001 declared", kind="certification")


# -- mandatory_answers -------------------------------------------------------

QUESTIONS = (
    Question("Q1", "Do you accept the contract terms?", mandatory=True),
    Question("Q2", "Confidentiality", mandatory=True, choices=("Agree", "Disagree"), required_answer="Agree"),
    Question("Q3", "Optional extras?", mandatory=False),
)
WITH_QUESTIONS = attrs.evolve(RFP, questionnaire=QUESTIONS)


def answers(**given: tuple[str, str | None]) -> tuple[Answer, ...]:
    return tuple(Answer(q, text, cell=cell) for q, (text, cell) in given.items())


def test_every_mandatory_answer_accepted_passes() -> None:
    b = bid(answers=answers(Q1=("Yes", "Q!D4"), Q2=("Agree", "Q!D5"), Q3=("No", "Q!D6")))
    assert check("mandatory_answers", b, rfp=WITH_QUESTIONS) == result(
        "pass", "every mandatory requirement accepted", kind="mandatory_answers")


def test_a_mandatory_answer_missing_entirely_needs_review_without_evidence() -> None:
    b = bid(answers=answers(Q2=("Agree", "Q!D5")))
    assert check("mandatory_answers", b, rfp=WITH_QUESTIONS) == result(
        "review", "Q1 not answered", kind="mandatory_answers")


def test_a_blank_mandatory_answer_needs_review_citing_its_cell() -> None:
    b = bid(answers=answers(Q1=("  ", "Q!D4"), Q2=("Agree", "Q!D5")))
    assert check("mandatory_answers", b, rfp=WITH_QUESTIONS) == result(
        "review", "Q1 not answered", ("V1.xlsx: Q!D4",), kind="mandatory_answers")


def test_blank_and_wrong_answers_fail_citing_their_cells() -> None:
    b = bid(answers=answers(Q1=("", "Q!D4"), Q2=("Disagree", "Q!D5"), Q3=("No", "Q!D6")))
    assert check("mandatory_answers", b, rfp=WITH_QUESTIONS) == result(
        "fail", "Q1 not answered; Q2 answered 'Disagree', 'Agree' required", ("V1.xlsx: Q!D4", "V1.xlsx: Q!D5"),
        "mandatory_answers")


def test_a_wrong_answer_without_a_cell_has_no_evidence_and_review_when_the_gate_says_so() -> None:
    b = bid(answers=answers(Q1=("No", None), Q2=("Agree", None)))
    g = gate("mandatory_answers", on_fail="review")
    assert check("mandatory_answers", b, g, rfp=WITH_QUESTIONS) == result(
        "review", "Q1 answered 'No', 'Yes' required", kind="mandatory_answers")


def test_no_mandatory_questions_passes() -> None:
    assert check("mandatory_answers", bid()) == result(
        "pass", "every mandatory requirement accepted", kind="mandatory_answers")


# -- budget_ceiling ----------------------------------------------------------

WITH_CEILING = attrs.evolve(RFP, budget_ceiling=Decimal(100_000))


@pytest.mark.parametrize(("total", "outcome"), [
    ("100000", "pass"), ("100000.01", "fail"), ("99999.99", "pass"), ("0", "pass"), ("-5", "pass"),
])
def test_budget_ceiling_at_the_limit(total: str, outcome: str) -> None:
    assert check("budget_ceiling", bid(total=total), rfp=WITH_CEILING) == result(
        outcome, f"total {Decimal(total):,.2f} CNY, ceiling 100,000.00", kind="budget_ceiling")


def test_the_gate_amount_overrides_the_rfp_ceiling_even_when_zero() -> None:
    assert check("budget_ceiling", bid(total="50001"), gate("budget_ceiling", amount=50_000),
                 rfp=WITH_CEILING) == result("fail", "total 50,001.00 CNY, ceiling 50,000.00", kind="budget_ceiling")
    assert check("budget_ceiling", bid(total="0.01"), gate("budget_ceiling", "review", amount=0),
                 rfp=WITH_CEILING) == result("review", "total 0.01 CNY, ceiling 0.00", kind="budget_ceiling")
    assert check("budget_ceiling", bid(total="0"), gate("budget_ceiling", amount=0)) == result(
        "pass", "total 0.00 CNY, ceiling 0.00", kind="budget_ceiling")


def test_no_ceiling_anywhere_is_review_never_a_pass() -> None:
    assert check("budget_ceiling", bid(total="1")) == result(
        "review", "no budget ceiling set in rfp.toml", kind="budget_ceiling")


# -- abnormally_low ----------------------------------------------------------


def low(total: str, *others: str, **params: Any) -> GateResult:
    me = bid("V1", total=total)
    bids = (me, *(bid(f"V{n}", total=t) for n, t in enumerate(others, 2)))
    return check("abnormally_low", me, gate("abnormally_low", **params), bids)


def flagged(total: str, below: str, mean: str, share: str = "20") -> GateResult:
    return result("review", f"total {total} is {below}% below the mean of the other bids ({mean}); "
                            f"more than {share}% below asks for an explanation of the price", kind="abnormally_low")


def fine(total: str, mean: str) -> GateResult:
    return result("pass", f"total {total} against a mean of {mean} for the other bids", kind="abnormally_low")


def test_abnormally_low_at_the_default_threshold() -> None:
    assert low("80", "100", "100") == fine("80.00", "100.00")        # exactly 20% below: no question
    assert low("79.99", "100", "100") == flagged("79.99", "20.0", "100.00")
    assert low("70.2", "90", "110") == flagged("70.20", "29.8", "100.00")
    assert low("120", "100", "100") == fine("120.00", "100.00")


def test_abnormally_low_with_an_explicit_threshold() -> None:
    assert low("70", "100", "100", threshold=0.3) == fine("70.00", "100.00")
    assert low("69.99", "100", "100", threshold=0.3) == flagged("69.99", "30.0", "100.00", "30")
    assert low("99.99", "100", threshold=0.0) == flagged("99.99", "0.0", "100.00", "0")
    assert low("100", "100", threshold=0.0) == fine("100.00", "100.00")


def test_abnormally_low_is_review_even_for_a_gate_that_fails() -> None:
    assert low("10", "100", threshold=0.5) == flagged("10.00", "90.0", "100.00", "50")


def test_a_single_bidder_has_nothing_to_compare_with() -> None:
    assert low("10") == result("pass", "no other bids to compare with", kind="abnormally_low")


def test_zero_and_negative_priced_other_bids_are_left_out_of_the_mean() -> None:
    assert low("10", "0", "-50") == result("pass", "no other bids to compare with", kind="abnormally_low")
    assert low("90", "0", "100") == fine("90.00", "100.00")


def test_a_zero_or_negative_priced_bid_is_flagged() -> None:
    assert low("0", "100", "200") == flagged("0.00", "100.0", "150.00")
    assert low("-15", "100", "200") == flagged("-15.00", "110.0", "150.00")


def test_the_mean_of_the_others_excludes_the_bid_itself() -> None:
    assert low("60", "100", "50") == fine("60.00", "75.00")


def test_a_fractional_ceiling_is_compared_as_written_not_as_a_float() -> None:
    # 0.3 as a float is 0.29999999999999998890; the ceiling is the decimal the buyer wrote
    assert check("budget_ceiling", bid(total="0.30"), gate("budget_ceiling", amount=0.3)) == result(
        "pass", "total 0.30 CNY, ceiling 0.30", kind="budget_ceiling")


def test_other_bids_below_one_still_count() -> None:
    assert low("0.5", "0.5") == fine("0.50", "0.50")
    assert low("0.3", "0.5") == flagged("0.30", "40.0", "0.50")


def test_the_threshold_is_shown_rounded_to_a_whole_percent() -> None:
    assert low("30", "100", threshold=0.7) == fine("30.00", "100.00")
    assert low("29.9", "100", threshold=0.7) == flagged("29.90", "70.1", "100.00", "70")
