"""The command line as a user meets it: version, help, start-up cost, new workspaces."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from rfpflow import __version__

from .conftest import clean_env


def test_version(cli) -> None:
    result = cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"rfpflow {__version__} (hook API 1.2)"


def test_help_lists_commands_without_importing_openpyxl_or_jinja2() -> None:
    probe = (
        "import sys\n"
        "from rfpflow.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('HEAVY', sorted(m for m in ('openpyxl', 'jinja2') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=clean_env())
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr
    for command in ("new", "plugins", "validate"):
        assert command in result.stdout


def test_new_refuses_to_overwrite_and_unknown_profiles(cli, tmp_path: Path) -> None:
    assert cli("new", str(tmp_path / "a")).returncode == 0
    again = cli("new", str(tmp_path / "a"))
    assert again.returncode == 2
    assert "already exists" in again.stderr
    unknown = cli("new", str(tmp_path / "b"), "--profile", "generik")
    assert unknown.returncode == 2
    assert "no profile 'generik' (did you mean 'generic'?)" in unknown.stderr
    assert not (tmp_path / "b").exists()
    for folder in ("bids", "evaluations", "trial", "templates", "out"):
        assert (tmp_path / "a" / folder).is_dir()


def test_bad_now_is_a_clear_error(cli, workspace: Path) -> None:
    result = cli("--now", "yesterday", "-C", str(workspace), "validate")
    assert result.returncode == 2
    assert "--now: 'yesterday' is not an ISO date-time" in result.stderr
    assert "Traceback" not in result.stderr
