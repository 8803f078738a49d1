"""The repository's EU MEAT sample runs with rfpflow-eu installed.

``samples/eu-meat-services``: the City of Aldenburg buys a managed service desk on the best
price-quality ratio; one tenderer's exclusion declaration and another's abnormally low price are
settled in decisions.toml; the award is notified electronically and the standstill lasts 10 days.
The samples live in the repository, not in the plugin's sdist, so these tests skip when the folder
is missing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "eu-meat-services"
RFP_ID = "ALD-2027-031"

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
    out = tmp_path_factory.mktemp("runs") / "eu-meat-services"
    result = _rfpflow("run", str(SAMPLE), "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "confirmed on 2027-07-02" in result.stdout  # the day after the standstill period
    return out


def _view(workspace: Path) -> dict[str, Any]:
    return json.loads((workspace / "out" / f"{RFP_ID}.json").read_text(encoding="utf-8"))["cycle"]


def test_the_sample_passes_the_eu_meat_checks(workspace: Path) -> None:
    result = _rfpflow("-C", str(workspace), "validate")
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr  # the profile is installed, and 10 days match electronic notification


def test_the_profile_rule_guards_the_sample_standstill(tmp_path: Path) -> None:
    text = (SAMPLE / "rfp.toml").read_text(encoding="utf-8")
    assert 'notification = "electronic"' in text
    (tmp_path / "rfp.toml").write_text(text.replace('notification = "electronic"', 'notification = "other"'),
                                       encoding="utf-8")
    result = _rfpflow("-C", str(tmp_path), "validate")
    assert result.returncode == 2
    assert "award.standstill_days: is 10 days, but a decision notified by other means needs a standstill of 15 " \
           "days" in result.stderr


def test_exclusion_and_abnormally_low_tender_are_settled_with_reasons(workspace: Path) -> None:
    view = _view(workspace)
    gates = {(v["id"], g["gate"]): g for v in view["vendors"] for g in v["gates"]}
    exclusion = gates[("castellan", "exclusion")]
    assert exclusion["name"] == "Exclusion grounds (Directive 2014/24/EU art. 57)"
    assert exclusion["resolution"]["decision"] == "fail" and "self-cleaning" in exclusion["resolution"]["reason"]
    low = gates[("valdesk", "abnormally_low")]
    assert low["resolution"]["decision"] == "pass" and "art. 69" in low["resolution"]["reason"]
    letter = (workspace / "out" / "regret-letter-Castellan-IT-Solutions-Ltd.md").read_text(encoding="utf-8")
    assert "Exclusion grounds (Directive 2014/24/EU art. 57)" in letter


def test_meat_award_and_standstill_date(workspace: Path) -> None:
    view = _view(workspace)
    totals = {t["vendor"]: t for t in view["evaluation"]["totals"]}
    assert totals["valdesk"]["breakdown"]["price"] == 40.0  # 40 x lowest price / price
    assert round(totals["nordserv"]["breakdown"]["price"], 2) == round(40 * 532_000 / 760_000, 2)
    award = view["award"]
    assert award["vendor"] == "nordserv" and award["standstill_ends"] == "2027-07-01"  # decision 2027-06-21 + 10
    recommendation = (workspace / "out" / "award-recommendation.md").read_text(encoding="utf-8")
    assert "The standstill period ends on 2027-07-01" in recommendation
    letters = sorted((workspace / "out").glob("regret-letter-*.md"))
    assert len(letters) == 4
    for letter in letters:
        assert "until the end of the standstill period on 1 July 2027" in letter.read_text(encoding="utf-8")
    events = _rfpflow("-C", str(workspace), "log", "--json")
    kinds = [e["kind"] for e in json.loads(events.stdout)]
    assert kinds.index("award.recommended") < kinds.index("award.confirmed")
