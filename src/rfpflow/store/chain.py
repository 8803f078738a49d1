"""The audit chain: each event's hash covers the previous event's hash and the event itself.

Editing, deleting, inserting or reordering an event breaks the chain; the chain head and
event count are also kept in the state row, so a truncated log is caught too.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import attrs

from rfpflow.store.interface import GENESIS, CycleState


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def event_hash(seq: int, at: str, wall_at: str, simulated: bool, actor: str, kind: str,
               data_text: str, prev_hash: str) -> str:
    body = canonical([seq, at, wall_at, simulated, actor, kind, data_text, prev_hash])
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


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
