"""rfp.toml loading: valid profiles, and every problem reported at once with line and field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rfpflow.definition import check_rfp, load_rfp
from rfpflow.errors import DefinitionError
from rfpflow.model import Rfp
from rfpflow.testing import make_host
from rfpflow.workspace import create_workspace


@pytest.fixture
def context(rfpflow_context):
    return rfpflow_context(make_host())


def _workspace(tmp_path: Path, language: str = "en") -> Path:
    return create_workspace(tmp_path / f"ws-{language}", make_host(), language=language)


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def _line_of(path: Path, fragment: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if fragment in line:
            return number
    raise AssertionError(fragment)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_generic_profile_loads_into_frozen_records(tmp_path: Path, context, language: str) -> None:
    ws = _workspace(tmp_path, language)
    rfp = load_rfp(ws / "rfp.toml", context=context)
    assert isinstance(rfp, Rfp)
    assert rfp.language == language
    assert [c.id for c in rfp.leaf_criteria()] == ["approach", "team", "experience", "price"]
    assert sum(c.weight for c in rfp.criteria) == 100
    assert [g.kind for g in rfp.gates][:2] == ["certification", "min_years"]
    assert rfp.trial.enabled and [k.id for k in rfp.trial.kpis][:2] == ["service_level", "abandonment"]
    assert all(k.window_days == 14 for k in rfp.trial.kpis)  # the [trial] window applies to preset KPIs
    assert len(rfp.definition_hash) == 64
    with pytest.raises(AttributeError):
        rfp.title = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        rfp.gates[0].params["years"] = 1  # type: ignore[index]


def test_every_problem_is_reported_with_line_and_field(tmp_path: Path, context) -> None:
    ws = _workspace(tmp_path)
    path = ws / "rfp.toml"
    _edit(path, "weight = 25", "weight = -5")
    _edit(path, "quantity = 12", 'quantity = "twelve"')
    _edit(path, "outlier_threshold = 2.0", "outlier_treshold = 2.0")
    _edit(path, 'kind = "min_years"', 'kind = "min_yeers"')
    _edit(path, 'category = "BPO"', 'category = "consulting"')
    rfp, problems = check_rfp(path, context=context)
    assert rfp is None
    text = [str(p) for p in problems]
    expected = [
        f"rfp.toml:{_line_of(path, 'weight = -5')}: criteria.technical.approach.weight: must be > 0, got -5",
        f"rfp.toml:{_line_of(path, 'twelve')}: pricing.items[1].quantity: must be a number, got 'twelve' (text)",
        f"rfp.toml:{_line_of(path, 'outlier_treshold')}: scoring.outlier_treshold: unknown key "
        "'outlier_treshold' (did you mean 'outlier_threshold'?)",
        f"rfp.toml:{_line_of(path, 'min_yeers')}: gates.years.kind: unknown gate kind 'min_yeers' "
        "(did you mean 'min_years'?)",
        f"rfp.toml:{_line_of(path, 'consulting')}: category: must be one of ITO, BPO, KPO, goods, works, other; "
        "got 'consulting'",
    ]
    for fragment in expected:
        assert any(line.startswith(fragment) for line in text), (fragment, text)


def test_weights_that_do_not_add_up(tmp_path: Path, context) -> None:
    ws = _workspace(tmp_path)
    path = ws / "rfp.toml"
    _edit(path, "weight = 15", "weight = 10")  # experience: children now 55, parent 60
    _, problems = check_rfp(path, context=context)
    assert [str(p) for p in problems] == [
        f"rfp.toml:{_line_of(path, 'weight = 60')}: criteria.technical.weight: is 60 but its sub-criteria's "
        "weights add up to 55"
    ]
    _edit(path, "weight = 60", "weight = 55")
    _, problems = check_rfp(path, context=context)
    assert "the top-level weights add up to 95; they must add up to 100 (points) or 1 (shares)" in str(problems[0])


def test_duplicate_criterion_ids_across_the_tree(tmp_path: Path, context) -> None:
    ws = _workspace(tmp_path)
    path = ws / "rfp.toml"
    _edit(path, "[criteria.technical.team]", "[criteria.technical.price]")
    _, problems = check_rfp(path, context=context)
    assert any("criterion id 'price' is used twice" in str(p) for p in problems)


def test_wrong_types_for_each_kind_of_field(tmp_path: Path, context) -> None:
    ws = _workspace(tmp_path)
    path = ws / "rfp.toml"
    _edit(path, "two_envelope = false", 'two_envelope = "no"')
    _edit(path, "bid_deadline = 2027-01-29T17:00:00+08:00", 'bid_deadline = "29 Jan"')
    _edit(path, "top = 2", "top = 2.5")
    _edit(path, 'tie_break = ["total_score"', 'tie_break = ["totl_score"')
    _edit(path, "any_of = [\"ISO 9001\"]", "any_of = \"ISO 9001\"")
    _, problems = check_rfp(path, context=context)
    messages = {p.field: p.message for p in problems}
    assert messages["two_envelope"] == "must be true or false, got 'no' (text)"
    assert messages["timeline.bid_deadline"].endswith("(write it without quotes: 2026-03-01)")
    assert messages["shortlist.top"] == "must be a whole number, got 2.5"
    assert "unknown tie-break key 'totl_score' (did you mean 'total_score'?)" in messages["scoring.tie_break"]
    assert messages["gates.iso9001.any_of"] == "must be a list, got 'ISO 9001'"


def test_timeline_out_of_order(tmp_path: Path, context) -> None:
    ws = _workspace(tmp_path)
    path = ws / "rfp.toml"
    _edit(path, "trial_end = 2027-03-28", "trial_end = 2027-02-01")
    _, problems = check_rfp(path, context=context)
    assert problems[0].field == "timeline.trial_end"
    assert "2027-02-01 is before trial_start (2027-02-15)" in problems[0].message


def test_not_toml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "rfp.toml"
    path.write_text('id = "x"\ntitle = "unterminated\n', encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"^rfp.toml:2: not valid TOML"):
        load_rfp(path)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "rfp.toml"
    path.write_bytes('id = "x"\ntitle = "采购"\n'.encode("gbk"))
    with pytest.raises(DefinitionError, match=r"rfp.toml:2: is not UTF-8 text"):
        load_rfp(path)


def test_hash_ignores_comments_and_layout_but_not_rules(tmp_path: Path, context) -> None:
    ws = _workspace(tmp_path)
    path = ws / "rfp.toml"
    original = load_rfp(path, context=context).definition_hash
    relaid = re.sub(r"^(\w+) = ", r"\1    =   ", path.read_text(encoding="utf-8"), flags=re.M)
    path.write_text("# a new comment\n\n" + relaid, encoding="utf-8")
    assert load_rfp(path, context=context).definition_hash == original
    _edit(path, "threshold    =   0.20", "threshold = 0.25")
    assert load_rfp(path, context=context).definition_hash != original


def test_unknown_profile_is_a_warning_not_an_error(tmp_path: Path, context) -> None:
    ws = _workspace(tmp_path)
    _edit(ws / "rfp.toml", 'profile = "generic"', 'profile = "acme"')
    rfp, problems = check_rfp(ws / "rfp.toml", context=context)
    assert rfp is not None
    assert [p.severity for p in problems] == ["warning"]
    assert re.search(r"profile 'acme' is not installed", problems[0].message)


def test_validate_cli_exit_codes(cli, workspace: Path) -> None:
    ok = cli("-C", str(workspace), "validate")
    assert ok.returncode == 0, ok.stderr
    assert "valid - RFP-2027-001" in ok.stdout
    _edit(workspace / "rfp.toml", "weight = 25", "weight = -5")
    bad = cli("-C", str(workspace), "validate")
    assert bad.returncode == 2
    assert "criteria.technical.approach.weight: must be > 0, got -5" in bad.stderr
    assert "Traceback" not in bad.stderr
    as_json = cli("-C", str(workspace), "validate", "--json")
    assert '"valid": false' in as_json.stdout


def test_top_level_weights_from_an_ahp_matrix(tmp_path: Path, context) -> None:
    ws = _workspace(tmp_path)
    path = ws / "rfp.toml"
    text = path.read_text(encoding="utf-8").replace("weight = 60\n", "", 1).replace(
        'name = "Price"\nweight = 40\n', 'name = "Price"\n')
    # technical is 3 times as important as price: weights 0.75 / 0.25, perfectly consistent
    path.write_text(text + '\n[scoring.ahp]\ncriteria = ["technical", "price"]\nmatrix = [[1, 3], [0.3333333, 1]]\n',
                    encoding="utf-8")
    rfp = load_rfp(path, context=context)
    weights = {c.id: round(c.weight, 3) for c in rfp.criteria}
    assert weights == {"technical": 75.0, "price": 25.0}
    # sub-criteria keep their proportions (25 : 20 : 15) within the derived 75
    assert [round(c.weight, 3) for c in rfp.criteria[0].children] == [31.25, 25.0, 18.75]
    assert rfp.scoring.options["ahp"]["consistency_ratio"] == 0.0


def test_an_inconsistent_ahp_matrix_is_refused_with_its_ratio(tmp_path: Path, context) -> None:
    ws = _workspace(tmp_path)
    path = ws / "rfp.toml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("[criteria.price]", "[criteria.risk]\nname = \"Risk\"\nweight = 1\n\n[criteria.price]")
    path.write_text(text + '\n[scoring.ahp]\ncriteria = ["technical", "risk", "price"]\n'
                    'matrix = [[1, 9, 0.1111111], [0.1111111, 1, 9], [9, 0.1111111, 1]]\n', encoding="utf-8")
    _, problems = check_rfp(path, context=context)
    message = next(str(p) for p in problems if p.field == "scoring.ahp.matrix")
    assert re.search(r"consistency ratio \d+\.\d{3} is above 0\.10", message)
    assert message.startswith(f"rfp.toml:{_line_of(path, 'matrix = ')}:")


def test_line_numbers_count_only_newlines(tmp_path: Path, context) -> None:
    """U+0085 and U+2028 inside strings are not line breaks in TOML (Python's splitlines says they are)."""
    path = tmp_path / "rfp.toml"
    path.write_text('id = "x"\ntitle = "a\u0085b\u2028c"\naward = []\n', encoding="utf-8")
    _, problems = check_rfp(path, context=context)
    award = next(p for p in problems if p.field == "award")
    assert award.place == "3"
