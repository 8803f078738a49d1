"""A batch of bid files read by two processes gives exactly what one process gives."""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from rfpflow import hookimpl
from rfpflow.errors import InputFileError
from rfpflow.spreadsheets.batch import MIN_FILES, read_bid_files
from rfpflow.spreadsheets.samples import write_vendor_workbook
from rfpflow.testing import make_context, make_host
from tests.test_bid_workbooks import GOOD, load_generic

pytestmark = pytest.mark.skipif(sys.platform != "linux" or (os.cpu_count() or 1) < 2,
                                reason="the worker process is forked on Linux with more than one CPU only")


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, list[Path]]:
    """20 files: 17 good workbooks, one with a price that is not a number, a CSV renamed .xlsx,
    and a text file no plugin reads."""
    folder = tmp_path_factory.mktemp("batch")
    rfp = load_generic(folder / "ws", "en")
    files = []
    for n in range(17):
        data = {**GOOD, "company": {**GOOD["company"], "vendor_name": f"Vendor {n} Ltd.", "headcount": 100 + n}}
        files.append(write_vendor_workbook(folder / f"vendor-{n:02d}.xlsx", rfp, data))
    files.insert(5, write_vendor_workbook(folder / "bad-price.xlsx", rfp, {**GOOD, "prices": {"L1": "abc",
                                                                                                "L2": 15000}}))
    (folder / "renamed.xlsx").write_text("Item ID,Unit price\nL1,82000\n", encoding="utf-8")
    files.insert(11, folder / "renamed.xlsx")
    (folder / "notes.txt").write_text("not a bid", encoding="utf-8")
    files.append(folder / "notes.txt")
    assert len(files) >= MIN_FILES
    return rfp, files


def _read(rfp: Any, files: list[Path], host: Any = None) -> list[tuple[str, object]]:
    host = host or make_host()
    out: list[tuple[str, object]] = []
    for path, outcome in read_bid_files(host, files, rfp, make_context(host).with_rfp(rfp)):
        out.append((path.name, str(outcome) if isinstance(outcome, InputFileError) else outcome))
    return out


def test_two_processes_read_a_batch_exactly_as_one(
    batch: tuple[Any, list[Path]], forks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    rfp, files = batch
    monkeypatch.setenv("RFPFLOW_NO_FORK", "1")
    alone = _read(rfp, files)
    assert not forks
    monkeypatch.setenv("RFPFLOW_NO_FORK", "0")

    shared = _read(rfp, files)

    assert len(forks) == 1, "the batch was not shared with a worker"
    assert shared == alone
    assert [name for name, outcome in shared if isinstance(outcome, str)] == ["bad-price.xlsx", "renamed.xlsx",
                                                                              "notes.txt"]
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # the worker was reaped


def test_a_reader_that_does_not_say_it_may_share_keeps_the_batch_to_itself(
    batch: tuple[Any, list[Path]], forks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    @hookimpl
    def rfpflow_read_bids(source: Path, rfp: Any, context: Any) -> None:
        return None  # reads nothing, but it is there

    rfp, files = batch
    monkeypatch.setenv("RFPFLOW_NO_FORK", "0")
    other_reader = types.ModuleType("other_reader")
    other_reader.rfpflow_read_bids = rfpflow_read_bids  # type: ignore[attr-defined]

    outcomes = _read(rfp, files, make_host(other_reader))

    assert not forks
    assert len(outcomes) == len(files)


def test_a_failing_plugin_in_the_worker_fails_the_batch_where_one_process_would(
    batch: tuple[Any, list[Path]], forks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader raising on a file the worker reads: the error comes back and ends the batch there."""
    import rfpflow.builtins.xlsx_bids as builtin

    rfp, files = batch
    victim = files[7]  # odd: read by the worker
    original = builtin.read_bid_workbook

    def breaking(path: Path, *args: Any, **kwargs: Any) -> Any:
        if Path(path).name == victim.name:
            raise RuntimeError("disk on fire")
        return original(path, *args, **kwargs)

    monkeypatch.setattr(builtin, "read_bid_workbook", breaking)
    for setting in ("1", "0"):
        monkeypatch.setenv("RFPFLOW_NO_FORK", setting)
        seen: list[str] = []
        host = make_host()
        with pytest.raises(Exception, match="disk on fire"):
            for path, _ in read_bid_files(host, files, rfp, make_context(host).with_rfp(rfp)):
                seen.append(path.name)
        assert seen == [p.name for p in files[:7]]
    assert len(forks) == 1


def test_bids_import_of_a_batch_stores_the_same_with_or_without_the_worker(workspace: Path, tmp_path: Path) -> None:
    """The command end to end: 17 workbooks (one refused) into two copies of one cycle."""
    import shutil
    import sqlite3

    from rfpflow.definition import load_rfp
    from rfpflow.uscc import with_check_character
    from tests.conftest import run_cli

    assert run_cli("-C", str(workspace), "--now", "2027-01-05T09:00:00+08:00", "issue").returncode == 0
    rfp = load_rfp(workspace / "rfp.toml", context=make_context(make_host()))
    bids = tmp_path / "returned"
    bids.mkdir()
    for n in range(16):
        # Sixteen vendors: their own names and registration numbers (a bid belongs to its vendor).
        data = {**GOOD, "company": {**GOOD["company"], "vendor_name": f"Vendor {n} Ltd.",
                                    "registration_no": with_check_character(f"91350100M00010{n:03d}")}}
        write_vendor_workbook(bids / f"vendor-{n:02d}.xlsx", rfp, data)
    write_vendor_workbook(bids / "vendor-bad.xlsx", rfp, {**GOOD, "prices": {"L1": "abc", "L2": 15000}})
    copy = tmp_path / "copy"
    shutil.copytree(workspace, copy)

    results, stored = [], []
    for place, no_fork in ((workspace, "1"), (copy, "0")):
        result = run_cli("-C", str(place), "--now", "2027-01-20T09:00:00+08:00", "bids", "import", str(bids),
                         env={"RFPFLOW_NO_FORK": no_fork})
        assert result.returncode == 2, result.stderr  # one workbook was refused
        results.append((result.stdout, result.stderr))
        conn = sqlite3.connect(place / ".rfpflow" / "cycle.sqlite3")
        try:
            records = conn.execute("SELECT collection, key, data FROM records ORDER BY collection, key").fetchall()
            stored.append((records, conn.execute("SELECT kind, data FROM events ORDER BY seq").fetchall()))
        finally:
            conn.close()

    assert results[0] == results[1]
    assert stored[0] == stored[1]
    assert len([r for r in stored[0][0] if r[0] == "bids"]) == 16
    assert "vendor-bad.xlsx" in results[0][1] and "Pricing!" in results[0][1]
