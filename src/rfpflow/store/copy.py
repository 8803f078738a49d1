"""``rfpflow store copy``: move a cycle, with its whole history, between SQLite and PostgreSQL.

The copy keeps every event row exactly as stored (its hashes are not recomputed) and every
record's JSON text byte for byte; it is written in one transaction on the target, whose chain
is verified and compared with the source's before that transaction commits. Only then does the
workspace switch to the copy (the pointer ``.rfpflow/store.toml`` is written or removed); the
source is left as it was, so a failed copy leaves the workspace exactly as before.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
from pathlib import Path
from typing import Any

import attrs

from rfpflow.errors import RfpflowError
from rfpflow.store.chain import verify_chain
from rfpflow.store.config import (
    SCHEMES,
    new_cycle_id,
    open_server,
    open_store,
    pointer_path,
    read_pointer,
    settings,
    write_pointer,
)
from rfpflow.store.interface import CycleState
from rfpflow.store.sqlite import SqliteStore, store_path


@attrs.frozen
class CopyReport:
    target: str
    events: int
    records: int
    head: str
    kept: str  # what became of the store the workspace used before

    @property
    def message(self) -> str:
        return (f"Copied the cycle to {self.target}: {self.events} events and {self.records} records; "
                f"audit chain verified on arrival (head {self.head[:16]}). {self.kept}")


@attrs.frozen
class _Snapshot:
    state: CycleState
    events: list[tuple[Any, ...]]
    records: list[tuple[str, str, str]]


def _read_source(workspace: Path) -> _Snapshot:
    store = open_store(workspace, read_only=True)
    try:
        with store.read() as tx:
            state = tx.state()
            if state is None:
                raise RfpflowError("the RFP has not been issued yet: there is no cycle to copy")
            events = [tuple(row) for row in tx.raw_events()]
            records = [tuple(row) for row in tx.raw_records()]  # type: ignore[attr-defined]
    finally:
        store.close()
    report = verify_chain(events, state)
    if not report.ok:
        raise RfpflowError(f"the cycle's audit chain is broken, so it is not copied: {report.message}")
    return _Snapshot(state, events, records)


def _write(store: Any, source: _Snapshot) -> str:
    """Write the snapshot in one transaction; verify and compare it before the commit."""
    with store.transaction() as tx:
        if tx.state() is not None:
            raise RfpflowError("the target already holds a cycle; nothing was copied")
        tx.save_state(source.state)
        tx.insert_raw_events(source.events)
        for collection, key, text in source.records:
            tx.put_text(collection, key, text)
        arrived = [tuple(row) for row in tx.raw_events()]
        report = verify_chain(arrived, tx.state())
        same = (arrived == [(*r[:3], int(r[3]), *r[4:]) for r in source.events]
                and [tuple(r) for r in tx.raw_records()] == source.records and tx.state() == source.state)
        if not report.ok or not same:
            raise RfpflowError("the copy did not arrive intact "
                               f"({report.message if not report.ok else 'it differs from the source'}); "
                               "nothing was copied")
    return report.head


def copy_cycle(workspace: Path, target: str) -> CopyReport:
    """Copy the workspace's cycle to ``target`` (a postgresql:// URL, or ``sqlite`` for the
    workspace's own file) and make the workspace use the copy."""
    target = target.strip()
    pointer = read_pointer(workspace)
    if target == "sqlite":
        if pointer is None:
            raise RfpflowError("the cycle is already kept in this workspace's SQLite file; nothing to copy")
        return _to_sqlite(workspace)
    if not target.startswith(SCHEMES):
        raise RfpflowError(f"--to must be a postgresql://… URL or 'sqlite', not {target!r}")
    from rfpflow.store.postgresql import redact

    if pointer is not None and pointer.url == redact(target):
        raise RfpflowError(f"the cycle is already kept in {pointer.url}; nothing to copy")
    source = _read_source(workspace)
    cycle = new_cycle_id()
    store = open_server(target, cycle, workspace=workspace, configured=settings())
    try:
        head = _write(store, source)
    finally:
        store.close()
    write_pointer(workspace, target, cycle)
    before = (f"The workspace used {pointer.url} (cycle {pointer.cycle}) before; that copy is left as it was."
              if pointer else f"The SQLite file {store_path(workspace)} is left as it was (the workspace now uses "
              "the server; keep the file as a backup or delete it).")
    return CopyReport(f"{redact(target)} (cycle {cycle})", len(source.events), len(source.records), head, before)


def _to_sqlite(workspace: Path) -> CopyReport:
    source = _read_source(workspace)
    final = store_path(workspace)
    staging = final.parent / f"copy-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        store = SqliteStore(staging / final.name, create=True)
        try:
            head = _write(store, source)
        finally:
            store.close()
        kept = ""
        if final.exists():
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
            aside = final.with_name(f"{final.name}.before-copy-{stamp}")
            os.replace(final, aside)
            for suffix in ("-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.replace(f"{final}{suffix}", f"{aside}{suffix}")
            kept = f" The older SQLite file was moved to {aside.name}."
        os.replace(staging / final.name, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    pointer = read_pointer(workspace)
    pointer_path(workspace).unlink()
    assert pointer is not None
    return CopyReport(str(final), len(source.events), len(source.records), head,
                      f"The server copy in {pointer.url} (cycle {pointer.cycle}) is left as it was.{kept}")


def describe(workspace: Path) -> str:
    """Where the workspace's cycle is kept (for ``rfpflow store info``)."""
    pointer = read_pointer(workspace)
    if pointer is not None:
        return f"PostgreSQL: {pointer.url}, cycle {pointer.cycle} (noted in {pointer_path(workspace)})"
    if store_path(workspace).exists():
        return f"SQLite: {store_path(workspace)}"
    configured = settings()
    where = f"PostgreSQL {configured.url} (from {configured.origin})" if configured.url else "SQLite in the workspace"
    return f"no cycle yet; `rfpflow issue` will create it in {where}"


def attach(workspace: Path, url: str, cycle: str) -> str:
    """Point a workspace at a cycle that already lives in a server store (another officer's machine,
    a restored backup); its rfp.toml must be the definition the cycle froze."""
    if not url.startswith(SCHEMES):
        raise RfpflowError(f"the store must be a postgresql://… URL, not {url!r}")
    if read_pointer(workspace) is not None or store_path(workspace).exists():
        raise RfpflowError(f"{workspace} already has a cycle ({describe(workspace)}); use another folder")
    store = open_server(url, cycle, workspace=workspace, read_only=True, configured=settings())
    try:
        with store.read() as tx:
            state = tx.state()
            report = verify_chain(tx.raw_events(), state) if state is not None else None
    finally:
        store.close()
    if state is None or report is None:
        raise RfpflowError(f"{url}: there is no cycle {cycle!r} in this store; nothing was changed "
                           "(`rfpflow store info` in the cycle's workspace shows its id)")
    if not report.ok:
        raise RfpflowError(f"cycle {cycle}'s audit chain is broken, so the workspace was not pointed at it: "
                           f"{report.message}")
    write_pointer(workspace, url, cycle)
    from rfpflow.store.postgresql import redact

    return (f"This workspace now uses cycle {cycle} ({state.rfp_id}, {state.stage}) in {redact(url)}; "
            f"audit chain verified: {report.events} events.")
