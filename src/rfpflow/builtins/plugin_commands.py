"""The ``rfpflow plugin`` commands: start an organisation plugin of one's own.

``rfpflow plugin new NAME [--dir DIR]`` writes the distribution ``rfpflow-NAME``
(see :mod:`rfpflow.scaffold`) with one commented example of each kind of hook,
tests using :mod:`rfpflow.testing`, and a README.
"""

from __future__ import annotations

from pathlib import Path

import click

from rfpflow.hookspecs import hookimpl


@click.group("plugin")
def plugin_group() -> None:
    """Write your own plugins (gates, price formulas, templates, rules)."""


@plugin_group.command("new")
@click.argument("name")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="The folder in which the plugin's folder rfpflow-NAME is created.")
def new_plugin_command(name: str, directory: Path) -> None:
    """Create the plugin distribution rfpflow-NAME, ready to install and test."""
    from rfpflow.scaffold import create_plugin

    target = create_plugin(name, directory)
    files = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    click.echo(f"Created {target} ({len(files)} files):")
    for file in files:
        click.echo(f"  {file}")
    click.echo(f"Next: pip install -e {target}, then `pytest` in {target} and `rfpflow plugins` to see it.")


@hookimpl(trylast=True)
def rfpflow_register_commands(cli: click.Group) -> None:
    cli.add_command(plugin_group)
