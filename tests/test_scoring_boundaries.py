"""The scoring functions at their boundaries: equal values, one vendor, all zero, extreme magnitudes
with a middle value, several vendors overtaking at once, a zero outlier threshold.

Every expectation is a whole result computed by hand, not a property a wrong number also has.
"""

from __future__ import annotations

import pytest

from rfpflow import scoring
from rfpflow.scoring import (
    Outlier,
    RankResult,
    WeightSensitivity,
    break_ties,
    consensus,
    outliers,
    price_scores,
    rank,
    sensitivity,
    tied_groups,
)

BB = ["benefit", "benefit"]


# -- rank ---------------------------------------------------------------------------


@pytest.mark.parametrize("direction", ["benefit", "cost"])
def test_min_max_with_opposite_extremes_scores_the_middle_value_exactly(direction: str) -> None:
    result = rank([[1e308], [-1e308], [0.0], [5e307]], [1], [direction])
    expected = (1.0, 0.0, 0.5, 0.75) if direction == "benefit" else (0.0, 1.0, 0.5, 0.25)
    assert result.scores == expected
    assert result.ranks == ((1, 4, 3, 2) if direction == "benefit" else (4, 1, 2, 3))


def test_min_max_by_hand_with_a_cost_column() -> None:
    result = rank([[2, 10], [4, 30], [3, 20]], [3, 1], ["benefit", "cost"])
    assert result == RankResult((0.25, 0.75, 0.5), (3, 1, 2), (0.75, 0.25), "weighted-sum", "min-max")


def test_one_vendor_is_first_with_full_marks() -> None:
    for normalization in ("min-max", "ratio", "max"):
        assert rank([[5, 3]], [1, 1], BB, normalization=normalization) == RankResult(
            (1.0,), (1,), (0.5, 0.5), "weighted-sum", normalization)
    assert rank([[5, 3]], [1, 1], BB, method="topsis") == RankResult((1.0,), (1,), (0.5, 0.5), "topsis", "vector")


@pytest.mark.parametrize(("normalization", "method"), [
    ("min-max", "weighted-sum"), ("ratio", "weighted-sum"), ("max", "weighted-sum"), ("min-max", "topsis")])
def test_all_zero_values_tie_every_vendor_at_the_top(normalization: str, method: str) -> None:
    result = rank([[0, 0], [0, 0], [0, 0]], [1, 1], ["benefit", "cost"], method=method, normalization=normalization)
    assert (result.scores, result.ranks) == ((1.0, 1.0, 1.0), (1, 1, 1))


def test_ratio_and_max_by_hand() -> None:
    assert rank([[2, 10], [4, 20], [1, 40]], [1, 1], ["benefit", "cost"], normalization="ratio").scores == (
        0.75, 0.75, 0.25)
    assert rank([[2, 10], [4, 20], [1, 40]], [1, 1], ["benefit", "cost"], normalization="max").scores == (
        0.625, 0.75, 0.125)
    # a cost column whose minimum is 0: the zero gets 1, every positive cost 0
    assert rank([[0], [5]], [1], ["cost"], normalization="ratio").scores == (1.0, 0.0)


def test_negative_values_are_refused_by_ratio_and_max_with_the_row() -> None:
    with pytest.raises(ValueError) as caught:
        rank([[1, 3], [2, -0.5]], [1, 1], BB, normalization="max")
    assert str(caught.value) == ("invalid matrix for 'max' normalisation:\n  - criterion 1 has a negative value "
                                 "(-0.5 in row 1); 'max' normalisation needs values >= 0 (use 'min-max')")


def test_competition_ranks_skip_after_a_tie() -> None:
    result = rank([[5], [9], [9], [1], [5]], [1], ["benefit"])
    assert result.ranks == (3, 1, 1, 5, 3)
    assert result.order == (1, 2, 0, 4, 3)
    assert result.winner == 1


def test_a_zero_weight_counts_for_nothing() -> None:
    assert rank([[1, 0], [0, 1]], [1, 0], BB).scores == (1.0, 0.0)
    assert rank([[1, 0], [0, 1]], [0, 2], BB).scores == (0.0, 1.0)


@pytest.mark.parametrize(("weights", "message"), [
    ([0, 0], "weights sum to zero; at least one weight must be positive"),
    ([1, -1], "weight of criterion 1 is negative (-1)"),
    ([1], "weights has 1 entries but there are 2 criteria (directions)"),
])
def test_bad_weights_are_named(weights: list[float], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        rank([[1, 2]], weights, BB)
    assert str(caught.value) == f"invalid decision problem:\n  - {message}"


def test_topsis_by_hand() -> None:
    # columns normalise to (0.6, 0.8) and (0.8, 0.6); the weighted distances are equal and opposite
    result = rank([[3, 4], [4, 3]], [1, 1], BB, method="topsis")
    assert result.ranks == (1, 1)
    assert result.scores[0] == pytest.approx(0.5, abs=1e-15)
    cost = rank([[3, 4], [4, 3]], [3, 1], ["benefit", "cost"], method="topsis")
    assert cost.ranks == (2, 1)
    assert cost.scores == (0.0, 1.0)


# -- sensitivity ----------------------------------------------------------------------

# vendor 0 leads (0.7); vendors 1 (0.54) and 2 (0.5) both overtake it at the same weight, 2 faster
OVERTAKE = [[1.0, 0.4], [0.2, 0.88], [0.0, 1.0]]


def test_when_several_overtake_at_once_the_best_just_past_the_point_wins() -> None:
    result = sensitivity(OVERTAKE, [1, 1], BB, normalization="max")
    assert result.winner == 0
    first, second = result.criteria
    assert (first.criterion, first.weight, first.new_winner) == (0, 0.5, 2)
    assert first.delta == pytest.approx(-0.125, abs=1e-12)
    assert first.delta_percent == pytest.approx(-25.0, abs=1e-9)
    assert first.new_weight == pytest.approx(0.375, abs=1e-12)
    assert (second.criterion, second.new_winner) == (1, 2)
    assert second.delta == pytest.approx(0.125, abs=1e-12)


def test_a_competitor_parallel_to_the_winner_never_overtakes() -> None:
    # the gap between vendors 0 and 1 is the same on both criteria: no weight changes it
    result = sensitivity([[1.0, 1.0], [0.5, 0.5]], [1, 3], BB, normalization="max")
    assert result.criteria == (WeightSensitivity(0, 0.25, None, None, None, None),
                               WeightSensitivity(1, 0.75, None, None, None, None))


def test_only_other_weights_at_zero_share_the_rest_equally() -> None:
    # criterion 0 holds all the weight; moving it down hands the rest to criteria 1 and 2 equally
    result = sensitivity([[1, 0, 0], [0, 1, 1]], [1, 0, 0], ["benefit"] * 3, normalization="max")
    first = result.criteria[0]
    assert (first.weight, first.new_winner) == (1.0, 1)
    assert first.delta == pytest.approx(-0.5, abs=1e-12)
    assert first.delta_percent == pytest.approx(-50.0, abs=1e-9)


@pytest.mark.parametrize(("a", "b", "c", "roots"), [
    (0.0, 0.0, 1.0, []),        # no t term at all: the sign never changes
    (0.0, 2.0, -1.0, [0.5]),    # degenerate to linear
    (1.0, -3.0, 2.0, [2.0, 1.0]),
    (1.0, 0.0, 1.0, []),        # negative discriminant
    (1.0, 0.0, 0.0, [0.0]),     # a double root at zero: q = 0 gives one root
    (1.0, -2.0, 1.0, [1.0, 1.0]),
])
def test_quadratic_roots_including_the_degenerate_cases(a: float, b: float, c: float, roots: list[float]) -> None:
    assert scoring._quadratic_roots(a, b, c) == roots


@pytest.mark.parametrize(("z", "t"), [(0.0, None), (-1.0, None), (float("inf"), None), (1.0, 0.5), (4.0, 2 / 3)])
def test_z_to_t(z: float, t: float | None) -> None:
    assert scoring._z_to_t(z) == t


# -- price scores ------------------------------------------------------------------


def test_price_scores_for_one_bidder_and_equal_prices() -> None:
    assert price_scores([250]) == (100.0,)
    assert price_scores([250], method="linear", max_points=30) == (30.0,)
    assert price_scores([80, 80], method="linear", max_points=30, min_points=10) == (30.0, 30.0)
    assert price_scores([80, 80]) == (100.0, 100.0)


def test_linear_price_scores_with_a_floor() -> None:
    assert price_scores([100, 150, 200, 125], method="linear", max_points=30, min_points=10) == (
        30.0, 20.0, 10.0, 25.0)


def test_lowest_ratio_with_a_floor() -> None:
    assert price_scores([100, 400, 200], max_points=50, min_points=20) == (50.0, 20.0, 25.0)


@pytest.mark.parametrize(("prices", "message"), [
    ([100, 0], "prices must be > 0: entry 1 is 0"),
    ([-5, 100, -1], "prices must be > 0: entry 0 is -5, entry 2 is -1"),
])
def test_zero_and_negative_prices_are_refused(prices: list[float], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        price_scores(prices)
    assert str(caught.value) == message


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"max_points": 10, "min_points": 11}, "points must satisfy 0 <= min_points <= max_points, got 11 and 10"),
    ({"min_points": -1}, "points must satisfy 0 <= min_points <= max_points, got -1 and 100"),
])
def test_points_out_of_order(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        price_scores([1], **kwargs)
    assert str(caught.value) == message
    assert price_scores([1, 2], max_points=10, min_points=10) == (10.0, 10.0)  # equal bounds are allowed


# -- consensus and outliers --------------------------------------------------------


def test_consensus_of_one_score() -> None:
    assert (consensus([7]), consensus([7], "median")) == (7.0, 7.0)


def test_trimmed_mean_at_its_minimum_of_three() -> None:
    assert consensus([1, 9, 2], "trimmed-mean") == 2.0
    assert consensus([1, 9, 2, 4], "trimmed-mean") == 3.0
    with pytest.raises(ValueError) as caught:
        consensus([1, 9], "trimmed-mean")
    assert str(caught.value) == ("trimmed-mean consensus drops the highest and lowest score and needs at least 3 "
                                 "scores, got 2")


def test_consensus_of_nothing() -> None:
    with pytest.raises(ValueError) as caught:
        consensus([], "median")
    assert str(caught.value) == "median consensus needs at least one score, got none"


def test_median_of_an_even_panel() -> None:
    assert consensus([1, 2, 6, 10], "median") == 4.0


def test_outlier_threshold_zero_flags_everyone_off_the_median() -> None:
    assert outliers({"b": 7, "a": 7, "c": 8}, 0) == [Outlier("c", 8.0, 7.0, 1.0)]
    assert outliers({"a": 7, "b": 7}, 0) == []


def test_outlier_distance_at_the_threshold_is_not_an_outlier() -> None:
    scores = {"a": 5, "b": 7, "c": 9}
    assert outliers(scores, 2) == []
    assert outliers(scores, 1.99) == [Outlier("a", 5.0, 7.0, 2.0), Outlier("c", 9.0, 7.0, 2.0)]


def test_outliers_single_evaluator_and_negative_threshold() -> None:
    assert outliers({"a": 3}, 0) == []
    with pytest.raises(ValueError) as caught:
        outliers({"a": 3}, -0.1)
    assert str(caught.value) == "threshold must be >= 0, got -0.1"


# -- ties -----------------------------------------------------------------------------


def test_break_ties_key_by_key() -> None:
    candidates = [
        {"vendor": "d", "total_score": 90, "price": 100, "technical_score": 40},
        {"vendor": "c", "total_score": 90, "price": 100, "technical_score": 50},
        {"vendor": "b", "total_score": 90, "price": 99},
        {"vendor": "a", "total_score": 89.99, "price": 1},
        {"vendor": "e", "total_score": 90.004, "price": 100, "technical_score": 50},
    ]
    assert break_ties(candidates) == ("b", "c", "e", "d", "a")
    assert tied_groups(candidates) == (("c", "e", "d"),)


def test_tie_break_rule_problems() -> None:
    with pytest.raises(ValueError) as caught:
        break_ties([{"vendor": "a"}], ("price", "price"))
    assert str(caught.value) == "tie-break rule names a key twice: ['price', 'price']"
    with pytest.raises(ValueError) as caught:
        break_ties([{"vendor": "a"}, {"vendor": "a"}, {"vendor": ""}])
    assert str(caught.value) == ("invalid tie-break candidates:\n  - vendor 'a' appears more than once\n"
                                 "  - candidate 2 needs a non-empty string 'vendor', got ''")


def test_missing_scores_tie_with_each_other_and_sort_last() -> None:
    candidates = [{"vendor": "x"}, {"vendor": "y"}, {"vendor": "z", "total_score": 0, "price": 5}]
    assert break_ties(candidates) == ("z", "x", "y")
    assert tied_groups(candidates) == (("x", "y"),)


def test_a_matrix_that_is_not_a_list_of_rows() -> None:
    with pytest.raises(ValueError) as caught:
        rank(5, [1], ["benefit"])  # type: ignore[arg-type]
    assert str(caught.value) == "matrix must be a list of rows, one per vendor"
    with pytest.raises(ValueError) as caught:
        rank([[1]], 1, ["benefit"])  # type: ignore[arg-type]
    assert str(caught.value) == "weights must be a list of numbers, one per criterion"
    with pytest.raises(ValueError) as caught:
        rank([[1]], [1], "benefit")
    assert str(caught.value) == "directions must be a list of 'benefit' / 'cost', one per criterion"


def test_a_negative_cost_next_to_a_zero_is_refused_for_ratio_not_divided() -> None:
    with pytest.raises(ValueError) as caught:
        rank([[-1], [0]], [1], ["cost"], normalization="ratio")
    assert str(caught.value) == ("invalid matrix for 'ratio' normalisation:\n  - criterion 0 has a negative value "
                                 "(-1 in row 0); 'ratio' normalisation needs values >= 0 (use 'min-max')")


def test_a_non_reciprocal_pair_names_the_expected_value() -> None:
    with pytest.raises(ValueError) as caught:
        scoring.ahp_weights([[1, 4], [4, 1]])
    assert str(caught.value) == ("invalid pairwise comparison matrix:\n  - entries [0][1] = 4 and [1][0] = 4 are not "
                                 "reciprocal (expected [1][0] = 1/4 = 0.25)")


def test_ahp_reciprocity_at_the_tolerance() -> None:
    assert scoring.ahp_weights([[1, 3], [0.3366, 1]]).weights[0] == pytest.approx(0.75, abs=0.01)
    with pytest.raises(ValueError):
        scoring.ahp_weights([[1, 3], [0.3367, 1]])
    with pytest.raises(ValueError) as caught:
        scoring.ahp_weights([[1.02, 1], [1, 1]])
    assert str(caught.value) == "invalid pairwise comparison matrix:\n  - diagonal entry [0][0] is 1.02; it must be 1"


def test_topsis_when_two_overtake_at_once_the_best_just_past_the_point_wins() -> None:
    # vendors 0 and 2 both overtake vendor 1 at the same weight; vendor 2 leads just past it
    result = sensitivity([[3, 3], [5, 2], [1, 4]], [1, 1], BB, method="topsis")
    assert result.winner == 1
    first, second = result.criteria
    assert (first.new_winner, second.new_winner) == (2, 2)
    assert first.new_weight == pytest.approx(0.35454480602834526, abs=1e-12)
    assert second.new_weight == pytest.approx(0.6454551939716547, abs=1e-12)


@pytest.mark.parametrize(("n", "random_index"), [(3, 0.58), (4, 0.90), (5, 1.12), (6, 1.24), (7, 1.32), (8, 1.41),
                                                 (9, 1.45), (10, 1.49)])
def test_the_consistency_ratio_divides_by_saatys_random_index(n: int, random_index: float) -> None:
    matrix = [[1.0] * n for _ in range(n)]
    matrix[0][1], matrix[1][0] = 2.0, 0.5  # one judgement off: slightly inconsistent
    result = scoring.ahp_weights(matrix)
    assert result.consistency_index > 0
    assert result.consistency_ratio == pytest.approx(result.consistency_index / random_index, rel=1e-12)
    assert result.consistency_index == pytest.approx((result.lambda_max - n) / (n - 1), rel=1e-12)
