"""cn-gov-87: the Order 87 checks of rfp.toml, each with its field path."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from rfpflow_cn_gov.rules import barred_reasons, price_share

from rfpflow.definition import check_rfp
from rfpflow.errors import Problem

PROFILE = "cn-gov-87"


def test_new_then_validate_succeeds_with_the_installed_plugin(rfpflow_cli, tmp_path: Path) -> None:
    target = tmp_path / "gp"
    made = rfpflow_cli("new", str(target), "--profile", PROFILE, "--language", "zh")
    assert made.returncode == 0, made.stderr
    checked = rfpflow_cli("-C", str(target), "validate")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "warning" not in checked.stdout + checked.stderr


def test_the_profile_has_only_a_chinese_template(rfpflow_host, plugin) -> None:
    profile = rfpflow_host(plugin).profiles()[PROFILE]
    assert sorted(profile.templates) == ["zh"]


@pytest.fixture
def check(rfpflow_workspace, rfpflow_host, rfpflow_context, plugin):
    host = rfpflow_host(plugin)

    def run(*edits: tuple[str, str], pattern: bool = False):
        ws = rfpflow_workspace(PROFILE, "zh", host=host)
        path = ws / "rfp.toml"
        text = path.read_text(encoding="utf-8")
        for old, new in edits:
            if pattern:
                text, count = re.subn(old, new, text, flags=re.S)
            else:
                count = text.count(old)
                text = text.replace(old, new)
            assert count, f"{old!r} not in the template"
        path.write_text(text, encoding="utf-8")
        rfp, problems = check_rfp(path, context=rfpflow_context(host, workspace=ws))
        by_field: dict[str | None, Problem] = {}
        for p in problems:  # several problems of one field: their messages joined
            seen = by_field.get(p.field)
            by_field[p.field] = p if seen is None else attrs.evolve(seen, message=f"{seen.message} | {p.message}")
        return rfp, by_field

    return run


def test_the_template_is_valid_and_prices_30_percent(check) -> None:
    rfp, problems = check()
    assert problems == {}
    assert price_share(rfp) == Decimal("0.3")
    assert not rfp.trial.enabled
    assert len(rfp.evaluators) == 5


def test_services_need_a_price_weight_of_at_least_10_percent(check) -> None:
    edits = [('name = "价格"\nweight = 30', 'name = "价格"\nweight = 8'),
             ('name = "类似项目业绩"\nweight = 10', 'name = "类似项目业绩"\nweight = 32')]
    rfp, problems = check(*edits)
    assert rfp is None
    assert "at least 10%" in problems["criteria.price.weight"].message
    assert problems["criteria.price.weight"].place  # the line of the price weight


def test_goods_need_a_price_weight_of_at_least_30_percent(check) -> None:
    _, problems = check(('category = "ITO"', 'category = "goods"'))
    assert problems == {}  # 30 % exactly is allowed
    edits = [('category = "ITO"', 'category = "goods"'), ('name = "价格"\nweight = 30', 'name = "价格"\nweight = 20'),
             ('name = "类似项目业绩"\nweight = 10', 'name = "类似项目业绩"\nweight = 20')]
    _, problems = check(*edits)
    assert "at least 30%" in problems["criteria.price.weight"].message


def test_works_are_not_checked_for_price_weight_but_warned(check) -> None:
    rfp, problems = check(('category = "ITO"', 'category = "works"'))
    assert rfp is not None
    assert problems["category"].severity == "warning"


@pytest.mark.parametrize(("name", "guidance", "why"), [
    ("同行业业绩", "", "industry or a region"),
    ("本地服务案例", "", "industry or a region"),
    ("Local track record", "", "industry or a region"),
    ("企业规模", "", "size"),
    ("注册资本", "", "size"),
    ("成立年限", "", "size"),
    ("服务能力", "按员工人数计分", "size"),
    ("资质证书", "", "qualification"),
    ("营业执照", "", "qualification"),
])
def test_barred_criteria_are_refused_by_name_or_guidance(check, name: str, guidance: str, why: str) -> None:
    edit = ('name = "项目团队"\nweight = 10\nguidance = "拟派项目负责人及技术人员的专业能力与人员配置方案。"',
            f'name = "{name}"\nweight = 10\nguidance = "{guidance}"')
    rfp, problems = check(edit)
    assert rfp is None
    assert why in problems["criteria.team"].message


def test_size_fields_are_refused_whatever_the_name(check) -> None:
    edit = ('name = "项目团队"\nweight = 10\nguidance = "拟派项目负责人及技术人员的专业能力与人员配置方案。"',
            'name = "综合实力"\nweight = 10\nsource = "bid"\nfield = "registered_capital"\nrule = "linear"\n'
            'params = { min = 1000000, max = 50000000 }')
    _, problems = check(edit)
    assert "bid field 'registered_capital'" in problems["criteria.team"].message


def test_scoring_a_certificate_a_gate_already_requires_is_refused(check) -> None:
    edits = [('[gates.uscc]', '[gates.iso]\nkind = "certification"\nany_of = ["ISO 27001"]\n\n[gates.uscc]'),
             ('name = "项目团队"\nweight = 10\nguidance = "拟派项目负责人及技术人员的专业能力与人员配置方案。"',
              'name = "安全认证"\nweight = 10\nsource = "bid"\nfield = "certifications"\nrule = "present"\n'
              'params = { any_of = ["ISO 27001"] }')]
    _, problems = check(*edits)
    assert "qualification condition" in problems["criteria.team"].message


def test_neutral_similar_projects_are_allowed(plugin) -> None:
    from rfpflow.model import Criterion, Rfp

    rfp = Rfp(id="x", title="t", buyer="b", category="ITO", currency="CNY", language="zh")
    assert barred_reasons(Criterion("p", "类似项目业绩", 10, guidance="不限定行业和地区"), rfp) == []
    assert barred_reasons(Criterion("t", "Qualifications of the proposed team", 10), rfp) == []


def test_committee_needs_five_members_odd_two_thirds_experts(check) -> None:
    _, problems = check(('[[evaluators]]\nid = "E5"\nname = "采购人代表"\nrole = "buyer"', ''))
    assert "at least 5" in problems["evaluators"].message
    _, problems = check(('role = "expert"', 'role = "buyer"'))  # every expert becomes a buyer representative
    assert "two-thirds" in problems["evaluators"].message


def test_even_committee_is_refused(check) -> None:
    extra = '\n[[evaluators]]\nid = "E6"\nname = "评审专家5"\nrole = "expert"\n'
    _, problems = check(('[scoring]', extra + '\n[scoring]'))
    assert "odd number" in problems["evaluators"].message


def test_ten_million_yuan_needs_seven_members(check) -> None:
    _, problems = check(("contract_value = 2_800_000", "contract_value = 12_000_000"),
                        ("budget_ceiling = 2_800_000", "budget_ceiling = 12_000_000"))
    assert "at least 7" in problems["evaluators"].message and "10 million" in problems["evaluators"].message


def test_trial_run_price_formula_tie_break_and_award_weights(check) -> None:
    _, problems = check(
        ("enabled = false", 'enabled = true\npreset = "it-operations"'),
        ('price_formula = "lowest-ratio"', 'price_formula = "linear"'),
        ('tie_break = ["total_score", "price", "technical_score", "vendor"]',
         'tie_break = ["total_score", "technical_score", "price", "vendor"]\n'
         'award = { evaluation = 0.7, price = 0.3 }'),
    )
    assert "履约验收" in problems["trial.enabled"].message
    assert "lowest-ratio" in problems["scoring.price_formula"].message
    assert "total_score" in problems["scoring.tie_break"].message
    assert "award weights" in problems["scoring.award"].message


def test_other_profiles_are_not_checked(rfpflow_workspace, rfpflow_host, rfpflow_context, plugin) -> None:
    host = rfpflow_host(plugin)
    ws = rfpflow_workspace("generic", "zh", host=host)
    rfp, problems = check_rfp(ws / "rfp.toml", context=rfpflow_context(host, workspace=ws))
    assert rfp is not None and problems == []
