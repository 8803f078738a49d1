"""Benchmark: reading returned bid workbooks.

Run from the repository root::

    PYTHONPATH=src python bench/bench_import.py [--work DIR] [--quick]

It writes (once; ``--work`` keeps them between runs)

* a 50,000-line pricing workbook: an RFP with 50,000 line items, the vendor's
  Pricing sheet with 12 columns (rfpflow's 7 and 5 of the vendor's own), in two
  variants -- written with xlsxwriter (shared strings, as Excel saves) and
  rfpflow's generated workbook filled in with openpyxl (inline strings);
* a batch of 200 vendor workbooks of 500 lines each (xlsxwriter),

and measures, each in a fresh subprocess so that peak memory is the run's own:

* ``rfpflow import``    the full import, as ``rfpflow bids import`` does it: each file read
                        through the ``rfpflow_read_bids`` hook by the builtin reader (file
                        checks, parse, validation into a Bid; the fast reader; a batch of 16
                        files or more shared with a worker process), then the bids stored in
                        one SQLite transaction (a JSON record and an audit event each,
                        synchronous=FULL);
* ``rfpflow read only`` the same without storing (how the time divides);
* ``rfpflow openpyxl``  the full import with the openpyxl reader;
* ``pandas+calamine``   ``pandas.read_excel(path, engine="calamine", sheet_name=None)``:
                        the bare read of every sheet into DataFrames, no validation;
* ``openpyxl r/o``      openpyxl read-only mode, ``iter_rows(values_only=True)`` over
                        every sheet: parsing alone.

Seconds are the best of three runs (one for the slow openpyxl full read);
rows/s counts line items. Memory: the subprocess's peak RSS while reading
(VmHWM, reset after the imports and the RFP are loaded; everything in the
process counts, the RFP's 50,000 line items included), what the read adds
to the RSS it started from, and the peak of Python allocations during the
read (tracemalloc, in a separate run because tracing slows reading down; it
does not see calamine's Rust allocations). ``child RSS MB`` is the peak RSS of
rfpflow's forked processes (the scanner of a large sheet, the worker sharing a
batch), pages shared with the parent included.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

BIG_LINES = 50_000
BATCH_FILES = 200
BATCH_LINES = 500
EXTRA_COLUMNS = ("Brand", "Model", "Lead time (days)", "Warranty", "Remarks")


# ---------------------------------------------------------------------------
# The RFP and the workbooks
# ---------------------------------------------------------------------------


def make_rfp(lines: int) -> Any:
    """The generic profile's RFP with ``lines`` line items (same hash every time)."""
    import attrs

    from rfpflow.definition import definition_hash, load_rfp
    from rfpflow.model import LineItem
    from rfpflow.testing import make_context, make_host
    from rfpflow.workspace import create_workspace

    host = make_host()
    with tempfile.TemporaryDirectory() as tmp:
        ws = create_workspace(Path(tmp) / "ws", host)
        rfp = load_rfp(ws / "rfp.toml", context=make_context(host))
    items = tuple(LineItem(f"L{i}", f"Service line {i}: hotline seats, tier {i % 7}", ("seat", "hour", "lot")[i % 3],
                           Decimal(i % 97 + 1)) for i in range(1, lines + 1))
    rfp = attrs.evolve(rfp, line_items=items)
    return attrs.evolve(rfp, definition_hash=definition_hash(rfp))


def vendor_data(rfp: Any, seed: int = 0) -> dict[str, Any]:
    return {
        "company": {"vendor_name": f"Vendor {seed} Ltd.", "registration_no": "91350100M000100Y43",
                    "country": "China", "year_established": 2010 + seed % 10, "registered_capital": 5_000_000,
                    "annual_turnover": "38,500,000.50", "headcount": 300 + seed},
        "certifications": [("ISO 9001", f"Q-{seed}", "2028-06-30")],
        "answers": {"Q1": "Yes", "Q2": "Yes", "Q3": "Partly"},
        "prices": {item.id: round(10 + ((i * 7919 + seed * 104729) % 1_000_003) / 100, 2)
                   for i, item in enumerate(rfp.line_items)},
    }


def extra_value(row: int, column: int) -> Any:
    return ("Acme", f"M-{row}", 30 + row % 20, "2 years", "as specified")[column]


def build(work: Path, quick: bool) -> dict[str, list[Path]]:
    from rfpflow.spreadsheets.bid_writer import write_bid_workbook
    from rfpflow.spreadsheets.samples import write_vendor_workbook

    work.mkdir(parents=True, exist_ok=True)
    sets: dict[str, list[Path]] = {}
    big = make_rfp(BIG_LINES)
    path = work / "big-xlsxwriter.xlsx"
    if not path.exists():
        print(f"writing {path.name} ...", flush=True)
        write_vendor_workbook(path, big, vendor_data(big), extra_columns=EXTRA_COLUMNS, extra_values=extra_value)
    sets["50,000 lines, xlsxwriter (shared strings)"] = [path]
    if not quick:
        path = work / "big-openpyxl.xlsx"
        if not path.exists():
            print(f"writing {path.name} (rfpflow's workbook filled in with openpyxl; takes a while) ...", flush=True)
            template = write_bid_workbook(big, work / "big-template.xlsx")
            fill_with_extras(template, path, big)
        sets["50,000 lines, generated + openpyxl (inline strings)"] = [path]
    small = make_rfp(BATCH_LINES)
    batch = work / "batch"
    batch.mkdir(exist_ok=True)
    paths = [batch / f"vendor-{n:03d}.xlsx" for n in range(BATCH_FILES)]
    missing = [p for p in paths if not p.exists()]
    if missing:
        print(f"writing {len(missing)} vendor workbooks of {BATCH_LINES} lines ...", flush=True)
    for n, p in enumerate(paths):
        if not p.exists():
            write_vendor_workbook(p, small, vendor_data(small, n), extra_columns=EXTRA_COLUMNS,
                                  extra_values=extra_value)
    sets[f"{BATCH_FILES} workbooks x {BATCH_LINES} lines, xlsxwriter"] = paths
    return sets


def fill_with_extras(template: Path, out: Path, rfp: Any) -> None:
    """Fill the generated workbook (openpyxl) and add 5 columns of the vendor's own to Pricing."""
    import openpyxl

    from rfpflow.spreadsheets.samples import fill_bid_workbook

    data = vendor_data(rfp)
    filled = fill_bid_workbook(template, out, data)
    wb = openpyxl.load_workbook(filled)
    ws = wb["Pricing"]
    for offset, header in enumerate(EXTRA_COLUMNS):
        ws.cell(row=3, column=8 + offset, value=header)
    for row in range(4, 4 + len(rfp.line_items)):
        for offset in range(len(EXTRA_COLUMNS)):
            ws.cell(row=row, column=8 + offset, value=extra_value(row, offset))
    wb.save(out)


# ---------------------------------------------------------------------------
# Measuring (in a subprocess)
# ---------------------------------------------------------------------------


def task(name: str, lines: int) -> Callable[[list[Path]], int]:
    """A function importing or reading a list of files, returning the number of rows it saw."""
    if name.startswith("rfpflow"):
        import datetime as dt

        import attrs

        from rfpflow.errors import InputFileError
        from rfpflow.spreadsheets.batch import read_bid_files
        from rfpflow.store import CycleState, SqliteStore
        from rfpflow.testing import make_context, make_host
        from rfpflow.workflow import StoredBid, file_sha256

        rfp = make_rfp(lines)
        if "openpyxl" in name:
            rfp = attrs.evolve(rfp, plugin_options={"xlsx_bids": {"reader": "openpyxl"}})
        host = make_host()
        context = make_context(host).with_rfp(rfp)
        store_too = "read only" not in name

        # A real store, as `rfpflow bids import` keeps it: each bid as one JSON record with an
        # audit event, the whole batch committed in one transaction with synchronous=FULL.
        def new_store() -> SqliteStore:
            store = SqliteStore(Path(tempfile.mkdtemp()) / ".rfpflow" / "cycle.sqlite3", create=True)
            with store.transaction() as tx:
                tx.save_state(CycleState(rfp.id, "issued", rfp.definition_hash, "{}"))
            return store

        stores = [new_store() for _ in range(3)]  # a fresh one for each timed run: bids are new there
        now = dt.datetime(2027, 3, 1, 9, tzinfo=dt.UTC)

        def import_all(paths: list[Path]) -> int:
            """What `rfpflow bids import` does with the files: read them through the
            rfpflow_read_bids hook (a worker process shares a batch of 16 or more), then
            store the bids in one transaction."""
            read: list[tuple[Any, str, str]] = []
            for path, outcome in read_bid_files(host, paths, rfp, context):
                assert not isinstance(outcome, InputFileError), outcome
                (bid,) = outcome
                assert len(bid.prices) == lines, (len(bid.prices), lines)
                if store_too:
                    read.append((bid, file_sha256(path), path.name))
            if store_too:
                store = stores.pop() if stores else new_store()
                with store.transaction() as tx:
                    for bid, sha, file in read:
                        tx.put("bids", bid.vendor_id, StoredBid(bid, now.isoformat(), sha))
                        tx.append_event("bid.received", {"vendor": bid.vendor_id, "file": file, "sha256": sha},
                                        actor="bench", at=now, wall_at=now, simulated=True)
            return lines * len(paths)

        return import_all
    if name == "pandas+calamine":
        import pandas as pd  # type: ignore[import-untyped,unused-ignore]

        def read_pandas(paths: list[Path]) -> int:
            rows = 0
            for path in paths:
                frames = pd.read_excel(path, engine="calamine", sheet_name=None)
                rows += len(frames["Pricing"])
            return rows

        return read_pandas
    if name == "openpyxl r/o":
        import openpyxl

        def read_openpyxl(paths: list[Path]) -> int:
            rows = 0
            for path in paths:
                wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
                for ws in wb.worksheets:
                    for _ in ws.iter_rows(values_only=True):
                        rows += 1
                wb.close()
            return rows

        return read_openpyxl
    raise SystemExit(f"unknown task {name!r}")


def _status_kb(field: str) -> int | None:
    """A memory figure of this process from /proc/self/status (Linux), in KB."""
    with contextlib.suppress(OSError):  # not Linux: no figure
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark of this process (Linux: clear_refs 5)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def measure(name: str, lines: int, paths: list[Path], repeat: int, traced: bool) -> dict[str, Any]:
    read = task(name, lines)
    # ru_maxrss survives fork and exec on Linux (it would show the parent's peak), so the peak is
    # taken from VmHWM, reset once the imports and the RFP are in memory.
    base_rss = _status_kb("VmRSS") if _reset_peak() else None
    if base_rss is None:
        base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    best = float("inf")
    for _ in range(repeat):
        if traced:
            tracemalloc.start()
        started = time.perf_counter()
        read(paths)
        best = min(best, time.perf_counter() - started)
        if traced:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            return {"traced_peak": peak}
    peak_rss = _status_kb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # rfpflow scans a large sheet partly in a forked child: its peak (shared pages included) is reported apart.
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": best, "rss_peak_kb": peak_rss, "rss_base_kb": base_rss, "child_rss_kb": child_rss}


def run(name: str, lines: int, paths: list[Path], repeat: int, traced: bool) -> dict[str, Any]:
    listing = Path(tempfile.mkstemp(suffix=".json")[1])
    listing.write_text(json.dumps([str(p) for p in paths]))
    try:
        args = [sys.executable, __file__, "--measure", name, str(lines), str(listing), str(repeat)]
        if traced:
            args.append("--traced")
        out = subprocess.run(args, capture_output=True, text=True, check=False, env=os.environ.copy())
    finally:
        listing.unlink()
    if out.returncode != 0:
        raise SystemExit(f"{name} failed:\n{out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


TASKS = ("rfpflow import", "rfpflow read only", "rfpflow openpyxl", "pandas+calamine", "openpyxl r/o")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, help="folder for the generated workbooks (kept between runs)")
    parser.add_argument("--quick", action="store_true", help="skip the slow openpyxl variants")
    parser.add_argument("--measure", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        name, lines, listing, repeat = args.measure
        paths = [Path(p) for p in json.loads(Path(listing).read_text())]
        print(json.dumps(measure(name, int(lines), paths, int(repeat), args.traced)))
        return

    work = args.work or Path(tempfile.gettempdir()) / "rfpflow-bench-import"
    sets = build(work, args.quick)
    from importlib.metadata import version

    print(f"\nPython {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
          + ", ".join(f"{d} {version(d)}" for d in ("openpyxl", "pandas", "python-calamine")))
    for label, paths in sets.items():
        lines = BIG_LINES if len(paths) == 1 else BATCH_LINES
        rows = lines * len(paths)
        size = sum(p.stat().st_size for p in paths) / 1e6
        print(f"\n{label}: {len(paths)} file(s), {size:.1f} MB, {rows:,} line items")
        print(f"  {'task':18s} {'seconds':>8s} {'rows/s':>10s} {'peak RSS MB':>12s} {'run adds MB':>13s} "
              f"{'traced MB':>10s} {'child RSS MB':>13s} {'time vs pandas':>15s}")
        results: dict[str, dict[str, Any]] = {}
        for name in TASKS:
            slow = name in ("rfpflow openpyxl", "openpyxl r/o")
            if slow and args.quick:
                continue
            result = run(name, lines, paths, 1 if slow else 3, traced=False)
            result.update(run(name, lines, paths, 1, traced=True))
            results[name] = result
        reference = results["pandas+calamine"]["seconds"]
        for name, r in results.items():
            added = (r["rss_peak_kb"] - r["rss_base_kb"]) / 1024
            child = f"{r['child_rss_kb'] / 1024:13.1f}" if r["child_rss_kb"] else f"{'-':>13s}"
            print(f"  {name:18s} {r['seconds']:8.2f} {rows / r['seconds']:10,.0f} {r['rss_peak_kb'] / 1024:12.1f} "
                  f"{added:13.1f} {r['traced_peak'] / 1e6:10.1f} {child} {r['seconds'] / reference:14.2f}x")
        ours = results["rfpflow import"]
        verdict = "met" if ours["seconds"] <= reference else "MISSED"
        print(f"  target, full import no slower than pandas+calamine's bare read: {verdict} "
              f"({ours['seconds'] / reference:.2f}x)")
        if len(paths) == 1:
            peak = ours["rss_peak_kb"] / 1024
            print(f"  target, peak memory under 150 MB: {'met' if peak < 150 else 'MISSED'} ({peak:.0f} MB)")


if __name__ == "__main__":
    main()
