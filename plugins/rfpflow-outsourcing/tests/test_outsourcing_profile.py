"""The outsourcing-5d profile: made with `rfpflow new`, valid as written, and its own checks."""

from __future__ import annotations

import math
import re
from pathlib import Path

import attrs
import pytest

from rfpflow.builtins.dispatch import dispatch_signs
from rfpflow.definition import check_rfp, load_rfp
from rfpflow.model import Bid

PROFILE = "outsourcing-5d"


@pytest.mark.parametrize("language", ["en", "zh"])
def test_new_then_validate_succeeds_with_the_installed_plugin(rfpflow_cli, tmp_path: Path, language: str) -> None:
    target = tmp_path / "cycle"
    made = rfpflow_cli("new", str(target), "--profile", PROFILE, "--language", language)
    assert made.returncode == 0, made.stderr
    checked = rfpflow_cli("-C", str(target), "validate")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "valid" in checked.stdout
    assert "warning" not in checked.stdout + checked.stderr


@pytest.fixture
def rfp_of(rfpflow_workspace, rfpflow_host, rfpflow_context, plugin):
    host = rfpflow_host(plugin)

    def load(language: str = "en", edit=None):
        ws = rfpflow_workspace(PROFILE, language, host=host)
        if edit is not None:
            path = ws / "rfp.toml"
            path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
        return check_rfp(ws / "rfp.toml", context=rfpflow_context(host, workspace=ws))

    return load


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_five_dimensions_are_worth_100_points(rfp_of, language: str) -> None:
    rfp, problems = rfp_of(language)
    assert problems == []
    dimensions = {c.id: c.weight for c in rfp.criteria}
    assert dimensions == {"qualifications": 20, "team": 20, "technical": 25, "service": 20, "reputation": 15}
    leaves = {c.id: c.weight for c in rfp.leaf_criteria()}
    assert leaves == {"certifications": 8, "cases": 8, "years": 4, "background": 8, "size": 6, "stability": 6,
                      "ai_data": 8, "security": 9, "data_protection": 8, "sla": 6, "cover": 6, "quality": 8,
                      "references": 6, "site_visit": 5, "reports": 4}
    kinds = {c.id: (c.source.kind, c.source.rule) for c in rfp.leaf_criteria() if c.source.kind == "bid"}
    assert kinds == {"certifications": ("bid", "present"), "years": ("bid", "bands"), "cover": ("bid", "answer")}
    assert rfp.shortlist.top == 2 and rfp.shortlist.min_score == 70
    assert dict(rfp.scoring.award_weights) == {"evaluation": 0.6, "price": 0.2, "trial": 0.2}
    assert rfp.scoring.price_formula == "lowest-ratio"
    assert rfp.scoring.tie_break == ("total_score", "trial_score", "technical_score", "price", "vendor")
    assert rfp.options_for("registry")["lookback_years"] == 3


def test_english_template_pilots_it_operations_and_chinese_the_hotline(rfp_of) -> None:
    en, _ = rfp_of("en")
    zh, _ = rfp_of("zh")
    assert en.trial.enabled and en.trial.preset == "it-operations"
    assert zh.trial.enabled and zh.trial.preset == "hotline"
    assert {k.id for k in zh.trial.kpis} >= {"service_level", "abandonment"}
    assert all(k.window_days == 14 for k in en.trial.kpis)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_gates_cover_security_quality_software_and_commitments(rfp_of, language: str) -> None:
    rfp, _ = rfp_of(language)
    gates = {g.id: g for g in rfp.gates}
    assert set(gates["security_cert"].params["any_of"]) == {"ISO 27001", "SOC 2 Type II"}
    assert gates["iso9001"].params["any_of"] == ["ISO 9001"]
    assert {g.kind for g in rfp.gates} >= {"certification", "min_years", "mandatory_answers", "budget_ceiling",
                                           "abnormally_low", "registration_code"}
    mandatory = {q.id for q in rfp.questionnaire if q.mandatory}
    assert {"Q-DPA", "Q-BCP"} <= mandatory
    if language == "en":
        assert gates["cmmi"].kind == "cmmi_level" and gates["cmmi"].params["min_level"] == 3


@pytest.mark.parametrize("language", ["en", "zh"])
def test_templates_show_no_sign_of_labour_dispatch(rfp_of, language: str) -> None:
    rfp, _ = rfp_of(language)
    reasons, _ = dispatch_signs(Bid("acme", "Acme", "acme.xlsx"), rfp)
    assert reasons == []


def test_personal_data_needs_iso27001_or_soc2(rfp_of) -> None:
    def drop_security_gate(text: str) -> str:
        return text.replace('any_of = ["ISO 27001", "SOC 2 Type II"]', 'any_of = ["ISO 27001"]')

    rfp, problems = rfp_of("en", drop_security_gate)
    assert rfp is None
    assert [p.field for p in problems] == ["gates"]
    assert "SOC 2 Type II" in problems[0].message and "personal_data" in problems[0].message


def test_personal_data_false_lifts_the_security_requirement(rfp_of) -> None:
    def edit(text: str) -> str:
        text = text.replace('any_of = ["ISO 27001", "SOC 2 Type II"]', 'any_of = ["ISO 9001"]')
        return text.replace("personal_data = true", "personal_data = false")

    rfp, problems = rfp_of("en", edit)
    assert rfp is not None, problems


def test_software_work_needs_a_cmmi_gate_of_level_3(rfp_of) -> None:
    rfp, problems = rfp_of("en", lambda t: t.replace("min_level = 3", "min_level = 2"))
    assert rfp is None
    assert any("cmmi_level" in p.message and p.field == "gates" for p in problems)


def test_cmmi_levels_are_1_to_5(rfp_of) -> None:
    _, problems = rfp_of("en", lambda t: t.replace("min_level = 3", "min_level = 7"))
    assert any(p.field == "gates.cmmi.min_level" and "1 to 5" in p.message for p in problems)


def test_options_are_checked_with_a_suggestion(rfp_of) -> None:
    _, problems = rfp_of("en", lambda t: t.replace("software = true", "sofware = true"))
    messages = {p.field: p.message for p in problems}
    assert "did you mean 'software'" in messages["plugins.outsourcing.sofware"]


def test_problems_name_their_line(rfp_of) -> None:
    _, problems = rfp_of("en", lambda t: t.replace("personal_data = true", 'personal_data = "yes"'))
    problem = next(p for p in problems if p.field == "plugins.outsourcing.personal_data")
    assert problem.file == "rfp.toml" and problem.place and problem.place.isdigit()


def test_other_profiles_are_left_alone(rfpflow_workspace, rfpflow_host, rfpflow_context, plugin) -> None:
    host = rfpflow_host(plugin)
    ws = rfpflow_workspace("generic", host=host)
    text = (ws / "rfp.toml").read_text(encoding="utf-8") + "\n[plugins.outsourcing]\nnonsense = 1\n"
    (ws / "rfp.toml").write_text(text, encoding="utf-8")
    rfp, problems = check_rfp(ws / "rfp.toml", context=rfpflow_context(host, workspace=ws))
    assert rfp is not None and problems == []


def test_five_dimension_scores_shortlist_and_award(rfp_of, rfpflow_host, plugin) -> None:
    """Three vendors through the evaluation maths of rfpflow, with the profile's rules."""
    import datetime as dt
    from decimal import Decimal

    from rfpflow import evaluation
    from rfpflow.model import Answer, Certification, PriceLine

    host = rfpflow_host(plugin)
    rfp, _ = rfp_of("en")
    rfp = attrs.evolve(rfp, evaluators=rfp.evaluators[:1])

    def bid(vendor: str, year: int, certs: tuple[str, ...], cover: str, price: str) -> Bid:
        return Bid(vendor, vendor.title(), f"{vendor}.xlsx", fields={"year_established": year},
                   certifications=[Certification(c) for c in certs], answers=[Answer("Q-COVER", cover)],
                   prices=[PriceLine("L1", Decimal(12), Decimal(price))])

    bids = [bid("acme", 2010, ("ISO 20000-1:2018",), "Yes", "250000"),
            bid("beta", 2021, (), "Partly", "200000"),
            bid("gamma", 2023, (), "No", "300000")]
    judged = [c.id for c in rfp.leaf_criteria() if c.source.kind == "judgement"]
    marks = {"acme": 8.0, "beta": 8.0, "gamma": 5.0}
    scores = [evaluation.ScoreEntry("E1", v, c, marks[v]) for v in marks for c in judged]
    matrix = evaluation.criterion_values(rfp, bids, scores, host=host)
    judged_points = sum(c.weight for c in rfp.leaf_criteria() if c.source.kind == "judgement")
    assert math.isclose(matrix.total("acme"), judged_points * 0.8 + 8 + 4 + 6)  # 10 bands: full; ISO 20000; 7x24
    assert math.isclose(matrix.total("beta"), judged_points * 0.8 + 0 + 4 * 0.7 + 3)  # 2021 -> 6 years: 7/10
    ranking = evaluation.rank_vendors(rfp, matrix, bids, host=host, submitted_at={})
    assert evaluation.shortlist(ranking, rfp.shortlist) == ["acme", "beta"]  # gamma is below 70
    trial = {"acme": 80.0, "beta": 100.0}
    finalists = evaluation.criterion_values(rfp, bids[:2], [s for s in scores if s.vendor != "gamma"], host=host)
    final = evaluation.rank_vendors(rfp, finalists, bids[:2], host=host, submitted_at={}, trial_scores=trial,
                                    award=True)
    by_vendor = {e.vendor_id: e for e in final.entries}
    expected_beta = matrix.total("beta") * 0.6 + 100 * 0.2 + 100 * 0.2
    expected_acme = matrix.total("acme") * 0.6 + 200000 / 250000 * 100 * 0.2 + 80 * 0.2
    assert math.isclose(by_vendor["beta"].total_score, expected_beta)
    assert math.isclose(by_vendor["acme"].total_score, expected_acme)
    assert dt.date(2027, 5, 1) == rfp.timeline.contract_start
    assert re.match(r"award score = evaluation x 0.6", final.notes[0])


def test_load_rfp_refuses_an_invalid_definition(rfpflow_workspace, rfpflow_host, rfpflow_context, plugin) -> None:
    from rfpflow.errors import DefinitionError

    host = rfpflow_host(plugin)
    ws = rfpflow_workspace(PROFILE, host=host)
    path = ws / "rfp.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("software = true", "software = 1"), encoding="utf-8")
    with pytest.raises(DefinitionError):
        load_rfp(path, context=rfpflow_context(host))
