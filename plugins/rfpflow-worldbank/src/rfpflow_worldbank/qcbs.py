"""Quality- and cost-based selection (QCBS): the combined score of consultants' proposals.

The ``qcbs`` scoring method (kind ``award``) is :func:`qcbs`::

    qcbs(technical, prices, *, technical_weight=0.8, minimum_technical=75.0) -> QcbsResult

``technical``
    Each proposal's technical score St, 0-100 (the evaluation total of a
    ``worldbank-qcbs`` RFP, whose criteria are all technical).
``prices``
    Each proposal's evaluated price F, or ``None`` when it has none (its
    financial proposal is not opened or is missing). Same order and length.
``technical_weight``
    T, with 0 < T < 1 (the weight of the financial score is P = 1 - T).
``minimum_technical``
    The minimum technical score: a proposal below it is rejected and its
    financial proposal is not opened (no Sf, no S).

It returns a :class:`QcbsResult` whose tuples follow the input order:

* ``qualified`` -- St >= minimum (compared at 2 decimals, half up);
* ``financial`` -- Sf = 100 x Fm / F, Fm the lowest price among the qualified
  proposals (``None`` for the rejected and the unpriced);
* ``scores`` -- S = St x T + Sf x (1 - T), 0-100 (``None`` for rejected or
  unpriced proposals);
* ``ranks`` -- 1 for the highest S, ties (S equal at 2 decimals) broken by
  the higher St, then the input order; rejected and unpriced proposals are ranked after the others.

Raises :class:`ValueError` for mismatched lengths, a T outside (0, 1), scores
outside 0-100 or prices that are not positive.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

import attrs

__all__ = ["DEFAULT_MINIMUM_TECHNICAL", "DEFAULT_TECHNICAL_WEIGHT", "QcbsResult", "qcbs"]

DEFAULT_TECHNICAL_WEIGHT = 0.8
DEFAULT_MINIMUM_TECHNICAL = 75.0


@attrs.frozen
class QcbsResult:
    """The outcome of :func:`qcbs`, one entry per proposal in input order."""

    technical: tuple[float, ...]
    qualified: tuple[bool, ...]
    financial: tuple[float | None, ...]
    scores: tuple[float | None, ...]
    ranks: tuple[int, ...]
    technical_weight: float
    minimum_technical: float

    @property
    def winner(self) -> int | None:
        """The index of the proposal ranked first, or None when no proposal has a combined score."""
        if not any(s is not None for s in self.scores):
            return None
        return self.ranks.index(1)


def _cents(x: float) -> Decimal:
    return Decimal(repr(float(x))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def qcbs(technical: Sequence[float], prices: Sequence[float | None], *,
         technical_weight: float = DEFAULT_TECHNICAL_WEIGHT,
         minimum_technical: float = DEFAULT_MINIMUM_TECHNICAL) -> QcbsResult:
    """S = St x T + Sf x (1 - T) with Sf = 100 x Fm / F (see the module documentation).

    >>> r = qcbs([90, 80, 70], [120_000, 100_000, 50_000])
    >>> [round(s, 2) if s is not None else None for s in r.scores], r.ranks, r.qualified
    ([88.67, 84.0, None], (1, 2, 3), (True, True, False))
    """
    if len(technical) != len(prices):
        raise ValueError(f"{len(technical)} technical scores but {len(prices)} prices")
    t = float(technical_weight)
    if not 0 < t < 1:
        raise ValueError(f"technical_weight must be between 0 and 1 (exclusive), got {technical_weight!r}")
    bad = [f"entry {i} is {s!r}" for i, s in enumerate(technical)
           if not (isinstance(s, (int, float)) and math.isfinite(s) and 0 <= s <= 100)]
    if bad:
        raise ValueError("technical scores must be numbers from 0 to 100: " + ", ".join(bad))
    bad = [f"entry {i} is {p!r}" for i, p in enumerate(prices)
           if p is not None and not (isinstance(p, (int, float, Decimal)) and math.isfinite(float(p)) and p > 0)]
    if bad:
        raise ValueError("prices must be positive numbers or None: " + ", ".join(bad))
    floor = _cents(minimum_technical)
    qualified = tuple(_cents(s) >= floor for s in technical)
    opened = [float(p) for p, ok in zip(prices, qualified, strict=True) if ok and p is not None]
    lowest = min(opened, default=None)
    financial: list[float | None] = []
    scores: list[float | None] = []
    for st, price, ok in zip(technical, prices, qualified, strict=True):
        if not ok or price is None or lowest is None:
            financial.append(None)
            scores.append(None)
            continue
        sf = 100.0 * lowest / float(price)
        financial.append(sf)
        scores.append(float(st) * t + sf * (1 - t))
    order = sorted(range(len(technical)), key=lambda i: (
        scores[i] is None, -_cents(scores[i] or 0.0), -_cents(technical[i]), i))
    ranks = [0] * len(order)
    for position, i in enumerate(order, start=1):
        ranks[i] = position
    return QcbsResult(tuple(float(s) for s in technical), qualified, tuple(financial), tuple(scores), tuple(ranks),
                      t, float(minimum_technical))
