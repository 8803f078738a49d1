"""Faults: a killed process, a full disk, a read-only workspace, misbehaving plugins, concurrent writers.

Each command is one SQLite transaction, so whatever happens the cycle must be either
exactly as before the command or exactly as after it -- never in between -- the store
must pass ``PRAGMA integrity_check`` and ``rfpflow audit verify``, and the cycle must go
on (the interrupted command can be run again; the documents can be rendered again).

"As after" is the state the same command reaches when it runs uninterrupted on a copy of
the workspace with the same ``--now`` and ``--actor``; snapshots are compared without
the wall-clock times (and the hashes covering them), which differ between two runs.

Kills happen at a point chosen at random among the calls rfpflow's code makes (Python
functions and the C functions they call: SQLite, file writes), just before a random SQL
statement of the store, or after a random delay; the default run makes a handful of
trials, the slow run (``pytest -m slow``) four per command of the flagship cycle.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from tests.conftest import clean_env
from tests.hostile.harness import (
    ACTOR,
    BIDS,
    CLOSE,
    FLAGSHIP_STEPS,
    FLAGSHIP_VENDORS,
    STEP_NAMES,
    CliResult,
    FlagshipStages,
    filler_script,
    integrity,
    killer_script,
    normalised,
    ok,
    run_inproc,
    run_killer,
    run_sub,
    snapshot,
    step_args,
    stored_bids,
)

STEP = {name: index for index, name in enumerate(STEP_NAMES)}
SEED = int(os.environ.get("RFPFLOW_FAULT_SEED", "0"))


@pytest.fixture(scope="module")
def stages(tmp_path_factory: pytest.TempPathFactory) -> FlagshipStages:
    return FlagshipStages(tmp_path_factory.mktemp("stages"))


# ---------------------------------------------------------------------------
# SIGKILL
# ---------------------------------------------------------------------------


@attrs.frozen
class Trial:
    step: str
    mode: str
    target: float
    returncode: int
    state: str  # before | after


class KillLab:
    """Counts of each command's calls (from one uninterrupted, profiled run) and its after-state."""

    def __init__(self, root: Path, stages: FlagshipStages) -> None:
        self.root = root
        self.stages = stages
        self.script = killer_script(root)
        self._counts: dict[int, tuple[dict[str, int], Any, float]] = {}
        self.trials: list[Trial] = []
        self._n = 0

    def reference(self, index: int) -> tuple[dict[str, int], Any, float]:
        """({"call": N, "sql": M}, the normalised after-state, seconds) of step ``index``."""
        if index not in self._counts:
            workspace = self.stages.copy_before(index, self.root / f"reference-{index:02d}")
            count_file = self.root / f"count-{index:02d}.json"
            started = time.perf_counter()
            result = run_killer(self.script, "count", 0, count_file, step_args(workspace, index))
            seconds = time.perf_counter() - started
            assert result.returncode == 0, result.stdout + result.stderr
            self._counts[index] = (json.loads(count_file.read_text()), normalised(snapshot(workspace)), seconds)
        return self._counts[index]

    def trial(self, step: str, mode: str, rng: random.Random) -> Trial:
        index = STEP[step]
        counts, after, seconds = self.reference(index)
        self._n += 1
        workspace = self.stages.copy_before(index, self.root / f"trial-{self._n:03d}")
        before = normalised(snapshot(workspace))
        if mode == "time":
            target: float = round(rng.uniform(0.0, seconds), 3)
            child = subprocess.Popen([sys.executable, "-m", "rfpflow", *step_args(workspace, index)],
                                     env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(target)
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGKILL)
            returncode = child.wait(timeout=60)
        else:
            target = rng.randint(1, max(1, counts[mode]))
            returncode = run_killer(self.script, mode, int(target), self.root / "unused.json",
                                    step_args(workspace, index)).returncode
        assert returncode in (0, -signal.SIGKILL), f"{step} {mode} {target}: exit {returncode}"
        assert integrity(workspace) in ("ok", "no store"), integrity(workspace)
        now = normalised(snapshot(workspace))
        assert now in (before, after), f"{step} killed ({mode} {target}) left the cycle half-way"
        state = "before" if now == before else "after"
        if now[0]:  # a cycle exists: its audit chain is intact
            verify = run_inproc("-C", str(workspace), "audit", "verify")
            assert verify.code == 0, verify.output
        # and the cycle goes on: the command again (if it did not happen), or the documents again
        again = run_inproc(*step_args(workspace, index)) if state == "before" else run_inproc(
            "-C", str(workspace), "render")
        assert again.code == 0, f"{step} after a kill ({mode} {target}, {state}): {again.output}"
        assert normalised(snapshot(workspace)) == after
        trial = Trial(step, mode, target, returncode, state)
        self.trials.append(trial)
        shutil.rmtree(workspace, ignore_errors=True)
        return trial


@pytest.fixture(scope="module")
def lab(stages: FlagshipStages, tmp_path_factory: pytest.TempPathFactory) -> KillLab:
    return KillLab(tmp_path_factory.mktemp("kill"), stages)


DEFAULT_TRIALS = (("bids import", "call"), ("screen", "sql"), ("close", "time"))


@pytest.mark.parametrize(("step", "mode"), DEFAULT_TRIALS)
def test_sigkill_leaves_the_cycle_before_or_after(lab: KillLab, step: str, mode: str) -> None:
    lab.trial(step, mode, random.Random(f"{step}/{mode}/{SEED}"))


SLOW_TRIALS = [(step, mode, k) for step in STEP_NAMES for k, mode in enumerate(("call", "call", "sql", "time"))]


@pytest.mark.slow
@pytest.mark.parametrize(("step", "mode", "k"), SLOW_TRIALS)
def test_sigkill_at_random_points_in_every_command(lab: KillLab, step: str, mode: str, k: int) -> None:
    lab.trial(step, mode, random.Random(f"{step}/{mode}/{k}/{SEED}"))


@pytest.mark.slow
def test_sigkill_trials_hit_both_sides_of_the_commit(lab: KillLab) -> None:
    """The trials are only worth something if some landed before the commit and some after."""
    outcomes = Counter(t.state for t in lab.trials)
    killed = sum(1 for t in lab.trials if t.returncode == -signal.SIGKILL)
    print(f"\nSIGKILL trials: {len(lab.trials)}, killed {killed}, {dict(outcomes)}; "
          + ", ".join(f"{s}: {dict(Counter(t.state for t in lab.trials if t.step == s))}" for s in STEP_NAMES))
    assert len(lab.trials) >= 50
    assert outcomes["before"] >= 5 and outcomes["after"] >= 5, outcomes


def test_the_killer_counts_the_calls_of_a_command(lab: KillLab) -> None:
    counts, after, _ = lab.reference(STEP["close"])
    assert counts["call"] > 1000 and counts["sql"] >= 5, counts
    assert after[0][0][2] == "bids-closed"


# ---------------------------------------------------------------------------
# A full disk
# ---------------------------------------------------------------------------

_TMPFS: dict[str, bool] = {}


def tmpfs_available(scratch: Path) -> bool:
    """Whether a small tmpfs can be mounted here (root, with the mount capability)."""
    if "ok" not in _TMPFS:
        point = scratch / "probe-mount"
        point.mkdir(parents=True, exist_ok=True)
        if os.environ.get("RFPFLOW_FAULTS_NO_TMPFS") or os.geteuid() != 0 or not shutil.which("mount"):
            _TMPFS["ok"] = False
        else:
            done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(point)],
                                  capture_output=True)
            _TMPFS["ok"] = done.returncode == 0
            if done.returncode == 0:
                subprocess.run(["umount", str(point)], check=True)
    return _TMPFS["ok"]


@contextlib.contextmanager
def small_disk(point: Path, size_mb: int = 32) -> Iterator[Path]:
    point.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(point)], check=True)
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


def fill(disk: Path, leave: int) -> Path:
    """Fill the disk but ``leave`` bytes."""
    stat = os.statvfs(disk)
    filler = disk / "filler"
    with filler.open("wb") as handle:
        handle.write(b"\0" * max(0, stat.f_bavail * stat.f_frsize - leave))
    return filler


def used(disk: Path) -> int:
    stat = os.statvfs(disk)
    return (stat.f_blocks - stat.f_bfree) * stat.f_frsize


@contextlib.contextmanager
def peak_usage(disk: Path) -> Iterator[list[int]]:
    """The most the disk held while the block ran (sampled every 2 ms): the WAL file and the
    documents come and go, so what is left at the end is less than what the command needed."""
    import threading

    peak = [used(disk)]
    running = threading.Event()
    running.set()

    def sample() -> None:
        while running.is_set():
            peak[0] = max(peak[0], used(disk))
            time.sleep(0.002)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        running.clear()
        sampler.join()


@attrs.frozen
class DiskRun:
    limit: int  # bytes left free (tmpfs) or the file-size limit (RLIMIT_FSIZE)
    result: CliResult
    state: str
    integrity: str
    verify: int
    again: int


def _rlimit(limit: int) -> Any:
    def set_limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return set_limit


def _after_disk_fault(workspace: Path, index: int, before: Any, after: Any, result: CliResult,
                      limit: int) -> DiskRun:
    now = normalised(snapshot(workspace))
    state = "before" if now == before else "after" if now == after else "torn"
    check = integrity(workspace)
    verify = run_inproc("-C", str(workspace), "audit", "verify").code
    again = (run_inproc(*step_args(workspace, index)) if state == "before"
             else run_inproc("-C", str(workspace), "render")).code
    return DiskRun(limit, result, state, check, verify, again)


def disk_sweep(stages: FlagshipStages, root: Path, step: str, fractions: tuple[float, ...]) -> list[DiskRun]:
    """Run ``step`` with less and less room; on a tmpfs when one can be mounted, else under RLIMIT_FSIZE."""
    index = STEP[step]
    before = normalised(snapshot(stages.before(index)))
    after = normalised(snapshot(stages.before(index + 1)))
    runs: list[DiskRun] = []
    if tmpfs_available(root):
        with small_disk(root / "roomy") as disk:
            workspace = stages.copy_before(index, disk / "ws")
            start = used(disk)
            with peak_usage(disk) as peak:
                ok(run_sub(*step_args(workspace, index)))
            needed = max(peak[0] - start, 32 * 1024)  # sampling may miss the very top
        for n, fraction in enumerate(fractions):
            with small_disk(root / f"disk-{n}") as disk:
                workspace = stages.copy_before(index, disk / "ws")
                filler = fill(disk, int(needed * fraction))
                result = run_sub(*step_args(workspace, index))
                filler.unlink()
                runs.append(_after_disk_fault(workspace, index, before, after, result, int(needed * fraction)))
        return runs
    for n, limit in enumerate(int(64 * 1024 * f) for f in fractions):
        workspace = stages.copy_before(index, root / f"limited-{n}")
        done = subprocess.run([sys.executable, "-m", "rfpflow", *step_args(workspace, index)], env=clean_env(),
                              capture_output=True, text=True, preexec_fn=_rlimit(limit), timeout=120)
        result = CliResult(done.returncode, done.stdout, done.stderr)
        runs.append(_after_disk_fault(workspace, index, before, after, result, limit))
    return runs


DEFAULT_FRACTIONS = (0.15, 0.5, 0.8, 0.92, 4.0)
SLOW_FRACTIONS = (*(round(0.04 * n, 2) for n in range(1, 30)), 4.0)


@pytest.fixture(scope="module")
def full_disk(stages: FlagshipStages, tmp_path_factory: pytest.TempPathFactory) -> list[DiskRun]:
    return disk_sweep(stages, tmp_path_factory.mktemp("disk"), "bids import", DEFAULT_FRACTIONS)


def _loses_nothing(runs: list[DiskRun]) -> None:
    for run in runs:
        where = f"{run.limit} bytes: {run.result.output}"
        assert run.integrity == "ok", where
        assert run.state in ("before", "after"), where
        assert run.verify == 0, where
        assert run.again == 0, where
        if run.result.code == 0:
            assert run.state == "after", where
    assert any(r.result.code != 0 for r in runs), "the disk was never full enough"
    assert any(r.result.code == 0 for r in runs), "the command never had room enough"


def test_a_full_disk_loses_nothing(full_disk: list[DiskRun]) -> None:
    """Importing the flagship's bids with less and less room: never half a command, never a broken chain."""
    _loses_nothing(full_disk)


@pytest.mark.slow
def test_a_full_disk_at_thirty_points_of_three_commands(stages: FlagshipStages,
                                                      tmp_path_factory: pytest.TempPathFactory) -> None:
    for step in ("bids import", "screen", "award"):
        _loses_nothing(disk_sweep(stages, tmp_path_factory.mktemp("disk-" + step.replace(" ", "-")), step,
                                  SLOW_FRACTIONS))


def _fill_at(stages: FlagshipStages, root: Path, step: str, moment: str) -> DiskRun:
    """Run ``step`` with the disk filling up just before (``commit``) or just after (``committed``) its COMMIT."""
    index = STEP[step]
    before = normalised(snapshot(stages.before(index)))
    after = normalised(snapshot(stages.before(index + 1)))
    script = filler_script(root)
    method = "fill" if tmpfs_available(root) else "rlimit"
    with small_disk(root / f"disk-{moment}") if method == "fill" else contextlib.nullcontext(root) as disk:
        workspace = stages.copy_before(index, Path(disk) / f"ws-{moment}")
        filler = Path(disk) / "filler"
        done = subprocess.run([sys.executable, str(script), moment, method, str(filler), "--",
                               *step_args(workspace, index)], env=clean_env(), capture_output=True, text=True,
                              timeout=120)
        filler.unlink(missing_ok=True)
        return _after_disk_fault(workspace, index, before, after, CliResult(done.returncode, done.stdout, done.stderr),
                                 0)


@pytest.fixture(scope="module")
def full_at(stages: FlagshipStages, tmp_path_factory: pytest.TempPathFactory) -> dict[str, DiskRun]:
    root = tmp_path_factory.mktemp("full-at")
    return {moment: _fill_at(stages, root, "close", moment) for moment in ("commit", "committed")}


def test_a_disk_full_at_commit_loses_nothing(full_at: dict[str, DiskRun]) -> None:
    run = full_at["commit"]
    assert run.result.code != 0 and run.state == "before", run.result.output
    assert run.integrity == "ok" and run.verify == 0 and run.again == 0


def test_a_disk_full_after_commit_keeps_the_command(full_at: dict[str, DiskRun]) -> None:
    run = full_at["committed"]
    assert run.state == "after", run.result.output
    assert run.integrity == "ok" and run.verify == 0 and run.again == 0  # `rfpflow render` writes the documents


def test_a_disk_full_at_commit_is_a_clear_error(full_at: dict[str, DiskRun]) -> None:
    result = full_at["commit"].result
    assert result.code == 2 and not result.crashed(), result.output
    assert "disk" in result.stderr.lower(), result.stderr


def test_a_disk_full_after_commit_is_a_clear_error(full_at: dict[str, DiskRun], tmp_path: Path) -> None:
    if not tmpfs_available(tmp_path):
        pytest.skip("needs a small tmpfs (root and mount): RLIMIT_FSIZE fails the store before the documents")
    result = full_at["committed"].result
    assert result.code == 2 and not result.crashed(), result.output
    assert "was recorded" in result.stderr and "rfpflow render" in result.stderr, result.stderr


# ---------------------------------------------------------------------------
# A read-only workspace
# ---------------------------------------------------------------------------


def _tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@contextlib.contextmanager
def read_only(workspace: Path, leftover: bool = False) -> Iterator[Path]:
    """The workspace made read-only: by permissions where they stop this user, else (root, who
    ignores permissions) through a read-only bind mount; skipped when neither is possible.

    ``leftover``: the store's -wal and -shm files are there, as a reader or a killed process
    leaves them (SQLite can then read the store, and the command gets further).
    """
    if leftover:
        conn = sqlite3.connect(f"file:{workspace / '.rfpflow' / 'cycle.sqlite3'}?mode=ro", uri=True)
        conn.execute("SELECT count(*) FROM events").fetchone()
        conn.close()
        assert (workspace / ".rfpflow" / "cycle.sqlite3-shm").exists()
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in [workspace, *workspace.rglob("*")]}
        for path in modes:
            path.chmod(modes[path] & ~0o222)
        try:
            yield workspace
        finally:
            for path, mode in modes.items():
                path.chmod(mode)
        return
    point = workspace.parent / (workspace.name + "-view")
    point.mkdir()
    bound = subprocess.run(["mount", "--bind", str(workspace), str(point)], capture_output=True)
    if bound.returncode != 0:
        pytest.skip("running as root, where chmod does not stop writes, and `mount --bind` is not allowed here")
    try:
        remounted = subprocess.run(["mount", "-o", "remount,bind,ro", str(point)], capture_output=True)
        if remounted.returncode != 0:
            pytest.skip("running as root and a read-only remount is not allowed here")
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


READ_ONLY_COMMANDS = {
    "bids import": (("bids", "import", "bids"), BIDS),
    "close": (("close",), CLOSE),
    "cancel": (("cancel", "--reason", "read-only test"), CLOSE),
    "render": (("render",), CLOSE),
    "export json": (("export", "json"), CLOSE),
}
#: (command, leftover) pairs that fail today with an internal error instead of a clear one.
READ_ONLY_BUGS: dict[tuple[str, bool], str] = {}  # all fixed; see docs/reliability.md


@pytest.fixture
def bids_in(stages: FlagshipStages, tmp_path: Path) -> Path:
    """A workspace with the flagship's bids imported (open for bids)."""
    return stages.copy_before(STEP["close"], tmp_path / "ws")


def _run_read_only(workspace: Path, name: str, leftover: bool) -> tuple[CliResult, bool]:
    """Run the command on the read-only workspace: (its result, whether the workspace is unchanged)."""
    args, now = READ_ONLY_COMMANDS[name]
    before, files = snapshot(workspace), _tree_digest(workspace)
    with read_only(workspace, leftover) as view:
        result = run_sub("-C", str(view), "--now", now, "--actor", ACTOR, *args)
    files = {k: v for k, v in files.items() if not k.endswith(("-shm", "-wal"))}
    after = {k: v for k, v in _tree_digest(workspace).items() if not k.endswith(("-shm", "-wal"))}
    return result, snapshot(workspace) == before and after == files


@pytest.fixture(scope="module")
def read_only_runs(stages: FlagshipStages, tmp_path_factory: pytest.TempPathFactory
                   ) -> dict[tuple[str, bool], tuple[CliResult, bool]]:
    root = tmp_path_factory.mktemp("ro-runs")
    return {(name, leftover): _run_read_only(stages.copy_before(STEP["close"], root / f"{name}-{leftover}"), name,
                                             leftover)
            for leftover in (False, True) for name in READ_ONLY_COMMANDS}


def _read_only_params(with_bugs: bool) -> list[Any]:
    out = []
    for leftover in (False, True):
        for name in READ_ONLY_COMMANDS:
            reason = READ_ONLY_BUGS.get((name, leftover)) if with_bugs else None
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            out.append(pytest.param(name, leftover, marks=marks,
                                    id=f"{name}-{'with-wal-files' if leftover else 'clean'}"))
    return out


@pytest.mark.parametrize(("name", "leftover"), _read_only_params(with_bugs=False))
def test_a_read_only_workspace_changes_nothing(read_only_runs: Any, name: str, leftover: bool) -> None:
    result, unchanged = read_only_runs[(name, leftover)]
    assert unchanged
    assert result.code != 0, result.output


@pytest.mark.parametrize(("name", "leftover"), _read_only_params(with_bugs=True))
def test_a_read_only_workspace_is_a_clear_error(read_only_runs: Any, name: str, leftover: bool) -> None:
    result, _ = read_only_runs[(name, leftover)]
    assert result.code == 2 and not result.crashed(), result.output


def test_a_read_only_workspace_is_named_as_such(read_only_runs: Any) -> None:
    result, _ = read_only_runs[("close", False)]
    assert result.code == 2 and "read-only" in result.stderr, result.stderr


@pytest.mark.parametrize("leftover", [
    pytest.param(False, id="clean"),
    pytest.param(True, id="with-wal-files")])
def test_an_auditor_can_verify_a_read_only_copy(bids_in: Path, leftover: bool) -> None:
    with read_only(bids_in, leftover) as workspace:
        verify = run_sub("-C", str(workspace), "audit", "verify")
        status = run_sub("-C", str(workspace), "--now", BIDS, "status")
    assert verify.code == 0 and verify.stdout.startswith("audit chain intact"), verify.output
    assert status.code == 0, status.output


# ---------------------------------------------------------------------------
# Plugins that raise, return the wrong type or hang
# ---------------------------------------------------------------------------

HOSTILE_PLUGIN = '''
import os, sys, time
from rfpflow import hookimpl


def _act(hook):
    if os.environ.get("HOSTILE_HOOK") != hook:
        return None
    mode = os.environ.get("HOSTILE_MODE")
    if mode == "raise":
        raise RuntimeError("the hostile plugin failed on purpose")
    if mode == "wrong-type":
        return "not what this hook returns"
    if mode == "wrong-items":
        return [42]
    if mode == "exit":
        sys.exit(0)
    if mode == "hang":
        time.sleep(3600)
    return None


@hookimpl(tryfirst=True)
def rfpflow_read_bids(source, rfp, context):
    return _act("rfpflow_read_bids")


@hookimpl(tryfirst=True)
def rfpflow_screen_bid(bid, bids, rfp, context):
    return _act("rfpflow_screen_bid")


@hookimpl(tryfirst=True)
def rfpflow_transition(transition, context):
    return _act("rfpflow_transition")
'''
PLUGIN_NAME = "hostile-plugin"
HOOK_STEP = {"rfpflow_read_bids": "bids import", "rfpflow_screen_bid": "screen", "rfpflow_transition": "close"}
PLUGIN_TIME_LIMIT = 2  # RFPFLOW_PLUGIN_TIMEOUT given to the command with the hanging plugin
HANG_LIMIT = 30  # seconds the test waits for rfpflow to stop it (start-up and the rest of the command included)


@pytest.fixture
def hostile_site(plugin_site: Any) -> Path:
    return plugin_site("hostile-plugin", {"hostile_plugin": HOSTILE_PLUGIN}, {PLUGIN_NAME: "hostile_plugin"})


def _with_plugin(stages: FlagshipStages, site: Path, tmp_path: Path, hook: str, mode: str,
                 timeout: float = 120) -> tuple[CliResult, Path, Any]:
    index = STEP[HOOK_STEP[hook]]
    workspace = stages.copy_before(index, tmp_path / "ws")
    before = snapshot(workspace)
    env = {"HOSTILE_HOOK": hook, "HOSTILE_MODE": mode}
    if mode == "hang":
        env["RFPFLOW_PLUGIN_TIMEOUT"] = str(PLUGIN_TIME_LIMIT)
    result = run_sub(*step_args(workspace, index), pythonpath=[site], timeout=timeout, env=env)
    return result, workspace, before


PLUGIN_FAULTS = [(hook, mode) for hook in HOOK_STEP for mode in ("raise", "wrong-type", "wrong-items")]
PLUGIN_BUGS: dict[tuple[str, str], str] = {}  # all fixed; see docs/reliability.md


def _plugin_params(slow: bool) -> list[Any]:
    """The read_bids and transition faults in the default run, the screening ones in the slow run."""
    out = []
    for hook, mode in PLUGIN_FAULTS:
        if (hook == "rfpflow_screen_bid") != slow or (hook, mode) == ("rfpflow_transition", "wrong-items"):
            continue
        bug = PLUGIN_BUGS.get((hook, mode))
        marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
        out.append(pytest.param(hook, mode, marks=[*marks, *([pytest.mark.slow] if slow else [])],
                                id=f"{hook}-{mode}"))
    return out


@pytest.mark.parametrize(("hook", "mode"), _plugin_params(slow=False) + _plugin_params(slow=True))
def test_a_failing_plugin_is_named_and_changes_nothing(stages: FlagshipStages, hostile_site: Path, tmp_path: Path,
                                                      hook: str, mode: str) -> None:
    result, workspace, before = _with_plugin(stages, hostile_site, tmp_path, hook, mode)
    assert result.code == 2 and not result.crashed(), result.output
    assert f"plugin '{PLUGIN_NAME}'" in result.stderr and hook in result.stderr, result.stderr
    assert snapshot(workspace) == before


def test_a_plugin_exiting_is_not_a_success(stages: FlagshipStages, hostile_site: Path, tmp_path: Path) -> None:
    result, workspace, before = _with_plugin(stages, hostile_site, tmp_path, "rfpflow_read_bids", "exit")
    assert snapshot(workspace) == before
    assert result.code == 2 and PLUGIN_NAME in result.stderr, result.output


def test_a_hanging_plugin_is_stopped_and_named(stages: FlagshipStages, hostile_site: Path, tmp_path: Path) -> None:
    """A plugin that never returns must not hang the command (nor hold the store's write lock) forever.

    RFPFLOW_PLUGIN_TIMEOUT sets the limit; the command must stop the plugin, name it and change nothing.
    """
    try:
        result, workspace, before = _with_plugin(stages, hostile_site, tmp_path, "rfpflow_read_bids", "hang",
                                                 timeout=HANG_LIMIT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the command still ran after {HANG_LIMIT} s")
    assert result.code == 2 and PLUGIN_NAME in result.stderr, result.output
    assert snapshot(workspace) == before


# ---------------------------------------------------------------------------
# Concurrent writers
# ---------------------------------------------------------------------------


def _concurrent_imports(workspace: Path, groups: list[list[Path]]) -> list[subprocess.CompletedProcess[str]]:
    children = [
        subprocess.Popen([sys.executable, "-m", "rfpflow", "-C", str(workspace), "--now", BIDS, "--actor",
                          f"clerk{n}", "bids", "import", *map(str, files)], env=clean_env(), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for n, files in enumerate(groups)
    ]
    done = []
    for child in children:
        out, err = child.communicate(timeout=300)
        done.append(subprocess.CompletedProcess(child.args, child.returncode, out, err))
    return done


def _events(workspace: Path) -> list[tuple[Any, ...]]:
    return list(snapshot(workspace)[1])


def test_four_processes_import_real_workbooks_at_once(stages: FlagshipStages, tmp_path: Path) -> None:
    workspace = stages.copy_before(STEP["bids import"], tmp_path / "ws")
    bids = [workspace / "bids" / f"{vendor}.xlsx" for vendor in FLAGSHIP_VENDORS]
    groups = [bids[0:2], bids[2:4], bids[4:5], bids[5:6]]
    for done in _concurrent_imports(workspace, groups):
        assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(stored_bids(workspace)) == sorted(FLAGSHIP_VENDORS)
    events = _events(workspace)
    received = [e for e in events if e[5] == "bid.received"]
    assert len(received) == 6 and {e[4] for e in received} == {"clerk0", "clerk1", "clerk2", "clerk3"}
    assert integrity(workspace) == "ok"
    verify = run_sub("-C", str(workspace), "audit", "verify")
    assert verify.code == 0 and verify.stdout.startswith("audit chain intact: 8 events"), verify.output


@pytest.mark.slow
@pytest.mark.parametrize("round_", range(3))
def test_four_processes_resubmitting_every_bid_at_once(stages: FlagshipStages, tmp_path: Path, round_: int) -> None:
    """Each of four clerks imports all six workbooks, while two readers ask for the status and the log.

    The workbooks were imported once already, so every clerk finds them unchanged: the store must
    still be read and locked in turn, and nothing may be recorded twice."""
    workspace = stages.copy_before(STEP["close"], tmp_path / "ws")
    bids = [workspace / "bids" / f"{vendor}.xlsx" for vendor in FLAGSHIP_VENDORS]
    readers = [subprocess.Popen([sys.executable, "-m", "rfpflow", "-C", str(workspace), "--now", BIDS, *args],
                                env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for args in (("status", "--json"), ("log", "--json"))]
    for done in _concurrent_imports(workspace, [bids[n:] + bids[:n] for n in range(4)]):
        assert done.returncode == 0, done.stdout + done.stderr
    for reader in readers:
        out, err = reader.communicate(timeout=300)
        assert reader.returncode == 0, out + err
    events = _events(workspace)
    assert sum(1 for e in events if e[5] == "bid.received") == 6  # byte-identical re-imports record nothing
    assert [e[0] for e in events] == list(range(1, len(events) + 1))
    verify = run_inproc("-C", str(workspace), "audit", "verify")
    assert verify.code == 0 and f"{len(events)} events" in verify.stdout, verify.output


def test_the_stages_replay_the_flagship_cycle(stages: FlagshipStages) -> None:
    assert len(FLAGSHIP_STEPS) == len(STEP)
    assert snapshot(stages.before(STEP["close"]))[0][0][2] == "issued"
