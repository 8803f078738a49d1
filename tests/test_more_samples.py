"""The four further sample cycles run end to end with plain rfpflow, tell their stories, and are reproducible.

No profile plugin is installed in the main suite: rfpflow warns that the profile is
missing and runs its own rules. The profile-specific outcomes (documents, the cn-gov
and worldbank award rules) are tested in each plugin's ``tests/test_sample_run.py``.
"""

from __future__ import annotations

import filecmp
import importlib.util
import json
import math
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from .conftest import run_cli

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
RFP_IDS = {
    "it-operations-outsourcing": "ITO-2027-014",
    "cn-gov-services": "JZCG-2027-0412",
    "eu-meat-services": "ALD-2027-031",
    "worldbank-consultants": "WB-P512345-CS-QCBS-07",
}
#: The folders and files make_sample.py writes (everything else in a sample is written by hand).
GENERATED = ("bids", "evaluations", "trial", "registry.json", "decisions.toml")

Run = Callable[[str], tuple[Path, subprocess.CompletedProcess[str]]]
#: The sample that is run twice, to compare the two runs byte for byte (one is enough, and keeps the suite fast).
TWICE = "it-operations-outsourcing"


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """``rfpflow run samples/NAME`` for every sample (and ``TWICE`` once more as ``NAME/again``), side by side.

    Each run is its own subprocess (:func:`run_cli`), so they run in parallel; the fixture
    returns the workspace and the finished process by name.
    """
    root = tmp_path_factory.mktemp("runs")
    jobs = {name: (SAMPLES / name, root / name) for name in RFP_IDS}
    jobs[f"{TWICE}/again"] = (SAMPLES / TWICE, root / "again" / TWICE)
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = {key: pool.submit(run_cli, "run", str(sample), "--out", str(out))
                   for key, (sample, out) in jobs.items()}
        done = {key: (jobs[key][1], future.result()) for key, future in futures.items()}
    return done.__getitem__


def _view(sample_run: Run, name: str) -> dict[str, Any]:
    """The finished cycle as its JSON export records it."""
    workspace, result = sample_run(name)
    assert result.returncode == 0, result.stdout + result.stderr
    exported = json.loads((workspace / "out" / f"{RFP_IDS[name]}.json").read_text(encoding="utf-8"))
    assert exported["rfpflow_export_version"] == 1
    return exported["cycle"]


def _gates(view: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(v["id"], g["gate"]): g for v in view["vendors"] for g in v["gates"]}


def _screening(view: dict[str, Any]) -> dict[str, str]:
    return {v["id"]: v["screening"] for v in view["vendors"]}


@pytest.mark.parametrize("name", sorted(RFP_IDS))
def test_each_sample_runs_to_the_award_with_plain_rfpflow(sample_run: Run, name: str) -> None:
    workspace, result = sample_run(name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Awarded" in result.stdout
    view = _view(sample_run, name)
    assert view["stage"] == "awarded" and view["rfp"]["id"] == RFP_IDS[name]
    for document in ("screening-report.html", "evaluation-report.html", "award-recommendation.html",
                     "audit-appendix.html", "audit-appendix.md"):
        assert (workspace / "out" / document).is_file(), document
    assert not (SAMPLES / name / ".rfpflow").exists() and not (SAMPLES / name / "out").exists()


def test_it_operations_a_trial_incident_decides_the_award(sample_run: Run) -> None:
    view = _view(sample_run, "it-operations-outsourcing")
    assert view["rfp"]["profile"] == "outsourcing-5d" and view["rfp"]["language"] == "en"
    assert _screening(view) == {"harbor": "pass", "kestrel": "pass", "lumen": "fail", "northbridge": "pass"}
    gates = _gates(view)
    assert gates[("lumen", "security_cert")]["outcome"] == "fail"
    assert "none of ISO 27001, SOC 2 Type II declared" in gates[("lumen", "security_cert")]["reason"]
    assert "SOC 2 Type II declared" in gates[("harbor", "security_cert")]["reason"]
    assert all(g["outcome"] == "pass" for (_, gate), g in gates.items() if gate.startswith("registry."))

    totals = view["evaluation"]["totals"]
    assert [t["vendor"] for t in totals] == ["northbridge", "kestrel", "harbor"]
    assert [round(t["total"], 2) for t in totals] == [83.2, 80.7, 59.1]
    assert view["shortlist"] == ["northbridge", "kestrel"]  # harbor is below 70

    results = {r["vendor"]: r for r in view["trial"]["results"]}
    assert {v: r["passed"] for v, r in results.items()} == {"northbridge": True, "kestrel": False}
    kestrel = {k["kpi"]: k for k in results["kestrel"]["kpis"]}
    assert kestrel["sev1_security_incidents"]["value"] == 1 and not kestrel["sev1_security_incidents"]["met"]
    assert all(k["met"] for kpi, k in kestrel.items() if kpi != "sev1_security_incidents")
    northbridge = {k["kpi"]: k for k in results["northbridge"]["kpis"]}
    assert northbridge["availability"]["value"] >= 99.9  # the week-2 outage lies outside the 14-day window
    assert any("last 14 days" in note for note in results["northbridge"]["notes"])

    award = view["award"]
    assert award["vendor"] == "northbridge" and award["follows_ranking"] is True
    assert [r["vendor"] for r in award["ranking"]] == ["northbridge"]  # kestrel failed the trial
    assert award["standstill_ends"] is None
    workspace, _ = sample_run("it-operations-outsourcing")
    assert (workspace / "out" / "trial-report.html").is_file()
    assert len(list((workspace / "out").glob("regret-letter-*.html"))) == 3


def test_cn_gov_a_credit_listing_fails_review_and_three_valid_bids_remain(sample_run: Run) -> None:
    view = _view(sample_run, "cn-gov-services")
    rfp = view["rfp"]
    assert rfp["profile"] == "cn-gov-87" and rfp["language"] == "zh" and view["trial"] is None
    assert len(rfp["evaluators"]) == 5 and sum(e["role"] == "expert" for e in rfp["evaluators"]) == 4
    assert _screening(view) == {"hengxin": "fail", "huadang": "pass", "jinshi": "pass", "mingyuan": "pass"}
    gates = _gates(view)
    listing = gates[("hengxin", "registry.dishonesty")]
    assert listing["outcome"] == "fail" and "2026-09-14" in listing["reason"]
    assert gates[("hengxin", "qualification")]["outcome"] == "pass"  # it declared itself not listed
    assert all(g["outcome"] == "pass" for (_, gate), g in gates.items() if gate == "uscc")

    totals = view["evaluation"]["totals"]
    assert [t["vendor"] for t in totals] == ["huadang", "mingyuan", "jinshi"]
    assert [round(t["total"], 2) for t in totals] == [86.23, 83.16, 73.52]
    price = {t["vendor"]: t["breakdown"]["price"] for t in totals}
    assert price["mingyuan"] == 30.0  # the lowest valid price is the benchmark (评标基准价)
    assert math.isclose(price["huadang"], 30 * 2_340_000 / 2_680_000, abs_tol=1e-5)
    award = view["award"]
    assert award["vendor"] == "huadang" and award["follows_ranking"] is True
    assert len(award["ranking"]) == 3


def test_eu_meat_exclusion_abnormally_low_review_and_standstill(sample_run: Run) -> None:
    view = _view(sample_run, "eu-meat-services")
    assert view["rfp"]["profile"] == "eu-meat" and view["rfp"]["standstill_days"] == 10
    assert _screening(view) == {"brightdesk": "fail", "castellan": "fail", "helix": "pass", "nordserv": "pass",
                                "valdesk": "pass"}
    gates = _gates(view)
    exclusion = gates[("castellan", "exclusion")]
    assert exclusion["outcome"] == "fail" and exclusion["resolution"]["decision"] == "fail"
    assert "EX-4 answered 'No'" in exclusion["reason"] and "57(6)" in exclusion["resolution"]["reason"]
    low = gates[("valdesk", "abnormally_low")]
    assert low["outcome"] == "pass" and low["resolution"]["decision"] == "pass"
    assert "29.8% below the mean of the other bids" in low["reason"]
    assert "650,000" in gates[("brightdesk", "turnover")]["reason"]

    totals = view["evaluation"]["totals"]
    assert [t["vendor"] for t in totals] == ["nordserv", "helix", "valdesk"]
    assert totals[2]["breakdown"]["price"] == 40.0  # full price points do not make up for the quality
    award = view["award"]
    assert award["vendor"] == "nordserv" and award["standstill_ends"] == "2027-07-01"
    workspace, _ = sample_run("eu-meat-services")
    letter = (workspace / "out" / "regret-letter-Helix-Workplace-Services-GmbH.md").read_text(encoding="utf-8")
    assert "standstill period on 1 July 2027" in letter


def test_worldbank_award_by_combined_score_among_qualified_proposals(sample_run: Run) -> None:
    view = _view(sample_run, "worldbank-consultants")
    assert view["rfp"]["profile"] == "worldbank-qcbs" and view["rfp"]["two_envelope"] is True
    assert view["prices_sealed"] is False  # opened once the technical evaluation was complete
    assert set(_screening(view).values()) == {"pass"}
    st = {t["vendor"]: t["total"] for t in view["evaluation"]["totals"]}
    assert {v: round(s, 2) for v, s in st.items()} == {"aquaconsult": 85.83, "meridian": 82.33,
                                                       "deltaflow": 81.5, "sahel": 69.17}
    assert [v for v, s in st.items() if s < 75] == ["sahel"]

    award = view["award"]
    assert award["vendor"] == "deltaflow" and award["follows_ranking"] is True
    assert award["standstill_ends"] == "2027-11-22"
    ranking = {r["vendor"]: r for r in award["ranking"]}
    assert [r["vendor"] for r in award["ranking"]] == ["deltaflow", "aquaconsult", "meridian", "sahel"]
    prices = {v["id"]: float(v["total_price"]) for v in view["vendors"]}
    lowest = min(p for v, p in prices.items() if st[v] >= 75)
    for vendor, row in ranking.items():
        assert math.isclose(row["evaluation"], st[vendor], abs_tol=1e-5)
        if st[vendor] >= 75:  # S = 0.8 St + 0.2 Sf, Sf = 100 x lowest qualified price / price
            assert math.isclose(row["price_score"], 100 * lowest / prices[vendor], abs_tol=1e-5)
            assert math.isclose(row["total"], 0.8 * st[vendor] + 0.2 * row["price_score"], abs_tol=1e-5)
    assert round(ranking["deltaflow"]["total"], 2) == 85.2 and round(ranking["aquaconsult"]["total"], 2) == 84.61


def test_two_runs_give_byte_identical_documents_and_exports(sample_run: Run) -> None:
    (first, _), (second, again) = sample_run(TWICE), sample_run(f"{TWICE}/again")
    assert again.returncode == 0, again.stderr
    compared = filecmp.dircmp(first / "out", second / "out")
    assert not compared.left_only and not compared.right_only
    _, mismatch, errors = filecmp.cmpfiles(first / "out", second / "out", compared.common_files, shallow=False)
    assert mismatch == [] and errors == []


@pytest.mark.parametrize("name", sorted(RFP_IDS))
def test_regenerating_the_sample_gives_the_committed_files(name: str, tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(f"make_sample_{name.replace('-', '_')}",
                                                  SAMPLES / name / "make_sample.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    generated = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(SAMPLES / name) for p in (SAMPLES / name).rglob("*")
                       if p.is_file() and p.relative_to(SAMPLES / name).parts[0] in GENERATED)
    assert generated == committed, "make_sample.py writes other files than the sample holds"
    for relative in generated:
        assert (SAMPLES / name / relative).read_bytes() == (tmp_path / relative).read_bytes(), \
            f"{name}/{relative} differs from a fresh generation"
