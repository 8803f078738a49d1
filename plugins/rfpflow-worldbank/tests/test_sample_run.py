"""The repository's QCBS sample runs with rfpflow-worldbank installed.

``samples/worldbank-consultants``: four consulting firms, two envelopes, one below the minimum
technical score of 75; the award goes to the highest S = 0.8 St + 0.2 Sf among the others, and
every firm gets a Notification of Intention to Award. The samples live in the repository, not in
the plugin's sdist, so these tests skip when the folder is missing.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rfpflow_worldbank.qcbs import qcbs

SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "worldbank-consultants"
RFP_ID = "WB-P512345-CS-QCBS-07"
FIRMS = {"aquaconsult": "AquaConsult-Engineers-GmbH", "deltaflow": "Deltaflow-Infrastructure-Consultants-Ltd",
         "meridian": "Meridian-Water-Partners-LLP", "sahel": "Sahel-Hydro-Conseil-SARL"}

pytestmark = pytest.mark.skipif(not SAMPLE.is_dir(), reason=f"the repository's samples folder is not here "
                                                            f"({SAMPLE.parent}): an sdist of the plugin has no samples")


def _rfpflow(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m rfpflow ARGS`` with the installed plugins, as a user runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RFPFLOW_")}
    env["NO_COLOR"] = "1"
    return subprocess.run([sys.executable, "-m", "rfpflow", *args], env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "worldbank-consultants"
    result = _rfpflow("run", str(SAMPLE), "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def _view(workspace: Path) -> dict[str, Any]:
    return json.loads((workspace / "out" / f"{RFP_ID}.json").read_text(encoding="utf-8"))["cycle"]


def test_the_sample_passes_the_qcbs_checks(workspace: Path) -> None:
    result = _rfpflow("-C", str(workspace), "validate")
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr  # two envelopes, T = 0.8, minimum 75, 14-day standstill
    view = _view(workspace)
    assert view["rfp"]["two_envelope"] is True and view["rfp"]["standstill_days"] == 14


def test_the_award_goes_to_the_highest_s_among_the_qualified_proposals(workspace: Path) -> None:
    view = _view(workspace)
    firms = [t["vendor"] for t in view["evaluation"]["totals"]]
    technical = [t["total"] for t in view["evaluation"]["totals"]]
    prices = {v["id"]: float(v["total_price"]) for v in view["vendors"]}
    result = qcbs(technical, [prices[f] for f in firms], technical_weight=0.8, minimum_technical=75)
    assert dict(zip(firms, result.qualified, strict=True)) == {"aquaconsult": True, "meridian": True,
                                                              "deltaflow": True, "sahel": False}
    assert result.winner is not None and firms[result.winner] == "deltaflow"

    award = view["award"]
    assert award["vendor"] == "deltaflow" and award["follows_ranking"] is True  # no departure needed
    ranking = {r["vendor"]: r for r in award["ranking"]}
    for firm, score, sf in zip(firms, result.scores, result.financial, strict=True):
        if score is not None:  # rfpflow's award score is the QCBS S for every qualified proposal
            assert math.isclose(ranking[firm]["total"], score, abs_tol=1e-5)
            assert math.isclose(ranking[firm]["price_score"], sf or 0.0, abs_tol=1e-5)
    assert round(ranking["deltaflow"]["total"], 2) == 85.2
    assert round(ranking["aquaconsult"]["total"], 2) == 84.61  # the best St does not win
    assert award["standstill_ends"] == "2027-11-22"  # 2027-11-08 + 14 calendar days


def test_every_consultant_gets_a_notification_of_intention_to_award(workspace: Path) -> None:
    out = workspace / "out"
    for firm, stem in FIRMS.items():
        html = out / f"notification-of-intention-to-award-{stem}.html"
        text = (out / f"notification-of-intention-to-award-{stem}.md").read_text(encoding="utf-8")
        assert html.is_file(), firm
        assert text.startswith("# Notification of Intention to Award")
        assert "to **Deltaflow Infrastructure Consultants Ltd** for USD 1,100,000.00" in text
        assert "| 1 | Deltaflow Infrastructure Consultants Ltd | 81.50 | 100.00 | 85.20 |" in text
        assert "| 2 | AquaConsult Engineers GmbH | 85.83 | 79.71 | 84.61 |" in text
        assert "Standstill period: 10 Business Days, ending on 22 November 2027" in text
    meridian = (out / f"notification-of-intention-to-award-{FIRMS['meridian']}.md").read_text(encoding="utf-8")
    assert "Your proposal ranked 3 of 4 with S = 83.61; the successful proposal scored 85.20." in meridian
