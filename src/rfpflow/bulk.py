"""Building many records at once: the garbage collector, and a second process.

:func:`fork_worker`, :func:`send`, :func:`receive` and :func:`end_worker` are
the small protocol both users of a second process share (the scanner of a
large sheet, the worker sharing a batch of files): the worker writes
length-prefixed pickles to a pipe, the parent reads them in order.

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
import copyreg
import gc
import io
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import MappingProxyType
from typing import Any, BinaryIO

__all__ = ["can_fork", "end_worker", "fork_worker", "gc_paused", "receive", "send"]


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


def fork_worker(work: Callable[[BinaryIO], None]) -> tuple[int, BinaryIO] | None:
    """Fork a worker that runs ``work`` with the write end of a pipe, then
    leaves without running this process's clean-up. Returns the worker's pid
    and the read end, or None when no process can be had (a limit, memory).
    End it with :func:`end_worker`, whether it finished or not."""
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    if pid == 0:
        code = 1
        try:
            os.close(read_end)
            with os.fdopen(write_end, "wb") as pipe:
                work(pipe)
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    return pid, os.fdopen(read_end, "rb")


def end_worker(pid: int) -> None:
    """Stop a worker (if it still runs: it has nothing left to say) and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):  # already reaped (SIGCHLD ignored)
        os.waitpid(pid, 0)


def send(pipe: BinaryIO, kind: str, payload: Any) -> None:
    """One message to the parent: a length and a pickle. Records may hold
    read-only mappings (MappingProxyType), which pickle does not know alone."""
    out = io.BytesIO()
    pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _DISPATCH
    pickler.dump((kind, payload))
    data = out.getvalue()
    pipe.write(len(data).to_bytes(8, "little") + data)
    pipe.flush()


def receive(pipe: BinaryIO) -> tuple[str, Any] | None:
    """The worker's next message, or None when it ended without one."""
    head = pipe.read(8)
    if len(head) < 8:
        return None
    size = int.from_bytes(head, "little")
    data = pipe.read(size)
    if len(data) < size:
        return None
    kind, payload = pickle.loads(data)  # written by our own forked worker, never by a vendor
    return kind, payload


def _read_only(mapping: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(mapping)


def _mapping_proxy(proxy: MappingProxyType[Any, Any]) -> tuple[Any, tuple[dict[Any, Any]]]:
    return _read_only, (dict(proxy),)


_DISPATCH = {**copyreg.dispatch_table, MappingProxyType: _mapping_proxy}
