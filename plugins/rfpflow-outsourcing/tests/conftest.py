"""Shared data for the rfpflow-outsourcing tests: a cycle view after screening."""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import rfpflow_outsourcing

_VIEW: dict[str, Any] = {
    "schema": 1,
    "rfp": {
        "id": "RFP-2027-ITO-001", "title": "IT operations outsourcing", "buyer": "Example Manufacturing Ltd.",
        "category": "ITO", "currency": "CNY", "language": "en", "profile": "outsourcing-5d",
        "timeline": {"bid_deadline": "2027-01-29T17:00:00+08:00", "contract_start": "2027-05-01"},
        "gates": [{"id": "iso9001", "kind": "certification", "name": "ISO 9001 quality management", "on_fail": "fail"},
                  {"id": "cmmi", "kind": "cmmi_level", "name": "CMMI level 3 or higher", "on_fail": "fail"}],
    },
    "stage": "screening",
    "chain_head": "ab" * 32,
    "event_count": 9,
    "as_of": "2027-02-02T10:00:00+08:00",
    "vendors": [
        {"id": "acme", "name": "Acme IT <b>Services</b>", "registration_no": "91350100M000100Y43", "country": "CN",
         "source_file": "acme.xlsx", "total_price": "3400000.00", "screening": "review",
         "gates": [
             {"gate": "iso9001", "name": "ISO 9001 quality management", "outcome": "pass",
              "reason": "ISO 9001:2015 declared, valid until 2029-06-30", "evidence": ["acme.xlsx: Certifications!A4"]},
             {"gate": "cmmi", "name": "CMMI level 3 or higher", "outcome": "pass",
              "reason": "CMMI-DEV V2.0 ML3: maturity level 3, 3 required", "evidence": []},
             {"gate": "registry.penalties", "name": "registry.penalties", "outcome": "pass",
              "reason": "no administrative penalty within the 3 years before 2027-05-01",
              "evidence": ["registry.json:4"]},
             {"gate": "labour-dispatch", "name": "labour-dispatch", "outcome": "review",
              "reason": "signs of labour dispatch rather than outsourcing, for legal review: the vendor's answer to "
                        "Q-SLA prices or staffs per head (person-month)", "evidence": ["acme.xlsx: Questionnaire!E4"]},
         ]},
        {"id": "beta", "name": "Beta Ops", "registration_no": "", "country": "SG", "source_file": "beta.xlsx",
         "total_price": "3100000.00", "screening": "fail",
         "gates": [
             {"gate": "cmmi", "name": "CMMI level 3 or higher", "outcome": "fail",
              "reason": "CMMI ML2 is maturity level 2; level 3 or higher required", "evidence": [],
              "resolution": None},
             {"gate": "labour-dispatch", "name": "labour-dispatch", "outcome": "pass",
              "reason": "no sign of labour dispatch", "evidence": []},
         ]},
    ],
}


@pytest.fixture
def screening_view() -> Callable[[str], dict[str, Any]]:
    """A cycle view after screening, in a language."""

    def make(language: str = "en") -> dict[str, Any]:
        view = copy.deepcopy(_VIEW)
        view["rfp"]["language"] = language
        return view

    return make


@pytest.fixture
def plugin() -> Any:
    return rfpflow_outsourcing


def run_rfpflow(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m rfpflow ARGS`` as a user runs it, with the installed plugins."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("RFPFLOW_")}
    return subprocess.run([sys.executable, "-m", "rfpflow", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def rfpflow_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    return run_rfpflow
