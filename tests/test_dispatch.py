"""Outsourcing versus disguised labour dispatch: the screening finding and the rfp.toml warning."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

from rfpflow.builtins import dispatch
from rfpflow.context import Clock, RunContext
from rfpflow.definition import check_rfp, load_rfp
from rfpflow.errors import DefinitionError
from rfpflow.model import Answer, Bid, Criterion, GateResult, LineItem, Question, Rfp
from rfpflow.plugins import BUILTIN_PLUGINS, PluginHost
from rfpflow.testing import FIXED_NOW, make_host
from rfpflow.workspace import create_workspace


def host() -> PluginHost:
    extra = [m for m in (dispatch,) if m.__name__ not in BUILTIN_PLUGINS]
    return make_host(*extra)


@attrs.define
class Env:
    ws: Path
    rfp: Rfp
    context: RunContext

    def evolve(self, **changes: Any) -> Env:
        rfp = attrs.evolve(self.rfp, **changes)
        return Env(self.ws, rfp, self.context.with_rfp(rfp))

    def finding(self, bid: Bid | None = None) -> GateResult:
        bid = bid or BID
        results = [r for r in self.context.host.collect("rfpflow_screen_bid", GateResult, bid=bid, bids=(bid,),
                                                         rfp=self.rfp, context=self.context)
                   if r.gate_id == "labour-dispatch"]
        assert len(results) == 1
        return results[0]


BID = Bid("V1", "Acme", "acme.xlsx")


@pytest.fixture
def env(tmp_path: Path) -> Env:
    h = host()
    ws = create_workspace(tmp_path / "ws", h)
    context = RunContext(host=h, clock=Clock(FIXED_NOW), actor="test", workspace=ws)
    rfp = load_rfp(ws / "rfp.toml", context=context)
    return Env(ws, rfp, context.with_rfp(rfp))


def items(*specs: tuple[str, str, str]) -> tuple[LineItem, ...]:
    return tuple(LineItem(i, d, u, Decimal(1)) for i, d, u in specs)


def test_generic_profile_priced_per_deliverable_passes(env: Env) -> None:
    result = env.finding()
    assert result.outcome == "pass", result.reason
    assert "L1 per month" in result.reason and "L2 per lot" in result.reason
    assert result.source == "dispatch"


def test_priced_per_person_month_is_flagged(env: Env) -> None:
    per_head = env.evolve(line_items=items(("L1", "客服坐席服务", "人月"), ("L2", "Onboarding", "lot")))
    result = per_head.finding()
    assert result.outcome == "review"
    assert "priced per head: line item L1 '客服坐席服务' in '人月' (人月)" in result.reason
    assert "rfp.toml: pricing.items[1].unit (L1)" in result.evidence
    assert "L2" not in " ".join(result.evidence)


@pytest.mark.parametrize(("description", "unit"), [
    ("Agents", "person-month"),
    ("Agents", "Person Month"),
    ("Agents", "人/月"),
    ("Agents", "人·月"),
    ("Engineers", "man-day"),
    ("Engineers", "人天"),
    ("Agents", "FTE"),
    ("Service desk staffed per head", "month"),
    ("驻场工程师，每人每月", "month"),
])
def test_per_head_units_and_descriptions(env: Env, description: str, unit: str) -> None:
    assert env.evolve(line_items=items(("L1", description, unit))).finding().outcome == "review"


@pytest.mark.parametrize(("description", "unit"), [
    ("Tickets resolved after triage", "ticket"),  # "after" must not match FTE
    ("Calls handled", "call"),
    ("Hotline service, 12 months", "month"),
    ("Personalised reports", "report"),
])
def test_per_deliverable_units_are_not_flagged(env: Env, description: str, unit: str) -> None:
    assert env.evolve(line_items=items(("L1", description, unit))).finding().outcome == "pass"


def test_buyer_managed_attendance_in_questionnaire(env: Env) -> None:
    question = Question("Q9", "驻场人员由甲方负责考勤，乙方按月结算。")
    result = env.evolve(questionnaire=(*env.rfp.questionnaire, question)).finding()
    assert result.outcome == "review"
    assert "the RFP has the buyer manage the vendor's people (questionnaire[4] (Q9)" in result.reason
    assert "rfp.toml: questionnaire[4] (Q9)" in result.evidence


@pytest.mark.parametrize("text", [
    "Attendance of the agents is managed by the client.",
    "Timesheets are approved by the client every week.",
    "The buyer will appraise the vendor's staff quarterly.",
    "考勤由采购人统一管理",
    "甲方对驻场人员进行绩效考核",
])
def test_buyer_management_phrases(env: Env, text: str) -> None:
    question = Question("Q9", text)
    assert env.evolve(questionnaire=(*env.rfp.questionnaire, question)).finding().outcome == "review"


@pytest.mark.parametrize("text", [
    "The vendor manages attendance and appraisal of its own staff.",
    "乙方负责人员考勤和绩效考核。",
    "The client reviews the service levels monthly.",
])
def test_vendor_managed_staff_is_no_sign(env: Env, text: str) -> None:
    question = Question("Q9", text)
    assert env.evolve(questionnaire=(*env.rfp.questionnaire, question)).finding().outcome == "pass"


def test_vendor_answer_signs(env: Env) -> None:
    bid = Bid("V2", "Beta", "beta.xlsx", answers=(
        Answer("Q3", "Partly", comment="Priced at 12 FTE per month", cell="Questionnaire!D5"),
        Answer("Q2", "Yes", comment="Attendance will be approved by the client's supervisors",
               cell="Questionnaire!D4"),
    ))
    result = env.finding(bid)
    assert result.outcome == "review"
    assert "the vendor's answer to Q3 prices or staffs per head (FTE)" in result.reason
    assert "the vendor's answer to Q2 has the buyer manage its people" in result.reason
    assert {"beta.xlsx: Questionnaire!D5", "beta.xlsx: Questionnaire!D4"} <= set(result.evidence)


def test_vendor_headcount_alone_is_not_a_pricing_sign(env: Env) -> None:
    bid = Bid("V3", "Gamma", "gamma.xlsx", answers=(Answer("Q3", "Yes", comment="Our headcount is 800"),))
    assert env.finding(bid).outcome == "pass"


def test_no_deliverables_or_acceptance_is_flagged(env: Env) -> None:
    bare = env.evolve(
        line_items=items(("L1", "Hotline service", "month")),
        questionnaire=(Question("Q1", "Can you start on 1 May?"),),
        criteria=(Criterion("price", "Price", 100.0),),
    )
    result = bare.finding()
    assert result.outcome == "review"
    assert "no deliverables or acceptance criteria" in result.reason
    defined = bare.evolve(questionnaire=(Question("Q1", "Do you accept the acceptance criteria in annex B?"),))
    assert defined.finding().outcome == "pass"
    chinese = bare.evolve(line_items=items(("L1", "热线服务（按月验收）", "month")))
    assert chinese.finding().outcome == "pass"


def test_options_extend_and_replace_lists(env: Env) -> None:
    seats = env.evolve(line_items=items(("L1", "Hotline seats", "seat-month")))
    assert seats.finding().outcome == "pass"
    extended = seats.evolve(plugin_options={"dispatch": {"extra_per_head_units": ["seat-month"]}})
    assert extended.finding().outcome == "review"

    per_head = env.evolve(line_items=items(("L1", "Agents", "人月")))
    replaced = per_head.evolve(plugin_options={"dispatch": {"per_head_units": ["seat-month"]}})
    assert replaced.finding().outcome == "pass"

    question = Question("Q9", "Client team leads sign daily rosters")
    roster = env.evolve(questionnaire=(*env.rfp.questionnaire, question))
    assert roster.finding().outcome == "pass"
    assert roster.evolve(plugin_options={"dispatch": {"extra_buyer_management_terms": ["client team leads sign"]}}
                         ).finding().outcome == "review"


def write_toml(env: Env, old: str, new: str) -> Path:
    toml = env.ws / "rfp.toml"
    text = toml.read_text(encoding="utf-8")
    assert old in text
    toml.write_text(text.replace(old, new), encoding="utf-8")
    return toml


def test_validate_warns_about_per_head_pricing(env: Env) -> None:
    toml = write_toml(env, 'unit = "month"', 'unit = "人月"')
    rfp, problems = check_rfp(toml, context=env.context)
    assert rfp is not None  # a warning does not block
    warnings = [p for p in problems if p.field == "pricing.items[1].unit"]
    assert len(warnings) == 1
    warning = warnings[0]
    assert warning.severity == "warning"
    assert "priced per head (人月)" in warning.message and "劳务派遣" in warning.message
    assert warning.message.count(". ") == 0  # one sentence
    assert warning.place is not None  # the line of the item in rfp.toml
    assert 'unit = "人月"' in toml.read_text(encoding="utf-8").splitlines()[int(warning.place) - 1]


def test_validate_warns_on_description(env: Env) -> None:
    toml = write_toml(env, 'description = "Hotline seats, 07:00-23:00, 12 months"',
                      'description = "Hotline agents, billed per FTE"')
    _, problems = check_rfp(toml, context=env.context)
    assert [p.field for p in problems if p.severity == "warning" and "per head" in p.message] == [
        "pricing.items[1].description"]


def test_no_warning_for_the_generic_profile(env: Env) -> None:
    _, problems = check_rfp(env.ws / "rfp.toml", context=env.context)
    assert not [p for p in problems if "per head" in p.message]


def test_bad_options_are_definition_errors(env: Env) -> None:
    toml = env.ws / "rfp.toml"
    toml.write_text(toml.read_text(encoding="utf-8")
                    + '\n[plugins.dispatch]\nextra_per_head_unit = ["seat"]\ndeliverable_terms = "SLA"\n',
                    encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_rfp(toml, context=env.context)
    text = str(caught.value)
    assert "(did you mean 'extra_per_head_units'?)" in text
    assert "plugins.dispatch.deliverable_terms: must be a list of texts" in text


def test_find_terms_matching_rules() -> None:
    assert dispatch.find_terms("Billed by Person-Month", dispatch.PER_HEAD_UNITS) == ["person-month"]
    assert dispatch.find_terms("after hours", ["FTE"]) == []
    assert dispatch.find_terms("12 ＦＴＥ", ["FTE"]) == ["FTE"]
    assert dispatch.find_terms("元/人·月", ["人/月"]) == ["人/月"]
