"""The trial run: reading measurement files (CSV and xlsx) and judging KPIs."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import attrs
import openpyxl
import pytest

from rfpflow.builtins import trial_run
from rfpflow.context import Clock, RunContext
from rfpflow.definition import load_rfp
from rfpflow.errors import InputFileError
from rfpflow.model import Kpi, Rfp, Timeline, TrialPlan, TrialResult
from rfpflow.plugins import BUILTIN_PLUGINS, PluginHost
from rfpflow.registry import Measurement
from rfpflow.testing import FIXED_NOW, make_host
from rfpflow.workspace import create_workspace

START = dt.date(2027, 2, 15)  # trial_start of the generic profile
END = dt.date(2027, 3, 28)  # trial_end; with window_days = 14 the window is 2027-03-15..2027-03-28
WINDOW_START = dt.date(2027, 3, 15)


def host() -> PluginHost:
    extra = [m for m in (trial_run,) if m.__name__ not in BUILTIN_PLUGINS]
    return make_host(*extra)


@attrs.define
class Env:
    ws: Path
    rfp: Rfp
    context: RunContext

    def read(self, path: Path) -> list[Measurement] | None:
        return self.context.host.first("rfpflow_read_trial_data", list, source=path, rfp=self.rfp,
                                       context=self.context)

    def evaluate(self, measurements: Iterable[Measurement], vendor: str = "V1", rfp: Rfp | None = None) -> TrialResult:
        result = self.context.host.first("rfpflow_evaluate_trial", TrialResult, vendor_id=vendor,
                                         measurements=list(measurements), rfp=rfp or self.rfp, context=self.context)
        assert result is not None
        return result


def make_env(tmp_path: Path, preset: str = "hotline") -> Env:
    h = host()
    ws = create_workspace(tmp_path / "ws", h)
    toml = ws / "rfp.toml"
    if preset != "hotline":
        toml.write_text(toml.read_text(encoding="utf-8").replace('preset = "hotline"', f'preset = "{preset}"'),
                        encoding="utf-8")
    context = RunContext(host=h, clock=Clock(FIXED_NOW), actor="test", workspace=ws)
    rfp = load_rfp(toml, context=context)
    assert rfp.timeline.trial_start == START and rfp.timeline.trial_end == END
    return Env(ws, rfp, context.with_rfp(rfp))


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return make_env(tmp_path)


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def series(kpi: str, value: float | Callable[[dt.date], float], first: dt.date = START, last: dt.date = END,
           vendor: str = "V1") -> list[Measurement]:
    get = value if callable(value) else (lambda _day: value)
    return [Measurement(day, vendor, kpi, float(get(day)), "test") for day in days(first, last)]


GOOD_HOTLINE = {"service_level": 90.0, "abandonment": 3.0, "fcr": 80.0, "csat": 90.0, "qa_score": 90.0}


def hotline(**values: float) -> list[Measurement]:
    merged = {**GOOD_HOTLINE, **values}
    return [m for kpi, value in merged.items() for m in series(kpi, value)]


def kpi_result(result: TrialResult, kpi_id: str) -> Any:
    return next(k for k in result.kpis if k.kpi_id == kpi_id)


# ---------------------------------------------------------------------------
# Reading CSV
# ---------------------------------------------------------------------------


def test_csv_utf8(env: Env) -> None:
    path = env.ws / "trial" / "week1.csv"
    path.write_text("date,vendor,kpi,value\n2027-02-15,V1,service_level,82.5\n2027-02-15,V1,abandonment,4\n",
                    encoding="utf-8")
    measurements = env.read(path)
    assert measurements == [
        Measurement(dt.date(2027, 2, 15), "V1", "service_level", 82.5, "trial/week1.csv:2"),
        Measurement(dt.date(2027, 2, 15), "V1", "abandonment", 4.0, "trial/week1.csv:3"),
    ]


def test_csv_with_bom_chinese_headers_any_order_and_messy_values(env: Env) -> None:
    path = env.ws / "trial.csv"
    text = ("备注,数值,指标,供应商,日期\n"
            "first day,85%,service_level,V1,2027年2月15日\n"
            "\n"
            ",\" ８０．５ \",Service_Level,V1,2027/2/16\n"
            ",4.5 %,Abandonment rate,V2,20270217\n"
            ",\" 7１.0 \",FCR,V2, 2027-02-18 \n"
            ",,,,\n")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    measurements = env.read(path)
    assert measurements is not None
    assert [(m.day.isoformat(), m.vendor_id, m.kpi_id, m.value, m.place) for m in measurements] == [
        ("2027-02-15", "V1", "service_level", 85.0, "trial.csv:2"),
        ("2027-02-16", "V1", "service_level", 80.5, "trial.csv:4"),  # blank line 3 skipped
        ("2027-02-17", "V2", "abandonment", 4.5, "trial.csv:5"),  # KPI given by its name
        ("2027-02-18", "V2", "fcr", 71.0, "trial.csv:6"),
    ]


def test_gbk_csv_from_chinese_excel(env: Env) -> None:
    path = env.ws / "试运行.csv"
    path.write_bytes("日期,供应商,指标,数值\n2027-03-01,甲公司,csat,88.8%\n2027-03-01,甲公司,qa_score,九十\n".encode("gbk"))
    with pytest.raises(InputFileError) as caught:
        env.read(path)
    assert 'value "九十" is not a number' in str(caught.value)
    assert [p.place for p in caught.value.problems] == ["3"]
    path.write_bytes("日期,供应商,指标,数值\n2027-03-01,甲公司,csat,88.8%\n".encode("gbk"))
    measurements = env.read(path)
    assert measurements == [Measurement(dt.date(2027, 3, 1), "甲公司", "csat", 88.8, "试运行.csv:2")]


def test_semicolon_separated_csv(env: Env) -> None:
    path = env.ws / "trial.csv"
    path.write_text("date;vendor;kpi;value\n2027-03-01;V1;fcr;71,5\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="ambiguous"):  # decimal comma not declared in rfp.toml
        env.read(path)
    decimal_comma = attrs.evolve(env.rfp, decimal_comma=True)
    measurements = trial_run.read_trial_file(path, decimal_comma)
    assert measurements is not None and measurements[0].value == 71.5


def test_every_bad_row_is_reported_with_its_line(env: Env) -> None:
    path = env.ws / "trial.csv"
    path.write_text(
        "date,vendor,kpi,value\n"
        "2027-02-15,V1,service_level,81\n"
        "03/04/2027,V1,service_level,80\n"  # ambiguous date
        "2027-02-16,,service_level,80\n"  # no vendor
        "2027-02-16,V1,servce_level,80\n"  # typo in the KPI
        "2027-02-16,V1,abandonment,abc\n"  # not a number
        "2027-02-16,V1,p1_response,10\n"  # not a KPI of this RFP
        "2027-02-16,V1,fcr,1234\n"  # a percentage above 100
        "2027-02-16,V1,csat,\n",  # blank value
        encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        env.read(path)
    error = caught.value
    assert "trial.csv: 7 problems in the trial data; nothing was imported" in str(error)
    by_line = {p.place: p.message for p in error.problems}
    assert all(p.file == "trial.csv" for p in error.problems)
    assert "ambiguous" in by_line["3"]
    assert by_line["4"] == "vendor is blank"
    assert "unknown KPI 'servce_level' (did you mean 'service_level'?)" in by_line["5"]
    assert 'value "abc" is not a number' in by_line["6"]
    assert "unknown KPI 'p1_response'" in by_line["7"] and "service_level, abandonment" in by_line["7"]
    assert "not a percentage between 0 and 100" in by_line["8"]
    assert by_line["9"] == "value is blank"
    assert "trial.csv:5: unknown KPI" in str(error)


def test_missing_header_column(env: Env) -> None:
    path = env.ws / "trial.csv"
    path.write_text("date,vendor,value\n2027-02-15,V1,80\n", encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        env.read(path)
    problem = caught.value.problems[0]
    assert problem.place == "1" and "missing: kpi (指标" in problem.message


def test_percent_sign_on_a_non_percent_kpi_is_refused(tmp_path: Path) -> None:
    ops = make_env(tmp_path, "it-operations")
    path = ops.ws / "trial.csv"
    path.write_text("date,vendor,kpi,value\n2027-03-01,V1,p1_response,12%\n2027-03-01,V1,availability,99.95%\n",
                    encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        ops.read(path)
    assert [p.place for p in caught.value.problems] == ["2"]
    assert "is a percentage, but the KPI p1_response is measured in min" in caught.value.problems[0].message


def test_undecodable_csv(env: Env) -> None:
    path = env.ws / "trial.csv"
    path.write_bytes(b"date,vendor,kpi,value\n\xff\xfe\xff,V1,fcr,1\n")
    with pytest.raises(InputFileError, match="neither UTF-8 nor GBK"):
        env.read(path)


def test_other_suffixes_are_not_mine(env: Env) -> None:
    for name in ("trial.txt", "trial.xls", "trial.json"):
        path = env.ws / name
        path.write_text("date,vendor,kpi,value\n", encoding="utf-8")
        assert trial_run.rfpflow_read_trial_data(path, env.rfp, env.context) is None
        assert env.read(path) is None


def test_header_only_file_has_no_measurements(env: Env) -> None:
    path = env.ws / "trial.csv"
    path.write_text("date,vendor,kpi,value\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="no measurements"):
        env.read(path)


# ---------------------------------------------------------------------------
# Reading xlsx
# ---------------------------------------------------------------------------


def test_xlsx_with_title_row_percent_cells_and_messy_values(env: Env) -> None:
    path = env.ws / "trial" / "pilot.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.append(["Hotline pilot, weekly report"])
    ws.append([])
    ws.append(["Vendor", "KPI", "Date", "Value", "Comment"])
    ws.append(["V1", "service_level", dt.datetime(2027, 3, 15), 0.85, "formatted as %"])
    ws["D4"].number_format = "0%"
    ws.append(["V1", "abandonment", "2027-03-15", " 4.5 % ", None])
    ws.append(["V1", "fcr", 46461, 72, None])  # an Excel serial date (2027-03-15) in a General cell
    ws.append([None, None, None, None, None])
    ws.append(["V2", "csat", dt.date(2027, 3, 16), "８８", None])
    wb.save(path)
    measurements = env.read(path)
    assert measurements is not None
    assert [(m.day, m.vendor_id, m.kpi_id, m.value, m.place) for m in measurements] == [
        (dt.date(2027, 3, 15), "V1", "service_level", 85.0, "trial/pilot.xlsx:Data!A4"),
        (dt.date(2027, 3, 15), "V1", "abandonment", 4.5, "trial/pilot.xlsx:Data!A5"),
        (dt.date(2027, 3, 15), "V1", "fcr", 72.0, "trial/pilot.xlsx:Data!A6"),
        (dt.date(2027, 3, 16), "V2", "csat", 88.0, "trial/pilot.xlsx:Data!A8"),
    ]


def test_xlsx_bad_cells_are_reported_by_sheet_and_cell(env: Env) -> None:
    path = env.ws / "pilot.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.append(["日期", "供应商", "指标", "数值"])
    ws.append(["2027-03-15", "V1", "service_level", 81])
    ws.append(["2027-02-30", "V1", "service_level", 81])
    ws.append(["2027-03-15", "V1", "abandonmen", "n/a"])
    wb.save(path)
    with pytest.raises(InputFileError) as caught:
        env.read(path)
    by_place = {p.place: p.message for p in caught.value.problems}
    assert set(by_place) == {"Data!A3", "Data!C4", "Data!D4"}
    assert "not a real calendar date" in by_place["Data!A3"]
    assert "did you mean 'abandonment'" in by_place["Data!C4"]
    assert "pilot.xlsx:Data!D4: value \"n/a\" is not a number" in str(caught.value)


def test_xlsx_without_header(env: Env) -> None:
    path = env.ws / "pilot.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["2027-03-15", "V1", "service_level", 81])
    wb.save(path)
    with pytest.raises(InputFileError, match="the header row must name the columns"):
        env.read(path)


def test_fake_xlsx_is_refused_by_the_file_checks(env: Env) -> None:
    path = env.ws / "pilot.xlsx"
    path.write_text("date,vendor,kpi,value\n", encoding="utf-8")
    with pytest.raises(InputFileError):
        env.read(path)


# ---------------------------------------------------------------------------
# Judging: boundaries, windows, verdicts
# ---------------------------------------------------------------------------


def test_exact_boundary_values_meet_the_target(env: Env) -> None:
    result = env.evaluate(hotline(service_level=80.0, abandonment=5.0, fcr=70.0, csat=85.0, qa_score=85.0))
    assert result.passed
    for kpi in result.kpis:
        assert kpi.met, kpi
        assert kpi.attainment == 1.0
    assert result.score == 100.0
    assert kpi_result(result, "service_level").value == 80.0
    assert kpi_result(result, "abandonment").value == 5.0


def test_mean_exactly_on_the_target_meets_it(env: Env) -> None:
    # 79.9 and 80.1 alternate: the mean is exactly 80 (decimal arithmetic, no 79.99999999999999).
    alternating = series("service_level", lambda d: 79.9 if d.toordinal() % 2 else 80.1)
    others = [m for m in hotline() if m.kpi_id != "service_level"]
    assert env.evaluate(alternating + others).passed
    just_below = [m for m in hotline(service_level=79.99)]
    result = env.evaluate(just_below)
    assert not result.passed
    assert kpi_result(result, "service_level").met is False
    assert "service_level" in result.notes[-1]


def test_abandonment_just_above_target_fails(env: Env) -> None:
    result = env.evaluate(hotline(abandonment=5.01))
    assert not result.passed
    abandonment = kpi_result(result, "abandonment")
    assert not abandonment.met
    assert abandonment.attainment == pytest.approx(5.0 / 5.01)


def test_only_the_last_14_days_count_bad_start_good_end(env: Env) -> None:
    early_bad = [m for m in hotline(service_level=50.0, abandonment=20.0) if m.day < WINDOW_START]
    late_good = [m for m in hotline() if m.day >= WINDOW_START]
    result = env.evaluate(early_bad + late_good)
    assert result.passed
    assert kpi_result(result, "service_level").value == 90.0
    assert result.score == 100.0
    assert any("2027-03-15 to 2027-03-28, the last 14 days" in n for n in result.notes)


def test_only_the_last_14_days_count_good_start_bad_end(env: Env) -> None:
    early_good = [m for m in hotline() if m.day < WINDOW_START]
    late_bad = [m for m in hotline(service_level=70.0) if m.day >= WINDOW_START]
    result = env.evaluate(early_good + late_bad)
    assert not result.passed
    assert kpi_result(result, "service_level").value == 70.0
    # The last day before the window (2027-03-14) does not count either.
    edge = [m for m in late_bad if m.kpi_id != "service_level"] + series("service_level", 80.0, WINDOW_START, END) \
        + series("service_level", 0.0, dt.date(2027, 3, 14), dt.date(2027, 3, 14))
    assert env.evaluate(edge).passed


def test_whole_trial_without_window(env: Env) -> None:
    rfp = attrs.evolve(env.rfp, trial=attrs.evolve(
        env.rfp.trial, kpis=tuple(attrs.evolve(k, window_days=None) for k in env.rfp.trial.kpis)))
    early_good = [m for m in hotline(service_level=100.0) if m.day < WINDOW_START]  # 28 days
    late_bad = [m for m in hotline(service_level=60.0) if m.day >= WINDOW_START]  # 14 days
    result = env.evaluate(early_good + late_bad, rfp=rfp)
    assert kpi_result(result, "service_level").value == pytest.approx((28 * 100 + 14 * 60) / 42)
    assert result.passed


def test_window_without_trial_dates_uses_the_data(env: Env) -> None:
    rfp = attrs.evolve(env.rfp, timeline=Timeline())
    first, last = dt.date(2027, 6, 1), dt.date(2027, 6, 30)
    data = [m for kpi, v in GOOD_HOTLINE.items() for m in series(kpi, v, first, last)]
    data = [m for m in data if not (m.kpi_id == "service_level" and m.day > dt.date(2027, 6, 16))]
    data += series("service_level", 50.0, dt.date(2027, 6, 1), dt.date(2027, 6, 16))
    data += series("service_level", 85.0, dt.date(2027, 6, 17), last)
    result = env.evaluate(data, rfp=rfp)
    # Last 14 days of the data: 2027-06-17..2027-06-30 -> 85, the bad days before do not count.
    assert kpi_result(result, "service_level").value == 85.0
    assert result.passed


def test_must_have_failure_fails_even_with_a_high_score(env: Env) -> None:
    result = env.evaluate(hotline(service_level=100.0, abandonment=5.5, fcr=99.0, csat=99.0, qa_score=99.0))
    assert not result.passed
    assert result.score > 95
    assert result.notes[-1] == "failed: must-have KPI not met: abandonment"


def test_non_must_have_miss_keeps_the_verdict(env: Env) -> None:
    result = env.evaluate(hotline(fcr=56.0))
    assert result.passed
    # weights: service_level 3, abandonment 2, fcr 2, csat 2, qa 1; fcr attainment 56/70 = 0.8
    assert result.score == pytest.approx((3 + 2 + 2 * 0.8 + 2 + 1) / 10 * 100)


def test_missing_data_is_not_met_with_a_note(env: Env) -> None:
    data = [m for m in hotline() if m.kpi_id != "csat"]
    data += series("csat", 95.0, START, dt.date(2027, 3, 1))  # only before the window
    result = env.evaluate(data)
    csat = kpi_result(result, "csat")
    assert csat.value is None and not csat.met and csat.attainment == 0.0
    assert any(n.startswith("csat: no measurements in 2027-03-15 to 2027-03-28") for n in result.notes)
    assert result.passed  # csat is not a must-have
    assert result.score == pytest.approx(80.0)
    missing_must = env.evaluate([m for m in hotline() if m.kpi_id != "abandonment"])
    assert not missing_must.passed


def test_several_values_a_day_are_averaged_per_day(env: Env) -> None:
    data = [m for m in hotline() if m.kpi_id != "service_level"]
    # 2027-03-15 has three readings (70, 80, 90 -> day value 80); the other 13 days read 94.
    data += [Measurement(WINDOW_START, "V1", "service_level", v) for v in (70.0, 80.0, 90.0)]
    data += series("service_level", 94.0, dt.date(2027, 3, 16), END)
    result = env.evaluate(data)
    assert kpi_result(result, "service_level").value == pytest.approx((80 + 13 * 94) / 14)


def test_outside_period_and_other_vendors_are_ignored(env: Env) -> None:
    data = hotline()
    data += series("service_level", 0.0, dt.date(2027, 3, 29), dt.date(2027, 4, 5))
    data += series("abandonment", 100.0, vendor="V2")
    result = env.evaluate(data)
    assert result.passed and result.score == 100.0
    assert "8 measurements outside the trial period (2027-02-15 to 2027-03-28) ignored" in result.notes


def test_deterministic_whatever_the_order(env: Env) -> None:
    data = hotline(service_level=83.3, fcr=66.6)
    expected = env.evaluate(data)
    shuffled = list(data)
    random.Random(7).shuffle(shuffled)
    assert env.evaluate(shuffled) == expected


def test_lower_is_better_with_zero_target() -> None:
    kpis = (Kpi("incidents", "Incidents", "count", 0.0, "lower", must_have=True, weight=1),
            Kpi("backlog", "Backlog", "tickets", 0.0, "lower", weight=1))
    rfp = Rfp("R", "T", "B", "ITO", "CNY", "en",
              timeline=Timeline(trial_start=START, trial_end=END), trial=TrialPlan(True, None, kpis))
    clean = series("incidents", 0.0) + series("backlog", 0.0)
    result = trial_run.evaluate("V1", clean, rfp)
    assert result.passed and result.score == 100.0
    one = [*clean, Measurement(dt.date(2027, 3, 1), "V1", "incidents", 1.0)]
    result = trial_run.evaluate("V1", one, rfp)
    incidents = kpi_result(result, "incidents")
    assert incidents.value == 1.0 and not incidents.met and incidents.attainment == 0.0
    assert not result.passed and result.score == 50.0


# ---------------------------------------------------------------------------
# The presets end to end: file -> measurements -> verdict
# ---------------------------------------------------------------------------


def write_csv(path: Path, rows: Iterable[tuple[dt.date, str, str, str]]) -> Path:
    lines = ["date,vendor,kpi,value"] + [f"{d.isoformat()},{v},{k},{x}" for d, v, k, x in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_hotline_end_to_end(env: Env) -> None:
    rows = []
    for day in days(START, END):
        late = day >= WINDOW_START
        rows += [(day, "V1", "service_level", "80%" if late else "60%"),
                 (day, "V1", "abandonment", "5" if late else "9"),
                 (day, "V1", "fcr", "75"), (day, "V1", "csat", "90%"), (day, "V1", "qa_score", "88"),
                 (day, "V2", "service_level", "95"), (day, "V2", "abandonment", "6"),
                 (day, "V2", "fcr", "85"), (day, "V2", "csat", "95"), (day, "V2", "qa_score", "95")]
    measurements = env.read(write_csv(env.ws / "trial" / "hotline.csv", rows))
    assert measurements is not None and len(measurements) == 42 * 10
    v1 = env.evaluate(measurements, "V1")
    v2 = env.evaluate(measurements, "V2")
    assert v1.passed and v1.score == 100.0
    assert [k.kpi_id for k in v1.kpis] == ["service_level", "abandonment", "fcr", "csat", "qa_score"]
    assert not v2.passed  # abandonment 6 % > 5 %, a must-have
    assert v2.score == pytest.approx((3 + 2 * 5 / 6 + 2 + 2 + 1) / 10 * 100, abs=1e-4)
    assert v2.score > 95


def test_it_operations_end_to_end(tmp_path: Path) -> None:
    ops = make_env(tmp_path, "it-operations")
    assert [k.id for k in ops.rfp.trial.kpis] == ["availability", "p1_response", "p1_restore",
                                                   "sev1_security_incidents"]
    rows = []
    for day in days(START, END):
        rows += [(day, "V1", "availability", "99.95%"), (day, "V1", "p1_response", "15"),
                 (day, "V1", "p1_restore", "5"), (day, "V1", "sev1_security_incidents", "0"),
                 (day, "V2", "availability", "99.99"), (day, "V2", "p1_response", "10"),
                 (day, "V2", "p1_restore", "2"),
                 (day, "V2", "sev1_security_incidents", "1" if day == dt.date(2027, 3, 20) else "0")]
    measurements = ops.read(write_csv(ops.ws / "trial" / "ops.csv", rows))
    assert measurements is not None
    v1 = ops.evaluate(measurements, "V1")
    assert v1.passed  # p1_restore (5 h > 4 h) is not a must-have
    assert kpi_result(v1, "p1_response").met  # exactly 15 min meets <= 15
    restore = kpi_result(v1, "p1_restore")
    assert not restore.met and restore.attainment == pytest.approx(0.8)
    assert v1.score == pytest.approx((3 + 2 + 2 * 0.8 + 1) / 8 * 100)
    v2 = ops.evaluate(measurements, "V2")
    incidents = kpi_result(v2, "sev1_security_incidents")
    assert incidents.value == 1.0 and not incidents.met  # a count is summed over the window
    assert not v2.passed
    assert any("sev1_security_incidents: 1 count (sum of 14 values" in n for n in v2.notes)
