"""Every validation branch of the rfp.toml loader, with the exact message and line.

The definitions are small TOML texts checked structurally (``check_rfp`` without plugins), so each
test names the one problem it expects, where it is, and that nothing else was reported.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from rfpflow import hookimpl
from rfpflow.definition import check_rfp, load_rfp, read_toml
from rfpflow.errors import DefinitionError, PluginError, Problem
from rfpflow.model import Rfp
from rfpflow.testing import make_context, make_host

BASE = """\
id = "RFP-1"
title = "Cleaning services"
buyer = "City hall"
category = "BPO"
currency = "CNY"

[timeline]
bid_deadline = 2027-03-01

[criteria.quality]
name = "Quality"
weight = 100

[[evaluators]]
id = "e1"
name = "Ann"
"""


def write(tmp_path: Path, extra: str, base: str, top: str) -> Path:
    """BASE with ``top`` (top-level keys) after its fifth line and ``extra`` (tables) at the end."""
    lines = base.splitlines(keepends=True)
    path = tmp_path / "rfp.toml"
    path.write_text("".join(lines[:5]) + top + "".join(lines[5:]) + extra, encoding="utf-8")
    return path


def problems(tmp_path: Path, extra: str = "", base: str = BASE, *,
             top: str = "") -> list[tuple[str | None, str | None, str]]:
    """(line, field, message) of every problem in the definition ``write`` makes."""
    path = write(tmp_path, extra, base, top)
    rfp, found = check_rfp(path)
    assert all(p.file == "rfp.toml" for p in found)
    assert (rfp is None) == any(p.severity == "error" for p in found)
    return [(p.place, p.field, p.message) for p in found]


def load(tmp_path: Path, extra: str = "", base: str = BASE, *, top: str = "") -> Rfp:
    return load_rfp(write(tmp_path, extra, base, top))


def test_the_base_definition_is_valid_with_every_default(tmp_path: Path) -> None:
    rfp = load(tmp_path)
    assert (rfp.id, rfp.title, rfp.buyer, rfp.category, rfp.currency, rfp.language, rfp.profile) == (
        "RFP-1", "Cleaning services", "City hall", "BPO", "CNY", "en", "generic")
    assert (rfp.contract_value, rfp.budget_ceiling, rfp.two_envelope, rfp.decimal_comma) == (None, None, False, False)
    assert rfp.timeline.bid_deadline == dt.date(2027, 3, 1)
    [crit] = rfp.criteria
    assert (crit.id, crit.name, crit.weight, crit.direction, crit.scale, crit.source.kind) == (
        "quality", "Quality", 100.0, "benefit", (0.0, 10.0), "judgement")
    assert (rfp.scoring.method, rfp.scoring.normalization, rfp.scoring.consensus, rfp.scoring.outlier_threshold,
            rfp.scoring.blind) == ("weighted-sum", "min-max", "mean", 2.0, False)
    assert (rfp.trial.enabled, rfp.shortlist.top, rfp.standstill_days) == (False, None, None)
    assert [(e.id, e.name, e.role) for e in rfp.evaluators] == [("e1", "Ann", "evaluator")]


# -- required text: missing, empty, wrong type -------------------------------


@pytest.mark.parametrize(("key", "line"), [("id", 1), ("title", 2), ("buyer", 3), ("category", 4),
                                           ("currency", 5)])
def test_each_required_top_level_text(tmp_path: Path, key: str, line: int) -> None:
    head, rest = BASE.splitlines(keepends=True)[:5], "".join(BASE.splitlines(keepends=True)[5:])

    def replaced(new: str) -> str:
        return "".join(new if x.startswith(f"{key} =") else x for x in head) + rest

    assert problems(tmp_path, base=replaced("")) == [(None, key, "is required")]
    assert problems(tmp_path, base=replaced(f"{key} = 7\n")) == [(str(line), key, "must be text, got 7")]
    blank = problems(tmp_path, base=replaced(f'{key} = "  "\n'))
    assert blank == [(str(line), key, "must not be empty")]


def test_patterns_and_choices(tmp_path: Path) -> None:
    base = BASE.replace('id = "RFP-1"', 'id = "RFP 1"').replace('currency = "CNY"', 'currency = "cny"')
    base = base.replace('category = "BPO"', 'category = "BP0"')
    assert problems(tmp_path, base=base, top='language = "fr"\n') == [
        ("1", "id", "'RFP 1' is not valid: use letters, digits, '-', '_' and '.', e.g. RFP-2026-001"),
        ("4", "category", "must be one of ITO, BPO, KPO, goods, works, other; got 'BP0' (did you mean 'BPO'?)"),
        ("5", "currency", "'cny' is not valid: use the 3-letter ISO 4217 code, e.g. CNY, EUR, USD"),
        ("6", "language", "must be one of en, zh; got 'fr'"),
    ]


def test_format_version(tmp_path: Path) -> None:
    assert problems(tmp_path, top="format = 2\n") == [("6", "format", "this rfpflow reads format 1; got 2")]
    assert load(tmp_path, top="format = 1\n").id == "RFP-1"


def test_unknown_top_level_key_suggests_the_close_one(tmp_path: Path) -> None:
    assert problems(tmp_path, top='buyr = "x"\nzzz = 1\n') == [
        ("6", "buyr", "unknown key 'buyr' (did you mean 'buyer'?)"), ("7", "zzz", "unknown key 'zzz'")]


# -- numbers ------------------------------------------------------------------


@pytest.mark.parametrize(("value", "message"), [
    ("0", "must be > 0, got 0"),
    ("-1", "must be > 0, got -1"),
    ('"100"', "must be a number, got '100' (text)"),
    ("true", "must be a number, got true (a boolean)"),
    ("inf", "must be a finite number, got inf"),
    ("nan", "must be a finite number, got nan"),
    ("[1]", "must be a number, got a list"),
])
def test_money_must_be_a_positive_finite_number(tmp_path: Path, value: str, message: str) -> None:
    assert problems(tmp_path, top=f"budget_ceiling = {value}\n") == [("6", "budget_ceiling", message)]


def test_money_is_kept_exact(tmp_path: Path) -> None:
    rfp = load(tmp_path, top="budget_ceiling = 0.01\ncontract_value = 1_000_000\n")
    assert (rfp.budget_ceiling, rfp.contract_value) == (Decimal("0.01"), Decimal(1_000_000))


def test_a_number_too_large_for_a_float(tmp_path: Path) -> None:
    assert problems(tmp_path, top=f"budget_ceiling = {10 ** 400}\n") == [
        ("6", "budget_ceiling", "is too large a number")]


@pytest.mark.parametrize(("value", "found"), [
    ("0", [("18", "shortlist.top", "must be >= 1, got 0")]),
    ("1", []),
    ("2.0", [("18", "shortlist.top", "must be a whole number, got 2.0")]),
    ("true", [("18", "shortlist.top", "must be a whole number, got true (a boolean)")]),
])
def test_whole_numbers_at_their_minimum(tmp_path: Path, value: str, found: list[tuple[str, str, str]]) -> None:
    assert problems(tmp_path, f"[shortlist]\ntop = {value}\n") == found


def test_minimums_that_allow_zero(tmp_path: Path) -> None:
    rfp = load(tmp_path, "[shortlist]\nmin_score = 0\n[award]\nstandstill_days = 0\n")
    assert (rfp.shortlist.min_score, rfp.standstill_days) == (0.0, 0)
    assert problems(tmp_path, "[shortlist]\nmin_score = -0.5\n[award]\nstandstill_days = -1\n") == [
        ("18", "shortlist.min_score", "must be >= 0, got -0.5"),
        ("20", "award.standstill_days", "must be >= 0, got -1")]


def test_booleans(tmp_path: Path) -> None:
    assert load(tmp_path, top="two_envelope = true\ndecimal_comma = true\n").two_envelope is True
    assert problems(tmp_path, top="decimal_comma = 1\n") == [("6", "decimal_comma", "must be true or false, got 1")]


# -- timeline -----------------------------------------------------------------


def test_two_timeline_steps_on_the_same_day_are_in_order(tmp_path: Path) -> None:
    base = BASE.replace("bid_deadline = 2027-03-01", "issue_date = 2027-03-01\nbid_deadline = 2027-03-01T17:00:00")
    base = base.replace('currency = ', 'timezone = "Europe/Berlin"\ncurrency = ', 1)  # no offset: the buyer's zone
    rfp = load(tmp_path, base=base)
    assert rfp.timeline.issue_date == dt.date(2027, 3, 1)
    assert rfp.timeline.bid_deadline == dt.datetime(2027, 3, 1, 17, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin"))


def test_a_step_one_day_before_the_previous_one(tmp_path: Path) -> None:
    base = BASE.replace("bid_deadline = 2027-03-01", "bid_deadline = 2027-03-01\ndecision_date = 2027-02-28\n"
                        "contract_start = 2020-01-01")
    assert problems(tmp_path, base=base) == [
        ("9", "timeline.decision_date", "2027-02-28 is before bid_deadline (2027-03-01); the timeline runs "
         "issue_date -> clarification_deadline -> bid_deadline -> trial_start -> trial_end -> decision_date")]


@pytest.mark.parametrize(("line", "message"), [
    ("bid_deadline = '2027-03-01'", "must be a date, got '2027-03-01' (text) (write it without quotes: 2027-03-01)"),
    ("bid_deadline = '2027/3/1'", "must be a date, got '2027/3/1' (text) (write it without quotes: 2027-03-01)"),
    ("bid_deadline = 'next Friday'",
     "must be a date, got 'next Friday' (text) (write it without quotes: 2026-03-01)"),
    ("bid_deadline = 17:00:00", "must be a date, got a time of day"),
    ("bid_deadline = 5", "must be a date, got 5"),
])
def test_a_deadline_that_is_not_a_date(tmp_path: Path, line: str, message: str) -> None:
    base = BASE.replace("bid_deadline = 2027-03-01", line)
    assert problems(tmp_path, base=base) == [("8", "timeline.bid_deadline", message)]


def test_only_the_deadlines_may_have_a_time(tmp_path: Path) -> None:
    base = BASE.replace("bid_deadline = 2027-03-01", "bid_deadline = 2027-03-01\ntrial_start = 2027-04-01T09:00:00")
    assert problems(tmp_path, base=base) == [
        ("9", "timeline.trial_start", "must be a date (YYYY-MM-DD), got 2027-04-01T09:00:00 (a date-time)")]


def test_the_bid_deadline_is_required(tmp_path: Path) -> None:
    base = BASE.replace("bid_deadline = 2027-03-01", "issue_date = 2027-01-01")
    assert problems(tmp_path, base=base) == [("7", "timeline.bid_deadline", "is required")]


# -- criteria -----------------------------------------------------------------

NO_CRITERIA = BASE.replace('[criteria.quality]\nname = "Quality"\nweight = 100\n', "")


def test_criteria_are_required(tmp_path: Path) -> None:
    assert problems(tmp_path, base=NO_CRITERIA.replace('[[evaluators]]\nid = "e1"\nname = "Ann"\n', "")) == [
        (None, "criteria", "at least one criterion is required: add a [criteria.NAME] table")]


@pytest.mark.parametrize(("weights", "found"), [
    ((60, 40), []),
    ((0.6, 0.4), []),
    ((60, 39), [(None, "criteria", "the top-level weights add up to 99; they must add up to 100 (points) or 1 "
                                   "(shares)")]),
    ((60, 40.5), [(None, "criteria", "the top-level weights add up to 100.5; they must add up to 100 (points) or "
                                     "1 (shares)")]),
])
def test_top_level_weights_add_up_to_100_or_1(tmp_path: Path, weights: tuple[float, float], found: list) -> None:
    extra = (f'[criteria.a]\nname = "A"\nweight = {weights[0]}\n'
             f'[criteria.b]\nname = "B"\nweight = {weights[1]}\n')
    assert problems(tmp_path, base=NO_CRITERIA + extra) == found


def test_a_criterion_needs_a_name_and_a_positive_weight(tmp_path: Path) -> None:
    extra = '[criteria.a]\nweight = 100\n[criteria.b]\nname = "B"\nweight = 0\n'
    assert problems(tmp_path, base=NO_CRITERIA + extra) == [
        ("14", "criteria.a.name", "is required"),
        ("18", "criteria.b.weight", "must be > 0, got 0"),
    ]


def test_sub_criteria_weights_must_add_up_to_the_parent(tmp_path: Path) -> None:
    extra = ('[criteria.tech]\nname = "T"\nweight = 100\n'
             '[criteria.tech.a]\nname = "A"\nweight = 60\n[criteria.tech.b]\nname = "B"\nweight = 30\n')
    assert problems(tmp_path, base=NO_CRITERIA + extra) == [
        ("16", "criteria.tech.weight", "is 100 but its sub-criteria's weights add up to 90")]
    ok = extra.replace("weight = 30", "weight = 40")
    rfp = load(tmp_path, base=NO_CRITERIA + ok)
    assert [(c.id, c.weight) for c in rfp.leaf_criteria()] == [("a", 60.0), ("b", 40.0)]


def test_a_parent_criterion_has_no_source_of_its_own(tmp_path: Path) -> None:
    extra = ('[criteria.tech]\nname = "T"\nweight = 100\nsource = "bid"\n'
             '[criteria.tech.a]\nname = "A"\nweight = 100\n')
    assert problems(tmp_path, base=NO_CRITERIA + extra) == [
        ("17", "criteria.tech.source", "only a criterion without sub-criteria has a source; move it to a "
                                       "sub-criterion")]


def test_bid_sourced_criteria_need_a_field_and_a_rule(tmp_path: Path) -> None:
    extra = '[criteria.a]\nname = "A"\nweight = 100\nsource = "bid"\n'
    assert problems(tmp_path, base=NO_CRITERIA + extra) == [
        ("14", "criteria.a.field", 'is required when source = "bid": name the bid field or question id'),
        ("14", "criteria.a.rule", 'is required when source = "bid": say how the value becomes points'),
    ]
    judged = '[criteria.a]\nname = "A"\nweight = 100\nfield = "years"\n'
    assert problems(tmp_path, base=NO_CRITERIA + judged) == [
        ("14", "criteria.a.source", "a field or rule is only used when source = \"bid\", not 'judgement'")]


SCALE = "must be [lowest, highest] with lowest < highest, got "


@pytest.mark.parametrize(("scale", "found"), [
    ("[1, 5]", []),
    ("[5, 5]", [("17", "criteria.a.scale", SCALE + "[5, 5]")]),
    ("[10, 0]", [("17", "criteria.a.scale", SCALE + "[10, 0] (reversed; write scale = [0, 10], and direction = "
                  "\"cost\" if a lower value is better)")]),
    ("[0, 10, 20]", [("17", "criteria.a.scale", SCALE + "[0, 10, 20]")]),
    ("[0, true]", [("17", "criteria.a.scale", SCALE + "[0, true (a boolean)]")]),
    ("[0, inf]", [("17", "criteria.a.scale", SCALE + "[0, inf]")]),
])
def test_scale(tmp_path: Path, scale: str, found: list) -> None:
    extra = f'[criteria.a]\nname = "A"\nweight = 100\nscale = {scale}\n'
    assert problems(tmp_path, base=NO_CRITERIA + extra) == found
    if not found:
        assert load(tmp_path, base=NO_CRITERIA + extra).criteria[0].scale == (1.0, 5.0)


def test_criterion_ids_must_be_valid_and_unique_across_the_tree(tmp_path: Path) -> None:
    extra = ('[criteria."a b"]\nname = "AB"\nweight = 20\n[criteria.a]\nname = "A"\nweight = 30\n'
             '[criteria.c]\nname = "C"\nweight = 50\n[criteria.c.a]\nname = "A2"\nweight = 50\n')
    assert problems(tmp_path, base=NO_CRITERIA + extra) == [
        ("14", "criteria.a b", "criterion id 'a b' may only use letters, digits, '-', '_' and '.'"),
        ("23", "criteria.c.a", "criterion id 'a' is used twice (also at criteria.a); ids must be unique"),
    ]


# -- gates ----------------------------------------------------------------------


def test_gates(tmp_path: Path) -> None:
    extra = ('[gates.iso]\nkind = "certification"\nany_of = ["ISO 9001"]\n'
             '[gates.years]\nkind = "min_years"\nyears = 3\non_fail = "review"\nname = "Age"\n')
    rfp = load(tmp_path, extra)
    assert [(g.id, g.kind, g.name, g.on_fail, dict(g.params)) for g in rfp.gates] == [
        ("iso", "certification", "iso", "fail", {"any_of": ["ISO 9001"]}),
        ("years", "min_years", "Age", "review", {"years": 3})]


def test_gate_problems(tmp_path: Path) -> None:
    extra = ('[gates]\nplain = 3\n[gates."bad id"]\nkind = "min_years"\n'
             '[gates.nokind]\nyears = 3\n[gates.x]\nkind = "min_years"\non_fail = "warn"\n')
    assert problems(tmp_path, extra) == [
        ("18", "gates.plain", "must be a table describing the gate, got 3"),
        ("19", "gates.bad id", "gate id 'bad id' may only use letters, digits, '-', '_' and '.'"),
        ("21", "gates.nokind.kind", "is required"),
        ("25", "gates.x.on_fail", "must be one of fail, review; got 'warn'"),
    ]


# -- pricing --------------------------------------------------------------------


def test_line_items_inline(tmp_path: Path) -> None:
    extra = '[[pricing.items]]\nid = "L1"\ndescription = "Hours"\nunit = "h"\nquantity = 12.5\n'
    [item] = load(tmp_path, extra).line_items
    assert (item.id, item.description, item.unit, item.quantity) == ("L1", "Hours", "h", Decimal("12.5"))


@pytest.mark.parametrize(("key", "line", "blank"), [
    ("id", 18, "must not be empty"), ("description", 19, "must not be empty"), ("unit", 20, "must not be empty"),
    ("quantity", 21, "must be > 0, got 0")])
def test_each_line_item_field_is_required(tmp_path: Path, key: str, line: int, blank: str) -> None:
    fields = {"id": '"L1"', "description": '"Hours"', "unit": '"h"', "quantity": "3"}
    without = "[[pricing.items]]\n" + "".join(f"{k} = {v}\n" for k, v in fields.items() if k != key)
    assert problems(tmp_path, without) == [("17", f"pricing.items[1].{key}", "is required")]
    empty = {**fields, key: "0" if key == "quantity" else '"  "'}
    text = "[[pricing.items]]\n" + "".join(f"{k} = {v}\n" for k, v in empty.items())
    assert problems(tmp_path, text) == [(str(line), f"pricing.items[1].{key}", blank)]
    assert load(tmp_path, "[[pricing.items]]\n" + "".join(f"{k} = {v}\n" for k, v in fields.items())).line_items


def test_line_item_problems(tmp_path: Path) -> None:
    extra = ('[[pricing.items]]\nid = "L1"\ndescription = "A"\nunit = "h"\nquantity = 1\ncolour = "red"\n'
             '[[pricing.items]]\nid = "L1"\ndescription = "B"\nunit = "h"\nquantity = 2\n')
    assert problems(tmp_path, extra) == [
        ("22", "pricing.items[1].colour", "unknown key 'colour'"),
        ("24", "pricing.items[2].id", "line item id 'L1' is used twice"),
    ]
    assert problems(tmp_path, "[pricing]\nitems = 3\n") == [
        ("18", "pricing.items", "must be a list of line items ([[pricing.items]]), got 3")]
    assert problems(tmp_path, "[pricing]\nitems = [3]\n") == [
        ("18", "pricing.items[1]", "must be a table with id, description, unit and quantity, got 3")]


def _item_workbook(path: Path, rows: list[tuple[object, ...]]) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(("id", "description", "unit", "quantity"))
    for row in rows:
        ws.append(row)
    wb.save(path)


def test_line_items_from_an_items_file_next_to_the_definition(tmp_path: Path) -> None:
    _item_workbook(tmp_path / "items.xlsx", [("L1", "Hotline hours", "h", 1200), ("L2", "Set-up", "lot", 1)])
    rfp = load(tmp_path, '[pricing]\nitems_file = "items.xlsx"\n')
    assert [(i.id, i.description, i.unit, i.quantity) for i in rfp.line_items] == [
        ("L1", "Hotline hours", "h", Decimal(1200)), ("L2", "Set-up", "lot", Decimal(1))]


def test_items_file_and_inline_items_together(tmp_path: Path) -> None:
    _item_workbook(tmp_path / "items.xlsx", [("L1", "Hotline hours", "h", 1200)])
    extra = ('[pricing]\nitems_file = "items.xlsx"\n'
             '[[pricing.items]]\nid = "L9"\ndescription = "A"\nunit = "h"\nquantity = 1\n')
    assert problems(tmp_path, extra) == [
        ("18", "pricing.items_file", "give the line items inline or in items_file, not both")]


def test_a_missing_items_file_is_a_problem_of_that_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[pricing]\nitems_file = "nowhere.xlsx"\n', BASE, "")
    rfp, found = check_rfp(path)
    assert rfp is None
    assert [(p.file, p.place, p.field, p.message) for p in found] == [
        ("nowhere.xlsx", None, None, "nowhere.xlsx: file not found")]


# -- questionnaire -------------------------------------------------------------


def test_questions(tmp_path: Path) -> None:
    extra = ('[[questionnaire]]\nid = "Q1"\ntext = "Accept?"\nmandatory = true\n'
             '[[questionnaire]]\nid = "Q2"\ntext = "NDA"\nchoices = ["Agree", "Refuse"]\nrequired_answer = "Agree"\n')
    assert [(q.id, q.text, q.mandatory, q.choices, q.required_answer) for q in load(tmp_path, extra).questionnaire] \
        == [("Q1", "Accept?", True, ("Yes", "No"), None), ("Q2", "NDA", False, ("Agree", "Refuse"), "Agree")]


@pytest.mark.parametrize(("body", "found"), [
    ('id = "Q1"\n', [("17", "questionnaire[1].text", "is required")]),
    ('text = "T"\n', [("17", "questionnaire[1].id", "is required")]),
    ('id = "Q1"\ntext = ""\n', [("19", "questionnaire[1].text", "must not be empty")]),
    ('id = "Q1"\ntext = "T"\nchoices = ["Yes"]\n',
     [("20", "questionnaire[1].choices", "must list at least two different answers")]),
    ('id = "Q1"\ntext = "T"\nchoices = ["Yes", "Yes"]\n',
     [("20", "questionnaire[1].choices", "must list at least two different answers")]),
    ('id = "Q1"\ntext = "T"\nrequired_answer = "Maybe"\n',
     [("20", "questionnaire[1].required_answer", "'Maybe' is not one of the choices ['Yes', 'No']")]),
    ('id = "Q1"\ntext = "T"\nmandatory = "yes"\n',
     [("20", "questionnaire[1].mandatory", "must be true or false, got 'yes' (text)")]),
])
def test_question_problems(tmp_path: Path, body: str, found: list) -> None:
    assert problems(tmp_path, "[[questionnaire]]\n" + body) == found


def test_a_question_id_used_twice(tmp_path: Path) -> None:
    extra = '[[questionnaire]]\nid = "Q1"\ntext = "A"\n[[questionnaire]]\nid = "Q1"\ntext = "B"\n'
    assert problems(tmp_path, extra) == [("21", "questionnaire[2].id", "question id 'Q1' is used twice")]
    assert problems(tmp_path, top="questionnaire = 1\n") == [
        ("6", "questionnaire", "must be a list of questions ([[questionnaire]]), got 1")]


# -- trial, evaluators, scoring, cross-checks -------------------------------------


def test_a_trial_without_kpis(tmp_path: Path) -> None:
    assert problems(tmp_path, "[trial]\nwindow_days = 7\n") == [
        ("17", "trial", "a trial run needs KPIs: add [trial.kpis.NAME] tables or a preset, or set enabled = false")]
    assert load(tmp_path, "[trial]\nenabled = false\n").trial.enabled is False


def test_kpis(tmp_path: Path) -> None:
    extra = ('[trial]\nwindow_days = 7\n[trial.kpis.sl]\nname = "Service level"\ntarget = 0.8\n'
             '[trial.kpis.aht]\nname = "Handling time"\ntarget = 300\ndirection = "lower"\nmust_have = true\n'
             'weight = 0\nwindow_days = 3\nunit = "s"\n')
    trial = load(tmp_path, extra).trial
    assert (trial.enabled, trial.window_days) == (True, 7)
    assert [(k.id, k.name, k.unit, k.target, k.direction, k.must_have, k.weight, k.window_days)
            for k in trial.kpis] == [("sl", "Service level", "", 0.8, "higher", False, 1.0, 7),
                                     ("aht", "Handling time", "s", 300.0, "lower", True, 0.0, 3)]
    assert problems(tmp_path, "[trial]\nwindow_days = 0\n[trial.kpis.sl]\nname = 'S'\ntarget = 1\nweight = -1\n") \
        == [("18", "trial.window_days", "must be >= 1, got 0"), ("22", "trial.kpis.sl.weight", "must be >= 0, got -1")]


def test_evaluator_problems(tmp_path: Path) -> None:
    extra = '[[evaluators]]\nid = "e1"\nname = "Bob"\n[[evaluators]]\nname = "Cy"\n'
    assert problems(tmp_path, extra) == [
        ("18", "evaluators[2].id", "evaluator id 'e1' is used twice"), ("20", "evaluators[3].id", "is required")]


def test_judgement_criteria_need_an_evaluator(tmp_path: Path) -> None:
    assert problems(tmp_path, base=BASE.replace('[[evaluators]]\nid = "e1"\nname = "Ann"\n', "")) == [
        (None, "evaluators", "criteria scored by evaluators' judgement need at least one [[evaluators]] entry")]


def test_price_and_trial_criteria_need_items_and_a_trial(tmp_path: Path) -> None:
    extra = ('[criteria.p]\nname = "P"\nweight = 50\nsource = "price"\n'
             '[criteria.t]\nname = "T"\nweight = 50\nsource = "trial"\n'
             '[scoring.award]\nevaluation = 0.5\ntrial = 0.5\n')
    assert problems(tmp_path, base=NO_CRITERIA + extra) == [
        (None, "pricing", 'a criterion with source = "price" needs line items ([[pricing.items]])'),
        (None, "trial", 'a criterion with source = "trial" needs a trial run ([trial] with KPIs)'),
        ("24", "scoring.award.trial", "the award gives weight to the trial run, but the RFP has none"),
    ]


@pytest.mark.parametrize(("award", "found"), [
    ("evaluation = 0.6\nprice = 0.4\n", []),
    ("evaluation = 0.6\nprice = 0.3\n", [("17", "scoring.award", "the award weights add up to 0.9; they must add up "
                                                                 "to 1")]),
    ("evaluation = 1\npirce = 0\n", [("19", "scoring.award.pirce", "unknown award component 'pirce' (did you mean "
                                                                    "'price'?); use evaluation, price and trial")]),
])
def test_award_weights(tmp_path: Path, award: str, found: list) -> None:
    assert problems(tmp_path, "[scoring.award]\n" + award) == found


def test_scoring_options(tmp_path: Path) -> None:
    extra = ('[scoring]\nnormalization = "ratio"\nconsensus = "median"\noutlier_threshold = 0\nblind = true\n'
             'tie_break = ["price", "vendor"]\n')
    plan = load(tmp_path, extra).scoring
    assert (plan.normalization, plan.consensus, plan.outlier_threshold, plan.blind, plan.tie_break) == (
        "ratio", "median", 0.0, True, ("price", "vendor"))
    assert problems(tmp_path, '[scoring]\noutlier_threshold = -1\ntie_break = ["cost"]\n') == [
        ("19", "scoring.tie_break", "unknown tie-break key 'cost'; choose from total_score, price, technical_score, "
                                    "submitted_at, vendor, trial_score"),
        ("18", "scoring.outlier_threshold", "must be >= 0, got -1"),
    ]


def test_plugin_tables(tmp_path: Path) -> None:
    extra = '[plugins]\ndisable = "acme"\nacme = 1\n[plugins.registry]\nsource = "x.json"\n'
    assert problems(tmp_path, extra) == [
        ("18", "plugins.disable", "must be a list of text, got 'acme' (text)"),
        ("19", "plugins.acme", "must be a table of the plugin's options, got 1")]
    assert problems(tmp_path, top="plugins = 3\n") == [("6", "plugins", "must be a table, got 3")]


# -- not TOML ---------------------------------------------------------------------


def test_toml_syntax_errors_name_the_line_column_and_the_detail(tmp_path: Path) -> None:
    path = tmp_path / "rfp.toml"
    path.write_text('id = "x"\ntitle = = 3\n', encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        read_toml(path)
    assert str(caught.value) == "rfp.toml:2: not valid TOML: Invalid value (column 9)"


def test_a_file_ending_in_the_middle_of_a_value(tmp_path: Path) -> None:
    path = tmp_path / "rfp.toml"
    path.write_text('id = "x"\nlist = [1,\n', encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        read_toml(path)
    assert str(caught.value) == ("rfp.toml:2: not valid TOML: the file ends in the middle of a value "
                                 "(an unclosed list, table or string?)")


def test_a_missing_file_and_too_deep_nesting(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError) as caught:
        read_toml(tmp_path / "rfp.toml")
    assert str(caught.value) == "rfp.toml: file not found; create one with `rfpflow new DIR`"
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        read_toml(path)
    assert str(caught.value) == "deep.toml: not valid TOML: tables or lists are nested too deeply"


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "rfp.toml"
    path.write_bytes(b'id = "x"\n\ntitle = "\xff"\n')
    with pytest.raises(DefinitionError) as caught:
        read_toml(path)
    assert str(caught.value) == ("rfp.toml:3: is not UTF-8 text; save the file as UTF-8 (most editors offer it "
                                 "under 'Save as')")


def test_an_integer_of_too_many_digits(tmp_path: Path) -> None:
    path = tmp_path / "rfp.toml"
    path.write_text('id = "x"\nbudget_ceiling = ' + "9" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        read_toml(path)
    assert str(caught.value) == "rfp.toml:2: budget_ceiling: is too large a number (5000 digits)"


def test_load_rfp_counts_the_problems(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError) as caught:
        load(tmp_path, top="format = 2\n")
    assert str(caught.value).startswith("rfp.toml: 1 problem in the RFP definition")
    with pytest.raises(DefinitionError) as caught:
        load(tmp_path, top="format = 2\nzzz = 1\n")
    assert str(caught.value).startswith("rfp.toml: 2 problems in the RFP definition")


# -- plugins' checks ----------------------------------------------------------------------


class _Crashing:
    @hookimpl
    def rfpflow_validate_rfp(self, rfp, context):
        raise RuntimeError("boom")


class _Strict:
    @hookimpl
    def rfpflow_validate_rfp(self, rfp, context):
        return [Problem("buyers must be named in capitals", field="buyer")]


def test_a_plugin_crashing_on_a_sound_definition_is_an_error_not_silence(tmp_path: Path) -> None:
    path = write(tmp_path, "", BASE, "")
    host = make_host(_Crashing())
    with pytest.raises(PluginError) as caught:
        check_rfp(path, context=make_context(host))
    assert str(caught.value) == "plugin '_Crashing' failed in rfpflow_validate_rfp: RuntimeError: boom"


def test_a_plugin_crashing_on_a_broken_definition_leaves_the_structural_problems(tmp_path: Path) -> None:
    path = write(tmp_path, "", BASE, "format = 2\n")
    rfp, found = check_rfp(path, context=make_context(make_host(_Crashing())))
    assert rfp is None
    assert [(p.place, p.field, p.message) for p in found] == [("6", "format", "this rfpflow reads format 1; got 2")]


def test_a_plugin_problem_gets_the_file_and_the_line_of_its_field(tmp_path: Path) -> None:
    path = write(tmp_path, "", BASE, "")
    rfp, found = check_rfp(path, context=make_context(make_host(_Strict())))
    assert rfp is None
    assert [(p.file, p.place, p.field, p.message) for p in found] == [
        ("rfp.toml", "3", "buyer", "buyers must be named in capitals")]


# -- AHP weights ----------------------------------------------------------------------------

AHP_CRITERIA = ('[criteria.tech]\nname = "T"\n[criteria.tech.a]\nname = "A"\nweight = 3\n'
                '[criteria.tech.b]\nname = "B"\nweight = 1\n[criteria.price]\nname = "P"\n')


def ahp(tmp_path: Path, table: str) -> list[tuple[str | None, str | None, str]]:
    return problems(tmp_path, AHP_CRITERIA + "[scoring.ahp]\n" + table, NO_CRITERIA)


def test_ahp_weights_rescale_the_sub_criteria(tmp_path: Path) -> None:
    table = '[scoring.ahp]\ncriteria = ["tech", "price"]\nmatrix = [[1, 3], [0.3333333, 1]]\n'
    rfp = load(tmp_path, AHP_CRITERIA + table, NO_CRITERIA)
    assert [(c.id, round(c.weight, 4)) for c in rfp.criteria] == [("tech", 75.0), ("price", 25.0)]
    assert [(c.id, round(c.weight, 4)) for c in rfp.criteria[0].children] == [("a", 56.25), ("b", 18.75)]
    assert rfp.scoring.options["ahp"]["criteria"] == ("tech", "price")
    assert rfp.scoring.options["ahp"]["weights"] == [0.75, 0.25]


@pytest.mark.parametrize(("table", "found"), [
    ('criteria = ["tech"]\nmatrix = [[1]]\n',
     [("25", "scoring.ahp.criteria", "must list each top-level criterion once: tech, price")]),
    ('criteria = ["tech", "price", "price"]\nmatrix = [[1]]\n',
     [("25", "scoring.ahp.criteria", "must list each top-level criterion once: tech, price")]),
    ('criteria = ["tech", "price"]\nmatrix = [1, 1]\n',
     [("26", "scoring.ahp.matrix", "must be a square list of lists of numbers, got a list")]),
    ('criteria = ["tech", "price"]\n',
     [("24", "scoring.ahp.matrix", "must be a square list of lists of numbers, got None")]),
    ('criteria = ["tech", "price"]\nmatrix = [[1, 1, 1], [1, 1, 1], [1, 1, 1]]\n',
     [("26", "scoring.ahp.matrix", "is 3x3 but lists 2 criteria")]),
    ('criteria = ["tech", "price"]\nmatrix = [[1, 2], [0.5, 1]]\nweights = 1\n',
     [("27", "scoring.ahp.weights", "unknown key 'weights'")]),
])
def test_ahp_problems(tmp_path: Path, table: str, found: list) -> None:
    assert ahp(tmp_path, table) == found


def test_a_criterion_that_is_not_a_table(tmp_path: Path) -> None:
    assert problems(tmp_path, base=NO_CRITERIA, top="criteria = { quality = 3 }\n") == [
        ("6", "criteria.quality", "must be a table describing the criterion, got 3")]


@pytest.mark.parametrize(("value", "described"), [
    ("{ a = 1 }", "a table"),
    ("2027-01-01", "2027-01-01 (a date)"),
    ("2027-01-01T08:00:00", "2027-01-01T08:00:00 (a date-time)"),
    ("false", "false (a boolean)"),
    ("1.5", "1.5"),
])
def test_wrong_values_are_described_as_people_wrote_them(tmp_path: Path, value: str, described: str) -> None:
    base = BASE.replace('title = "Cleaning services"', f"title = {value}")
    assert problems(tmp_path, base=base) == [("2", "title", f"must be text, got {described}")]


def test_an_unknown_pricing_key(tmp_path: Path) -> None:
    assert problems(tmp_path, '[pricing]\nitem_file = "items.xlsx"\n') == [
        ("18", "pricing.item_file", "unknown key 'item_file' (did you mean 'items_file'?)")]
