"""`rfpflow plugin new`: a generated plugin installs, passes its own tests and is listed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from rfpflow.builtins import plugin_commands
from rfpflow.errors import RfpflowError
from rfpflow.scaffold import create_plugin, plugin_names
from tests.conftest import clean_env


@pytest.mark.parametrize(("given", "name", "dist", "module"), [
    ("acme", "acme", "rfpflow-acme", "rfpflow_acme"),
    ("acme-rules", "acme-rules", "rfpflow-acme-rules", "rfpflow_acme_rules"),
    ("acme_rules", "acme-rules", "rfpflow-acme-rules", "rfpflow_acme_rules"),
    ("rfpflow-acme", "acme", "rfpflow-acme", "rfpflow_acme"),
])
def test_plugin_names(given: str, name: str, dist: str, module: str) -> None:
    names = plugin_names(given)
    assert (names.name, names.dist, names.module) == (name, dist, module)


@pytest.mark.parametrize("bad", ["", "Acme", "1acme", "acme rules", "acme--rules", "rfpflow", "acme.rules"])
def test_bad_names_are_refused(bad: str) -> None:
    with pytest.raises(RfpflowError, match="not a usable plugin name"):
        plugin_names(bad)


def test_an_existing_folder_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "rfpflow-acme").mkdir()
    (tmp_path / "rfpflow-acme" / "keep.txt").write_text("mine")
    with pytest.raises(RfpflowError, match="already exists"):
        create_plugin("acme", tmp_path)
    assert (tmp_path / "rfpflow-acme" / "keep.txt").read_text() == "mine"


def _plugin_cli() -> click.Group:
    """A command group with the plugin commands registered, as rfpflow's CLI does at start-up."""

    @click.group()
    def cli() -> None:
        """rfpflow's command group, as a plugin sees it."""

    plugin_commands.rfpflow_register_commands(cli)
    return cli


def test_plugin_new_writes_every_kind_of_hook(tmp_path: Path) -> None:
    result = CliRunner().invoke(_plugin_cli(), ["plugin", "new", "acme", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    target = tmp_path / "rfpflow-acme"
    files = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    assert files == ["README.md", "pyproject.toml", "src/rfpflow_acme/__init__.py",
                     "src/rfpflow_acme/templates/rfp.html.j2", "tests/test_rfpflow_acme.py"]
    assert 'acme = "rfpflow_acme"' in (target / "pyproject.toml").read_text()
    module = (target / "src/rfpflow_acme/__init__.py").read_text()
    for hook in ("rfpflow_register_screening_rules", "rfpflow_register_scoring_methods", "rfpflow_template_dirs",
                 "rfpflow_validate_rfp", "rfpflow_after_transition"):
        assert f"def {hook}(" in module
    assert "@@" not in module + (target / "README.md").read_text()
    assert "Next: pip install -e" in result.output


def test_plugin_new_reports_a_bad_name(tmp_path: Path) -> None:
    result = CliRunner().invoke(_plugin_cli(), ["plugin", "new", "Bad Name", "--dir", str(tmp_path)])
    assert result.exit_code != 0
    assert isinstance(result.exception, RfpflowError)


def test_generated_plugin_installs_passes_its_tests_and_is_listed(tmp_path: Path, cli) -> None:
    target = create_plugin("acme-rules", tmp_path / "src")
    site = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
                              str(target)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr
    env = clean_env({"PYTHONPATH": str(site)})
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=target, env=env,
                           capture_output=True, text=True, timeout=300)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "9 passed" in tests.stdout
    listed = cli("plugins", "--json", pythonpath=[site])
    assert listed.returncode == 0, listed.stderr
    plugin = next(p for p in json.loads(listed.stdout) if p["name"] == "acme-rules")
    assert plugin["distribution"] == "rfpflow-acme-rules" and plugin["error"] is None
    assert "rfpflow_register_screening_rules" in plugin["hooks"]
