"""eu-meat: the template, its checks, and MEAT scoring with rfpflow's evaluation maths."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import pytest

from rfpflow import evaluation
from rfpflow.builtins.dispatch import dispatch_signs
from rfpflow.definition import check_rfp
from rfpflow.model import Answer, Bid, PriceLine

PROFILE = "eu-meat"


def test_new_then_validate_succeeds_with_the_installed_plugin(rfpflow_cli, tmp_path: Path) -> None:
    made = rfpflow_cli("new", str(tmp_path / "eu"), "--profile", PROFILE)
    assert made.returncode == 0, made.stderr
    checked = rfpflow_cli("-C", str(tmp_path / "eu"), "validate")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "warning" not in checked.stdout + checked.stderr


@pytest.fixture
def check(rfpflow_workspace, rfpflow_host, rfpflow_context, plugin):
    host = rfpflow_host(plugin)

    def run(*edits: tuple[str, str]):
        ws = rfpflow_workspace(PROFILE, host=host)
        path = ws / "rfp.toml"
        text = path.read_text(encoding="utf-8")
        for old, new in edits:
            assert old in text, old
            text = text.replace(old, new)
        path.write_text(text, encoding="utf-8")
        rfp, problems = check_rfp(path, context=rfpflow_context(host, workspace=ws))
        return rfp, problems

    return run


def _fields(problems) -> dict[str | None, list]:
    out: dict[str | None, list] = {}
    for p in problems:
        out.setdefault(p.field, []).append(p)
    return out


def test_template_is_valid_quality_60_price_40(check) -> None:
    rfp, problems = check()
    assert problems == []
    assert {c.id: c.weight for c in rfp.criteria} == {"quality": 60, "price": 40}
    assert rfp.standstill_days == 10
    gates = {g.kind: g for g in rfp.gates}
    assert gates["mandatory_answers"].on_fail == "review"
    assert gates["min_turnover"].params["amount"] <= 2 * rfp.contract_value
    assert all(q.mandatory for q in rfp.questionnaire if q.id.startswith("EX-"))


def test_template_has_no_sign_of_labour_dispatch(check) -> None:
    rfp, _ = check()
    assert dispatch_signs(Bid("a", "A", "a.xlsx"), rfp)[0] == []


def test_turnover_above_twice_the_contract_value_is_refused(check) -> None:
    rfp, problems = check(("amount = 1_000_000", "amount = 1_700_000"))
    assert rfp is None
    errors = [p for p in _fields(problems)["gates.turnover.amount"] if p.severity == "error"]
    assert "twice the contract value" in errors[0].message
    assert errors[0].place  # the line of the amount


def test_a_justified_higher_turnover_is_a_warning(check) -> None:
    rfp, problems = check(("amount = 1_000_000", "amount = 1_700_000"),
                          ('notification = "electronic"',
                           'notification = "electronic"\nturnover_justification = "risk of the service"'))
    assert rfp is not None
    assert all(p.severity == "warning" for p in problems)


def test_turnover_needs_the_contract_value(check) -> None:
    rfp, problems = check(("contract_value = 800_000", ""))
    assert rfp is None
    assert "contract value" in _fields(problems)["gates.turnover.amount"][0].message


@pytest.mark.parametrize(("notification", "days", "severity"), [
    ("electronic", 10, None), ("other", 15, None), ("other", 10, "error"), ("electronic", 9, "error"),
    ("electronic", 15, "warning"),
])
def test_standstill_matches_the_notification(check, notification: str, days: int, severity: str | None) -> None:
    _, problems = check(('notification = "electronic"', f'notification = "{notification}"'),
                        ("standstill_days = 10", f"standstill_days = {days}"))
    found = _fields(problems).get("award.standstill_days", [])
    assert [p.severity for p in found] == ([severity] if severity else [])


def test_notification_is_required_and_checked(check) -> None:
    _, problems = check(('notification = "electronic"', ""))
    assert "notification" in _fields(problems)["plugins.eu"][0].message
    _, problems = check(('notification = "electronic"', 'notification = "electonic"'))
    assert "did you mean 'electronic'" in _fields(problems)["plugins.eu.notification"][0].message
    _, problems = check(('notification = "electronic"', 'notification = "electronic"\nnotify = "x"'))
    assert "plugins.eu.notify" in _fields(problems)


def test_standstill_must_be_set(check) -> None:
    _, problems = check(("standstill_days = 10", ""))
    assert "standstill_days = 10" in _fields(problems)["award"][0].message


def test_price_formula_must_be_lowest_ratio(check) -> None:
    _, problems = check(('price_formula = "lowest-ratio"', 'price_formula = "linear"'))
    assert "lowest-ratio" in _fields(problems)["scoring.price_formula"][0].message


def test_other_profiles_are_not_checked(rfpflow_workspace, rfpflow_host, rfpflow_context, plugin) -> None:
    host = rfpflow_host(plugin)
    ws = rfpflow_workspace("generic", host=host)
    rfp, problems = check_rfp(ws / "rfp.toml", context=rfpflow_context(host, workspace=ws))
    assert rfp is not None and problems == []


def test_meat_price_points_are_40_times_lowest_over_price(check, rfpflow_host, plugin) -> None:
    rfp, _ = check()
    host = rfpflow_host(plugin)
    bids = [Bid(v, v, f"{v}.xlsx", answers=[Answer("EX-1", "Yes")],
                prices=[PriceLine("L1", Decimal(24), Decimal(p))]) for v, p in (("a", 30000), ("b", 25000))]
    judged = [c.id for c in rfp.leaf_criteria() if c.source.kind == "judgement"]
    scores = [evaluation.ScoreEntry(e.id, b.vendor_id, c, 7.0) for e in rfp.evaluators for b in bids for c in judged]
    matrix = evaluation.criterion_values(rfp, bids, scores, host=host)
    assert math.isclose(matrix.value("b", "price").points, 40.0)
    assert math.isclose(matrix.value("a", "price").points, 40 * 25000 / 30000)
    assert math.isclose(matrix.total("a"), 60 * 0.7 + 40 * 25000 / 30000)
