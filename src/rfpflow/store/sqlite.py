"""The SQLite backend: the cycle's store in ``.rfpflow/cycle.sqlite3`` in the workspace.

WAL mode, and ``BEGIN IMMEDIATE`` so that two processes wait for each other instead of
failing; every command is one transaction.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from rfpflow.errors import RfpflowError
from rfpflow.store.chain import canonical, event_hash
from rfpflow.store.interface import CycleState, Event
from rfpflow.store.serde import dumps, to_data, untag

SCHEMA_VERSION = 1
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

    # -- for `rfpflow store copy` -------------------------------------------------

    def raw_records(self) -> list[tuple[str, str, str]]:
        """Every record as stored: (collection, key, JSON text)."""
        return self.conn.execute("SELECT collection, key, data FROM records ORDER BY collection, key").fetchall()

    def put_text(self, collection: str, key: str, text: str) -> None:
        self.conn.execute(
            "INSERT INTO records (collection, key, data) VALUES (?, ?, ?)"
            " ON CONFLICT (collection, key) DO UPDATE SET data = excluded.data",
            (collection, key, text),
        )

    def insert_raw_events(self, rows: list[tuple[Any, ...]]) -> None:
        """Events exactly as another store holds them (hashes kept, not recomputed)."""
        self.conn.executemany(
            "INSERT INTO events (seq, at, wall_at, simulated, actor, kind, data, prev_hash, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(r[0], r[1], r[2], int(r[3]), *r[4:]) for r in rows],
        )


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
