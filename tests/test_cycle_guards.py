"""The later stages through the real CLI, command by command, with their guards.

The flagship sample's inputs (real bid workbooks, score sheets and trial
data) are copied into a workspace and driven the way a procurement officer
would, with a simulated clock.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from .conftest import run_cli

FLAGSHIP = Path(__file__).resolve().parent.parent / "samples" / "customer-service-outsourcing"
ISSUE, BIDS, CLOSE = "2027-01-04T09:00:00+08:00", "2027-01-28T10:00:00+08:00", "2027-01-30T09:00:00+08:00"
TRIAL_END, AWARD = "2027-04-05T09:00:00+08:00", "2027-04-12T10:00:00+08:00"
AFTER_STANDSTILL = "2027-04-23T10:00:00+08:00"


@pytest.fixture(scope="module")
def screened(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with the flagship's bids imported and screened (not yet settled)."""
    ws = tmp_path_factory.mktemp("cycle") / "ws"
    ws.mkdir()
    for name in ("rfp.toml", "registry.json"):
        shutil.copy(FLAGSHIP / name, ws / name)
    for folder in ("bids", "evaluations", "trial"):
        shutil.copytree(FLAGSHIP / folder, ws / folder)
    for args, now in ((("issue",), ISSUE), (("bids", "import", "bids"), BIDS), (("close",), CLOSE),
                      (("screen",), CLOSE)):
        result = rf(ws, *args, now=now)
        assert result.returncode == 0, result.stdout + result.stderr
    return ws


def rf(ws: Path, *args: str, now: str = CLOSE):
    return run_cli("-C", str(ws), "--now", now, "--actor", "li.wei", *args)


def refused(result, fragment: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert fragment in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def ok(result):
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def copy_of(ws: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(ws, target)
    return target


def settle(ws: Path) -> None:
    ok(rf(ws, "screen", "resolve", "lianjie", "abnormally_low", "--decision", "pass", "--reason", "explained"))
    ok(rf(ws, "screen", "resolve", "zhongli", "labour-dispatch", "--decision", "fail", "--reason", "dispatch"))


def test_evaluation_waits_for_every_review_to_be_settled(screened: Path, tmp_path: Path) -> None:
    ws = copy_of(screened, tmp_path)
    refused(rf(ws, "evaluate", "sheets"), "screening outcomes still need review before evaluation: "
            "lianjie abnormally_low, zhongli labour-dispatch")
    settle(ws)
    sheets = ok(rf(ws, "evaluate", "sheets")).stdout
    assert sheets.count(".xlsx") == 3
    assert "rfpflow evaluate import" in json.loads(ok(rf(ws, "status", "--json")).stdout)["next"]


def test_scores_for_a_screened_out_vendor_are_refused(screened: Path, tmp_path: Path) -> None:
    ws = copy_of(screened, tmp_path)
    ok(rf(ws, "screen", "resolve", "lianjie", "abnormally_low", "--decision", "fail", "--reason", "no answer"))
    ok(rf(ws, "screen", "resolve", "zhongli", "labour-dispatch", "--decision", "fail", "--reason", "dispatch"))
    result = rf(ws, "evaluate", "import", "evaluations")
    refused(result, "scores for vendors that did not pass screening: lianjie")
    assert "0 score sheets imported, 3 refused" in result.stdout


def test_full_cycle_with_award_guards(screened: Path, tmp_path: Path) -> None:
    ws = copy_of(screened, tmp_path)
    settle(ws)
    ok(rf(ws, "evaluate", "sheets"))
    ok(rf(ws, "evaluate", "import", "evaluations"))
    ranked = ok(rf(ws, "evaluate", "rank")).stdout
    assert "outlier: E3 gave xinrui 3 on security (panel median 8, 5 away)" in ranked
    assert "the winner changes if its weight" in ranked
    refused(rf(ws, "award"), "this RFP has a trial run")
    refused(rf(ws, "trial", "import", "trial"), "`rfpflow trial import` is for a cycle that is trial run")
    assert "huaxin, xinrui" in ok(rf(ws, "shortlist")).stdout
    # measurements for a vendor that is not on the shortlist are refused, naming the place
    stray = ws / "stray.csv"
    stray.write_text("date,vendor,kpi,value\n2027-03-30,lianjie,csat,90\n", encoding="utf-8")
    refused(rf(ws, "trial", "import", str(stray), now=TRIAL_END),
            "stray.csv:2: vendor 'lianjie' is not on the shortlist")
    ok(rf(ws, "trial", "import", "trial", now=TRIAL_END))
    verdicts = ok(rf(ws, "trial", "evaluate", now=TRIAL_END)).stdout
    assert "huaxin" in verdicts and "PASSED" in verdicts
    refused(rf(ws, "award", "--vendor", "anxun", now=AWARD), "anxun cannot be awarded: it did not pass screening")
    refused(rf(ws, "award", "--vendor", "lianjie", now=AWARD),
            "lianjie cannot be awarded: it was not shortlisted for the trial run")
    refused(rf(ws, "award", "--vendor", "huaxin", now=AWARD), "departs from the ranking (top: xinrui)")
    award = ok(rf(ws, "award", "--vendor", "huaxin", "--justification", "continuity of service during peak season",
                  now=AWARD)).stdout
    assert "Recommended: 上海华信客户服务有限公司 (huaxin)" in award
    assert "Standstill period ends 2027-04-22" in award
    refused(rf(ws, "award", "confirm", now=AWARD), "the standstill period ends on 2027-04-22")
    ok(rf(ws, "award", "confirm", now=AFTER_STANDSTILL))
    log = json.loads(ok(rf(ws, "log", "--json")).stdout)
    recommended = next(e for e in log if e["kind"] == "award.recommended")
    assert recommended["data"]["follows_ranking"] is False
    assert recommended["data"]["justification"] == "continuity of service during peak season"
    assert ok(rf(ws, "audit", "verify")).stdout.startswith("audit chain intact")
    assert json.loads(ok(rf(ws, "status", "--json")).stdout)["stage"] == "awarded"


def test_a_trial_failure_makes_a_vendor_ineligible(screened: Path, tmp_path: Path) -> None:
    ws = copy_of(screened, tmp_path)
    settle(ws)
    for args in (("evaluate", "sheets"), ("evaluate", "import", "evaluations"), ("evaluate", "rank"), ("shortlist",)):
        ok(rf(ws, *args))
    bad = ws / "trial" / "kpi-daily.csv"
    rows = bad.read_text(encoding="utf-8").splitlines()
    # xinrui's service level collapses in the final two weeks: a must-have KPI missed
    rows = [r if not (",xinrui,service_level," in r and r[:10] >= "2027-03-22") else
            r.rsplit(",", 1)[0] + ",60.0" for r in rows]
    bad.write_text("\n".join(rows) + "\n", encoding="utf-8")
    ok(rf(ws, "trial", "import", "trial", now=TRIAL_END))
    assert "FAILED" in ok(rf(ws, "trial", "evaluate", now=TRIAL_END)).stdout
    refused(rf(ws, "award", "--vendor", "xinrui", "--justification", "x", now=AWARD),
            "xinrui cannot be awarded: it did not pass the trial run")
    assert "Recommended: 上海华信客户服务有限公司 (huaxin)" in ok(rf(ws, "award", now=AWARD)).stdout
