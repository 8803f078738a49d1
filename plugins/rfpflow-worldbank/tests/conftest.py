"""Shared data for the rfpflow-worldbank tests: a cycle view at the award recommendation, and the CLI."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import rfpflow_worldbank

_VIEW: dict[str, Any] = {
    "schema": 1,
    "rfp": {"id": "WB-CS-01", "title": "Design and supervision consultancy", "buyer": "Example Ministry of Water",
            "category": "KPO", "currency": "USD", "language": "en", "profile": "worldbank-qcbs",
            "two_envelope": True, "standstill_days": 14, "timeline": {"decision_date": "2027-05-10"}},
    "stage": "award-recommended",
    "chain_head": "d" * 64,
    "event_count": 40,
    "as_of": "2027-05-10T09:00:00+00:00",
    "vendors": [
        {"id": "alpha", "name": "Alpha Engineering", "total_price": "1200000.00", "screening": "pass", "gates": []},
        {"id": "beta", "name": "Beta <Consult>", "total_price": "1000000.00", "screening": "pass", "gates": []},
        {"id": "gamma", "name": "Gamma Partners", "total_price": "900000.00", "screening": "fail",
         "gates": [{"gate": "declarations", "name": "Eligibility, no conflict of interest, not debarred",
                    "outcome": "fail", "reason": "COI answered 'No', 'Yes' required", "evidence": []}]},
    ],
    "evaluation": {"method": "weighted-sum", "totals": [
        {"vendor": "alpha", "rank": 1, "total": 90.0, "price": "1200000.00", "breakdown": {}, "dimensions": {}},
        {"vendor": "beta", "rank": 2, "total": 80.0, "price": "1000000.00", "breakdown": {}, "dimensions": {}},
    ]},
    "award": {"vendor": "alpha", "vendor_name": "Alpha Engineering", "standstill_ends": "2027-05-24",
              "ranking": [
                  {"vendor": "alpha", "rank": 1, "total": 88.67, "evaluation": 90.0, "price_score": 83.33},
                  {"vendor": "beta", "rank": 2, "total": 84.0, "evaluation": 80.0, "price_score": 100.0}]},
    "events": [],
}


@pytest.fixture
def award_view() -> dict[str, Any]:
    return copy.deepcopy(_VIEW)


@pytest.fixture
def plugin() -> Any:
    return rfpflow_worldbank


@pytest.fixture
def rfpflow_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RFPFLOW_")}
        return subprocess.run([sys.executable, "-m", "rfpflow", *args], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=120)

    return run
