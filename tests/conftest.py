"""Shared test helpers: run the real CLI, and install real plugin distributions on disk."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

# `tox -e slow` sets HYPOTHESIS_PROFILE=slow: many more examples, no deadline.
settings.register_profile("slow", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("default", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

SRC = Path(__file__).resolve().parent.parent / "src"


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RFPFLOW_")}
    env["NO_COLOR"] = "1"
    env.update(extra or {})
    return env


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            pythonpath: list[Path] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m rfpflow ARGS`` in a subprocess, as a user would."""
    environment = clean_env(env)
    if pythonpath:
        environment["PYTHONPATH"] = os.pathsep.join(str(p) for p in pythonpath)
    return subprocess.run([sys.executable, "-m", "rfpflow", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    return run_cli


def write_distribution(site: Path, dist: str, version: str, modules: dict[str, str],
                       entry_points: dict[str, str]) -> None:
    """Install a plugin distribution into ``site`` the way pip lays it out: modules + dist-info.

    ``importlib.metadata`` finds it through ``sys.path``, exactly as it finds a pip-installed one.
    """
    site.mkdir(parents=True, exist_ok=True)
    for name, source in modules.items():
        (site / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8")
    lines = ["[rfpflow]", *(f"{name} = {target}" for name, target in entry_points.items())]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (info / "RECORD").write_text("", encoding="utf-8")


@pytest.fixture
def plugin_site(tmp_path: Path) -> Callable[..., Path]:
    site = tmp_path / "site"

    def install(dist: str, modules: dict[str, str], entry_points: dict[str, str], version: str = "1.0") -> Path:
        write_distribution(site, dist, version, modules, entry_points)
        return site

    return install


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A fresh workspace made by `rfpflow new` from the builtin generic profile."""
    result = run_cli("new", str(tmp_path / "ws"))
    assert result.returncode == 0, result.stderr
    return tmp_path / "ws"


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pids of the processes this test forks (through ``os.fork``), as they are made."""
    made: list[int] = []
    fork = os.fork

    def counted() -> int:
        pid = fork()
        if pid:
            made.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", counted)
    return made


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Any]:
    """A throwaway PostgreSQL cluster for the whole run (tests/pgcluster.py), or a visible skip."""
    from tests.pgcluster import cluster, server_bin

    if server_bin() is None:
        pytest.skip("PostgreSQL runs skipped: no server binaries (/usr/lib/postgresql/*/bin/initdb); "
                    "apt-get install postgresql")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("PostgreSQL runs skipped: psycopg is not installed (pip install 'rfpflow[postgresql]')")
    with cluster() as made:
        yield made


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """The environment that puts new cycles in each backend: none for SQLite (the default),
    ``RFPFLOW_STORE`` for the throwaway PostgreSQL cluster."""
    if request.param == "sqlite":
        return {}
    return {"RFPFLOW_STORE": request.getfixturevalue("pg_cluster").url()}
