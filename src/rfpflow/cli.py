"""The ``rfpflow`` command line: thin click commands over the core.

Commands parse their options, call the core and print. Errors a user can
cause are :class:`rfpflow.errors.RfpflowError`: printed without a traceback,
exit code 2. Plugins load once, when the first command is looked up, after
the global options (``--disable-plugin``, ``--strict-plugins``) are known.
Start-up imports neither openpyxl nor jinja2; commands import what they use.
"""

from __future__ import annotations

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

    def context(self, *, workspace: Path | None = None) -> RunContext:
        return RunContext(host=self.host, clock=self.clock, actor=self.actor, workspace=workspace)


def _workspace_disabled_plugins(directory: Path) -> list[str]:
    """``[plugins] disable = [...]`` from the workspace's rfp.toml, read before plugins load."""
    try:
        data = tomllib.loads((directory / "rfp.toml").read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return []
    disabled = data.get("plugins", {}).get("disable", []) if isinstance(data.get("plugins"), dict) else []
    return [d for d in disabled if isinstance(d, str)] if isinstance(disabled, list) else []


class RfpflowGroup(click.Group):
    """A click group that loads plugins (and their commands) on first lookup."""

    def _app(self, ctx: click.Context) -> App:
        root = ctx.find_root()
        if isinstance(root.obj, App):
            return root.obj
        params = root.params
        directory = Path(params.get("directory") or ".")
        blocked = list(params.get("disable_plugin") or ()) + _workspace_disabled_plugins(directory)
        host = PluginHost.create(blocked=blocked, strict=bool(params.get("strict_plugins")))
        for info in host.load_errors:
            click.echo(f"warning: plugin {info.name!r} not loaded: {info.error}", err=True)
        host.run_each("rfpflow_register_commands", lambda _name: {"cli": self})
        app = App(
            directory=directory,
            host=host,
            clock=Clock.from_env(params.get("now")),
            actor=params.get("actor") or default_actor(),
        )
        root.obj = app
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
@click.pass_context
def cli(ctx: click.Context, directory: Path | None, actor: str | None, now: str | None,
        disable_plugin: tuple[str, ...], strict_plugins: bool) -> None:
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
    """List every plugin: builtin and installed, loaded and failed."""
    infos = app.host.plugin_infos()
    if as_json:
        click.echo(json.dumps([i.as_json() for i in infos], indent=2, ensure_ascii=False))
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
@click.option("--language", type=click.Choice(["en", "zh"]), default="en", show_default=True)
@click.pass_obj
def new_command(app: App, target: Path, profile: str, language: str) -> None:
    """Start a cycle: a workspace folder with a commented rfp.toml from a profile."""
    from rfpflow.workspace import create_workspace

    path = create_workspace(target, app.host, profile=profile, language=language)
    click.echo(f"Created {path}/rfp.toml from profile {profile!r} ({language}).")
    click.echo(f"Next: edit it, then `rfpflow -C {target} validate` and `rfpflow -C {target} issue`.")


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> Any:
    """Run the CLI: user errors print a message and exit 2, never a traceback."""
    try:
        return cli.main(args=argv, prog_name="rfpflow", standalone_mode=False)
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
