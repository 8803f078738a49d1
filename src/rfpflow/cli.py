"""The ``rfpflow`` command line: thin click commands over the core.

Commands parse their options, call the core and print. Errors a user can
cause are :class:`rfpflow.errors.RfpflowError`: printed without a traceback,
exit code 2. Plugins load once, when the first command is looked up, after
the global options (``--disable-plugin``, ``--strict-plugins``) are known.
Start-up imports neither openpyxl nor jinja2; commands import what they use.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tomllib
from pathlib import Path
from typing import Any

import attrs
import click

from rfpflow import __version__
from rfpflow.context import Clock, RunContext, default_actor
from rfpflow.errors import RfpflowError
from rfpflow.hookspecs import HOOK_API_VERSION
from rfpflow.plugins import PluginHost

DEBUG_ENV = "RFPFLOW_DEBUG"


@attrs.define
class App:
    """What every command gets through ``click.pass_obj``."""

    directory: Path
    host: PluginHost
    clock: Clock
    actor: str
    cycles: list[Any] = attrs.field(factory=list)

    def context(self, *, workspace: Path | None = None) -> RunContext:
        return RunContext(host=self.host, clock=self.clock, actor=self.actor, workspace=workspace)

    def flush_warnings(self) -> None:
        """Print what no command printed yet (an observer's failure, say), whatever the command."""
        for cycle in self.cycles:
            _warn(cycle)


def _workspace_plugin_list(directory: Path, key: str) -> list[str]:
    """``[plugins] KEY = [...]`` (``disable``, ``prefer``) from the workspace's rfp.toml, read before plugins load."""
    try:
        data = tomllib.loads((directory / "rfp.toml").read_text(encoding="utf-8-sig"))
    except (OSError, ValueError, RecursionError):
        return []  # the command itself reports what is wrong with the file
    names = data.get("plugins", {}).get(key, []) if isinstance(data.get("plugins"), dict) else []
    return [d for d in names if isinstance(d, str)] if isinstance(names, list) else []


def _workspace_disabled_plugins(directory: Path) -> list[str]:
    return _workspace_plugin_list(directory, "disable")


class RfpflowGroup(click.Group):
    """A click group that loads plugins (and their commands) on first lookup."""

    def _app(self, ctx: click.Context) -> App:
        root = ctx.find_root()
        if isinstance(root.obj, App):
            return root.obj
        params = root.params
        directory = Path(params.get("directory") or ".")
        asked = list(params.get("disable_plugin") or ())
        blocked = asked + _workspace_disabled_plugins(directory)
        if isinstance(root.obj, PluginHost):  # rfpflow.testing.run_cli: the test's host
            host = root.obj
            host.prefer = tuple(_workspace_plugin_list(directory, "prefer")) or host.prefer
        else:
            host = PluginHost.create(blocked=blocked, strict=bool(params.get("strict_plugins")),
                                     plugins_dir=params.get("plugins_dir"),
                                     prefer=_workspace_plugin_list(directory, "prefer"))
        unknown = host.unknown_names(asked)
        if unknown:
            raise RfpflowError(f"--disable-plugin: no plugin named {', '.join(unknown)}; "
                               "`rfpflow plugins` lists them")
        for info in host.load_errors:
            click.echo(f"warning: plugin {info.name!r} not loaded: {info.error}", err=True)
        for conflict in host.conflicts():
            if not conflict.preferred:
                click.echo(f"warning: {conflict.message()}", err=True)
        host.run_each("rfpflow_register_commands", lambda _name: {"cli": self})
        app = App(
            directory=directory,
            host=host,
            clock=Clock.from_env(params.get("now")),
            actor=params.get("actor") or default_actor(),
        )
        root.obj = app
        root.call_on_close(app.flush_warnings)
        return app

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._app(ctx)
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._app(ctx)
        return super().get_command(ctx, cmd_name)


@click.group(cls=RfpflowGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="rfpflow",
                      message=f"%(prog)s %(version)s (hook API {HOOK_API_VERSION[0]}.{HOOK_API_VERSION[1]})")
@click.option("-C", "--directory", type=click.Path(file_okay=False, path_type=Path),
              help="Work on the cycle in DIR instead of the current folder (like git -C).")
@click.option("--actor", help="Who is acting, for the audit trail (default: the OS user).")
@click.option("--now", help="Simulated current time (ISO date-time) for replays and training; "
              "also RFPFLOW_NOW. Recorded beside the real time.")
@click.option("--disable-plugin", multiple=True, metavar="NAME",
              help="Do not load this plugin (repeatable). Also RFPFLOW_DISABLE_PLUGINS.")
@click.option("--strict-plugins", is_flag=True, help="Fail when a plugin cannot be loaded.")
@click.option("--plugins-dir", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Also load every plugin module (*.py) and package in DIR, unpackaged (for development).")
@click.pass_context
def cli(ctx: click.Context, directory: Path | None, actor: str | None, now: str | None,
        disable_plugin: tuple[str, ...], strict_plugins: bool, plugins_dir: Path | None) -> None:
    """rfpflow runs vendor-selection RFP cycles: request, screening, trial run, award.

    Every decision point is a plugin hook; `rfpflow plugins` shows what is loaded.
    """


# ---------------------------------------------------------------------------
# Foundation commands
# ---------------------------------------------------------------------------


@cli.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
@click.pass_obj
def plugins_command(app: App, as_json: bool) -> None:
    """List every plugin: builtin and installed, loaded and failed, with the hooks it
    implements, every name it registers (gate kinds, scoring methods, KPI presets,
    profiles, documents) and what it overrides, and which plugin answers first where
    several answer the same firstresult hook."""
    infos = app.host.plugin_infos()
    try:
        registered = app.host.registrations()
        registry_error = None
    except RfpflowError as exc:  # a plugin failing while registering: show the rest
        registered, registry_error = [], str(exc)
    by_plugin: dict[str, list[tuple[str, str, str | None]]] = {}
    for plugin, what, name, overrides in registered:
        by_plugin.setdefault(plugin, []).append((what, name, overrides))
    conflicts = app.host.conflicts()
    if as_json:
        rows = []
        for info in infos:
            row = info.as_json()
            row["registers"] = [{"kind": what, "name": name, "overrides": overrides}
                                for what, name, overrides in by_plugin.get(info.name, [])]
            rows.append(row)
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    click.echo(f"rfpflow {__version__}, hook API {HOOK_API_VERSION[0]}.{HOOK_API_VERSION[1]}")
    for info in infos:
        origin = "builtin" if info.builtin else f"{info.distribution or '?'} {info.version or ''}".strip()
        click.echo(f"\n{info.name}  ({origin})")
        if info.error:
            click.echo(f"  FAILED: {info.error}")
        else:
            for hook in info.hooks:
                click.echo(f"  {hook}")
            for what, name, overrides in by_plugin.get(info.name, []):
                replaced = f"  (overrides {overrides})" if overrides else ""
                click.echo(f"  registers {what} {name}{replaced}")
    if conflicts:
        click.echo("\nFirst-result conflicts:")
        for conflict in conflicts:
            click.echo(f"  {conflict.message()}")
    if registry_error:
        click.echo(f"\nerror: {registry_error}", err=True)


@cli.command("validate")
@click.option("--json", "as_json", is_flag=True, help="Print problems as JSON.")
@click.pass_obj
def validate_command(app: App, as_json: bool) -> None:
    """Check rfp.toml: every problem at once, with its line and field."""
    from rfpflow.definition import check_rfp

    rfp, problems = check_rfp(app.directory / "rfp.toml", context=app.context(workspace=app.directory))
    errors = [p for p in problems if p.severity == "error"]
    if as_json:
        click.echo(json.dumps({"valid": not errors, "problems": [
            {"file": p.file, "line": int(p.place) if p.place and p.place.isdigit() else None,
             "field": p.field, "message": p.message, "severity": p.severity} for p in problems
        ]}, indent=2, ensure_ascii=False))
    else:
        for problem in problems:
            prefix = "warning: " if problem.severity == "warning" else ""
            click.echo(f"{prefix}{problem}", err=bool(errors))
        if rfp is not None:
            leaves = len(rfp.leaf_criteria())
            click.echo(f"{rfp.source}: valid - {rfp.id} '{rfp.title}', {leaves} criteria, "
                       f"{len(rfp.gates)} gates, {len(rfp.line_items)} line items "
                       f"(definition {rfp.definition_hash[:12]})")
    if errors:
        raise SystemExit(2)


@cli.command("new")
@click.argument("target", type=click.Path(file_okay=False, path_type=Path))
@click.option("--profile", default="generic", show_default=True, help="The profile to start from.")
@click.option("--language", type=click.Choice(["en", "zh"]), default=None,
              help="The language, for a profile that has several (default: en); one with a single language "
                   "is made in it.")
@click.pass_obj
def new_command(app: App, target: Path, profile: str, language: str | None) -> None:
    """Start a cycle: a workspace folder with a commented rfp.toml from a profile."""
    from rfpflow.workspace import create_workspace, profile_language

    chosen = profile_language(app.host, profile, language)
    path = create_workspace(target, app.host, profile=profile, language=chosen)
    click.echo(f"Created {path}/rfp.toml from profile {profile!r} ({chosen}).")
    click.echo(f"Next: edit it, then `rfpflow -C {target} validate` and `rfpflow -C {target} issue`.")


# ---------------------------------------------------------------------------
# The cycle
# ---------------------------------------------------------------------------


def style(text: str, **kwargs: Any) -> str:
    """Colour for terminals; plain text when NO_COLOR is set (click drops colour off a tty)."""
    return text if os.environ.get("NO_COLOR") else click.style(text, **kwargs)


OUTCOME_COLOURS = {"pass": "green", "fail": "red", "review": "yellow"}


def _cycle(app: App) -> Any:
    from rfpflow.workflow import Cycle

    cycle = Cycle(app.directory, app.context(workspace=app.directory))
    app.cycles.append(cycle)
    return cycle


def _warn(cycle: Any) -> None:
    for warning in cycle.warnings:
        click.echo(style(f"warning: {warning}", fg="yellow"), err=True)
    cycle.warnings.clear()


@cli.command("issue")
@click.pass_obj
def issue_command(app: App) -> None:
    """Issue the RFP: freeze rfp.toml and write the bid-response workbook."""
    cycle = _cycle(app)
    rfp = cycle.issue()
    _warn(cycle)
    click.echo(f"Issued {rfp.id} '{rfp.title}' (definition {rfp.definition_hash[:12]}).")
    workbook = cycle.bid_workbook_path(rfp)
    if workbook.exists():
        click.echo(f"Send vendors {workbook}.")
    click.echo("Next: rfpflow bids import bids/")


@cli.command("amend")
@click.option("--reason", required=True, help="Why the definition changed (recorded in the audit log).")
@click.pass_obj
def amend_command(app: App, reason: str) -> None:
    """Record a change to rfp.toml after issue; existing bids must be resubmitted."""
    cycle = _cycle(app)
    rfp = cycle.amend(reason)
    _warn(cycle)
    click.echo(f"Amended {rfp.id}: definition is now {rfp.definition_hash[:12]}.")
    pending = [b.bid.vendor_id for b in cycle.bids() if b.needs_resubmission and b.active]
    if pending:
        click.echo("These vendors must resubmit on the new workbook: " + ", ".join(sorted(pending)))


@cli.group("bids")
def bids_group() -> None:
    """Vendor bids."""


@bids_group.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--accept-late", is_flag=True, help="Accept bids after the deadline (needs --reason).")
@click.option("--reason", default="", help="Why late bids are accepted.")
@click.pass_obj
def bids_import_command(app: App, paths: tuple[Path, ...], accept_late: bool, reason: str) -> None:
    """Import vendor workbooks (files or folders). Each is all-or-nothing."""
    from rfpflow.workflow import _expand

    cycle = _cycle(app)
    skipped: list[str] = []
    files = _expand(paths, app.directory, skipped)
    for name in skipped:
        click.echo(f"  skipped   {name}")
    show_bar = len(files) > 5 and sys.stderr.isatty()
    if show_bar:
        with click.progressbar(length=len(files), label="Reading bids", file=sys.stderr) as bar:
            report = cycle.import_bids(files, accept_late=accept_late, late_reason=reason,
                                       progress=lambda _path: bar.update(1))
    else:
        report = cycle.import_bids(files, accept_late=accept_late, late_reason=reason)
    _warn(cycle)
    _print_import(report)


def _bid_rows(cycle: Any) -> list[dict[str, Any]]:
    """Every bid, then every invited vendor without one: what `bids list` shows."""
    from rfpflow.documents.view import prices_sealed

    state = cycle.state()
    rfp = cycle.current_rfp()
    sealed = state is not None and prices_sealed(rfp, state.stage) and not cycle.record(
        "evaluation", "technical-complete")
    invited = {v.id: v for v in rfp.vendors}
    rows: list[dict[str, Any]] = []
    for stored in sorted(cycle.bids(), key=lambda b: b.bid.vendor_id):
        bid = stored.bid
        rows.append({
            "vendor": bid.vendor_id, "legal_name": bid.vendor_name,
            "registration_no": str(bid.fields.get("registration_no") or ""),
            "files": list(stored.files or (bid.source_file,)), "submitted_at": stored.submitted_at,
            "timing": "late" if stored.late else "on time",
            "envelopes": [e for e, _ in stored.envelope_files] or list(stored.envelopes),
            "incomplete": bool(stored.envelopes),
            "total_price": None if sealed else format(bid.total_price, "f"),
            "status": stored.status, "status_reason": stored.status_reason,
            "invited": bid.vendor_id in invited if invited else None,
        })
    with_bids = {r["vendor"] for r in rows}
    for vendor in sorted(rfp.vendors, key=lambda v: v.id):
        if vendor.id not in with_bids:
            rows.append({"vendor": vendor.id, "legal_name": vendor.name, "registration_no": vendor.registration_no,
                         "files": [], "submitted_at": None, "timing": None, "envelopes": [], "incomplete": False,
                         "total_price": None,
                         "status": "not submitted", "status_reason": "", "invited": True})
    return rows


@bids_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def bids_list_command(app: App, as_json: bool) -> None:
    """Every bid (and every invited vendor that has not bid): who, which files, when, status."""
    rows = _bid_rows(_cycle(app))
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("No bids yet.")
        return
    head = ("vendor", "legal name", "registration no.", "file(s)", "submitted at", "timing", "envelope(s)",
            "total price", "status")
    table = [head] + [(
        r["vendor"], r["legal_name"], r["registration_no"], ", ".join(r["files"]),
        (r["submitted_at"] or "")[:16].replace("T", " "), r["timing"] or "", ", ".join(r["envelopes"]),
        "sealed" if r["total_price"] is None and r["files"] else _amount(r["total_price"]),
        r["status"] + (" (incomplete: one envelope)" if r.get("incomplete") else "")
        + (f" ({r['status_reason']})" if r["status_reason"] else "")
        + (" (not invited)" if r["invited"] is False else "")) for r in rows]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(head))]
    for row in table:
        click.echo("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


@bids_group.command("show")
@click.argument("vendor")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def bids_show_command(app: App, vendor: str, as_json: bool) -> None:
    """The whole bid of VENDOR: company, answers, price lines with comments, file digest, history."""
    from rfpflow.bids import bid_record
    from rfpflow.documents.view import prices_sealed
    from rfpflow.errors import GuardError

    cycle = _cycle(app)
    bids = {b.bid.vendor_id: b for b in cycle.bids()}
    if vendor not in bids:
        known = ", ".join(sorted(bids)) or "none"
        raise GuardError(f"there is no bid of vendor {vendor!r} (vendors with bids: {known})")
    record = bid_record(bids[vendor], cycle.bid_history())
    state = cycle.state()
    if state is not None and prices_sealed(cycle.current_rfp(), state.stage) and not cycle.record(
            "evaluation", "technical-complete"):
        record.update(total_price=None, prices=None, extra_columns=None)
    if as_json:
        click.echo(json.dumps(record, indent=2, ensure_ascii=False))
        return
    _print_bid(record)


def _print_bid(record: dict[str, Any]) -> None:
    click.echo(f"{record['vendor']}: {record['legal_name']}")
    status = record["status"] + (f" ({record['status_reason']})" if record["status_reason"] else "")
    click.echo(f"  status: {status}")
    click.echo(f"  registration no.: {record['registration_no'] or '-'}")
    click.echo(f"  file(s): {', '.join(record['files'])}   sha256 {record['sha256']}")
    late = f"late ({record['late_reason']})" if record["late"] else "on time"
    click.echo(f"  submitted at: {record['submitted_at']} ({late})")
    click.echo("  company:")
    for key, value in record["company"].items():
        click.echo(f"    {key}: {value}")
    if record["answers"]:
        click.echo("  answers:")
        for a in record["answers"]:
            extra = "".join(f"; {k}: {a[k]}" for k in ("comment", "evidence") if a[k])
            flag = "  [check]" if a["flagged"] else ""
            click.echo(f"    {a['question']}: {a['answer']}{extra}{flag}")
    if record["prices"] is None:
        click.echo("  prices: sealed until the financial envelopes are opened")
    elif record["prices"]:
        click.echo("  prices:")
        for line in record["prices"]:
            notes = [f"comment: {line['comment']}"] if line["comment"] else []
            notes += [f"{k}: {v}" for k, v in line["extras"].items()]
            flag = "  [check]" if line["flagged"] else ""
            shown = f" ({'; '.join(notes)})" if notes else ""
            click.echo(f"    {line['item']}: {line['quantity']} x {line['unit_price']} = "
                       f"{line['line_total']}{shown}{flag}")
        click.echo(f"  total price: {record['total_price']}")
    for warning in record["warnings"]:
        click.echo(f"  warning: {warning}")
    if record["history"]:
        click.echo("  earlier submissions:")
        for old in record["history"]:
            click.echo(f"    {old['submitted_at']}  {', '.join(old['files'])}  sha256 {old['sha256'][:16]}  "
                       f"{old['status']}")


@bids_group.command("withdraw")
@click.argument("vendor")
@click.option("--reason", required=True, help="Why the vendor withdrew (recorded in the audit log).")
@click.pass_obj
def bids_withdraw_command(app: App, vendor: str, reason: str) -> None:
    """Record that VENDOR withdrew its bid."""
    stored = _cycle(app).set_bid_status(vendor, "withdrawn", reason)
    click.echo(f"{vendor} ({stored.bid.vendor_name}): bid withdrawn ({reason})")


@bids_group.command("exclude")
@click.argument("vendor")
@click.option("--reason", required=True, help="Why the buyer excludes the bid (recorded in the audit log).")
@click.pass_obj
def bids_exclude_command(app: App, vendor: str, reason: str) -> None:
    """Exclude VENDOR's bid (the buyer's decision, e.g. it did not answer an amendment)."""
    stored = _cycle(app).set_bid_status(vendor, "excluded", reason)
    click.echo(f"{vendor} ({stored.bid.vendor_name}): bid excluded ({reason})")


@cli.command("close")
@click.option("--early", is_flag=True, help="Close before the bid deadline (needs --reason).")
@click.option("--reason", default="", help="Why bids close early.")
@click.pass_obj
def close_command(app: App, early: bool, reason: str) -> None:
    """Close the bidding: no more bids are accepted."""
    if early and not reason.strip():
        raise click.UsageError("--early needs --reason")
    count = _cycle(app).close(early_reason=reason if early else "")
    click.echo(f"Bids closed with {count} bid{'s' if count != 1 else ''}. Next: rfpflow screen")


@cli.group("screen", invoke_without_command=True)
@click.pass_context
def screen_group(ctx: click.Context) -> None:
    """Screen every bid against the gates; `screen resolve` settles needs-review."""
    if ctx.invoked_subcommand is not None:
        return
    app: App = ctx.obj
    results = _cycle(app).screen()
    _print_screening(results)


def _print_screening(results: list[Any]) -> None:
    from rfpflow.records import summarize

    overall = summarize(results)
    for vendor, outcome in overall.items():
        click.echo(f"{vendor:<24} {style(outcome.upper(), fg=OUTCOME_COLOURS[outcome], bold=True)}")
        for stored in results:
            if stored.result.vendor_id != vendor or stored.outcome == "pass":
                continue
            settled = f" (settled: {stored.resolution.reason})" if stored.resolution else ""
            click.echo(f"    {stored.outcome:<7} {stored.result.gate_id}: {stored.result.reason}{settled}")
    pending = [r for r in results if r.outcome == "review"]
    if pending:
        click.echo(f"\n{len(pending)} outcome(s) need review: rfpflow screen resolve VENDOR GATE "
                   "--decision pass|fail --reason \"...\"")


@screen_group.command("resolve")
@click.argument("vendor")
@click.argument("gate")
@click.option("--decision", type=click.Choice(["pass", "fail"]), required=True)
@click.option("--reason", required=True, help="Why (recorded in the audit log).")
@click.pass_obj
def screen_resolve_command(app: App, vendor: str, gate: str, decision: str, reason: str) -> None:
    """Settle a needs-review screening outcome."""
    stored = _cycle(app).resolve(vendor, gate, decision, reason)
    was = stored.resolution.was if stored.resolution and stored.resolution.was else stored.result.outcome
    click.echo(f"{vendor} {gate}: {was} -> {decision} ({reason})")


def _amount(value: object) -> str:
    """A price as the documents print it (``3,270,000.00``), blank for none."""
    from rfpflow.formatting import format_money

    return format_money(value, missing="")


def _print_import(report: Any, noun: str = "") -> None:
    """One line per file imported or refused, the count, then every refusal's reasons (exit 2 if any)."""
    for file, who, detail in report.imported:
        click.echo(f"  {style('imported', fg='green')}  {file:<36} {who:<20} {detail}")
    for file, _message in report.refused:
        click.echo(f"  {style('refused', fg='red')}   {file}")
    if getattr(report, "skipped", ()):
        click.echo(f"{len(report.skipped)} skipped")
    counted = f"{noun} imported" if noun else "imported"
    click.echo(f"{len(report.imported)} {counted}, {len(report.refused)} refused")
    for _file, message in report.refused:
        click.echo(message, err=True)
    if report.refused:
        raise SystemExit(2)


@cli.group("evaluate")
def evaluate_group() -> None:
    """Evaluators' score sheets, consensus and the ranking."""


@evaluate_group.command("sheets")
@click.pass_obj
def evaluate_sheets_command(app: App) -> None:
    """Write one score sheet per evaluator for the vendors that passed screening."""
    for path in _cycle(app).write_score_sheets():
        click.echo(f"  {path}")
    click.echo("Send each evaluator their sheet; then: rfpflow evaluate import evaluations/")


@evaluate_group.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_obj
def evaluate_import_command(app: App, paths: tuple[Path, ...]) -> None:
    """Import returned score sheets (files or folders). Each is all-or-nothing."""
    _print_import(_cycle(app).import_scores(paths), "score sheets")


def _fmt(value: float) -> str:
    return f"{value:.2f}"


@evaluate_group.command("open-prices")
@click.pass_obj
def evaluate_open_prices_command(app: App) -> None:
    """Two envelopes: open the prices once the technical evaluation is complete, and run the price gates."""
    results = _cycle(app).open_prices()
    _print_screening(results)
    click.echo("Prices are open. Next: rfpflow evaluate rank")


@evaluate_group.command("rank")
@click.pass_obj
def evaluate_rank_command(app: App) -> None:
    """Merge the scores, rank the vendors, flag outliers and show weight sensitivity."""
    result = _cycle(app).rank()
    click.echo(f"Ranking ({result['method']}):")
    for row in result["totals"]:
        click.echo(f"  {row['rank']:>2}. {row['vendor']:<24} {_fmt(row['total']):>7}")
    for group in result["tied_groups"]:
        click.echo(f"  tied on score and price: {', '.join(group)}")
    for note in result["notes"]:
        click.echo(f"  note: {note}")
    if result.get("panel_size", 3) < 3:
        click.echo(f"  outliers: not looked for; {result['panel_size']} evaluator(s) scored and at least three "
                   "are needed")
    for o in result["outliers"]:
        click.echo(style(f"  outlier: {o['evaluator']} gave {o['vendor']} {o['score']:g} on {o['criterion']} "
                         f"(panel median {o['median']:g}, {o['distance']:g} away)", fg="yellow"))
    from rfpflow.documents.view import decisive_changes

    leader = result.get("sensitivity_leader")
    decisive = decisive_changes(result["sensitivity"], leader)
    if not decisive:
        click.echo("Sensitivity: no single weight change within ±50% changes the winner")
    else:
        click.echo(f"Sensitivity (weight changes within ±50% that change the winner, now {leader}):")
        for change in decisive:
            click.echo(f"  {change['criterion']}: if its weight moves from {_fmt(change['current_weight'])} to "
                       f"{_fmt(change['new_weight'])}, {change['new_winner']} would lead")


@cli.command("shortlist")
@click.pass_obj
def shortlist_command(app: App) -> None:
    """Shortlist vendors for the trial run, as rfp.toml's [shortlist] says."""
    chosen = _cycle(app).shortlist()
    click.echo("Shortlisted for the trial run: " + ", ".join(chosen))
    click.echo("Next: rfpflow trial import trial/")


@cli.group("trial")
def trial_group() -> None:
    """The trial run (pilot) measured against KPIs."""


@trial_group.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_obj
def trial_import_command(app: App, paths: tuple[Path, ...]) -> None:
    """Import trial measurements (CSV or xlsx rows of date, vendor, KPI, value)."""
    _print_import(_cycle(app).import_trial(paths), "trial files")


@trial_group.command("evaluate")
@click.pass_obj
def trial_evaluate_command(app: App) -> None:
    """KPI attainment and the verdict for each shortlisted vendor."""
    for result in _cycle(app).evaluate_trial():
        verdict = style("PASSED", fg="green") if result.passed else style("FAILED", fg="red")
        click.echo(f"{result.vendor_id:<24} {verdict}  trial score {result.score:.1f}")
        for k in result.kpis:
            mark = "met " if k.met else "MISSED"
            value = "no data" if k.value is None else f"{k.value:.2f}"
            click.echo(f"    {mark:<6} {k.kpi_id:<24} {value:>8} (target {k.target:g})")
    click.echo("Next: rfpflow award")


@cli.group("award", invoke_without_command=True)
@click.option("--vendor", help="Recommend this vendor instead of the top-ranked one (needs --justification).")
@click.option("--justification", default="", help="Why the award departs from the ranking.")
@click.pass_context
def award_group(ctx: click.Context, vendor: str | None, justification: str) -> None:
    """The final ranking and the award recommendation; `award confirm` after the standstill."""
    if ctx.invoked_subcommand is not None:
        return
    cycle = _cycle(ctx.obj)
    view = cycle.award(vendor=vendor, justification=justification)
    click.echo("Final ranking:")
    for row in view["ranking"]:
        click.echo(f"  {row['rank']:>2}. {row['vendor']:<24} {_fmt(row['total']):>7}")
    click.echo(style(f"Recommended: {view['vendor_name']} ({view['vendor']})", bold=True))
    if view["justification"]:
        click.echo(f"Justification: {view['justification']}")
    if view["standstill_ends"]:
        from rfpflow.workflow import buyer_zone, period_end, when

        zone = buyer_zone(cycle.current_rfp())
        opens = when(period_end(dt.date.fromisoformat(view["standstill_ends"]), zone), zone)
        click.echo(f"Standstill period ends at the end of {view['standstill_ends']}; "
                   f"from {opens}: rfpflow award confirm")


@award_group.command("confirm")
@click.pass_obj
def award_confirm_command(app: App) -> None:
    """Confirm the award once the standstill period is over."""
    vendor = _cycle(app).confirm_award()
    click.echo(f"Awarded to {vendor}.")


@cli.command("run")
@click.argument("sample", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Workspace to create (default: ./rfpflow-runs/SAMPLE-NAME).")
@click.pass_obj
def run_command(app: App, sample: Path, out_dir: Path | None) -> None:
    """Run a whole sample cycle in a fresh workspace and summarise it."""
    from rfpflow.runner import run_sample

    target = out_dir or Path("rfpflow-runs") / sample.resolve().name
    # A replay is the same on every machine: the actor is fixed unless --actor is given.
    actor = click.get_current_context().find_root().params.get("actor") or "rfpflow-run"
    context = attrs.evolve(app.context(), actor=actor)
    run_sample(sample, target, context, click.echo)
    click.echo(f"Workspace: {target}   documents: {target / 'out'}")


@cli.command("export")
@click.argument("fmt", metavar="FORMAT")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: out/RFP-ID.FORMAT).")
@click.pass_obj
def export_command(app: App, fmt: str, output: Path | None) -> None:
    """Export the cycle: xlsx (evaluation workbook), json (everything), ocds (OCDS 1.1 package),
    pdf (the HTML documents printed to A4 PDF with headless Chromium, into out/pdf/)."""
    cycle = _cycle(app)
    rfp = cycle.current_rfp()
    suffix = {"ocds": "ocds.json"}.get(fmt, fmt)
    default = app.directory / "out" / ("pdf" if fmt == "pdf" else f"{rfp.id}.{suffix}")
    target = output or default
    target.parent.mkdir(parents=True, exist_ok=True)
    context = cycle.context.with_rfp(rfp)
    written = app.host.first("rfpflow_export", Path, fmt=fmt, target=target, context=context)
    if written is None:
        raise RfpflowError(f"no installed plugin exports {fmt!r}; builtin formats: xlsx, json, ocds, pdf")
    click.echo(f"Wrote {written}")


@cli.command("render")
@click.pass_obj
def render_command(app: App) -> None:
    """Render the documents the cycle has reached into out/ again (after a template change)."""
    cycle = _cycle(app)
    for path in cycle.render_documents(cycle.current_rfp()):
        click.echo(f"  {path}")


@cli.command("cancel")
@click.option("--reason", required=True, help="Why the cycle is cancelled (recorded).")
@click.pass_obj
def cancel_command(app: App, reason: str) -> None:
    """Cancel the cycle (from any open stage)."""
    _cycle(app).cancel(reason)
    click.echo(f"Cancelled: {reason}")


@cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def status_command(app: App, as_json: bool) -> None:
    """Where the cycle stands and the next command to run."""
    report = _cycle(app).status()
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False, sort_keys=True))
        return
    click.echo(f"{report.get('rfp_id') or '(no RFP id)'}: {style(report['stage_label'], bold=True)}")
    for problem in report.get("problems", []):
        click.echo(f"  {problem}")
    if "definition_hash" in report:
        click.echo(f"  definition {report['definition_hash'][:12]}: {report['definition']}")
        click.echo(f"  audit log: {report['events']} events, chain head {report['chain_head'][:16]}")
    bids = report.get("bids")
    if bids:
        click.echo(f"  bids: {bids['received']} received"
                   + (f", late: {', '.join(bids['late'])}" if bids["late"] else "")
                   + (f", to resubmit: {', '.join(bids['to_resubmit'])}" if bids["to_resubmit"] else "")
                   + (f", withdrawn: {', '.join(bids['withdrawn'])}" if bids.get("withdrawn") else "")
                   + (f", excluded: {', '.join(bids['excluded'])}" if bids.get("excluded") else ""))
        if "invited" in bids:
            waiting = bids["not_submitted"]
            click.echo(f"  invited vendors: {bids['invited']}, not submitted: "
                       + (", ".join(waiting) if waiting else "none")
                       + (f"; not invited: {', '.join(bids['unlisted'])}" if bids["unlisted"] else ""))
    screening = report.get("screening")
    if screening:
        counts: dict[str, int] = {}
        for outcome in screening["vendors"].values():
            counts[outcome] = counts.get(outcome, 0) + 1
        click.echo("  screening: " + ", ".join(f"{n} {o}" for o, n in sorted(counts.items())))
    for item in (report.get("stale") or {}).values():
        click.echo(f"  out of date: {item['result']} (its inputs changed); run `{item['run']}` again")
    click.echo(f"Next: {report['next']}")


@cli.command("log")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def log_command(app: App, as_json: bool) -> None:
    """List the audit events."""
    events = _cycle(app).events()
    if as_json:
        click.echo(json.dumps([e.as_json() for e in events], indent=2, ensure_ascii=False))
        return
    for event in events:
        simulated = " (simulated)" if event.simulated else ""
        shown = {k: v for k, v in sorted(event.data.items()) if v is not None and v is not False and v not in ("", [])}
        detail = ", ".join(f"{k}={v}" for k, v in shown.items())
        click.echo(f"{event.seq:>4}  {event.at}{simulated}  {event.actor:<12} {event.kind:<20} {detail}")


@cli.group("audit")
def audit_group() -> None:
    """The tamper-evident audit trail."""


@audit_group.command("verify")
@click.pass_obj
def audit_verify_command(app: App) -> None:
    """Check the audit chain: exit 0 if intact, 1 naming the first bad event."""
    report = _cycle(app).verify()
    if report.ok:
        click.echo(report.message)
        return
    click.echo(f"audit chain BROKEN: {report.message}", err=True)
    raise SystemExit(1)


@cli.group("store")
def store_group() -> None:
    """Where the cycle is kept: SQLite in the workspace, or a PostgreSQL server (docs/deployment.md)."""


@store_group.command("copy")
@click.option("--to", "target", required=True, metavar="URL",
              help="postgresql://user@host/db, or 'sqlite' for this workspace's own file.")
@click.pass_obj
def store_copy_command(app: App, target: str) -> None:
    """Copy the cycle with its whole history, verify it on arrival, and use the copy from now on."""
    from rfpflow.store.copy import copy_cycle

    click.echo(copy_cycle(app.directory, target).message)


@store_group.command("info")
@click.pass_obj
def store_info_command(app: App) -> None:
    """Say where the cycle is kept (the backend, the server and the cycle's id)."""
    from rfpflow.store.copy import describe

    click.echo(describe(app.directory))


@store_group.command("attach")
@click.argument("url")
@click.argument("cycle")
@click.pass_obj
def store_attach_command(app: App, url: str, cycle: str) -> None:
    """Point this workspace at a cycle already in a server store (its id from `rfpflow store info`)."""
    from rfpflow.store.copy import attach

    click.echo(attach(app.directory, url, cycle))


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------


def main(argv: list[str] | None = None, *, host: PluginHost | None = None) -> Any:
    """Run the CLI: user errors print a message and exit 2, never a traceback.

    ``host`` replaces the plugins the command line would load (``rfpflow.testing.run_cli``).
    """
    try:
        return cli.main(args=argv, prog_name="rfpflow", standalone_mode=False, obj=host)
    except RfpflowError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # a bug: say so briefly, keep the traceback for RFPFLOW_DEBUG
        if os.environ.get(DEBUG_ENV):
            raise
        click.echo(f"internal error: {type(exc).__name__}: {exc}\n"
                   f"(this is a bug in rfpflow or a plugin; set {DEBUG_ENV}=1 for the traceback)", err=True)
        sys.exit(1)
