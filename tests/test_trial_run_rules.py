"""The trial-run judgement called directly: each KPI at its target, one past it, missing, at zero,
inside and outside the period and the window; and the trial-data reader at its limits.

Every test asserts the whole TrialResult (or the whole error), notes included.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs
import pytest

from rfpflow.builtins import trial_run
from rfpflow.errors import InputFileError
from rfpflow.model import Kpi, KpiAttainment, Rfp, Timeline, TrialPlan, TrialResult
from rfpflow.registry import Measurement

D1 = dt.date(2027, 2, 1)
SL = Kpi("sl", "Service level", "%", 80.0, "higher", must_have=True)
AHT = Kpi("aht", "Handling time", "s", 300.0, "lower", weight=3.0)


def rfp(*kpis: Kpi, start: dt.date | None = None, end: dt.date | None = None) -> Rfp:
    return Rfp("R-1", "Hotline", "Buyer", "BPO", "CNY", "en", timeline=Timeline(trial_start=start, trial_end=end),
               trial=TrialPlan(enabled=True, kpis=kpis))


def m(day: int, kpi: str, value: float, vendor: str = "V1") -> Measurement:
    return Measurement(D1 + dt.timedelta(days=day - 1), vendor, kpi, value)


# -- met, at the target and one past it -----------------------------------------------------


@pytest.mark.parametrize(("value", "met", "attainment"), [(80.0, True, 1.0), (79.99, False, 0.999875),
                                                         (80.01, True, 1.0)])
def test_a_higher_kpi_at_its_target(value: float, met: bool, attainment: float) -> None:
    result = trial_run.evaluate("V1", [m(1, "sl", value)], rfp(SL))
    verdict = "met" if met else "not met"
    notes = [f"sl: {value:g}% (mean of 1 daily value, 2027-02-01 to 2027-02-01): {verdict} (target >= 80%)"]
    if not met:
        notes.append("failed: must-have KPI not met: sl")
    assert result == TrialResult("V1", met, round(attainment * 100, 4), (KpiAttainment("sl", value, 80.0, met,
                                                                                        attainment),), tuple(notes))


@pytest.mark.parametrize(("value", "met", "attainment"), [(300.0, True, 1.0), (300.5, False, 300 / 300.5),
                                                         (240.0, True, 1.0)])
def test_a_lower_kpi_at_its_target(value: float, met: bool, attainment: float) -> None:
    result = trial_run.evaluate("V1", [m(1, "aht", value)], rfp(AHT))
    verdict = "met" if met else "not met"
    assert result == TrialResult("V1", True, round(attainment * 100, 4), (
        KpiAttainment("aht", value, 300.0, met, attainment),),
        (f"aht: {value:g} s (mean of 1 daily value, 2027-02-01 to 2027-02-01): {verdict} (target <= 300 s)",))


@pytest.mark.parametrize(("kpi", "value", "met", "attainment"), [
    (Kpi("inc", "Incidents", "", 0.0, "lower"), 0.0, True, 1.0),
    (Kpi("inc", "Incidents", "", 0.0, "lower"), 1.0, False, 0.0),
    (Kpi("inc", "Incidents", "", 5.0, "lower"), 0.0, True, 1.0),
    (Kpi("inc", "Incidents", "", -1.0, "lower"), -1.0, True, 1.0),
    (Kpi("up", "Uptime", "", 0.0, "higher"), 0.0, True, 1.0),
    (Kpi("up", "Uptime", "", 0.0, "higher"), -0.5, False, 0.0),
    (Kpi("up", "Uptime", "", 10.0, "higher"), -5.0, False, 0.0),
])
def test_zero_and_negative_targets_and_values(kpi: Kpi, value: float, met: bool, attainment: float) -> None:
    result = trial_run.evaluate("V1", [m(1, kpi.id, value)], rfp(kpi))
    assert result.kpis == (KpiAttainment(kpi.id, value, kpi.target, met, attainment),)
    assert result.score == attainment * 100


# -- aggregation ------------------------------------------------------------------------


def test_a_day_with_many_rows_weighs_as_much_as_a_day_with_one() -> None:
    result = trial_run.evaluate("V1", [m(1, "sl", 70), m(1, "sl", 90), m(2, "sl", 79.9), m(3, "sl", 80.1)],
                                rfp(SL))
    assert result.kpis == (KpiAttainment("sl", 80.0, 80.0, True, 1.0),)
    assert result.notes == ("sl: 80% (mean of 3 daily values, 2027-02-01 to 2027-02-03): met (target >= 80%)",)


def test_a_count_kpi_is_the_sum() -> None:
    incidents = Kpi("inc", "Incidents", "count", 3.0, "lower")
    result = trial_run.evaluate("V1", [m(1, "inc", 1), m(1, "inc", 1), m(2, "inc", 2)], rfp(incidents))
    assert result == TrialResult("V1", True, 75.0, (KpiAttainment("inc", 4.0, 3.0, False, 0.75),),
                                 ("inc: 4 count (sum of 3 values, 2027-02-01 to 2027-02-02): not met "
                                  "(target <= 3 count)",))
    single = trial_run.evaluate("V1", [m(1, "inc", 2)], rfp(incidents))
    assert single.notes == ("inc: 2 count (sum of 1 value, 2027-02-01 to 2027-02-01): met (target <= 3 count)",)


# -- period and window ---------------------------------------------------------------------


def test_measurements_outside_the_period_are_ignored_with_a_note() -> None:
    plan = rfp(SL, start=D1 + dt.timedelta(days=1), end=D1 + dt.timedelta(days=2))
    result = trial_run.evaluate("V1", [m(1, "sl", 10), m(2, "sl", 90), m(3, "sl", 70), m(4, "sl", 10)], plan)
    assert result.kpis == (KpiAttainment("sl", 80.0, 80.0, True, 1.0),)
    assert result.notes == (
        "2 measurements outside the trial period (2027-02-02 to 2027-02-03) ignored",
        "sl: 80% (mean of 2 daily values, 2027-02-02 to 2027-02-03): met (target >= 80%)")


def test_one_measurement_outside_an_open_ended_period() -> None:
    result = trial_run.evaluate("V1", [m(1, "sl", 10), m(2, "sl", 90)], rfp(SL, start=D1 + dt.timedelta(days=1)))
    assert result.notes[0] == "1 measurement outside the trial period (2027-02-02 to ...) ignored"
    result = trial_run.evaluate("V1", [m(1, "sl", 90), m(2, "sl", 10)], rfp(SL, end=D1))
    assert result.notes[0] == "1 measurement outside the trial period (... to 2027-02-01) ignored"


def test_the_window_counts_the_last_n_days_up_to_the_trial_end() -> None:
    # (the loader copies [trial] window_days into each KPI that sets none)
    plan = rfp(attrs.evolve(SL, window_days=2), start=D1, end=D1 + dt.timedelta(days=4))
    result = trial_run.evaluate("V1", [m(1, "sl", 0), m(3, "sl", 0), m(4, "sl", 85), m(5, "sl", 75)], plan)
    assert result.kpis == (KpiAttainment("sl", 80.0, 80.0, True, 1.0),)
    assert result.notes == ("sl: 80% (mean of 2 daily values, 2027-02-04 to 2027-02-05, the last 2 days): met "
                            "(target >= 80%)",)


def test_without_a_trial_end_the_window_ends_on_the_latest_measurement() -> None:
    kpi = attrs.evolve(SL, window_days=1)
    result = trial_run.evaluate("V1", [m(1, "sl", 0), m(2, "sl", 90), m(2, "other", 1)], rfp(kpi))
    assert result.notes == (
        "measurements of KPIs the RFP does not define ignored: other",
        "sl: 90% (mean of 1 daily value, 2027-02-02 to 2027-02-02, the last 1 days): met (target >= 80%)")


def test_a_window_longer_than_the_period_starts_at_the_period() -> None:
    plan = rfp(attrs.evolve(SL, window_days=10), start=D1 + dt.timedelta(days=1), end=D1 + dt.timedelta(days=2))
    result = trial_run.evaluate("V1", [m(2, "sl", 80)], plan)
    assert result.notes == ("sl: 80% (mean of 1 daily value, 2027-02-02 to 2027-02-03, the last 10 days): met "
                            "(target >= 80%)",)


# -- missing data, must-haves and the score ------------------------------------------------------


def test_no_measurement_is_not_met_and_fails_a_must_have() -> None:
    result = trial_run.evaluate("V1", [m(1, "sl", 99, vendor="V2")], rfp(SL, AHT))
    assert result == TrialResult("V1", False, 0.0, (
        KpiAttainment("sl", None, 80.0, False, 0.0), KpiAttainment("aht", None, 300.0, False, 0.0)), (
        "sl: no measurements in the trial: not met (target >= 80%)",
        "aht: no measurements in the trial: not met (target <= 300 s)",
        "failed: must-have KPI not met: sl"))


def test_two_must_haves_failed_are_both_named() -> None:
    other = Kpi("fcr", "First contact resolution", "%", 70.0, must_have=True, weight=0.0)
    result = trial_run.evaluate("V1", [], rfp(SL, other))
    assert result.notes[-1] == "failed: must-have KPIs not met: sl, fcr"


def test_the_score_is_weighted_by_kpi_weight() -> None:
    # sl attains 0.5 with weight 1, aht attains 1.0 with weight 3: (50 + 300) / 4
    result = trial_run.evaluate("V1", [m(1, "sl", 40), m(1, "aht", 200)], rfp(SL, AHT))
    assert (result.passed, result.score) == (False, 87.5)


def test_all_weights_zero_is_a_plain_mean() -> None:
    a, b = attrs.evolve(SL, weight=0.0, must_have=False), attrs.evolve(AHT, weight=0.0)
    result = trial_run.evaluate("V1", [m(1, "sl", 40), m(1, "aht", 200)], rfp(a, b))
    assert (result.passed, result.score) == (True, 75.0)


def test_no_kpis_scores_zero() -> None:
    assert trial_run.evaluate("V1", [m(1, "sl", 1)], rfp()) == TrialResult(
        "V1", True, 0.0, (), ("measurements of KPIs the RFP does not define ignored: sl",
                              "the RFP defines no trial KPIs"))


# -- reading -------------------------------------------------------------------------------------


def read(tmp_path: Path, text: str, *kpis: Kpi, name: str = "trial.csv") -> list[Measurement]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return trial_run.read_trial_file(path, rfp(*kpis), name)


def refused(tmp_path: Path, text: str, *kpis: Kpi) -> tuple[str, list[tuple[str | None, str]]]:
    with pytest.raises(InputFileError) as caught:
        read(tmp_path, text, *kpis)
    return str(caught.value).splitlines()[0], [(p.place, p.message) for p in caught.value.problems]


@pytest.mark.parametrize("value", ["0", "100", "100%", "0%"])
def test_percentages_at_their_limits_are_read(tmp_path: Path, value: str) -> None:
    [measurement] = read(tmp_path, f"date,vendor,kpi,value\n2027-02-01,V1,sl,{value}\n", SL)
    assert measurement == Measurement(D1, "V1", "sl", float(value.rstrip("%")), "trial.csv:2")


@pytest.mark.parametrize("value", ["100.01", "-0.01"])
def test_a_percentage_past_its_limits_is_one_problem(tmp_path: Path, value: str) -> None:
    assert refused(tmp_path, f"date,vendor,kpi,value\n2027-02-01,V1,sl,{value}\n", SL) == (
        "trial.csv: 1 problem in the trial data; nothing was imported",
        [("2", f"value {value} is not a percentage between 0 and 100 (the KPI sl is in %)")])


def test_every_bad_cell_of_a_row_is_reported(tmp_path: Path) -> None:
    header, problems = refused(tmp_path, "date,vendor,kpi,value\nnot a date,,sl,85\n", SL)
    assert header == "trial.csv: 2 problems in the trial data; nothing was imported"
    assert [place for place, _ in problems] == ["2", "2"]


def test_a_header_without_rows(tmp_path: Path) -> None:
    assert refused(tmp_path, "date,vendor,kpi,value\n", SL) == (
        "trial.csv: 1 problem in the trial data; nothing was imported",
        [(None, "no measurements: the file has a header row but no data rows")])


def test_a_file_that_cannot_be_read(tmp_path: Path) -> None:
    folder = tmp_path / "trial.csv"
    folder.mkdir()
    with pytest.raises(InputFileError) as caught:
        trial_run.read_trial_file(folder, rfp(SL), "trial.csv")
    assert str(caught.value) == "trial.csv: file not found"
    with pytest.raises(InputFileError) as caught:
        trial_run.decode_csv(folder, "trial.csv")
    assert str(caught.value).startswith("trial.csv: cannot be read (")


def test_other_suffixes_are_not_read(tmp_path: Path) -> None:
    assert trial_run.read_trial_file(tmp_path / "trial.txt", rfp(SL), "trial.txt") is None


@pytest.mark.parametrize("text", ["", "\n\n,,,\n"])
def test_an_empty_file_asks_for_a_header_row(tmp_path: Path, text: str) -> None:
    assert refused(tmp_path, text, SL) == (
        "trial.csv: 1 problem in the trial data; nothing was imported",
        [("1", "the file is empty; it needs a header row: date, vendor, kpi, value")])


def test_values_in_notes_are_shown_to_four_decimals() -> None:
    result = trial_run.evaluate("V1", [m(1, "sl", 80.123456)], rfp(SL))
    assert result.notes == ("sl: 80.1235% (mean of 1 daily value, 2027-02-01 to 2027-02-01): met (target >= 80%)",)


def test_at_most_100_problems_are_listed_and_the_rest_counted(tmp_path: Path) -> None:
    rows = "".join(f"2027-02-01,V1,sl,{100 + n}\n" for n in range(1, 103))
    header, problems = refused(tmp_path, "date,vendor,kpi,value\n" + rows, SL)
    assert header == "trial.csv: 102 problems in the trial data; nothing was imported"
    assert len(problems) == 101
    assert problems[99] == ("101", "value 200 is not a percentage between 0 and 100 (the KPI sl is in %)")
    assert problems[100] == (None, "... and 2 more problems")
