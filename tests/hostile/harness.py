"""Running the real CLI against workspaces, and looking at what it left behind.

``run_inproc`` calls :func:`rfpflow.cli.main` in this process (the same code path as
the ``rfpflow`` command, ~0.1 s a call); ``run_sub`` starts ``python -m rfpflow``
(~0.5 s a call). Both return a :class:`CliResult`. The store is compared with
:func:`snapshot` (every row of the three SQLite tables, as tests/test_workflow.py
does) and :func:`normalised` (the same without the wall-clock times and the hashes
that cover them, for comparing two runs of one command made at different real times).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs

from tests.conftest import clean_env, run_cli

ROOT = Path(__file__).resolve().parents[2]
FLAGSHIP = ROOT / "samples" / "customer-service-outsourcing"
FLAGSHIP_VENDORS = ("anxun", "huaxin", "lianjie", "xinrui", "yuanjing", "zhongli")

# The generic profile's timeline (rfpflow new): bids close 2027-01-29 17:00 +08:00.
GENERIC_ISSUE = "2027-01-05T09:00:00+08:00"
GENERIC_BIDS = "2027-01-20T09:00:00+08:00"
GENERIC_CLOSED = "2027-02-01T09:00:00+08:00"

# The flagship sample's timeline (as tests/test_cycle_guards.py drives it).
ISSUE, BIDS, CLOSE = "2027-01-04T09:00:00+08:00", "2027-01-28T10:00:00+08:00", "2027-01-30T09:00:00+08:00"
TRIAL_END, AWARD = "2027-04-05T09:00:00+08:00", "2027-04-12T10:00:00+08:00"
AFTER_STANDSTILL = "2027-04-23T10:00:00+08:00"
ACTOR = "li.wei"


@attrs.frozen
class CliResult:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def clean_failure(self) -> bool:
        """Exit 2 with a message, and neither a traceback nor rfpflow's 'internal error' (a bug)."""
        return self.code == 2 and not self.crashed() and bool(self.stderr.strip())

    def crashed(self) -> bool:
        return "Traceback" in self.output or "internal error" in self.stderr


@contextlib.contextmanager
def _cli_environment() -> Iterator[None]:
    saved = {k: v for k, v in os.environ.items() if k.startswith("RFPFLOW_")}
    for key in saved:
        del os.environ[key]
    old_colour = os.environ.get("NO_COLOR")
    os.environ["NO_COLOR"] = "1"
    try:
        yield
    finally:
        os.environ.update(saved)
        if old_colour is None:
            os.environ.pop("NO_COLOR", None)
        else:
            os.environ["NO_COLOR"] = old_colour


def run_inproc(*args: str) -> CliResult:
    """``rfpflow ARGS`` through :func:`rfpflow.cli.main`, in this process."""
    from rfpflow.cli import main

    out, err = io.StringIO(), io.StringIO()
    code: Any = 0
    with _cli_environment(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code
    if code is None:
        code = 0
    elif not isinstance(code, int):
        err.write(str(code))
        code = 1
    return CliResult(code, out.getvalue(), err.getvalue())


def run_sub(*args: str, env: dict[str, str] | None = None, pythonpath: Sequence[Path] = (),
            timeout: float = 120) -> CliResult:
    """``python -m rfpflow ARGS`` in a subprocess, as a user would run it."""
    if timeout == 120:
        result = run_cli(*args, env=env, pythonpath=list(pythonpath) or None)
    else:
        environment = clean_env(env)
        if pythonpath:
            environment["PYTHONPATH"] = os.pathsep.join(str(p) for p in pythonpath)
        result = subprocess.run([sys.executable, "-m", "rfpflow", *args], env=environment, capture_output=True,
                                text=True, timeout=timeout)
    return CliResult(result.returncode, result.stdout, result.stderr)


def ok(result: CliResult) -> CliResult:
    assert result.code == 0, result.output
    return result


# ---------------------------------------------------------------------------
# The store
# ---------------------------------------------------------------------------

Snapshot = tuple[tuple[Any, ...], tuple[Any, ...], tuple[Any, ...]]
EMPTY: Snapshot = ((), (), ())


def store_file(workspace: Path) -> Path:
    return workspace / ".rfpflow" / "cycle.sqlite3"


def snapshot(workspace: Path) -> Snapshot:
    """Every row of the cycle, events and records tables; empty when there is no store (yet)."""
    path = store_file(workspace)
    if not path.exists():
        return EMPTY
    # A plain connection, as tests/test_workflow.py opens it: a read-only one would leave the
    # -wal and -shm files behind, and a later "read-only workspace" would not be one.
    conn = sqlite3.connect(path)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"cycle", "events", "records"} <= tables:
            return EMPTY
        return (tuple(conn.execute("SELECT * FROM cycle").fetchall()),
                tuple(conn.execute("SELECT * FROM events ORDER BY seq").fetchall()),
                tuple(conn.execute("SELECT * FROM records ORDER BY collection, key").fetchall()))
    finally:
        conn.close()


def normalised(snap: Snapshot) -> Snapshot:
    """A snapshot without what depends on the real time of a run: events' ``wall_at``, the
    hashes covering it (``prev_hash``, ``hash``) and the cycle's ``chain_head``."""
    cycle = tuple(row[:5] + row[6:] for row in snap[0])  # id, rfp_id, stage, hash, text | event_count
    events = tuple(row[:2] + row[3:7] for row in snap[1])  # seq, at | simulated, actor, kind, data
    return cycle, events, snap[2]


def integrity(workspace: Path) -> str:
    """``PRAGMA integrity_check`` of the store ("ok"), or "no store"."""
    path = store_file(workspace)
    if not path.exists():
        return "no store"
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def stored_bids(workspace: Path) -> dict[str, dict[str, Any]]:
    """The bids in the store as plain JSON (``{"bid": {...}, "submitted_at": ...}``), by vendor id."""
    import json

    return {key: json.loads(data) for collection, key, data in snapshot(workspace)[2] if collection == "bids"}


def plain(value: Any) -> Any:
    """A stored JSON value without serde's tags: ``{"$decimal": "12"}`` -> ``"12"``."""
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)).startswith("$"):
            return next(iter(value.values()))
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def problem_lines(stderr: str) -> list[str]:
    return [line.strip() for line in stderr.splitlines() if line.strip()]


def has_problem(stderr: str, file: str, place: str | None, fragment: str) -> bool:
    """Whether a line reads ``FILE:PLACE: ...FRAGMENT...`` (``FILE: ...`` when place is None)."""
    head = f"{file}:{place}: " if place else f"{file}: "
    return any(line.startswith(head) and fragment in line for line in problem_lines(stderr))


# ---------------------------------------------------------------------------
# Workspaces
# ---------------------------------------------------------------------------


def issued_generic(folder: Path, *, language: str = "en", edit: Any = None) -> Path:
    """A workspace from the generic profile (``rfpflow new``), issued, open for bids."""
    ok(run_inproc("new", str(folder), "--language", language))
    if edit is not None:
        path = folder / "rfp.toml"
        path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    ok(run_inproc("-C", str(folder), "--now", GENERIC_ISSUE, "--actor", "tester", "issue"))
    return folder


def bid_workbook(workspace: Path) -> Path:
    found = sorted((workspace / "out").glob("*-bid-response.xlsx"))
    assert found, "issue wrote no bid-response workbook"
    return found[0]


def flagship_copy(target: Path, *, bids: bool = True) -> Path:
    """A workspace holding the flagship sample's inputs (not yet issued)."""
    target.mkdir(parents=True)
    for name in ("rfp.toml", "registry.json"):
        shutil.copy(FLAGSHIP / name, target / name)
    for folder in ("evaluations", "trial", *(("bids",) if bids else ())):
        shutil.copytree(FLAGSHIP / folder, target / folder)
    return target


#: The flagship cycle, command by command: (label, arguments, simulated time).
FLAGSHIP_STEPS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("issue", ("issue",), ISSUE),
    ("bids import", ("bids", "import", "bids"), BIDS),
    ("close", ("close",), CLOSE),
    ("screen", ("screen",), CLOSE),
    ("screen resolve", ("screen", "resolve", "lianjie", "abnormally_low", "--decision", "pass", "--reason",
                        "explained in clarification 2"), CLOSE),
    ("screen resolve 2", ("screen", "resolve", "zhongli", "labour-dispatch", "--decision", "fail", "--reason",
                          "labour dispatch"), CLOSE),
    ("evaluate sheets", ("evaluate", "sheets"), CLOSE),
    ("evaluate import", ("evaluate", "import", "evaluations"), CLOSE),
    ("evaluate rank", ("evaluate", "rank"), CLOSE),
    ("shortlist", ("shortlist",), CLOSE),
    ("trial import", ("trial", "import", "trial"), TRIAL_END),
    ("trial evaluate", ("trial", "evaluate"), TRIAL_END),
    ("award", ("award",), AWARD),
    ("award confirm", ("award", "confirm"), AFTER_STANDSTILL),
    ("render", ("render",), AFTER_STANDSTILL),
)
STEP_NAMES = tuple(step[0] for step in FLAGSHIP_STEPS)


def step_args(workspace: Path, index: int) -> list[str]:
    _, args, now = FLAGSHIP_STEPS[index]
    return ["-C", str(workspace), "--now", now, "--actor", ACTOR, *args]


class FlagshipStages:
    """Workspaces of the flagship cycle before each step, built once (uninterrupted, in-process)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._built: list[Path] = []

    def before(self, index: int) -> Path:
        """The workspace as it is before step ``index`` (and after step ``index - 1``)."""
        while len(self._built) <= index:
            n = len(self._built)
            target = self.root / f"before-{n:02d}"
            if n == 0:
                flagship_copy(target)
            else:
                shutil.copytree(self._built[n - 1], target, symlinks=True)
                ok(run_inproc(*step_args(target, n - 1)))
            self._built.append(target)
        return self._built[index]

    def copy_before(self, index: int, target: Path) -> Path:
        shutil.copytree(self.before(index), target, symlinks=True)
        return target


# ---------------------------------------------------------------------------
# Killing a command at a chosen point
# ---------------------------------------------------------------------------

#: A child that runs ``rfpflow ARGS`` and SIGKILLs itself at a chosen point. ``MODE N``:
#: ``call N`` -- at the N-th profiled call made in rfpflow's own code (a Python function of the
#: package, or a C function it calls: SQLite, file writes, ...); ``sql N`` -- just before the
#: N-th SQL statement the store executes (BEGIN, INSERT, COMMIT, ...); ``count 0`` -- run to the
#: end and write both totals to COUNT_FILE as JSON.
KILLER = textwrap.dedent('''
    import json, os, signal, sys
    mode, target, count_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    args = sys.argv[sys.argv.index("--") + 1:]
    import rfpflow, rfpflow.cli  # imported before profiling starts: counting starts with the command
    import rfpflow.workflow, rfpflow.store, rfpflow.documents.render, openpyxl, jinja2  # noqa
    root = os.path.dirname(rfpflow.__file__)
    store = os.path.join(root, "store", "sqlite.py")
    counts = {"call": 0, "sql": 0}

    def profile(frame, event, arg):
        if event not in ("call", "c_call"):
            return
        where = frame.f_code.co_filename
        if not where.startswith(root):
            return
        counts["call"] += 1
        if event == "c_call" and where == store and getattr(arg, "__name__", "") == "execute":
            counts["sql"] += 1
        if mode != "count" and counts[mode] == target:
            os.kill(os.getpid(), signal.SIGKILL)

    def report():
        if mode == "count":
            with open(count_file, "w") as handle:
                json.dump(counts, handle)

    import atexit
    atexit.register(report)
    sys.setprofile(profile)
    from rfpflow.cli import main
    main(args)
''')


def killer_script(folder: Path) -> Path:
    path = folder / "killer.py"
    if not path.exists():
        path.write_text(KILLER, encoding="utf-8")
    return path


def run_killer(script: Path, mode: str, target: int, count_file: Path, args: Sequence[str],
               env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(script), mode, str(target), str(count_file), "--", *args],
                          env=clean_env(env), capture_output=True, text=True, timeout=timeout, cwd=str(ROOT))


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


# ---------------------------------------------------------------------------
# The flagship sample with hostile vendor text
# ---------------------------------------------------------------------------


def hostile_sample(target: Path, names: dict[str, str], *, q4_comment: str = "") -> Path:
    """A copy of the flagship sample whose vendors call themselves ``names`` (vendor id -> name).

    The company registry no longer confirms the renamed vendors, so decisions.toml gets a
    recorded decision settling each vendor's ``registry.identity`` review; ``q4_comment``
    is appended to zhongli's answer to Q4 (which the labour-dispatch gate quotes).
    """
    import openpyxl

    from rfpflow.spreadsheets.cells import write_text

    shutil.copytree(FLAGSHIP, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    for vendor, name in names.items():
        path = target / "bids" / f"{vendor}.xlsx"
        wb = openpyxl.load_workbook(path)
        ws = wb["Company"]
        cell = next(c for row in ws.iter_rows(min_row=1, max_row=20) for c in row
                    if isinstance(c.value, str) and "Vendor name" in c.value)
        write_text(ws.cell(cell.row, cell.column + 1), name)
        if vendor == "zhongli" and q4_comment:
            qs = wb["Questionnaire"]
            row = next(r for r in range(1, 30) if qs.cell(r, 1).value == "Q4")
            comment = qs.cell(row, 5)
            write_text(comment, f"{comment.value or ''} {q4_comment}".strip())
        wb.save(path)
    with (target / "decisions.toml").open("a", encoding="utf-8") as handle:
        for vendor in names:
            handle.write(f'\n[[screening]]\nvendor = "{vendor}"\ngate = "registry.identity"\ndecision = "pass"\n'
                         'reason = "identity confirmed with the registry by telephone"\nactor = "li.wei"\n')
    return target


# ---------------------------------------------------------------------------
# Filling the disk at a chosen moment
# ---------------------------------------------------------------------------

#: A child that runs ``rfpflow ARGS`` and fills the disk holding FILLER at a chosen moment:
#: ``commit`` -- just before the store's COMMIT (the transaction has all its writes pending);
#: ``committed`` -- just after it (the documents are still to be written). Without a disk
#: of its own (no tmpfs), ``rlimit`` as the method sets RLIMIT_FSIZE so that no file may grow.
DISK_FILLER = textwrap.dedent('''
    import os, resource, sqlite3, sys
    moment, method, filler = sys.argv[1], sys.argv[2], sys.argv[3]
    args = sys.argv[sys.argv.index("--") + 1:]
    done = []

    def full():
        if done:
            return
        done.append(1)
        if method == "rlimit":
            resource.setrlimit(resource.RLIMIT_FSIZE, (1, 1))
            return
        stat = os.statvfs(os.path.dirname(filler))
        with open(filler, "wb") as handle:
            handle.write(b"\\0" * (stat.f_bavail * stat.f_frsize))

    class Connection(sqlite3.Connection):
        def execute(self, sql, *rest):
            commit = sql.strip().upper() == "COMMIT"
            if commit and moment == "commit":
                full()
            result = super().execute(sql, *rest)
            if commit and moment == "committed":
                full()
            return result

    connect = sqlite3.connect
    sqlite3.connect = lambda *a, **k: connect(*a, factory=Connection, **k)
    from rfpflow.cli import main
    main(args)
''')


def filler_script(folder: Path) -> Path:
    path = folder / "disk_filler.py"
    if not path.exists():
        path.write_text(DISK_FILLER, encoding="utf-8")
    return path
