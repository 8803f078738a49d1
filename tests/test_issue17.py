"""Issue 17: numbers that agree and rules that hold — one clock and one zone, stale results,
screening decisions, letters, sensitivity, missing information, validate, profiles.

Through the real CLI on real workspaces (made by `rfpflow new`), with the JSON bid reader of
test_workflow installed as a real distribution.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import shutil
import zoneinfo
from pathlib import Path

import pytest

from rfpflow.definition import check_rfp
from rfpflow.testing import make_host
from rfpflow.workflow import period_end, standstill_over
from rfpflow.workspace import create_workspace

from .conftest import run_cli
from .test_cycle_guards import AWARD, TRIAL_END, settle
from .test_cycle_guards import copy_of as _copy_of
from .test_cycle_guards import rf as flagship
from .test_cycle_guards import screened as screened  # the module-scoped fixture, shared
from .test_workflow import JSON_BIDS, good_bid, ok, refused, snapshot, write_bid

PLUGINS = Path(__file__).resolve().parent.parent / "plugins"
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture
def site(plugin_site) -> Path:
    return plugin_site("json-bids", {"json_bids": JSON_BIDS}, {"json-bids": "json_bids"})


@pytest.fixture
def rf(site: Path, workspace: Path):
    def run(*args: str, now: str = "2027-01-20T09:00:00+08:00", env: dict[str, str] | None = None):
        return run_cli("-C", str(workspace), "--now", now, "--actor", "tester", *args, pythonpath=[site], env=env)

    return run


def edit(workspace: Path, old: str, new: str) -> None:
    path = workspace / "rfp.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# -- 2. one clock, one zone -------------------------------------------------------------------------


def test_a_deadline_without_offset_is_read_in_the_buyers_zone(rf, workspace: Path) -> None:
    edit(workspace, "bid_deadline = 2027-01-29T17:00:00+08:00", "bid_deadline = 2027-01-29T17:00:00")
    ok(rf("issue", now="2027-01-05T09:00:00+08:00"))
    # 00:30 the next day in Beijing is 16:30 UTC on the deadline day: late, not on time
    late = write_bid(workspace, "acme", good_bid("Acme Services"))
    before = snapshot(workspace)
    refused(rf("bids", "import", str(late), now="2027-01-30T00:30:00+08:00"),
            "the bid deadline passed at 2027-01-29T17:00:00+08:00 (Asia/Shanghai) "
            "(now 2027-01-30T00:30:00+08:00 (Asia/Shanghai))")
    assert snapshot(workspace) == before
    # one second before the deadline is on time, one second after is late
    ok(rf("bids", "import", str(late), now="2027-01-29T09:00:00+00:00"))
    refused(rf("bids", "import", str(late), now="2027-01-29T09:00:01+00:00"), "the bid deadline passed at")
    status = ok(rf("status", now="2027-01-20T00:00:00+00:00", env={"TZ": "UTC"})).stdout
    assert "bids are open until 2027-01-29T17:00:00+08:00 (Asia/Shanghai)" in status
    instructions = next((workspace / "out").glob("*bid-instructions*.md")).read_text(encoding="utf-8")
    assert "| Bid deadline | 2027-01-29 17:00 +08:00 (Asia/Shanghai) |" in instructions


def test_a_deadline_without_offset_or_zone_is_refused_by_validate(rf, workspace: Path) -> None:
    edit(workspace, 'timezone = "Asia/Shanghai"', "")
    edit(workspace, "bid_deadline = 2027-01-29T17:00:00+08:00", "bid_deadline = 2027-01-29T17:00:00")
    result = rf("validate")
    assert result.returncode == 2, result.stdout + result.stderr
    out = result.stdout + result.stderr
    assert ("timeline.bid_deadline: 2027-01-29T17:00:00 has no UTC offset and neither rfp.toml nor its profile "
            "gives the buyer's time zone; add timezone = \"Asia/Shanghai\" (the buyer's IANA zone) at the top "
            "of the file, or write the offset: 2027-01-29T17:00:00+08:00") in out
    assert "Traceback" not in out
    # with an offset, no zone is needed
    edit(workspace, "bid_deadline = 2027-01-29T17:00:00", "bid_deadline = 2027-01-29T17:00:00+08:00")
    ok(rf("validate"))


def test_an_unknown_zone_is_refused_with_a_suggestion(rf, workspace: Path) -> None:
    edit(workspace, 'timezone = "Asia/Shanghai"', 'timezone = "Asia/Shangai"')
    result = rf("validate")
    assert result.returncode == 2
    assert ("timezone: 'Asia/Shangai' is not an IANA time zone (did you mean 'Asia/Shanghai'?)"
            in result.stdout + result.stderr)


def test_the_profile_gives_the_default_zone(monkeypatch, tmp_path: Path, rfpflow_context) -> None:
    monkeypatch.syspath_prepend(str(PLUGINS / "rfpflow-outsourcing" / "src"))
    host = make_host(importlib.import_module("rfpflow_outsourcing"))
    target = create_workspace(tmp_path / "ws", host, profile="outsourcing-5d", language="en")
    edit(target, 'timezone = "Asia/Shanghai"', "")
    edit(target, "bid_deadline = 2027-01-29T17:00:00+08:00", "bid_deadline = 2027-01-29T17:00:00")
    rfp, problems = check_rfp(target / "rfp.toml", context=rfpflow_context(host, workspace=target))
    assert problems == [] and rfp is not None
    assert rfp.timeline.bid_deadline == dt.datetime(2027, 1, 29, 17, tzinfo=SHANGHAI)
    # without the plugins (no profile to ask), the same file names what is missing
    rfp, problems = check_rfp(target / "rfp.toml")
    assert rfp is None and [p.field for p in problems] == ["timeline.bid_deadline"]


@pytest.mark.parametrize(("now", "over"), [
    ("2027-05-22T10:00:00+08:00", False),   # on the last day of the period
    ("2027-05-22T23:59:59+08:00", False),   # its last second
    ("2027-05-23T00:00:00+08:00", True),    # the first instant after it
    ("2027-05-22T15:59:59+00:00", False),   # the same instants told in UTC
    ("2027-05-22T16:00:00+00:00", True),
])
def test_a_standstill_until_a_day_ends_at_the_end_of_that_day_in_the_buyers_zone(now: str, over: bool) -> None:
    moment = dt.datetime.fromisoformat(now)
    assert standstill_over(moment, dt.date(2027, 5, 22), SHANGHAI) is over
    assert period_end(dt.date(2027, 5, 22), SHANGHAI).isoformat() == "2027-05-23T00:00:00+08:00"


# -- 1. results know what they were computed from ---------------------------------------------------



def _retype(sheet: Path, score: int) -> None:
    import openpyxl

    wb = openpyxl.load_workbook(sheet)
    ws = wb["Scores"] if "Scores" in wb.sheetnames else wb.worksheets[0]
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool) and 0 <= cell.value <= 10 \
                    and cell.column > 2 and cell.row > 3:
                cell.value = score
    wb.save(sheet)


def test_a_corrected_score_sheet_makes_the_ranking_stale_until_ranked_again(screened: Path,
                                                                             tmp_path: Path) -> None:
    ws = _copy_of(screened, tmp_path)
    settle(ws)
    for args in (("evaluate", "sheets"), ("evaluate", "import", "evaluations"), ("evaluate", "rank")):
        ok(flagship(ws, *args))
    assert json.loads(ok(flagship(ws, "status", "--json")).stdout)["next"] == "rfpflow shortlist"
    report = next((ws / "out").glob("evaluation-report.md"))
    # the same sheet imported again changes nothing: the ranking stays current
    ok(flagship(ws, "evaluate", "import", "evaluations"))
    assert json.loads(ok(flagship(ws, "status", "--json")).stdout)["next"] == "rfpflow shortlist"
    # a corrected sheet: the ranking is out of date, status says so and names the command
    corrected = tmp_path / "corrected"
    corrected.mkdir()
    first = sorted((ws / "evaluations").glob("*.xlsx"))[0]
    shutil.copy(first, corrected / first.name)
    _retype(corrected / first.name, 1)
    ok(flagship(ws, "evaluate", "import", str(corrected / first.name)))
    status = json.loads(ok(flagship(ws, "status", "--json")).stdout)
    assert status["stale"] == {"evaluation": {"result": "the ranking (consensus and totals)",
                                              "run": "rfpflow evaluate rank"}}
    assert status["next"] == ("rfpflow evaluate rank   (the ranking (consensus and totals) is out of date: "
                              "its inputs changed)")
    text = ok(flagship(ws, "status")).stdout
    assert ("out of date: the ranking (consensus and totals) (its inputs changed); "
            "run `rfpflow evaluate rank` again") in text
    # the report with the old totals is gone, and no later stage builds on it
    assert not report.exists()
    before = snapshot(ws)
    refused(flagship(ws, "shortlist"), "the ranking (consensus and totals) is out of date: its inputs changed "
            "after `rfpflow evaluate rank` ran")
    assert snapshot(ws) == before
    exported = json.loads(ok(flagship(ws, "export", "json")).stdout and
                          next((ws / "out").glob("*.json")).read_text(encoding="utf-8"))
    assert exported["cycle"]["evaluation"] is None
    # ranked again: current, the report is back, the shortlist runs
    ok(flagship(ws, "evaluate", "rank"))
    assert "stale" not in json.loads(ok(flagship(ws, "status", "--json")).stdout)
    assert report.exists()
    ok(flagship(ws, "shortlist"))
    # re-imported measurements make exactly the trial verdicts stale, and the award waits for them
    ok(flagship(ws, "trial", "import", "trial", now=TRIAL_END))
    ok(flagship(ws, "trial", "evaluate", now=TRIAL_END))
    extra = tmp_path / "more.csv"
    extra.write_text("date,vendor,kpi,value\n2027-03-30,xinrui,csat,10\n", encoding="utf-8")
    ok(flagship(ws, "trial", "import", str(extra), now=TRIAL_END))
    status = json.loads(ok(flagship(ws, "status", "--json", now=TRIAL_END)).stdout)
    assert set(status["stale"]) == {"trial"} and status["next"].startswith("rfpflow trial evaluate")
    refused(flagship(ws, "award", now=AWARD), "the trial-run verdicts is out of date")
    ok(flagship(ws, "trial", "evaluate", now=TRIAL_END))
    assert "stale" not in json.loads(ok(flagship(ws, "status", "--json", now=TRIAL_END)).stdout)

