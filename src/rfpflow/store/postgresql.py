"""The PostgreSQL backend: many cycles in one server database, through psycopg 3.

The same contract as the SQLite backend (:mod:`rfpflow.store.sqlite`): every command is one
transaction; the event hashes come from :mod:`rfpflow.store.chain` and the record text from
:mod:`rfpflow.store.serde`, so a cycle reads, hashes and verifies the same on either backend.

Where SQLite serialises writers with ``BEGIN IMMEDIATE`` on the whole file, here a command
takes a row lock on its cycle (``SELECT … FOR UPDATE``) before it reads anything: two commands
on one cycle queue on that lock (they never see "busy"), commands on other cycles run side by
side. Taking the lock is the one place a serialization failure or a deadlock can arise (all a
command's later statements run under the lock); it is retried a bounded number of times,
then reported. A conflict after the lock (not expected) rolls back and is reported too.

psycopg is imported here only: ``rfpflow --help`` and every SQLite user never load it.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import json
import os
import random
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import psycopg
from psycopg import errors as pg_errors
from psycopg import sql
from psycopg.pq import TransactionStatus

from rfpflow.errors import RfpflowError
from rfpflow.store.chain import canonical, event_hash
from rfpflow.store.interface import CycleState, Event
from rfpflow.store.serde import dumps, to_data, untag

SCHEMA_VERSION = 1
#: How long a command waits for another command on the same cycle (like SQLite's busy timeout).
LOCK_WAIT_S = 120.0
#: Any other statement is cancelled after this long (the server's ``statement_timeout``).
STATEMENT_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 10
#: How long a pooled process waits for a connection before it checks that the server is up at all.
POOL_FIRST_WAIT_S = 5.0
#: Attempts at taking the cycle's lock when the server reports a serialization failure or deadlock.
MAX_ATTEMPTS = 5
#: A constant key for the advisory lock that lets one process at a time migrate the schema.
_MIGRATION_LOCK = 0x72667066

_EVENT_COLUMNS = "seq, at, wall_at, simulated, actor, kind, data, prev_hash, hash"
_STATE_COLUMNS = "rfp_id, stage, definition_hash, definition_text, chain_head, event_count"

# Each entry moves the schema from version N-1 to N; never edit a published one. Tables carry an
# rfpflow_ prefix so that the store can share a database (and its backups) with other applications.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE rfpflow_cycles (
            cycle_id TEXT PRIMARY KEY,
            workspace TEXT NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            rfp_id TEXT,
            stage TEXT,
            definition_hash TEXT,
            definition_text TEXT,
            chain_head TEXT,
            event_count INTEGER
        )""",
        "CREATE INDEX rfpflow_cycles_rfp ON rfpflow_cycles (rfp_id, workspace)",
        """CREATE TABLE rfpflow_events (
            cycle_id TEXT NOT NULL REFERENCES rfpflow_cycles (cycle_id),
            seq INTEGER NOT NULL,
            at TEXT NOT NULL,
            wall_at TEXT NOT NULL,
            simulated INTEGER NOT NULL,
            actor TEXT NOT NULL,
            kind TEXT NOT NULL,
            data TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL,
            PRIMARY KEY (cycle_id, seq)
        )""",
        """CREATE TABLE rfpflow_records (
            cycle_id TEXT NOT NULL REFERENCES rfpflow_cycles (cycle_id),
            collection TEXT NOT NULL,
            key TEXT NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (cycle_id, collection, key)
        )""",
    ),
}


@attrs.define
class Stats:
    """What this process's PostgreSQL transactions met (read by the benchmark)."""

    retries: int = 0
    conflicts: int = 0


STATS = Stats()
_STATS_LOCK = threading.Lock()


def redact(url: str) -> str:
    """The URL without its password (for messages and the workspace's pointer)."""
    url = re.sub(r"(//[^/@:]*):[^/@]*@", r"\1@", url)
    return re.sub(r"([?&])password=[^&]*&?", r"\1", url).rstrip("?&")


class StoreUnavailable(RfpflowError):
    """The server cannot be reached, or refuses the credentials: nothing was done."""


def connection_error(url: str, exc: BaseException) -> RfpflowError:
    """One clear message for a connection that failed (never the password, never a traceback)."""
    text = str(exc).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    detail = next((line for line in lines if "failed:" in line), lines[0] if lines else type(exc).__name__)
    if "failed:" in detail:
        detail = detail.rsplit("failed:", 1)[1].strip()
    where = redact(url)
    lowered = text.lower()
    if "password" in lowered or "authentication" in lowered or ("role" in lowered and "does not exist" in lowered):
        return StoreUnavailable(f"the store server {where} refused the credentials ({detail}); nothing was changed. "
                                "Check the user and password (RFPFLOW_STORE, ~/.pgpass or PGPASSWORD)")
    if "database" in lowered and "does not exist" in lowered:
        return StoreUnavailable(f"the store server {where} has no such database ({detail}); nothing was changed. "
                                "Create it (see docs/deployment.md)")
    return StoreUnavailable(f"cannot reach the store server {where} ({detail}); nothing was changed. "
                            "Is the server running, and is the address right?")


def _connect(url: str, statement_timeout_s: float) -> psycopg.Connection[Any]:
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                               options=f"-c statement_timeout={int(statement_timeout_s * 1000)}",
                               application_name="rfpflow")
    except psycopg.Error as exc:
        raise connection_error(url, exc) from None
    return conn


class _Pools:
    """Connection pools by URL, for long-running processes (the web portal, the benchmark).

    A command-line run opens one connection and closes it; a process that calls
    :func:`use_pool` keeps ``size`` connections per server and hands them to its threads.
    """

    def __init__(self) -> None:
        self.size: int | None = None
        self.pools: dict[str, Any] = {}
        self.lock = threading.Lock()

    def get(self, url: str, statement_timeout_s: float) -> Any:
        from psycopg_pool import ConnectionPool

        with self.lock:
            pool = self.pools.get(url)
            if pool is None:
                _connect(url, statement_timeout_s).close()  # a clear error now, not a pool timeout later
                pool = ConnectionPool(
                    url, min_size=1, max_size=self.size or 1, open=True, name="rfpflow",
                    kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S, "application_name": "rfpflow",
                            "options": f"-c statement_timeout={int(statement_timeout_s * 1000)}"},
                    timeout=LOCK_WAIT_S,
                    check=ConnectionPool.check_connection,  # a server restarted under the portal: reconnect
                )
                self.pools[url] = pool
            return pool

    def close(self) -> None:
        with self.lock:
            for pool in self.pools.values():
                pool.close()
            self.pools.clear()


_POOLS = _Pools()


def use_pool(size: int | None) -> None:
    """Keep up to ``size`` connections per server for this process (None: one connection per store)."""
    if size is None:
        _POOLS.close()
    _POOLS.size = size


class _Idle:
    """One idle connection per server kept between the stores a process opens: a command opens
    its cycle's store several times (the command, then reading for its documents), and a
    connection costs the server a process start and an authentication each time. Closed at exit."""

    def __init__(self) -> None:
        self.connections: dict[str, psycopg.Connection[Any]] = {}
        self.lock = threading.Lock()
        atexit.register(self.close)
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        """In a forked child: the parent's connections are the parent's (never used, never closed here)."""
        self.connections = {}
        self.lock = threading.Lock()

    def take(self, url: str) -> psycopg.Connection[Any] | None:
        with self.lock:
            conn = self.connections.pop(url, None)
        if conn is not None and (conn.closed or conn.info.transaction_status != TransactionStatus.IDLE):
            conn.close()
            return None
        return conn

    def give(self, url: str, conn: psycopg.Connection[Any]) -> None:
        if conn.closed or conn.info.transaction_status != TransactionStatus.IDLE:
            conn.close()
            return
        with self.lock:
            spare = self.connections.pop(url, None)
            self.connections[url] = conn
        if spare is not None:
            spare.close()

    def close(self) -> None:
        with self.lock:
            connections = list(self.connections.values())
            self.connections.clear()
        for conn in connections:
            with contextlib.suppress(Exception):
                conn.close()


_IDLE = _Idle()


def _is_conflict(exc: BaseException) -> bool:
    return isinstance(exc, (pg_errors.SerializationFailure, pg_errors.DeadlockDetected))


class _PgTransaction:
    def __init__(self, conn: psycopg.Connection[Any], cycle: str) -> None:
        self.conn = conn
        self.cycle = cycle

    def _one(self, query: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        return self.conn.execute(query, params).fetchone()

    def _all(self, query: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return self.conn.execute(query, params).fetchall()

    def state(self) -> CycleState | None:
        row = self._one(f"SELECT {_STATE_COLUMNS} FROM rfpflow_cycles WHERE cycle_id = %s", (self.cycle,))
        return CycleState(*row) if row and row[1] is not None else None

    def save_state(self, state: CycleState) -> None:
        self.conn.execute(
            "UPDATE rfpflow_cycles SET rfp_id = %s, stage = %s, definition_hash = %s, definition_text = %s,"
            " chain_head = %s, event_count = %s WHERE cycle_id = %s",
            (*attrs.astuple(state), self.cycle),
        )

    def append_event(self, kind: str, data: dict[str, Any], *, actor: str, at: dt.datetime,
                     wall_at: dt.datetime, simulated: bool) -> Event:
        state = self.state()
        if state is None:
            raise RfpflowError("internal: the cycle state must exist before events are appended")
        seq = state.event_count + 1
        data_text = canonical(to_data(data))
        at_text, wall_text = at.isoformat(), wall_at.isoformat()
        digest = event_hash(seq, at_text, wall_text, simulated, actor, kind, data_text, state.chain_head)
        self.conn.execute(
            f"INSERT INTO rfpflow_events (cycle_id, {_EVENT_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (self.cycle, seq, at_text, wall_text, int(simulated), actor, kind, data_text, state.chain_head, digest),
        )
        self.save_state(attrs.evolve(state, chain_head=digest, event_count=seq))
        return Event(seq, at_text, wall_text, simulated, actor, kind, json.loads(data_text), state.chain_head, digest)

    def raw_events(self) -> list[tuple[Any, ...]]:
        return self._all(f"SELECT {_EVENT_COLUMNS} FROM rfpflow_events WHERE cycle_id = %s ORDER BY seq",
                         (self.cycle,))

    def events(self) -> list[Event]:
        return [Event(r[0], r[1], r[2], bool(r[3]), r[4], r[5], json.loads(r[6]), r[7], r[8])
                for r in self.raw_events()]

    def put(self, collection: str, key: str, data: Any) -> None:
        self.put_text(collection, key, dumps(data))

    def put_text(self, collection: str, key: str, text: str) -> None:
        self.conn.execute(
            "INSERT INTO rfpflow_records (cycle_id, collection, key, data) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (cycle_id, collection, key) DO UPDATE SET data = excluded.data",
            (self.cycle, collection, key, text),
        )

    def _text(self, collection: str, key: str) -> str | None:
        row = self._one("SELECT data FROM rfpflow_records WHERE cycle_id = %s AND collection = %s AND key = %s",
                        (self.cycle, collection, key))
        return str(row[0]) if row else None

    def get(self, collection: str, key: str) -> Any | None:
        text = self._text(collection, key)
        return untag(json.loads(text)) if text is not None else None

    def get_raw(self, collection: str, key: str) -> Any | None:
        text = self._text(collection, key)
        return json.loads(text) if text is not None else None

    def _rows(self, collection: str) -> list[tuple[Any, ...]]:
        # COLLATE "C": the same order as SQLite's (byte order), whatever the database's collation.
        return self._all('SELECT key, data FROM rfpflow_records WHERE cycle_id = %s AND collection = %s'
                         ' ORDER BY key COLLATE "C"', (self.cycle, collection))

    def all(self, collection: str) -> list[tuple[str, Any]]:
        return [(k, untag(json.loads(d))) for k, d in self._rows(collection)]

    def all_raw(self, collection: str) -> list[tuple[str, Any]]:
        return [(k, json.loads(d)) for k, d in self._rows(collection)]

    def delete(self, collection: str, key: str) -> None:
        self.conn.execute("DELETE FROM rfpflow_records WHERE cycle_id = %s AND collection = %s AND key = %s",
                          (self.cycle, collection, key))

    # -- for `rfpflow store copy` -------------------------------------------------

    def raw_records(self) -> list[tuple[str, str, str]]:
        """Every record as stored: (collection, key, JSON text)."""
        rows = self._all('SELECT collection, key, data FROM rfpflow_records WHERE cycle_id = %s'
                         ' ORDER BY collection COLLATE "C", key COLLATE "C"', (self.cycle,))
        return [(str(c), str(k), str(d)) for c, k, d in rows]

    def insert_raw_events(self, rows: list[tuple[Any, ...]]) -> None:
        """Events exactly as another store holds them (hashes kept, not recomputed)."""
        with self.conn.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO rfpflow_events (cycle_id, {_EVENT_COLUMNS})"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [(self.cycle, r[0], r[1], r[2], int(r[3]), *r[4:]) for r in rows],
            )


class PostgresStore:
    """The PostgreSQL implementation of :class:`~rfpflow.store.interface.Store`, for one cycle."""

    def __init__(self, url: str, cycle: str, *, workspace: Path | None = None, read_only: bool = False,
                 statement_timeout_s: float = STATEMENT_TIMEOUT_S, lock_wait_s: float = LOCK_WAIT_S) -> None:
        self.url = url
        self.cycle = cycle
        self.workspace = f"{socket.gethostname()}:{workspace.resolve()}" if workspace else ""
        self.read_only = read_only
        self.statement_timeout_s = statement_timeout_s
        self.lock_wait_s = lock_wait_s
        self._pool = _POOLS.get(url, statement_timeout_s) if _POOLS.size else None
        self.conn: psycopg.Connection[Any] = (self._from_pool() if self._pool is not None
                                              else _IDLE.take(url) or _connect(url, statement_timeout_s))
        try:
            self.empty = False
            if read_only:
                self.empty = self._version() == 0
            else:
                migrate(self.conn, where=redact(url))
        except BaseException:
            self.close()
            raise

    def _from_pool(self) -> psycopg.Connection[Any]:
        """A pooled connection: a short wait first; if none comes, a server that is down is named at
        once, and a busy pool (the server is up) is waited for like the cycle's lock."""
        from psycopg_pool import PoolTimeout

        assert self._pool is not None
        try:
            return self._pool.getconn(timeout=POOL_FIRST_WAIT_S)  # type: ignore[no-any-return]
        except PoolTimeout:
            _connect(self.url, self.statement_timeout_s).close()  # raises the clear error if the server is down
        try:
            return self._pool.getconn(timeout=self.lock_wait_s)  # type: ignore[no-any-return]
        except PoolTimeout:
            raise RfpflowError(f"{redact(self.url)}: every pooled connection stayed busy for {self.lock_wait_s:g} s; "
                               "nothing was changed. Raise [store] pool_size, or try again") from None

    def _version(self) -> int:
        return schema_version(self.conn, where=redact(self.url))

    def _error(self, exc: psycopg.Error) -> RfpflowError:
        return store_error(self.url, exc)

    def _begin_locked(self) -> None:
        """Begin, and wait for the cycle's row lock (creating the row for a new cycle)."""
        conn = self.conn
        conn.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
        conn.execute("SELECT set_config('statement_timeout', %s, true)", (str(int(self.lock_wait_s * 1000)),))
        row = conn.execute("SELECT 1 FROM rfpflow_cycles WHERE cycle_id = %s FOR UPDATE", (self.cycle,)).fetchone()
        if row is None:
            conn.execute("INSERT INTO rfpflow_cycles (cycle_id, workspace) VALUES (%s, %s)"
                         " ON CONFLICT (cycle_id) DO NOTHING", (self.cycle, self.workspace))
            conn.execute("SELECT 1 FROM rfpflow_cycles WHERE cycle_id = %s FOR UPDATE", (self.cycle,))
        conn.execute("SELECT set_config('statement_timeout', %s, true)",
                     (str(int(self.statement_timeout_s * 1000)),))

    @contextlib.contextmanager
    def transaction(self) -> Iterator[_PgTransaction]:
        """One command's writes, all or none, under the cycle's row lock."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                self._begin_locked()
                break
            except psycopg.Error as exc:
                self._rollback()
                if not _is_conflict(exc) or attempt == MAX_ATTEMPTS:
                    if _is_conflict(exc):
                        with _STATS_LOCK:
                            STATS.conflicts += 1
                    raise store_error(self.url, exc, attempts=attempt) from None
                with _STATS_LOCK:
                    STATS.retries += 1
                time.sleep(random.uniform(0.01, 0.05) * attempt)
        try:
            yield _PgTransaction(self.conn, self.cycle)
        except BaseException as exc:
            self._rollback()
            if isinstance(exc, psycopg.Error):
                if _is_conflict(exc):
                    with _STATS_LOCK:
                        STATS.conflicts += 1
                raise self._error(exc) from None
            raise
        try:
            self.conn.execute("COMMIT")
        except psycopg.OperationalError as exc:
            self._rollback()
            raise RfpflowError(
                f"the connection to the store server {redact(self.url)} was lost while the command was being "
                f"committed ({str(exc).strip().splitlines()[0]}): it may or may not have been recorded. "
                "Run `rfpflow log` to see, then run it again if it is missing"
            ) from None
        except psycopg.Error as exc:
            self._rollback()
            raise self._error(exc) from None

    def _rollback(self) -> None:
        if self.conn.closed:
            return
        with contextlib.suppress(psycopg.Error):
            self.conn.execute("ROLLBACK")

    @contextlib.contextmanager
    def read(self) -> Iterator[Any]:
        """A consistent snapshot for reading."""
        if self.empty:
            from rfpflow.store.sqlite import _EmptyTransaction

            yield _EmptyTransaction()
            return
        try:
            self.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        except psycopg.Error as exc:
            raise self._error(exc) from None
        try:
            yield _PgTransaction(self.conn, self.cycle)
        except psycopg.Error as exc:
            raise self._error(exc) from None
        finally:
            self._rollback()

    def close(self) -> None:
        conn = getattr(self, "conn", None)
        if conn is None:
            return
        if self._pool is not None:
            with contextlib.suppress(Exception):
                self._pool.putconn(conn)
        else:
            _IDLE.give(self.url, conn)
        del self.conn


def schema_version(conn: psycopg.Connection[Any], *, where: str, latest: int = SCHEMA_VERSION) -> int:
    """The schema version of the database (0: no rfpflow tables yet); refuses a newer one."""
    try:  # one round trip in the usual case (outside a transaction, a failed statement leaves nothing behind)
        row = conn.execute("SELECT version FROM rfpflow_schema").fetchone()
    except pg_errors.UndefinedTable:
        return 0
    version = int(row[0]) if row else 0
    if version > latest:
        raise RfpflowError(f"{where}: this store was written by a newer rfpflow (store schema {version}, "
                           f"this one reads {latest}); upgrade rfpflow")
    return version


def migrate(conn: psycopg.Connection[Any], *, where: str,
            migrations: dict[int, tuple[str, ...]] | None = None) -> int:
    """Bring the database's schema up to date, one version at a time, each step in the same
    transaction as the version it records; an advisory lock keeps two processes from racing."""
    steps = MIGRATIONS if migrations is None else migrations
    target = max(steps)
    try:
        if schema_version(conn, where=where, latest=target) == target:
            return target
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            conn.execute("CREATE TABLE IF NOT EXISTS rfpflow_schema (version INTEGER NOT NULL)")
            row = conn.execute("SELECT version FROM rfpflow_schema").fetchone()
            if row is None:
                conn.execute("INSERT INTO rfpflow_schema (version) VALUES (0)")
            version = int(row[0]) if row else 0
            if version > target:
                raise RfpflowError(f"{where}: this store was written by a newer rfpflow (store schema {version}, "
                                   f"this one reads {target}); upgrade rfpflow")
            for step in range(version + 1, target + 1):
                for statement in steps[step]:
                    conn.execute(sql.SQL(statement))  # our own constant text
                conn.execute("UPDATE rfpflow_schema SET version = %s", (step,))
        return target
    except psycopg.Error as exc:
        raise store_error(where, exc) from None


def store_error(url: str, exc: psycopg.Error, *, attempts: int = 1) -> RfpflowError:
    where = redact(url)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if _is_conflict(exc):
        times = f" {attempts} times" if attempts > 1 else ""
        return RfpflowError(f"{where}: the command met a conflicting command on the same cycle{times} ({text}); "
                            "it was rolled back and nothing was changed. Run it again")
    if isinstance(exc, pg_errors.QueryCanceled):
        return RfpflowError(f"{where}: the store server cancelled a statement that ran over its time limit "
                            f"({text}); nothing was changed. Another command may be holding this cycle for long; "
                            "try again")
    if isinstance(exc, pg_errors.InsufficientPrivilege):
        return RfpflowError(f"{where}: the store's database user may not do this ({text}); nothing was changed")
    if isinstance(exc, pg_errors.DiskFull):
        return RfpflowError(f"{where}: the store server's disk is full ({text}); nothing was changed")
    if isinstance(exc, psycopg.OperationalError):
        return connection_error(url, exc)
    return RfpflowError(f"{where}: the cycle's store failed: {text}; nothing was changed")
