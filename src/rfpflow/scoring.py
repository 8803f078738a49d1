"""The scoring maths of vendor selection, as plain functions.

Nothing here knows about a workspace, a store or a plugin: every function takes
numbers and returns numbers (or frozen records of numbers), so the same maths
serves the built-in scoring plugins, third-party plugins and ad-hoc scripts.

What is here
------------
:func:`rank`
    Weighted-sum (with min-max, ratio or max normalisation) or TOPSIS scores
    and competition ranks for a vendor x criterion matrix.
:func:`sensitivity`
    For each criterion, the smallest change of its weight that changes the
    winner (one-at-a-time, the other weights rescaled proportionally).
:func:`ahp_weights`
    Criterion weights from an AHP pairwise comparison matrix, with Saaty's
    consistency index and ratio.
:func:`price_scores`
    Price points: lowest-price ratio (China's Order 87 comprehensive scoring)
    or linear interpolation.
:func:`consensus` and :func:`outliers`
    One score per cell from several evaluators, and the evaluators who sit far
    from the panel median.
:func:`break_ties` and :func:`tied_groups`
    A total order over vendors under a configurable tie-break rule, and the
    groups Order 87 treats as tied (same rounded score and same price).

Conventions
-----------
* Vendors and criteria are identified by their 0-based position.
* Every user-caused problem (ragged rows, wrong lengths, bad weights, unknown
  names, non-finite numbers) raises :class:`ValueError` with a message that
  says what was expected; validation of a matrix lists every problem found
  (up to ten), not only the first.
* Everything is deterministic: no randomness, ties resolved by stated rules,
  outputs in input order or in a documented order.
* Scores are compared after rounding to 12 decimal places (all scores of
  :func:`rank` lie in [0, 1], so this keeps about 12 significant digits):
  values that differ only by floating-point noise share a rank.
"""

from __future__ import annotations

import math
import numbers
import operator
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Final, NamedTuple

import attrs

from rfpflow.errors import ProblemCollector

__all__ = [
    "AHP_RANDOM_INDEX",
    "CONSENSUS_METHODS",
    "DEFAULT_TIE_RULE",
    "DIRECTIONS",
    "NORMALIZATIONS",
    "PRICE_METHODS",
    "RANK_METHODS",
    "TIE_KEYS",
    "AhpResult",
    "Outlier",
    "RankResult",
    "SensitivityResult",
    "WeightSensitivity",
    "ahp_weights",
    "break_ties",
    "consensus",
    "outliers",
    "price_scores",
    "rank",
    "sensitivity",
    "tied_groups",
]

#: Criterion directions: a higher value is better ("benefit") or worse ("cost").
DIRECTIONS: Final = ("benefit", "cost")
#: Normalisations accepted by :func:`rank` for the weighted sum.
NORMALIZATIONS: Final = ("min-max", "ratio", "max")
#: Methods accepted by :func:`rank` and :func:`sensitivity`.
RANK_METHODS: Final = ("weighted-sum", "topsis")
#: Saaty's random consistency index RI for n = 1 ... 10.
AHP_RANDOM_INDEX: Final = (0.0, 0.0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49)
#: Consensus methods accepted by :func:`consensus`.
CONSENSUS_METHODS: Final = ("mean", "median", "trimmed-mean")
#: Price scoring methods accepted by :func:`price_scores`.
PRICE_METHODS: Final = ("lowest-ratio", "linear")
#: Keys :func:`break_ties` understands, with their fixed direction.
TIE_KEYS: Final[Mapping[str, str]] = {
    "total_score": "higher first (rounded half-up to 2 decimals)",
    "price": "lower first",
    "technical_score": "higher first (rounded half-up to 2 decimals)",
    "trial_score": "higher first (rounded half-up to 2 decimals)",
    "submitted_at": "earlier first",
    "vendor": "ascending string",
}
#: The default tie-break rule: Order 87 Art. 57 (score, then price), then the
#: declared method (technical score), then submission time, then vendor id.
DEFAULT_TIE_RULE: Final = ("total_score", "price", "technical_score", "submitted_at", "vendor")

_SCORE_DECIMALS: Final = 12
_MAX_LISTED_PROBLEMS: Final = 10
_CR_LIMIT: Final = 0.10


# --------------------------------------------------------------------------
# result records
# --------------------------------------------------------------------------


@attrs.frozen
class RankResult:
    """Scores and ranks from :func:`rank`, one entry per vendor in input order.

    ``scores`` are weighted sums in [0, 1] or TOPSIS closeness coefficients in
    [0, 1]; ``ranks`` are competition ranks (1 = best, equal scores share the
    smaller rank, the next rank skips: 1, 1, 3). ``weights`` are the weights
    actually used (normalised to sum 1); ``normalization`` is the one actually
    used (``"vector"`` for TOPSIS).

    >>> r = RankResult((0.2, 0.9, 0.9), (3, 1, 1), (1.0,), "weighted-sum", "min-max")
    >>> r.order, r.winner
    ((1, 2, 0), 1)
    """

    scores: tuple[float, ...]
    ranks: tuple[int, ...]
    weights: tuple[float, ...]
    method: str
    normalization: str

    @property
    def order(self) -> tuple[int, ...]:
        """Vendor indices best first; vendors sharing a rank stay in input order."""
        return tuple(sorted(range(len(self.ranks)), key=lambda i: (self.ranks[i], i)))

    @property
    def winner(self) -> int:
        """Index of the top-ranked vendor (the first in input order if several share rank 1)."""
        return self.order[0]


@attrs.frozen
class AhpResult:
    """Weights and consistency figures from :func:`ahp_weights`.

    ``consistent`` is ``consistency_ratio <= 0.10`` (Saaty's rule of thumb).

    >>> r = ahp_weights([[1, 1], [1, 1]])
    >>> r.weights, r.consistency_ratio, r.consistent
    ((0.5, 0.5), 0.0, True)
    """

    weights: tuple[float, ...]
    lambda_max: float
    consistency_index: float
    consistency_ratio: float
    consistent: bool


class Outlier(NamedTuple):
    """One evaluator far from the panel median, from :func:`outliers`.

    >>> Outlier("e3", 9.0, 5.0, 4.0).distance
    4.0
    """

    evaluator: str
    score: float
    median: float
    distance: float


@attrs.frozen
class WeightSensitivity:
    """How far one criterion's weight can move before the winner changes.

    ``weight`` is the current normalised weight. ``delta`` is the smallest
    signed absolute change of that weight (the other weights rescaled
    proportionally so the sum stays 1) past which another vendor beats the
    winner; ``None`` if no weight in [0, 1] changes the winner.
    ``delta_percent`` is ``delta`` relative to ``weight`` in percent (``None``
    when ``delta`` is ``None`` or the weight is 0), ``new_weight`` is
    ``weight + delta`` and ``new_winner`` the vendor that then leads.

    >>> s = WeightSensitivity(0, 0.5, -0.1, -20.0, 0.4, 1)
    >>> s.new_winner
    1
    """

    criterion: int
    weight: float
    delta: float | None
    delta_percent: float | None
    new_weight: float | None
    new_winner: int | None


@attrs.frozen
class SensitivityResult:
    """Result of :func:`sensitivity`: the current winner and one entry per criterion.

    >>> r = SensitivityResult(0, "weighted-sum", "min-max", ())
    >>> r.winner
    0
    """

    winner: int
    method: str
    normalization: str
    criteria: tuple[WeightSensitivity, ...]


# --------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------


def _raise_invalid(problems: ProblemCollector, what: str) -> None:
    """Every problem found, as one ValueError (these functions are plain arithmetic for plugins too)."""
    if problems:
        raise ValueError(problems.listing(f"invalid {what}", _MAX_LISTED_PROBLEMS))


def _as_number(value: object) -> float | None:
    """``float(value)`` for a finite real number (not a bool), else ``None``."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, Decimal)):
        return None
    try:
        number = float(value)
    except (OverflowError, ValueError):  # 10**400, Decimal("sNaN")
        return None
    return number if math.isfinite(number) else None


def _number(value: object, what: str) -> float:
    number = _as_number(value)
    if number is None:
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return number


def _choice(value: str, allowed: Sequence[str], what: str) -> str:
    if value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"unknown {what} {value!r}; expected one of {options}")
    return value


def _is_row(value: object) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def _numbers(values: Iterable[object], what: str) -> list[float]:
    """A list of finite floats, or a ValueError naming every bad entry."""
    problems, invalid = ProblemCollector(), what
    out: list[float] = []
    for i, value in enumerate(values):
        number = _as_number(value)
        if number is None:
            problems.add(f"entry {i} must be a finite number, got {value!r}")
        else:
            out.append(number)
    _raise_invalid(problems, invalid)
    return out


def _fmt(x: float) -> str:
    """A number as a user would write it: 3 not 3.0, 0.333333333333 not 0.3333333333333333."""
    return f"{x:.12g}"


def _score_key(score: float) -> float:
    """The value scores are compared by: rounded to 12 decimal places."""
    return round(score, _SCORE_DECIMALS)


def _competition_ranks(scores: Sequence[float]) -> tuple[int, ...]:
    keys = [_score_key(s) for s in scores]
    order = sorted(range(len(keys)), key=lambda i: -keys[i])
    ranks = [0] * len(keys)
    for position, i in enumerate(order):
        if position and keys[i] == keys[order[position - 1]]:
            ranks[i] = ranks[order[position - 1]]
        else:
            ranks[i] = position + 1
    return tuple(ranks)


# --------------------------------------------------------------------------
# rank
# --------------------------------------------------------------------------


@attrs.frozen
class _Problem:
    """A validated decision problem: rows of floats, weights summing to 1."""

    rows: list[list[float]]
    weights: list[float]
    directions: tuple[str, ...]


def _validate(
    matrix: Sequence[Sequence[float]],
    weights: Sequence[float],
    directions: Sequence[str],
) -> _Problem:
    problems, invalid = ProblemCollector(), "decision problem"
    if not _is_row(directions):
        raise ValueError("directions must be a list of 'benefit' / 'cost', one per criterion")
    if not _is_row(weights):
        raise ValueError("weights must be a list of numbers, one per criterion")
    if not _is_row(matrix):
        raise ValueError("matrix must be a list of rows, one per vendor")
    m = len(directions)
    if m == 0:
        problems.add("there are no criteria (directions is empty)")
    for j, d in enumerate(directions):
        if d not in DIRECTIONS:
            problems.add(f"direction of criterion {j} is {d!r}; expected 'benefit' or 'cost'")
    if len(weights) != m:
        problems.add(f"weights has {len(weights)} entries but there are {m} criteria (directions)")
    clean_weights: list[float] = []
    for j, w in enumerate(weights):
        number = _as_number(w)
        if number is None:
            problems.add(f"weight of criterion {j} must be a finite number, got {w!r}")
        elif number < 0:
            problems.add(f"weight of criterion {j} is negative ({w!r})")
        else:
            clean_weights.append(number)
    if len(clean_weights) == len(weights) and weights and max(clean_weights) <= 0:
        problems.add("weights sum to zero; at least one weight must be positive")
    if len(matrix) == 0:
        problems.add("matrix has no rows (no vendors)")
    rows: list[list[float]] = []
    for i, row in enumerate(matrix):
        if not _is_row(row):
            problems.add(f"row {i} is not a list of numbers: {row!r}")
            continue
        if len(row) != m:
            problems.add(f"row {i} has {len(row)} values but there are {m} criteria")
        clean: list[float] = []
        for j, x in enumerate(row):
            number = _as_number(x)
            if number is None:
                problems.add(f"row {i}, criterion {j} must be a finite number, got {x!r}")
            clean.append(0.0 if number is None else number)
        rows.append(clean)
    _raise_invalid(problems, invalid)
    top = max(clean_weights)  # scale first so that 1e308 + 1e308 cannot overflow
    scaled = [w / top for w in clean_weights]
    total = math.fsum(scaled)
    return _Problem(rows, [w / total for w in scaled], tuple(directions))


def _normalise(problem: _Problem, normalization: str) -> list[list[float]]:
    """Normalised matrix (rows) in [0, 1], 1 = best, for the weighted sum."""
    n, m = len(problem.rows), len(problem.directions)
    columns: list[list[float]] = []
    problems, invalid = ProblemCollector(), f"matrix for {normalization!r} normalisation"
    for j in range(m):
        col = [row[j] for row in problem.rows]
        benefit = problem.directions[j] == "benefit"
        lo, hi = min(col), max(col)
        if normalization == "min-max":
            span = hi - lo
            if span == 0:
                out = [1.0] * n
            elif math.isinf(span):  # huge opposite-signed values: halve to stay finite
                half = hi / 2 - lo / 2
                out = [((x / 2 - lo / 2) if benefit else (hi / 2 - x / 2)) / half for x in col]
            else:
                out = [((x - lo) if benefit else (hi - x)) / span for x in col]
        else:
            if lo < 0:
                i = col.index(lo)
                problems.add(
                    f"criterion {j} has a negative value ({_fmt(lo)} in row {i}); "
                    f"{normalization!r} normalisation needs values >= 0 (use 'min-max')"
                )
                continue
            if normalization == "ratio":
                if benefit:
                    out = [1.0] * n if hi == 0 else [x / hi for x in col]
                else:
                    out = [1.0 if x == lo else lo / x for x in col]
            else:  # "max"
                if hi == 0:
                    out = [1.0] * n
                elif benefit:
                    out = [x / hi for x in col]
                else:
                    out = [1.0 - x / hi for x in col]
        columns.append([min(1.0, max(0.0, r)) for r in out])
    _raise_invalid(problems, invalid)
    return [list(r) for r in zip(*columns, strict=True)]


def _vector_normalise(problem: _Problem) -> list[list[float]]:
    """x / sqrt(sum of x^2) per column; an all-zero column stays 0."""
    columns: list[list[float]] = []
    for j in range(len(problem.directions)):
        col = [row[j] for row in problem.rows]
        norm = math.hypot(*col)
        columns.append([0.0] * len(col) if norm == 0 else [x / norm for x in col])
    return [list(r) for r in zip(*columns, strict=True)]


def _ideals(r: list[list[float]], directions: Sequence[str]) -> tuple[list[float], list[float]]:
    """Positive and negative ideal (unweighted) per column of a vector-normalised matrix."""
    best: list[float] = []
    worst: list[float] = []
    for j, d in enumerate(directions):
        col = [row[j] for row in r]
        hi, lo = max(col), min(col)
        best.append(hi if d == "benefit" else lo)
        worst.append(lo if d == "benefit" else hi)
    return best, worst


def _closeness(d_best: float, d_worst: float) -> float:
    total = d_best + d_worst
    return 1.0 if total == 0 else d_worst / total


def _weighted_sum_scores(r: list[list[float]], weights: list[float]) -> list[float]:
    return [min(1.0, max(0.0, math.fsum(map(operator.mul, weights, row)))) for row in r]


def _topsis_scores(r: list[list[float]], weights: list[float], directions: Sequence[str]) -> list[float]:
    best, worst = _ideals(r, directions)
    scores = []
    for row in r:
        d_best = math.hypot(*(w * (x - b) for w, x, b in zip(weights, row, best, strict=True)))
        d_worst = math.hypot(*(w * (x - b) for w, x, b in zip(weights, row, worst, strict=True)))
        scores.append(_closeness(d_best, d_worst))
    return scores


def rank(
    matrix: Sequence[Sequence[float]],
    weights: Sequence[float],
    directions: Sequence[str],
    method: str = "weighted-sum",
    normalization: str = "min-max",
) -> RankResult:
    """Score and rank vendors (rows) on weighted criteria (columns).

    ``matrix`` has one row per vendor and one number per criterion;
    ``directions`` says per criterion whether higher is better (``"benefit"``)
    or worse (``"cost"``); ``weights`` are non-negative, not all zero, and are
    normalised to sum 1.

    ``method="weighted-sum"`` normalises each column to [0, 1] (1 = best) and
    sums ``weight * value``, so scores lie in [0, 1]. Normalisations:

    * ``"min-max"``: benefit (x - min)/(max - min), cost (max - x)/(max - min);
      a constant column gives 1 to every vendor. Any sign is allowed.
    * ``"ratio"``: benefit x/max, cost min/x. Needs values >= 0. Zero
      divisors: a benefit column whose max is 0 (all zeros) gives 1 to all; in
      a cost column the vendor(s) at the minimum get 1 (so a cost of 0 gets 1
      and every positive cost then gets 0/x = 0).
    * ``"max"``: benefit x/max, cost 1 - x/max. Needs values >= 0; a column
      whose max is 0 (all zeros) gives 1 to all.

    ``method="topsis"`` (Hwang & Yoon 1981) always uses vector normalisation
    x/sqrt(sum x^2) (``normalization`` is validated but not used; the result
    reports ``"vector"``); an all-zero column normalises to 0 and so adds
    nothing to either distance. Scores are closeness coefficients
    D-/(D+ + D-) in [0, 1]; a vendor at both the ideal and the anti-ideal
    (every weighted column constant) gets 1.

    Ranks are competition ranks on scores rounded to 12 decimal places.

    Raises ValueError for ragged rows, lengths that do not match, negative or
    all-zero weights, unknown direction/method/normalisation, and numbers
    that are not finite.

    >>> r = rank([[80, 1000], [90, 1200], [70, 900]], [60, 40], ["benefit", "cost"])
    >>> [round(s, 4) for s in r.scores], r.ranks
    ([0.5667, 0.6, 0.4], (2, 1, 3))
    >>> rank([[1, 2], [2, 1]], [1, 1], ["benefit", "benefit"]).ranks
    (1, 1)
    """
    return _rank(matrix, weights, directions, method, normalization)[0]


def _rank(
    matrix: Sequence[Sequence[float]],
    weights: Sequence[float],
    directions: Sequence[str],
    method: str,
    normalization: str,
) -> tuple[RankResult, _Problem, list[list[float]]]:
    """:func:`rank`, also returning the validated problem and normalised matrix."""
    _choice(method, RANK_METHODS, "method")
    _choice(normalization, NORMALIZATIONS, "normalization")
    problem = _validate(matrix, weights, directions)
    if method == "topsis":
        r = _vector_normalise(problem)
        scores = _topsis_scores(r, problem.weights, problem.directions)
        used = "vector"
    else:
        r = _normalise(problem, normalization)
        scores = _weighted_sum_scores(r, problem.weights)
        used = normalization
    result = RankResult(
        scores=tuple(scores),
        ranks=_competition_ranks(scores),
        weights=tuple(problem.weights),
        method=method,
        normalization=used,
    )
    return result, problem, r


# --------------------------------------------------------------------------
# sensitivity
# --------------------------------------------------------------------------

# For criterion j, write t for its new weight and let the other weights be
# (1 - t) * omega_k with omega = w_k / sum_{k != j} w_k (or equal shares if all
# other weights are 0). Then
#   weighted sum: S_i(t) = t * a_i + (1 - t) * b_i, linear in t;
#   TOPSIS:       D_i(t)^2 = t^2 * p_i + (1 - t)^2 * q_i for both ideals (the
#                 ideals scale with the weights), and C_i > C_w exactly when
#                 D-_i * D+_w > D-_w * D+_i, i.e. when
#                 f(t) = A t^4 + B t^2 (1-t)^2 + C (1-t)^4 > 0, a quadratic in
#                 z = (t / (1 - t))^2.
# So each competitor overtakes the winner only at the (at most two) real
# roots of a low-degree polynomial, found in closed form. Between roots the
# sign is constant and is read at the midpoint; a value within 1e-12 of the
# size of the two sides compared is rounding noise (a tie), not a lead.


class _Competitor(NamedTuple):
    """Where vendor i beats the winner, as a function of the new weight t.

    ``margin(t)`` returns (difference, size): the difference is positive
    exactly where vendor i is ahead, and size is the magnitude of the two
    sides it subtracts, used to tell rounding noise from a real lead.
    """

    roots: list[float]
    margin: Callable[[float], tuple[float, float]]
    score: Callable[[float], float]


def _quadratic_roots(a: float, b: float, c: float) -> list[float]:
    if a == 0:
        return [] if b == 0 else [-c / b]
    disc = b * b - 4 * a * c
    if disc < 0:
        return []
    root = math.sqrt(disc)
    q = -0.5 * (b + math.copysign(root, b))
    roots = [q / a]
    if q != 0:
        roots.append(c / q)
    return roots


def _z_to_t(z: float) -> float | None:
    if not z > 0 or math.isinf(z):
        return None
    u = math.sqrt(z)
    return u / (1 + u)


def _crossings(t0: float, competitor: _Competitor) -> tuple[float | None, float | None]:
    """Nearest t below and above ``t0`` past which the competitor beats the winner."""
    points = sorted({0.0, 1.0, t0, *(t for t in competitor.roots if 0.0 < t < 1.0)})
    k = points.index(t0)

    def beats(t: float) -> bool:
        difference, size = competitor.margin(t)
        return difference > 1e-12 * size

    up = next(
        (p for p, q in zip(points[k:], points[k + 1 :], strict=False) if beats((p + q) / 2)),
        None,
    )
    down = next(
        (points[i + 1] for i in range(k - 1, -1, -1) if beats((points[i] + points[i + 1]) / 2)),
        None,
    )
    return down, up


def _omega(weights: list[float], j: int) -> list[float]:
    """Shares of the other weights (0 for criterion j) used to rescale them."""
    m = len(weights)
    others = math.fsum(w for k, w in enumerate(weights) if k != j)
    if others > 0:
        return [0.0 if k == j else w / others for k, w in enumerate(weights)]
    return [0.0 if k == j else 1.0 / (m - 1) for k in range(m)]


def _ws_competitors(r: list[list[float]], weights: list[float], j: int, winner: int) -> list[_Competitor | None]:
    omega = _omega(weights, j)
    a = [row[j] for row in r]
    b = [math.fsum(map(operator.mul, omega, row)) for row in r]
    out: list[_Competitor | None] = []
    for i in range(len(r)):
        if i == winner:
            out.append(None)
            continue
        alpha, beta = a[i] - a[winner], b[i] - b[winner]  # d(t) = beta + (alpha - beta) t
        roots = [] if alpha == beta else [beta / (beta - alpha)]

        def score(t: float, ai: float = a[i], bi: float = b[i]) -> float:
            return t * ai + (1 - t) * bi

        def margin(
            t: float, alpha: float = alpha, beta: float = beta, mine: Callable[[float], float] = score
        ) -> tuple[float, float]:
            return beta + (alpha - beta) * t, mine(t) + t * a[winner] + (1 - t) * b[winner]

        out.append(_Competitor(roots, margin, score))
    return out


def _topsis_competitors(
    r: list[list[float]], weights: list[float], directions: Sequence[str], j: int, winner: int
) -> list[_Competitor | None]:
    omega2 = [w * w for w in _omega(weights, j)]
    best, worst = _ideals(r, directions)
    p_best = [(row[j] - best[j]) ** 2 for row in r]
    p_worst = [(row[j] - worst[j]) ** 2 for row in r]
    q_best = [math.fsum(w * (x - y) ** 2 for w, x, y in zip(omega2, row, best, strict=True)) for row in r]
    q_worst = [math.fsum(w * (x - y) ** 2 for w, x, y in zip(omega2, row, worst, strict=True)) for row in r]
    pbw, qbw, pww, qww = p_best[winner], q_best[winner], p_worst[winner], q_worst[winner]
    out: list[_Competitor | None] = []
    for i in range(len(r)):
        if i == winner:
            out.append(None)
            continue
        pbi, qbi, pwi, qwi = p_best[i], q_best[i], p_worst[i], q_worst[i]
        a4 = pwi * pbw - pww * pbi
        b4 = pwi * qbw + qwi * pbw - pww * qbi - qww * pbi
        c4 = qwi * qbw - qww * qbi
        roots = [t for z in _quadratic_roots(a4, b4, c4) if (t := _z_to_t(z)) is not None]

        def margin(t: float, a4: float = a4, b4: float = b4, c4: float = c4, i: int = i) -> tuple[float, float]:
            x, y = t * t, (1 - t) * (1 - t)
            # D-_i^2 D+_w^2 and D-_w^2 D+_i^2: the two sides f subtracts
            left = (x * p_worst[i] + y * q_worst[i]) * (x * pbw + y * qbw)
            right = (x * pww + y * qww) * (x * p_best[i] + y * q_best[i])
            return a4 * x * x + b4 * x * y + c4 * y * y, left + right

        def score(t: float, pb: float = pbi, qb: float = qbi, pw: float = pwi, qw: float = qwi) -> float:
            x, y = t * t, (1 - t) * (1 - t)
            return _closeness(math.sqrt(x * pb + y * qb), math.sqrt(x * pw + y * qw))

        out.append(_Competitor(roots, margin, score))
    return out


def _criterion_sensitivity(j: int, t0: float, competitors: list[_Competitor | None]) -> WeightSensitivity:
    found: list[tuple[float, int, float]] = []  # (new weight, competitor, direction)
    for i, competitor in enumerate(competitors):
        if competitor is None:
            continue
        down, up = _crossings(t0, competitor)
        if down is not None:
            found.append((down, i, -1.0))
        if up is not None:
            found.append((up, i, 1.0))
    if not found:
        return WeightSensitivity(j, t0, None, None, None, None)
    # smallest |change| (within rounding); on a tie between directions the decrease is reported
    smallest = min(abs(f[0] - t0) for f in found)
    nearest = [f for f in found if abs(f[0] - t0) <= smallest + 1e-12]
    t_new, _, direction = min(nearest, key=lambda f: (f[2], abs(f[0] - t0), f[1]))
    tied = [f for f in found if f[2] == direction and abs(f[0] - t_new) <= 1e-12]
    new_winner = tied[0][1]
    if len(tied) > 1:  # several overtake at the same point: the best just past it leads
        probe = t_new + direction * 1e-9
        new_winner = max(tied, key=lambda f: (_score_at(competitors[f[1]], probe), -f[1]))[1]
    delta = t_new - t0
    percent = None if t0 == 0 else delta / t0 * 100.0
    return WeightSensitivity(j, t0, delta, percent, t_new, new_winner)


def _score_at(competitor: _Competitor | None, t: float) -> float:
    return -math.inf if competitor is None else competitor.score(min(1.0, max(0.0, t)))


def sensitivity(
    matrix: Sequence[Sequence[float]],
    weights: Sequence[float],
    directions: Sequence[str],
    normalization: str = "min-max",
    method: str = "weighted-sum",
) -> SensitivityResult:
    """How much each criterion's weight must change before the winner changes.

    One-at-a-time sensitivity analysis (as in Triantaphyllou & Sánchez 1997):
    for criterion j the normalised weight w_j becomes w_j + delta and the
    other weights are rescaled proportionally so the weights still sum to 1
    (if all the other weights are 0 they share 1 - w_j equally). For every
    criterion the result gives the signed ``delta`` of smallest magnitude
    past which some vendor scores strictly higher than the current winner,
    the same change in percent of w_j, and the new leader. ``delta`` is
    ``None`` when no weight in [0, 1] changes the winner. If a decrease and
    an increase of the same size both work, the decrease is reported.

    The winner is :attr:`RankResult.winner` of :func:`rank` with the same
    arguments. Both methods are solved in closed form: weighted-sum scores
    are linear in the new weight t; for TOPSIS the sign of the difference of
    two closeness coefficients is that of a quadratic in (t/(1-t))^2. So
    ``delta`` is exact up to floating-point rounding, for TOPSIS too: there
    is no scan and no step size, and a lead that exists only for a sliver of
    weights cannot be stepped over. A lead smaller than 1e-12 of the scores
    compared counts as a tie (as in :func:`rank`), so a competitor that only
    touches the winner's score is not reported.

    >>> s = sensitivity([[1, 0], [0, 1]], [0.6, 0.4], ["benefit", "benefit"])
    >>> s.winner, [(c.criterion, round(c.delta, 9), c.new_winner) for c in s.criteria]
    (0, [(0, -0.1, 1), (1, 0.1, 1)])
    """
    ranked, problem, r = _rank(matrix, weights, directions, method, normalization)
    winner = ranked.winner
    w = problem.weights
    m = len(w)
    out: list[WeightSensitivity] = []
    for j in range(m):
        if m == 1 or len(r) == 1:
            out.append(WeightSensitivity(j, w[j], None, None, None, None))
            continue
        if method == "topsis":
            competitors = _topsis_competitors(r, w, problem.directions, j, winner)
        else:
            competitors = _ws_competitors(r, w, j, winner)
        out.append(_criterion_sensitivity(j, w[j], competitors))
    return SensitivityResult(winner, method, ranked.normalization, tuple(out))


# --------------------------------------------------------------------------
# AHP
# --------------------------------------------------------------------------


def _matmul(a: list[list[float]], b: list[list[float]]) -> list[list[float]]:
    cols = list(zip(*b, strict=True))
    return [[math.fsum(map(operator.mul, row, col)) for col in cols] for row in a]


def ahp_weights(pairwise: Sequence[Sequence[float]], *, tolerance: float = 0.01) -> AhpResult:
    """Criterion weights from an AHP pairwise comparison matrix (Saaty).

    ``pairwise[i][j]`` says how much more important criterion i is than j
    (Saaty's 1-9 scale, though any positive ratio is accepted). The matrix
    must be square (n = 1 ... 10), positive, with a diagonal of 1 and
    reciprocal: ``a[j][i] * a[i][j]`` within ``tolerance`` (relative,
    default 1 %) of 1, so 1/3 typed as 0.333 is accepted. Anything else
    raises ValueError listing every problem found.

    The weights are the principal eigenvector, normalised to sum 1, found by
    the power method with repeated squaring (the rows sums of A, A^2, A^4,
    ..., Saaty's own procedure) until no weight moves by more than 1e-15.
    ``lambda_max`` is the mean of (A w)_i / w_i; CI = (lambda_max - n)/(n - 1)
    (never below 0); CR = CI / RI with Saaty's random index RI = 0, 0, 0.58,
    0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49 for n = 1 ... 10, and CR = 0 for
    n <= 2. ``consistent`` is CR <= 0.10.

    >>> r = ahp_weights([[1, 3, 5], [1/3, 1, 3], [1/5, 1/3, 1]])
    >>> [round(w, 3) for w in r.weights], round(r.consistency_ratio, 3), r.consistent
    ([0.637, 0.258, 0.105], 0.033, True)
    """
    tol = _number(tolerance, "tolerance")
    if not _is_row(pairwise):
        raise ValueError("pairwise must be a square list of rows")
    n = len(pairwise)
    if n == 0:
        raise ValueError("pairwise comparison matrix is empty")
    if n > len(AHP_RANDOM_INDEX):
        raise ValueError(
            f"pairwise comparison matrix is {n}x{n}; Saaty's random index is defined "
            f"up to n = {len(AHP_RANDOM_INDEX)}: split the criteria into a hierarchy"
        )
    problems, invalid = ProblemCollector(), "pairwise comparison matrix"
    a: list[list[float]] = []
    for i, row in enumerate(pairwise):
        if not _is_row(row) or len(row) != n:
            size = len(row) if _is_row(row) else "no"
            problems.add(f"row {i} has {size} values; a {n}x{n} matrix needs {n}")
            a.append([1.0] * n)
            continue
        clean: list[float] = []
        for j, x in enumerate(row):
            number = _as_number(x)
            if number is None or number <= 0:
                problems.add(f"entry [{i}][{j}] must be a positive finite number, got {x!r}")
                number = 1.0
            clean.append(number)
        a.append(clean)
    _raise_invalid(problems, invalid)
    for i in range(n):
        if abs(a[i][i] - 1.0) > tol:
            problems.add(f"diagonal entry [{i}][{i}] is {_fmt(a[i][i])}; it must be 1")
        for j in range(i + 1, n):
            if abs(a[i][j] * a[j][i] - 1.0) > tol:
                problems.add(
                    f"entries [{i}][{j}] = {_fmt(a[i][j])} and [{j}][{i}] = {_fmt(a[j][i])} are not "
                    f"reciprocal (expected [{j}][{i}] = 1/{_fmt(a[i][j])} = {1 / a[i][j]:.6g})"
                )
    _raise_invalid(problems, invalid)

    weights = _principal_eigenvector(a)
    aw = [math.fsum(map(operator.mul, row, weights)) for row in a]
    lambda_max = math.fsum(x / w for x, w in zip(aw, weights, strict=True)) / n
    ci = 0.0 if n == 1 else max(0.0, (lambda_max - n) / (n - 1))
    ri = AHP_RANDOM_INDEX[n - 1]
    cr = 0.0 if n <= 2 else ci / ri
    return AhpResult(tuple(weights), lambda_max, ci, cr, cr <= _CR_LIMIT)


def _principal_eigenvector(a: list[list[float]]) -> list[float]:
    def row_sums(m: list[list[float]]) -> list[float]:
        sums = [math.fsum(row) for row in m]
        total = math.fsum(sums)
        return [s / total for s in sums]

    power = a
    weights = row_sums(power)
    for _ in range(64):  # A^(2^64): far past convergence for any positive matrix
        power = _matmul(power, power)
        top = max(max(row) for row in power)
        power = [[x / top for x in row] for row in power]
        new = row_sums(power)
        moved = max(abs(x - y) for x, y in zip(new, weights, strict=True))
        weights = new
        if moved <= 1e-15:
            break
    return weights


# --------------------------------------------------------------------------
# price scores, consensus, outliers
# --------------------------------------------------------------------------


def price_scores(
    prices: Sequence[float],
    method: str = "lowest-ratio",
    max_points: float = 100,
    min_points: float = 0,
) -> tuple[float, ...]:
    """Price points, one per price, in input order.

    ``"lowest-ratio"``: benchmark = the lowest price; score = benchmark /
    price x ``max_points`` -- the price score of China's Order 87
    comprehensive scoring method (基准价/投标报价 x 价格权值 x 100). With a
    ``min_points`` above 0 it acts as a floor.

    ``"linear"``: the lowest price gets ``max_points``, the highest
    ``min_points``, the rest are interpolated linearly; if all prices are
    equal every one gets ``max_points``.

    Prices must be finite and > 0 (pass only valid bids); points need
    0 <= ``min_points`` <= ``max_points``. Scores always lie in
    [``min_points``, ``max_points``]. No prices give an empty tuple.

    >>> price_scores([100, 125, 200])
    (100.0, 80.0, 50.0)
    >>> price_scores([100, 150, 200], method="linear", max_points=30)
    (30.0, 15.0, 0.0)
    """
    _choice(method, PRICE_METHODS, "price scoring method")
    top = _number(max_points, "max_points")
    bottom = _number(min_points, "min_points")
    if not 0 <= bottom <= top:
        raise ValueError(f"points must satisfy 0 <= min_points <= max_points, got {_fmt(bottom)} and {_fmt(top)}")
    if not _is_row(prices):
        raise ValueError("prices must be a list of numbers")
    values = _numbers(prices, "prices")
    bad = [f"entry {i} is {_fmt(p)}" for i, p in enumerate(values) if p <= 0]
    if bad:
        raise ValueError("prices must be > 0: " + ", ".join(bad))
    if not values:
        return ()
    lo, hi = min(values), max(values)
    scores: list[float] = []
    for p in values:
        if method == "lowest-ratio":
            s = top if p == lo else lo / p * top
        elif p == lo:
            s = top
        elif p == hi:
            s = bottom
        else:
            s = bottom + (hi - p) / (hi - lo) * (top - bottom)
        scores.append(min(top, max(bottom, s)))
    return tuple(scores)


def consensus(scores: Iterable[float], method: str = "mean") -> float:
    """One consensus score from several evaluators' scores for the same cell.

    ``"mean"`` (exactly rounded sum / n), ``"median"``, or ``"trimmed-mean"``
    (drop one highest and one lowest score, average the rest). Raises
    ValueError for no scores, non-finite scores, an unknown method, or a
    trimmed mean of fewer than 3 scores (nothing would be left to average).

    >>> consensus([7, 8, 9, 3])
    6.75
    >>> consensus([7, 8, 9, 3], "median"), consensus([7, 8, 9, 3], "trimmed-mean")
    (7.5, 7.5)
    """
    _choice(method, CONSENSUS_METHODS, "consensus method")
    values = _numbers(scores, "evaluator scores")
    if not values:
        raise ValueError(f"{method} consensus needs at least one score, got none")
    if method == "mean":
        return math.fsum(values) / len(values)
    if method == "median":
        return float(statistics.median(values))
    if len(values) < 3:
        raise ValueError(
            f"trimmed-mean consensus drops the highest and lowest score and needs at least 3 scores, got {len(values)}"
        )
    values.sort()
    return math.fsum(values[1:-1]) / (len(values) - 2)


def outliers(scores_by_evaluator: Mapping[str, float], threshold: float) -> list[Outlier]:
    """Evaluators whose score is further than ``threshold`` from the panel median.

    This is the consensus review: each flagged evaluator is reported with
    their score, the median of all scores and the distance from it, sorted by
    evaluator id. Distances are rounded to 12 decimal places before the
    (strict) comparison, so 8.3 is not "further than 1.1" from 7.2 because of
    float noise. Raises ValueError for no scores, a non-string evaluator id,
    non-finite scores or a negative threshold.

    >>> outliers({"alice": 7, "bob": 8, "carol": 3}, threshold=2)
    [Outlier(evaluator='carol', score=3.0, median=7.0, distance=4.0)]
    """
    limit = _number(threshold, "threshold")
    if limit < 0:
        raise ValueError(f"threshold must be >= 0, got {threshold!r}")
    if not scores_by_evaluator:
        raise ValueError("outliers needs at least one evaluator score, got none")
    bad_ids = [e for e in scores_by_evaluator if not isinstance(e, str)]
    if bad_ids:
        raise ValueError(f"evaluator ids must be strings, got {bad_ids!r}")
    ids = sorted(scores_by_evaluator)
    values = _numbers((scores_by_evaluator[e] for e in ids), "evaluator scores")
    median = float(statistics.median(values))
    found: list[Outlier] = []
    for evaluator, score in zip(ids, values, strict=True):
        distance = _score_key(abs(score - median))
        if distance > limit:
            found.append(Outlier(evaluator, score, median, distance))
    return found


# --------------------------------------------------------------------------
# tie-breaking
# --------------------------------------------------------------------------

_MISSING: Final = (1, 0)
_SCORE_KEYS: Final = ("total_score", "technical_score", "trial_score")
_CENT: Final = Decimal("0.01")


def _decimal(value: object, what: str) -> Decimal:
    number = _as_number(value)
    if number is None:
        raise ValueError(f"{what} must be a finite number or None, got {value!r}")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    # repr gives the shortest decimal that round-trips: 80.30000000000001 stays itself
    return Decimal(repr(number))


def _rounded_score(value: object, what: str) -> Decimal:
    return _decimal(value, what).quantize(_CENT, rounding=ROUND_HALF_UP)


def _timestamp(value: object, what: str) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass  # not ISO text: refused just below
    raise ValueError(f"{what} must be a datetime or an ISO 8601 string, got {value!r}")


def _sort_keys(candidates: Sequence[Mapping[str, object]], rule: Sequence[str]) -> list[tuple[str, tuple[object, ...]]]:
    """(vendor id, sort key) per candidate; a smaller key is better."""
    if isinstance(rule, str) or not _is_row(rule):
        raise ValueError(f"rule must be a sequence of key names, got {rule!r}")
    unknown = [k for k in rule if k not in TIE_KEYS]
    if unknown:
        raise ValueError(f"unknown tie-break key(s) {unknown!r}; expected some of {list(TIE_KEYS)!r}")
    if len(set(rule)) != len(rule):
        raise ValueError(f"tie-break rule names a key twice: {list(rule)!r}")
    keys = [*rule, *(["vendor"] if "vendor" not in rule else [])]

    problems, invalid = ProblemCollector(), "tie-break candidates"
    seen: set[str] = set()
    rows: list[tuple[str, dict[str, object]]] = []
    for n, candidate in enumerate(candidates):
        if not isinstance(candidate, Mapping):
            problems.add(f"candidate {n} is not a mapping: {candidate!r}")
            continue
        vendor = candidate.get("vendor")
        if not isinstance(vendor, str) or not vendor:
            problems.add(f"candidate {n} needs a non-empty string 'vendor', got {vendor!r}")
            continue
        if vendor in seen:
            problems.add(f"vendor {vendor!r} appears more than once")
            continue
        seen.add(vendor)
        values: dict[str, object] = {}
        for key in keys:
            raw = candidate.get(key)
            if raw is None:
                continue
            what = f"{key} of vendor {vendor!r}"
            try:
                if key in _SCORE_KEYS:
                    values[key] = -_rounded_score(raw, what)
                elif key == "price":
                    values[key] = _decimal(raw, what)
                elif key == "submitted_at":
                    values[key] = _timestamp(raw, what)
                else:
                    values[key] = vendor
            except ValueError as exc:
                problems.add(str(exc))
        rows.append((vendor, values))
    times = [v["submitted_at"] for _, v in rows if "submitted_at" in v]
    aware = {isinstance(t, datetime) and t.utcoffset() is not None for t in times}
    if len(aware) > 1:
        problems.add("submitted_at mixes times with and without a time zone; they cannot be compared")
    _raise_invalid(problems, invalid)
    return [(vendor, tuple((0, v[k]) if k in v else _MISSING for k in keys)) for vendor, v in rows]


def break_ties(
    candidates: Sequence[Mapping[str, object]],
    rule: Sequence[str] = DEFAULT_TIE_RULE,
) -> tuple[str, ...]:
    """Vendor ids best first, ordered key by key under ``rule``.

    Each candidate is a mapping with ``vendor`` (a unique, non-empty string)
    and any of ``total_score``, ``price``, ``technical_score``,
    ``trial_score``, ``submitted_at``. Keys have fixed directions (see
    :data:`TIE_KEYS`):

    * ``total_score``, ``technical_score``, ``trial_score``: higher first
      (``trial_score`` is the trial-run result some profiles break ties on
      first; it is not in the default rule), compared after
      rounding half-up to 2 decimals of the shortest decimal form of the
      number (``Decimal(repr(x))``), so 80.30000000000001 ties 80.3 and
      80.305 rounds to 80.31;
    * ``price``: lower first, compared exactly as decimals;
    * ``submitted_at``: earlier first; a ``datetime`` or an ISO 8601 string
      (all with a time zone or all without);
    * ``vendor``: ascending string -- always the last resort, appended to a
      rule that omits it, so the order is total.

    A key that is absent or ``None`` sorts after every present value. The
    default rule follows Order 87 Art. 57 (score down, then price up) and
    then the method tender documents usually declare. Raises ValueError for
    unknown or repeated rule keys, duplicate or missing vendor ids, and
    values of the wrong kind.

    >>> break_ties([
    ...     {"vendor": "b", "total_score": 80.30000000000001, "price": 120},
    ...     {"vendor": "a", "total_score": 80.3, "price": 100},
    ...     {"vendor": "c", "total_score": 79.0, "price": 90},
    ... ])
    ('a', 'b', 'c')
    """
    keyed = _sort_keys(candidates, rule)
    keyed.sort(key=operator.itemgetter(1))
    return tuple(vendor for vendor, _ in keyed)


def tied_groups(candidates: Sequence[Mapping[str, object]]) -> tuple[tuple[str, ...], ...]:
    """Groups of vendors equal on rounded total score AND price (Order 87 ties).

    Order 87 ranks by score, then price; vendors equal on both are tied and
    the tender documents decide. Each group (2 or more vendors) lists its
    vendor ids in :func:`break_ties` default order; groups come best first.
    Scores are rounded half-up to 2 decimals as in :func:`break_ties`; a
    missing score or price counts as equal to another missing one.

    >>> tied_groups([
    ...     {"vendor": "x", "total_score": 90, "price": 100},
    ...     {"vendor": "y", "total_score": 90.001, "price": 100.0, "technical_score": 50},
    ...     {"vendor": "z", "total_score": 90, "price": 101},
    ... ])
    (('y', 'x'),)
    """
    keyed = _sort_keys(candidates, DEFAULT_TIE_RULE)
    keyed.sort(key=operator.itemgetter(1))
    groups: list[tuple[str, ...]] = []
    current: list[str] = []
    previous: tuple[object, ...] | None = None
    for vendor, key in keyed:
        head = key[:2]  # (total_score, price)
        if head == previous:
            current.append(vendor)
            continue
        if len(current) > 1:
            groups.append(tuple(current))
        current, previous = [vendor], head
    if len(current) > 1:
        groups.append(tuple(current))
    return tuple(groups)
