"""The builtin scoring methods, registered by name for rfp.toml's ``[scoring]``.

``ranking`` methods take ``(matrix, weights, directions, normalization)`` and
return an object with ``.scores`` and ``.ranks`` (see :func:`rfpflow.scoring.rank`);
``price`` formulas take ``(prices, max_points)`` and return one score per price.
The maths lives in :mod:`rfpflow.scoring`, a public API plugins reuse.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rfpflow.hookspecs import hookimpl
from rfpflow.registry import ScoringMethod


def _ranking(method: str) -> Callable[..., Any]:
    def run(matrix: Sequence[Sequence[float]], weights: Sequence[float], directions: Sequence[str],
            normalization: str = "min-max") -> Any:
        from rfpflow import scoring

        return scoring.rank(matrix, weights, directions, method=method, normalization=normalization)

    return run


def _price(method: str) -> Callable[..., Any]:
    def run(prices: Sequence[float], max_points: float = 100.0) -> Any:
        from rfpflow import scoring

        return scoring.price_scores(prices, method=method, max_points=max_points)

    return run


def _lpta(*args: Any, **kwargs: Any) -> Any:
    from rfpflow.evaluation import lowest_price_technically_acceptable

    return lowest_price_technically_acceptable(*args, **kwargs)


@hookimpl(trylast=True)
def rfpflow_register_scoring_methods(register: Callable[[ScoringMethod], None]) -> None:
    register(ScoringMethod("weighted-sum", "ranking",
                           "Weighted sum of normalised criterion values", _ranking("weighted-sum")))
    register(ScoringMethod("topsis", "ranking",
                           "TOPSIS: closeness to the ideal and distance from the anti-ideal", _ranking("topsis")))
    register(ScoringMethod("lpta", "ranking",
                           "Lowest price technically acceptable: pass/fail on quality, then lowest price",
                           _lpta))
    register(ScoringMethod("lowest-ratio", "price",
                           "Lowest valid price / price x points (China Order 87 comprehensive scoring form)",
                           _price("lowest-ratio")))
    register(ScoringMethod("linear", "price",
                           "Linear between the lowest price (full points) and the highest (none)",
                           _price("linear")))
