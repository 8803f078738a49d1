"""The repository's outsourcing samples run with rfpflow-outsourcing installed.

Both samples made from the ``outsourcing-5d`` profile run: the flagship (Chinese customer-service
hotline) and the IT-operations sample (English). The profile's checks pass, and the plugin's
documents are rendered from each cycle. The samples live in the repository, not in the plugin's
sdist, so these tests skip when the folder is missing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
RFP_IDS = {"customer-service-outsourcing": "CSO-2027-001", "it-operations-outsourcing": "ITO-2027-014"}

pytestmark = pytest.mark.skipif(not (SAMPLES / "it-operations-outsourcing").is_dir(),
                                reason=f"the repository's samples folder is not here ({SAMPLES}): "
                                       "an sdist of the plugin has no samples")


def _rfpflow(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m rfpflow ARGS`` with the installed plugins, as a user runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RFPFLOW_")}
    env["NO_COLOR"] = "1"
    return subprocess.run([sys.executable, "-m", "rfpflow", *args], env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each sample run once: its workspace."""
    done: dict[str, Path] = {}
    for name in RFP_IDS:
        out = tmp_path_factory.mktemp("runs") / name
        result = _rfpflow("run", str(SAMPLES / name), "--out", str(out))
        assert result.returncode == 0, result.stdout + result.stderr
        done[name] = out
    return done


def _view(workspace: Path, name: str) -> dict[str, Any]:
    exported = json.loads((workspace / "out" / f"{RFP_IDS[name]}.json").read_text(encoding="utf-8"))
    return exported["cycle"]


@pytest.mark.parametrize("name", sorted(RFP_IDS))
def test_the_profile_is_installed_and_its_checks_pass(runs: dict[str, Path], name: str) -> None:
    result = _rfpflow("-C", str(runs[name]), "validate")
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr  # in particular no "profile 'outsourcing-5d' is not installed"
    assert _view(runs[name], name)["stage"] == "awarded"


@pytest.mark.parametrize("name", sorted(RFP_IDS))
def test_due_diligence_report_and_dispatch_memo_are_rendered(runs: dict[str, Path], name: str) -> None:
    out = runs[name] / "out"
    for document in ("due-diligence-report", "dispatch-compliance-memo"):
        assert (out / f"{document}.html").is_file() and (out / f"{document}.md").is_file(), document


def test_flagship_documents_tell_the_hotline_story(runs: dict[str, Path]) -> None:
    out = runs["customer-service-outsourcing"] / "out"
    report = (out / "due-diligence-report.html").read_text(encoding="utf-8")
    assert "<h1>尽职调查报告</h1>" in report
    assert "2025-08-19" in report  # 远景's major administrative penalty
    assert "expires 2027-03-31" in report  # 安讯's ISO 27001 certificate ends before the contract starts
    memo = (out / "dispatch-compliance-memo.html").read_text(encoding="utf-8")
    assert "南京众力人力资源有限公司" in memo and "人月" in memo
    assert "第六十六条" in (out / "dispatch-compliance-memo.md").read_text(encoding="utf-8")
    assert _view(runs["customer-service-outsourcing"], "customer-service-outsourcing")["award"]["vendor"] == "xinrui"


def test_it_operations_documents_and_award(runs: dict[str, Path]) -> None:
    workspace = runs["it-operations-outsourcing"]
    report = (workspace / "out" / "due-diligence-report.md").read_text(encoding="utf-8")
    assert report.startswith("# Due-diligence report")
    assert "none of ISO 27001, SOC 2 Type II declared" in report  # Lumen
    assert "SOC 2 Type II declared" in report  # Harbor's accepted alternative
    memo = (workspace / "out" / "dispatch-compliance-memo.md").read_text(encoding="utf-8")
    assert "no sign of labour dispatch" in memo
    view = _view(workspace, "it-operations-outsourcing")
    # operations only ([plugins.outsourcing] software = false): no CMMI gate, so plain rfpflow runs it too
    assert not any(g["kind"] == "cmmi_level" for g in view["rfp"]["gates"])
    assert {r["vendor"]: r["passed"] for r in view["trial"]["results"]} == {"northbridge": True, "kestrel": False}
    assert view["award"]["vendor"] == "northbridge"
