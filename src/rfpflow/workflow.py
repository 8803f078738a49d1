"""The RFP cycle: stages, guards and transitions over the store.

Each command is one method of :class:`Cycle` and one store transaction:
it checks the stage and the guards, does its work (calling plugins through
the host), records events, runs the ``rfpflow_transition`` hook (where a
plugin may veto) and commits — or, on any error, changes nothing. Observers
(``rfpflow_after_transition``) run after the commit.

Guards: the definition is frozen at ``issue`` by its hash (``amend`` is the
only way to change it); bids are accepted only while issued and before the
deadline (or late with a reason); only screened-in vendors are evaluated,
only shortlisted vendors enter the trial, and only a vendor that passed
screening (and the trial) can be awarded.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import attrs

from rfpflow.context import Clock, RunContext
from rfpflow.definition import check_rfp, load_rfp, zone_of
from rfpflow.documents.view import award_view, build_view, evaluation_view, trial_view
from rfpflow.errors import GuardError, InputFileError, Problem, RfpflowError, StageError
from rfpflow.model import PRICE_GATE_KINDS, Bid, GateResult, Rfp, Stage, Transition
from rfpflow.options import suggest
from rfpflow.records import Resolution, StoredBid, StoredGateResult, summarize
from rfpflow.spreadsheets.batch import read_bid_files
from rfpflow.store import (
    ChainReport,
    CycleState,
    Event,
    Store,
    Transaction,
    serde,
    verify_chain,
)
from rfpflow.store.config import cycle_store_exists, open_store

T = TypeVar("T")

OPEN_FOR_BIDS = (Stage.ISSUED,)
TERMINAL = (Stage.AWARDED, Stage.CANCELLED)

STAGE_LABELS = {
    Stage.DRAFT: "draft", Stage.ISSUED: "issued - open for bids", Stage.BIDS_CLOSED: "bids closed",
    Stage.SCREENING: "screening", Stage.EVALUATION: "evaluation", Stage.TRIAL_RUN: "trial run",
    Stage.AWARD_RECOMMENDED: "award recommended", Stage.AWARDED: "awarded", Stage.CANCELLED: "cancelled",
}


def buyer_zone(rfp: Rfp | None) -> dt.tzinfo:
    """The buyer's time zone (rfp.toml's ``timezone``); UTC when the definition declares none."""
    return (zone_of(rfp.timezone) if rfp is not None else None) or dt.UTC


def deadline_of(value: dt.date | dt.datetime | None, zone: dt.tzinfo = dt.UTC) -> dt.datetime | None:
    """A deadline as an aware date-time: a bare date means the end of that day in the buyer's ``zone``."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    return dt.datetime.combine(value, dt.time(23, 59, 59), tzinfo=zone)


def period_end(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    """A period "until ``day``" ends at the end of that day in the buyer's zone: the first instant after it."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 0), tzinfo=zone)


def standstill_over(now: dt.datetime, ends: dt.date, zone: dt.tzinfo) -> bool:
    """Whether a standstill period "until ``ends``" is over at the instant ``now``."""
    return now >= period_end(ends, zone)


def when(moment: dt.datetime, zone: dt.tzinfo) -> str:
    """An instant as printed to the user: in the buyer's zone, with its offset and the zone's name."""
    local = moment.astimezone(zone)
    name = str(zone)
    return f"{local.isoformat()} ({name})" if name not in ("UTC", "UTC+00:00") else f"{local.isoformat()} (UTC)"


#: Every derived result: (its record's collection, key), the command that makes it, what it is called,
#: and the results it is built on. Each stores the digest of its inputs in the ``digests`` collection;
#: when the inputs change the result is stale.
DERIVED: dict[str, tuple[tuple[str, str], str, str]] = {
    "evaluation": (("evaluation", "result"), "rfpflow evaluate rank", "the ranking (consensus and totals)"),
    "shortlist": (("shortlist", "vendors"), "rfpflow shortlist", "the shortlist"),
    "trial": (("trial", "result"), "rfpflow trial evaluate", "the trial-run verdicts"),
    "award": (("award", "decision"), "rfpflow award", "the award recommendation"),
}
#: The documents' stage for each derived result (documents of a stale result are not shown).
STALE_STAGES = {"evaluation": "evaluation", "trial": "trial-run", "award": "award-recommended"}


def _digest(*parts: Any) -> str:
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def input_digest(tx: Transaction, result: str) -> str:
    """The digest of what ``result`` is computed from, as the store holds it now."""
    if result == "evaluation":  # bids, screening outcomes (who is in) and every evaluator's scores
        return _digest(tx.all_raw("bids"), tx.all_raw("screening"), tx.all_raw("scores"))
    if result == "shortlist":
        return _digest(input_digest(tx, "evaluation"), tx.get_raw("evaluation", "result"))
    if result == "trial":  # who is shortlisted and what was measured
        return _digest(tx.get_raw("shortlist", "vendors"), tx.all_raw("measurements"))
    if result == "award":
        return _digest(input_digest(tx, "evaluation"), input_digest(tx, "trial"),
                       tx.get_raw("evaluation", "result"), tx.get_raw("trial", "result"),
                       tx.get_raw("shortlist", "vendors"))
    raise RfpflowError(f"internal: no derived result {result!r}")


def stamp(tx: Transaction, result: str) -> None:
    """Record what ``result`` was computed from (after it was stored)."""
    tx.put("digests", result, {"inputs": input_digest(tx, result)})


def stale_results(tx: Transaction) -> dict[str, str]:
    """The stored results whose inputs changed since they were computed: result -> the command to run again.

    A result built on a stale one is stale too. Results stored before digests existed count as current.
    """
    stale: dict[str, str] = {}
    for name, ((collection, key), command, _label) in DERIVED.items():
        stored = tx.get_raw("digests", name)
        if tx.get_raw(collection, key) is None or not isinstance(stored, dict):
            continue
        if stored.get("inputs") != input_digest(tx, name):
            stale[name] = command
    if "evaluation" in stale:  # later stages built on it
        for name in ("shortlist", "award"):
            if tx.get_raw(*DERIVED[name][0]) is not None:
                stale.setdefault(name, DERIVED[name][1])
    if "trial" in stale and tx.get_raw(*DERIVED["award"][0]) is not None:
        stale.setdefault("award", DERIVED["award"][1])
    return stale


def refuse_stale(tx: Transaction, *needed: str) -> None:
    """Refuse to build on a stale result, naming the command that brings it up to date."""
    stale = stale_results(tx)
    for name in needed:
        if name in stale:
            raise GuardError(f"{DERIVED[name][2]} is out of date: its inputs changed after `{stale[name]}` ran "
                             f"(a score sheet, screening outcome or measurement was imported or settled since); "
                             f"run `{stale[name]}` again first")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@attrs.frozen
class ImportReport:
    imported: tuple[tuple[str, str, str], ...]  # (file, vendor_id, what happened: "new", "unchanged", ...)
    refused: tuple[tuple[str, str], ...]        # (file, message)
    skipped: tuple[str, ...] = ()               # files not read (lock files), with why


class _Operation:
    """What a command body gets: the transaction, the RFP and a way to record events."""

    def __init__(self, cycle: Cycle, tx: Transaction, rfp: Rfp, state: CycleState) -> None:
        self.cycle = cycle
        self.tx = tx
        self.rfp = rfp
        self.state = state
        self.target: Stage | None = None
        self.transition_data: dict[str, Any] = {}

    def record(self, kind: str, **data: Any) -> None:
        clock = self.cycle.context.clock
        self.tx.append_event(kind, data, actor=self.cycle.context.actor, at=clock.now(),
                             wall_at=clock.wall(), simulated=clock.is_simulated)

    def move_to(self, target: Stage, **data: Any) -> None:
        self.target = target
        self.transition_data = data


class Cycle:
    """One RFP cycle in a workspace folder."""

    def __init__(self, workspace: Path, context: RunContext) -> None:
        self.workspace = workspace
        self.context = attrs.evolve(context, workspace=workspace)
        self.warnings: list[str] = []

    # -- opening ------------------------------------------------------------

    @property
    def definition_path(self) -> Path:
        return self.workspace / "rfp.toml"

    def _store(self, *, create: bool = False, read_only: bool = False) -> Store:
        return open_store(self.workspace, create=create, read_only=read_only)

    def load_definition(self) -> Rfp:
        return load_rfp(self.definition_path, context=self.context)

    def _frozen_rfp(self, state: CycleState) -> Rfp:
        """The RFP from rfp.toml, refused if it differs from the definition frozen at issue."""
        rfp = self.load_definition()
        if rfp.definition_hash != state.definition_hash:
            raise GuardError(
                f"rfp.toml was changed after the RFP was issued (definition {state.definition_hash[:12]} "
                f"is now {rfp.definition_hash[:12]}). Undo the edit, or record it as an amendment with "
                '`rfpflow amend --reason "..."` (only while the RFP is open for bids).'
            )
        return rfp

    @contextlib.contextmanager
    def _reading(self) -> Iterator[Transaction | None]:
        """A read-only look at the store; None before the cycle has one (a draft)."""
        if not cycle_store_exists(self.workspace):
            yield None
            return
        store = self._store(read_only=True)
        try:
            with store.read() as tx:
                yield tx
        finally:
            store.close()

    def stage(self) -> Stage:
        state = self.state()
        return Stage(state.stage) if state else Stage.DRAFT

    def _stored_rfp(self, state: CycleState) -> Rfp:
        """The RFP as frozen in the store (whatever rfp.toml now says)."""
        return load_rfp(self.definition_path, context=self.context, text=state.definition_text)

    @contextlib.contextmanager
    def _command(self, name: str, allowed: Sequence[Stage], *, guard_definition: bool = True) -> Iterator[_Operation]:
        """Run a command body in one transaction, with the stage and definition guards."""
        store = self._store()
        try:
            with store.transaction() as tx:
                state = tx.state()
                if state is None:
                    raise StageError("the RFP has not been issued yet; run `rfpflow issue` first")
                stage = Stage(state.stage)
                if stage not in allowed:
                    raise StageError(_wrong_stage(name, stage, allowed))
                rfp = self._frozen_rfp(state) if guard_definition else self._stored_rfp(state)
                op = _Operation(self, tx, rfp, state)
                yield op
                if op.target is not None:
                    self._transition(op, name, stage, op.target)
        finally:
            store.close()
        if op.target is not None:
            self._after_transition(name, stage, op.target, op.transition_data, rfp)
        self.render_documents(rfp)

    def render_documents(self, rfp: Rfp) -> list[Path]:
        """Render every document the cycle has reached into out/ (after the command committed)."""
        from rfpflow.documents.render import render_documents

        out_dir = self.workspace / "out"
        try:
            stale = self.stale_results()
            self._remove_stale_documents(stale, out_dir)
            return render_documents(build_view(self, rfp), self.context.host, workspace=self.workspace,
                                    out_dir=out_dir, rfp=rfp)
        except RfpflowError as exc:
            raise RfpflowError(f"the command was recorded, but the documents could not be rendered: {exc}\n"
                               "Fix the template and run `rfpflow render`.") from exc
        except OSError as exc:
            raise RfpflowError(f"the command was recorded, but the documents could not be written to out/: "
                               f"{exc.strerror or exc}. Free some space or make out/ writable, then run "
                               "`rfpflow render`.") from exc

    def stale_results(self) -> dict[str, str]:
        """The derived results whose inputs changed since they were computed (see :func:`stale_results`)."""
        with self._reading() as tx:
            return {} if tx is None else stale_results(tx)

    def _remove_stale_documents(self, stale: dict[str, str], out_dir: Path) -> None:
        """Documents of a stale result leave out/: a stale number is never left to be read."""
        stages = {STALE_STAGES[name] for name in stale if name in STALE_STAGES}
        if not stages or not out_dir.is_dir():
            return
        for spec in self.context.host.documents().items.values():
            if spec.stage in stages:
                for path in out_dir.iterdir():
                    stem = path.name.split(".", 1)[0]
                    if path.is_file() and (stem == spec.name or stem.startswith(f"{spec.name}-")):
                        path.unlink()

    def _transition(self, op: _Operation, command: str, source: Stage, target: Stage) -> None:
        transition = Transition(command, source, target, self.context.actor, self.context.now(),
                                op.transition_data)
        context = self.context.with_rfp(op.rfp)
        approved = self.context.host.first("rfpflow_transition", Transition, transition=transition, context=context)
        if approved is None:
            raise RfpflowError(f"no plugin approved the transition to {target.value}")
        op.record("stage.changed", source=source.value, target=target.value, command=command)
        op.tx.save_state(attrs.evolve(_state(op.tx), stage=target.value))

    def _after_transition(self, command: str, source: Stage, target: Stage, data: dict[str, Any], rfp: Rfp) -> None:
        transition = Transition(command, source, target, self.context.actor, self.context.now(), data)
        self.warnings.extend(self.context.host.notify(
            "rfpflow_after_transition", transition=transition, context=self.context.with_rfp(rfp)))

    # -- request --------------------------------------------------------------

    def issue(self) -> Rfp:
        """draft -> issued: validate, freeze the definition, write the bid-response workbook."""
        rfp, problems = check_rfp(self.definition_path, context=self.context)
        errors = [p for p in problems if p.severity == "error"]
        if errors or rfp is None:
            from rfpflow.errors import DefinitionError

            raise DefinitionError("rfp.toml has problems; fix them before issuing", errors)
        self.warnings.extend(str(p) for p in problems)
        if cycle_store_exists(self.workspace) and self.stage() != Stage.DRAFT:
            raise StageError(_wrong_stage("issue", self.stage(), (Stage.DRAFT,)))
        text = self.definition_path.read_text(encoding="utf-8-sig")
        store = self._store(create=True)
        try:
            with store.transaction() as tx:
                existing = tx.state()
                if existing is not None:
                    raise StageError(_wrong_stage("issue", Stage(existing.stage), (Stage.DRAFT,)))
                state = CycleState(rfp.id, Stage.DRAFT.value, rfp.definition_hash, text)
                tx.save_state(state)
                op = _Operation(self, tx, rfp, state)
                op.record("cycle.issued", rfp_id=rfp.id, title=rfp.title, definition_hash=rfp.definition_hash)
                written = self._write_bid_workbook(rfp)
                try:
                    op.move_to(Stage.ISSUED)
                    self._transition(op, "issue", Stage.DRAFT, Stage.ISSUED)
                except BaseException:
                    if written is not None:
                        written.unlink(missing_ok=True)  # nothing of a refused issue stays behind
                    raise
        finally:
            store.close()
        self._after_transition("issue", Stage.DRAFT, Stage.ISSUED, {}, rfp)
        self.render_documents(rfp)
        return rfp

    def bid_workbook_path(self, rfp: Rfp) -> Path:
        return self.workspace / "out" / f"{rfp.id}-bid-response.xlsx"

    def _write_bid_workbook(self, rfp: Rfp) -> Path | None:
        target = self.bid_workbook_path(rfp)
        target.parent.mkdir(parents=True, exist_ok=True)
        written = self.context.host.first("rfpflow_write_bid_workbook", Path, rfp=rfp, target=target,
                                          context=self.context.with_rfp(rfp))
        if written is None:
            self.warnings.append("no installed plugin writes bid-response workbooks; none was written")
        return written

    def amend(self, reason: str) -> Rfp:
        """Record a changed rfp.toml while open for bids; existing bids must be resubmitted."""
        if not reason.strip():
            raise GuardError("an amendment needs a reason: --reason \"...\"")
        store = self._store()
        try:
            with store.transaction() as tx:
                state = tx.state()
                if state is None:
                    raise StageError("the RFP has not been issued yet; edit rfp.toml freely until `rfpflow issue`")
                if Stage(state.stage) not in OPEN_FOR_BIDS:
                    raise StageError(
                        f"the definition can only be amended while the RFP is open for bids; it is "
                        f"{STAGE_LABELS[Stage(state.stage)]}. Cancel the cycle and issue a new RFP instead."
                    )
                rfp = self.load_definition()
                if rfp.definition_hash == state.definition_hash:
                    raise GuardError("rfp.toml is unchanged since it was issued; there is nothing to amend")
                op = _Operation(self, tx, rfp, state)
                marked = []
                for key, data in tx.all("bids"):
                    stored = serde.from_data(StoredBid, data)
                    if not stored.needs_resubmission:
                        tx.put("bids", key, attrs.evolve(stored, needs_resubmission=True))
                        marked.append(key)
                op.record("definition.amended", reason=reason, previous_hash=state.definition_hash,
                          definition_hash=rfp.definition_hash, bids_to_resubmit=marked)
                text = self.definition_path.read_text(encoding="utf-8-sig")
                tx.save_state(attrs.evolve(_state(tx), definition_hash=rfp.definition_hash, definition_text=text))
                self._write_bid_workbook(rfp)
        finally:
            store.close()
        return rfp

    # -- bids -----------------------------------------------------------------

    def import_bids(self, paths: Sequence[Path], *, accept_late: bool = False, late_reason: str = "",
                    progress: Any = None) -> ImportReport:
        """Read vendor workbooks (all-or-nothing each) and store the good ones in one transaction.

        A bid belongs to the vendor who wrote it (:mod:`rfpflow.bids`): a second workbook from the same
        vendor replaces the first (kept in "bid_history"), a byte-identical file changes nothing, and
        ``accept_late`` applies only to the bids recorded by this import.
        """
        from rfpflow.bids import (
            identity_keys,
            invited_match,
            join_envelopes,
            may_be_one_vendor,
            new_vendor_id,
            registration_key,
            short_time,
        )

        skipped: list[str] = []
        files = _expand(paths, self.workspace, skipped)
        if accept_late and not late_reason.strip():
            raise GuardError("accepting a late bid needs a reason: --accept-late --reason \"...\"")
        with self._command("bids import", OPEN_FOR_BIDS) as op:
            rfp = op.rfp
            zone = buyer_zone(rfp)
            deadline = deadline_of(rfp.timeline.bid_deadline, zone)
            now = self.context.now()
            late = deadline is not None and now > deadline
            parsed: list[tuple[Path, list[Bid]]] = []
            refused: list[tuple[str, str]] = []
            context = self.context.with_rfp(rfp)
            for path, outcome in read_bid_files(self.context.host, files, rfp, context):
                if isinstance(outcome, InputFileError):
                    refused.append((_shown(path, files), str(outcome)))
                else:
                    parsed.append((path, outcome))
                    self.warnings.extend(f"{_shown(path, files)}: {warning}"
                                         for bid in outcome for warning in bid.warnings)
                if progress is not None:
                    progress(path)
            stored = {key: serde.from_data(StoredBid, d) for key, d in op.tx.all("bids")}
            known: dict[str, str] = {}
            registrations: dict[str, str] = {}  # vendor id -> its registration key (to tell namesakes apart)
            for key, s in sorted(stored.items()):
                registrations.setdefault(key, registration_key(s.bid.fields.get("registration_no")))
                for identity in identity_keys(s.bid):
                    known.setdefault(identity, key)
            taken = set(stored) | {v.id for v in rfp.vendors}
            seen: dict[str, str] = {}
            seen_envelopes: dict[str, set[str]] = {}
            imported: list[tuple[str, str, str]] = []
            pending: list[tuple[Path, str, str, Bid, str, StoredBid | None, bool]] = []
            for path, bids in parsed:
                shown = _shown(path, files)
                sha = file_sha256(path)
                for bid in bids:
                    identities = identity_keys(bid)
                    registration = registration_key(bid.fields.get("registration_no"))
                    invited = invited_match(bid, rfp.vendors) if rfp.vendors else None
                    vendor_id = next((known[i] for i in identities if i in known
                                      and may_be_one_vendor(registration, registrations.get(known[i], ""))), None)
                    vendor_id = vendor_id or (invited.id if invited else None)
                    if vendor_id is None:
                        vendor_id = new_vendor_id(bid.vendor_name, taken, bid.vendor_id)
                    for identity in identities:
                        known.setdefault(identity, vendor_id)
                    registrations.setdefault(vendor_id, registration)
                    taken.add(vendor_id)
                    bid = attrs.evolve(bid, vendor_id=vendor_id)
                    if vendor_id in seen and not (bid.envelope and seen_envelopes.get(vendor_id)
                                                  and bid.envelope not in seen_envelopes[vendor_id]):
                        refused.append((shown, f"{shown}: this bid of {bid.vendor_name} ({vendor_id}) comes with "
                                        f"another workbook of the same vendor in this batch, {seen[vendor_id]}; "
                                        "import the one that counts"))
                        continue
                    seen[vendor_id] = shown
                    seen_envelopes.setdefault(vendor_id, set()).add(bid.envelope)
                    unlisted = bool(rfp.vendors) and invited is None
                    if unlisted and rfp.vendors_restricted:
                        refused.append((shown, f"{shown}: {bid.vendor_name} is not one of the invited vendors "
                                        "([[vendors]] in rfp.toml) and this procedure is restricted to them"))
                        continue
                    previous = stored.get(vendor_id)
                    if (previous is not None and previous.sha256 == sha and previous.active
                            and not previous.needs_resubmission):
                        imported.append((shown, vendor_id, "unchanged"))
                        continue
                    pending.append((path, shown, sha, bid, vendor_id, previous, unlisted))
            if late and deadline is not None and pending and not accept_late:
                raise GuardError(
                    f"the bid deadline passed at {when(deadline, zone)} (now {when(now, zone)}); "
                    "late bids are refused: " + ", ".join(p[1] for p in pending) + ". To accept them anyway, "
                    "record why: --accept-late --reason \"...\""
                )
            for path, shown, sha, bid, vendor_id, previous, unlisted in pending:
                if unlisted:
                    self.warnings.append(f"{shown}: {bid.vendor_name} is not one of the invited vendors "
                                         "([[vendors]] in rfp.toml); imported")
                previous = stored.get(vendor_id)  # this batch may have stored the vendor's other envelope
                record = StoredBid(bid, now.isoformat(), sha, late=late, late_reason=late_reason if late else "",
                                   files=(shown,), unlisted=unlisted,
                                   envelopes=(bid.envelope,) if bid.envelope else ())
                completes = False
                if bid.envelope and previous is not None and previous.active:
                    # Two envelopes, two files: matched by the vendor, not by the file.
                    completes = bool(previous.envelopes) and bid.envelope not in previous.envelopes
                    joined, envelopes = join_envelopes(previous.bid, previous.envelopes, bid)
                    whole = previous.files[0] if previous.files else previous.bid.source_file
                    parts = dict(previous.envelope_files) or (
                        {e: whole for e in ("technical", "financial")} if not previous.envelopes
                        else {previous.envelopes[0]: whole})
                    parts[bid.envelope] = shown
                    ordered = tuple((e, parts[e]) for e in ("technical", "financial") if e in parts)
                    record = attrs.evolve(record, bid=joined, envelopes=envelopes, envelope_files=ordered,
                                          files=tuple(dict.fromkeys(f for _, f in ordered)),
                                          late=record.late or (completes and previous.late),
                                          late_reason=record.late_reason or (previous.late_reason if completes
                                                                             else ""))
                if completes and previous is not None:
                    status = (f"{bid.envelope} envelope, with the {previous.envelopes[0]} envelope of "
                              f"{short_time(previous.submitted_at)}: the bid is complete")
                    record = attrs.evolve(record, submitted_at=now.isoformat())
                elif previous is not None:
                    number = sum(1 for _ in op.tx.all("bid_history")) + 1
                    op.tx.put("bid_history", f"{number:06d}", attrs.evolve(previous, status="replaced",
                                                                            status_at=now.isoformat()))
                    status = (f"replaces the bid of {short_time(previous.submitted_at)} "
                              f"from {previous.files[0] if previous.files else previous.bid.source_file}")
                    if late:
                        status += " (late re-submission)"
                else:
                    status = "new" + (" (late)" if late else "")
                if record.envelopes and rfp.two_envelope:
                    status += f" — {record.envelopes[0]} envelope only: incomplete"
                reader = self.context.host.answered_by.get(f"file {path.name}")
                if reader and not self.context.host.is_builtin(reader):
                    status += f", read by plugin {reader!r}"
                stored[vendor_id] = record
                op.tx.put("bids", vendor_id, record)
                op.record("bid.received", vendor=vendor_id, vendor_name=bid.vendor_name,
                          registration_no=str(bid.fields.get("registration_no") or ""),
                          file=shown, sha256=sha, resubmission=previous is not None,
                          replaces_sha256=previous.sha256 if previous else "",
                          late=late, late_reason=late_reason if late else "", unlisted=unlisted,
                          envelope=bid.envelope, envelopes=list(record.envelopes))
                imported.append((shown, vendor_id, status))
        return ImportReport(tuple(imported), tuple(refused), tuple(skipped))

    def set_bid_status(self, vendor: str, status: str, reason: str) -> StoredBid:
        """Withdraw (the vendor's decision) or exclude (the buyer's) a bid, with a reason for the audit log."""
        if status not in ("withdrawn", "excluded"):
            raise RfpflowError(f"internal: unknown bid status {status!r}")
        if not reason.strip():
            verb = "withdraw" if status == "withdrawn" else "exclude"
            raise GuardError(f"`rfpflow bids {verb}` needs a reason: --reason \"...\"")
        allowed = (Stage.ISSUED, Stage.BIDS_CLOSED, Stage.SCREENING)
        command = "bids withdraw" if status == "withdrawn" else "bids exclude"
        with self._command(command, allowed) as op:
            data = op.tx.get("bids", vendor)
            if data is None:
                known = ", ".join(sorted(k for k, _ in op.tx.all("bids"))) or "none"
                raise GuardError(f"there is no bid of vendor {vendor!r} (vendors with bids: {known})")
            stored = serde.from_data(StoredBid, data)
            if not stored.active:
                raise GuardError(f"the bid of {vendor} was already {stored.status} ({stored.status_reason})")
            changed = attrs.evolve(stored, status=status, status_reason=reason,
                                   status_at=self.context.now().isoformat())
            op.tx.put("bids", vendor, changed)
            op.record(f"bid.{status}", vendor=vendor, vendor_name=stored.bid.vendor_name, reason=reason,
                      sha256=stored.sha256)
        return changed

    def bid_history(self) -> list[StoredBid]:
        """Every replaced submission, oldest first."""
        return [serde.from_data(StoredBid, d) for _, d in self._read_all("bid_history")]

    def record(self, collection: str, key: str) -> Any | None:
        """One stored record (plain data), or None."""
        with self._reading() as tx:
            return None if tx is None else tx.get(collection, key)

    def current_rfp(self) -> Rfp:
        """The frozen definition once issued (rfp.toml must match it), else rfp.toml as it is."""
        state = self.state()
        return self._frozen_rfp(state) if state else self.load_definition()

    def bids(self) -> list[StoredBid]:
        return [serde.from_data(StoredBid, d) for _, d in self._read_all("bids")]

    def _read_all(self, collection: str) -> list[tuple[str, Any]]:
        with self._reading() as tx:
            return [] if tx is None else list(tx.all(collection))

    def close(self, *, early_reason: str = "") -> int:
        """issued -> bids closed. Refused before the deadline unless a reason is given."""
        with self._command("close", OPEN_FOR_BIDS) as op:
            zone = buyer_zone(op.rfp)
            deadline = deadline_of(op.rfp.timeline.bid_deadline, zone)
            now = self.context.now()
            if deadline is not None and now < deadline and not early_reason:
                raise GuardError(
                    f"the bid deadline is {when(deadline, zone)}; vendors may still bid until then. "
                    "Wait, or close early with --early --reason \"...\""
                )
            stored = [serde.from_data(StoredBid, d) for _, d in op.tx.all("bids")]
            pending = sorted(b.bid.vendor_id for b in stored if b.needs_resubmission and b.active)
            if pending:
                raise GuardError(
                    "these bids were made on a definition that was amended and have not been resubmitted: "
                    + ", ".join(pending) + ". Import their resubmissions first, or record that a vendor withdrew "
                    "(`rfpflow bids withdraw VENDOR --reason`) or is excluded (`rfpflow bids exclude VENDOR --reason`)."
                )
            active = [b for b in stored if b.active]
            op.record("bids.closed", bids=len(active), early_reason=early_reason,
                      withdrawn=sorted(b.bid.vendor_id for b in stored if b.status == "withdrawn"),
                      excluded=sorted(b.bid.vendor_id for b in stored if b.status == "excluded"))
            op.move_to(Stage.BIDS_CLOSED)
            return len(active)

    # -- screening ------------------------------------------------------------

    def screen(self) -> list[StoredGateResult]:
        """bids closed -> screening: every gate, due diligence and screening plugin, for every bid."""
        with self._command("screen", (Stage.BIDS_CLOSED,)) as op:
            rfp = op.rfp
            stored = [b for b in (serde.from_data(StoredBid, d) for _, d in op.tx.all("bids")) if b.active]
            if not stored:
                raise GuardError("there are no bids to screen; cancel the cycle with `rfpflow cancel --reason`")
            # Two envelopes: the price gates wait until the financial envelopes open after the
            # technical evaluation (`rfpflow evaluate open-prices`), so screening never sees a price.
            sealed = set(g.id for g in price_gates(rfp)) if rfp.two_envelope else set()
            gates = [g for g in rfp.gates if g.id not in sealed]
            results = run_screening(rfp, [s.bid for s in stored], self.context.with_rfp(rfp), gates=gates)
            for result in results:
                op.tx.put("screening", f"{result.vendor_id}/{result.gate_id}", StoredGateResult(result))
            summary = summarize([StoredGateResult(r) for r in results])
            op.record("screening.completed", outcomes=summary)
            op.move_to(Stage.SCREENING)
        return self.screening()

    def screening(self) -> list[StoredGateResult]:
        return [serde.from_data(StoredGateResult, d) for _, d in self._read_all("screening")]

    def resolve(self, vendor: str, gate: str, decision: str, reason: str) -> StoredGateResult:
        """Settle a needs-review outcome (or overturn one) with a recorded reason."""
        if decision not in ("pass", "fail"):
            raise GuardError(f"--decision must be pass or fail, got {decision!r}")
        if not reason.strip():
            raise GuardError('a screening decision needs a reason: --reason "..."')
        # In two-envelope mode the price gates are settled during evaluation, once prices are open.
        with self._command("screen resolve", (Stage.SCREENING, Stage.EVALUATION)) as op:
            # who and which gate first: a misspelt name is told as such, whatever the stage
            outcomes = [k for k, _ in op.tx.all("screening")]
            vendors = sorted({k.split("/", 1)[0] for k in outcomes} | {k for k, _ in op.tx.all("bids")})
            if vendor not in vendors:
                raise GuardError(f"unknown vendor {vendor!r}{suggest(vendor, vendors)}; vendors: {', '.join(vendors)}")
            gates = sorted({k.split("/", 1)[1] for k in outcomes if k.startswith(f"{vendor}/")}
                           | {g.id for g in op.rfp.gates})
            if gate not in gates:
                raise GuardError(f"unknown gate {gate!r}{suggest(gate, gates)}; {vendor}'s gates: {', '.join(gates)}")
            if Stage(op.state.stage) == Stage.EVALUATION and gate not in {g.id for g in price_gates(op.rfp)}:
                raise StageError("only price gates are settled during evaluation; screening is over")
            data = op.tx.get("screening", f"{vendor}/{gate}")
            if data is None:
                known = sorted(k for k in outcomes if k.startswith(f"{vendor}/"))
                hint = (f"; {vendor}'s gates: " + ", ".join(k.split("/", 1)[1] for k in known)) if known else ""
                raise GuardError(f"no screening outcome for vendor {vendor!r} and gate {gate!r} yet{hint}")
            current = serde.from_data(StoredGateResult, data)
            now = self.context.now().isoformat()
            updated = attrs.evolve(current, resolution=Resolution(decision, reason, self.context.actor, now,
                                                                  was=current.outcome))
            op.tx.put("screening", f"{vendor}/{gate}", updated)
            op.record("screening.resolved", vendor=vendor, gate=gate, was=current.outcome,
                      decision=decision, reason=reason)
            return updated

    # -- evaluation -------------------------------------------------------------

    def screened_in(self, tx: Transaction) -> list[str]:
        """Vendors whose every screening outcome is (or was settled as) pass, and whose bid was
        neither withdrawn nor excluded."""
        results = [serde.from_data(StoredGateResult, d) for _, d in tx.all("screening")]
        gone = {key for key, d in tx.all("bids") if not serde.from_data(StoredBid, d).active}
        return [v for v, outcome in summarize(results).items() if outcome == "pass" and v not in gone]

    def _enter_evaluation(self, op: _Operation) -> None:
        """From screening, the first evaluation command moves the cycle on once nothing awaits review."""
        if Stage(op.state.stage) != Stage.SCREENING:
            return
        results = [serde.from_data(StoredGateResult, d) for _, d in op.tx.all("screening")]
        gone = {key for key, d in op.tx.all("bids") if not serde.from_data(StoredBid, d).active}
        pending = sorted(f"{r.result.vendor_id} {r.result.gate_id}" for r in results
                         if r.outcome == "review" and r.result.vendor_id not in gone)
        if pending:
            raise GuardError(
                "screening outcomes still need review before evaluation: " + ", ".join(pending)
                + '. Settle each with `rfpflow screen resolve VENDOR GATE --decision pass|fail --reason "..."`'
            )
        if not self.screened_in(op.tx):
            raise GuardError("no vendor passed screening; cancel the cycle with `rfpflow cancel --reason`")
        op.move_to(Stage.EVALUATION)

    def _sheet_vendors(self, rfp: Rfp, vendors: Sequence[str]) -> tuple[list[str], dict[str, str]]:
        from rfpflow.evaluation import blind_codes

        if not rfp.scoring.blind:
            return list(vendors), {}
        codes = blind_codes(rfp, vendors)
        return [codes[v] for v in vendors], codes

    def write_score_sheets(self) -> list[Path]:
        """Write one score sheet per evaluator for the screened-in vendors."""
        with self._command("evaluate sheets", (Stage.SCREENING, Stage.EVALUATION)) as op:
            self._enter_evaluation(op)
            rfp = op.rfp
            vendors = self.screened_in(op.tx)
            shown, _codes = self._sheet_vendors(rfp, vendors)
            # Evaluators see the vendors' names over the columns (blind codes stay codes).
            names = {} if rfp.scoring.blind else {
                b.bid.vendor_id: b.bid.vendor_name
                for b in (serde.from_data(StoredBid, d) for _, d in op.tx.all("bids"))}
            folder = self.workspace / "out" / "score-sheets"
            folder.mkdir(parents=True, exist_ok=True)
            written = []
            for evaluator in rfp.evaluators:
                target = folder / f"{rfp.id}-{evaluator.id}.xlsx"
                path = self.context.host.first("rfpflow_write_score_sheet", Path, rfp=rfp,
                                               evaluator_id=evaluator.id, vendor_ids=shown, target=target,
                                               context=self.context.with_rfp(rfp),
                                               vendor_names={v: names.get(v, v) for v in shown})
                if path is None:
                    raise RfpflowError("no installed plugin writes score sheets")
                written.append(path)
            op.record("evaluation.sheets_written", evaluators=[e.id for e in rfp.evaluators], vendors=vendors,
                      blind=rfp.scoring.blind)
        return written

    def import_scores(self, paths: Sequence[Path]) -> ImportReport:
        """Read evaluators' returned score sheets; each file all-or-nothing."""
        from rfpflow.evaluation import ScoreEntry, unblind_scores

        files = _expand(paths, self.workspace)
        with self._command("evaluate import", (Stage.SCREENING, Stage.EVALUATION)) as op:
            self._enter_evaluation(op)
            rfp = op.rfp
            vendors = self.screened_in(op.tx)
            _shown, codes = self._sheet_vendors(rfp, vendors)

            def read(path: Path) -> list[ScoreEntry]:
                rows = self.context.host.first("rfpflow_read_scores", list, source=path, rfp=rfp,
                                               context=self.context.with_rfp(rfp), subject=f"file {path.name}")
                if rows is None:
                    raise InputFileError(f"{path.name}: no installed plugin reads this kind of score sheet")
                entries = [ScoreEntry.from_mapping(row, file=path.name) for row in rows]
                if codes:
                    entries = unblind_scores(entries, codes)
                strangers = sorted({e.vendor for e in entries if e.vendor not in vendors})
                if strangers:
                    raise InputFileError(f"{path.name}: scores for vendors that did not pass screening: "
                                         + ", ".join(strangers))
                return entries

            def keep(path: Path, entries: list[ScoreEntry]) -> tuple[str, str]:
                evaluators = sorted({e.evaluator for e in entries})
                for evaluator in evaluators:
                    for key, _ in op.tx.all("scores"):
                        if key.startswith(f"{evaluator}/"):
                            op.tx.delete("scores", key)
                for entry in entries:
                    op.tx.put("scores", f"{entry.evaluator}/{entry.vendor}/{entry.criterion}", entry)
                op.record("scores.imported", file=path.name, sha256=file_sha256(path), evaluators=evaluators,
                          scores=len(entries))
                return ",".join(evaluators), f"{len(entries)} scores"

            return _import_each(files, read, keep)

    def _evaluation_inputs(self, tx: Transaction) -> tuple[list[Bid], list[Any], dict[str, dt.datetime]]:
        from rfpflow.evaluation import ScoreEntry

        vendors = set(self.screened_in(tx))
        stored = [serde.from_data(StoredBid, d) for _, d in tx.all("bids")]
        bids = [s.bid for s in stored if s.bid.vendor_id in vendors and s.active]
        submitted = {s.bid.vendor_id: dt.datetime.fromisoformat(s.submitted_at) for s in stored}
        scores = [serde.from_data(ScoreEntry, d) for _, d in tx.all("scores")]
        return bids, scores, submitted

    def open_prices(self) -> list[StoredGateResult]:
        """Two envelopes: once every technical score is in, open the prices and run the price gates."""
        from rfpflow import evaluation

        with self._command("evaluate open-prices", (Stage.EVALUATION,)) as op:
            rfp = op.rfp
            if not rfp.two_envelope:
                raise GuardError("this RFP has one envelope: prices were open from the start")
            if op.tx.get("evaluation", "technical-complete"):
                raise GuardError("the financial envelopes are already open")
            bids, scores, _ = self._evaluation_inputs(op.tx)
            missing = evaluation.missing_scores(rfp, [b.vendor_id for b in bids], scores)
            if missing:
                pairs = sorted({f"{m.evaluator}/{m.vendor}" for m in missing})
                raise GuardError("the technical evaluation is not complete; missing scores from "
                                 + ", ".join(pairs) + ". Import the remaining score sheets first.")
            results = run_screening(rfp, bids, self.context.with_rfp(rfp), gates=price_gates(rfp), plugins=False)
            for result in results:
                op.tx.put("screening", f"{result.vendor_id}/{result.gate_id}", StoredGateResult(result))
            op.tx.put("evaluation", "technical-complete", True)
            op.record("envelopes.opened", outcomes=summarize([StoredGateResult(r) for r in results]))
        return [r for r in self.screening() if r.result.gate_id in {g.id for g in price_gates(rfp)}]

    def rank(self) -> dict[str, Any]:
        """Consensus, ranking, outliers and sensitivity from the imported scores."""
        from rfpflow import evaluation

        with self._command("evaluate rank", (Stage.EVALUATION,)) as op:
            rfp = op.rfp
            if rfp.two_envelope:
                if not op.tx.get("evaluation", "technical-complete"):
                    raise GuardError("prices are still sealed: when every score sheet is in, open them with "
                                     "`rfpflow evaluate open-prices`")
                pending = sorted(f"{r.result.vendor_id} {r.result.gate_id}" for r in
                                 (serde.from_data(StoredGateResult, d) for _, d in op.tx.all("screening"))
                                 if r.outcome == "review")
                if pending:
                    raise GuardError("price gates need review before ranking: " + ", ".join(pending)
                                     + ". Settle each with `rfpflow screen resolve VENDOR GATE --decision ... "
                                     '--reason "..."`')
            bids, scores, submitted = self._evaluation_inputs(op.tx)
            host = self.context.host
            matrix = evaluation.criterion_values(rfp, bids, scores, host=host)
            ranking = evaluation.rank_vendors(rfp, matrix, bids, host=host, submitted_at=submitted)
            outliers = evaluation.outlier_review(rfp, scores)
            sensitivity = evaluation.sensitivity_report(rfp, matrix, bids=bids, ranking=ranking)
            result = evaluation_view(rfp, matrix, ranking, outliers, sensitivity, scores)
            op.tx.put("evaluation", "result", result)
            op.tx.put("evaluation", "technical-complete", True)
            stamp(op.tx, "evaluation")
            op.record("evaluation.ranked", method=ranking.method,
                      ranking=[{"vendor": e.vendor_id, "rank": e.rank, "total": round(e.total_score, 4)}
                               for e in ranking.entries],
                      outliers=len(outliers))
            return result

    def shortlist(self) -> list[str]:
        """evaluation -> trial run: the shortlist rfp.toml describes enters the trial."""
        from rfpflow import evaluation

        with self._command("shortlist", (Stage.EVALUATION,)) as op:
            rfp = op.rfp
            if not rfp.trial.enabled:
                raise GuardError("this RFP has no trial run; the next step is `rfpflow award`")
            result = op.tx.get("evaluation", "result")
            if result is None:
                raise GuardError("rank the vendors first: `rfpflow evaluate rank`")
            refuse_stale(op.tx, "evaluation")
            ranking = ranking_from_view(result)
            chosen = evaluation.shortlist(ranking, rfp.shortlist)
            if not chosen:
                raise GuardError("no vendor meets the shortlist rule "
                                 f"(top {rfp.shortlist.top}, at least {rfp.shortlist.min_score} points); "
                                 "a trial run needs at least one vendor, and the award cannot skip the trial; "
                                 'cancel the cycle with `rfpflow cancel --reason "..."` and start a new one')
            op.tx.put("shortlist", "vendors", chosen)
            stamp(op.tx, "shortlist")
            op.record("shortlist.set", vendors=chosen, rule={"top": rfp.shortlist.top,
                                                             "min_score": rfp.shortlist.min_score})
            op.move_to(Stage.TRIAL_RUN, shortlist=chosen)
            return chosen

    # -- trial run --------------------------------------------------------------

    def import_trial(self, paths: Sequence[Path]) -> ImportReport:
        """Read trial measurements for shortlisted vendors; each file all-or-nothing."""
        from rfpflow.registry import Measurement

        files = _expand(paths, self.workspace)
        with self._command("trial import", (Stage.TRIAL_RUN,)) as op:
            rfp = op.rfp
            shortlisted = set(op.tx.get("shortlist", "vendors") or [])
            # a vendor is named by its id, its legal name or its registration number
            aliases: dict[str, str] = {}
            for _key, data in op.tx.all("bids"):
                bid = serde.from_data(StoredBid, data).bid
                if bid.vendor_id in shortlisted:
                    for alias in (bid.vendor_id, bid.vendor_name, str(bid.fields.get("registration_no") or "")):
                        if alias.strip():
                            aliases.setdefault(" ".join(alias.split()).casefold(), bid.vendor_id)

            def read(path: Path) -> list[Measurement]:
                rows = self.context.host.first("rfpflow_read_trial_data", list, source=path, rfp=rfp,
                                               context=self.context.with_rfp(rfp), subject=f"file {path.name}")
                if rows is None:
                    raise InputFileError(f"{path.name}: no installed plugin reads this kind of trial data")
                matched: list[Measurement] = []
                bad: list[Problem] = []
                for m in rows:
                    vendor = aliases.get(" ".join(str(getattr(m, "vendor_id", "")).split()).casefold())
                    if not isinstance(m, Measurement) or vendor is None:
                        where = str(getattr(m, "place", "") or "")
                        prefix = f"{path.name}:"  # the reader's place already names the file
                        bad.append(Problem(f"vendor {getattr(m, 'vendor_id', m)!r} is not on the shortlist "
                                           f"({', '.join(sorted(shortlisted))}; by id, legal name or "
                                           "registration number)",
                                           file=path.name, place=where.removeprefix(prefix) or None))
                        continue
                    matched.append(m if m.vendor_id == vendor else attrs.evolve(m, vendor_id=vendor))
                if bad:
                    raise InputFileError(f"{path.name}: {len(bad)} problem(s)", bad)
                return matched

            def keep(path: Path, rows: list[Measurement]) -> tuple[str, str]:
                for m in rows:
                    op.tx.put("measurements", f"{m.vendor_id}/{m.kpi_id}/{m.day.isoformat()}", m)
                op.record("trial.imported", file=path.name, sha256=file_sha256(path), measurements=len(rows),
                          vendors=sorted({m.vendor_id for m in rows}))
                return ",".join(sorted({m.vendor_id for m in rows})), f"{len(rows)} rows"

            return _import_each(files, read, keep)

    def evaluate_trial(self) -> list[Any]:
        """KPI attainment and a verdict for every shortlisted vendor."""
        from rfpflow.model import TrialResult
        from rfpflow.registry import Measurement

        with self._command("trial evaluate", (Stage.TRIAL_RUN,)) as op:
            rfp = op.rfp
            shortlisted = op.tx.get("shortlist", "vendors") or []
            measurements = [serde.from_data(Measurement, d) for _, d in op.tx.all("measurements")]
            results: list[TrialResult] = []
            for vendor in shortlisted:
                mine = [m for m in measurements if m.vendor_id == vendor]
                result = self.context.host.first("rfpflow_evaluate_trial", TrialResult, vendor_id=vendor,
                                                 measurements=mine, rfp=rfp, context=self.context.with_rfp(rfp),
                                                 subject=f"vendor {vendor}")
                if result is None:
                    raise RfpflowError("no installed plugin evaluates trial runs")
                results.append(result)
            op.tx.put("trial", "records", {"results": results})
            op.tx.put("trial", "result", trial_view(rfp, results))
            stamp(op.tx, "trial")
            op.record("trial.evaluated", verdicts={r.vendor_id: {"passed": r.passed, "score": round(r.score, 4)}
                                                   for r in results})
            return results

    # -- award --------------------------------------------------------------------

    def award(self, *, vendor: str | None = None, justification: str = "") -> dict[str, Any]:
        """The final ranking and the recommended vendor (the award hook decides)."""
        from rfpflow import evaluation
        from rfpflow.model import AwardDecision, Ranking, TrialResult

        with self._command("award", (Stage.EVALUATION, Stage.TRIAL_RUN)) as op:
            rfp = op.rfp
            stage = Stage(op.state.stage)
            if stage == Stage.EVALUATION and rfp.trial.enabled:
                raise GuardError("this RFP has a trial run: `rfpflow shortlist`, then the trial, then the award")
            if op.tx.get("evaluation", "result") is None:
                raise GuardError("rank the vendors first: `rfpflow evaluate rank`")
            refuse_stale(op.tx, "evaluation", "shortlist", "trial")
            bids, scores, submitted = self._evaluation_inputs(op.tx)
            trial_scores: dict[str, float] | None = None
            eligible = {b.vendor_id for b in bids}
            why_not: dict[str, str] = {}
            if rfp.trial.enabled:
                stored = op.tx.get_raw("trial", "records")
                if stored is None:
                    raise GuardError("evaluate the trial run first: `rfpflow trial evaluate`")
                trials = [serde.from_data(TrialResult, d) for d in stored["results"]]
                shortlisted = set(op.tx.get("shortlist", "vendors") or [])
                for vendor_id in eligible - shortlisted:
                    why_not[vendor_id] = "was not shortlisted for the trial run"
                for t in trials:
                    if not t.passed:
                        why_not[t.vendor_id] = "did not pass the trial run"
                eligible = {t.vendor_id for t in trials if t.passed}
                trial_scores = {t.vendor_id: t.score for t in trials}
                bids = [b for b in bids if b.vendor_id in eligible]
                scores = [s for s in scores if s.vendor in eligible]
                if not bids:
                    raise GuardError("no shortlisted vendor passed the trial run; cancel the cycle or start a new one")
            host = self.context.host
            matrix = evaluation.criterion_values(rfp, bids, scores, host=host, trial_scores=trial_scores)
            ranking = evaluation.rank_vendors(rfp, matrix, bids, host=host, submitted_at=submitted,
                                              trial_scores=trial_scores, award=bool(rfp.scoring.award_weights))
            context = self.context.with_rfp(rfp)
            ranking = host.first("rfpflow_award_ranking", Ranking, ranking=ranking, rfp=rfp, context=context) or ranking
            decision = host.first("rfpflow_decide_award", AwardDecision, ranking=ranking, rfp=rfp, context=context)
            if decision is None:
                raise RfpflowError("no installed plugin decides awards")
            top = ranking.top.vendor_id if ranking.top else None
            if vendor is not None and vendor != decision.vendor_id:
                if vendor not in eligible:
                    reason = why_not.get(vendor) or ("did not pass screening" if vendor not in submitted
                                                     or vendor not in self.screened_in(op.tx) else "is not eligible")
                    if vendor not in submitted:
                        reason = "did not submit a bid"
                    raise GuardError(f"{vendor} cannot be awarded: it {reason}")
                if not justification.strip():
                    raise GuardError(f"awarding {vendor} departs from the ranking (top: {top}); "
                                     'give a written justification: --justification "..."')
                decision = AwardDecision(vendor, justification, follows_ranking=vendor == top)
            if decision.vendor_id not in eligible:
                raise GuardError(f"the award rule chose {decision.vendor_id}, which is not eligible")
            if decision.vendor_id != top and not decision.justification.strip():
                raise GuardError(f"the award departs from the ranking (top: {top}) without a justification")
            standstill = None
            if rfp.standstill_days is not None:
                # counted in the buyer's calendar: "until 22 May" is 22 May where the buyer is
                standstill = (self.context.now().astimezone(buyer_zone(rfp)).date()
                              + dt.timedelta(days=rfp.standstill_days))
            decision = attrs.evolve(decision, follows_ranking=decision.vendor_id == top, standstill_ends=standstill,
                                    decided_by=decision.decided_by or self.context.actor)
            names = {b.bid.vendor_id: b.bid.vendor_name
                     for b in (serde.from_data(StoredBid, d) for _, d in op.tx.all("bids"))}
            view = award_view(decision, ranking, names)
            view["decided_at"] = self.context.now().isoformat()  # letters are dated by the decision
            op.tx.put("award", "decision", view)
            op.tx.put("award", "record", decision)
            stamp(op.tx, "award")
            op.record("award.recommended", vendor=decision.vendor_id, follows_ranking=decision.follows_ranking,
                      justification=decision.justification,
                      standstill_ends=standstill.isoformat() if standstill else None,
                      ranking=[{"vendor": e.vendor_id, "rank": e.rank, "total": round(e.total_score, 4)}
                               for e in ranking.entries])
            op.move_to(Stage.AWARD_RECOMMENDED, vendor=decision.vendor_id)
            return view

    def confirm_award(self) -> str:
        """award recommended -> awarded, once the standstill period is over."""
        with self._command("award confirm", (Stage.AWARD_RECOMMENDED,)) as op:
            view = op.tx.get("award", "decision") or {}
            refuse_stale(op.tx, "award")
            ends = view.get("standstill_ends")
            zone = buyer_zone(op.rfp)
            now = self.context.now()
            if ends and not standstill_over(now, dt.date.fromisoformat(ends), zone):
                raise GuardError(f"the standstill period runs until the end of {ends} "
                                 f"(unsuccessful vendors may challenge the award until then); the award can be "
                                 f"confirmed from {when(period_end(dt.date.fromisoformat(ends), zone), zone)} "
                                 f"(now {when(now, zone)})")
            op.record("award.confirmed", vendor=view.get("vendor"))
            op.move_to(Stage.AWARDED, vendor=view.get("vendor"))
            return str(view.get("vendor"))

    # -- cancelling -------------------------------------------------------------

    def cancel(self, reason: str) -> None:
        if not reason.strip():
            raise GuardError('cancelling needs a reason: --reason "..."')
        open_stages = tuple(s for s in Stage if s.is_open and s != Stage.DRAFT)
        with self._command("cancel", open_stages, guard_definition=False) as op:
            op.record("cycle.cancelled", reason=reason)
            op.move_to(Stage.CANCELLED, reason=reason)

    # -- reading the log --------------------------------------------------------

    def events(self) -> list[Event]:
        with self._reading() as tx:
            return [] if tx is None else list(tx.events())

    def verify(self) -> ChainReport:
        with self._reading() as tx:
            if tx is None:
                raise RfpflowError("the RFP has not been issued yet: there is no audit chain to verify")
            return verify_chain(tx.raw_events(), tx.state())

    def state(self) -> CycleState | None:
        with self._reading() as tx:
            return None if tx is None else tx.state()


    # -- where things stand -------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """What happened so far and the next command, for `rfpflow status`."""
        state = self.state()
        stage = Stage(state.stage) if state else Stage.DRAFT
        report: dict[str, Any] = {"workspace": str(self.workspace), "stage": stage.value,
                                  "stage_label": STAGE_LABELS[stage]}
        if state is None:
            draft, problems = check_rfp(self.definition_path, context=self.context)
            errors = [str(p) for p in problems if p.severity == "error"]
            report.update(rfp_id=draft.id if draft else None, problems=errors,
                          next="fix rfp.toml (`rfpflow validate`)" if errors else "rfpflow issue")
            return report
        report.update(rfp_id=state.rfp_id, definition_hash=state.definition_hash,
                      events=state.event_count, chain_head=state.chain_head)
        try:
            rfp: Rfp | None = self._frozen_rfp(state)
            report["definition"] = "unchanged since issue"
        except RfpflowError as exc:
            rfp = None
            report["definition"] = str(exc)
        bids = self.bids()
        report["bids"] = {
            "received": sum(1 for b in bids if b.active),
            "late": sorted(b.bid.vendor_id for b in bids if b.late),
            "to_resubmit": sorted(b.bid.vendor_id for b in bids if b.needs_resubmission and b.active),
            "vendors": {b.bid.vendor_id: b.bid.vendor_name for b in sorted(bids, key=lambda b: b.bid.vendor_id)},
        }
        withdrawn = sorted(b.bid.vendor_id for b in bids if b.status == "withdrawn")
        excluded = sorted(b.bid.vendor_id for b in bids if b.status == "excluded")
        if withdrawn:
            report["bids"]["withdrawn"] = withdrawn
        if excluded:
            report["bids"]["excluded"] = excluded
        if rfp is not None and rfp.vendors:
            with_bids = {b.bid.vendor_id for b in bids}
            report["bids"]["invited"] = len(rfp.vendors)
            report["bids"]["not_submitted"] = sorted(v.id for v in rfp.vendors if v.id not in with_bids)
            report["bids"]["unlisted"] = sorted(b.bid.vendor_id for b in bids if b.unlisted)
        screening = self.screening()
        if screening:
            overall = summarize(screening)
            report["screening"] = {
                "vendors": overall,
                "to_resolve": sorted(f"{r.result.vendor_id} {r.result.gate_id}" for r in screening
                                     if r.outcome == "review"),
            }
        with self._reading() as tx:
            stale = stale_results(tx) if tx is not None else {}
        if stale:
            report["stale"] = {name: {"result": DERIVED[name][2], "run": command} for name, command in stale.items()}
        report["next"] = self._next_step(stage, rfp, report)
        return report

    def _next_step(self, stage: Stage, rfp: Rfp | None, report: dict[str, Any]) -> str:
        if rfp is None and stage not in TERMINAL:
            return 'undo the edit to rfp.toml, or `rfpflow amend --reason "..."`'
        if stage == Stage.ISSUED:
            zone = buyer_zone(rfp)
            deadline = deadline_of(rfp.timeline.bid_deadline, zone) if rfp else None
            if deadline is not None and self.context.now() < deadline:
                return f"rfpflow bids import bids/   (bids are open until {when(deadline, zone)})"
            return "rfpflow close"
        if stage == Stage.BIDS_CLOSED:
            return "rfpflow screen"
        if stage == Stage.SCREENING:
            pending = report.get("screening", {}).get("to_resolve", [])
            if pending:
                return (f"rfpflow screen resolve {pending[0]} --decision pass|fail --reason \"...\""
                        f"   ({len(pending)} outcome{'s' if len(pending) != 1 else ''} to settle)")
            return "rfpflow evaluate sheets"
        stale = report.get("stale") or {}
        if stage in (Stage.EVALUATION, Stage.TRIAL_RUN) and stale:
            first = next(iter(stale.values()))
            return f"{first['run']}   ({first['result']} is out of date: its inputs changed)"
        if stage == Stage.EVALUATION:
            if self.record("evaluation", "result") is not None:
                return "rfpflow shortlist" if rfp is not None and rfp.trial.enabled else "rfpflow award"
            if not self._read_all("scores"):
                return "rfpflow evaluate import evaluations/   (after `rfpflow evaluate sheets`)"
            return "rfpflow evaluate rank"
        if stage == Stage.TRIAL_RUN:
            if self.record("trial", "result") is not None:
                return "rfpflow award"
            if not self._read_all("measurements"):
                return "rfpflow trial import trial/"
            return "rfpflow trial evaluate"
        if stage == Stage.CANCELLED:
            return "nothing: the cycle was cancelled"
        if stage == Stage.AWARDED:
            return "nothing: the contract was awarded"
        return NEXT_STEPS.get(stage, "rfpflow status")


NEXT_STEPS: dict[Stage, str] = {
    Stage.AWARD_RECOMMENDED: "rfpflow award confirm (after the standstill period)",
}


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def ranking_from_view(result: dict[str, Any]) -> Any:
    from decimal import Decimal

    from rfpflow.model import RankedVendor, Ranking

    return Ranking(result["method"], tuple(
        RankedVendor(t["vendor"], t["rank"], t["total"], None if t.get("price") is None else Decimal(t["price"]),
                     {**t["breakdown"], **t["dimensions"]}) for t in result["totals"]))


def _state(tx: Transaction) -> CycleState:
    state: CycleState | None = tx.state()
    if state is None:
        raise RfpflowError("internal: the cycle has no state row")
    return state


def price_gates(rfp: Rfp) -> list[Any]:
    """The gates that read prices (budget ceiling, abnormally low)."""
    return [g for g in rfp.gates if g.kind in PRICE_GATE_KINDS]


def run_screening(rfp: Rfp, bids: Sequence[Bid], context: RunContext, *, gates: Sequence[Any] | None = None,
                  plugins: bool = True) -> list[GateResult]:
    """Every declared gate (or ``gates``), then due diligence and screening plugins, for every bid.

    In a stable order: vendors by id, gates as declared.
    """
    host = context.host
    rules = host.screening_rules()
    every = tuple(bids)
    results: list[GateResult] = []
    for bid in sorted(every, key=lambda b: b.vendor_id):
        for gate in (rfp.gates if gates is None else gates):
            rule = rules.get(gate.kind)
            if rule is None:
                raise RfpflowError(f"gate {gate.id!r}: no installed plugin provides the kind {gate.kind!r}")
            result = host.supplied(rules, gate.kind, f"gate {gate.id!r} ({gate.kind})", rule.check,
                                   bid, gate, every, rfp, context, subject=f"vendor {bid.vendor_id}",
                                   expected=GateResult, passthrough=(RfpflowError,))
            if result is None:
                raise RfpflowError(f"plugin {rules.suppliers.get(gate.kind, 'unknown')!r} returned None from "
                                   f"gate {gate.id!r} ({gate.kind}) (vendor {bid.vendor_id}), expected GateResult")
            results.append(result)
        if plugins:
            subject = f"vendor {bid.vendor_id}"
            results.extend(host.collect("rfpflow_due_diligence", GateResult, bid=bid, rfp=rfp, context=context,
                                        subject=subject))
            results.extend(host.collect("rfpflow_screen_bid", GateResult, bid=bid, bids=every, rfp=rfp,
                                        context=context, subject=subject))
    return results


def _import_each(files: Sequence[Path], read: Callable[[Path], T], keep: Callable[[Path, T], tuple[str, str]]
                 ) -> ImportReport:
    """Each file all or nothing: one that ``read`` refuses (InputFileError) is reported and left out
    whole; ``keep`` stores each one read and says who it was from and what it held."""
    imported: list[tuple[str, str, str]] = []
    refused: list[tuple[str, str]] = []
    for path in files:
        try:
            value = read(path)
        except InputFileError as exc:
            refused.append((path.name, str(exc)))
            continue
        who, detail = keep(path, value)
        imported.append((path.name, who, detail))
    return ImportReport(tuple(imported), tuple(refused))


def _is_lock_file(name: str) -> bool:
    """A spreadsheet program's lock file: Excel's ``~$name.xlsx``, LibreOffice's ``.~lock.name#``."""
    return name.startswith("~$") or (name.startswith(".~lock.") and name.endswith("#"))


def _expand(paths: Sequence[Path], workspace: Path, skipped: list[str] | None = None) -> list[Path]:
    """The files to import: files as given, folders walked recursively (a mail export puts one
    folder per vendor). Lock files are skipped and listed in ``skipped``; hidden files are left alone."""
    files: list[Path] = []
    problems: list[Problem] = []
    for given in paths:
        path = given if given.is_absolute() else Path.cwd() / given
        if not path.exists() and (workspace / given).exists():
            path = workspace / given
        if path.is_dir():
            for found in sorted(p for p in path.rglob("*") if p.is_file()):
                relative = found.relative_to(path)
                if _is_lock_file(found.name):
                    if skipped is not None:
                        skipped.append(f"{relative.as_posix()} (a spreadsheet lock file)")
                    continue
                if any(part.startswith(".") for part in relative.parts):
                    continue
                files.append(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Problem("no such file or folder", file=str(given)))
    if problems:
        raise InputFileError("cannot import", problems)
    if not files:
        raise InputFileError("no files to import in " + ", ".join(str(p) for p in paths))
    return files


def _shown(path: Path, files: Sequence[Path]) -> str:
    """A file as reports name it: its name, with its folder when another file of the batch has the same name."""
    if sum(1 for f in files if f.name == path.name) > 1:
        return f"{path.parent.name}/{path.name}"
    return path.name


def _wrong_stage(command: str, stage: Stage, allowed: Sequence[Stage]) -> str:
    wanted = " or ".join(STAGE_LABELS[s] for s in allowed)
    return (f"`rfpflow {command}` is for a cycle that is {wanted}; this one is {STAGE_LABELS[stage]}. "
            f"`rfpflow status` shows what to do next.")


def cycle_view(context: RunContext) -> dict[str, Any]:
    """The view of the cycle in ``context.workspace``: what documents and exports are made from."""
    if context.workspace is None:
        raise RfpflowError("there is no workspace to describe; use -C DIR")
    cycle = Cycle(context.workspace, context)
    return build_view(cycle, context.rfp or cycle.current_rfp())


def now_context(context: RunContext, moment: dt.datetime) -> RunContext:
    """The same context with the clock set to ``moment`` (used by `rfpflow run`)."""
    return attrs.evolve(context, clock=Clock(moment))
