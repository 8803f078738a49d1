"""`rfpflow run SAMPLE_DIR`: drive a whole cycle from a folder of inputs.

The sample folder is never touched: its inputs are copied into a fresh
workspace, and every command runs with a simulated *replay* clock taken from
the sample's timeline (bids a day before the deadline, closing just after it,
the award on the decision date ...). A replay records the simulated time as
the wall-clock time too (every event stays marked simulated), so two runs of
the same sample give the same audit chain and byte-identical documents and
exports.

A sample folder holds ``rfp.toml``, ``bids/`` (vendor workbooks),
``evaluations/`` (returned score sheets), ``trial/`` (measurements), an
optional registry extract, and an optional ``decisions.toml`` with what
people decide along the way::

    [[screening]]                # settle needs-review outcomes
    vendor = "cheapco"
    gate = "abnormally_low"
    decision = "fail"
    reason = "could not explain its price"
    actor = "li.wei"

    [award]                      # optional: depart from the ranking
    vendor = "beta"
    justification = "..."
"""

from __future__ import annotations

import datetime as dt
import shutil
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from rfpflow.context import Clock, RunContext
from rfpflow.definition import load_rfp
from rfpflow.errors import RfpflowError
from rfpflow.model import Rfp
from rfpflow.workflow import Cycle, buyer_zone, deadline_of

RUN_MARKER = ".rfpflow-run"
NOT_COPIED = {"out", ".rfpflow", "__pycache__", RUN_MARKER}


@attrs.frozen
class Timeline:
    """When each step of a sample run happens (simulated)."""

    issue: dt.datetime
    bids: dt.datetime
    close: dt.datetime
    evaluate: dt.datetime
    trial: dt.datetime
    award: dt.datetime
    confirm: dt.datetime


def sample_times(rfp: Rfp) -> Timeline:
    t = rfp.timeline
    deadline = deadline_of(t.bid_deadline, buyer_zone(rfp))
    if deadline is None:
        raise RfpflowError("the sample's rfp.toml has no bid deadline")
    zone = deadline.tzinfo

    def at(day: dt.date | None, hour: int, fallback: dt.datetime) -> dt.datetime:
        if day is None:
            return fallback
        return dt.datetime.combine(day, dt.time(hour), tzinfo=zone)

    issue = at(t.issue_date, 9, deadline - dt.timedelta(days=21))
    close = deadline + dt.timedelta(minutes=1)
    evaluate = close + dt.timedelta(days=3)
    trial = at(t.trial_end, 18, evaluate + dt.timedelta(days=1))
    award = at(t.decision_date, 10, max(trial, evaluate) + dt.timedelta(days=1))
    confirm = award + dt.timedelta(days=(rfp.standstill_days or 0) + 1)
    return Timeline(issue, deadline - dt.timedelta(days=1), close, evaluate, trial, award, confirm)


def prepare_workspace(sample: Path, target: Path) -> Path:
    """Copy the sample's inputs into ``target`` (replacing an earlier run there, nothing else)."""
    if not (sample / "rfp.toml").is_file():
        raise RfpflowError(f"{sample}: not a sample folder (no rfp.toml)")
    if target.resolve() == sample.resolve() or sample.resolve() in target.resolve().parents:
        raise RfpflowError(f"{target}: choose an output folder outside the sample")
    if target.exists():
        if not (target / RUN_MARKER).exists():
            if any(target.iterdir()):
                raise RfpflowError(f"{target} exists and was not made by `rfpflow run`; choose another --out")
        else:
            shutil.rmtree(target)
    shutil.copytree(sample, target, ignore=lambda _d, names: [n for n in names if n in NOT_COPIED
                                                              or n.endswith(".py")], dirs_exist_ok=True)
    for folder in ("bids", "evaluations", "trial", "templates", "out"):
        (target / folder).mkdir(exist_ok=True)
    (target / RUN_MARKER).write_text(f"copied from {sample.name}\n", encoding="utf-8")
    return target


def _decisions(workspace: Path) -> dict[str, Any]:
    path = workspace / "decisions.toml"
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise RfpflowError(f"decisions.toml: not valid TOML: {exc}") from None


def run_sample(sample: Path, target: Path, context: RunContext, echo: Callable[[str], None],
               until: str | None = None) -> dict[str, Any]:
    """Run the whole cycle (or up to the step ``until``: ``issued``, ``closed``, ``screened``,
    ``evaluation``, ``trial``, ``award``); return the status report."""
    workspace = prepare_workspace(sample, target)
    rfp = load_rfp(workspace / "rfp.toml", context=attrs.evolve(context, workspace=workspace))
    times = sample_times(rfp)
    decisions = _decisions(workspace)

    made: list[Cycle] = []

    def flush() -> None:
        """The warnings of the steps so far (an observer that failed, say), once each."""
        for done in made:
            for warning in done.warnings:
                summary.detail(f"warning: {warning}")
            done.warnings.clear()

    def cycle(moment: dt.datetime, actor: str | None = None) -> Cycle:
        flush()
        ctx = attrs.evolve(context, clock=Clock(moment, replay=True), actor=actor or context.actor,
                           workspace=workspace)
        made.append(Cycle(workspace, ctx))
        return made[-1]

    summary = RunSummary(echo)
    c = cycle(times.issue)
    c.issue()
    summary.stage("Request", f"{rfp.id} '{rfp.title}' issued on {times.issue.date()} "
                  f"(definition {rfp.definition_hash[:12]})")
    flush()
    if until == "issued":
        return cycle(times.issue).status()

    report = cycle(times.bids).import_bids([workspace / "bids"])
    summary.stage("Bids", f"{len(report.imported)} imported, {len(report.refused)} refused")
    for file, message in report.refused:
        summary.detail(f"refused {file}: {message.splitlines()[0]}")
    if report.refused:
        raise RfpflowError("the sample has bid workbooks that cannot be imported:\n"
                           + "\n".join(m for _, m in report.refused))
    cycle(times.close).close()
    if until == "closed":
        return cycle(times.issue).status()

    results = cycle(times.close).screen()
    summary.screening(results)
    from rfpflow.workflow import price_gates

    priced = {g.id for g in price_gates(rfp)} if rfp.two_envelope else set()
    settled_later = [d for d in decisions.get("screening", []) if d["gate"] in priced]
    for item in decisions.get("screening", []):
        if item["gate"] not in priced:
            settle(cycle(times.close, item.get("actor")), item, summary)
    if until == "screened":
        return cycle(times.issue).status()

    evaluating = cycle(times.evaluate)
    evaluating.write_score_sheets()
    scores = cycle(times.evaluate).import_scores([workspace / "evaluations"])
    if scores.refused:
        raise RfpflowError("the sample's score sheets cannot be imported:\n" + "\n".join(m for _, m in scores.refused))
    if rfp.two_envelope:
        opened = cycle(times.evaluate).open_prices()
        summary.stage("Prices", "financial envelopes opened after the technical evaluation")
        for stored in opened:
            if stored.outcome != "pass":
                summary.detail(f"{stored.result.vendor_id}: {stored.outcome} {stored.result.gate_id} - "
                               f"{stored.result.reason}")
        for item in settled_later:
            settle(cycle(times.evaluate, item.get("actor")), item, summary)
    result = cycle(times.evaluate).rank()
    summary.evaluation(result)
    if until == "evaluation":
        return cycle(times.issue).status()

    if rfp.trial.enabled:
        chosen = cycle(times.evaluate).shortlist()
        summary.stage("Shortlist", ", ".join(chosen))
        trial_report = cycle(times.trial).import_trial([workspace / "trial"])
        if trial_report.refused:
            raise RfpflowError("the sample's trial data cannot be imported:\n"
                               + "\n".join(m for _, m in trial_report.refused))
        summary.trial(cycle(times.trial).evaluate_trial())
    if until == "trial":
        return cycle(times.issue).status()

    chosen_award = decisions.get("award", {})
    view = cycle(times.award).award(vendor=chosen_award.get("vendor"),
                                    justification=chosen_award.get("justification", ""))
    summary.award(view)
    if until == "award":
        return cycle(times.issue).status()
    cycle(times.confirm).confirm_award()
    final = cycle(times.confirm)
    rfp_now = final.current_rfp()
    exported = []
    for fmt, suffix in (("xlsx", "xlsx"), ("json", "json"), ("ocds", "ocds.json")):
        target = workspace / "out" / f"{rfp.id}.{suffix}"
        written = final.context.host.first("rfpflow_export", Path, fmt=fmt, target=target,
                                           context=final.context.with_rfp(rfp_now))
        if written is not None:
            exported.append(written.name)
    status = final.status()
    flush()
    documents = sorted(p.name for p in (workspace / "out").glob("*.html"))
    summary.stage("Documents", f"{len(documents)} HTML documents (and Markdown) in {workspace / 'out'}")
    summary.detail("exports: " + ", ".join(exported))
    summary.stage("Awarded", f"confirmed on {times.confirm.date()}; audit log: {status['events']} events, "
                  f"chain head {status['chain_head'][:16]}")
    return status


def settle(cycle: Cycle, item: dict[str, Any], summary: RunSummary) -> None:
    """Apply one screening decision from decisions.toml."""
    cycle.resolve(item["vendor"], item["gate"], item["decision"], item["reason"])
    summary.detail(f"settled {item['vendor']} {item['gate']}: {item['decision']} ({item['reason']})")


class RunSummary:
    """The stage-by-stage summary `rfpflow run` prints.

    Stage names are bold and outcomes coloured; ``echo`` (click.echo) drops the
    colour codes when the output is not a terminal, and NO_COLOR turns them off.
    """

    def __init__(self, echo: Callable[[str], None]) -> None:
        self.echo = echo

    @staticmethod
    def paint(text: str, **style: Any) -> str:
        import os

        import click

        return text if os.environ.get("NO_COLOR") else click.style(text, **style)

    def stage(self, name: str, text: str) -> None:
        self.echo(f"{self.paint(f'{name:<12}', bold=True)} {text}")

    def detail(self, text: str) -> None:
        self.echo(f"{'':<12}   {text}")

    def screening(self, results: list[Any]) -> None:
        from rfpflow.records import summarize

        overall = summarize(results)
        counts = {o: sum(1 for v in overall.values() if v == o) for o in ("pass", "review", "fail")}
        self.stage("Screening", f"{counts['pass']} pass, {counts['review']} need review, {counts['fail']} fail")
        for stored in results:
            if stored.outcome != "pass":
                colour = "red" if stored.outcome == "fail" else "yellow"
                self.detail(f"{stored.result.vendor_id}: {self.paint(stored.outcome, fg=colour)} "
                            f"{stored.result.gate_id} - {stored.result.reason}")

    def evaluation(self, result: dict[str, Any]) -> None:
        self.stage("Evaluation", f"{len(result['totals'])} vendors ranked by {result['method']}")
        for row in result["totals"]:
            self.detail(f"{row['rank']}. {row['vendor']:<20} {row['total']:.2f}")
        for o in result["outliers"]:
            self.detail(f"outlier: {o['evaluator']} scored {o['vendor']} {o['score']:g} on {o['criterion']} "
                        f"(median {o['median']:g})")

    def trial(self, results: list[Any]) -> None:
        self.stage("Trial run", ", ".join(
            f"{r.vendor_id} {self.paint('passed', fg='green') if r.passed else self.paint('FAILED', fg='red')} "
            f"({r.score:.1f})" for r in results))

    def award(self, view: dict[str, Any]) -> None:
        self.stage("Award", self.paint(f"recommended {view['vendor_name']} ({view['vendor']})", fg="green",
                                       bold=True))
        for row in view["ranking"]:
            self.detail(f"{row['rank']}. {row['vendor']:<20} {row['total']:.2f}")
