"""The store contract on both backends: SQLite in the workspace and PostgreSQL on a real server.

The PostgreSQL runs use a throwaway cluster (tests/pgcluster.py) and skip, with the reason, where
no server binaries are installed. Store-level tests call each backend directly; the workflow
tests run the real CLI with ``RFPFLOW_STORE`` set (or not).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from rfpflow.errors import RfpflowError
from rfpflow.store import CycleState, verify_chain
from rfpflow.store.sqlite import SqliteStore
from tests.conftest import clean_env
from tests.hostile.harness import ACTOR, BIDS, FLAGSHIP_STEPS, FLAGSHIP_VENDORS, flagship_copy, step_args

T0 = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)


# ---------------------------------------------------------------------------
# Store level
# ---------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def open_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., Any]:
    """Open (again) one cycle's store on the parametrised backend."""
    if request.param == "sqlite":
        path = tmp_path / ".rfpflow" / "cycle.sqlite3"
        path.parent.mkdir()
        return lambda **kw: SqliteStore(path, create=True, **kw)
    from rfpflow.store.postgresql import PostgresStore

    url = request.getfixturevalue("pg_cluster").url()
    cycle = uuid.uuid4().hex
    return lambda **kw: PostgresStore(url, cycle, workspace=tmp_path, **kw)


def _fill(store: Any, *, events: int = 3) -> None:
    with store.transaction() as tx:
        tx.save_state(CycleState("RFP-1", "issued", "d" * 64, "[rfp]\nid = 'RFP-1'\n"))
        for n in range(events):
            at = T0 + dt.timedelta(minutes=n)
            tx.append_event("thing.done", {"n": n, "price": {"$decimal": "12.50"}, "名": "中文"}, actor="li.wei",
                            at=at, wall_at=at, simulated=bool(n % 2))
        tx.put("bids", "zeta", {"amount": {"$decimal": "1.10"}, "when": {"$date": "2027-01-05"}})
        tx.put("bids", "Alpha", {"amount": 3})
        tx.put("bids", "alpha", {"amount": 2})
        tx.put("screening", "alpha/g1", {"outcome": "pass"})


def _everything(store: Any) -> dict[str, Any]:
    with store.read() as tx:
        return {"state": tx.state(), "raw": [tuple(r) for r in tx.raw_events()],
                "events": [e.as_json() for e in tx.events()], "bids": tx.all("bids"), "raw_bids": tx.all_raw("bids"),
                "one": tx.get("bids", "zeta"), "one_raw": tx.get_raw("bids", "zeta"), "none": tx.get("bids", "x"),
                "screening": tx.all("screening"), "records": tx.raw_records(),
                "verify": verify_chain(tx.raw_events(), tx.state())}


def test_both_backends_store_the_same_bytes_and_hashes(pg_cluster: Any, tmp_path: Path) -> None:
    from rfpflow.store.postgresql import PostgresStore

    (tmp_path / ".rfpflow").mkdir()
    sqlite = SqliteStore(tmp_path / ".rfpflow" / "cycle.sqlite3", create=True)
    server = PostgresStore(pg_cluster.url(), uuid.uuid4().hex)
    try:
        _fill(sqlite)
        _fill(server)
        assert _everything(sqlite) == _everything(server)
        assert _everything(server)["verify"].ok
        assert [k for k, _ in _everything(server)["bids"]] == ["Alpha", "alpha", "zeta"]  # byte order on both
    finally:
        sqlite.close()
        server.close()


def test_a_command_is_one_transaction(open_backend: Callable[..., Any]) -> None:
    store = open_backend()
    _fill(store)
    before = _everything(store)
    with pytest.raises(ZeroDivisionError), store.transaction() as tx:
        at = T0 + dt.timedelta(days=1)
        tx.append_event("half.done", {}, actor="x", at=at, wall_at=at, simulated=False)
        tx.put("bids", "new", {"a": 1})
        tx.delete("bids", "zeta")
        tx.save_state(CycleState("RFP-1", "awarded", "e" * 64, ""))
        raise ZeroDivisionError
    assert _everything(store) == before
    with store.transaction() as tx:
        tx.delete("bids", "zeta")
        tx.put("bids", "alpha", {"amount": 5})
    store.close()
    again = open_backend()
    after = _everything(again)
    again.close()
    assert after["bids"] == [("Alpha", {"amount": 3}), ("alpha", {"amount": 5})]
    assert after["verify"].ok and after["verify"].events == 3


def test_a_new_store_has_no_cycle(open_backend: Callable[..., Any]) -> None:
    store = open_backend()
    with store.transaction() as tx:
        assert tx.state() is None and tx.events() == [] and tx.all("bids") == [] and tx.get("bids", "a") is None
    store.close()


def test_tampering_is_caught_the_same_way(open_backend: Callable[..., Any], pg_cluster: Any) -> None:
    store = open_backend()
    _fill(store)
    if isinstance(store, SqliteStore):
        store.conn.execute("UPDATE events SET data = '{\"n\":9}' WHERE seq = 2")
    else:
        store.conn.execute("UPDATE rfpflow_events SET data = '{\"n\":9}' WHERE seq = 2 AND cycle_id = %s",
                           (store.cycle,))
    report = _everything(store)["verify"]
    store.close()
    assert not report.ok
    assert report.message == "event 2 (thing.done) was changed or moved after it was recorded " \
                             "(its hash does not match its content)"


def test_concurrent_writers_never_fork_the_chain(open_backend: Callable[..., Any]) -> None:
    first = open_backend()
    _fill(first, events=1)
    first.close()
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for k in range(10):
                store = open_backend()
                try:
                    with store.transaction() as tx:
                        at = T0 + dt.timedelta(seconds=k)
                        tx.append_event("tick", {"writer": n, "k": k}, actor=f"w{n}", at=at, wall_at=at,
                                        simulated=False)
                        tx.put("ticks", f"{n}-{k}", {"n": n})
                finally:
                    store.close()
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    last = open_backend()
    everything = _everything(last)
    last.close()
    assert everything["verify"].ok and everything["verify"].events == 61
    assert [r[0] for r in everything["raw"]] == list(range(1, 62))


def test_a_command_waits_for_the_cycle_lock_instead_of_failing(pg_cluster: Any) -> None:
    from rfpflow.store.postgresql import PostgresStore

    url, cycle = pg_cluster.url(), uuid.uuid4().hex
    holder, waiter = PostgresStore(url, cycle), PostgresStore(url, cycle)
    _fill(holder, events=1)
    done: list[float] = []

    def second() -> None:
        with waiter.transaction() as tx:
            done.append(time.monotonic())
            tx.put("bids", "late", {"a": 1})

    with holder.transaction() as tx:
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)
        assert done == []  # waiting on the row lock, not failing as busy
        tx.put("bids", "first", {"a": 0})
        released = time.monotonic()
    thread.join(10)
    assert done and done[0] >= released
    other = PostgresStore(url, uuid.uuid4().hex)  # another cycle is never held up by this one
    with holder.transaction(), other.transaction() as tx:
        assert tx.state() is None
    for store in (holder, waiter, other):
        store.close()


def test_a_lock_held_too_long_is_a_clear_error_and_changes_nothing(pg_cluster: Any) -> None:
    from rfpflow.store.postgresql import PostgresStore

    url, cycle = pg_cluster.url(), uuid.uuid4().hex
    holder = PostgresStore(url, cycle)
    impatient = PostgresStore(url, cycle, lock_wait_s=0.3)
    _fill(holder, events=1)
    with holder.transaction(), pytest.raises(RfpflowError, match=r"ran over its time limit.*nothing was changed"), \
            impatient.transaction() as tx:
        tx.put("bids", "never", {})
    assert _everything(impatient)["bids"] == _everything(holder)["bids"]
    holder.close()
    impatient.close()


def test_a_deadlock_with_another_client_is_reported_and_changes_nothing(pg_cluster: Any) -> None:
    """Another database client locks one of the cycle's records, then waits for the cycle while our
    command (holding the cycle) waits for that record: the server breaks the deadlock, our command
    rolls back and says so."""
    import psycopg

    from rfpflow.store import postgresql

    url, cycle = pg_cluster.url(), uuid.uuid4().hex
    store = postgresql.PostgresStore(url, cycle)
    _fill(store, events=1)
    before = _everything(store)
    conflicts = postgresql.STATS.conflicts
    other = psycopg.connect(url)
    other.execute("UPDATE rfpflow_records SET data = data WHERE cycle_id = %s AND key = 'alpha'", (cycle,))
    outcome: list[BaseException] = []

    def command() -> None:
        try:
            with store.transaction() as tx:
                tx.put("bids", "alpha", {"amount": 99})
        except BaseException as exc:  # asserted below
            outcome.append(exc)

    thread = threading.Thread(target=command)
    thread.start()
    time.sleep(0.3)
    with contextlib.suppress(psycopg.errors.DeadlockDetected):
        other.execute("SELECT 1 FROM rfpflow_cycles WHERE cycle_id = %s FOR UPDATE", (cycle,))
    other.rollback()
    other.close()
    thread.join(30)
    assert len(outcome) == 1 and isinstance(outcome[0], RfpflowError), outcome
    assert "met a conflicting command on the same cycle" in str(outcome[0])
    assert "nothing was changed" in str(outcome[0])
    assert postgresql.STATS.conflicts == conflicts + 1
    assert _everything(store) == before
    store.close()


def test_the_migration_runner(pg_cluster: Any) -> None:
    import psycopg

    from rfpflow.store.postgresql import MIGRATIONS, PostgresStore, migrate, schema_version

    url = pg_cluster.create_database(f"mig_{uuid.uuid4().hex[:8]}")
    with psycopg.connect(url, autocommit=True) as conn:
        assert schema_version(conn, where="db") == 0
    reader = PostgresStore(url, "c", read_only=True)  # a reader of a database without tables sees no cycle
    with reader.read() as tx:
        assert tx.state() is None
    reader.close()
    # two processes' first commands at once: one migrates, the other waits and finds it done
    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.append(PostgresStore(url, uuid.uuid4().hex)))
               for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 3
    for store in results:
        with store.transaction():
            pass  # a cycle row, for the next migration to carry
        store.close()
    with psycopg.connect(url, autocommit=True) as conn:
        assert schema_version(conn, where="db") == 1
        later = {**MIGRATIONS, 2: ("ALTER TABLE rfpflow_cycles ADD COLUMN archived BOOLEAN NOT NULL DEFAULT false",)}
        assert migrate(conn, where="db", migrations=later) == 2
        assert migrate(conn, where="db", migrations=later) == 2  # idempotent
        assert conn.execute("SELECT count(*) FROM rfpflow_cycles WHERE NOT archived").fetchone() == (3,)
        with pytest.raises(RfpflowError, match=r"newer rfpflow.*schema 2, this one reads 1"):
            schema_version(conn, where="db")
    with pytest.raises(RfpflowError, match="newer rfpflow"):
        PostgresStore(url, "c")


def test_a_long_running_process_shares_a_pool_of_connections(pg_cluster: Any) -> None:
    import psycopg

    from rfpflow.store import postgresql
    from rfpflow.store.config import use_server_pool

    url = pg_cluster.create_database(f"pool_{uuid.uuid4().hex[:8]}")
    cycles = [uuid.uuid4().hex for _ in range(4)]
    use_server_pool(3)
    errors: list[BaseException] = []
    seen: list[int] = []

    def portal_thread(n: int) -> None:
        try:
            for k in range(5):
                store = postgresql.PostgresStore(url, cycles[(n + k) % 4])
                try:
                    with store.transaction() as tx:
                        if tx.state() is None:
                            tx.save_state(CycleState("RFP", "issued", "d", ""))
                        tx.append_event("tick", {"n": n}, actor="portal", at=T0, wall_at=T0, simulated=False)
                        seen.append(store.conn.info.backend_pid)
                finally:
                    store.close()
        except BaseException as exc:  # asserted below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=portal_thread, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        postgresql.use_pool(None)  # back to one connection per store for the other tests
    assert errors == [] and len(seen) == 40
    assert len(set(seen)) <= 3  # 40 transactions over at most 3 server connections
    with psycopg.connect(url) as conn:
        counts = conn.execute("SELECT event_count FROM rfpflow_cycles ORDER BY cycle_id").fetchall()
    assert sum(c for (c,) in counts) == 40


def test_many_cycles_share_one_database(pg_cluster: Any) -> None:
    from rfpflow.store.postgresql import PostgresStore

    stores = [PostgresStore(pg_cluster.url(), uuid.uuid4().hex) for _ in range(3)]
    for n, store in enumerate(stores):
        _fill(store, events=n + 1)
    assert [_everything(s)["verify"].events for s in stores] == [1, 2, 3]
    for store in stores:
        store.close()


# ---------------------------------------------------------------------------
# Configuration and clear errors
# ---------------------------------------------------------------------------


def _run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rfpflow", *args], env=clean_env(env), capture_output=True,
                          text=True, timeout=180, cwd=cwd)


def _ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.mark.parametrize("problem", ["down", "password", "no-database"])
def test_a_server_that_is_down_or_refuses_is_one_clear_error(pg_cluster: Any, tmp_path: Path, problem: str) -> None:
    workspace = flagship_copy(tmp_path / "ws")
    before = _files(workspace)
    url = {"down": "postgresql://rfpflow@127.0.0.1:1/rfpflow",
           "password": pg_cluster.tcp_url(password="wrong-password"),
           "no-database": pg_cluster.url("no_such_db")}[problem]
    done = _run(*step_args(workspace, 0), env={"RFPFLOW_STORE": url})
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "wrong-password" not in done.stderr
    message = {"down": "cannot reach the store server postgresql://rfpflow@127.0.0.1:1/rfpflow",
               "password": "refused the credentials", "no-database": "has no such database"}[problem]
    assert message in done.stderr and "nothing was changed" in done.stderr
    assert _files(workspace) == before  # nothing half-written: no pointer, no documents


def test_the_store_url_comes_from_the_user_config_and_never_holds_a_password_on_disk(
        pg_cluster: Any, tmp_path: Path) -> None:
    workspace = flagship_copy(tmp_path / "ws")
    config = tmp_path / "xdg" / "rfpflow" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'[store]\nurl = "{pg_cluster.tcp_url()}"\n', encoding="utf-8")
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    _ok(_run(*step_args(workspace, 0), env=env))
    pointer = (workspace / ".rfpflow" / "store.toml").read_text(encoding="utf-8")
    assert f'url = "postgresql://rfpflow@127.0.0.1:{pg_cluster.port}/rfpflow"' in pointer
    assert "s3cret" not in pointer and not (workspace / ".rfpflow" / "cycle.sqlite3").exists()
    status = json.loads(_ok(_run("-C", str(workspace), "status", "--json", env=env)).stdout)
    assert status["stage"] == "issued"
    # without the config's credentials the pointer's server refuses: a clear error, not a SQLite fallback
    done = _run("-C", str(workspace), "status", env={"XDG_CONFIG_HOME": str(tmp_path / "none")})
    assert done.returncode == 2 and "refused the credentials" in done.stderr, done.stderr
    config.write_text('[store]\nurl = "mysql://x"\n', encoding="utf-8")
    done = _run(*step_args(flagship_copy(tmp_path / "ws2"), 0), env=env)
    assert done.returncode == 2 and "must be a postgresql://" in done.stderr and "Traceback" not in done.stderr


def test_nothing_configured_is_sqlite_as_before(tmp_path: Path) -> None:
    workspace = flagship_copy(tmp_path / "ws")
    _ok(_run(*step_args(workspace, 0), env={"XDG_CONFIG_HOME": str(tmp_path / "none")}))
    names = {p.name for p in (workspace / ".rfpflow").iterdir()}
    assert "cycle.sqlite3" in names and "store.toml" not in names


def test_help_does_not_import_psycopg() -> None:
    code = ("import sys; from rfpflow.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('psycopg')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


# ---------------------------------------------------------------------------
# The workflow end to end, on both backends
# ---------------------------------------------------------------------------


def _normal_log(workspace: Path, env: dict[str, str]) -> list[tuple[Any, ...]]:
    events = json.loads(_ok(_run("-C", str(workspace), "log", "--json", env=env)).stdout)
    return [(e["seq"], e["at"], e["actor"], e["kind"], json.dumps(e["data"], sort_keys=True)) for e in events]


@pytest.fixture(scope="module")
def flagship_runs(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Any]:
    """The flagship cycle, every command, once on each backend."""
    runs: dict[str, tuple[Path, dict[str, str]]] = {}
    envs: dict[str, dict[str, str]] = {"sqlite": {}}
    with contextlib.suppress(pytest.skip.Exception):  # the SQLite run still happens
        envs["postgresql"] = {"RFPFLOW_STORE": request.getfixturevalue("pg_cluster").url()}
    for name, env in envs.items():
        workspace = flagship_copy(tmp_path_factory.mktemp(name) / "ws")
        for index in range(len(FLAGSHIP_STEPS)):
            _ok(_run(*step_args(workspace, index), env=env))
        runs[name] = (workspace, env)
    yield runs


def test_the_whole_cycle_runs_the_same_on_postgresql(flagship_runs: dict[str, tuple[Path, dict[str, str]]]) -> None:
    if "postgresql" not in flagship_runs:
        pytest.skip("PostgreSQL runs skipped: no server binaries (/usr/lib/postgresql/*/bin/initdb)")
    (lite, lite_env), (server, server_env) = flagship_runs["sqlite"], flagship_runs["postgresql"]
    assert (server / ".rfpflow" / "store.toml").exists() and not (server / ".rfpflow" / "cycle.sqlite3").exists()
    assert _normal_log(lite, lite_env) == _normal_log(server, server_env)
    for place, env in ((lite, lite_env), (server, server_env)):
        verify = _ok(_run("-C", str(place), "audit", "verify", env=env))
        assert verify.stdout.startswith("audit chain intact: ")
    statuses = [json.loads(_ok(_run("-C", str(p), "status", "--json", env=e)).stdout) for p, e in
                ((lite, lite_env), (server, server_env))]
    for status in statuses:
        status.pop("chain_head")  # the wall-clock times differ, so do the hashes
        status.pop("workspace")
    assert statuses[0] == statuses[1] and statuses[0]["stage"] == "awarded"
    documents = sorted(p.name for p in (lite / "out").iterdir())
    assert documents == sorted(p.name for p in (server / "out").iterdir()) and documents


def test_store_copy_there_and_back_keeps_the_whole_history(pg_cluster: Any,
                                                          flagship_runs: dict[str, tuple[Path, dict[str, str]]],
                                                          tmp_path: Path) -> None:
    source = flagship_runs["sqlite"][0]
    workspace = tmp_path / "ws"
    shutil.copytree(source, workspace)
    original = (workspace / ".rfpflow" / "cycle.sqlite3").read_bytes()
    env = {"RFPFLOW_STORE": pg_cluster.url()}
    log = _normal_log(workspace, {})
    raw = _ok(_run("-C", str(workspace), "log", "--json")).stdout
    copied = _ok(_run("-C", str(workspace), "store", "copy", "--to", pg_cluster.url()))
    assert "audit chain verified on arrival" in copied.stdout
    assert (workspace / ".rfpflow" / "store.toml").exists()
    assert (workspace / ".rfpflow" / "cycle.sqlite3").read_bytes() == original  # the source is left alone
    # now the workspace reads the server copy: the very same events, hashes and all
    assert _ok(_run("-C", str(workspace), "log", "--json", env=env)).stdout == raw
    assert _ok(_run("-C", str(workspace), "audit", "verify")).returncode == 0  # the pointer alone finds it
    again = _run("-C", str(workspace), "store", "copy", "--to", pg_cluster.url())
    assert again.returncode == 2 and "already kept in" in again.stderr
    back = _ok(_run("-C", str(workspace), "store", "copy", "--to", "sqlite"))
    assert "moved to cycle.sqlite3.before-copy-" in back.stdout
    assert not (workspace / ".rfpflow" / "store.toml").exists()
    assert _ok(_run("-C", str(workspace), "log", "--json")).stdout == raw
    assert _normal_log(workspace, {}) == log


def test_store_copy_refuses_a_broken_chain_and_changes_nothing(pg_cluster: Any, tmp_path: Path,
                                                               flagship_runs: dict[str, Any]) -> None:
    import sqlite3

    workspace = tmp_path / "ws"
    shutil.copytree(flagship_runs["sqlite"][0], workspace)
    with sqlite3.connect(workspace / ".rfpflow" / "cycle.sqlite3") as conn:
        conn.execute("UPDATE events SET actor = 'mallory' WHERE seq = 3")
    before = _files(workspace)
    done = _run("-C", str(workspace), "store", "copy", "--to", pg_cluster.url())
    assert done.returncode == 2 and "audit chain is broken, so it is not copied: event 3" in done.stderr
    assert _files(workspace) == before


# ---------------------------------------------------------------------------
# Concurrency and SIGKILL through the CLI, on both backends
# ---------------------------------------------------------------------------


def _issued(tmp_path: Path, env: dict[str, str]) -> Path:
    workspace = flagship_copy(tmp_path / f"ws-{uuid.uuid4().hex[:6]}")
    _ok(_run(*step_args(workspace, 0), env=env))
    return workspace


def test_four_processes_import_into_one_cycle_at_once(backend_env: dict[str, str], tmp_path: Path) -> None:
    workspace = _issued(tmp_path, backend_env)
    bids = [workspace / "bids" / f"{vendor}.xlsx" for vendor in FLAGSHIP_VENDORS]
    children = [subprocess.Popen([sys.executable, "-m", "rfpflow", "-C", str(workspace), "--now", BIDS, "--actor",
                                  f"clerk{n}", "bids", "import", *map(str, bids[n:] + bids[:n])],
                                 env=clean_env(backend_env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for n in range(4)]
    for child in children:
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, out + err
        assert "busy" not in err
    log = _normal_log(workspace, backend_env)
    # each vendor's bid is recorded once, by whichever clerk came first; the same files imported again by
    # the others are "unchanged" and record nothing (a bid belongs to its vendor, not to an import)
    received = [e for e in log if e[3] == "bid.received"]
    assert len(received) == len(FLAGSHIP_VENDORS)
    assert {e[2] for e in received} <= {"clerk0", "clerk1", "clerk2", "clerk3"}
    verify = _ok(_run("-C", str(workspace), "audit", "verify", env=backend_env))
    assert f"audit chain intact: {len(log)} events" in verify.stdout


def test_sigkill_during_an_import_leaves_the_cycle_before_or_after(backend_env: dict[str, str],
                                                                    tmp_path: Path) -> None:
    chooser = random.Random(int(os.environ.get("RFPFLOW_FAULT_SEED", "0")))
    outcomes = []
    for trial in range(4):
        workspace = _issued(tmp_path, backend_env)
        before = _normal_log(workspace, backend_env)
        child = subprocess.Popen([sys.executable, "-m", "rfpflow", *step_args(workspace, 1)],
                                 env=clean_env(backend_env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.4 + trial * 0.35 + chooser.uniform(0, 0.3))
        child.send_signal(signal.SIGKILL)
        assert child.wait(60) in (0, -signal.SIGKILL)
        verify = _run("-C", str(workspace), "audit", "verify", env=backend_env)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        after = _normal_log(workspace, backend_env)
        received = sum(1 for e in after if e[3] == "bid.received")
        assert after == before or (after[:len(before)] == before and received == len(FLAGSHIP_VENDORS))
        outcomes.append(after == before)
        # the cycle goes on afterwards: the import runs to the end
        _ok(_run(*step_args(workspace, 1), env=backend_env))
        _ok(_run("-C", str(workspace), "audit", "verify", env=backend_env))
    assert ACTOR and len(outcomes) == 4


# ---------------------------------------------------------------------------
# The workflow's own fault tests (tests/test_workflow.py), on both backends
# ---------------------------------------------------------------------------


@pytest.fixture
def workflow_site(plugin_site: Callable[..., Path]) -> Path:
    from tests.test_workflow import BLOCKING, JSON_BIDS

    plugin_site("json-bids", {"json_bids": JSON_BIDS}, {"json-bids": "json_bids"})
    return plugin_site("blocking", {"blocking_plugin": BLOCKING}, {"blocking": "blocking_plugin"})


def _wf(workspace: Path, site: Path, env: dict[str, str], now: str, *args: str) -> subprocess.CompletedProcess[str]:
    return _run("-C", str(workspace), "--now", now, "--actor", "tester", *args,
                env={**env, "PYTHONPATH": str(site)})


def _issued_with_bids(workspace: Path, site: Path, env: dict[str, str], vendors: tuple[str, ...]) -> None:
    from tests.test_workflow import BEFORE_DEADLINE, ISSUED_AT, good_bid, write_bid

    _ok(_wf(workspace, site, env, ISSUED_AT, "issue"))
    for vendor in vendors:
        _ok(_wf(workspace, site, env, BEFORE_DEADLINE, "bids", "import",
                str(write_bid(workspace, vendor, good_bid(vendor.title())))))


def test_sigkill_inside_the_transaction_leaves_the_cycle_as_before_and_frees_it(
        backend_env: dict[str, str], workflow_site: Path, workspace: Path, tmp_path: Path) -> None:
    from tests.test_workflow import AFTER_DEADLINE

    _issued_with_bids(workspace, workflow_site, backend_env, ("acme",))
    before = _normal_log(workspace, {**backend_env, "PYTHONPATH": str(workflow_site)})
    ready = tmp_path / "ready"
    env = clean_env({**backend_env, "PYTHONPATH": str(workflow_site), "RFPFLOW_TEST_BLOCK": "close",
                     "RFPFLOW_TEST_READY": str(ready)})
    child = subprocess.Popen([sys.executable, "-m", "rfpflow", "-C", str(workspace), "--now", AFTER_DEADLINE,
                              "close"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ready.exists(), "the blocking plugin never ran"
    # the command has appended its events and changed the stage inside its transaction (holding the lock)
    child.send_signal(signal.SIGKILL)
    child.wait(30)
    assert _normal_log(workspace, {**backend_env, "PYTHONPATH": str(workflow_site)}) == before
    start = time.monotonic()
    _ok(_wf(workspace, workflow_site, backend_env, AFTER_DEADLINE, "close"))  # the cycle's lock was freed at once
    assert time.monotonic() - start < 30
    verify = _ok(_wf(workspace, workflow_site, backend_env, AFTER_DEADLINE, "audit", "verify"))
    assert verify.stdout.startswith(f"audit chain intact: {len(before) + 2} events")


@pytest.mark.parametrize(("edit", "message"), [
    pytest.param("UPDATE {events} SET data = replace(data, 'Acme', 'Acne') WHERE seq = 3 {mine}",
                 "event 3 (bid.received) was changed", id="edit"),
    pytest.param("DELETE FROM {events} WHERE seq = 3 {mine}",
                 "event 3 is missing: the log jumps from event 2 to event 4", id="delete"),
    pytest.param("DELETE FROM {events} WHERE seq >= 4 {mine}",
                 "the log ends at event 3 but the cycle records 6 events", id="truncate"),
])
def test_audit_verify_catches_tampering_on_both_backends(backend_env: dict[str, str], workflow_site: Path,
                                                         workspace: Path, edit: str, message: str) -> None:
    from tests.test_workflow import AFTER_DEADLINE

    _issued_with_bids(workspace, workflow_site, backend_env, ("acme", "beta"))
    _ok(_wf(workspace, workflow_site, backend_env, AFTER_DEADLINE, "cancel", "--reason", "test"))
    pointer = workspace / ".rfpflow" / "store.toml"
    if backend_env:
        import tomllib

        import psycopg

        cycle = tomllib.loads(pointer.read_text(encoding="utf-8"))["cycle"]
        with psycopg.connect(backend_env["RFPFLOW_STORE"], autocommit=True) as conn:
            conn.execute(edit.format(events="rfpflow_events", mine="AND cycle_id = %s"), (cycle,))
    else:
        import sqlite3

        with sqlite3.connect(workspace / ".rfpflow" / "cycle.sqlite3") as conn:
            conn.execute(edit.format(events="events", mine=""))
    done = _wf(workspace, workflow_site, backend_env, AFTER_DEADLINE, "audit", "verify")
    assert done.returncode == 1 and "audit chain BROKEN" in done.stderr and message in done.stderr, done.stderr


def test_another_workspace_attaches_to_a_cycle_in_the_server(pg_cluster: Any, tmp_path: Path,
                                                             flagship_runs: dict[str, tuple[Path, dict[str, str]]]
                                                             ) -> None:
    import tomllib

    server_ws, env = flagship_runs["postgresql"]
    cycle = tomllib.loads((server_ws / ".rfpflow" / "store.toml").read_text(encoding="utf-8"))["cycle"]
    info = _ok(_run("-C", str(server_ws), "store", "info")).stdout
    assert info.startswith("PostgreSQL: postgresql://rfpflow@/rfpflow") and cycle in info
    other = flagship_copy(tmp_path / "evaluator")
    assert "no cycle yet" in _ok(_run("-C", str(other), "store", "info")).stdout
    missing = _run("-C", str(other), "store", "attach", pg_cluster.url(), "no-such-cycle")
    assert missing.returncode == 2 and "there is no cycle 'no-such-cycle'" in missing.stderr, missing.stderr
    assert not (other / ".rfpflow").exists()
    attached = _ok(_run("-C", str(other), "store", "attach", pg_cluster.url(), cycle))
    assert "audit chain verified" in attached.stdout
    assert _normal_log(other, {}) == _normal_log(server_ws, env)
    again = _run("-C", str(other), "store", "attach", pg_cluster.url(), cycle)
    assert again.returncode == 2 and "already has a cycle" in again.stderr


def test_a_portal_process_survives_a_server_restart_and_names_a_server_that_is_down(pg_cluster: Any) -> None:
    """A cluster of its own (stopping the shared one would disturb other tests)."""
    from rfpflow.store import postgresql
    from tests.pgcluster import cluster

    cycle = uuid.uuid4().hex
    with cluster() as own:
        postgresql.use_pool(2)
        try:
            store = postgresql.PostgresStore(own.url(), cycle)
            _fill(store, events=1)
            store.close()
            own.stop()
            own.start()
            store = postgresql.PostgresStore(own.url(), cycle)  # the pool drops the dead connection, reconnects
            with store.transaction() as tx:
                tx.append_event("after.restart", {}, actor="portal", at=T0, wall_at=T0, simulated=False)
            assert _everything(store)["verify"].events == 2
            store.close()
            own.stop()
            with pytest.raises(RfpflowError, match="nothing was changed"):
                store = postgresql.PostgresStore(own.url(), cycle, lock_wait_s=1)
                with store.transaction() as tx:
                    tx.put("bids", "never", {})
        finally:
            postgresql.use_pool(None)
