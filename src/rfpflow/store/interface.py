"""What every store backend offers: one transaction per command, the cycle's state row,
an append-only event log and named collections of JSON records.

Everything above the store talks to a :class:`Store` through these protocols only; the
records it hands out (:class:`CycleState`, :class:`Event`) are plain values.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any, Protocol

import attrs

#: The chain head of a cycle with no events yet.
GENESIS = "0" * 64


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



class Transaction(Protocol):
    """What a command may do inside its one transaction."""

    def state(self) -> CycleState | None: ...
    def save_state(self, state: CycleState) -> None: ...
    def append_event(self, kind: str, data: dict[str, Any], *, actor: str, at: dt.datetime,
                     wall_at: dt.datetime, simulated: bool) -> Event: ...
    def events(self) -> list[Event]: ...
    def raw_events(self) -> list[tuple[Any, ...]]:
        """The event rows as stored (seq, at, wall_at, simulated, actor, kind, data text, prev hash, hash)."""
        ...
    def put(self, collection: str, key: str, data: Any) -> None: ...
    def get(self, collection: str, key: str) -> Any | None: ...
    def get_raw(self, collection: str, key: str) -> Any | None:
        """The record as stored, its type tags kept (for :func:`rfpflow.store.serde.from_data`)."""
        ...
    def all(self, collection: str) -> list[tuple[str, Any]]: ...
    def all_raw(self, collection: str) -> list[tuple[str, Any]]: ...
    def delete(self, collection: str, key: str) -> None: ...


class Store(Protocol):
    def transaction(self) -> contextlib.AbstractContextManager[Transaction]: ...
    def read(self) -> contextlib.AbstractContextManager[Transaction]: ...
    def close(self) -> None: ...
