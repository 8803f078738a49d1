"""Building many records at once: the garbage collector, and a second process.

Reading a 50,000-line pricing sheet makes a few hundred thousand small
containers (rows, dicts, price lines), and writing the bid makes as many
again. None of them form reference cycles, but each allocation counts
towards CPython's cyclic garbage collector, whose full collections then walk
every live object -- the RFP's line items and the bid included -- several
times over: measured here, 10-15 % of a large import. :func:`gc_paused`
pauses the collector for such a stretch and restores it afterwards;
reference counting still frees everything as usual.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import threading
from collections.abc import Iterator

__all__ = ["can_fork", "gc_paused"]


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector inside the block (if it was running)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def can_fork() -> bool:
    """A forked copy of this process may do part of the work: on Linux, with
    one thread running (a fork copies only the calling thread), more than one
    CPU, and ``RFPFLOW_NO_FORK`` not set to 1."""
    return (sys.platform == "linux" and threading.active_count() == 1 and (os.cpu_count() or 1) > 1
            and os.environ.get("RFPFLOW_NO_FORK", "") not in ("1", "true", "yes"))
