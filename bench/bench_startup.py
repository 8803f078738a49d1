"""Benchmark: start-up time of ``rfpflow --help`` and ``rfpflow status`` against ``import click``.

Run from the repository root::

    python bench/bench_startup.py [--runs 15]

Each command runs ``--runs`` times in a fresh interpreter (``python -c ...``, so
the console-script wrapper's own cost is not counted for either side); the
figure is the median wall time. The baseline is ``python -c "import click"``
measured in the same run, interleaved with the others so that machine load
affects all alike; the ratios are what to compare between machines (target:
``--help`` within 2.5x of ``import click``). ``-X importtime`` then lists the
ten slowest imports of ``--help``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HELP = "from rfpflow.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"


def status_code(workspace: Path) -> str:
    return ("from rfpflow.cli import main\ntry:\n"
            f"    main(['-C', {str(workspace)!r}, 'status'])\nexcept SystemExit:\n    pass\n")


def timed(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def slowest_imports(code: str, count: int = 10) -> list[tuple[int, str]]:
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True,
                          check=True)
    rows = []
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), parts[2].rstrip()))
    return sorted(rows, reverse=True)[:count]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        workspace = Path(work) / "ws"
        subprocess.run([sys.executable, "-m", "rfpflow", "new", str(workspace)], check=True,
                       stdout=subprocess.DEVNULL)
        cases = {"python -c 'import click'": "import click\n", "rfpflow --help": HELP,
                 "rfpflow status": status_code(workspace), "python -c 'pass'": "pass\n"}
        times: dict[str, list[float]] = {name: [] for name in cases}
        for code in cases.values():  # warm the file cache and .pyc files
            timed(code)
        for _ in range(args.runs):
            for name, code in cases.items():
                times[name].append(timed(code))
    baseline = statistics.median(times["python -c 'import click'"])
    print(f"{'command':<28}{'median s':>10}{'min s':>9}{'x import click':>16}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<28}{median:>10.3f}{min(values):>9.3f}{median / baseline:>16.2f}")
    print("\nslowest imports of --help (self + children, microseconds):")
    for micros, module in slowest_imports(HELP):
        print(f"  {micros:>8}  {module.strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
