"""The evaluation stage as plain functions over records: scores in, ranking out.

No database, no command line, no files: the workflow engine reads score sheets
(:func:`rfpflow.hookspecs.rfpflow_read_scores`) and bids, calls these
functions, and stores what they return. The maths is :mod:`rfpflow.scoring`;
this module applies it to an :class:`~rfpflow.model.Rfp` and says, for every
number, where it came from.

The steps
---------
1. :func:`criterion_values` turns evaluators' scores, bids and trial results
   into a :class:`Matrix`: one :class:`CriterionValue` per vendor and leaf
   criterion, with its points, the notes explaining them and the cells they
   came from. Missing scores are refused all at once
   (:class:`EvaluationError` listing every evaluator and vendor concerned).
2. :func:`outlier_review` lists evaluators far from the panel median.
3. :func:`rank_vendors` ranks the vendors by ``[scoring] method``, optionally
   as the award combination of ``[scoring] award``, breaks ties by
   ``[scoring] tie_break`` and explains them in words.
4. :func:`sensitivity_report` says how far each weight can move before the
   winner changes; :func:`shortlist` applies ``[shortlist]``.

Points: the 100-point scale
---------------------------
Every criterion's value is a *share* in [0, 1] of its weight. Points are
shown on a 100-point scale whatever unit rfp.toml uses: a criterion's
maximum is ``weight x 100 / (sum of the leaf weights)``. With top-level
weights adding up to 100 (the usual case) a criterion's points are in its
own weight's unit (price weight 40: at most 40 points); with weights given
as shares (adding up to 1) they are multiplied by 100. A weighted-sum total
is the sum of the points, so it lies in [0, 100]. Other ranking methods
(TOPSIS, LPTA) give scores in [0, 1], shown multiplied by 100. Values keep
full precision; ties are decided after rounding half-up to 2 decimals (as
:func:`rfpflow.scoring.break_ties` does) and notes show 2 decimals.

Where a share comes from
------------------------
``judgement``
    The consensus (``[scoring] consensus``: mean, median or trimmed-mean) of
    the panel's scores, placed on the criterion's ``scale``:
    ``(consensus - lowest) / (highest - lowest)``; for a criterion with
    ``direction = "cost"`` (say "risk", where a high score is bad) the share
    is one minus that.
``bid``
    A rule applied to a bid field or questionnaire answer (``field``):

    * ``present`` -- with ``params.any_of = ["ISO 27001", ...]``: full points
      when the bid declares one of these certifications (matched word by
      word, as the certification gate does) valid on the reference date
      (``contract_start``, else ``decision_date``); a certificate expiring
      before it counts as missing. Without ``any_of``: full points when the
      field or answer is filled in.
    * ``bands`` -- ``params.bands = [[threshold, score], ...]`` with
      thresholds increasing and scores on the criterion's ``scale`` (like an
      evaluator's score, default 0-10). For a benefit criterion the band with
      the highest threshold the value reaches (value >= threshold) applies;
      for a cost criterion the band with the lowest threshold the value stays
      within (value <= threshold). A value outside every band scores the
      bottom of the scale. ``bands = [[3, 5], [5, 8], [10, 10]]`` on 0-10
      gives 3-4 years half the weight, 5-9 years 80 %, 10+ years all of it.
      The field ``years_established`` (or ``company_age``) is computed from
      ``year_established`` at the reference date.
    * ``answer`` -- ``params.points = {"Yes" = 1.0, "Partly" = 0.5, "No" = 0}``:
      the share of the weight for the answer to question ``field``.
    * ``linear`` -- ``params.min`` / ``params.max``: the value's position
      between them (clamped), reversed for a cost criterion.

    Missing or unreadable data gives 0 points with a note saying why.
``price``
    The registered price formula ``[scoring] price_formula`` over the bids'
    total prices, with the criterion's maximum points (lowest-ratio: lowest /
    price x points). A bid without a price gets 0 points with a note.
``trial``
    The trial-run score (0-100) as a share; a vendor without one gets 0.

Ranking methods
---------------
``weighted-sum`` (rfpflow's own) ranks by the sum of points. Any other
registered ranking method (``topsis``, a plugin's) is called with the raw
values -- consensus scores, total prices (a cost), bid-rule shares, trial
scores -- the leaf weights and directions, and its ``scores`` (in [0, 1]) x 100
are the totals; the criterion points are still shown in the breakdown.
``lpta`` (lowest price technically acceptable, FAR 15.101-2) is called with
two extra keywords, ``prices`` and ``acceptable``: a bid is acceptable when
its non-price points reach ``[scoring.options] min_technical`` percent
(default 60) of the non-price maximum; see
:func:`lowest_price_technically_acceptable`.

Blind evaluation
----------------
With ``[scoring] blind = true`` score sheets show codes, not names:
:func:`blind_codes` makes them (from a hash, so they reveal neither names nor
the order bids arrived in) and :func:`unblind_scores` maps returned scores back.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, Final

import attrs

from rfpflow import scoring
from rfpflow.errors import PluginError, Problem, RfpflowError
from rfpflow.formatting import format_money
from rfpflow.model import Bid, Criterion, RankedVendor, Ranking, Rfp, ShortlistRule, to_tuple
from rfpflow.plugins import formula_extras, formula_wants
from rfpflow.spreadsheets.cells import CellValueError, is_blank, parse_number

if TYPE_CHECKING:
    from rfpflow.plugins import PluginHost
    from rfpflow.registry import ScoringMethod

__all__ = [
    "BID_RULES",
    "POINTS_SCALE",
    "RESERVED_BREAKDOWN_KEYS",
    "CriterionValue",
    "EvaluationError",
    "FlaggedScore",
    "Matrix",
    "MissingScore",
    "ScoreEntry",
    "SensitivityReport",
    "WeightChange",
    "blind_codes",
    "criterion_values",
    "lowest_price_technically_acceptable",
    "missing_scores",
    "outlier_review",
    "rank_vendors",
    "score_entries",
    "sensitivity_report",
    "shortlist",
    "unblind_scores",
]

#: Totals and points are shown on this scale.
POINTS_SCALE: Final = 100.0
#: The rules a ``source = "bid"`` criterion can name.
BID_RULES: Final = ("present", "bands", "answer", "linear")
#: Breakdown keys besides criterion and dimension ids (a criterion may not use them as its id).
RESERVED_BREAKDOWN_KEYS: Final = (
    "technical_score", "evaluation_score", "price_score", "trial_score", "award_score", "acceptable",
)
#: The default share of the non-price points an LPTA bid needs, in percent.
DEFAULT_MIN_TECHNICAL: Final = 60.0

_CENT: Final = Decimal("0.01")
_BUILTIN_SCORING: Final = "rfpflow.builtins.scoring"
_AGE_FIELDS: Final = ("years_established", "company_age")


class EvaluationError(RfpflowError):
    """The evaluation cannot be computed; ``problems`` lists every reason.

    ``missing`` holds the judgement scores still to come, so the workflow can
    chase the evaluators concerned.
    """

    def __init__(self, message: str, problems: Iterable[Problem] = (),
                 missing: Iterable[MissingScore] = ()) -> None:
        super().__init__(message, problems)
        self.missing: tuple[MissingScore, ...] = tuple(missing)


# --------------------------------------------------------------------------
# records
# --------------------------------------------------------------------------


@attrs.frozen
class ScoreEntry:
    """One evaluator's score for one vendor on one judgement criterion.

    ``place`` says where it came from, e.g. ``"e1.xlsx: Scores!F7"``.
    """

    evaluator: str
    vendor: str
    criterion: str
    score: float
    comment: str = ""
    place: str = ""

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any], *, file: str | None = None) -> ScoreEntry:
        """Build an entry from a ``rfpflow_read_scores`` mapping (``cell`` becomes ``place``)."""
        cell = str(row.get("cell") or "")
        place = f"{file}: {cell}" if file and cell else (file or cell)
        return cls(
            evaluator=str(row["evaluator"]),
            vendor=str(row["vendor"]),
            criterion=str(row["criterion"]),
            score=float(row["score"]),
            comment=str(row.get("comment") or ""),
            place=place,
        )


def score_entries(rows: Iterable[Mapping[str, Any]], *, file: str | None = None) -> list[ScoreEntry]:
    """:meth:`ScoreEntry.from_mapping` for every row a score-sheet reader returned."""
    return [ScoreEntry.from_mapping(row, file=file) for row in rows]


@attrs.frozen
class MissingScore:
    """A judgement score the panel still owes."""

    evaluator: str
    vendor: str
    criterion: str


@attrs.frozen
class FlaggedScore:
    """A score flagged in the evaluation: an evaluator further than ``[scoring] outlier_threshold``
    from the panel's median on one vendor and criterion (:class:`rfpflow.scoring.Outlier` placed)."""

    evaluator: str
    vendor: str
    criterion: str
    score: float
    median: float
    distance: float


@attrs.frozen
class CriterionValue:
    """A vendor's value on one leaf criterion.

    ``value`` is what the points were computed from: the consensus score
    (judgement), the field's value (bid; 1/0 for ``present``), the total
    price (price) or the trial score (trial); ``None`` when missing.
    ``share`` (0..1) of ``max_points`` gives ``points`` (100-point scale).
    ``notes`` explain the value in words; ``evidence`` lists the places it
    was read from (score-sheet cells, bid cells).
    """

    vendor: str
    criterion: str
    source: str
    value: float | None
    share: float
    points: float
    max_points: float
    notes: tuple[str, ...] = attrs.field(default=(), converter=to_tuple)
    evidence: tuple[str, ...] = attrs.field(default=(), converter=to_tuple)


@attrs.frozen
class Matrix:
    """Every vendor's value on every leaf criterion (vendor-major order).

    ``points_factor`` turns an rfp.toml weight into points on the 100 scale.
    """

    vendors: tuple[str, ...] = attrs.field(converter=to_tuple)
    criteria: tuple[str, ...] = attrs.field(converter=to_tuple)
    values: tuple[CriterionValue, ...] = attrs.field(converter=to_tuple)
    points_factor: float = 1.0

    def __attrs_post_init__(self) -> None:
        if len(self.values) != len(self.vendors) * len(self.criteria):
            raise ValueError(f"a matrix of {len(self.vendors)} vendors x {len(self.criteria)} criteria "
                             f"needs {len(self.vendors) * len(self.criteria)} values, got {len(self.values)}")
        for n, v in enumerate(self.values):
            i, j = divmod(n, len(self.criteria))
            if (v.vendor, v.criterion) != (self.vendors[i], self.criteria[j]):
                raise ValueError(f"value {n} is for ({v.vendor}, {v.criterion}); expected "
                                 f"({self.vendors[i]}, {self.criteria[j]}) (vendor-major order)")

    def value(self, vendor: str, criterion: str) -> CriterionValue:
        """The value of one vendor on one criterion (KeyError if either is unknown)."""
        if vendor not in self.vendors or criterion not in self.criteria:
            raise KeyError((vendor, criterion))
        return self.values[self.vendors.index(vendor) * len(self.criteria) + self.criteria.index(criterion)]

    def row(self, vendor: str) -> tuple[CriterionValue, ...]:
        """One vendor's values, in criterion order."""
        i = self.vendors.index(vendor)
        m = len(self.criteria)
        return self.values[i * m:(i + 1) * m]

    def points(self, vendor: str) -> dict[str, float]:
        """Criterion id -> points for one vendor."""
        return {v.criterion: v.points for v in self.row(vendor)}

    def total(self, vendor: str) -> float:
        """The sum of a vendor's points (the weighted-sum total), in [0, 100]."""
        return _clamp(math.fsum(v.points for v in self.row(vendor)), 0.0, POINTS_SCALE)


@attrs.frozen
class WeightChange:
    """The smallest change of one criterion's weight that changes the winner.

    Weights are on the 100-point scale; the other weights are rescaled
    proportionally so they still add up to 100. ``new_weight``, ``delta``
    and ``new_leader`` are ``None`` when no weight changes the winner.
    """

    criterion: str
    name: str
    weight: float
    new_weight: float | None
    delta: float | None
    new_leader: str | None
    text: str


@attrs.frozen
class SensitivityReport:
    """Weight sensitivity of the ranking: the winner, one change per criterion, notes."""

    method: str
    winner: str | None
    changes: tuple[WeightChange, ...] = attrs.field(converter=to_tuple)
    notes: tuple[str, ...] = attrs.field(default=(), converter=to_tuple)


# --------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------


def _clamp(x: float, lo: float, hi: float) -> float:
    return min(hi, max(lo, x))


def _round2(x: float | Decimal) -> Decimal:
    """Half-up to 2 decimals of the shortest decimal form, as scoring.break_ties compares."""
    d = x if isinstance(x, Decimal) else Decimal(repr(float(x)))
    return d.quantize(_CENT, rounding=ROUND_HALF_UP)


def _f2(x: float | Decimal) -> str:
    return str(_round2(x))


def _num(x: float) -> str:
    """A weight or score as people write it: 7 not 7.0, 2.5, 0.333333."""
    return f"{x:.6g}" if abs(x) < 1e6 else f"{x:,.2f}"


def _money(value: Decimal | float, currency: str) -> str:
    return format_money(value, currency)


def _leaves(rfp: Rfp) -> tuple[Criterion, ...]:
    return rfp.leaf_criteria()


def _points_factor(rfp: Rfp) -> float:
    total = math.fsum(c.weight for c in _leaves(rfp))
    if not total > 0:
        raise EvaluationError(f"{rfp.source}: the criteria weights add up to {total:g}; nothing can be scored")
    return POINTS_SCALE / total


def _panel(rfp: Rfp, evaluators: Sequence[str] | None) -> tuple[str, ...]:
    return tuple(evaluators) if evaluators is not None else tuple(e.id for e in rfp.evaluators)


def _reference_date(rfp: Rfp, as_of: date | None) -> date | None:
    return as_of or rfp.timeline.contract_start or rfp.timeline.decision_date


def _vendor_label(vendor: str, names: Mapping[str, str]) -> str:
    name = names.get(vendor)
    return f"{name} ({vendor})" if name and name != vendor else vendor


def _names(bids: Iterable[Bid]) -> dict[str, str]:
    return {b.vendor_id: b.vendor_name for b in bids}


# --------------------------------------------------------------------------
# scores: validation, missing scores, outliers
# --------------------------------------------------------------------------


def missing_scores(rfp: Rfp, vendor_ids: Sequence[str], scores: Sequence[ScoreEntry], *,
                   evaluators: Sequence[str] | None = None) -> list[MissingScore]:
    """Every judgement score the panel still owes, by evaluator, vendor and criterion.

    The panel is ``evaluators`` (default: every ``[[evaluators]]`` entry).
    Sorted by evaluator, then vendor order, then criterion order.
    """
    have = {(s.evaluator, s.vendor, s.criterion) for s in scores}
    judged = [c.id for c in _leaves(rfp) if c.source.kind == "judgement"]
    return [
        MissingScore(e, v, c)
        for e in sorted(_panel(rfp, evaluators))
        for v in vendor_ids
        for c in judged
        if (e, v, c) not in have
    ]


def _missing_problems(rfp: Rfp, missing: Sequence[MissingScore]) -> list[Problem]:
    """One problem per evaluator and vendor, naming the criteria not scored."""
    names = {e.id: e.name for e in rfp.evaluators}
    grouped: dict[tuple[str, str], list[str]] = {}
    for m in missing:
        grouped.setdefault((m.evaluator, m.vendor), []).append(m.criterion)
    problems = []
    for (evaluator, vendor), criteria in grouped.items():
        who = _vendor_label(evaluator, names)
        problems.append(Problem(f"evaluator {who} has not scored vendor {vendor} on: {', '.join(criteria)}"))
    return problems


def _check_scores(rfp: Rfp, vendor_ids: Sequence[str], scores: Sequence[ScoreEntry],
                  panel: Sequence[str]) -> list[Problem]:
    leaves = {c.id: c for c in _leaves(rfp)}
    vendors = set(vendor_ids)
    problems: list[Problem] = []
    seen: dict[tuple[str, str, str], str] = {}
    for s in scores:
        where = s.place or None
        crit = leaves.get(s.criterion)
        if crit is None:
            problems.append(Problem(f"unknown criterion {s.criterion!r}", place=where))
        elif crit.source.kind != "judgement":
            problems.append(Problem(f"criterion {s.criterion!r} is scored from the {crit.source.kind}, "
                                    "not by evaluators", place=where))
        if s.vendor not in vendors:
            problems.append(Problem(f"vendor {s.vendor!r} has no bid in this evaluation "
                                    "(blind codes must be mapped back to vendor ids first)", place=where))
        if s.evaluator not in panel:
            problems.append(Problem(f"evaluator {s.evaluator!r} is not on the panel "
                                    f"({', '.join(panel) or 'no evaluators'})", place=where))
        if not math.isfinite(s.score):
            problems.append(Problem(f"score {s.score!r} is not a number", place=where))
        elif crit is not None and crit.source.kind == "judgement":
            lo, hi = crit.scale
            if not lo <= s.score <= hi:
                problems.append(Problem(f"score {_num(s.score)} of {s.evaluator} for {s.vendor} on "
                                        f"{s.criterion!r} is outside the scale {_num(lo)}-{_num(hi)}",
                                        place=where))
        key = (s.evaluator, s.vendor, s.criterion)
        if key in seen:
            problems.append(Problem(f"{s.evaluator} scored {s.vendor} on {s.criterion!r} twice "
                                    f"(also at {seen[key] or 'an earlier entry'})", place=where))
        else:
            seen[key] = s.place
    return problems


#: Outliers are looked for only where at least this many evaluators scored (a median of two is their midpoint).
MIN_OUTLIER_PANEL = 3


def outlier_review(rfp: Rfp, scores: Sequence[ScoreEntry]) -> list[FlaggedScore]:
    """Evaluators whose score lies further than ``outlier_threshold`` from the panel median.

    For each judgement criterion and vendor (criteria in definition order,
    vendors and evaluators sorted by id), via :func:`rfpflow.scoring.outliers`.
    """
    threshold = rfp.scoring.outlier_threshold
    cells: dict[tuple[str, str], dict[str, float]] = {}
    for s in scores:
        cells.setdefault((s.criterion, s.vendor), {})[s.evaluator] = s.score
    found: list[FlaggedScore] = []
    for crit in _leaves(rfp):
        if crit.source.kind != "judgement":
            continue
        for vendor in sorted({v for (c, v) in cells if c == crit.id}):
            by_evaluator = cells[(crit.id, vendor)]
            if len(by_evaluator) < MIN_OUTLIER_PANEL:
                continue  # with two, each is as far from the median as the other: neither is an outlier
            for o in scoring.outliers(by_evaluator, threshold):
                found.append(FlaggedScore(o.evaluator, vendor, crit.id, o.score, o.median, o.distance))
    return found


# --------------------------------------------------------------------------
# criterion values
# --------------------------------------------------------------------------


def criterion_values(
    rfp: Rfp,
    bids: Sequence[Bid],
    scores: Sequence[ScoreEntry],
    *,
    host: PluginHost,
    trial_scores: Mapping[str, float] | None = None,
    evaluators: Sequence[str] | None = None,
    as_of: date | None = None,
) -> Matrix:
    """Every vendor's value and points on every leaf criterion (see the module doc).

    ``bids`` are the vendors evaluated (their order is the matrix's vendor
    order); ``scores`` the panel's judgement scores with vendor ids (not
    blind codes); ``trial_scores`` vendor id -> trial score 0..100, needed
    when a criterion has ``source = "trial"``; ``evaluators`` the panel
    (default: every ``[[evaluators]]`` entry); ``as_of`` the date
    certificates and company age are judged at (default: ``contract_start``,
    then ``decision_date``).

    Raises :class:`EvaluationError` listing every problem at once: invalid
    score entries (unknown criterion, vendor or evaluator, outside the scale,
    twice), missing scores by evaluator and vendor, a trimmed mean with fewer
    than 3 scores, malformed bid rules, trial scores missing altogether.
    """
    factor = _points_factor(rfp)
    vendor_ids = [b.vendor_id for b in bids]
    duplicates = sorted({v for v in vendor_ids if vendor_ids.count(v) > 1})
    if duplicates:
        raise EvaluationError(f"vendor(s) {', '.join(duplicates)} have more than one bid in the evaluation")
    panel = _panel(rfp, evaluators)
    leaves = _leaves(rfp)
    reserved = [c.id for c in (*_dimensions(rfp), *leaves) if c.id in RESERVED_BREAKDOWN_KEYS]
    problems = [Problem(f"criterion id {r!r} is reserved for the ranking breakdown; rename the criterion")
                for r in reserved]
    problems += _check_scores(rfp, vendor_ids, scores, panel)
    missing = missing_scores(rfp, vendor_ids, scores, evaluators=panel)
    problems += _missing_problems(rfp, missing)
    for crit in leaves:
        if crit.source.kind == "bid":
            problems += _check_rule(crit)
        elif crit.source.kind == "trial" and trial_scores is None:
            problems.append(Problem(f"criterion {crit.id!r} is scored from the trial run, "
                                    "but no trial scores were given"))
    if trial_scores is not None:
        for vendor, value in sorted(trial_scores.items()):
            if not (isinstance(value, (int, float)) and math.isfinite(value) and 0 <= value <= 100):
                problems.append(Problem(f"trial score of {vendor} must be a number from 0 to 100, got {value!r}"))
    if rfp.scoring.consensus == "trimmed-mean" and (not missing or len(panel) < 3):
        problems += _trimmed_mean_problems(rfp, vendor_ids, scores)
    if problems:
        if missing:
            head = (f"{len(missing)} judgement score{'s are' if len(missing) != 1 else ' is'} missing; "
                    f"the evaluation cannot be computed ({len(problems)} problem{'s' if len(problems) != 1 else ''})")
        else:
            head = f"the evaluation cannot be computed: {len(problems)} problem{'s' if len(problems) != 1 else ''}"
        raise EvaluationError(head, problems, missing)

    by_cell: dict[tuple[str, str], list[ScoreEntry]] = {}
    for s in scores:
        by_cell.setdefault((s.criterion, s.vendor), []).append(s)
    ref = _reference_date(rfp, as_of)
    values: list[CriterionValue] = []
    quality = _quality_shares(rfp, leaves, bids, by_cell, trial_scores, factor, ref)
    price_points = {c.id: _price_points(rfp, c, bids, host, c.weight * factor, quality) for c in leaves
                    if c.source.kind == "price"}
    for bid in bids:
        for crit in leaves:
            max_points = crit.weight * factor
            kind = crit.source.kind
            if kind == "judgement":
                cell = sorted(by_cell.get((crit.id, bid.vendor_id), []), key=lambda s: s.evaluator)
                values.append(_judgement_value(rfp, crit, bid.vendor_id, cell, max_points))
            elif kind == "bid":
                values.append(_bid_value(rfp, crit, bid, max_points, ref))
            elif kind == "price":
                values.append(price_points[crit.id][bid.vendor_id])
            else:
                values.append(_trial_value(crit, bid.vendor_id, trial_scores or {}, max_points))
    return Matrix(tuple(vendor_ids), tuple(c.id for c in leaves), tuple(values), factor)


def _trimmed_mean_problems(rfp: Rfp, vendor_ids: Sequence[str], scores: Sequence[ScoreEntry]) -> list[Problem]:
    counts: dict[tuple[str, str], list[str]] = {}
    for s in scores:
        counts.setdefault((s.criterion, s.vendor), []).append(s.evaluator)
    problems = []
    for crit in _leaves(rfp):
        if crit.source.kind != "judgement":
            continue
        for vendor in vendor_ids:
            who = sorted(counts.get((crit.id, vendor), []))
            if len(who) < 3:
                problems.append(Problem(
                    f"criterion {crit.id!r} ({crit.name}), vendor {vendor}: the trimmed-mean consensus drops "
                    f"the highest and the lowest score and needs at least 3 scores, got {len(who)}"
                    f"{' (' + ', '.join(who) + ')' if who else ''}; use consensus = \"mean\" or \"median\" "
                    "or add evaluators"))
    return problems


def _judgement_value(rfp: Rfp, crit: Criterion, vendor: str, cell: Sequence[ScoreEntry],
                     max_points: float) -> CriterionValue:
    method = rfp.scoring.consensus
    try:
        agreed = scoring.consensus([s.score for s in cell], method)
    except ValueError as exc:  # unknown method; counts were checked before
        raise EvaluationError(f"criterion {crit.id!r}, vendor {vendor}: {exc}") from None
    lo, hi = crit.scale
    share = _clamp((agreed - lo) / (hi - lo), 0.0, 1.0)
    if crit.direction == "cost":
        share = 1.0 - share
    listed = ", ".join(f"{s.evaluator} {_num(s.score)}" for s in cell)
    notes = [f"{method} of {listed} = {_f2(agreed)} on {_num(lo)}-{_num(hi)}"]
    if crit.direction == "cost":
        notes.append("a cost criterion: a lower score earns more points")
    notes += [f"{s.evaluator}: {s.comment}" for s in cell if s.comment]
    evidence = tuple(s.place for s in cell if s.place)
    return CriterionValue(vendor, crit.id, "judgement", agreed, share, share * max_points, max_points,
                          tuple(notes), evidence)


def _trial_value(crit: Criterion, vendor: str, trial_scores: Mapping[str, float],
                 max_points: float) -> CriterionValue:
    value = trial_scores.get(vendor)
    if value is None:
        return CriterionValue(vendor, crit.id, "trial", None, 0.0, 0.0, max_points,
                              ("no trial-run score for this vendor: 0 points",))
    share = _clamp(float(value) / 100.0, 0.0, 1.0)
    return CriterionValue(vendor, crit.id, "trial", float(value), share, share * max_points, max_points,
                          (f"trial-run score {_f2(value)} of 100",))


def _price_method(rfp: Rfp, host: PluginHost) -> ScoringMethod:
    methods = host.scoring_methods()
    method = methods.get(rfp.scoring.price_formula)
    if method is None or method.kind != "price":
        available = [n for n in methods.names() if methods[n].kind == "price"]
        raise EvaluationError(f"unknown price formula {rfp.scoring.price_formula!r}; "
                              f"available: {', '.join(available) or 'none'}")
    return method


def _call_price_formula(rfp: Rfp, host: PluginHost, prices: Sequence[float], max_points: float,
                        quality: Sequence[float] | None = None) -> list[float]:
    """The price formula's points, called through the plugin host (time limit, plugin named);
    the formula gets ``options``, ``rfp`` and ``quality`` too when it names them (hook API 1.2)."""
    method = _price_method(rfp, host)
    try:
        return _price_formula_points(rfp, host, method, prices, max_points, quality)
    except ValueError as exc:
        raise EvaluationError(f"price formula {method.name!r}: {exc}") from None


def _price_formula_points(rfp: Rfp, host: PluginHost, method: ScoringMethod, prices: Sequence[float],
                          max_points: float, quality: Sequence[float] | None) -> list[float]:
    extras = formula_extras(method.function, options=rfp.scoring.options, rfp=rfp,
                            quality=list(quality) if quality is not None else [0.0] * len(prices))
    result = host.supplied(host.scoring_methods(), method.name, f"price formula {method.name!r}", method.function,
                           list(prices), max_points=max_points, passthrough=(ValueError,), **extras)
    try:
        points = list(result)
    except TypeError:
        points = [result]
    if len(points) != len(prices) or not all(
        isinstance(p, (int, float)) and not isinstance(p, bool) and math.isfinite(p) for p in points
    ):
        supplier = host.scoring_methods().suppliers.get(method.name, "unknown")
        raise PluginError(f"plugin {supplier!r}: price formula {method.name!r} returned {points!r} for "
                          f"{len(prices)} prices; expected one finite number per price")
    return [_clamp(float(p), 0.0, max_points) for p in points]


def _price_evidence(bid: Bid) -> tuple[str, ...]:
    return tuple(f"{bid.source_file}: {line.cell}" for line in bid.prices if line.cell)


def _quality_shares(rfp: Rfp, leaves: Sequence[Criterion], bids: Sequence[Bid],
                    by_cell: Mapping[tuple[str, str], list[ScoreEntry]], trial_scores: Mapping[str, float] | None,
                    factor: float, ref: Any) -> Callable[[], dict[str, float]]:
    """Each vendor's non-price points as a percentage of the non-price maximum, for a price
    formula that asks for ``quality`` -- computed only if one does."""

    def compute() -> dict[str, float]:
        out: dict[str, float] = {}
        for bid in bids:
            points = maximum = 0.0
            for crit in leaves:
                kind, max_points = crit.source.kind, crit.weight * factor
                if kind == "price":
                    continue
                if kind == "judgement":
                    cell = sorted(by_cell.get((crit.id, bid.vendor_id), []), key=lambda s: s.evaluator)
                    value = _judgement_value(rfp, crit, bid.vendor_id, cell, max_points)
                elif kind == "bid":
                    value = _bid_value(rfp, crit, bid, max_points, ref)
                else:
                    value = _trial_value(crit, bid.vendor_id, trial_scores or {}, max_points)
                points += value.points
                maximum += value.max_points
            out[bid.vendor_id] = points / maximum * 100 if maximum > 0 else 0.0
        return out

    return compute


def _price_points(rfp: Rfp, crit: Criterion, bids: Sequence[Bid], host: PluginHost,
                  max_points: float, quality: Callable[[], dict[str, float]] | None = None
                  ) -> dict[str, CriterionValue]:
    priced = [b for b in bids if b.total_price > 0]
    method = _price_method(rfp, host)
    scores: list[float] | None = None
    if quality is not None and "quality" in formula_wants(method.function):
        shares = quality()
        scores = [shares.get(b.vendor_id, 0.0) for b in priced]
    points = _call_price_formula(rfp, host, [float(b.total_price) for b in priced], max_points, scores)
    lowest = min((b.total_price for b in priced), default=None)
    out: dict[str, CriterionValue] = {}
    for bid, pts in zip(priced, points, strict=True):
        share = pts / max_points if max_points > 0 else 0.0
        note = (f"total price {_money(bid.total_price, rfp.currency)} (lowest {_money(lowest or 0, rfp.currency)}); "
                f"{rfp.scoring.price_formula} gives {_f2(pts)} of {_f2(max_points)} points")
        out[bid.vendor_id] = CriterionValue(bid.vendor_id, crit.id, "price", float(bid.total_price), share,
                                            pts, max_points, (note,), _price_evidence(bid))
    for bid in bids:
        if bid.vendor_id not in out:
            out[bid.vendor_id] = CriterionValue(bid.vendor_id, crit.id, "price", None, 0.0, 0.0, max_points,
                                                ("no total price in the bid: 0 points",))
    return out


# --------------------------------------------------------------------------
# bid rules
# --------------------------------------------------------------------------


def _is_number(x: object) -> bool:
    return isinstance(x, (int, float, Decimal)) and not isinstance(x, bool) and math.isfinite(float(x))


def _check_rule(crit: Criterion) -> list[Problem]:
    """Problems with a bid criterion's rule and params (checked once, before any vendor)."""
    rule, params = crit.source.rule, crit.source.params
    where = f"criteria {crit.id!r}"
    if rule not in BID_RULES:
        return [Problem(f"{where}: unknown bid rule {rule!r}; rfpflow knows {', '.join(BID_RULES)}")]
    problems: list[Problem] = []
    lo, hi = crit.scale
    if rule == "present":
        any_of = params.get("any_of")
        if any_of is not None and (not isinstance(any_of, (list, tuple)) or not any_of
                                   or not all(isinstance(n, str) and n.strip() for n in any_of)):
            problems.append(Problem(f"{where}: params.any_of must be a list of certification names, got {any_of!r}"))
    elif rule == "bands":
        bands = params.get("bands")
        if not isinstance(bands, (list, tuple)) or not bands:
            return [Problem(f"{where}: params.bands must be a list of [threshold, score] pairs, got {bands!r}")]
        thresholds: list[float] = []
        for n, band in enumerate(bands, start=1):
            if not (isinstance(band, (list, tuple)) and len(band) == 2 and all(_is_number(x) for x in band)):
                problems.append(Problem(f"{where}: params.bands[{n}] must be [threshold, score], got {band!r}"))
                continue
            threshold, score = float(band[0]), float(band[1])
            if not lo <= score <= hi:
                problems.append(Problem(f"{where}: params.bands[{n}] gives the score {_num(score)}, outside the "
                                        f"criterion's scale {_num(lo)}-{_num(hi)}"))
            if thresholds and threshold <= thresholds[-1]:
                problems.append(Problem(f"{where}: params.bands thresholds must increase; {_num(threshold)} "
                                        f"follows {_num(thresholds[-1])}"))
            thresholds.append(threshold)
    elif rule == "answer":
        points = params.get("points")
        if not isinstance(points, Mapping) or not points:
            return [Problem(f"{where}: params.points must be a table of answer = share of the weight "
                            f"(e.g. {{ Yes = 1.0, Partly = 0.5, No = 0 }}), got {points!r}")]
        for answer, share in points.items():
            if not (_is_number(share) and 0 <= float(share) <= 1):
                problems.append(Problem(f"{where}: params.points.{answer} must be a share from 0 to 1, "
                                        f"got {share!r}"))
    else:  # linear
        low, high = params.get("min"), params.get("max")
        if not (_is_number(low) and _is_number(high)):
            problems.append(Problem(f"{where}: the linear rule needs params.min and params.max numbers, "
                                    f"got min={low!r}, max={high!r}"))
        elif float(low) >= float(high):  # type: ignore[arg-type]  # checked by _is_number
            problems.append(Problem(f"{where}: params.min ({low}) must be below params.max ({high}); "
                                    "use direction = \"cost\" to reverse"))
    return problems


def _tokens(name: str) -> set[str]:
    return set(re.findall(r"[A-Z]+|\d+", name.upper()))


def _bid_value(rfp: Rfp, crit: Criterion, bid: Bid, max_points: float, ref: date | None) -> CriterionValue:
    rule = crit.source.rule
    value: float | None
    if rule == "present":
        value, share, notes, evidence = _rule_present(crit, bid, ref)
    elif rule == "answer":
        value, share, notes, evidence = _rule_answer(crit, bid)
    else:
        number, notes, evidence = _bid_number(rfp, crit, bid, ref)
        if number is None:
            value, share = None, 0.0
        elif rule == "bands":
            value, share, band_note = number, *_rule_bands(crit, number)
            notes = [*notes, band_note]
        else:
            value, share, linear_note = number, *_rule_linear(crit, number)
            notes = [*notes, linear_note]
    share = _clamp(share, 0.0, 1.0)
    return CriterionValue(bid.vendor_id, crit.id, "bid", value, share, share * max_points, max_points,
                          tuple(notes), tuple(evidence))


def _rule_present(crit: Criterion, bid: Bid, ref: date | None) -> tuple[float, float, list[str], list[str]]:
    any_of = crit.source.params.get("any_of")
    if any_of:
        wanted = [str(n) for n in any_of]
        expired: list[str] = []
        for cert in bid.certifications:
            if not any(_tokens(name) <= _tokens(cert.name) for name in wanted):
                continue
            where = [f"{bid.source_file}: {cert.evidence}"] if cert.evidence else []
            if ref is not None and cert.expires is not None and cert.expires < ref:
                expired.append(f"{cert.name} expires {cert.expires.isoformat()}, before {ref.isoformat()} "
                               "(counts as missing)")
                continue
            until = f", valid until {cert.expires.isoformat()}" if cert.expires else ""
            notes = [f"{cert.name} declared{until}: full points"]
            if ref is None and cert.expires is not None:
                notes.append("validity not checked: rfp.toml has no contract_start")
            return 1.0, 1.0, notes, where
        if expired:
            return 0.0, 0.0, [*expired, "0 points"], []
        return 0.0, 0.0, [f"none of {', '.join(wanted)} declared: 0 points"], []
    field = crit.source.field or ""
    raw = bid.fields.get(field)
    answer = bid.answer(field)
    given = raw if raw is not None else (answer.answer if answer is not None else None)
    cell = bid.cells.get(field) or (answer.cell if answer is not None else None)
    evidence = [f"{bid.source_file}: {cell}"] if cell else []
    if given is None or (isinstance(given, str) and is_blank(given)):
        return 0.0, 0.0, [f"{field} not given: 0 points"], evidence
    return 1.0, 1.0, [f"{field} given: full points"], evidence


def _rule_answer(crit: Criterion, bid: Bid) -> tuple[float | None, float, list[str], list[str]]:
    field = crit.source.field or ""
    points: Mapping[str, Any] = crit.source.params["points"]
    answer = bid.answer(field)
    text = answer.answer if answer is not None else bid.fields.get(field)
    cell = answer.cell if answer is not None else bid.cells.get(field)
    evidence = [f"{bid.source_file}: {cell}"] if cell else []
    if text is None or (isinstance(text, str) and is_blank(text)):
        return None, 0.0, [f"{field} not answered: 0 points"], evidence
    said = str(text).strip()
    share = points.get(said)
    if share is None:
        folded = {str(k).strip().casefold(): v for k, v in points.items()}
        share = folded.get(said.casefold())
    if share is None:
        return None, 0.0, [f"{field} answered {said!r}, which params.points does not list: 0 points"], evidence
    return float(share), float(share), [f"{field} answered {said!r}: {_num(float(share) * 100)} % of the weight"], \
        evidence


def _bid_number(rfp: Rfp, crit: Criterion, bid: Bid, ref: date | None) -> tuple[float | None, list[str], list[str]]:
    """A bid field or answer as a number, with notes and evidence (None when missing)."""
    field = crit.source.field or ""
    raw: Any = bid.fields.get(field)
    cell = bid.cells.get(field)
    if raw is None and field in _AGE_FIELDS and "year_established" in bid.fields:
        year = bid.fields["year_established"]
        cell = bid.cells.get("year_established")
        evidence = [f"{bid.source_file}: {cell}"] if cell else []
        if not _is_number(year):
            return None, [f"year established {year!r} is not a year: 0 points"], evidence
        if ref is None:
            return None, ["company age unknown: rfp.toml has no contract_start: 0 points"], evidence
        age = float(ref.year - int(year))
        return age, [f"established {int(year)}: {_num(age)} years at {ref.isoformat()}"], evidence
    if raw is None:
        answer = bid.answer(field)
        if answer is not None:
            raw, cell = answer.answer, answer.cell
    evidence = [f"{bid.source_file}: {cell}"] if cell else []
    if raw is None or (isinstance(raw, str) and is_blank(raw)):
        return None, [f"{field} not given: 0 points"], evidence
    if _is_number(raw):
        return float(raw), [f"{field} = {_num(float(raw))}"], evidence
    if isinstance(raw, str):
        try:
            number = parse_number(raw, field, decimal_comma=rfp.decimal_comma)
        except CellValueError as exc:
            return None, [f"{exc}: 0 points"], evidence
        return float(number), [f"{field} = {_num(float(number))}"], evidence
    return None, [f"{field} {raw!r} is not a number: 0 points"], evidence


def _rule_bands(crit: Criterion, value: float) -> tuple[float, str]:
    lo, hi = crit.scale
    bands = [(float(t), float(s)) for t, s in crit.source.params["bands"]]
    if crit.direction == "cost":
        chosen = next(((t, s) for t, s in bands if value <= t), None)
        relation = "<="
    else:
        chosen = next(((t, s) for t, s in reversed(bands) if value >= t), None)
        relation = ">="
    if chosen is None:
        return 0.0, f"outside every band: {_num(lo)} on {_num(lo)}-{_num(hi)}"
    threshold, score = chosen
    share = (score - lo) / (hi - lo)
    return share, f"band {relation} {_num(threshold)}: {_num(score)} on {_num(lo)}-{_num(hi)}"


def _rule_linear(crit: Criterion, value: float) -> tuple[float, str]:
    low, high = float(crit.source.params["min"]), float(crit.source.params["max"])
    share = _clamp((value - low) / (high - low), 0.0, 1.0)
    if crit.direction == "cost":
        share = 1.0 - share
    return share, f"linear between {_num(low)} and {_num(high)}: {_num(share * 100)} % of the weight"


# --------------------------------------------------------------------------
# ranking
# --------------------------------------------------------------------------


def lowest_price_technically_acceptable(
    matrix: Sequence[Sequence[float]],
    weights: Sequence[float],
    directions: Sequence[str],
    normalization: str = "min-max",
    *,
    prices: Sequence[float | None],
    acceptable: Sequence[bool],
) -> scoring.RankResult:
    """The ``lpta`` ranking method: lowest price among technically acceptable bids (FAR 15.101-2).

    Called like any ranking method (``matrix``, ``weights``, ``directions``
    and ``normalization`` are accepted for the common signature and not
    used) plus two keywords per vendor: ``prices`` (a positive total, or
    ``None``) and ``acceptable`` (passed the technical threshold).
    An acceptable bid with a price scores lowest acceptable price / its
    price (1 for the lowest); every other bid scores 0. Ranks are
    competition ranks (equal prices share a rank).

    >>> r = lowest_price_technically_acceptable([[1], [1], [1]], [1], ["benefit"],
    ...                                         prices=[120, 100, 90], acceptable=[True, True, False])
    >>> [round(s, 4) for s in r.scores], r.ranks
    ([0.8333, 1.0, 0.0], (2, 1, 3))
    """
    if len(prices) != len(acceptable):
        raise ValueError(f"prices has {len(prices)} entries but acceptable has {len(acceptable)}")
    bad = [f"entry {i} is {p!r}" for i, p in enumerate(prices)
           if p is not None and not (_is_number(p) and float(p) > 0)]
    if bad:
        raise ValueError("prices must be positive numbers or None: " + ", ".join(bad))
    valid = [float(p) for p, ok in zip(prices, acceptable, strict=True) if ok and p is not None]
    lowest = min(valid, default=None)
    scores = tuple(
        lowest / float(p) if ok and p is not None and lowest is not None else 0.0
        for p, ok in zip(prices, acceptable, strict=True)
    )
    keys = [round(s, 12) for s in scores]
    ranks = tuple(1 + sum(1 for other in keys if other > k) for k in keys)
    total = math.fsum(float(w) for w in weights)
    used = tuple(float(w) / total for w in weights) if total > 0 else tuple(float(w) for w in weights)
    return scoring.RankResult(scores, ranks, used, "lpta", "none")


def _raw_matrix(rfp: Rfp, matrix: Matrix) -> tuple[list[list[float]], list[float], list[str]]:
    """Raw criterion values, weights and directions for a ranking method other than the points sum."""
    leaves = {c.id: c for c in _leaves(rfp)}
    problems: list[Problem] = []
    rows: list[list[float]] = []
    for vendor in matrix.vendors:
        row: list[float] = []
        for v in matrix.row(vendor):
            if v.source in ("judgement", "price") and v.value is None:
                problems.append(Problem(f"{vendor} has no {v.source} value on {v.criterion!r}"))
                row.append(0.0)
            elif v.source in ("judgement", "price"):
                row.append(float(v.value or 0.0))
            elif v.source == "trial":
                row.append(float(v.value) if v.value is not None else 0.0)
            else:  # bid rules: the share, already turned the right way
                row.append(v.share)
        rows.append(row)
    if problems:
        raise EvaluationError(f"method {rfp.scoring.method!r} needs a value for every vendor and criterion",
                              problems)
    weights = [leaves[c].weight for c in matrix.criteria]
    directions = [
        "cost" if leaves[c].source.kind == "price"
        else (leaves[c].direction if leaves[c].source.kind == "judgement" else "benefit")
        for c in matrix.criteria
    ]
    return rows, weights, directions


def _normalization(rfp: Rfp) -> str:
    norm = rfp.scoring.normalization
    if norm == "vector":
        # rfp.toml accepts "vector" (what TOPSIS always uses); scoring.rank only knows the
        # weighted-sum normalisations and ignores the choice for TOPSIS.
        return "min-max"
    return norm


def _technical(rfp: Rfp, matrix: Matrix, vendor: str) -> tuple[float, float]:
    """(non-price points, non-price maximum) of one vendor."""
    values = [v for v in matrix.row(vendor) if v.source != "price"]
    return math.fsum(v.points for v in values), math.fsum(v.max_points for v in values)


def _method_totals(rfp: Rfp, matrix: Matrix, prices: Mapping[str, Decimal | None], host: PluginHost,
                   notes: list[str]) -> tuple[dict[str, float], dict[str, bool]]:
    """Evaluation totals on the 100 scale per vendor, and LPTA acceptability (empty otherwise)."""
    name = rfp.scoring.method
    methods = host.scoring_methods()
    method = methods.get(name)
    if method is None or method.kind != "ranking":
        available = [n for n in methods.names() if methods[n].kind == "ranking"]
        hint = " (lpta must be registered as a ranking method)" if name == "lpta" else ""
        raise EvaluationError(f"unknown ranking method {name!r}{hint}; available: {', '.join(available) or 'none'}")
    if name == "weighted-sum" and methods.suppliers.get(name) == _BUILTIN_SCORING:
        notes.append("weighted sum: each total is the sum of the criterion points on the 100-point scale")
        return {v: matrix.total(v) for v in matrix.vendors}, {}
    if name == "lpta":  # LPTA ranks by price; the shares are passed for the common signature
        leaves = {c.id: c for c in _leaves(rfp)}
        rows = [[v.share for v in matrix.row(vendor)] for vendor in matrix.vendors]
        weights = [leaves[c].weight for c in matrix.criteria]
        directions = ["benefit"] * len(matrix.criteria)
    else:
        rows, weights, directions = _raw_matrix(rfp, matrix)
    extra: dict[str, Any] = {}
    acceptable: dict[str, bool] = {}
    if name == "lpta":
        threshold = rfp.scoring.options.get("min_technical", DEFAULT_MIN_TECHNICAL)
        if not (_is_number(threshold) and 0 <= float(threshold) <= 100):
            raise EvaluationError(f"[scoring.options] min_technical must be a percentage from 0 to 100, "
                                  f"got {threshold!r}")
        for vendor in matrix.vendors:
            points, maximum = _technical(rfp, matrix, vendor)
            percent = points / maximum * 100 if maximum > 0 else 100.0
            acceptable[vendor] = _round2(percent) >= _round2(float(threshold))
            verdict = "technically acceptable" if acceptable[vendor] else "not technically acceptable"
            notes.append(f"{vendor}: technical {_f2(percent)} % of the non-price points "
                         f"(needs {_f2(float(threshold))} %): {verdict}")
        extra = {
            "prices": [float(p) if (p := prices.get(v)) is not None else None for v in matrix.vendors],
            "acceptable": [acceptable[v] for v in matrix.vendors],
        }
        notes.append("lowest price technically acceptable: acceptable bids score lowest acceptable price / "
                     "price x 100, the others 0")
    else:
        notes.append(f"{name}: each total is the method's score (0 to 1) x 100; criterion points are shown "
                     "for reference")
    try:
        result = host.supplied(methods, name, f"ranking method {name!r}", method.function, rows, weights,
                               directions, _normalization(rfp), passthrough=(ValueError,), **extra)
    except ValueError as exc:
        raise EvaluationError(f"ranking method {name!r}: {exc}") from None
    raw_scores = list(getattr(result, "scores", ()))
    if len(raw_scores) != len(matrix.vendors) or not all(
        _is_number(s) and 0 <= float(s) <= 1 for s in raw_scores
    ):
        raise PluginError(f"ranking method {name!r} returned scores {raw_scores!r}; "
                          f"expected {len(matrix.vendors)} numbers from 0 to 1")
    return {v: float(s) * POINTS_SCALE for v, s in zip(matrix.vendors, raw_scores, strict=True)}, acceptable


def _dimensions(rfp: Rfp) -> list[Criterion]:
    out: list[Criterion] = []

    def walk(c: Criterion) -> None:
        if c.children:
            out.append(c)
            for child in c.children:
                walk(child)

    for c in rfp.criteria:
        walk(c)
    return out


def rank_vendors(
    rfp: Rfp,
    matrix: Matrix,
    bids: Sequence[Bid],
    *,
    host: PluginHost,
    submitted_at: Mapping[str, datetime],
    trial_scores: Mapping[str, float] | None = None,
    award: bool = False,
) -> Ranking:
    """Rank the vendors of ``matrix`` by ``[scoring] method``; with ``award`` by the award combination.

    ``total_score`` is on the 100-point scale (see the module doc). The
    breakdown holds every criterion's points, every dimension's (a criterion
    with sub-criteria) points, ``technical_score`` (the points of the
    non-price criteria), and with ``award`` and ``[scoring] award`` weights
    ``evaluation_score``, ``price_score`` (the price formula with 100 points),
    ``trial_score`` and ``award_score``; with LPTA ``acceptable`` (1 or 0).

    The award score is ``evaluation x w_evaluation + price score x w_price +
    trial score x w_trial``; without award weights it is the evaluation
    total. Ties are broken by ``[scoring] tie_break`` through
    :func:`rfpflow.scoring.break_ties` (scores compared at 2 decimals) and
    explained in ``notes``; ``tied_groups`` lists vendors equal on rounded
    score and price (Order 87 ties). ``rank`` is the position (1, 2, 3, ...)
    after the tie-break. ``submitted_at`` (vendor id -> when the bid arrived)
    serves the ``submitted_at`` key; a vendor without it sorts last there.
    """
    by_vendor = {b.vendor_id: b for b in bids}
    absent = [v for v in matrix.vendors if v not in by_vendor]
    if absent:
        raise EvaluationError(f"no bid given for vendor(s) {', '.join(absent)} of the matrix")
    names = _names(bids)
    prices: dict[str, Decimal | None] = {
        v: (by_vendor[v].total_price if by_vendor[v].total_price > 0 else None) for v in matrix.vendors
    }
    notes: list[str] = []
    totals, acceptable = _method_totals(rfp, matrix, prices, host, notes)

    breakdowns: dict[str, dict[str, float]] = {}
    technical: dict[str, float] = {}
    leaves_by_id = {c.id: c for c in _leaves(rfp)}
    for vendor in matrix.vendors:
        points = matrix.points(vendor)
        breakdown: dict[str, float] = dict(points)
        for dim in _dimensions(rfp):
            breakdown[dim.id] = math.fsum(points[leaf.id] for leaf in dim.leaves() if leaf.id in points)
        technical[vendor] = math.fsum(p for c, p in points.items() if leaves_by_id[c].source.kind != "price")
        breakdown["technical_score"] = technical[vendor]
        if acceptable:
            breakdown["acceptable"] = 1.0 if acceptable[vendor] else 0.0
        breakdowns[vendor] = breakdown

    weights = rfp.scoring.award_weights
    final = dict(totals)
    if award and weights:
        final = _award_scores(rfp, matrix, totals, prices, host, trial_scores, breakdowns, notes)
    elif award:
        notes.insert(0, "award: no [scoring] award weights, so the award follows the evaluation total")

    trial = dict(trial_scores) if trial_scores is not None else {}
    candidates: list[dict[str, object]] = []
    for vendor in matrix.vendors:
        candidate: dict[str, object] = {
            "vendor": vendor,
            "total_score": final[vendor],
            "price": prices[vendor],
            "technical_score": technical[vendor],
            "submitted_at": submitted_at.get(vendor),
        }
        if vendor in trial:
            candidate["trial_score"] = float(trial[vendor])
        candidates.append(candidate)
    try:
        order = scoring.break_ties(candidates, tuple(rfp.scoring.tie_break))
        groups = scoring.tied_groups(candidates)
    except ValueError as exc:
        raise EvaluationError(f"the tie-break could not be applied: {exc}") from None

    by_id = {str(c["vendor"]): c for c in candidates}
    notes += _tie_notes(rfp, order, by_id, names)
    for group in groups:
        labels = ", ".join(_vendor_label(v, names) for v in group)
        price = prices[group[0]]
        price_text = _money(price, rfp.currency) if price is not None else "no price"
        notes.append(f"tied (equal score {_f2(final[group[0]])} "
                     f"and equal price {price_text}): {labels}; the order shown follows the tie-break rule "
                     f"({', '.join(rfp.scoring.tie_break)}) as the tender documents declare")
    entries = [
        RankedVendor(vendor, n, final[vendor], prices[vendor], breakdowns[vendor])
        for n, vendor in enumerate(order, start=1)
    ]
    return Ranking(rfp.scoring.method, tuple(entries), groups, tuple(notes))


def _award_scores(rfp: Rfp, matrix: Matrix, totals: Mapping[str, float], prices: Mapping[str, Decimal | None],
                  host: PluginHost, trial_scores: Mapping[str, float] | None,
                  breakdowns: dict[str, dict[str, float]], notes: list[str]) -> dict[str, float]:
    weights = rfp.scoring.award_weights
    w_e, w_p, w_t = (float(weights.get(k, 0.0)) for k in ("evaluation", "price", "trial"))
    priced = [v for v in matrix.vendors if prices[v] is not None]
    price_points: dict[str, float] = {}
    if w_p:
        points = _call_price_formula(rfp, host, [float(prices[v] or 0) for v in priced], POINTS_SCALE,
                                     [float(totals.get(v, 0.0)) for v in priced])
        price_points = dict(zip(priced, points, strict=True))
    if w_t and trial_scores is None:
        raise EvaluationError("the award gives weight to the trial run, but no trial scores were given")
    trial = trial_scores or {}
    final: dict[str, float] = {}
    for vendor in matrix.vendors:
        p = price_points.get(vendor, 0.0)
        t = float(trial.get(vendor, 0.0))
        if w_p and vendor not in price_points:
            notes.append(f"{vendor}: no total price, price score 0")
        if w_t and vendor not in trial:
            notes.append(f"{vendor}: no trial-run score, trial score 0")
        score = _clamp(math.fsum([totals[vendor] * w_e, p * w_p, t * w_t]), 0.0, POINTS_SCALE)
        breakdowns[vendor].update(evaluation_score=totals[vendor], price_score=p, trial_score=t, award_score=score)
        final[vendor] = score
    parts = [f"evaluation x {_num(w_e)}"]
    if w_p:
        parts.append(f"price score ({rfp.scoring.price_formula}, 100 points) x {_num(w_p)}")
    if w_t:
        parts.append(f"trial score x {_num(w_t)}")
    notes.insert(0, "award score = " + " + ".join(parts))
    if w_p and any(c.source.kind == "price" for c in _leaves(rfp)):
        notes.insert(1, "note: price counts twice, as a criterion of the evaluation and in the award weights")
    return final


def _tie_value(key: str, candidate: Mapping[str, object]) -> object:
    raw = candidate.get(key)
    if raw is None:
        return None
    if key in ("total_score", "technical_score", "trial_score"):
        return _round2(float(raw))  # type: ignore[arg-type]
    return raw


def _tie_text(key: str, value: object, currency: str) -> str:
    if value is None:
        return "none"
    if key == "price" and isinstance(value, Decimal):
        return _money(value, currency)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


_KEY_WORDS: Final = {
    "total_score": "total score", "price": "price", "technical_score": "technical score",
    "trial_score": "trial score", "submitted_at": "submission time", "vendor": "vendor id",
}


def _tie_notes(rfp: Rfp, order: Sequence[str], by_id: Mapping[str, Mapping[str, object]],
               names: Mapping[str, str]) -> list[str]:
    """Sentences for every pair of neighbours separated by a later key of the tie-break rule."""
    rule = list(rfp.scoring.tie_break)
    if "vendor" not in rule:
        rule.append("vendor")
    notes = []
    for a, b in itertools.pairwise(order):
        ca, cb = by_id[a], by_id[b]
        for n, key in enumerate(rule):
            va, vb = _tie_value(key, ca), _tie_value(key, cb)
            if va == vb:
                continue
            if n == 0:
                break
            level = "; ".join(f"{_KEY_WORDS[k]} {_tie_text(k, _tie_value(k, ca), rfp.currency)}" for k in rule[:n])
            la, lb = _vendor_label(a, names), _vendor_label(b, names)
            if key == "vendor":
                notes.append(f"{la} and {lb} are level on {level}: no tie-break key separates them, so {la} "
                             "is listed first by vendor id only; the tender documents must decide")
            else:
                notes.append(f"{la} and {lb} are level on {level}; {la} ranks ahead on {_KEY_WORDS[key]} "
                             f"({_tie_text(key, va, rfp.currency)} against {_tie_text(key, vb, rfp.currency)})")
            break
    return notes


# --------------------------------------------------------------------------
# sensitivity
# --------------------------------------------------------------------------


def sensitivity_report(rfp: Rfp, matrix: Matrix, *, bids: Sequence[Bid] = (),
                       ranking: Ranking | None = None) -> SensitivityReport:
    """For the top vendor, per leaf criterion, the smallest weight change that changes the winner.

    One criterion's weight moves and the others are rescaled proportionally
    so they still add up to 100 (:func:`rfpflow.scoring.sensitivity`).
    For ``weighted-sum`` the model is the points sum of :func:`rank_vendors`
    (each criterion's share x its weight); for ``topsis`` it is TOPSIS on the
    raw values. Other methods (LPTA ranks by price) get no weight analysis.
    ``ranking`` (the evaluation ranking) names the winner to analyse; when it
    was decided by the tie-break alone a note says so. ``bids`` give names.

    The crossing is computed on exact scores: within 0.005 points of it the
    totals are equal at 2 decimals and the tie-break rule decides, so the
    order can change a hair before the weight reported.
    """
    names = _names(bids)
    method = rfp.scoring.method
    leaves = {c.id: c for c in _leaves(rfp)}
    if method not in scoring.RANK_METHODS:
        return SensitivityReport(method, ranking.top.vendor_id if ranking and ranking.top else None, (),
                                 (f"weight sensitivity is computed for weighted-sum and topsis, not {method!r}",))
    if len(matrix.vendors) < 2:
        return SensitivityReport(method, matrix.vendors[0] if matrix.vendors else None, (),
                                 ("fewer than two vendors: no weight can change the winner",))
    vendors = list(matrix.vendors)
    top = ranking.top.vendor_id if ranking is not None and ranking.top is not None else None
    if top in vendors:
        vendors.remove(top)
        vendors.insert(0, top)  # an exact tie then favours the ranking's winner
    weights = [leaves[c].weight for c in matrix.criteria]
    total_weight = math.fsum(weights) * matrix.points_factor
    notes: list[str] = []
    ranges: list[float]
    if method == "weighted-sum":
        rows = [[matrix.value(v, c).share for c in matrix.criteria] for v in vendors]
        ranges = [max(col) - min(col) for col in zip(*rows, strict=True)]
        scaled = [w * r for w, r in zip(weights, ranges, strict=True)]
        if not any(scaled):
            winner = vendors[0]
            return SensitivityReport(method, winner, (), ("every vendor has the same points on every criterion: "
                                                          "no weight separates them",))
        # min-max normalisation divides column j by its range; weighting it by w_j x range_j
        # makes scoring.rank's weighted sum the points sum minus a constant, the same ranking.
        result = scoring.sensitivity(rows, scaled, ["benefit"] * len(weights), normalization="min-max",
                                     method="weighted-sum")
    else:
        raw, _, directions = _raw_matrix(rfp, matrix)
        index = {v: i for i, v in enumerate(matrix.vendors)}
        rows = [raw[index[v]] for v in vendors]
        ranges = []  # TOPSIS weights are used as they are
        result = scoring.sensitivity(rows, weights, directions, normalization=_normalization(rfp), method="topsis")
    winner = vendors[result.winner]
    if top is not None and winner != top:
        notes.append(f"{_vendor_label(top, names)} leads the ranking only through the tie-break rule; "
                     f"on scores alone {_vendor_label(winner, names)} is level or ahead")
    changes = []
    base = sum(weights)
    for j, item in enumerate(result.criteria):
        crit = leaves[matrix.criteria[j]]
        current = weights[j] / base * total_weight
        new_share: float | None = None
        if item.delta is not None and item.new_weight is not None:
            scaled_back = method == "weighted-sum"
            new_share = _unscale(item.new_weight, j, weights, ranges) if scaled_back else item.new_weight
        if new_share is None or item.new_winner is None:
            text = (f"{crit.id}: no weight between 0 and {_num(total_weight)} changes the winner "
                    f"(now {current:.1f})")
            changes.append(WeightChange(crit.id, crit.name, current, None, None, None, text))
            continue
        new = new_share * total_weight
        delta = new - current
        leader = vendors[item.new_winner]
        verb = "rises" if delta > 0 else "falls"
        text = (f"{crit.id}: the winner changes if its weight {verb} from {current:.1f} to beyond {new:.1f} "
                f"({delta:+.1f} points) — {names.get(leader, leader)} would lead")
        changes.append(WeightChange(crit.id, crit.name, current, new, delta, leader, text))
    return SensitivityReport(method, winner, tuple(changes), tuple(notes))


def _unscale(t: float, j: int, weights: Sequence[float], ranges: Sequence[float]) -> float | None:
    """Turn a new normalised weight of the range-scaled problem back into a share of the original weights."""
    r_j = ranges[j]
    if r_j <= 0:
        return None
    others = math.fsum(w for k, w in enumerate(weights) if k != j)
    others_scaled = math.fsum(w * r for k, (w, r) in enumerate(zip(weights, ranges, strict=True)) if k != j)
    if others_scaled <= 0:
        return None
    mine = t / r_j
    rest = (1 - t) * others / others_scaled
    return mine / (mine + rest) if mine + rest > 0 else None


# --------------------------------------------------------------------------
# shortlist and blind codes
# --------------------------------------------------------------------------


def shortlist(ranking: Ranking, rule: ShortlistRule) -> list[str]:
    """The vendors entering the next stage, best first.

    With ``min_score`` only vendors whose total (rounded half-up to 2
    decimals) reaches it; with ``top`` the first N of those. Neither set:
    every vendor.
    """
    entries = sorted(ranking.entries, key=lambda e: e.rank)
    if rule.min_score is not None:
        floor = _round2(float(rule.min_score))
        entries = [e for e in entries if _round2(e.total_score) >= floor]
    if rule.top is not None:
        entries = entries[:max(0, rule.top)]
    return [e.vendor_id for e in entries]


def _letters(n: int) -> str:
    out = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        out = chr(ord("A") + rest) + out
    return out


def blind_codes(rfp: Rfp, vendor_ids: Sequence[str]) -> dict[str, str]:
    """Vendor id -> the code blind score sheets show ("Bidder A"; "投标人A" in Chinese).

    Codes are handed out in the order of a hash of the RFP id and the
    vendor id, so they reveal neither names nor the order bids arrived in,
    and the same vendors always get the same codes.
    """
    prefix = "投标人" if rfp.language == "zh" else "Bidder "
    ordered = sorted(set(vendor_ids), key=lambda v: (hashlib.sha256(f"{rfp.id}\0{v}".encode()).hexdigest(), v))
    return {vendor: f"{prefix}{_letters(n)}" for n, vendor in enumerate(ordered)}


def unblind_scores(scores: Sequence[ScoreEntry], codes: Mapping[str, str]) -> list[ScoreEntry]:
    """Replace blind codes by vendor ids (``codes`` as :func:`blind_codes` made them)."""
    back = {code: vendor for vendor, code in codes.items()}
    unknown = sorted({s.vendor for s in scores if s.vendor not in back})
    if unknown:
        raise EvaluationError(f"unknown vendor code(s) {', '.join(unknown)} in the score sheets",
                              [Problem(f"vendor code {s.vendor!r} was not handed out", place=s.place or None)
                               for s in scores if s.vendor in unknown])
    return [attrs.evolve(s, vendor=back[s.vendor]) for s in scores]

