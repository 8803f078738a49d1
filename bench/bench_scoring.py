"""Benchmark of rfpflow.scoring at a large tender's size.

1,000 vendors x 60 criteria x 7 evaluators, fixed seed. Times consensus of the
60,000 cells (each method), weighted sum, TOPSIS and the sensitivity analysis
of both, and prints each against baselines measured in the same run: a naive
plain sum over the 1,000 x 60 matrix, and a naive sum(cell)/7 over the 60,000
cells for the consensus steps.

Run: PYTHONPATH=src python bench/bench_scoring.py
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from typing import TypeVar

from rfpflow import scoring

SEED = 20250301
VENDORS, CRITERIA, EVALUATORS = 1_000, 60, 7
T = TypeVar("T")


def timed(step: Callable[[], T], repeat: int = 1) -> tuple[float, T]:
    """Best wall time of ``repeat`` runs, and the last result."""
    best = float("inf")
    result: T
    for _ in range(repeat):
        start = time.perf_counter()
        result = step()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    rng = random.Random(SEED)
    directions = ["cost" if j % 5 == 0 else "benefit" for j in range(CRITERIA)]
    weights = [float(rng.randint(1, 10)) for _ in range(CRITERIA)]
    quality = [[rng.uniform(3, 9) for _ in range(CRITERIA)] for _ in range(VENDORS)]
    cells = [
        [round(min(10.0, max(0.0, q + rng.gauss(0, 1))), 1) for _ in range(EVALUATORS)] for row in quality for q in row
    ]

    started = time.perf_counter()
    rows: list[tuple[str, float, float]] = []  # (step, seconds, baseline seconds)

    cell_base, _ = timed(lambda: [sum(c) / len(c) for c in cells], repeat=5)
    consensus_out: dict[str, list[float]] = {}
    for method in scoring.CONSENSUS_METHODS:

        def run(method: str = method) -> list[float]:
            return [scoring.consensus(c, method) for c in cells]

        seconds, out = timed(run)
        consensus_out[method] = out
        rows.append((f"consensus {method} (60,000 cells x 7)", seconds, cell_base))

    matrix = [consensus_out["mean"][i * CRITERIA : (i + 1) * CRITERIA] for i in range(VENDORS)]
    for i, row in enumerate(matrix):  # cost criteria: a price-like figure, not a 0-10 score
        for j in range(0, CRITERIA, 5):
            row[j] = 100_000 + 90_000 * (10 - row[j]) + rng.uniform(0, 1_000) + i

    matrix_base, _ = timed(lambda: [sum(row) for row in matrix], repeat=5)
    ws_s, ws = timed(lambda: scoring.rank(matrix, weights, directions), repeat=3)
    rows.append(("rank weighted-sum min-max (1,000 x 60)", ws_s, matrix_base))
    tp_s, tp = timed(lambda: scoring.rank(matrix, weights, directions, method="topsis"), repeat=3)
    rows.append(("rank TOPSIS (1,000 x 60)", tp_s, matrix_base))
    sws_s, sws = timed(lambda: scoring.sensitivity(matrix, weights, directions))
    rows.append(("sensitivity weighted-sum (60 criteria)", sws_s, matrix_base))
    stp_s, stp = timed(lambda: scoring.sensitivity(matrix, weights, directions, method="topsis"))
    rows.append(("sensitivity TOPSIS (60 criteria)", stp_s, matrix_base))
    total = time.perf_counter() - started

    print(f"rfpflow.scoring bench: {VENDORS} vendors x {CRITERIA} criteria x {EVALUATORS} evaluators, seed {SEED}")
    print(f"python {sys.version.split()[0]}")
    print(f"baseline naive sum over matrix (60,000 numbers): {matrix_base * 1e3:.3f} ms")
    print(f"baseline naive sum(cell)/7 over 60,000 cells:    {cell_base * 1e3:.3f} ms")
    print()
    print(f"{'step':<42} {'seconds':>9} {'x baseline':>11}")
    for name, seconds, base in rows:
        print(f"{name:<42} {seconds:>9.3f} {seconds / base:>10.0f}x")
    print(f"{'total (incl. repeats)':<42} {total:>9.3f}")
    print()

    ws_changes = [c for c in sws.criteria if c.delta is not None]
    tp_changes = [c for c in stp.criteria if c.delta is not None]
    print(f"weighted-sum winner: vendor {ws.winner} (score {ws.scores[ws.winner]:.4f})")
    print(f"TOPSIS winner:       vendor {tp.winner} (closeness {tp.scores[tp.winner]:.4f})")
    for method, result, changes in (("weighted-sum", sws, ws_changes), ("topsis", stp, tp_changes)):
        if not changes:
            print(f"{method}: no single weight change alters the winner (vendor {result.winner})")
            continue
        tight = min(changes, key=lambda c: abs(c.delta or 0.0))
        assert tight.delta is not None and tight.new_weight is not None
        # check the figure by re-ranking with the weight just before and just past the change
        shares = [w / sum(weights) for w in weights]
        winners = []
        for t in (tight.new_weight - tight.delta * 1e-6, tight.new_weight + tight.delta * 1e-6):
            others = sum(shares) - shares[tight.criterion]
            moved = [t if k == tight.criterion else w * (1 - t) / others for k, w in enumerate(shares)]
            winners.append(scoring.rank(matrix, moved, directions, method=method).winner)
        print(
            f"{method}: {len(changes)}/{CRITERIA} weights can change the winner; most sensitive: "
            f"criterion {tight.criterion}, delta {tight.delta:+.6f} ({tight.delta_percent:+.2f} %), "
            f"new winner vendor {tight.new_winner}; re-ranked just before/past: vendor {winners[0]} / {winners[1]}"
        )
        assert winners == [result.winner, tight.new_winner]
    assert all(0.0 <= s <= 1.0 for s in ws.scores + tp.scores)


if __name__ == "__main__":
    main()
