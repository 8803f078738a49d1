"""Reading a batch of bid files through the ``rfpflow_read_bids`` hook, on two processes when it pays.

Importing many workbooks is bound by the CPU, and the machines procurement
teams use have more than one core. With at least :data:`MIN_FILES` files,
where a process may be forked (:func:`rfpflow.bulk.can_fork`), a forked worker
reads every other file while this process reads the others. The worker's
results come back pickled and are taken in file order, so the batch is read
exactly as one process reads it: the same bids, refusals and errors, in the
same order. Should the worker fail, this process reads its files itself.

Reader plugins run in the worker too, so a batch is shared only when every
plugin implementing ``rfpflow_read_bids`` says it may be: a module attribute
``RFPFLOW_READS_IN_WORKERS = True`` (the builtin xlsx reader sets it). A
reader that keeps state between calls, or reports other than through the
bids it returns, must not set it.
"""

from __future__ import annotations

import contextlib
import copyreg
import io
import os
import pickle
import signal
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from rfpflow.bulk import can_fork
from rfpflow.context import RunContext
from rfpflow.errors import InputFileError, PluginError
from rfpflow.model import Bid, Rfp
from rfpflow.plugins import PluginHost

__all__ = ["MIN_FILES", "read_bid_file", "read_bid_files"]

MIN_FILES = 16
"""Fewer files are read by this process alone (forking costs ~10 ms)."""

Outcome = list[Bid] | InputFileError


def read_bid_file(host: PluginHost, path: Path, rfp: Rfp, context: RunContext) -> list[Bid]:
    """The bids in one file, from the first plugin that reads it. Raises
    :class:`InputFileError` for a file no plugin reads, or one without bids,
    and :class:`PluginError` for a plugin returning something else."""
    answer = host.call("rfpflow_read_bids", firstresult=True, source=path, rfp=rfp, context=context)
    if not answer:
        raise InputFileError(f"{path.name}: no installed plugin reads this kind of file "
                             f"({path.suffix or 'no extension'}); bids come as .xlsx workbooks")
    reader, bids = answer[0]
    if not isinstance(bids, list) or not all(isinstance(b, Bid) for b in bids):
        raise PluginError(f"plugin {reader!r} returned {type(bids).__name__} from rfpflow_read_bids "
                          f"for {path.name}, expected a list of Bid records")
    if not bids:
        raise InputFileError(f"{path.name}: contains no bid")
    return bids


def read_bid_files(host: PluginHost, files: Sequence[Path], rfp: Rfp,
                   context: RunContext) -> Iterator[tuple[Path, Outcome]]:
    """Each file with its bids, or with the :class:`InputFileError` refusing
    it, in order. Any other error ends the batch, as it would one process."""
    if len(files) < MIN_FILES or not can_fork() or not _readers_may_share(host):
        for path in files:
            yield path, _outcome(host, path, rfp, context)
        return
    yield from _shared(host, files, rfp, context)


def _outcome(host: PluginHost, path: Path, rfp: Rfp, context: RunContext) -> Outcome:
    try:
        return read_bid_file(host, path, rfp, context)
    except InputFileError as exc:
        return exc


def _readers_may_share(host: PluginHost) -> bool:
    impls = host.pm.hook.rfpflow_read_bids.get_hookimpls()
    return bool(impls) and all(getattr(impl.plugin, "RFPFLOW_READS_IN_WORKERS", False) is True for impl in impls)


def _shared(host: PluginHost, files: Sequence[Path], rfp: Rfp,
            context: RunContext) -> Iterator[tuple[Path, Outcome]]:
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:  # no process to be had: read alone
        os.close(read_end)
        os.close(write_end)
        for path in files:
            yield path, _outcome(host, path, rfp, context)
        return
    if pid == 0:  # the worker: every other file, then leave without the parent's clean-up
        code = 1
        try:
            os.close(read_end)
            _work(write_end, host, files[1::2], rfp, context)
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    worker_alive = True
    try:
        with os.fdopen(read_end, "rb") as pipe:
            for index, path in enumerate(files):
                if index % 2 == 0 or not worker_alive:
                    yield path, _outcome(host, path, rfp, context)
                    continue
                message = _receive(pipe)
                if message is None:  # the worker died: its files are read here
                    worker_alive = False
                    yield path, _outcome(host, path, rfp, context)
                    continue
                kind, payload = message
                if kind == "error":
                    raise payload
                yield path, payload
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)  # finished or not, it has nothing left to say
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def _work(fd: int, host: PluginHost, files: Sequence[Path], rfp: Rfp, context: RunContext) -> None:
    with os.fdopen(fd, "wb") as pipe:
        for path in files:
            message: tuple[str, Any]
            try:
                message = ("ok", _outcome(host, path, rfp, context))
            except Exception as exc:  # handed to the parent, which raises it where one process would
                message = ("error", exc)
            try:
                data = _dumps(message)
            except (pickle.PicklingError, TypeError, AttributeError) as exc:
                data = _dumps(("error", PluginError(f"{path.name}: the bids could not be handed over ({exc})")))
            pipe.write(len(data).to_bytes(8, "little") + data)
            pipe.flush()
            if message[0] == "error":
                return


def _mapping_proxy(proxy: MappingProxyType[Any, Any]) -> tuple[Any, tuple[dict[Any, Any]]]:
    return _read_only, (dict(proxy),)


def _read_only(mapping: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(mapping)


# Records hold read-only mappings (MappingProxyType), which pickle does not know by itself.
_DISPATCH = {**copyreg.dispatch_table, MappingProxyType: _mapping_proxy}


def _dumps(message: tuple[str, Any]) -> bytes:
    out = io.BytesIO()
    pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _DISPATCH
    pickler.dump(message)
    return out.getvalue()


def _receive(pipe: Any) -> tuple[str, Any] | None:
    """The worker's next message (a pickle it made of bids or an error), or
    None when it ended without one."""
    head = pipe.read(8)
    if len(head) < 8:
        return None
    size = int.from_bytes(head, "little")
    data = pipe.read(size)
    if len(data) < size:
        return None
    kind, payload = pickle.loads(data)  # written by our own forked worker, never by a vendor
    return kind, payload
