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

import pickle
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from rfpflow.bulk import can_fork, end_worker, fork_worker, receive, send
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
    answer = host.call("rfpflow_read_bids", firstresult=True, source=path, rfp=rfp, context=context,
                       subject=f"file {path.name}")
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
    worker = fork_worker(lambda pipe: _work(pipe, host, files[1::2], rfp, context))
    if worker is None:  # no process to be had: read alone
        for path in files:
            yield path, _outcome(host, path, rfp, context)
        return
    pid, pipe = worker
    worker_alive = True
    try:
        with pipe:
            for index, path in enumerate(files):
                if index % 2 == 0 or not worker_alive:
                    yield path, _outcome(host, path, rfp, context)
                    continue
                message = receive(pipe)
                if message is None:  # the worker died: its files are read here
                    worker_alive = False
                    yield path, _outcome(host, path, rfp, context)
                    continue
                kind, payload = message
                if kind == "error":
                    raise payload
                yield path, payload
    finally:
        end_worker(pid)


def _work(pipe: BinaryIO, host: PluginHost, files: Sequence[Path], rfp: Rfp, context: RunContext) -> None:
    """In the worker: each file's outcome, in order, until an error ends the batch."""
    for path in files:
        payload: Outcome | Exception
        try:
            kind, payload = "ok", _outcome(host, path, rfp, context)
        except Exception as exc:  # handed to the parent, which raises it where one process would
            kind, payload = "error", exc
        try:
            send(pipe, kind, payload)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            kind = "error"
            send(pipe, kind, PluginError(f"{path.name}: the bids could not be handed over ({exc})"))
        if kind == "error":
            return
