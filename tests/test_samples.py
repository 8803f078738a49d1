"""The sample cycles run end to end, tell their stories, and are reproducible."""

from __future__ import annotations

import filecmp
import importlib.util
import json
from pathlib import Path

import pytest

from .conftest import run_cli

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
FLAGSHIP = SAMPLES / "customer-service-outsourcing"


@pytest.fixture(scope="module")
def flagship_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("runs") / "flagship"
    result = run_cli("run", str(FLAGSHIP), "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    return out, result.stdout


def _view(workspace: Path) -> dict:
    """The cycle as the JSON export records it."""
    exported = json.loads((workspace / "out" / "CSO-2027-001.json").read_text(encoding="utf-8"))
    assert exported["rfpflow_export_version"] == 1
    return exported["cycle"]


def test_flagship_screening_tells_each_vendors_story(flagship_run) -> None:
    workspace, stdout = flagship_run
    vendors = {v["id"]: v for v in _view(workspace)["vendors"]}
    outcome = {vendor: v["screening"] for vendor, v in vendors.items()}
    assert outcome == {"anxun": "fail", "huaxin": "pass", "lianjie": "pass", "xinrui": "pass",
                       "yuanjing": "fail", "zhongli": "fail"}
    gates = {(vendor, g["gate"]): g for vendor, v in vendors.items() for g in v["gates"]}
    assert "expires 2027-03-31, before 2027-05-01" in gates[("anxun", "infosec")]["reason"]
    assert gates[("yuanjing", "registry.penalties")]["outcome"] == "fail"
    assert "2025-08-19" in gates[("yuanjing", "registry.penalties")]["reason"]
    dispatch = gates[("zhongli", "labour-dispatch")]
    assert dispatch["resolution"]["decision"] == "fail" and "人月" in dispatch["reason"]
    low = gates[("lianjie", "abnormally_low")]
    assert low["outcome"] == "pass" and low["resolution"]["decision"] == "pass"
    assert "below the mean of the other bids" in low["reason"]
    assert "Screening    2 pass, 2 need review, 2 fail" in stdout


def test_flagship_evaluation_outlier_shortlist_trial_and_award(flagship_run) -> None:
    workspace, stdout = flagship_run
    view = _view(workspace)
    evaluation = view["evaluation"]
    assert [t["vendor"] for t in evaluation["totals"]] == ["huaxin", "xinrui", "lianjie"]
    assert [(o["evaluator"], o["vendor"], o["criterion"], o["score"], o["median"]) for o in evaluation["outliers"]] \
        == [("E3", "xinrui", "security", 3.0, 8.0)]
    assert view["shortlist"] == ["huaxin", "xinrui"]
    verdicts = {r["vendor"]: r["passed"] for r in view["trial"]["results"]}
    assert verdicts == {"huaxin": True, "xinrui": True}
    award = view["award"]
    # the trial run (and price) overturn the order evaluation alone gave
    assert award["vendor"] == "xinrui" and award["follows_ranking"] is True
    assert [r["vendor"] for r in award["ranking"]] == ["xinrui", "huaxin"]
    assert view["stage"] == "awarded"
    assert "Award        recommended 成都新锐智能客服有限公司 (xinrui)" in stdout
    for document in ("screening-report.html", "evaluation-report.html", "trial-report.html",
                     "award-recommendation.html", "audit-appendix.html"):
        assert (workspace / "out" / document).is_file()
    letters = sorted(p.name for p in (workspace / "out").glob("regret-letter-*.html"))
    assert len(letters) == 5
    assert run_cli("-C", str(workspace), "audit", "verify").returncode == 0


def test_two_runs_give_byte_identical_documents_and_exports(flagship_run, tmp_path: Path) -> None:
    first, _ = flagship_run
    second = tmp_path / "again"
    assert run_cli("run", str(FLAGSHIP), "--out", str(second)).returncode == 0
    compared = filecmp.dircmp(first / "out", second / "out")
    assert not compared.left_only and not compared.right_only
    _, mismatch, errors = filecmp.cmpfiles(first / "out", second / "out", compared.common_files, shallow=False)
    assert mismatch == [] and errors == []


def test_the_sample_folder_is_never_touched(flagship_run) -> None:
    assert not (FLAGSHIP / ".rfpflow").exists()
    assert not (FLAGSHIP / "out").exists()


def test_regenerating_the_sample_gives_the_committed_files(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_sample", FLAGSHIP / "make_sample.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    for generated in sorted(p for p in tmp_path.rglob("*") if p.is_file()):
        committed = FLAGSHIP / generated.relative_to(tmp_path)
        assert committed.read_bytes() == generated.read_bytes(), f"{committed} differs from a fresh generation"


def test_run_refuses_a_folder_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    result = run_cli("run", str(FLAGSHIP), "--out", str(tmp_path / "mine"))
    assert result.returncode == 2
    assert "was not made by `rfpflow run`" in result.stderr
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
