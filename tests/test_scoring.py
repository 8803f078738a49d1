"""Behaviour of rfpflow.scoring: published worked examples, properties, edge cases."""

from __future__ import annotations

import doctest
import itertools
import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import attrs
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rfpflow import scoring
from rfpflow.scoring import (
    ahp_weights,
    break_ties,
    consensus,
    outliers,
    price_scores,
    rank,
    sensitivity,
    tied_groups,
)

BB = ["benefit", "benefit"]
Problem = tuple[list[list[float]], list[float], list[str]]  # matrix, weights, directions


def test_docstring_examples_run() -> None:
    result = doctest.testmod(scoring, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 10
    assert result.failed == 0


# --------------------------------------------------------------------------
# published worked examples
# --------------------------------------------------------------------------

# Hwang, C.-L. & Yoon, K. (1981), "Multiple Attribute Decision Making: Methods
# and Applications", Springer, the fighter-aircraft example used throughout the
# book. Attributes: max speed (Mach), ferry range (NM), max payload (lb),
# acquisition cost ($ million, a cost), reliability, manoeuvrability (the last
# two rated on the interval scale low = 3, average = 5, high = 7, very high = 9).
# Weights w = (0.2, 0.1, 0.1, 0.1, 0.2, 0.3). Published TOPSIS relative
# closeness C* = 0.643, 0.268, 0.613, 0.312 (ranking A1 > A3 > A4 > A2); the
# book rounds intermediate values, so A3 computes as 0.6135 unrounded.
FIGHTERS = [
    [2.0, 1500, 20000, 5.5, 5, 9],
    [2.5, 2700, 18000, 6.5, 3, 5],
    [1.8, 2000, 21000, 4.5, 7, 7],
    [2.2, 1800, 20000, 5.0, 5, 5],
]
FIGHTER_WEIGHTS = [0.2, 0.1, 0.1, 0.1, 0.2, 0.3]
FIGHTER_DIRECTIONS = ["benefit", "benefit", "benefit", "cost", "benefit", "benefit"]


def test_topsis_reproduces_hwang_yoon_fighter_aircraft() -> None:
    result = rank(FIGHTERS, FIGHTER_WEIGHTS, FIGHTER_DIRECTIONS, method="topsis")
    for got, published in zip(result.scores, [0.643, 0.268, 0.613, 0.312], strict=True):
        assert got == pytest.approx(published, abs=1e-3)
    assert result.ranks == (1, 4, 2, 3)
    assert result.order == (0, 2, 3, 1)
    assert result.normalization == "vector"


# Saaty, T. L. (1990), "How to make a decision: The Analytic Hierarchy
# Process", European Journal of Operational Research 48, 9-26: choosing a house,
# eight criteria (size, transportation, neighbourhood, age, yard, modern
# facilities, general condition, financing). Published: priorities 0.173,
# 0.054, 0.188, 0.018, 0.031, 0.036, 0.167, 0.333; lambda_max = 9.669,
# C.I. = 0.238, C.R. = 0.169 (so the judgements are NOT consistent enough).
HOUSE: list[list[float]] = [
    [1, 5, 3, 7, 6, 6, 1 / 3, 1 / 4],
    [1 / 5, 1, 1 / 3, 5, 3, 3, 1 / 5, 1 / 7],
    [1 / 3, 3, 1, 6, 3, 4, 6, 1 / 5],
    [1 / 7, 1 / 5, 1 / 6, 1, 1 / 3, 1 / 4, 1 / 7, 1 / 8],
    [1 / 6, 1 / 3, 1 / 3, 3, 1, 1 / 2, 1 / 5, 1 / 6],
    [1 / 6, 1 / 3, 1 / 4, 4, 2, 1, 1 / 5, 1 / 6],
    [3, 5, 1 / 6, 7, 5, 5, 1, 1 / 2],
    [4, 7, 5, 8, 6, 6, 2, 1],
]


def test_ahp_reproduces_saaty_house_example() -> None:
    result = ahp_weights(HOUSE)
    published = [0.173, 0.054, 0.188, 0.018, 0.031, 0.036, 0.167, 0.333]
    assert [round(w, 3) for w in result.weights] == published
    assert round(result.lambda_max, 3) == 9.669
    assert round(result.consistency_index, 3) == 0.238
    assert round(result.consistency_ratio, 3) == 0.169
    assert result.consistent is False
    assert math.fsum(result.weights) == pytest.approx(1.0, abs=1e-15)


# Saaty, T. L. (1977), "A scaling method for priorities in hierarchical
# structures", J. Math. Psychology 15, 234-281: relative brightness of four
# chairs placed at increasing distances from a light, judged by eye.
# Published lambda_max = 4.39; the derived priorities fall chair 1 > 2 > 3 > 4
# close to the inverse-square-law values.
def test_ahp_reproduces_saaty_optics_example() -> None:
    chairs: list[list[float]] = [[1, 5, 6, 7], [1 / 5, 1, 4, 6], [1 / 6, 1 / 4, 1, 4], [1 / 7, 1 / 6, 1 / 4, 1]]
    result = ahp_weights(chairs)
    assert round(result.lambda_max, 2) == 4.39
    assert list(result.weights) == sorted(result.weights, reverse=True)
    assert result.consistency_index == pytest.approx((result.lambda_max - 4) / 3)
    assert result.consistency_ratio == pytest.approx(result.consistency_index / 0.90)


# China, Ministry of Finance Order No. 87 (2017), Art. 55: under the
# comprehensive scoring method the benchmark price is the lowest valid bid
# price and price score = (benchmark / bid price) x price weight x 100.
def test_price_scores_follow_order_87_formula() -> None:
    prices = [950_000, 1_000_000, 1_200_000]
    scores = price_scores(prices, max_points=30)
    assert scores == pytest.approx((30.0, 28.5, 23.75))


# --------------------------------------------------------------------------
# rank: normalisations, ties, validation
# --------------------------------------------------------------------------


def test_weighted_sum_min_max_by_hand() -> None:
    # col 0 benefit 80/90/70 -> 0.5/1/0; col 1 cost 1000/1200/900 -> 2/3, 0, 1
    result = rank([[80, 1000], [90, 1200], [70, 900]], [3, 2], ["benefit", "cost"])
    assert result.weights == pytest.approx((0.6, 0.4))
    assert result.scores == pytest.approx((0.6 * 0.5 + 0.4 * 2 / 3, 0.6, 0.4))
    assert result.ranks == (2, 1, 3)
    assert result.winner == 1


def test_min_max_constant_column_gives_one() -> None:
    result = rank([[5, 1], [5, 3]], [1, 1], BB)
    assert result.scores == pytest.approx((0.5, 1.0))


def test_ratio_normalisation_and_zero_divisors() -> None:
    result = rank([[4, 2], [8, 4]], [1, 1], ["benefit", "cost"], normalization="ratio")
    assert result.scores == pytest.approx(((0.5 + 1) / 2, (1 + 0.5) / 2))
    # a cost of 0 is the best possible cost: it gets 1, positive costs get 0/x = 0
    zero_cost = rank([[0], [5], [0]], [1], ["cost"], normalization="ratio")
    assert zero_cost.scores == (1.0, 0.0, 1.0)
    assert zero_cost.ranks == (1, 3, 1)
    # a benefit column that is all zero (max 0) gives everyone 1
    assert rank([[0], [0]], [1], ["benefit"], normalization="ratio").scores == (1.0, 1.0)


def test_max_normalisation() -> None:
    result = rank([[2, 10], [4, 5]], [1, 1], ["benefit", "cost"], normalization="max")
    assert result.scores == pytest.approx(((0.5 + 0.0) / 2, (1.0 + 0.5) / 2))
    assert rank([[0], [0]], [1], ["cost"], normalization="max").scores == (1.0, 1.0)


@pytest.mark.parametrize("normalization", ["ratio", "max"])
def test_ratio_and_max_refuse_negative_values(normalization: str) -> None:
    with pytest.raises(ValueError, match=r"criterion 1 has a negative value \(-3 in row 1\)"):
        rank([[1, 2], [2, -3]], [1, 1], BB, normalization=normalization)


def test_exact_number_types_are_accepted() -> None:
    exact = rank([[Decimal("1.5"), Fraction(1, 2)], [2, 0]], [Decimal(1), 1], BB)  # type: ignore[list-item]
    assert exact.scores == rank([[1.5, 0.5], [2, 0]], [1, 1], BB).scores


def test_extreme_magnitudes_stay_finite() -> None:
    huge = rank([[1e308, -1e308], [-1e308, 1e308]], [1e308, 1e308], BB)
    assert huge.weights == (0.5, 0.5) and huge.scores == (0.5, 0.5)
    assert rank([[1e308], [0]], [1], ["benefit"], method="topsis").scores == (1.0, 0.0)


def test_min_max_accepts_negative_values() -> None:
    assert rank([[-5], [5]], [1], ["benefit"]).scores == (0.0, 1.0)


def test_equal_scores_share_the_smaller_rank() -> None:
    result = rank([[1, 0], [0, 1], [0, 0], [1, 1]], [1, 1], BB)
    assert result.ranks == (2, 2, 4, 1)


def test_float_noise_does_not_break_a_tie() -> None:
    # 0.2 + 0.7 and 0.9 are equal on paper; in floats the first sum is 0.49999999999999994
    result = rank([[0, 1, 1], [1, 0, 0]], [0.9, 0.2, 0.7], ["benefit"] * 3)
    assert result.scores[0] != result.scores[1]
    assert result.ranks == (1, 1)


def test_topsis_degenerate_columns() -> None:
    # an all-zero column adds nothing; identical vendors are at ideal and anti-ideal
    assert rank([[0, 1], [0, 3]], [1, 1], BB, method="topsis").scores == (0.0, 1.0)
    assert rank([[2, 2], [2, 2]], [1, 1], BB, method="topsis").scores == (1.0, 1.0)


def test_results_are_frozen() -> None:
    result = rank([[1], [2]], [1], ["benefit"])
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        result.scores = ()  # type: ignore[misc]
    assert isinstance(result.scores, tuple) and isinstance(result.ranks, tuple)


@pytest.mark.parametrize(
    ("matrix", "weights", "directions", "kwargs", "message"),
    [
        ([[1, 2], [3]], [1, 1], BB, {}, "row 1 has 1 values but there are 2 criteria"),
        ([[1, 2]], [1, 1, 1], BB, {}, "weights has 3 entries but there are 2 criteria"),
        ([[1, 2]], [1, -1], BB, {}, "weight of criterion 1 is negative"),
        ([[1, 2]], [0, 0], BB, {}, "weights sum to zero"),
        ([[1, 2]], [1, 1], ["benefit", "profit"], {}, "direction of criterion 1 is 'profit'"),
        ([[1, 2]], [1, 1], BB, {"method": "vikor"}, "unknown method 'vikor'"),
        ([[1, 2]], [1, 1], BB, {"normalization": "z"}, "unknown normalization 'z'"),
        ([[1, math.nan]], [1, 1], BB, {}, "row 0, criterion 1 must be a finite number"),
        ([[1, math.inf]], [1, 1], BB, {}, "row 0, criterion 1 must be a finite number"),
        ([[1, 2]], [1, math.inf], BB, {}, "weight of criterion 1 must be a finite number"),
        ([["7", 2]], [1, 1], BB, {}, "row 0, criterion 0 must be a finite number, got '7'"),
        ([[True, 2]], [1, 1], BB, {}, "row 0, criterion 0 must be a finite number, got True"),
        ([[10**400, 2]], [1, 1], BB, {}, "row 0, criterion 0 must be a finite number"),
        ([], [1, 1], BB, {}, "matrix has no rows"),
        ([[]], [], [], {}, "there are no criteria"),
    ],
)
def test_rank_refuses_bad_input(
    matrix: list[list[float]], weights: list[float], directions: list[str], kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        rank(matrix, weights, directions, **kwargs)


def test_rank_lists_every_problem_at_once() -> None:
    with pytest.raises(ValueError) as info:
        rank([[1, 2], [3], [4, math.nan]], [1, -2], ["benefit", "gain"])
    text = str(info.value)
    for part in ("direction of criterion 1", "weight of criterion 1 is negative", "row 1 has 1", "row 2, criterion 1"):
        assert part in text


# --------------------------------------------------------------------------
# rank: properties
# --------------------------------------------------------------------------

values = st.integers(min_value=0, max_value=20) | st.floats(min_value=0, max_value=1000, allow_nan=False)


@st.composite
def problems(draw: st.DrawFn, min_vendors: int = 1, max_vendors: int = 6) -> Problem:
    n = draw(st.integers(min_value=min_vendors, max_value=max_vendors))
    m = draw(st.integers(min_value=1, max_value=5))
    matrix = [[draw(values) for _ in range(m)] for _ in range(n)]
    weights = draw(st.lists(st.integers(min_value=0, max_value=10), min_size=m, max_size=m).filter(any))
    directions = draw(st.lists(st.sampled_from(["benefit", "cost"]), min_size=m, max_size=m))
    return matrix, [float(w) for w in weights], directions


methods = st.sampled_from(
    [("weighted-sum", "min-max"), ("weighted-sum", "ratio"), ("weighted-sum", "max"), ("topsis", "min-max")]
)


@given(problems(), st.floats(min_value=1e-3, max_value=1e3), methods)
def test_scaling_weights_leaves_ranks_unchanged(problem: Problem, factor: float, how: tuple[str, str]) -> None:
    matrix, weights, directions = problem
    method, normalization = how
    base = rank(matrix, weights, directions, method=method, normalization=normalization)
    scaled = rank(matrix, [w * factor for w in weights], directions, method=method, normalization=normalization)
    assert scaled.ranks == base.ranks


@given(problems(), methods)
def test_scores_lie_in_unit_interval(problem: Problem, how: tuple[str, str]) -> None:
    method, normalization = how
    result = rank(*problem, method=method, normalization=normalization)
    assert all(0.0 <= s <= 1.0 for s in result.scores)
    assert len(result.scores) == len(result.ranks) == len(problem[0])
    assert min(result.ranks) == 1


@given(
    problems(),
    st.sampled_from(["min-max", "ratio", "max"]),
    st.data(),
)
def test_improving_a_benefit_criterion_never_worsens_rank(
    problem: Problem, normalization: str, data: st.DataObject
) -> None:
    matrix, weights, directions = problem
    benefit = [j for j, d in enumerate(directions) if d == "benefit"]
    assume(benefit)
    j = data.draw(st.sampled_from(benefit))
    i = data.draw(st.integers(min_value=0, max_value=len(matrix) - 1))
    gain = data.draw(st.integers(min_value=1, max_value=50) | st.floats(min_value=1e-6, max_value=500))
    before = rank(matrix, weights, directions, normalization=normalization)
    better = [list(row) for row in matrix]
    better[i][j] = better[i][j] + gain
    after = rank(better, weights, directions, normalization=normalization)
    assert after.ranks[i] <= before.ranks[i]


# --------------------------------------------------------------------------
# sensitivity
# --------------------------------------------------------------------------


def _weights_with(weights: Sequence[float], j: int, t: float) -> list[float]:
    """Weight j set to t, the others rescaled proportionally (as sensitivity does)."""
    others = math.fsum(w for k, w in enumerate(weights) if k != j)
    return [t if k == j else w * (1 - t) / others for k, w in enumerate(weights)]


def _winner(matrix: Sequence[Sequence[float]], weights: list[float], directions: list[str], **kw: str) -> int:
    return rank(matrix, weights, directions, **kw).winner


# Two vendors, three criteria, ratio normalisation:
#   A = (8, 6, 100), B = (6, 9, 80); benefit, benefit, cost; weights 0.5/0.3/0.2
#   normalised A = (1, 2/3, 0.8), B = (0.75, 1, 1); S_A = 0.86, S_B = 0.875: B wins.
# Criterion 0 at weight t (others 0.6/0.4 of 1 - t):
#   S_A = t + 0.72 (1 - t), S_B = 0.75 t + (1 - t)  ->  equal at t = 28/53, delta = +3/106
# Criterion 1 (others 5/7, 2/7): S_A = 2t/3 + (6.6/7)(1 - t), S_B = t + (5.75/7)(1 - t)
#   -> t = 51/191, delta = -63/1910
# Criterion 2 (others 5/8, 3/8): S_A = 0.8 t + 0.875 (1 - t), S_B = t + 0.84375 (1 - t)
#   -> t = 5/37, delta = -12/185
HAND = [[8, 6, 100], [6, 9, 80]]
HAND_WEIGHTS = [0.5, 0.3, 0.2]
HAND_DIRECTIONS = ["benefit", "benefit", "cost"]
HAND_DELTAS = [Fraction(3, 106), Fraction(-63, 1910), Fraction(-12, 185)]


def test_sensitivity_hand_computed_two_vendor_example() -> None:
    result = sensitivity(HAND, HAND_WEIGHTS, HAND_DIRECTIONS, normalization="ratio")
    assert result.winner == 1
    assert rank(HAND, HAND_WEIGHTS, HAND_DIRECTIONS, normalization="ratio").scores == pytest.approx((0.86, 0.875))
    for c, exact in zip(result.criteria, HAND_DELTAS, strict=True):
        assert c.delta == pytest.approx(float(exact), abs=1e-12)
        assert c.delta_percent == pytest.approx(float(exact) / HAND_WEIGHTS[c.criterion] * 100, abs=1e-9)
        assert c.new_weight == pytest.approx(HAND_WEIGHTS[c.criterion] + float(exact), abs=1e-12)
        assert c.new_winner == 0
        # re-rank with the perturbed weights: the winner changes just past delta, not just before
        for step, expected in ((1 + 1e-6, 0), (1 - 1e-6, 1)):
            t = HAND_WEIGHTS[c.criterion] + float(exact) * step
            w = _weights_with(HAND_WEIGHTS, c.criterion, t)
            assert _winner(HAND, w, HAND_DIRECTIONS, normalization="ratio") == expected


def test_sensitivity_topsis_matches_a_fine_scan() -> None:
    result = sensitivity(FIGHTERS, FIGHTER_WEIGHTS, FIGHTER_DIRECTIONS, method="topsis")
    assert result.winner == 0 and result.normalization == "vector"
    for c in result.criteria:
        assert c.delta is not None and c.new_winner is not None
        t0 = FIGHTER_WEIGHTS[c.criterion]
        # scan outwards in steps of 1e-4 in both directions for the first change of winner
        first = None
        for k in range(1, 10_001):
            for sign in (-1, 1):
                t = t0 + sign * k * 1e-4
                moved = _weights_with(FIGHTER_WEIGHTS, c.criterion, t) if 0 <= t <= 1 else None
                if moved and _winner(FIGHTERS, moved, FIGHTER_DIRECTIONS, method="topsis") != 0:
                    first = (sign * k * 1e-4, t)
                    break
            if first:
                break
        assert first is not None
        assert math.copysign(1, first[0]) == math.copysign(1, c.delta)
        assert abs(first[0]) - 1e-4 <= abs(c.delta) <= abs(first[0])
        past = _weights_with(FIGHTER_WEIGHTS, c.criterion, t0 + c.delta * (1 + 1e-7))
        before = _weights_with(FIGHTER_WEIGHTS, c.criterion, t0 + c.delta * (1 - 1e-7))
        assert _winner(FIGHTERS, past, FIGHTER_DIRECTIONS, method="topsis") == c.new_winner
        assert _winner(FIGHTERS, before, FIGHTER_DIRECTIONS, method="topsis") == 0


def test_sensitivity_none_when_winner_dominates() -> None:
    result = sensitivity([[9, 9], [1, 1], [5, 2]], [1, 3], BB)
    assert result.winner == 0
    assert all(c.delta is None and c.new_winner is None and c.delta_percent is None for c in result.criteria)


def test_sensitivity_single_vendor_or_single_criterion() -> None:
    assert sensitivity([[1, 2]], [1, 1], BB).criteria[0].delta is None
    assert sensitivity([[1], [2]], [1], ["benefit"]).criteria[0].delta is None


def test_sensitivity_zero_weight_has_no_percent() -> None:
    # criterion 1 has weight 0 now; raising it to 0.5 makes B win
    result = sensitivity([[1, 0], [0, 1]], [1, 0], BB)
    c = result.criteria[1]
    assert c.weight == 0 and c.delta == pytest.approx(0.5) and c.delta_percent is None and c.new_winner == 1
    # criterion 0 holds all the weight; the others share 1 - t equally when lowered
    assert result.criteria[0].delta == pytest.approx(-0.5)


def test_sensitivity_weighted_sum_matches_the_documented_example() -> None:
    result = sensitivity([[1, 0], [0, 1]], [0.6, 0.4], BB)
    assert [c.delta for c in result.criteria] == pytest.approx([-0.1, 0.1])
    assert [c.new_winner for c in result.criteria] == [1, 1]


def test_sensitivity_equal_changes_both_ways_report_the_decrease() -> None:
    # min-max keeps these values (each column spans 0..1). Criterion 0 at weight t:
    # W = 0.7 always, U = 0.3 + 0.7 t wins above t = 4/7, D = 1 - 0.7 t wins below t = 3/7
    matrix: list[list[float]] = [[0.7, 0.7], [1, 0.3], [0.3, 1], [0, 0]]
    result = sensitivity(matrix, [1, 1], BB)
    assert result.winner == 0
    first = result.criteria[0]
    assert first.delta == pytest.approx(-1 / 14, abs=1e-12) and first.new_winner == 2


@pytest.mark.parametrize("method", ["weighted-sum", "topsis"])
def test_sensitivity_ignores_float_noise_between_tied_vendors(method: str) -> None:
    # Vendors 0 and 1 score the same at every weight of criterion 0 (for the weighted
    # sum w1 + w2 = w3; for TOPSIS w1^2 + w2^2 = w3^2), yet the floats often differ
    # in the last bit. Such a "lead" is noise and must not be reported as a change.
    if method == "weighted-sum":
        cases = [[w0, a, b, a + b] for w0 in (1, 2, 3) for a, b in ((0.2, 0.9), (0.6, 0.7), (0.1, 0.2))]
    else:
        cases = [[w0, 3 * k, 4 * k, 5 * k] for w0 in (1, 2, 3, 5) for k in (0.01, 0.02, 0.03, 0.05, 0.07, 0.3)]
    matrix = [[5, 1, 1, 0], [5, 0, 0, 1]]
    noisy = 0
    for weights in cases:
        ranked = rank(matrix, weights, ["benefit"] * 4, method=method)
        assert ranked.ranks == (1, 1)
        noisy += ranked.scores[0] != ranked.scores[1]
        assert sensitivity(matrix, weights, ["benefit"] * 4, method=method).criteria[0].delta is None
    assert noisy  # the cases do exercise float noise


def _check_sensitivity(
    matrix: list[list[float]], weights: list[float], directions: list[str], method: str, normalization: str
) -> None:
    kw = {"method": method, "normalization": normalization}
    base = rank(matrix, weights, directions, **kw)
    assume(base.ranks.count(1) == 1)  # a tied winner is fragile by definition
    result = sensitivity(matrix, weights, directions, normalization=normalization, method=method)
    winner = result.winner
    assert winner == base.winner

    def margin(j: int, t: float) -> float:
        """Best competitor's score minus the winner's at weight t for criterion j."""
        scores = rank(matrix, _weights_with(base.weights, j, t), directions, **kw).scores
        return max(s for i, s in enumerate(scores) if i != winner) - scores[winner]

    for c in result.criteria:
        t0 = c.weight
        assume(sum(w for k, w in enumerate(base.weights) if k != c.criterion) > 0)
        reach = 1.0 if c.delta is None else abs(c.delta)
        # nothing changes the winner closer than |delta|, in either direction
        for k in range(1, 40):
            for sign in (-1, 1):
                t = t0 + sign * reach * k / 40
                if 0 <= t <= 1:
                    assert margin(c.criterion, t) <= 1e-9
        if c.delta is not None and c.new_weight is not None:
            past = c.new_weight + math.copysign(1e-7, c.delta)
            if 0 <= past <= 1:
                assert margin(c.criterion, past) > 0


@settings(max_examples=60, deadline=None)
@given(problems(min_vendors=2, max_vendors=5), st.sampled_from(["min-max", "ratio", "max"]))
def test_sensitivity_weighted_sum_delta_is_the_first_change(problem: Problem, normalization: str) -> None:
    _check_sensitivity(*problem, method="weighted-sum", normalization=normalization)


@settings(max_examples=60, deadline=None)
@given(problems(min_vendors=2, max_vendors=5))
def test_sensitivity_topsis_delta_is_the_first_change(problem: Problem) -> None:
    _check_sensitivity(*problem, method="topsis", normalization="min-max")


# --------------------------------------------------------------------------
# AHP
# --------------------------------------------------------------------------


def test_ahp_consistent_matrix_recovers_weights_exactly() -> None:
    w = [0.5, 0.3, 0.2]
    result = ahp_weights([[a / b for b in w] for a in w])
    assert result.weights == pytest.approx(w, abs=1e-14)
    assert result.lambda_max == pytest.approx(3.0, abs=1e-12)
    assert result.consistency_index == pytest.approx(0.0, abs=1e-12)
    assert result.consistent


def test_ahp_small_matrices_have_cr_zero() -> None:
    assert ahp_weights([[1]]).weights == (1.0,)
    two = ahp_weights([[1, 4], [0.25, 1]])
    assert two.weights == pytest.approx((0.8, 0.2))
    assert two.consistency_ratio == 0.0 and two.consistent


def test_ahp_refuses_non_reciprocal_input() -> None:
    with pytest.raises(ValueError, match=r"entries \[0\]\[1\] = 3 and \[1\]\[0\] = 3 are not reciprocal"):
        ahp_weights([[1, 3, 5], [3, 1, 3], [1 / 5, 1 / 3, 1]])


def test_ahp_accepts_rounded_reciprocals_within_tolerance() -> None:
    assert ahp_weights([[1, 3], [0.333, 1]]).consistent
    with pytest.raises(ValueError, match="not reciprocal"):
        ahp_weights([[1, 3], [0.333, 1]], tolerance=1e-6)


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        ([[1, 2], [0.5]], "row 1 has 1 values; a 2x2 matrix needs 2"),
        ([[1, -2], [-0.5, 1]], r"entry \[0\]\[1\] must be a positive finite number"),
        ([[1, 0], [0, 1]], r"entry \[0\]\[1\] must be a positive"),
        ([[2, 1], [1, 1]], r"diagonal entry \[0\]\[0\] is 2"),
        ([[1, math.nan], [1, 1]], "positive finite number"),
        ([], "empty"),
        ([[1.0] * 11 for _ in range(11)], "11x11"),
    ],
)
def test_ahp_refuses_bad_matrices(matrix: list[list[float]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ahp_weights(matrix)


@settings(max_examples=50, deadline=None)
@given(st.data(), st.integers(min_value=3, max_value=10))
def test_ahp_weights_are_an_eigenvector(data: st.DataObject, n: int) -> None:
    scale = st.sampled_from([1, 2, 3, 4, 5, 6, 7, 8, 9, 1 / 2, 1 / 3, 1 / 4, 1 / 5, 1 / 6, 1 / 7, 1 / 8, 1 / 9])
    a = [[1.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            a[i][j] = data.draw(scale)
            a[j][i] = 1 / a[i][j]
    result = ahp_weights(a)
    assert math.fsum(result.weights) == pytest.approx(1.0, abs=1e-14)
    assert result.lambda_max >= n - 1e-9
    for i in range(n):
        aw = math.fsum(a[i][k] * result.weights[k] for k in range(n))
        assert aw == pytest.approx(result.lambda_max * result.weights[i], rel=1e-9)
    assert result.consistent == (result.consistency_ratio <= 0.10)


# --------------------------------------------------------------------------
# price scores
# --------------------------------------------------------------------------


def test_linear_price_scores() -> None:
    assert price_scores([100, 150, 200], "linear") == (100.0, 50.0, 0.0)
    assert price_scores([100, 150, 200], "linear", max_points=40, min_points=10) == (40.0, 25.0, 10.0)
    assert price_scores([120, 120], "linear") == (100.0, 100.0)


def test_lowest_ratio_min_points_is_a_floor() -> None:
    assert price_scores([100, 1000], max_points=100, min_points=20) == (100.0, 20.0)


@pytest.mark.parametrize(
    ("prices", "kwargs", "message"),
    [
        ([100, 0], {}, "prices must be > 0: entry 1 is 0"),
        ([100, -5], {}, "entry 1 is -5"),
        ([100, math.inf], {}, "entry 1 must be a finite number"),
        ([100], {"method": "cheapest"}, "unknown price scoring method 'cheapest'"),
        ([100], {"max_points": 10, "min_points": 20}, "min_points <= max_points"),
    ],
)
def test_price_scores_refuse_bad_input(prices: list[float], kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        price_scores(prices, **kwargs)  # type: ignore[arg-type]


def test_price_scores_of_nothing_is_empty() -> None:
    assert price_scores([]) == ()


@given(
    st.lists(
        st.floats(min_value=0.01, max_value=1e9) | st.integers(min_value=1, max_value=10**9), min_size=1, max_size=30
    ),
    st.sampled_from(["lowest-ratio", "linear"]),
    st.floats(min_value=0, max_value=50),
    st.floats(min_value=0, max_value=100),
)
def test_price_scores_bounds_and_lowest_gets_max(prices: list[float], method: str, low: float, extra: float) -> None:
    top = low + extra
    scores = price_scores(prices, method, max_points=top, min_points=low)
    assert all(low <= s <= top for s in scores)
    cheapest = min(prices)
    assert all(s == top for p, s in zip(prices, scores, strict=True) if p == cheapest)
    # a cheaper bid never scores lower
    pairs = sorted(zip(prices, scores, strict=True))
    assert all(a[1] >= b[1] for a, b in itertools.pairwise(pairs))


# --------------------------------------------------------------------------
# consensus and outliers
# --------------------------------------------------------------------------


def test_consensus_methods() -> None:
    scores = [6, 7, 7.5, 8, 10]
    assert consensus(scores) == pytest.approx(7.7)
    assert consensus(scores, "median") == 7.5
    assert consensus(scores, "trimmed-mean") == pytest.approx(7.5)
    assert consensus((s for s in [1.0]), "median") == 1.0


def test_trimmed_mean_refused_below_three_scores() -> None:
    assert consensus([1, 2, 9], "trimmed-mean") == 2.0
    with pytest.raises(ValueError, match="needs at least 3 scores, got 2"):
        consensus([1, 2], "trimmed-mean")


@pytest.mark.parametrize(
    ("scores", "method", "message"),
    [
        ([], "mean", "needs at least one score"),
        ([], "median", "needs at least one score"),
        ([1, math.nan], "mean", "entry 1 must be a finite number"),
        ([1, 2], "mode", "unknown consensus method 'mode'"),
    ],
)
def test_consensus_refuses(scores: list[float], method: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        consensus(scores, method)


def test_outliers_in_evaluator_order_with_median_and_distance() -> None:
    scores = {"e5": 2.0, "e1": 7.0, "e3": 8.0, "e2": 7.5, "e4": 12.0}
    found = outliers(scores, threshold=2)
    assert found == [("e4", 12.0, 7.5, 4.5), ("e5", 2.0, 7.5, 5.5)]
    assert found[0].evaluator == "e4" and found[0].median == 7.5
    assert outliers(scores, threshold=10) == []


def test_outliers_not_fooled_by_float_noise() -> None:
    # 8.3 - 7.2 == 1.1000000000000005 in floats; it is not further than 1.1
    assert 8.3 - 7.2 > 1.1
    assert outliers({"a": 7.2, "b": 7.2, "c": 8.3}, threshold=1.1) == []


def test_outliers_refuse_bad_input() -> None:
    with pytest.raises(ValueError, match="at least one evaluator"):
        outliers({}, 1)
    with pytest.raises(ValueError, match="threshold must be >= 0"):
        outliers({"a": 1.0}, -1)


# --------------------------------------------------------------------------
# tie-breaking
# --------------------------------------------------------------------------


def test_float_noise_score_ties_then_price_breaks_it() -> None:
    candidates = [
        {"vendor": "V1", "total_score": 80.30000000000001, "price": 1_050_000, "technical_score": 60},
        {"vendor": "V2", "total_score": 80.3, "price": 990_000, "technical_score": 50},
    ]
    assert break_ties(candidates) == ("V2", "V1")
    assert tied_groups(candidates) == ()


def test_rounding_is_half_up_on_the_decimal_form() -> None:
    # 80.345 is stored as 80.34499999999999886..., so float rounding gives 80.34;
    # the rule rounds the decimal a person reads, 80.345, half-up to 80.35
    assert round(80.345, 2) == 80.34
    candidates = [
        {"vendor": "a", "total_score": 80.3449, "price": 1},
        {"vendor": "b", "total_score": 80.345, "price": 2},
    ]
    assert break_ties(candidates) == ("b", "a")


def test_vendor_id_is_the_last_resort() -> None:
    when = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    same = {"total_score": 88.0, "price": 500, "technical_score": 40, "submitted_at": when}
    candidates = [{"vendor": v, **same} for v in ("vendor-c", "vendor-a", "vendor-b")]
    assert break_ties(candidates) == ("vendor-a", "vendor-b", "vendor-c")
    assert tied_groups(candidates) == (("vendor-a", "vendor-b", "vendor-c"),)


def test_default_rule_order_of_keys() -> None:
    t = datetime(2025, 3, 1, 9, 0)
    hour, day = timedelta(hours=1), timedelta(days=1)
    candidates = [
        {"vendor": "late", "total_score": 90, "price": 100, "technical_score": 50, "submitted_at": t + hour},
        {"vendor": "early", "total_score": 90, "price": 100, "technical_score": 50, "submitted_at": t.isoformat()},
        {"vendor": "tech", "total_score": 90, "price": 100, "technical_score": 55, "submitted_at": t + day},
        {"vendor": "cheap", "total_score": 90, "price": 99.5, "technical_score": 1},
        {"vendor": "best", "total_score": 90.01, "price": 10_000},
    ]
    assert break_ties(candidates) == ("best", "cheap", "tech", "early", "late")
    assert tied_groups(candidates) == (("tech", "early", "late"),)


def test_missing_values_sort_last() -> None:
    candidates = [
        {"vendor": "no-price", "total_score": 70, "price": None},
        {"vendor": "priced", "total_score": 70, "price": 1_000_000},
        {"vendor": "no-score", "price": 1},
    ]
    assert break_ties(candidates) == ("priced", "no-price", "no-score")


def test_tied_groups_reported_in_rank_order() -> None:
    candidates = [
        {"vendor": "d", "total_score": 70.0, "price": 300},
        {"vendor": "a", "total_score": 85.004, "price": 200},
        {"vendor": "c", "total_score": 70, "price": 300.0},
        {"vendor": "b", "total_score": 85.0, "price": 200, "technical_score": 60},
        {"vendor": "e", "total_score": 85.0, "price": 201},
    ]
    assert break_ties(candidates) == ("b", "a", "e", "c", "d")
    assert tied_groups(candidates) == (("b", "a"), ("c", "d"))


def test_configurable_rule() -> None:
    candidates = [
        {"vendor": "x", "total_score": 80, "price": 100, "technical_score": 70, "trial_score": 91},
        {"vendor": "y", "total_score": 80, "price": 90, "technical_score": 75, "trial_score": 88},
        {"vendor": "z", "total_score": 80, "price": 80, "technical_score": 75, "trial_score": 88},
    ]
    assert break_ties(candidates) == ("z", "y", "x")
    assert break_ties(candidates, rule=("technical_score", "vendor")) == ("y", "z", "x")
    assert break_ties(candidates, rule=("trial_score", "technical_score", "price")) == ("x", "z", "y")
    assert break_ties(candidates, rule=()) == ("x", "y", "z")


@pytest.mark.parametrize(
    ("candidates", "rule", "message"),
    [
        ([{"vendor": "a"}], ("score",), "unknown tie-break key"),
        ([{"vendor": "a"}], ("price", "price"), "names a key twice"),
        ([{"vendor": "a"}], "price", "sequence of key names"),
        ([{"vendor": "a"}, {"vendor": "a"}], (), "appears more than once"),
        ([{"total_score": 1}], (), "needs a non-empty string 'vendor'"),
        ([{"vendor": "a", "price": "cheap"}], ("price",), "price of vendor 'a' must be a finite number"),
        ([{"vendor": "a", "total_score": math.nan}], ("total_score",), "must be a finite number"),
        ([{"vendor": "a", "submitted_at": "yesterday"}], ("submitted_at",), "ISO 8601"),
        (
            [
                {"vendor": "a", "submitted_at": "2025-01-01T10:00:00+08:00"},
                {"vendor": "b", "submitted_at": "2025-01-01T10:00:00"},
            ],
            ("submitted_at",),
            "mixes times with and without a time zone",
        ),
    ],
)
def test_break_ties_refuses_bad_input(candidates: list[dict[str, object]], rule: tuple[str, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        break_ties(candidates, rule=rule)


def test_aware_times_compare_across_zones() -> None:
    candidates = [
        {"vendor": "shanghai", "submitted_at": "2025-01-01T10:00:00+08:00"},  # 02:00 UTC
        {"vendor": "london", "submitted_at": "2025-01-01T03:00:00Z"},
    ]
    assert break_ties(candidates, rule=("submitted_at",)) == ("shanghai", "london")
