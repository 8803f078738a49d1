"""The evaluation rules at their boundaries: every bid rule at its thresholds, judgement scores at the
ends of the scale, missing data, a single bidder, a zero-priced bid, the shortlist and blind codes.

Each test asserts whole CriterionValues (share, points, notes, evidence) or whole error lists.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs
import pytest

from rfpflow import hookimpl, scoring
from rfpflow.errors import PluginError
from rfpflow.evaluation import (
    CriterionValue,
    EvaluationError,
    ScoreEntry,
    SensitivityReport,
    blind_codes,
    criterion_values,
    lowest_price_technically_acceptable,
    missing_scores,
    outlier_review,
    rank_vendors,
    sensitivity_report,
    shortlist,
    unblind_scores,
)
from rfpflow.model import (
    Answer,
    Bid,
    Certification,
    Criterion,
    CriterionSource,
    Evaluator,
    PriceLine,
    RankedVendor,
    Ranking,
    Rfp,
    ScoringPlan,
    ShortlistRule,
    Timeline,
)
from rfpflow.registry import ScoringMethod
from rfpflow.testing import make_host

HOST = make_host()
START = dt.date(2027, 5, 1)


def bid_criterion(rule: str, field: str = "years", direction: str = "benefit", weight: float = 40,
                  **params: Any) -> Criterion:
    return Criterion("c", "C", weight, direction, source=CriterionSource("bid", field, rule, params))


def rfp(*criteria: Criterion, start: dt.date | None = START, **changes: Any) -> Rfp:
    return Rfp("R-1", "Hotline", "Buyer", "BPO", "CNY", "en", timeline=Timeline(contract_start=start),
               criteria=criteria, evaluators=(Evaluator("e1", "Ann"), Evaluator("e2", "Bob")), **changes)


def bid(vendor: str = "V1", *, total: str | None = None, **fields: Any) -> Bid:
    prices = () if total is None else (PriceLine("L1", Decimal(1), Decimal(total), "Pricing!E5"),)
    return Bid(vendor, vendor.title(), f"{vendor}.xlsx", fields, prices=prices,
               cells={k: f"Company!C{n}" for n, k in enumerate(fields, start=3)})


def value(crit: Criterion, b: Bid, r: Rfp | None = None) -> CriterionValue:
    matrix = criterion_values(r or rfp(crit), [b], [], host=HOST)
    return matrix.value(b.vendor_id, "c")


def cv(value: float | None, share: float, notes: tuple[str, ...], evidence: tuple[str, ...] = ("V1.xlsx: Company!C3",),
       max_points: float = 100.0) -> CriterionValue:
    return CriterionValue("V1", "c", "bid", value, share, share * max_points, max_points, notes, evidence)


def problems_of(r: Rfp, bids: list[Bid], scores: list[ScoreEntry] = (), **kwargs: Any) -> list[str]:
    with pytest.raises(EvaluationError) as caught:
        criterion_values(r, bids, list(scores), host=HOST, **kwargs)
    return [p.message for p in caught.value.problems]


# -- bands ------------------------------------------------------------------------------------

BANDS = [[3, 5], [5, 8], [10, 10]]


@pytest.mark.parametrize(("years", "share", "note"), [
    (2.99, 0.0, "outside every band: 0 on 0-10"),
    (3, 0.5, "band >= 3: 5 on 0-10"),
    (4.99, 0.5, "band >= 3: 5 on 0-10"),
    (5, 0.8, "band >= 5: 8 on 0-10"),
    (10, 1.0, "band >= 10: 10 on 0-10"),
])
def test_benefit_bands_at_their_thresholds(years: float, share: float, note: str) -> None:
    assert value(bid_criterion("bands", bands=BANDS), bid(years=years)) == cv(
        years, share, (f"years = {years:g}", note))


@pytest.mark.parametrize(("days", "share", "note"), [
    (3, 1.0, "band <= 3: 10 on 0-10"),
    (3.01, 0.8, "band <= 5: 8 on 0-10"),
    (10, 0.5, "band <= 10: 5 on 0-10"),
    (10.01, 0.0, "outside every band: 0 on 0-10"),
])
def test_cost_bands_at_their_thresholds(days: float, share: float, note: str) -> None:
    crit = bid_criterion("bands", "days", "cost", bands=[[3, 10], [5, 8], [10, 5]])
    assert value(crit, bid(days=days)) == cv(days, share, (f"days = {days:g}", note))


def test_bands_on_a_scale_that_does_not_start_at_zero() -> None:
    crit = attrs.evolve(bid_criterion("bands", bands=[[1, 2], [5, 5]]), scale=(1.0, 5.0))
    assert value(crit, bid(years=1)) == cv(1.0, 0.25, ("years = 1", "band >= 1: 2 on 1-5"))
    assert value(crit, bid(years=0)) == cv(0.0, 0.0, ("years = 0", "outside every band: 1 on 1-5"))


def test_company_age_from_the_year_established() -> None:
    crit = bid_criterion("bands", "years_established", bands=BANDS)
    b = bid(year_established=2022)
    assert value(crit, b) == cv(5.0, 0.8, ("established 2022: 5 years at 2027-05-01", "band >= 5: 8 on 0-10"))
    assert value(crit, b, rfp(crit, start=None)) == cv(
        None, 0.0, ("company age unknown: rfp.toml has no contract_start: 0 points",))
    assert value(crit, bid(year_established="old")) == cv(None, 0.0, ("year established 'old' is not a year: "
                                                                      "0 points",))


@pytest.mark.parametrize(("raw", "expected"), [
    (None, cv(None, 0.0, ("years not given: 0 points",), ())),
    ("  ", cv(None, 0.0, ("years not given: 0 points",))),
    ("12", cv(12.0, 1.0, ("years = 12", "band >= 10: 10 on 0-10"))),
    ([3], cv(None, 0.0, ("years [3] is not a number: 0 points",))),
])
def test_missing_and_malformed_numbers(raw: object, expected: CriterionValue) -> None:
    b = bid() if raw is None else bid(years=raw)
    assert value(bid_criterion("bands", bands=BANDS), b) == expected


# -- linear ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("direction", "amount", "share", "percent"), [
    ("benefit", 50, 0.25, "25"), ("benefit", -5, 0.0, "0"), ("benefit", 250, 1.0, "100"),
    ("benefit", 200, 1.0, "100"), ("cost", 50, 0.75, "75"), ("cost", 0, 1.0, "100"),
])
def test_linear(direction: str, amount: float, share: float, percent: str) -> None:
    crit = bid_criterion("linear", "staff", direction, min=0, max=200)
    assert value(crit, bid(staff=amount)) == cv(
        float(amount), share, (f"staff = {amount:g}", f"linear between 0 and 200: {percent} % of the weight"))


# -- answer -------------------------------------------------------------------------------------

POINTS = {"Yes": 1.0, "Partly": 0.5, "No": 0}


def answered(text: str | None) -> Bid:
    answers = () if text is None else (Answer("Q1", text, cell="Questions!D4"),)
    return Bid("V1", "V1", "V1.xlsx", answers=answers)


@pytest.mark.parametrize(("text", "expected"), [
    ("Yes", cv(1.0, 1.0, ("Q1 answered 'Yes': 100 % of the weight",), ("V1.xlsx: Questions!D4",))),
    (" partly ", cv(0.5, 0.5, ("Q1 answered 'partly': 50 % of the weight",), ("V1.xlsx: Questions!D4",))),
    ("No", cv(0.0, 0.0, ("Q1 answered 'No': 0 % of the weight",), ("V1.xlsx: Questions!D4",))),
    ("Maybe", cv(None, 0.0, ("Q1 answered 'Maybe', which params.points does not list: 0 points",),
                 ("V1.xlsx: Questions!D4",))),
    ("", cv(None, 0.0, ("Q1 not answered: 0 points",), ("V1.xlsx: Questions!D4",))),
    (None, cv(None, 0.0, ("Q1 not answered: 0 points",), ())),
])
def test_answer(text: str | None, expected: CriterionValue) -> None:
    assert value(bid_criterion("answer", "Q1", points=POINTS), answered(text)) == expected


# -- present -------------------------------------------------------------------------------------


def certified(*certs: Certification) -> Bid:
    return Bid("V1", "V1", "V1.xlsx", certifications=certs)


def test_a_certificate_valid_on_the_reference_date_earns_full_points() -> None:
    crit = bid_criterion("present", "", any_of=["ISO 27001"])
    b = certified(Certification("ISO/IEC 27001", START, "Certs!B3"))
    assert value(crit, b) == cv(1.0, 1.0, ("ISO/IEC 27001 declared, valid until 2027-05-01: full points",),
                                ("V1.xlsx: Certs!B3",))


def test_a_certificate_expiring_the_day_before_counts_as_missing() -> None:
    crit = bid_criterion("present", "", any_of=["ISO 27001"])
    b = certified(Certification("ISO 27001", START - dt.timedelta(days=1), "Certs!B3"))
    assert value(crit, b) == cv(0.0, 0.0, ("ISO 27001 expires 2027-04-30, before 2027-05-01 (counts as missing)",
                                           "0 points"), ())
    assert value(crit, certified()) == cv(0.0, 0.0, ("none of ISO 27001 declared: 0 points",), ())


def test_without_a_reference_date_validity_is_not_checked() -> None:
    crit = bid_criterion("present", "", any_of=["ISO 27001"])
    b = certified(Certification("ISO 27001", dt.date(2000, 1, 1)))
    assert value(crit, b, rfp(crit, start=None)) == cv(1.0, 1.0, (
        "ISO 27001 declared, valid until 2000-01-01: full points",
        "validity not checked: rfp.toml has no contract_start"), ())


@pytest.mark.parametrize(("fields", "expected"), [
    ({"website": "https://x"}, cv(1.0, 1.0, ("website given: full points",))),
    ({"website": " "}, cv(0.0, 0.0, ("website not given: 0 points",))),
    ({}, cv(0.0, 0.0, ("website not given: 0 points",), ())),
])
def test_present_without_a_list(fields: dict[str, str], expected: CriterionValue) -> None:
    assert value(bid_criterion("present", "website"), bid(**fields)) == expected


# -- malformed rules --------------------------------------------------------------------------------


@pytest.mark.parametrize(("crit", "message"), [
    (bid_criterion("steps"), "criteria 'c': unknown bid rule 'steps'; rfpflow knows present, bands, answer, linear"),
    (bid_criterion("bands", bands=[[3, 5], [3, 8]]),
     "criteria 'c': params.bands thresholds must increase; 3 follows 3"),
    (bid_criterion("bands", bands=[[3, 10.5]]), "criteria 'c': params.bands[1] gives the score 10.5, outside the "
                                                "criterion's scale 0-10"),
    (bid_criterion("bands", bands=[[3, -0.5]]), "criteria 'c': params.bands[1] gives the score -0.5, outside the "
                                                "criterion's scale 0-10"),
    (bid_criterion("bands", bands=[[3]]), "criteria 'c': params.bands[1] must be [threshold, score], got [3]"),
    (bid_criterion("bands", bands=[]), "criteria 'c': params.bands must be a list of [threshold, score] pairs, got []"),
    (bid_criterion("linear", min=5, max=5), "criteria 'c': params.min (5) must be below params.max (5); use "
                                            "direction = \"cost\" to reverse"),
    (bid_criterion("linear", min=5), "criteria 'c': the linear rule needs params.min and params.max numbers, got "
                                     "min=5, max=None"),
    (bid_criterion("answer", points={"Yes": 1.01}), "criteria 'c': params.points.Yes must be a share from 0 to 1, "
                                                    "got 1.01"),
    (bid_criterion("answer", points={"No": -0.01}), "criteria 'c': params.points.No must be a share from 0 to 1, "
                                                    "got -0.01"),
    (bid_criterion("present", any_of=[]), "criteria 'c': params.any_of must be a list of certification names, "
                                          "got []"),
    (bid_criterion("present", any_of=["ISO", " "]), "criteria 'c': params.any_of must be a list of certification "
                                                    "names, got ['ISO', ' ']"),
])
def test_malformed_rules_are_refused_before_any_vendor(crit: Criterion, message: str) -> None:
    assert problems_of(rfp(crit), [bid(years=1)]) == [message]


def test_rules_at_their_valid_limits_are_accepted() -> None:
    for crit in (bid_criterion("bands", bands=[[0, 0], [1, 10]]), bid_criterion("answer", points={"Y": 1, "N": 0}),
                 bid_criterion("linear", min=-1, max=0)):
        assert value(crit, bid(years=1)).criterion == "c"


# -- judgement --------------------------------------------------------------------------------------

JUDGED = Criterion("c", "Approach", 60, scale=(0.0, 10.0))


def scores(*given: tuple[str, float], vendor: str = "V1") -> list[ScoreEntry]:
    return [ScoreEntry(e, vendor, "c", s, place=f"{e}.xlsx: F7") for e, s in given]


def test_judgement_at_the_ends_of_the_scale() -> None:
    matrix = criterion_values(rfp(JUDGED), [bid()], scores(("e1", 10), ("e2", 0)), host=HOST)
    assert matrix.value("V1", "c") == CriterionValue(
        "V1", "c", "judgement", 5.0, 0.5, 50.0, 100.0, ("mean of e1 10, e2 0 = 5.00 on 0-10",),
        ("e1.xlsx: F7", "e2.xlsx: F7"))


def test_a_cost_judgement_reverses_the_share() -> None:
    crit = attrs.evolve(JUDGED, direction="cost")
    matrix = criterion_values(rfp(crit), [bid()], scores(("e1", 2), ("e2", 4)), host=HOST)
    assert matrix.value("V1", "c") == CriterionValue(
        "V1", "c", "judgement", 3.0, 0.7, pytest.approx(70.0), 100.0,
        ("mean of e1 2, e2 4 = 3.00 on 0-10", "a cost criterion: a lower score earns more points"),
        ("e1.xlsx: F7", "e2.xlsx: F7"))


@pytest.mark.parametrize("score", [10.01, -0.01])
def test_a_score_just_outside_the_scale_is_refused(score: float) -> None:
    assert problems_of(rfp(JUDGED), [bid()], scores(("e1", score), ("e2", 5))) == [
        f"score {score:g} of e1 for V1 on 'c' is outside the scale 0-10"]


def test_missing_scores_are_named_by_evaluator_and_vendor() -> None:
    with pytest.raises(EvaluationError) as caught:
        criterion_values(rfp(JUDGED), [bid(), bid("V2")], scores(("e1", 5)), host=HOST)
    assert str(caught.value).splitlines()[0] == ("3 judgement scores are missing; the evaluation cannot be computed "
                                                 "(3 problems)")
    assert [p.message for p in caught.value.problems] == [
        "evaluator Ann (e1) has not scored vendor V2 on: c", "evaluator Bob (e2) has not scored vendor V1 on: c",
        "evaluator Bob (e2) has not scored vendor V2 on: c"]
    with pytest.raises(EvaluationError) as caught:
        criterion_values(rfp(JUDGED), [bid()], scores(("e1", 5)), host=HOST)
    assert str(caught.value).splitlines()[0] == ("1 judgement score is missing; the evaluation cannot be computed "
                                                 "(1 problem)")


def test_missing_scores_listed_in_order() -> None:
    assert [(m.evaluator, m.vendor) for m in missing_scores(rfp(JUDGED), ["V2", "V1"], scores(("e2", 1)))] == [
        ("e1", "V2"), ("e1", "V1"), ("e2", "V2")]


def test_score_entries_that_do_not_belong() -> None:
    entries = [ScoreEntry("e9", "V1", "c", 5), ScoreEntry("e1", "V7", "c", 5), ScoreEntry("e1", "V1", "zz", 5),
               ScoreEntry("e1", "V1", "c", 5, place="a"), ScoreEntry("e1", "V1", "c", 6),
               ScoreEntry("e2", "V1", "c", float("nan"))]
    assert problems_of(rfp(JUDGED), [bid()], entries) == [
        "evaluator 'e9' is not on the panel (e1, e2)",
        "vendor 'V7' has no bid in this evaluation (blind codes must be mapped back to vendor ids first)",
        "unknown criterion 'zz'",
        "e1 scored V1 on 'c' twice (also at a)",
        "score nan is not a number",
    ]


def test_trimmed_mean_needs_three_scores_per_cell() -> None:
    three = attrs.evolve(rfp(JUDGED, scoring=ScoringPlan(consensus="trimmed-mean")),
                         evaluators=(Evaluator("e1", "A"), Evaluator("e2", "B"), Evaluator("e3", "C")))
    matrix = criterion_values(three, [bid()], scores(("e1", 1), ("e2", 9), ("e3", 4)), host=HOST)
    assert matrix.value("V1", "c").value == 4.0
    two = attrs.evolve(three, evaluators=three.evaluators[:2])
    assert problems_of(two, [bid()], scores(("e1", 1), ("e2", 9))) == [
        "criterion 'c' (Approach), vendor V1: the trimmed-mean consensus drops the highest and the lowest score and "
        "needs at least 3 scores, got 2 (e1, e2); use consensus = \"mean\" or \"median\" or add evaluators"]


def test_outlier_review_at_the_threshold() -> None:
    plan = rfp(JUDGED, scoring=ScoringPlan(outlier_threshold=2.0))
    entries = scores(("e1", 5), ("e2", 7), ("e3", 9)) + scores(("e1", 5), ("e2", 7), ("e3", 9.5), vendor="V2")
    found = outlier_review(plan, entries)
    assert [(o.evaluator, o.vendor, o.distance) for o in found] == [("e3", "V2", 2.5)]
    zero = attrs.evolve(plan, scoring=ScoringPlan(outlier_threshold=0.0))
    assert [(o.evaluator, o.vendor) for o in outlier_review(zero, entries)] == [
        ("e1", "V1"), ("e3", "V1"), ("e1", "V2"), ("e3", "V2")]


# -- price and trial ------------------------------------------------------------------------------

PRICE = Criterion("c", "Price", 40, "cost", source=CriterionSource("price"))


def test_a_single_bidder_gets_every_price_point() -> None:
    matrix = criterion_values(rfp(PRICE), [bid(total="250")], [], host=HOST)
    assert matrix.value("V1", "c") == CriterionValue(
        "V1", "c", "price", 250.0, 1.0, 100.0, 100.0,
        ("total price CNY 250.00 (lowest CNY 250.00); lowest-ratio gives 100.00 of 100.00 points",),
        ("V1.xlsx: Pricing!E5",))


def test_a_zero_priced_bid_gets_no_price_points_and_is_not_the_benchmark() -> None:
    matrix = criterion_values(rfp(PRICE), [bid(total="0"), bid("V2", total="200"), bid("V3", total="400")], [],
                              host=HOST)
    assert matrix.value("V1", "c") == CriterionValue("V1", "c", "price", None, 0.0, 0.0, 100.0,
                                                     ("no total price in the bid: 0 points",))
    assert matrix.value("V3", "c").points == 50.0


def test_trial_scores_at_their_limits() -> None:
    crit = Criterion("c", "Trial", 20, source=CriterionSource("trial"))
    matrix = criterion_values(rfp(crit), [bid(), bid("V2"), bid("V3")], [], host=HOST,
                              trial_scores={"V1": 100, "V2": 0})
    assert [matrix.value(v, "c").points for v in ("V1", "V2", "V3")] == [100.0, 0.0, 0.0]
    assert matrix.value("V3", "c").notes == ("no trial-run score for this vendor: 0 points",)
    assert problems_of(rfp(crit), [bid()], trial_scores={"V1": 100.5}) == [
        "trial score of V1 must be a number from 0 to 100, got 100.5"]
    assert problems_of(rfp(crit), [bid()], trial_scores={"V1": -1}) == [
        "trial score of V1 must be a number from 0 to 100, got -1"]
    assert problems_of(rfp(crit), [bid()]) == [
        "criterion 'c' is scored from the trial run, but no trial scores were given"]


def test_points_are_on_the_100_scale_whatever_the_weights_add_up_to() -> None:
    a = bid_criterion("linear", "staff", weight=0.3, min=0, max=10)
    b = attrs.evolve(bid_criterion("linear", "other", weight=0.1, min=0, max=10), id="d")
    matrix = criterion_values(rfp(a, b), [bid(staff=10, other=5)], [], host=HOST)
    assert (matrix.points_factor, matrix.points("V1"), matrix.total("V1")) == (
        250.0, {"c": 75.0, "d": 12.5}, 87.5)


def test_a_vendor_with_two_bids_is_refused() -> None:
    with pytest.raises(EvaluationError) as caught:
        criterion_values(rfp(PRICE), [bid(total="1"), bid(total="2")], [], host=HOST)
    assert str(caught.value) == "vendor(s) V1 have more than one bid in the evaluation"


# -- LPTA, shortlist, blind codes -------------------------------------------------------------------


def test_lpta_single_bidder_zero_weights_and_bad_prices() -> None:
    only = lowest_price_technically_acceptable([[1]], [0], ["benefit"], prices=[50], acceptable=[True])
    assert (only.scores, only.ranks, only.weights) == ((1.0,), (1,), (0.0,))
    none = lowest_price_technically_acceptable([[1], [1]], [1, 3], ["benefit"] * 2, prices=[50, None],
                                               acceptable=[False, True])
    assert (none.scores, none.ranks, none.weights) == ((0.0, 0.0), (1, 1), (0.25, 0.75))
    with pytest.raises(ValueError) as caught:
        lowest_price_technically_acceptable([[1]], [1], ["benefit"], prices=[0], acceptable=[True])
    assert str(caught.value) == "prices must be positive numbers or None: entry 0 is 0"


RANKING = Ranking("weighted-sum", (RankedVendor("V3", 3, 59.994), RankedVendor("V1", 1, 80.0),
                                   RankedVendor("V2", 2, 60.0)))


@pytest.mark.parametrize(("rule", "expected"), [
    (ShortlistRule(), ["V1", "V2", "V3"]),
    (ShortlistRule(top=2), ["V1", "V2"]),
    (ShortlistRule(top=0), []),
    (ShortlistRule(min_score=60), ["V1", "V2"]),
    (ShortlistRule(min_score=59.995), ["V1", "V2"]),
    (ShortlistRule(min_score=59.99), ["V1", "V2", "V3"]),
    (ShortlistRule(top=1, min_score=90), []),
])
def test_shortlist(rule: ShortlistRule, expected: list[str]) -> None:
    assert shortlist(RANKING, rule) == expected


def test_blind_codes_run_past_z() -> None:
    vendors = [f"V{n}" for n in range(28)]
    codes = blind_codes(rfp(PRICE), vendors)
    assert sorted(codes.values(), key=lambda c: (len(c), c))[-3:] == ["Bidder Z", "Bidder AA", "Bidder AB"]
    assert len(set(codes.values())) == 28
    assert blind_codes(attrs.evolve(rfp(PRICE), language="zh"), ["V1"]) == {"V1": "投标人A"}


def test_unblinding_refuses_a_code_never_handed_out() -> None:
    codes = {"V1": "Bidder A"}
    assert unblind_scores([ScoreEntry("e1", "Bidder A", "c", 5)], codes) == [ScoreEntry("e1", "V1", "c", 5)]
    with pytest.raises(EvaluationError) as caught:
        unblind_scores([ScoreEntry("e1", "Bidder B", "c", 5, place="e1.xlsx")], codes)
    assert str(caught.value).splitlines()[0] == "unknown vendor code(s) Bidder B in the score sheets"
    assert [(p.message, p.place) for p in caught.value.problems] == [
        ("vendor code 'Bidder B' was not handed out", "e1.xlsx")]


# -- ranking ------------------------------------------------------------------------------------------

STAFF = attrs.evolve(bid_criterion("linear", "staff", weight=60, min=0, max=100), id="staff")
PRICE40 = attrs.evolve(PRICE, id="price")
T0 = dt.datetime(2027, 1, 1, 9, 0, tzinfo=dt.UTC)


def ranked(r: Rfp, bids: list[Bid], *, award: bool = False, trial: dict[str, float] | None = None,
           submitted: dict[str, dt.datetime] | None = None) -> Ranking:
    matrix = criterion_values(r, bids, [], host=HOST, trial_scores=trial)
    when = submitted if submitted is not None else {b.vendor_id: T0 + dt.timedelta(hours=n)
                                                    for n, b in enumerate(bids)}
    return rank_vendors(r, matrix, bids, host=HOST, submitted_at=when, trial_scores=trial, award=award)


def test_an_exact_tie_is_broken_by_the_rule_and_explained() -> None:
    bids = [bid("V1", staff=50, total="100"), bid("V2", staff=100, total="200"), bid("V3", staff=100, total="200")]
    ranking = ranked(rfp(STAFF, PRICE40), bids, submitted={"V1": T0, "V2": T0 + dt.timedelta(days=1), "V3": T0})
    assert [(e.vendor_id, e.rank, e.total_score, e.price) for e in ranking.entries] == [
        ("V3", 1, 80.0, Decimal(200)), ("V2", 2, 80.0, Decimal(200)), ("V1", 3, 70.0, Decimal(100))]
    assert dict(ranking.entries[0].breakdown) == {"staff": 60.0, "price": 20.0, "technical_score": 60.0}
    assert ranking.tied_groups == (("V3", "V2"),)
    assert ranking.notes == (
        "weighted sum: each total is the sum of the criterion points on the 100-point scale",
        "V3 and V2 are level on total score 80.00; price CNY 200.00; technical score 60.00; V3 ranks ahead on "
        "submission time (2027-01-01 09:00:00+00:00 against 2027-01-02 09:00:00+00:00)",
        "tied (equal score 80.00 and equal price CNY 200.00): V3, V2; the order shown follows the tie-break rule "
        "(total_score, price, technical_score, submitted_at, vendor) as the tender documents declare",
    )


def test_a_tie_nothing_separates_is_left_to_the_tender_documents() -> None:
    bids = [bid("V2", staff=10, total="100"), bid("V1", staff=10, total="100")]
    ranking = ranked(rfp(STAFF, PRICE40), bids, submitted={})
    assert [e.vendor_id for e in ranking.entries] == ["V1", "V2"]
    assert ranking.notes[1] == ("V1 and V2 are level on total score 46.00; price CNY 100.00; technical score 6.00; "
                                "submission time none: no tie-break key separates them, so V1 is listed first by "
                                "vendor id only; the tender documents must decide")


def test_a_single_bidder_and_a_bid_without_a_price() -> None:
    ranking = ranked(rfp(STAFF, PRICE40), [bid("V1", staff=0, total="0")])
    assert [(e.vendor_id, e.rank, e.total_score, e.price) for e in ranking.entries] == [("V1", 1, 0.0, None)]
    assert ranking.tied_groups == ()


def test_award_without_weights_follows_the_evaluation_and_says_so() -> None:
    ranking = ranked(rfp(STAFF, PRICE40), [bid("V1", staff=50, total="100")], award=True)
    assert ranking.notes[0] == "award: no [scoring] award weights, so the award follows the evaluation total"
    assert ranking.entries[0].total_score == 70.0


def test_award_weights_combine_evaluation_price_and_trial() -> None:
    plan = rfp(STAFF, PRICE40, scoring=ScoringPlan(award_weights={"evaluation": 0.5, "price": 0.3, "trial": 0.2}))
    bids = [bid("V1", staff=50, total="100"), bid("V2", staff=100, total="200"), bid("V3", staff=0)]
    ranking = ranked(plan, bids, award=True, trial={"V1": 50.0, "V2": 100.0})
    # V1: 70 x 0.5 + 100 x 0.3 + 50 x 0.2 = 75; V2: 80 x 0.5 + 50 x 0.3 + 100 x 0.2 = 75; the lower price first
    assert [(e.vendor_id, e.total_score) for e in ranking.entries] == [("V1", 75.0), ("V2", 75.0), ("V3", 0.0)]
    assert dict(ranking.entries[0].breakdown) == {
        "staff": 30.0, "price": 40.0, "technical_score": 30.0, "evaluation_score": 70.0, "price_score": 100.0,
        "trial_score": 50.0, "award_score": 75.0}
    assert ranking.notes[:2] == (
        "award score = evaluation x 0.5 + price score (lowest-ratio, 100 points) x 0.3 + trial score x 0.2",
        "note: price counts twice, as a criterion of the evaluation and in the award weights")
    assert "V3: no total price, price score 0" in ranking.notes
    assert "V3: no trial-run score, trial score 0" in ranking.notes
    with pytest.raises(EvaluationError) as caught:
        ranked(plan, bids, award=True)
    assert str(caught.value) == "the award gives weight to the trial run, but no trial scores were given"


@pytest.mark.parametrize(("threshold", "acceptable"), [(None, [True, False]), (50.0, [True, True]),
                                                       (50.01, [True, False]), (0, [True, True])])
def test_lpta_technical_threshold(threshold: float | None, acceptable: list[bool]) -> None:
    options = {} if threshold is None else {"min_technical": threshold}
    plan = rfp(STAFF, PRICE40, scoring=ScoringPlan(method="lpta", options=options))
    # V1: 60 of 60 technical points; V2: 30 of 60, i.e. 50 %
    ranking = ranked(plan, [bid("V1", staff=100, total="200"), bid("V2", staff=50, total="100")])
    flags = {e.vendor_id: e.breakdown["acceptable"] for e in ranking.entries}
    assert [flags["V1"], flags["V2"]] == [float(a) for a in acceptable]
    expected = ["V2", "V1"] if acceptable[1] else ["V1", "V2"]
    assert [e.vendor_id for e in ranking.entries] == expected


@pytest.mark.parametrize("threshold", [100.01, -1, "60"])
def test_lpta_threshold_out_of_range(threshold: object) -> None:
    plan = rfp(STAFF, PRICE40, scoring=ScoringPlan(method="lpta", options={"min_technical": threshold}))
    with pytest.raises(EvaluationError) as caught:
        ranked(plan, [bid("V1", staff=100, total="200")])
    assert str(caught.value) == (f"[scoring.options] min_technical must be a percentage from 0 to 100, "
                                 f"got {threshold!r}")


def test_an_unknown_ranking_method() -> None:
    with pytest.raises(EvaluationError) as caught:
        ranked(rfp(STAFF, scoring=ScoringPlan(method="electre")), [bid("V1", staff=1)])
    assert str(caught.value) == "unknown ranking method 'electre'; available: lpta, topsis, weighted-sum"


def test_topsis_needs_a_value_for_every_judged_and_priced_cell() -> None:
    plan = rfp(STAFF, PRICE40, scoring=ScoringPlan(method="topsis"))
    with pytest.raises(EvaluationError) as caught:
        ranked(plan, [bid("V1", staff=100, total="200"), bid("V2", staff=50)])
    assert str(caught.value).splitlines()[0] == "method 'topsis' needs a value for every vendor and criterion"
    assert [p.message for p in caught.value.problems] == ["V2 has no price value on 'price'"]
    ranking = ranked(plan, [bid("V1", staff=100, total="100"), bid("V2", staff=50, total="200")])
    assert [(e.vendor_id, e.total_score) for e in ranking.entries] == [("V1", 100.0), ("V2", 0.0)]


# -- sensitivity report ---------------------------------------------------------------------------------


def test_sensitivity_with_one_vendor_equal_vendors_and_lpta() -> None:
    plan = rfp(STAFF, PRICE40)
    one = criterion_values(plan, [bid("V1", staff=1, total="1")], [], host=HOST)
    assert sensitivity_report(plan, one) == SensitivityReport(
        "weighted-sum", "V1", (), ("fewer than two vendors: no weight can change the winner",))
    same = criterion_values(plan, [bid("V1", staff=1, total="1"), bid("V2", staff=1, total="1")], [], host=HOST)
    assert sensitivity_report(plan, same) == SensitivityReport(
        "weighted-sum", "V1", (), ("every vendor has the same points on every criterion: no weight separates them",))
    lpta = attrs.evolve(plan, scoring=ScoringPlan(method="lpta"))
    assert sensitivity_report(lpta, same) == SensitivityReport(
        "lpta", None, (), ("weight sensitivity is computed for weighted-sum and topsis, not 'lpta'",))


def test_sensitivity_names_the_weight_that_changes_the_winner() -> None:
    plan = rfp(STAFF, PRICE40)
    bids = [bid("V1", staff=100, total="200"), bid("V2", staff=50, total="100")]
    matrix = criterion_values(plan, bids, [], host=HOST)
    report = sensitivity_report(plan, matrix, bids=bids)
    assert report.winner == "V1"
    staff, price = report.changes
    assert (staff.criterion, staff.weight, staff.new_leader) == ("staff", 60.0, "V2")
    assert staff.new_weight == pytest.approx(50.0)
    assert staff.text == ("staff: the winner changes if its weight falls from 60.0 to beyond 50.0 (-10.0 points) — "
                          "V2 would lead")
    assert (price.criterion, price.weight, price.new_leader) == ("price", 40.0, "V2")
    assert price.new_weight == pytest.approx(50.0)
    assert price.text == ("price: the winner changes if its weight rises from 40.0 to beyond 50.0 (+10.0 points) — "
                          "V2 would lead")


# -- plugins' formulas that misbehave ---------------------------------------------------------------


class _Formulas:
    """A price formula and a ranking method that return what they should not."""

    @hookimpl
    def rfpflow_register_scoring_methods(self, register):
        register(ScoringMethod("short", "price", "one point too few", lambda prices, max_points: prices[1:]))
        register(ScoringMethod("over", "price", "more than the maximum", lambda prices, max_points: [
            max_points * 2 for _ in prices]))
        register(ScoringMethod("loud", "ranking", "scores above 1", lambda rows, *a, **k: scoring.RankResult(
            tuple(1.5 for _ in rows), tuple(1 for _ in rows), (1.0,), "loud", "none")))


PLUGGED = make_host(_Formulas())


def test_a_price_formula_with_too_few_points_is_a_plugin_error() -> None:
    plan = rfp(PRICE, scoring=ScoringPlan(price_formula="short"))
    with pytest.raises(PluginError) as caught:
        criterion_values(plan, [bid(total="1"), bid("V2", total="2")], [], host=PLUGGED)
    assert str(caught.value) == ("plugin '_Formulas': price formula 'short' returned [2.0] for 2 prices; "
                                 "expected one finite number per price")


def test_price_points_are_capped_at_the_maximum() -> None:
    plan = rfp(PRICE, scoring=ScoringPlan(price_formula="over"))
    matrix = criterion_values(plan, [bid(total="1")], [], host=PLUGGED)
    assert (matrix.value("V1", "c").points, matrix.value("V1", "c").share) == (100.0, 1.0)


def test_an_unknown_price_formula_lists_the_known_ones() -> None:
    plan = rfp(PRICE, scoring=ScoringPlan(price_formula="cheapest"))
    with pytest.raises(EvaluationError) as caught:
        criterion_values(plan, [bid(total="1")], [], host=HOST)
    assert str(caught.value) == "unknown price formula 'cheapest'; available: linear, lowest-ratio"


def test_a_ranking_method_scoring_above_one_is_a_plugin_error() -> None:
    plan = rfp(STAFF, scoring=ScoringPlan(method="loud"))
    bids = [bid("V1", staff=1)]
    matrix = criterion_values(plan, bids, [], host=PLUGGED)
    with pytest.raises(PluginError) as caught:
        rank_vendors(plan, matrix, bids, host=PLUGGED, submitted_at={})
    assert str(caught.value) == "ranking method 'loud' returned scores [1.5]; expected 1 numbers from 0 to 1"


def test_sensitivity_on_a_criterion_where_every_vendor_is_level() -> None:
    plan = rfp(STAFF, PRICE40)
    bids = [bid("V1", staff=50, total="100"), bid("V2", staff=50, total="200")]
    report = sensitivity_report(plan, criterion_values(plan, bids, [], host=HOST), bids=bids)
    assert report.winner == "V1"
    assert [(c.criterion, c.new_weight, c.delta, c.new_leader, c.text) for c in report.changes] == [
        ("staff", None, None, None, "staff: no weight between 0 and 100 changes the winner (now 60.0)"),
        ("price", None, None, None, "price: no weight between 0 and 100 changes the winner (now 40.0)")]


def test_sensitivity_says_when_the_tie_break_alone_chose_the_leader() -> None:
    plan = rfp(STAFF, PRICE40)
    bids = [bid("V1", staff=100, total="200"), bid("V2", staff=100, total="200")]
    matrix = criterion_values(plan, bids, [], host=HOST)
    leader = Ranking("weighted-sum", (RankedVendor("V2", 1, 80.0), RankedVendor("V1", 2, 80.0)))
    report = sensitivity_report(plan, matrix, bids=bids, ranking=leader)
    assert (report.winner, report.notes) == (
        "V2", ("every vendor has the same points on every criterion: no weight separates them",))
    bids = [bid("V1", staff=100, total="200"), bid("V2", staff=90, total="180")]
    matrix = criterion_values(plan, bids, [], host=HOST)
    report = sensitivity_report(plan, matrix, bids=bids, ranking=leader)
    assert report.notes == ("V2 leads the ranking only through the tie-break rule; on scores alone V1 is level or "
                            "ahead",)


def test_a_certificate_not_in_the_list_earns_nothing() -> None:
    crit = bid_criterion("present", "", any_of=["ISO 27001"])
    assert value(crit, certified(Certification("ISO 9001", None, "Certs!B3"))) == cv(
        0.0, 0.0, ("none of ISO 27001 declared: 0 points",), ())
