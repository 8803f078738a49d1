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
    # one second before the deadline is on time, one second after is late (a re-submission with a new
    # price: re-importing the identical file would be "unchanged", whatever the time)
    ok(rf("bids", "import", str(late), now="2027-01-29T09:00:00+00:00"))
    revised = write_bid(workspace, "acme", good_bid("Acme Services", price=79000))
    refused(rf("bids", "import", str(revised), now="2027-01-29T09:00:01+00:00"), "the bid deadline passed at")
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
    # trial data names vendors by id, legal name or registration number; a stranger is told at its own cell
    import openpyxl

    ok(flagship(ws, "export", "json"))
    vendors = json.loads(next((ws / "out").glob("*.json")).read_text(encoding="utf-8"))["cycle"]["vendors"]
    registration = next(v["registration_no"] for v in vendors if v["id"] == "huaxin")
    assert registration
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Daily KPIs"
    sheet.append(["date", "vendor", "kpi", "value"])
    sheet.append(["2027-03-30", registration, "csat", 90])
    sheet.append(["2027-03-30", "成都新锐智能客服有限公司", "csat", 90])
    sheet.append(["2027-03-30", " XINRUI ", "csat", 91])
    book.save(tmp_path / "B-names.xlsx")
    ok(flagship(ws, "trial", "import", str(tmp_path / "B-names.xlsx"), now=TRIAL_END))
    sheet.append(["2027-03-30", "Alpha IT Services Co., Ltd.", "csat", 90])
    book.save(tmp_path / "B-alpha.xlsx")
    result = flagship(ws, "trial", "import", str(tmp_path / "B-alpha.xlsx"), now=TRIAL_END)
    assert result.returncode == 2
    assert ("B-alpha.xlsx:Daily KPIs!B5: vendor 'Alpha IT Services Co., Ltd.' is not on the shortlist (huaxin, "
            "xinrui; by id, legal name or registration number)") in result.stdout + result.stderr
    assert "B-alpha.xlsx:B-alpha.xlsx" not in result.stdout + result.stderr
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



# -- 9. outliers need three evaluators; screen resolve checks who and what first --------------------


@pytest.mark.parametrize(("panel", "flagged"), [
    ({"E1": 2.0, "E2": 9.0}, []),                          # two: neither is the other's outlier
    ({"E1": 2.0}, []),                                     # one
    ({"E1": 2.0, "E2": 9.0, "E3": 9.0}, [("E1", 2.0, 9.0, 7.0)]),  # three: the one far from the others
    ({"E1": 7.0, "E2": 9.0, "E3": 9.0}, []),               # exactly at the threshold of 2: not further
])
def test_outliers_need_three_evaluators(panel: dict[str, float], flagged: list, workspace: Path) -> None:
    from rfpflow.definition import load_rfp
    from rfpflow.evaluation import ScoreEntry, outlier_review

    rfp = load_rfp(workspace / "rfp.toml")
    scores = [ScoreEntry(e, "acme", "approach", s) for e, s in panel.items()]
    assert [(o.evaluator, o.score, o.median, o.distance) for o in outlier_review(rfp, scores)] == flagged


def _to_evaluation(rf, workspace: Path) -> None:
    ok(rf("issue", now="2027-01-05T09:00:00+08:00"))
    write_bid(workspace, "acme", good_bid("Acme Services"))
    write_bid(workspace, "beta", good_bid("Beta BPO", price=70000))
    write_bid(workspace, "cheap", good_bid("Cheap & Co", price=20000))
    ok(rf("bids", "import", "bids"))
    after = "2027-02-01T09:00:00+08:00"
    ok(rf("close", now=after))
    ok(rf("screen", now=after))


def test_screen_resolve_names_an_unknown_vendor_or_gate_first_and_the_outcome_it_replaces(rf, workspace: Path
                                                                                         ) -> None:
    after = "2027-02-01T09:00:00+08:00"
    _to_evaluation(rf, workspace)
    before = snapshot(workspace)
    refused(rf("screen", "resolve", "nobody", "iso9001", "--decision", "pass", "--reason", "x", now=after),
            "unknown vendor 'nobody'; vendors: acme, beta, cheap")
    refused(rf("screen", "resolve", "acme", "iso27001", "--decision", "pass", "--reason", "x", now=after),
            "unknown gate 'iso27001'")
    assert snapshot(workspace) == before
    first = ok(rf("screen", "resolve", "cheap", "abnormally_low", "--decision", "pass", "--reason", "explained",
                  now=after)).stdout
    assert "cheap abnormally_low: review -> pass (explained)" in first
    # overturned: the outcome it replaces is the earlier decision, as the log records it
    again = ok(rf("screen", "resolve", "cheap", "abnormally_low", "--decision", "fail", "--reason", "audit found",
                  now=after)).stdout
    assert "cheap abnormally_low: pass -> fail (audit found)" in again
    log = [e for e in json.loads(ok(rf("log", "--json")).stdout) if e["kind"] == "screening.resolved"]
    assert [e["data"]["was"] for e in log] == ["review", "pass"]
    ok(rf("screen", "resolve", "cheap", "abnormally_low", "--decision", "pass", "--reason", "ok", now=after))
    ok(rf("evaluate", "sheets", now=after))  # evaluation: screening is over
    refused(rf("screen", "resolve", "nobody", "iso9001", "--decision", "pass", "--reason", "x", now=after),
            "unknown vendor 'nobody'")
    refused(rf("screen", "resolve", "acme", "iso9001", "--decision", "fail", "--reason", "x", now=after),
            "only price gates are settled during evaluation")


# -- 5. letters say why -------------------------------------------------------------------------------


def test_letters_say_why_screening_evaluation_trial_and_award(screened: Path, tmp_path: Path
                                                               ) -> None:
    ws = _copy_of(screened, tmp_path)
    settle(ws)
    for args in (("evaluate", "sheets"), ("evaluate", "import", "evaluations"), ("evaluate", "rank"),
                 ("shortlist",)):
        ok(flagship(ws, *args))
    bad = ws / "trial" / "kpi-daily.csv"
    rows = bad.read_text(encoding="utf-8").splitlines()
    rows = [r if not (",huaxin,service_level," in r and r[:10] >= "2027-03-22") else
            r.rsplit(",", 1)[0] + ",60.0" for r in rows]
    bad.write_text("\n".join(rows) + "\n", encoding="utf-8")
    ok(flagship(ws, "trial", "import", "trial", now=TRIAL_END))
    ok(flagship(ws, "trial", "evaluate", now=TRIAL_END))
    ok(flagship(ws, "award", now=AWARD))
    out = ws / "out"
    evaluation = json.loads(ok(flagship(ws, "export", "json", now=AWARD)).stdout and
                            next(out.glob("*.json")).read_text(encoding="utf-8"))["cycle"]["evaluation"]
    first = min(evaluation["totals"], key=lambda t: t["rank"])
    assert first["vendor"] == "huaxin"
    letters = {p.name: p.read_text(encoding="utf-8") for p in out.glob("*-letter-*.md")}
    huaxin = next(text for name, text in letters.items() if name.startswith("regret-letter") and "华信" in text)
    # the Chinese letter: evaluation rank, then the trial verdict naming the must-have KPI missed
    assert f"在评审中列第 1 名（共 {len(evaluation['totals'])} 名）" in huaxin
    assert "贵单位未通过试运行：必达指标" in huaxin and "未达标（实际" in huaxin and "因此不能授予合同" in huaxin
    winner = next(text for name, text in letters.items() if name.startswith("award-letter"))
    assert "（共 1 名）" not in winner and "唯一符合授予条件的投标" in winner
    # one number per fact: the evaluation report's totals are the letters' and the recommendation's
    from rfpflow.formatting import format_number

    report = (out / "evaluation-report.md").read_text(encoding="utf-8")
    recommendation = (out / "award-recommendation.md").read_text(encoding="utf-8")
    for total in evaluation["totals"]:
        shown = format_number(total["total"])
        assert shown in report
        if total["vendor"] == "xinrui":  # the one in the final ranking: the report's score is in its row
            row = next(line for line in recommendation.splitlines() if "新锐" in line and line.startswith("| "))
            assert f" {shown} |" in row
    assert f"评审得分为 **{format_number(first['total'])}** 分" in huaxin
    screened_out = next(text for name, text in letters.items() if name.startswith("regret-letter")
                        and "资格审查" in text)
    assert "未进入评审" in screened_out and "试运行" not in screened_out.split("本项目中标人")[0]
    # the standstill "until 22 April" ends at the end of 22 April in Shanghai: 10:00 that day is refused
    before = snapshot(ws)
    refused(flagship(ws, "award", "confirm", now="2027-04-22T10:00:00+08:00"),
            "the standstill period runs until the end of 2027-04-22 (unsuccessful vendors may challenge the award "
            "until then); the award can be confirmed from 2027-04-23T00:00:00+08:00 (Asia/Shanghai) "
            "(now 2027-04-22T10:00:00+08:00 (Asia/Shanghai))")
    refused(flagship(ws, "award", "confirm", now="2027-04-22T15:59:59+00:00"), "runs until the end of 2027-04-22")
    assert snapshot(ws) == before
    ok(flagship(ws, "award", "confirm", now="2027-04-22T16:00:00+00:00"))  # midnight in Shanghai


# -- 4. sensitivity in plain words ------------------------------------------------------------------------


def _change(criterion: str, weight: float, new: float | None, winner: str | None) -> dict:
    return {"criterion": criterion, "current_weight": weight, "new_weight": new, "new_winner": winner}


def test_only_weight_changes_within_half_the_weight_that_change_the_winner_are_reported() -> None:
    from rfpflow.documents.view import decisive_changes

    changes = [
        _change("approach", 20.0, 30.0, "beta"),     # +50 %: at the limit, reported
        _change("team", 20.0, 30.01, "beta"),        # one past the limit
        _change("price", 40.0, 20.0, "gamma"),       # -50 %
        _change("security", 8.0, None, None),        # no weight changes the winner: never a placeholder
        _change("experience", 10.0, 12.0, "alpha"),  # the "new" winner is the one already leading
    ]
    assert [c["criterion"] for c in decisive_changes(changes, "alpha")] == ["approach", "price"]
    assert decisive_changes([_change("security", 8.0, None, None)], "alpha") == []


# -- 7. validate catches what the examples let through ----------------------------------------------------

from .test_definition_validation import BASE  # noqa: E402
from .test_definition_validation import problems as definition_problems  # noqa: E402


@pytest.mark.parametrize(("top", "found"), [
    ('currency = "CNY"\n', []),
    ('currency = "RMB"\n', [("6", "currency", "'RMB' is not an ISO 4217 code; write currency = \"CNY\"")]),
])
def test_a_currency_alias_is_not_an_iso_code(tmp_path: Path, top: str, found: list) -> None:
    base = BASE.replace('currency = "CNY"\n', "")
    assert definition_problems(tmp_path, base=base, top=top) == found


@pytest.mark.parametrize(("min_score", "found"), [
    ("100", []),
    ("100.5", [("19", "shortlist.min_score", "100.5 is above 100: totals are points out of 100, so no bid can "
                "reach it; write a score between 0 and 100, e.g. min_score = 70")]),
    ("150", [("19", "shortlist.min_score", "150 is above 100: totals are points out of 100, so no bid can "
              "reach it; write a score between 0 and 100, e.g. min_score = 70")]),
])
def test_a_minimum_score_above_the_100_point_scale(tmp_path: Path, min_score: str, found: list) -> None:
    assert definition_problems(tmp_path, f"\n[shortlist]\nmin_score = {min_score}\n") == found


@pytest.mark.parametrize(("start", "found"), [
    ("2027-01-04", []),  # on the issue date
    ("2027-01-03", [("9", "timeline.contract_start", "2027-01-03 is before issue_date (2027-01-04): the contract "
                     "cannot start before the RFP is issued")]),
])
def test_a_contract_start_before_the_issue_date(tmp_path: Path, start: str, found: list) -> None:
    base = BASE.replace("bid_deadline = 2027-03-01", f"issue_date = 2027-01-04\ncontract_start = {start}\n"
                        "bid_deadline = 2027-03-01")
    assert definition_problems(tmp_path, base=base) == found


QUESTION = '\n[[questionnaire]]\nid = "Q1"\ntext = "Hotline 24/7?"\n'
BASE_NO_CRITERIA = BASE.replace('[criteria.quality]\nname = "Quality"\nweight = 100\n\n', "")


@pytest.mark.parametrize(("criterion", "found"), [
    ('field = "year_established"\nrule = "linear"\nparams = { min = 1990, max = 2020 }', []),
    ('field = "years_established"\nrule = "bands"\nparams = { bands = [[3, 5]] }', []),
    ('field = "year_establshed"\nrule = "linear"\nparams = { min = 1990, max = 2020 }',
     "bids have no field 'year_establshed' (did you mean 'year_established'?); fields: "),
    ('field = "Q1"\nrule = "answer"\nparams = { points = { Yes = 1.0, No = 0 } }', []),
    ('field = "Q9"\nrule = "answer"\nparams = { points = { Yes = 1.0, No = 0 } }',
     "the answer rule reads question 'Q9', which the questionnaire does not have; questions: Q1"),
])
def test_a_criterion_reading_a_field_or_question_that_does_not_exist(tmp_path: Path, criterion: str,
                                                                     found: list | str) -> None:
    extra = f'\n[criteria.age]\nname = "Age"\nweight = 100\nsource = "bid"\n{criterion}\n' + QUESTION
    got = definition_problems(tmp_path, extra, base=BASE_NO_CRITERIA)
    if not found:
        assert got == []
    else:
        assert len(got) == 1 and got[0][1] == "criteria.age.field" and got[0][2].startswith(str(found))
        assert got[0][0] == str(BASE_NO_CRITERIA.count("\n") + 6)  # the line of field =


def test_the_price_counted_twice_is_a_warning(tmp_path: Path) -> None:
    extra = ('\n[criteria.price]\nname = "Price"\nweight = 35\nsource = "price"\n'
             '\n[[pricing.items]]\nid = "L1"\ndescription = "x"\nunit = "month"\nquantity = 12\n'
             '\n[scoring]\naward = { evaluation = 0.7, price = 0.3 }\n')
    base = BASE.replace("weight = 100", "weight = 65")
    got = definition_problems(tmp_path, extra, base=base)
    assert [(field, message) for _, field, message in got] == [
        ("scoring.award.price", "price is counted twice: criterion 'price' already scores it in the evaluation "
         "(35.0 points of 100), and the award gives price a weight of 0.3 on top; drop one of them")]
    no_award_price = extra.replace("award = { evaluation = 0.7, price = 0.3 }", "award = { evaluation = 1.0 }")
    assert definition_problems(tmp_path, no_award_price, base=base) == []


@pytest.mark.parametrize(("date", "message"), [
    ("2027-02-30", "timeline.bid_deadline: 2027-02-30 is not a date: February 2027 has 28 days"),
    ("2028-02-30", "timeline.bid_deadline: 2028-02-30 is not a date: February 2028 has 29 days"),
    ("2027-13-01", "timeline.bid_deadline: 2027-13-01 is not a date: there is no month 13"),
])
def test_an_impossible_date_is_named_with_its_field(tmp_path: Path, date: str, message: str) -> None:
    from rfpflow.errors import DefinitionError

    (tmp_path / "rfp.toml").write_text(BASE.replace("bid_deadline = 2027-03-01", f"bid_deadline = {date}"),
                                       encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        check_rfp(tmp_path / "rfp.toml")
    assert str(caught.value) == f"rfp.toml:8: {message}"


# -- 8. new --profile picks the profile's language ----------------------------------------------------------


def test_new_makes_a_one_language_profile_in_its_language(plugin_site, tmp_path: Path) -> None:
    site = plugin_site("rfpflow-cn-gov", {}, {"cn-gov": "rfpflow_cn_gov"})
    path = [site, PLUGINS / "rfpflow-cn-gov" / "src"]
    made = ok(run_cli("new", str(tmp_path / "cn"), "--profile", "cn-gov-87", pythonpath=path))
    assert "from profile 'cn-gov-87' (zh)" in made.stdout
    assert 'language = "zh"' in (tmp_path / "cn" / "rfp.toml").read_text(encoding="utf-8")
    result = run_cli("new", str(tmp_path / "en"), "--profile", "cn-gov-87", "--language", "en", pythonpath=path)
    assert result.returncode == 2 and "profile 'cn-gov-87' has no 'en' version; it has: zh" in result.stderr
    assert not (tmp_path / "en" / "rfp.toml").exists()


@pytest.mark.parametrize(("language", "made"), [(None, "en"), ("zh", "zh"), ("en", "en")])
def test_language_chooses_among_several(monkeypatch, tmp_path: Path, language: str | None, made: str) -> None:
    monkeypatch.syspath_prepend(str(PLUGINS / "rfpflow-outsourcing" / "src"))
    host = make_host(importlib.import_module("rfpflow_outsourcing"))
    target = create_workspace(tmp_path / "ws", host, profile="outsourcing-5d", language=language)
    assert f'language = "{made}"' in (target / "rfp.toml").read_text(encoding="utf-8")


# -- 3. one number per fact ---------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_score_re_computed_among_the_finalists_is_shown_beside_the_reports_labelled(tmp_path: Path,
                                                                                     lang: str) -> None:
    from rfpflow.documents.render import render_documents
    from rfpflow.formatting import format_number

    from .test_documents import host
    from .view_fixture import sample_view

    view = sample_view(lang)
    report = {t["vendor"]: t["total"] for t in view["evaluation"]["totals"]}
    docs = {p.name: p.read_text(encoding="utf-8")
            for p in render_documents(view, host(), workspace=None, out_dir=tmp_path / "same")}
    assert "(among finalists)" not in docs["award-recommendation.md"] and "入围者之间" not in \
        docs["award-recommendation.md"]
    view["award"]["ranking"][0]["evaluation"] = 89.0  # price re-scored among the finalists
    docs = {p.name: p.read_text(encoding="utf-8")
            for p in render_documents(view, host(), workspace=None, out_dir=tmp_path / "rescored")}
    md = docs["award-recommendation.md"]
    header = ("| Rank | Vendor | Final score | Evaluation (report) | Evaluation (among finalists) | Price score | "
              "Trial score |") if lang == "en" else (
        "| 排名 | 供应商 | 综合评分 | 评审得分（评审报告） | 评审得分（入围者之间） | 价格得分 | 试运行得分 |")
    assert header in md
    beta = next(line for line in md.splitlines() if "Beta BPO" in line and line.startswith("| 1 |"))
    assert f"| {format_number(report['beta'])} | 89.0 |" in beta
    html = docs["award-recommendation.html"]
    assert (">Evaluation (report)<" if lang == "en" else ">评审得分（评审报告）<") in html


# -- trial data: a column's other dates show the order; comma decimals told as they can be fixed ------------


@pytest.mark.parametrize(("column", "read"), [
    (["13.04.2027", "12.04.2027", "01.05.2027"], ["2027-04-13", "2027-04-12", "2027-05-01"]),  # day first
    (["04/13/2027", "04/12/2027"], ["2027-04-13", "2027-04-12"]),                          # month first
])
def test_a_dates_column_that_proves_its_order_reads_the_ambiguous_ones_that_way(column: list[str],
                                                                                 read: list[str]) -> None:
    from rfpflow.spreadsheets.cells import day_first_order, parse_date

    order = day_first_order(column)
    assert [parse_date(v, "date", day_first=order).isoformat() for v in column] == read


def test_a_dates_column_without_proof_or_with_both_orders_stays_ambiguous() -> None:
    from rfpflow.spreadsheets.cells import AmbiguousValue, day_first_order, parse_date

    assert day_first_order(["12.04.2027", "01.05.2027"]) is None
    assert day_first_order(["13.04.2027", "04/13/2027"]) is None
    with pytest.raises(AmbiguousValue, match="could be 2027-04-12 or 2027-12-04"):
        parse_date("12.04.2027", "date", day_first=None)
