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
    assert "Sensitivity: no single weight change within ±50% changes the winner" in ranked
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
    assert ("Standstill period ends at the end of 2027-04-22; from 2027-04-23T00:00:00+08:00 (Asia/Shanghai): "
            "rfpflow award confirm") in award
    refused(rf(ws, "award", "confirm", now=AWARD), "the standstill period runs until the end of 2027-04-22")
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


def _sample_generator():
    import importlib.util

    spec = importlib.util.spec_from_file_location("flagship_make_sample", FLAGSHIP / "make_sample.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_two_envelopes_keep_prices_sealed_until_the_technical_evaluation_is_done(tmp_path: Path) -> None:
    from rfpflow.spreadsheets.samples import fill_bid_workbook

    sample = _sample_generator()
    ws = tmp_path / "ws"
    (ws / "bids").mkdir(parents=True)
    text = (FLAGSHIP / "rfp.toml").read_text(encoding="utf-8").replace(
        "budget_ceiling = 4_200_000", "budget_ceiling = 4_200_000\ntwo_envelope = true")
    (ws / "rfp.toml").write_text(text, encoding="utf-8")
    shutil.copy(FLAGSHIP / "registry.json", ws / "registry.json")
    ok(rf(ws, "issue", now=ISSUE))
    blank = ws / "out" / "CSO-2027-001-bid-response.xlsx"
    for vendor, data in sample.VENDORS.items():  # the vendors answer on this RFP's own workbook
        fill_bid_workbook(blank, ws / "bids" / f"{vendor}.xlsx", {k: v for k, v in data.items() if k != "registry"})
    ok(rf(ws, "bids", "import", "bids", now=BIDS))
    ok(rf(ws, "close"))
    screen = ok(rf(ws, "screen")).stdout
    assert "abnormally_low" not in screen and "2,090,000" not in screen  # price gates wait for the envelopes
    assert "lianjie                  PASS" in screen
    ok(rf(ws, "screen", "resolve", "zhongli", "labour-dispatch", "--decision", "fail", "--reason", "dispatch"))
    sheets = [Path(line.strip()) for line in ok(rf(ws, "evaluate", "sheets")).stdout.splitlines()
              if line.strip().endswith(".xlsx")]
    cycle = json.loads(ok(rf(ws, "export", "json")).stdout and (ws / "out" / "CSO-2027-001.json").read_text())
    assert cycle["cycle"]["prices_sealed"] is True
    assert all(v["total_price"] is None for v in cycle["cycle"]["vendors"])
    refused(rf(ws, "evaluate", "open-prices"), "the technical evaluation is not complete; missing scores")
    refused(rf(ws, "evaluate", "rank"), "prices are still sealed")
    for index, path in enumerate(sorted(sheets)):
        sample._fill_score_sheet(ws / path if not path.is_absolute() else path, index, f"E{index + 1}")
    ok(rf(ws, "evaluate", "import", *[str(ws / p) for p in sorted(sheets)]))
    opened = ok(rf(ws, "evaluate", "open-prices")).stdout
    # compared with the other bids still in the running (huaxin, xinrui) only
    assert "lianjie" in opened and "abnormally_low" in opened and "% below the mean" in opened
    refused(rf(ws, "evaluate", "rank"), "price gates need review before ranking: lianjie abnormally_low")
    ok(rf(ws, "screen", "resolve", "lianjie", "abnormally_low", "--decision", "pass", "--reason", "explained"))
    ok(rf(ws, "evaluate", "rank"))
    cycle = json.loads(ok(rf(ws, "export", "json")).stdout and (ws / "out" / "CSO-2027-001.json").read_text())
    assert cycle["cycle"]["prices_sealed"] is False
    assert {v["id"]: v["total_price"] for v in cycle["cycle"]["vendors"]}["lianjie"] == "2090000.00"

