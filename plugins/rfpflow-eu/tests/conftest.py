"""Shared helpers for the rfpflow-eu tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import rfpflow_eu


@pytest.fixture
def plugin() -> Any:
    return rfpflow_eu


@pytest.fixture
def rfpflow_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RFPFLOW_")}
        return subprocess.run([sys.executable, "-m", "rfpflow", *args], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=120)

    return run
