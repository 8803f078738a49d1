"""The evaluation stage: criterion values, consensus, outliers, ranking, ties, sensitivity, award, shortlist.

Every expected number is worked out by hand in the test (or its comment) on the
generic profile's criteria: approach 25, team 20, experience 15 (judgement,
scale 0-10, median consensus) and price 40 (lowest-ratio).
"""

from __future__ import annotations

import datetime as dt
import doctest
import json
import math
from decimal import Decimal

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rfpflow import evaluation, hookimpl, scoring
from rfpflow.definition import load_rfp
from rfpflow.errors import RfpflowError
from rfpflow.evaluation import (
    EvaluationError,
    FlaggedScore,
    Matrix,
    MissingScore,
    ScoreEntry,
    blind_codes,
    criterion_values,
    lowest_price_technically_acceptable,
    outlier_review,
    rank_vendors,
    score_entries,
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
    ShortlistRule,
)
from rfpflow.registry import ScoringMethod
from rfpflow.store import serde
from rfpflow.testing import make_host
from rfpflow.workspace import create_workspace

UTC = dt.UTC
T0 = dt.datetime(2027, 1, 29, 9, 0, tzinfo=UTC)
SUBMITTED = {"V1": T0, "V2": T0 + dt.timedelta(hours=1), "V3": T0 + dt.timedelta(hours=2)}
PANEL = ("E1", "E2", "E3")


@pytest.fixture(scope="module")
def generic(tmp_path_factory):
    """The generic profile's RFP, loaded through the real definition loader and plugins."""
    host = make_host()
    ws = create_workspace(tmp_path_factory.mktemp("eval") / "ws", host)
    from rfpflow.context import RunContext

    return load_rfp(ws / "rfp.toml", context=RunContext(host=host, actor="test"))


@pytest.fixture(scope="module")
def host():
    return make_host()


def make_bid(vendor: str, price: float | int | None, **kwargs) -> Bid:
    prices = () if price is None else (PriceLine("L1", Decimal(1), Decimal(str(price)), "Pricing!E14"),)
    return Bid(vendor, f"Vendor {vendor}", f"{vendor.lower()}.xlsx", prices=prices, **kwargs)


def entries(table: dict[str, dict[str, tuple[float, ...]]], panel=PANEL) -> list[ScoreEntry]:
    """{vendor: {criterion: (score of E1, score of E2, ...)}} -> score entries with sheet places."""
    out = []
    for vendor, by_criterion in table.items():
        for row, (criterion, scores) in enumerate(by_criterion.items(), start=6):
            for evaluator, score in zip(panel, scores, strict=True):
                out.append(ScoreEntry(evaluator, vendor, criterion, float(score), "",
                                      f"{evaluator.lower()}.xlsx: Scores!F{row}"))
    return out


# The three-vendor example used throughout (median consensus, prices 100k / 125k / 200k):
#   V1 approach median 8 -> 0.8 x 25 = 20.0, team 6 -> 12.0, experience 5 -> 7.5, price lowest -> 40.0 = 79.5
#   V2 approach 9 -> 22.5, team 9 -> 18.0, experience 8 -> 12.0, price 100/125 x 40 = 32.0          = 84.5
#   V3 approach 6 -> 15.0, team 5 -> 10.0, experience 4 -> 6.0, price 100/200 x 40 = 20.0           = 51.0
EXAMPLE = {
    "V1": {"approach": (7, 8, 9), "team": (6, 6, 7), "experience": (5, 5, 5)},
    "V2": {"approach": (9, 9, 9), "team": (8, 9, 9), "experience": (8, 8, 8)},
    "V3": {"approach": (5, 6, 7), "team": (5, 5, 5), "experience": (4, 4, 6)},
}
PRICES = {"V1": 100_000, "V2": 125_000, "V3": 200_000}


def example_bids(prices=PRICES) -> list[Bid]:
    return [make_bid(v, p) for v, p in prices.items()]


def with_weights(rfp, weights: dict[str, float]):
    """The RFP with some leaf weights changed (parents untouched: evaluation only reads leaves)."""
    def change(c: Criterion) -> Criterion:
        return attrs.evolve(c, weight=weights.get(c.id, c.weight), children=tuple(change(k) for k in c.children))

    return attrs.evolve(rfp, criteria=tuple(change(c) for c in rfp.criteria))


def with_scoring(rfp, **changes):
    return attrs.evolve(rfp, scoring=attrs.evolve(rfp.scoring, **changes))


def test_docstring_examples_run() -> None:
    result = doctest.testmod(evaluation)
    assert result.attempted >= 1 and result.failed == 0


# --------------------------------------------------------------------------
# criterion values
# --------------------------------------------------------------------------


def test_weighted_sum_totals_on_the_100_point_scale_match_the_hand_computation(generic, host) -> None:
    bids = example_bids()
    matrix = criterion_values(generic, bids, entries(EXAMPLE), host=host)
    assert matrix.criteria == ("approach", "team", "experience", "price")
    assert matrix.points("V1") == {"approach": 20.0, "team": 12.0, "experience": 7.5, "price": 40.0}
    assert matrix.points("V2") == {"approach": 22.5, "team": 18.0, "experience": 12.0, "price": 32.0}
    assert matrix.points("V3") == {"approach": 15.0, "team": 10.0, "experience": 6.0, "price": 20.0}

    ranking = rank_vendors(generic, matrix, bids, host=host, submitted_at=SUBMITTED)
    assert [(e.vendor_id, e.rank, e.total_score) for e in ranking.entries] == [
        ("V2", 1, 84.5), ("V1", 2, 79.5), ("V3", 3, 51.0)]
    top = ranking.entries[0]
    assert top.price == Decimal("125000")
    # the breakdown: criteria, the "technical" dimension (approach + team + experience), technical_score
    assert top.breakdown["technical"] == 52.5
    assert top.breakdown["technical_score"] == 52.5
    assert top.breakdown["price"] == 32.0
    assert ranking.tied_groups == ()


def test_values_say_where_they_came_from(generic, host) -> None:
    matrix = criterion_values(generic, example_bids(), entries(EXAMPLE), host=host)
    team = matrix.value("V1", "team")
    assert (team.source, team.value, team.share, team.points, team.max_points) == ("judgement", 6.0, 0.6, 12.0, 20.0)
    assert team.notes[0] == "median of E1 6, E2 6, E3 7 = 6.00 on 0-10"
    assert team.evidence == ("e1.xlsx: Scores!F7", "e2.xlsx: Scores!F7", "e3.xlsx: Scores!F7")
    price = matrix.value("V2", "price")
    assert price.value == 125_000.0
    assert price.notes == ("total price CNY 125,000.00 (lowest CNY 100,000.00); lowest-ratio gives 32.00 of "
                           "40.00 points",)
    assert price.evidence == ("v2.xlsx: Pricing!E14",)


def test_comments_become_notes(generic, host) -> None:
    scores = entries(EXAMPLE)
    scores[0] = attrs.evolve(scores[0], comment="clear SLA plan")
    matrix = criterion_values(generic, example_bids(), scores, host=host)
    assert "E1: clear SLA plan" in matrix.value("V1", "approach").notes


def test_price_points_by_lowest_ratio(generic, host) -> None:
    # prices 100, 125, 200 with weight 40: 40, 100/125 x 40 = 32, 100/200 x 40 = 20
    rfp = attrs.evolve(generic, criteria=(Criterion("price", "Price", 100.0, "cost",
                                                     source=CriterionSource("price")),))
    rfp = with_weights(rfp, {"price": 40.0})  # a lone criterion of weight 40: points are still out of 100
    bids = [make_bid("A", 100), make_bid("B", 125), make_bid("C", 200)]
    matrix = criterion_values(rfp, bids, [], host=host)
    assert [matrix.value(v, "price").points for v in "ABC"] == [100.0, 80.0, 50.0]

    matrix = criterion_values(generic, bids, entries({v: EXAMPLE["V1"] for v in "ABC"}), host=host)
    assert [matrix.value(v, "price").points for v in "ABC"] == [40.0, 32.0, 20.0]


def test_linear_price_formula_is_looked_up_by_name(generic, host) -> None:
    rfp = with_scoring(generic, price_formula="linear")
    bids = [make_bid("A", 100), make_bid("B", 150), make_bid("C", 200)]
    matrix = criterion_values(rfp, bids, entries({v: EXAMPLE["V1"] for v in "ABC"}), host=host)
    assert [matrix.value(v, "price").points for v in "ABC"] == [40.0, 20.0, 0.0]


def test_a_bid_without_price_gets_no_price_points_and_a_note(generic, host) -> None:
    bids = [make_bid("V1", 100), make_bid("V2", None)]
    matrix = criterion_values(generic, bids, entries({v: EXAMPLE["V1"] for v in ("V1", "V2")}), host=host)
    value = matrix.value("V2", "price")
    assert (value.value, value.points) == (None, 0.0)
    assert value.notes == ("no total price in the bid: 0 points",)
    assert matrix.value("V1", "price").points == 40.0


@pytest.mark.parametrize(("method", "approach_points"), [
    # E1..E5 score approach 2, 3, 7, 9, 10:
    ("mean", 15.5),                # (2 + 3 + 7 + 9 + 10) / 5 = 6.2 -> 0.62 x 25
    ("median", 17.5),              # 7 -> 0.7 x 25
    ("trimmed-mean", 15.8333333),  # drop 2 and 10: (3 + 7 + 9) / 3 = 6.333.. -> 0.6333.. x 25
])
def test_consensus_methods(generic, host, method: str, approach_points: float) -> None:
    panel = ("E1", "E2", "E3", "E4", "E5")
    rfp = attrs.evolve(with_scoring(generic, consensus=method),
                       evaluators=tuple(Evaluator(e, f"Evaluator {e[1]}") for e in panel))
    table = {"V1": {"approach": (2, 3, 7, 9, 10), "team": (5,) * 5, "experience": (5,) * 5}}
    matrix = criterion_values(rfp, [make_bid("V1", 100)], entries(table, panel), host=host)
    assert matrix.value("V1", "approach").points == pytest.approx(approach_points)
    assert matrix.value("V1", "approach").notes[0].startswith(f"{method} of E1 2, E2 3, E3 7, E4 9, E5 10 = ")


def test_trimmed_mean_is_refused_below_three_scores_naming_criterion_and_vendor(generic, host) -> None:
    rfp = attrs.evolve(with_scoring(generic, consensus="trimmed-mean"),
                       evaluators=(Evaluator("E1", "Ann"), Evaluator("E2", "Bo")))
    table = {"V1": {"approach": (7, 8), "team": (6, 6), "experience": (5, 5)}}
    with pytest.raises(EvaluationError) as caught:
        criterion_values(rfp, [make_bid("V1", 100)], entries(table, ("E1", "E2")), host=host)
    messages = [p.message for p in caught.value.problems]
    assert len(messages) == 3
    assert messages[0].startswith("criterion 'approach' (Service approach and SLA), vendor V1: the trimmed-mean "
                                  "consensus drops the highest and the lowest score and needs at least 3 scores, "
                                  "got 2 (E1, E2)")


def test_missing_scores_are_all_listed_by_evaluator_and_vendor(generic, host) -> None:
    scores = [s for s in entries(EXAMPLE)
              if not (s.evaluator == "E2" and s.vendor == "V1" and s.criterion in ("approach", "team"))
              and not (s.evaluator == "E3" and s.vendor == "V3" and s.criterion == "experience")]
    with pytest.raises(EvaluationError) as caught:
        criterion_values(generic, example_bids(), scores, host=host)
    error = caught.value
    assert str(error).startswith("3 judgement scores are missing")
    assert [p.message for p in error.problems] == [
        "evaluator Evaluator 2 (E2) has not scored vendor V1 on: approach, team",
        "evaluator Evaluator 3 (E3) has not scored vendor V3 on: experience",
    ]
    assert error.missing == (MissingScore("E2", "V1", "approach"), MissingScore("E2", "V1", "team"),
                             MissingScore("E3", "V3", "experience"))
    assert isinstance(error, RfpflowError)


def test_invalid_score_entries_are_refused_together(generic, host) -> None:
    scores = entries(EXAMPLE)
    scores += [
        ScoreEntry("E1", "V1", "price", 5.0, place="e1.xlsx: Scores!Z1"),
        ScoreEntry("E9", "V1", "team", 5.0, place="e9.xlsx: Scores!F7"),
        ScoreEntry("E1", "V1", "team", 5.0, place="e1.xlsx: Scores!F99"),
        ScoreEntry("E1", "Bidder A", "team", 5.0, place="e1.xlsx: Scores!H7"),
    ]
    scores[0] = attrs.evolve(scores[0], score=12.0)
    with pytest.raises(EvaluationError) as caught:
        criterion_values(generic, example_bids(), scores, host=host)
    found = {(p.place, p.message.split(";")[0]) for p in caught.value.problems}
    assert ("e1.xlsx: Scores!F6", "score 12 of E1 for V1 on 'approach' is outside the scale 0-10") in found
    assert ("e1.xlsx: Scores!Z1", "criterion 'price' is scored from the price, not by evaluators") in found
    assert ("e9.xlsx: Scores!F7", "evaluator 'E9' is not on the panel (E1, E2, E3)") in found
    assert ("e1.xlsx: Scores!F99", "E1 scored V1 on 'team' twice (also at e1.xlsx: Scores!F7)") in found
    assert any(place == "e1.xlsx: Scores!H7" and "has no bid" in message for place, message in found)


def test_a_cost_judgement_criterion_earns_points_for_low_scores(generic, host) -> None:
    rfp = attrs.evolve(generic, criteria=(
        Criterion("risk", "Delivery risk", 100.0, "cost", scale=(1.0, 5.0)),))
    matrix = criterion_values(rfp, [make_bid("V1", 100)], entries({"V1": {"risk": (2, 2, 3)}}), host=host)
    # median 2 on 1-5: (2 - 1) / 4 = 0.25 of the scale, reversed: 0.75 x 100
    assert matrix.value("V1", "risk").points == 75.0


# --------------------------------------------------------------------------
# bid rules
# --------------------------------------------------------------------------


def bid_rule_rfp(generic):
    def bid_criterion(cid, field, rule, params, direction="benefit", weight=10.0):
        return Criterion(cid, cid.title(), weight, direction, source=CriterionSource("bid", field, rule, params))

    return attrs.evolve(generic, criteria=(
        bid_criterion("certs", "certifications", "present", {"any_of": ["ISO 27001", "SOC 2 Type II"]}),
        bid_criterion("years", "years_established", "bands", {"bands": [[3, 5], [5, 8], [10, 10]]}),
        bid_criterion("headcount", "headcount", "bands", {"bands": [[50, 4], [200, 7], [500, 10]]}),
        bid_criterion("cover", "Q3", "answer", {"points": {"Yes": 1.0, "Partly": 0.5, "No": 0}}),
        bid_criterion("attrition", "attrition_rate", "linear", {"min": 5, "max": 30}, direction="cost"),
        Criterion("price", "Price", 50.0, "cost", source=CriterionSource("price")),
    ))


def test_bid_rules_on_real_bid_records(generic, host) -> None:
    rfp = bid_rule_rfp(generic)  # contract_start 2027-05-01
    a = make_bid("A", 100, certifications=(Certification("ISO/IEC 27001:2022", dt.date(2028, 1, 1), "Company!C12"),),
                 fields={"year_established": 2015, "headcount": 250, "attrition_rate": "10"},
                 cells={"year_established": "Company!C5", "headcount": "Company!C8", "attrition_rate": "Company!C9"},
                 answers=(Answer("Q3", "Partly", cell="Questionnaire!D5"),))
    b = make_bid("B", 100, certifications=(Certification("ISO 27001", dt.date(2027, 3, 1)),),
                 fields={"year_established": 2023, "attrition_rate": 40},
                 answers=(Answer("Q3", "Yes"),))
    c = make_bid("C", 100, certifications=(Certification("SOC 2 Type II"),),
                 fields={"year_established": 2025, "headcount": Decimal(50)})
    matrix = criterion_values(rfp, [a, b, c], [], host=host)

    def points(vendor):
        p = matrix.points(vendor)
        del p["price"]
        return p

    # A: certificate valid at 2027-05-01; 12 years -> band 10 -> 10/10; 250 staff -> band 200 -> 7/10;
    #    "Partly" -> 0.5; attrition 10 % on 5..30 -> 0.2, a cost -> 0.8
    assert points("A") == {"certs": 10.0, "years": 10.0, "headcount": 7.0, "cover": 5.0, "attrition": 8.0}
    # B: certificate expires before the contract start; 4 years -> band 3 -> 5/10; no headcount;
    #    "Yes" -> 1.0; attrition 40 % beyond the max -> 0
    assert points("B") == {"certs": 0.0, "years": 5.0, "headcount": 0.0, "cover": 10.0, "attrition": 0.0}
    # C: SOC 2 without expiry; 2 years is below every band; 50 staff -> band 50 -> 4/10; no answer; no attrition
    assert points("C") == {"certs": 10.0, "years": 0.0, "headcount": 4.0, "cover": 0.0, "attrition": 0.0}

    assert matrix.value("A", "certs").notes == ("ISO/IEC 27001:2022 declared, valid until 2028-01-01: full points",)
    assert matrix.value("A", "certs").evidence == ("a.xlsx: Company!C12",)
    assert matrix.value("B", "certs").notes == (
        "ISO 27001 expires 2027-03-01, before 2027-05-01 (counts as missing)", "0 points")
    assert matrix.value("A", "years").notes == ("established 2015: 12 years at 2027-05-01",
                                                "band >= 10: 10 on 0-10")
    assert matrix.value("A", "years").evidence == ("a.xlsx: Company!C5",)
    assert matrix.value("B", "headcount").notes == ("headcount not given: 0 points",)
    assert matrix.value("C", "cover").notes == ("Q3 not answered: 0 points",)
    assert matrix.value("A", "cover").evidence == ("a.xlsx: Questionnaire!D5",)
    assert matrix.value("C", "years").notes[-1] == "outside every band: 0 on 0-10"


def test_bands_on_a_cost_criterion_take_the_lowest_threshold_the_value_stays_within(generic, host) -> None:
    rfp = attrs.evolve(generic, criteria=(Criterion(
        "response", "Response time", 100.0, "cost",
        source=CriterionSource("bid", "response_minutes", "bands", {"bands": [[15, 10], [30, 6], [60, 2]]})),))
    bids = [make_bid(v, 100, fields={"response_minutes": m}) for v, m in (("A", 10), ("B", 30), ("C", 45), ("D", 90))]
    matrix = criterion_values(rfp, bids, [], host=host)
    assert [matrix.value(v, "response").points for v in "ABCD"] == [100.0, 60.0, 20.0, 0.0]


def test_malformed_bid_rules_are_refused_together(generic, host) -> None:
    rfp = attrs.evolve(generic, criteria=(
        Criterion("a", "A", 50.0, source=CriterionSource("bid", "x", "bands", {"bands": [[5, 8], [3, 5], [9, 11]]})),
        Criterion("b", "B", 30.0, source=CriterionSource("bid", "x", "stars", {})),
        Criterion("c", "C", 20.0, source=CriterionSource("bid", "Q1", "answer", {"points": {"Yes": 2}})),
    ))
    with pytest.raises(EvaluationError) as caught:
        criterion_values(rfp, [make_bid("V1", 100)], [], host=host)
    assert [p.message for p in caught.value.problems] == [
        "criteria 'a': params.bands thresholds must increase; 3 follows 5",
        "criteria 'a': params.bands[3] gives the score 11, outside the criterion's scale 0-10",
        "criteria 'b': unknown bid rule 'stars'; rfpflow knows present, bands, answer, linear",
        "criteria 'c': params.points.Yes must be a share from 0 to 1, got 2",
    ]


def test_trial_criterion_scales_the_trial_score(generic, host) -> None:
    rfp = attrs.evolve(generic, criteria=(
        Criterion("quality", "Quality", 70.0), Criterion("pilot", "Pilot", 30.0, source=CriterionSource("trial"))))
    table = {"V1": {"quality": (8, 8, 8)}, "V2": {"quality": (8, 8, 8)}}
    bids = [make_bid("V1", 100), make_bid("V2", 100)]
    with pytest.raises(EvaluationError, match="no trial scores were given"):
        criterion_values(rfp, bids, entries(table), host=host)
    matrix = criterion_values(rfp, bids, entries(table), host=host, trial_scores={"V1": 90.0})
    assert matrix.value("V1", "pilot").points == pytest.approx(27.0)
    assert matrix.value("V2", "pilot").notes == ("no trial-run score for this vendor: 0 points",)


# --------------------------------------------------------------------------
# outliers
# --------------------------------------------------------------------------


def test_outlier_flagged_with_its_numbers(generic) -> None:
    # scores 7, 8, 2 with threshold 2: the median is 7 and E3 sits 5 away
    scores = entries({"V1": {"approach": (7, 8, 2), "team": (6, 7, 6)}})
    assert outlier_review(generic, scores) == [FlaggedScore("E3", "V1", "approach", 2.0, 7.0, 5.0)]
    assert outlier_review(with_scoring(generic, outlier_threshold=5.0), scores) == []


# --------------------------------------------------------------------------
# ranking: methods, ties, award
# --------------------------------------------------------------------------


def test_topsis_ranks_the_raw_values_with_scoring_rank(generic, host) -> None:
    rfp = with_scoring(generic, method="topsis")
    bids = example_bids()
    matrix = criterion_values(rfp, bids, entries(EXAMPLE), host=host)
    ranking = rank_vendors(rfp, matrix, bids, host=host, submitted_at=SUBMITTED)
    raw = [[8, 6, 5, 100_000], [9, 9, 8, 125_000], [6, 5, 4, 200_000]]
    expected = scoring.rank(raw, [25, 20, 15, 40], ["benefit", "benefit", "benefit", "cost"], method="topsis")
    totals = {e.vendor_id: e.total_score for e in ranking.entries}
    assert [totals[v] for v in ("V1", "V2", "V3")] == pytest.approx([s * 100 for s in expected.scores])
    assert ranking.method == "topsis"
    assert ranking.entries[0].vendor_id == "V2"
    assert ranking.entries[0].breakdown["approach"] == 22.5  # criterion points are still shown


def with_points(matrix: Matrix, points: dict[tuple[str, str], float]) -> Matrix:
    return attrs.evolve(matrix, values=tuple(
        attrs.evolve(v, points=points[(v.vendor, v.criterion)]) if (v.vendor, v.criterion) in points else v
        for v in matrix.values))


def tie_matrix(generic, host, bids):
    matrix = criterion_values(generic, bids, entries({v.vendor_id: EXAMPLE["V1"] for v in bids}), host=host)
    # V1: 25 + 20 + 15 + 20.30000000000001 = 80.30000000000001; V2: 25 + 20 + 15 + 20.3 = 80.3
    return with_points(matrix, {
        ("V1", "approach"): 25.0, ("V1", "team"): 20.0, ("V1", "experience"): 15.0, ("V1", "price"): 20.30000000000001,
        ("V2", "approach"): 25.0, ("V2", "team"): 20.0, ("V2", "experience"): 15.0, ("V2", "price"): 20.3,
        ("V3", "approach"): 20.0, ("V3", "team"): 20.0, ("V3", "experience"): 15.0, ("V3", "price"): 20.0,
    })


def test_float_noise_ties_and_price_separates_them(generic, host) -> None:
    bids = [make_bid("V1", 100_000), make_bid("V2", 120_000), make_bid("V3", 90_000)]
    ranking = rank_vendors(generic, tie_matrix(generic, host, bids), bids, host=host, submitted_at=SUBMITTED)
    totals = {e.vendor_id: e.total_score for e in ranking.entries}
    assert totals == {"V1": 80.30000000000001, "V2": 80.3, "V3": 75.0}
    assert [e.vendor_id for e in ranking.entries] == ["V1", "V2", "V3"]
    assert ranking.tied_groups == ()
    assert ("Vendor V1 (V1) and Vendor V2 (V2) are level on total score 80.30; Vendor V1 (V1) ranks ahead on "
            "price (CNY 100,000.00 against CNY 120,000.00)") in ranking.notes


def test_equal_score_and_price_is_a_tied_group(generic, host) -> None:
    bids = [make_bid("V1", 100_000), make_bid("V2", 100_000), make_bid("V3", 90_000)]
    submitted = {"V1": T0 + dt.timedelta(hours=3), "V2": T0}  # V2 was first; V3 unknown
    ranking = rank_vendors(generic, tie_matrix(generic, host, bids), bids, host=host, submitted_at=submitted)
    assert [e.vendor_id for e in ranking.entries] == ["V2", "V1", "V3"]
    assert [e.rank for e in ranking.entries] == [1, 2, 3]
    assert ranking.tied_groups == (("V2", "V1"),)
    notes = "\n".join(ranking.notes)
    assert ("Vendor V2 (V2) and Vendor V1 (V1) are level on total score 80.30; price CNY 100,000.00; technical "
            "score 60.00; Vendor V2 (V2) ranks ahead on submission time (2027-01-29 09:00:00+00:00 against "
            "2027-01-29 12:00:00+00:00)") in notes
    assert ("tied (equal score 80.30 and equal price CNY 100,000.00): Vendor V2 (V2), Vendor V1 (V1); the order "
            "shown follows the tie-break rule") in notes


def test_only_the_vendor_id_separates_is_said_plainly(generic, host) -> None:
    bids = [make_bid("V1", 100_000), make_bid("V2", 100_000), make_bid("V3", 90_000)]
    ranking = rank_vendors(generic, tie_matrix(generic, host, bids), bids, host=host, submitted_at={})
    assert [e.vendor_id for e in ranking.entries] == ["V1", "V2", "V3"]
    assert any("no tie-break key separates them" in n for n in ranking.notes)


def test_award_combination_point_six_point_two_point_two(generic, host) -> None:
    rfp = attrs.evolve(
        with_scoring(generic, award_weights={"evaluation": 0.6, "price": 0.2, "trial": 0.2}),
        criteria=(Criterion("quality", "Quality", 60.0), Criterion("team", "Team", 40.0)))
    table = {"V1": {"quality": (8, 8, 8), "team": (7, 7, 7)},
             "V2": {"quality": (9, 9, 9), "team": (9, 9, 9)},
             "V3": {"quality": (6, 6, 6), "team": (5, 5, 5)}}
    bids = [make_bid("V1", 100), make_bid("V2", 125), make_bid("V3", 200)]
    trial = {"V1": 90.0, "V2": 70.0, "V3": 95.0}
    matrix = criterion_values(rfp, bids, entries(table), host=host)
    evaluated = rank_vendors(rfp, matrix, bids, host=host, submitted_at=SUBMITTED, trial_scores=trial)
    assert [(e.vendor_id, e.total_score) for e in evaluated.entries] == [("V2", 90.0), ("V1", 76.0), ("V3", 56.0)]

    awarded = rank_vendors(rfp, matrix, bids, host=host, submitted_at=SUBMITTED, trial_scores=trial, award=True)
    # V1: 0.6 x 76 + 0.2 x 100 + 0.2 x 90 = 45.6 + 20 + 18 = 83.6
    # V2: 0.6 x 90 + 0.2 x 80 + 0.2 x 70 = 54 + 16 + 14 = 84.0
    # V3: 0.6 x 56 + 0.2 x 50 + 0.2 x 95 = 33.6 + 10 + 19 = 62.6
    got = [(e.vendor_id, e.total_score) for e in awarded.entries]
    assert [v for v, _ in got] == ["V2", "V1", "V3"]
    assert [s for _, s in got] == pytest.approx([84.0, 83.6, 62.6])
    v1 = next(e for e in awarded.entries if e.vendor_id == "V1")
    assert {k: v1.breakdown[k] for k in ("evaluation_score", "price_score", "trial_score")} == {
        "evaluation_score": 76.0, "price_score": 100.0, "trial_score": 90.0}
    assert awarded.notes[0] == ("award score = evaluation x 0.6 + price score (lowest-ratio, 100 points) x 0.2 "
                                "+ trial score x 0.2")


def test_award_without_weights_follows_the_evaluation(generic, host) -> None:
    bids = example_bids()
    matrix = criterion_values(generic, bids, entries(EXAMPLE), host=host)
    ranking = rank_vendors(generic, matrix, bids, host=host, submitted_at=SUBMITTED, award=True)
    assert [(e.vendor_id, e.total_score) for e in ranking.entries] == [("V2", 84.5), ("V1", 79.5), ("V3", 51.0)]
    assert ranking.notes[0].startswith("award: no [scoring] award weights")


class Lpta:
    """Registers lowest_price_technically_acceptable as builtins/scoring.py is to do."""

    @hookimpl
    def rfpflow_register_scoring_methods(self, register):
        register(ScoringMethod("lpta", "ranking", "Lowest price technically acceptable",
                               lowest_price_technically_acceptable))


def test_lpta_ranks_acceptable_bids_by_price(generic) -> None:
    host = make_host(Lpta())
    rfp = with_scoring(generic, method="lpta", options={"min_technical": 60})
    bids = example_bids({"V1": 100_000, "V2": 125_000, "V3": 90_000})
    matrix = criterion_values(rfp, bids, entries(EXAMPLE), host=host)
    ranking = rank_vendors(rfp, matrix, bids, host=host, submitted_at=SUBMITTED)
    # technical points of 60: V1 39.5 (65.83 %), V2 52.5 (87.50 %), V3 31 (51.67 %: not acceptable)
    assert [(e.vendor_id, e.total_score) for e in ranking.entries] == [("V1", 100.0), ("V2", 80.0), ("V3", 0.0)]
    assert [e.breakdown["acceptable"] for e in ranking.entries] == [1.0, 1.0, 0.0]
    assert "V3: technical 51.67 % of the non-price points (needs 60.00 %): not technically acceptable" in ranking.notes


def test_lpta_is_a_builtin_method(generic, host) -> None:
    # V1 (100k) and V2 (125k) reach 60 % of the technical points; V3 does not.
    rfp = with_scoring(generic, method="lpta", options={"min_technical": 60})
    bids = example_bids()
    matrix = criterion_values(rfp, bids, entries(EXAMPLE), host=host)
    ranking = rank_vendors(rfp, matrix, bids, host=host, submitted_at=SUBMITTED)
    assert ranking.entries[0].vendor_id == "V1"
    assert ranking.entries[0].breakdown["acceptable"] == 1.0


def test_a_plugin_replacing_weighted_sum_is_used(generic) -> None:
    class Flat:
        @hookimpl
        def rfpflow_register_scoring_methods(self, register):
            register(ScoringMethod("weighted-sum", "ranking", "everyone equal",
                                   lambda matrix, weights, directions, normalization: scoring.RankResult(
                                       tuple(0.5 for _ in matrix), tuple(1 for _ in matrix), (1.0,), "flat", "none")))

    host = make_host(Flat())
    bids = example_bids()
    matrix = criterion_values(generic, bids, entries(EXAMPLE), host=host)
    ranking = rank_vendors(generic, matrix, bids, host=host, submitted_at=SUBMITTED)
    assert {e.total_score for e in ranking.entries} == {50.0}
    assert [e.vendor_id for e in ranking.entries] == ["V1", "V2", "V3"]  # equal: lowest price first


# --------------------------------------------------------------------------
# sensitivity
# --------------------------------------------------------------------------


def rescaled(rfp, criterion: str, new_weight: float):
    """One-at-a-time: the criterion at ``new_weight``, the other leaves scaled to keep the total at 100."""
    leaves = {c.id: c.weight for c in rfp.leaf_criteria()}
    old = leaves[criterion]
    factor = (100 - new_weight) / (100 - old)
    return with_weights(rfp, {cid: new_weight if cid == criterion else w * factor for cid, w in leaves.items()})


def winner(rfp, host, bids, scores) -> str:
    matrix = criterion_values(rfp, bids, scores, host=host)
    return rank_vendors(rfp, matrix, bids, host=host, submitted_at=SUBMITTED).entries[0].vendor_id


@pytest.mark.parametrize("method", ["weighted-sum", "topsis"])
def test_sensitivity_finds_the_weight_that_flips_the_winner(generic, host, method: str) -> None:
    rfp = with_scoring(generic, method=method)
    bids, scores = example_bids(), entries(EXAMPLE)
    matrix = criterion_values(rfp, bids, scores, host=host)
    ranking = rank_vendors(rfp, matrix, bids, host=host, submitted_at=SUBMITTED)
    report = sensitivity_report(rfp, matrix, bids=bids, ranking=ranking)
    assert report.winner == ranking.entries[0].vendor_id == "V2"
    flips = [c for c in report.changes if c.new_leader is not None]
    assert flips, report
    for change in flips:
        assert change.weight == next(c.weight for c in rfp.leaf_criteria() if c.id == change.criterion)
        # just past the reported weight the new leader wins; just short of it the winner holds (a step of 0.1:
        # within 0.005 points of the crossing the totals tie at 2 decimals and the tie-break decides)
        step = 0.1 if change.delta > 0 else -0.1
        assert winner(rescaled(rfp, change.criterion, change.new_weight + step), host, bids, scores) \
            == change.new_leader
        assert winner(rescaled(rfp, change.criterion, change.new_weight - step), host, bids, scores) == "V2"


def test_sensitivity_in_words_for_the_price_weight(generic, host) -> None:
    # V2 leads V1 by price share 0.8 vs 1.0 and technical 52.5 vs 39.5 points of 60. With price at t and the
    # technical weights scaled to 100 - t: 0.8t + 52.5(100 - t)/60 = t + 39.5(100 - t)/60  =>  t = 52
    bids = example_bids()
    matrix = criterion_values(generic, bids, entries(EXAMPLE), host=host)
    report = sensitivity_report(generic, matrix, bids=bids)
    price = next(c for c in report.changes if c.criterion == "price")
    assert price.new_weight == pytest.approx(52.0)
    assert price.delta == pytest.approx(12.0)
    assert price.new_leader == "V1"
    assert price.text == ("price: the winner changes if its weight rises from 40.0 to beyond 52.0 (+12.0 points) "
                          "— Vendor V1 would lead")


def test_sensitivity_says_when_no_weight_changes_the_winner(generic, host) -> None:
    table = {"V1": {c: (9, 9, 9) for c in ("approach", "team", "experience")},
             "V2": {c: (5, 5, 5) for c in ("approach", "team", "experience")}}
    bids = [make_bid("V1", 100), make_bid("V2", 200)]
    matrix = criterion_values(generic, bids, entries(table), host=host)
    report = sensitivity_report(generic, matrix, bids=bids)
    assert report.winner == "V1"
    assert all(c.new_leader is None for c in report.changes)
    assert report.changes[0].text == "approach: no weight between 0 and 100 changes the winner (now 25.0)"


# --------------------------------------------------------------------------
# shortlist, blind codes, records
# --------------------------------------------------------------------------


def test_shortlist_top_two_with_a_minimum_score(generic, host) -> None:
    bids = example_bids()
    ranking = rank_vendors(generic, criterion_values(generic, bids, entries(EXAMPLE), host=host), bids,
                           host=host, submitted_at=SUBMITTED)  # V2 84.5, V1 79.5, V3 51
    assert shortlist(ranking, ShortlistRule(top=2, min_score=80)) == ["V2"]
    assert shortlist(ranking, ShortlistRule(top=2, min_score=50)) == ["V2", "V1"]
    assert shortlist(ranking, ShortlistRule(top=2, min_score=79.5)) == ["V2", "V1"]
    assert shortlist(ranking, ShortlistRule(min_score=50)) == ["V2", "V1", "V3"]
    assert shortlist(ranking, ShortlistRule(top=1)) == ["V2"]
    assert shortlist(ranking, ShortlistRule()) == ["V2", "V1", "V3"]


def test_shortlist_compares_rounded_totals() -> None:
    ranking = Ranking("weighted-sum", (RankedVendor("A", 1, 70.005), RankedVendor("B", 2, 69.99499)))
    assert shortlist(ranking, ShortlistRule(min_score=70)) == ["A"]  # 70.005 rounds half-up to 70.01


def test_blind_codes_hide_names_and_order_and_map_back(generic) -> None:
    codes = blind_codes(generic, ["V1", "V2", "V3"])
    assert sorted(codes.values()) == ["Bidder A", "Bidder B", "Bidder C"]
    assert blind_codes(generic, ["V3", "V1", "V2"]) == codes  # not the order given
    assert blind_codes(attrs.evolve(generic, language="zh"), ["V1"]) == {"V1": "投标人A"}
    blind = [ScoreEntry("E1", codes["V2"], "team", 7.0, place="e1.xlsx: Scores!H7")]
    assert unblind_scores(blind, codes) == [ScoreEntry("E1", "V2", "team", 7.0, place="e1.xlsx: Scores!H7")]
    with pytest.raises(EvaluationError, match="Bidder Z"):
        unblind_scores([ScoreEntry("E1", "Bidder Z", "team", 7.0)], codes)


def test_score_entries_from_reader_mappings() -> None:
    rows = [{"evaluator": "E1", "vendor": "V1", "criterion": "team", "score": 7.5, "comment": "ok",
             "cell": "Scores!F7"}]
    assert score_entries(rows, file="e1.xlsx") == [ScoreEntry("E1", "V1", "team", 7.5, "ok", "e1.xlsx: Scores!F7")]


def test_results_are_json_friendly_records(generic, host) -> None:
    bids = example_bids()
    matrix = criterion_values(generic, bids, entries(EXAMPLE), host=host)
    ranking = rank_vendors(generic, matrix, bids, host=host, submitted_at=SUBMITTED)
    report = sensitivity_report(generic, matrix, bids=bids, ranking=ranking)
    for record in (matrix, ranking, report):
        json.dumps(serde.to_data(record))
    assert serde.loads(Matrix, serde.dumps(matrix)) == matrix
    assert serde.dumps(criterion_values(generic, bids, entries(EXAMPLE), host=host)) == serde.dumps(matrix)


# --------------------------------------------------------------------------
# property
# --------------------------------------------------------------------------

SCORE = st.floats(min_value=0, max_value=10, allow_nan=False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    scores=st.lists(SCORE, min_size=27, max_size=27),
    prices=st.lists(st.integers(min_value=1, max_value=10**9), min_size=3, max_size=3),
    consensus=st.sampled_from(["mean", "median", "trimmed-mean"]),
    weight_unit=st.sampled_from([1.0, 0.01, 0.37]),
)
def test_totals_stay_within_0_and_100_for_any_scores_within_scale(generic, host, scores, prices, consensus,
                                                                  weight_unit) -> None:
    rfp = with_scoring(generic, consensus=consensus)
    rfp = with_weights(rfp, {c.id: c.weight * weight_unit for c in rfp.leaf_criteria()})
    it = iter(scores)
    table = {v: {c: (next(it), next(it), next(it)) for c in ("approach", "team", "experience")}
             for v in ("V1", "V2", "V3")}
    bids = [make_bid(v, p) for v, p in zip(("V1", "V2", "V3"), prices, strict=True)]
    matrix = criterion_values(rfp, bids, entries(table), host=host)
    ranking = rank_vendors(rfp, matrix, bids, host=host, submitted_at=SUBMITTED)
    for entry in ranking.entries:
        assert 0.0 <= entry.total_score <= 100.0
        points = [entry.breakdown[c] for c in matrix.criteria]
        assert math.fsum(points) == pytest.approx(entry.total_score, abs=1e-9)
        assert math.fsum(points) <= 100.0 + 1e-9
        for value in matrix.row(entry.vendor_id):
            assert 0.0 <= value.points <= value.max_points
