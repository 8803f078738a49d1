"""The store subsystem: where a cycle's state, audit events and records are kept.

It owns the store interface (:mod:`~rfpflow.store.interface`), the audit chain
(:mod:`~rfpflow.store.chain`), the record encoding (:mod:`~rfpflow.store.serde`) and the
backends (:mod:`~rfpflow.store.sqlite`, the default, and :mod:`~rfpflow.store.postgresql`,
loaded only when a cycle lives in a server), which store a workspace uses
(:mod:`~rfpflow.store.config`) and moving a cycle between them (:mod:`~rfpflow.store.copy`).
It may import the core's ``model`` and ``errors`` and the ``bulk`` helpers, nothing above
them: the workflow calls the store, never the other way round.
"""

from rfpflow.store.chain import ChainReport, canonical, event_hash, verify_chain
from rfpflow.store.interface import GENESIS, CycleState, Event, Store, Transaction
from rfpflow.store.sqlite import SCHEMA_VERSION, STORE_DIR, STORE_FILE, SqliteStore, store_exists, store_path

__all__ = [
    "GENESIS",
    "SCHEMA_VERSION",
    "STORE_DIR",
    "STORE_FILE",
    "ChainReport",
    "CycleState",
    "Event",
    "SqliteStore",
    "Store",
    "Transaction",
    "canonical",
    "event_hash",
    "store_exists",
    "store_path",
    "verify_chain",
]
