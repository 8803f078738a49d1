"""The cycle's persistent store and its tamper-evident audit trail.

Everything above this module talks to a :class:`Store` through a narrow
interface: one transaction per command (:meth:`Store.transaction`), the
cycle's state row, an append-only event log, and named collections of JSON
records. :class:`SqliteStore` keeps it in ``.rfpflow/cycle.sqlite3`` (WAL mode,
``BEGIN IMMEDIATE`` so two processes wait for each other instead of failing);
a PostgreSQL store would implement the same methods.

The audit trail: each event's hash covers the previous event's hash and the
event itself (canonical JSON), so editing, deleting, inserting or reordering
an event breaks the chain; the chain head and event count are also kept in
the state row, so a truncated log is caught too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import attrs

from rfpflow.errors import RfpflowError
from rfpflow.serde import dumps, to_data, untag

SCHEMA_VERSION = 1
GENESIS = "0" * 64
STORE_DIR = ".rfpflow"
STORE_FILE = "cycle.sqlite3"
BUSY_TIMEOUT_MS = 120_000

# Each entry moves the schema from version N-1 to N; never edit a published one.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE cycle (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            rfp_id TEXT NOT NULL,
            stage TEXT NOT NULL,
            definition_hash TEXT NOT NULL,
            definition_text TEXT NOT NULL,
            chain_head TEXT NOT NULL,
            event_count INTEGER NOT NULL
        )""",
        """CREATE TABLE events (
            seq INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            wall_at TEXT NOT NULL,
            simulated INTEGER NOT NULL,
            actor TEXT NOT NULL,
            kind TEXT NOT NULL,
            data TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        )""",
        """CREATE TABLE records (
            collection TEXT NOT NULL,
            key TEXT NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (collection, key)
        )""",
    ),
}


@attrs.frozen
class CycleState:
    """The cycle's current state (one row)."""

    rfp_id: str
    stage: str
    definition_hash: str
    definition_text: str
    chain_head: str = GENESIS
    event_count: int = 0


@attrs.frozen
class Event:
    """One audit event. ``at`` is the cycle's time (maybe simulated), ``wall_at`` the real time."""

    seq: int
    at: str
    wall_at: str
    simulated: bool
    actor: str
    kind: str
    data: dict[str, Any]
    prev_hash: str
    hash: str

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq, "at": self.at, "wall_at": self.wall_at, "simulated": self.simulated,
            "actor": self.actor, "kind": self.kind, "data": self.data,
            "prev_hash": self.prev_hash, "hash": self.hash,
        }


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def event_hash(seq: int, at: str, wall_at: str, simulated: bool, actor: str, kind: str,
               data_text: str, prev_hash: str) -> str:
    body = canonical([seq, at, wall_at, simulated, actor, kind, data_text, prev_hash])
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


class Transaction(Protocol):
    """What a command may do inside its one transaction."""

    def state(self) -> CycleState | None: ...
    def save_state(self, state: CycleState) -> None: ...
    def append_event(self, kind: str, data: dict[str, Any], *, actor: str, at: dt.datetime,
                     wall_at: dt.datetime, simulated: bool) -> Event: ...
    def events(self) -> list[Event]: ...
    def put(self, collection: str, key: str, data: Any) -> None: ...
    def get(self, collection: str, key: str) -> Any | None: ...
    def all(self, collection: str) -> list[tuple[str, Any]]: ...
    def delete(self, collection: str, key: str) -> None: ...


class Store(Protocol):
    def transaction(self) -> contextlib.AbstractContextManager[Transaction]: ...
    def read(self) -> contextlib.AbstractContextManager[Transaction]: ...
    def close(self) -> None: ...


def store_path(workspace: Path) -> Path:
    return workspace / STORE_DIR / STORE_FILE


def store_exists(workspace: Path) -> bool:
    return store_path(workspace).exists()


class _SqliteTransaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def state(self) -> CycleState | None:
        row = self.conn.execute(
            "SELECT rfp_id, stage, definition_hash, definition_text, chain_head, event_count FROM cycle"
        ).fetchone()
        return CycleState(*row) if row else None

    def save_state(self, state: CycleState) -> None:
        self.conn.execute(
            "INSERT INTO cycle (id, rfp_id, stage, definition_hash, definition_text, chain_head, event_count)"
            " VALUES (1, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET rfp_id = excluded.rfp_id,"
            " stage = excluded.stage, definition_hash = excluded.definition_hash,"
            " definition_text = excluded.definition_text, chain_head = excluded.chain_head,"
            " event_count = excluded.event_count",
            attrs.astuple(state),
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
            "INSERT INTO events (seq, at, wall_at, simulated, actor, kind, data, prev_hash, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (seq, at_text, wall_text, int(simulated), actor, kind, data_text, state.chain_head, digest),
        )
        self.save_state(attrs.evolve(state, chain_head=digest, event_count=seq))
        return Event(seq, at_text, wall_text, simulated, actor, kind, json.loads(data_text), state.chain_head, digest)

    def events(self) -> list[Event]:
        rows = self.conn.execute(
            "SELECT seq, at, wall_at, simulated, actor, kind, data, prev_hash, hash FROM events ORDER BY seq"
        ).fetchall()
        return [Event(r[0], r[1], r[2], bool(r[3]), r[4], r[5], json.loads(r[6]), r[7], r[8]) for r in rows]

    def raw_events(self) -> list[tuple[Any, ...]]:
        return self.conn.execute(
            "SELECT seq, at, wall_at, simulated, actor, kind, data, prev_hash, hash FROM events ORDER BY seq"
        ).fetchall()

    def put(self, collection: str, key: str, data: Any) -> None:
        self.conn.execute(
            "INSERT INTO records (collection, key, data) VALUES (?, ?, ?)"
            " ON CONFLICT (collection, key) DO UPDATE SET data = excluded.data",
            (collection, key, dumps(data)),
        )

    def get(self, collection: str, key: str) -> Any | None:
        row = self.conn.execute("SELECT data FROM records WHERE collection = ? AND key = ?",
                                (collection, key)).fetchone()
        return untag(json.loads(row[0])) if row else None

    def get_raw(self, collection: str, key: str) -> Any | None:
        row = self.conn.execute("SELECT data FROM records WHERE collection = ? AND key = ?",
                                (collection, key)).fetchone()
        return json.loads(row[0]) if row else None

    def all(self, collection: str) -> list[tuple[str, Any]]:
        rows = self.conn.execute("SELECT key, data FROM records WHERE collection = ? ORDER BY key",
                                 (collection,)).fetchall()
        return [(k, untag(json.loads(d))) for k, d in rows]

    def all_raw(self, collection: str) -> list[tuple[str, Any]]:
        rows = self.conn.execute("SELECT key, data FROM records WHERE collection = ? ORDER BY key",
                                 (collection,)).fetchall()
        return [(k, json.loads(d)) for k, d in rows]

    def delete(self, collection: str, key: str) -> None:
        self.conn.execute("DELETE FROM records WHERE collection = ? AND key = ?", (collection, key))


class _EmptyTransaction:
    """What reading a store without a schema yet sees: no cycle, no events, no records."""

    def state(self) -> CycleState | None:
        return None

    def events(self) -> list[Event]:
        return []

    def raw_events(self) -> list[tuple[Any, ...]]:
        return []

    def get(self, collection: str, key: str) -> Any | None:
        return None

    def all(self, collection: str) -> list[tuple[str, Any]]:
        return []


class SqliteStore:
    """The SQLite implementation of :class:`Store`."""

    def __init__(self, path: Path, *, create: bool = False, read_only: bool = False) -> None:
        self.path = path
        self.empty = False
        if not path.exists() and not create:
            raise RfpflowError(f"{path.parent.parent}: no RFP cycle here yet; run `rfpflow issue` first")
        writable = os.access(path.parent if path.parent.exists() else path.parent.parent, os.W_OK)
        try:
            if read_only:
                # Reading must work on an auditor's read-only copy too. WAL mode needs a -shm
                # file beside the database; where none can be made, open the file as immutable.
                immutable = not writable and not Path(f"{path}-wal").exists()
                uri = f"{path.resolve().as_uri()}?{'immutable=1' if immutable else 'mode=ro'}"
                self.conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            else:
                if not writable:
                    raise RfpflowError(f"{path.parent.parent}: the workspace is read-only; nothing was changed "
                                       "(commands that only read, like status, log and audit verify, still work)")
                path.parent.mkdir(parents=True, exist_ok=True)
                self.conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise RfpflowError(f"{path}: cannot open the cycle's store: {exc}") from None
        try:
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if not read_only:
                self.conn.execute("PRAGMA journal_mode = WAL")
                self.conn.execute("PRAGMA synchronous = FULL")
                self._migrate()
            else:
                self._check_version()
                # A store whose first command was killed before its schema committed holds no cycle.
                self.empty = self.conn.execute("PRAGMA user_version").fetchone()[0] == 0
        except sqlite3.Error as exc:
            self.conn.close()
            raise _store_error(self.path, exc) from None

    def _check_version(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise RfpflowError(
                f"{self.path}: this cycle was written by a newer rfpflow (store schema {version}, "
                f"this one reads {SCHEMA_VERSION}); upgrade rfpflow"
            )

    def _migrate(self) -> None:
        self._check_version()
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            version = self.conn.execute("PRAGMA user_version").fetchone()[0]
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[target]:
                    self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version = {target}")
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    @contextlib.contextmanager
    def transaction(self) -> Iterator[_SqliteTransaction]:
        """One command's writes: all of them or none. Waits for another writer to finish."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _store_error(self.path, exc) from None
        try:
            yield _SqliteTransaction(self.conn)
        except BaseException as exc:
            self._rollback()
            if isinstance(exc, sqlite3.Error):
                raise _store_error(self.path, exc) from None
            raise
        try:
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            raise _store_error(self.path, exc) from None

    def _rollback(self) -> None:
        # SQLite may already have rolled back (a full disk at COMMIT): only undo what is still open.
        if self.conn.in_transaction:
            # If even this fails, SQLite's journal restores the database when the connection closes.
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")

    @contextlib.contextmanager
    def read(self) -> Iterator[Any]:
        """A consistent snapshot for reading (a deferred transaction)."""
        if self.empty:
            yield _EmptyTransaction()
            return
        self.conn.execute("BEGIN")
        try:
            yield _SqliteTransaction(self.conn)
        finally:
            self.conn.execute("ROLLBACK")

    def integrity_check(self) -> str:
        return str(self.conn.execute("PRAGMA integrity_check").fetchone()[0])

    def close(self) -> None:
        self.conn.close()


def _store_error(path: Path, exc: sqlite3.Error) -> RfpflowError:
    text = str(exc)
    if "readonly" in text or "read-only" in text:
        return RfpflowError(f"{path}: the workspace is read-only; nothing was changed ({text})")
    if "full" in text or "disk i/o" in text:
        return RfpflowError(f"{path}: the disk is full; nothing was changed ({text})")
    if "locked" in text or "busy" in text:
        return RfpflowError(f"{path}: another rfpflow command kept the cycle busy for too long; try again")
    return RfpflowError(f"{path}: the cycle's store failed: {text}; nothing was changed")


# ---------------------------------------------------------------------------
# Verifying the audit chain
# ---------------------------------------------------------------------------


@attrs.frozen
class ChainReport:
    ok: bool
    message: str
    events: int
    head: str


def verify_chain(rows: list[tuple[Any, ...]], state: CycleState | None) -> ChainReport:
    """Check every event's hash and link; name the first bad event.

    ``rows`` are raw event rows in sequence order: (seq, at, wall_at, simulated,
    actor, kind, data_text, prev_hash, hash).
    """
    prev = GENESIS
    for index, row in enumerate(rows, start=1):
        seq, at, wall_at, simulated, actor, kind, data_text, prev_hash, stored = row
        label = f"event {seq} ({kind})"
        if seq != index:
            return ChainReport(False, f"event {index} is missing: the log jumps from event {index - 1} to "
                               f"{label} (events were deleted or inserted)", len(rows), prev)
        if prev_hash != prev:
            return ChainReport(False, f"{label} does not follow the event before it "
                               "(events were inserted, deleted or reordered)", len(rows), prev)
        digest = event_hash(seq, at, wall_at, bool(simulated), actor, kind, data_text, prev_hash)
        if digest != stored:
            return ChainReport(False, f"{label} was changed or moved after it was recorded "
                               "(its hash does not match its content)", len(rows), prev)
        prev = stored
    if state is not None and (state.event_count != len(rows) or state.chain_head != prev):
        return ChainReport(False, f"the log ends at event {len(rows)} but the cycle records "
                           f"{state.event_count} events with chain head {state.chain_head[:16]}… "
                           "(events were removed from the end, or the state was edited)", len(rows), prev)
    return ChainReport(True, f"audit chain intact: {len(rows)} events, head {prev}", len(rows), prev)
