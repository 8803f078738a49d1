"""Due diligence against a registry extract (JSON and CSV), and the registration_code gate."""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

from rfpflow.builtins import due_diligence
from rfpflow.context import Clock, RunContext
from rfpflow.definition import load_rfp
from rfpflow.errors import DefinitionError, InputFileError, RfpflowError
from rfpflow.model import Bid, Gate, GateResult, Rfp, Timeline
from rfpflow.plugins import BUILTIN_PLUGINS, PluginHost
from rfpflow.testing import FIXED_NOW, make_host
from rfpflow.workspace import create_workspace

CODE = "91350100M000100Y43"  # verified in tests/test_uscc.py
OTHER_CODE = "914403001922038216"
VALID_CODES = ["91350100M000100Y43", "914403001922038216", "91330100716105852F", "9144030071526726XG",
               "91110108551385082Q", "12100000400000624D"]
NAME = "福州某某客户服务有限公司"


def host() -> PluginHost:
    # Once due_diligence is in BUILTIN_PLUGINS, registering it again would clash.
    extra = [m for m in (due_diligence,) if m.__name__ not in BUILTIN_PLUGINS]
    return make_host(*extra)


@attrs.define
class Env:
    ws: Path
    rfp: Rfp
    context: RunContext

    def with_options(self, **options: Any) -> Env:
        rfp = attrs.evolve(self.rfp, plugin_options={**self.rfp.plugin_options, "registry": options})
        return Env(self.ws, rfp, self.context.with_rfp(rfp))

    def findings(self, bid: Bid) -> dict[str, GateResult]:
        results = self.context.host.collect("rfpflow_due_diligence", GateResult, bid=bid, rfp=self.rfp,
                                            context=self.context)
        found = {r.gate_id: r for r in results}
        assert len(found) == len(results), "one finding per gate"
        return found


@pytest.fixture
def env(tmp_path: Path) -> Env:
    h = host()
    ws = create_workspace(tmp_path / "ws", h)
    context = RunContext(host=h, clock=Clock(FIXED_NOW), actor="test", workspace=ws)
    rfp = load_rfp(ws / "rfp.toml", context=context)
    assert rfp.timeline.contract_start == dt.date(2027, 5, 1)  # the reference date of the lookback
    return Env(ws, rfp, context.with_rfp(rfp))


def make_bid(**fields: Any) -> Bid:
    values: dict[str, Any] = {"vendor_name": NAME, "registration_no": CODE, "country": "CN",
                              "year_established": 2015, "registered_capital": Decimal(10_000_000)}
    values.update(fields)
    values = {k: v for k, v in values.items() if v is not None}
    cells = {"vendor_name": "Company!C4", "registration_no": "Company!C5", "country": "Company!C6",
             "year_established": "Company!C7", "registered_capital": "Company!C8"}
    return Bid("V1", str(values.get("vendor_name", "?")), "acme.xlsx", fields=values,
               cells={k: v for k, v in cells.items() if k in values})


def company(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "registration_no": CODE,
        "name": NAME,
        "legal_representative": "张三",
        "registered_capital": "1000万元人民币",
        "business_scope": "呼叫中心服务；客户服务外包；信息技术咨询服务",
        "status": "存续（在营、开业、在册）",
        "established": "2015-03-01",
        "penalties": [],
        "dishonest": {"listed": False},
        "source": "Qichacha, retrieved 2027-02-01",
    }
    record.update(changes)
    return {k: v for k, v in record.items() if v is not None}


def write_json(env: Env, *records: dict[str, Any], name: str = "registry.json") -> Path:
    path = env.ws / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(list(records), ensure_ascii=False, indent=2), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------
# Finding the extract
# ---------------------------------------------------------------------------


def test_no_extract_means_no_due_diligence(env: Env) -> None:
    assert due_diligence.rfpflow_due_diligence(make_bid(), env.rfp, env.context) is None
    assert env.findings(make_bid()) == {}


def test_everything_agrees_passes_with_json_extract(env: Env) -> None:
    write_json(env, company(), company(registration_no=OTHER_CODE, name="Other Ltd"))
    found = env.with_options(scope_keywords=["客服", "呼叫中心", "customer service"]).findings(make_bid())
    assert set(found) == {"registry.identity", "registry.status", "registry.scope", "registry.penalties",
                          "registry.dishonesty"}
    assert {r.outcome for r in found.values()} == {"pass"}, {g: r.reason for g, r in found.items()}
    identity = found["registry.identity"]
    assert "registered capital 10,000,000 CNY" in identity.reason and "established 2015" in identity.reason
    assert "acme.xlsx: Company!C5" in identity.evidence
    assert "registry.json:2 (record 1) (Qichacha, retrieved 2027-02-01)" in identity.evidence
    assert all(r.source == "due-diligence:registry" for r in found.values())
    assert "呼叫中心" in found["registry.scope"].reason


def test_configured_extract_path_relative_to_workspace(env: Env) -> None:
    write_json(env, company(status="注销"), name="dd/qcc.json")
    found = env.with_options(extract="dd/qcc.json").findings(make_bid())
    assert found["registry.status"].outcome == "fail"
    assert any(e.startswith("dd/qcc.json:") for e in found["registry.status"].evidence)


def test_configured_extract_that_is_missing_is_an_error(env: Env) -> None:
    with pytest.raises(InputFileError, match=r"dd/missing\.json.*does not exist"):
        env.with_options(extract="dd/missing.json").findings(make_bid())


def test_both_default_extracts_is_ambiguous(env: Env) -> None:
    write_json(env, company())
    (env.ws / "registry.csv").write_text("registration_no,name,status\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"both registry\.json and registry\.csv"):
        env.findings(make_bid())


# ---------------------------------------------------------------------------
# registry.identity
# ---------------------------------------------------------------------------


def test_not_found_in_registry_is_review_and_nothing_else(env: Env) -> None:
    write_json(env, company(registration_no=OTHER_CODE))
    found = env.findings(make_bid())
    assert list(found) == ["registry.identity"]
    assert found["registry.identity"].outcome == "review"
    assert f"{CODE} not found in the registry extract registry.json" in found["registry.identity"].reason


def test_registration_numbers_are_compared_normalised(env: Env) -> None:
    write_json(env, company(registration_no="9135 0100-m000 100y43"))
    found = env.findings(make_bid(registration_no="９１３５０１００Ｍ０００１００Ｙ４３"))
    assert found["registry.identity"].outcome == "pass"


def test_no_registration_number_declared_is_review(env: Env) -> None:
    write_json(env, company())
    found = env.findings(make_bid(registration_no=None))
    assert list(found) == ["registry.identity"]
    assert found["registry.identity"].outcome == "review"
    assert "no registration number declared" in found["registry.identity"].reason


def test_registered_capital_disagreeing_is_review_with_both_values(env: Env) -> None:
    write_json(env, company(registered_capital="500万元人民币"))
    result = env.findings(make_bid())["registry.identity"]
    assert result.outcome == "review"
    assert "registered capital: declared 10,000,000 CNY, registry 5,000,000 CNY" in result.reason
    assert "acme.xlsx: Company!C8" in result.evidence


def test_capital_in_another_currency_is_review(env: Env) -> None:
    write_json(env, company(registered_capital="1000万美元"))
    result = env.findings(make_bid())["registry.identity"]
    assert result.outcome == "review"
    assert "declared 10,000,000 CNY, registry 10,000,000 USD" in result.reason
    assert "different currencies" in result.reason


def test_name_and_year_disagreeing_are_review(env: Env) -> None:
    write_json(env, company(name="福州另一家客户服务有限公司", established="2019-06-30"))
    result = env.findings(make_bid())["registry.identity"]
    assert result.outcome == "review"
    assert f"name: declared '{NAME}', registry '福州另一家客户服务有限公司'" in result.reason
    assert "year established: declared 2015, registry 2019 (2019-06-30)" in result.reason
    assert {"acme.xlsx: Company!C4", "acme.xlsx: Company!C7"} <= set(result.evidence)


def test_name_comparison_ignores_width_spaces_and_english_name(env: Env) -> None:
    write_json(env, company(name="福州某某（客户服务）有限公司", english_name="Fuzhou Example Co., Ltd."))
    assert env.findings(make_bid(vendor_name="福州某某(客户服务)有限公司"))["registry.identity"].outcome == "pass"
    assert env.findings(make_bid(vendor_name="FUZHOU EXAMPLE CO. LTD"))["registry.identity"].outcome == "pass"


def test_values_missing_on_one_side_are_listed_not_failed(env: Env) -> None:
    write_json(env, company(registered_capital=None))
    result = env.findings(make_bid(year_established=None))["registry.identity"]
    assert result.outcome == "pass"
    assert "registered capital (not in the registry extract)" in result.reason
    assert "year established (not declared)" in result.reason


# ---------------------------------------------------------------------------
# registry.status
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "outcome"), [
    ("存续（在营、开业、在册）", "pass"),
    ("在业", "pass"),
    ("Active", "pass"),
    ("注销", "fail"),
    ("吊销，未注销", "fail"),
    ("Revoked", "fail"),
    ("cancelled", "fail"),
    ("Dissolved", "fail"),
    ("inactive", "fail"),
    ("存续（吊销，未注销）", "fail"),  # inactive terms win over active ones
    ("Active - licence revoked", "fail"),
    ("责令关闭", "fail"),
    ("迁出", "review"),
    ("清算", "review"),
])
def test_status(env: Env, status: str, outcome: str) -> None:
    write_json(env, company(status=status))
    result = env.findings(make_bid())["registry.status"]
    assert result.outcome == outcome
    assert repr(status) in result.reason


# ---------------------------------------------------------------------------
# registry.scope
# ---------------------------------------------------------------------------


def test_scope_not_checked_without_keywords(env: Env) -> None:
    write_json(env, company(business_scope="房地产开发"))
    assert "registry.scope" not in env.findings(make_bid())


def test_scope_without_keyword_is_review(env: Env) -> None:
    write_json(env, company(business_scope="房地产开发；物业管理"))
    result = env.with_options(scope_keywords=["客服", "呼叫中心", "customer service"]).findings(
        make_bid())["registry.scope"]
    assert result.outcome == "review"
    assert "房地产开发；物业管理" in result.reason and "'呼叫中心'" in result.reason


def test_scope_keyword_matches_case_insensitively(env: Env) -> None:
    write_json(env, company(business_scope="IT consulting; Customer Service outsourcing"))
    result = env.with_options(scope_keywords=["customer service"]).findings(make_bid())["registry.scope"]
    assert result.outcome == "pass"


def test_scope_missing_from_extract_is_review(env: Env) -> None:
    write_json(env, company(business_scope=None))
    result = env.with_options(scope_keywords=["客服"]).findings(make_bid())["registry.scope"]
    assert result.outcome == "review"


# ---------------------------------------------------------------------------
# registry.penalties (reference date: contract start 2027-05-01; 3 years back: 2024-05-01)
# ---------------------------------------------------------------------------


def penalty(date: str, severity: str | None, description: str = "未按期公示年度报告") -> dict[str, Any]:
    item = {"date": date, "authority": "福州市市场监督管理局", "description": description}
    if severity is not None:
        item["severity"] = severity
    return item


def test_major_penalty_within_lookback_fails(env: Env) -> None:
    write_json(env, company(penalties=[penalty("2024-05-01", "major", "虚假宣传")]))
    result = env.findings(make_bid())["registry.penalties"]
    assert result.outcome == "fail"
    assert "major penalty of 2024-05-01 by 福州市市场监督管理局: 虚假宣传" in result.reason
    assert "since 2024-05-01" in result.reason
    assert "registry.json:2 (record 1), penalties[1]" in result.evidence


def test_major_penalty_before_lookback_passes(env: Env) -> None:
    write_json(env, company(penalties=[penalty("2024-04-30", "重大")]))
    result = env.findings(make_bid())["registry.penalties"]
    assert result.outcome == "pass"
    assert "1 older penalty not counted" in result.reason


def test_lookback_years_option(env: Env) -> None:
    write_json(env, company(penalties=[penalty("2025-06-01", "major")]))
    assert env.findings(make_bid())["registry.penalties"].outcome == "fail"
    assert env.with_options(lookback_years=1).findings(make_bid())["registry.penalties"].outcome == "pass"


def test_reference_date_falls_back_to_now(env: Env) -> None:
    # No contract start or decision date: measured back from context.now() (2027-01-01).
    rfp = attrs.evolve(env.rfp, timeline=Timeline())
    bare = Env(env.ws, rfp, env.context.with_rfp(rfp))
    write_json(env, company(penalties=[penalty("2024-01-01", "major")]))
    assert bare.findings(make_bid())["registry.penalties"].outcome == "fail"
    write_json(env, company(penalties=[penalty("2023-12-31", "major")]))
    assert bare.findings(make_bid())["registry.penalties"].outcome == "pass"


def test_minor_penalty_passes_with_a_note(env: Env) -> None:
    write_json(env, company(penalties=[penalty("2026-02-01", "minor")]))
    result = env.findings(make_bid())["registry.penalties"]
    assert result.outcome == "pass"
    assert "note the minor penalties: minor penalty of 2026-02-01" in result.reason


def test_minor_penalty_review_policy(env: Env) -> None:
    write_json(env, company(penalties=[penalty("2026-02-01", "轻微")]))
    result = env.with_options(minor_penalties="review").findings(make_bid())["registry.penalties"]
    assert result.outcome == "review"


def test_unclassified_penalty_is_review(env: Env) -> None:
    write_json(env, company(penalties=[penalty("2026-02-01", None)]))
    result = env.findings(make_bid())["registry.penalties"]
    assert result.outcome == "review"
    assert "not classified minor or major" in result.reason


def test_no_penalty_information_is_review(env: Env) -> None:
    write_json(env, company(penalties=None))
    result = env.findings(make_bid())["registry.penalties"]
    assert result.outcome == "review"
    assert "no penalty information" in result.reason


# ---------------------------------------------------------------------------
# registry.dishonesty
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("listing", "outcome", "text"), [
    ({"listed": False}, "pass", "not listed"),
    ({"listed": True, "date": "2026-04-01", "reason": "未履行生效判决"}, "fail", "on 2026-04-01 (未履行生效判决)"),
    ({"listed": True}, "fail", "has no date"),
    (True, "fail", "has no date"),
    ({"listed": "是", "date": "2020-01-15"}, "review", "still in force"),
    (None, "review", "says nothing"),
])
def test_dishonesty(env: Env, listing: Any, outcome: str, text: str) -> None:
    write_json(env, company(dishonest=listing))
    result = env.findings(make_bid())["registry.dishonesty"]
    assert result.outcome == outcome
    assert text in result.reason


# ---------------------------------------------------------------------------
# CSV extracts
# ---------------------------------------------------------------------------

COMPANY_HEADER = ["registration_no", "name", "status", "registered_capital", "established", "business_scope",
                  "dishonest_listed", "dishonest_date", "dishonest_reason"]


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def csv_company(**changes: str) -> list[str]:
    values = {"registration_no": CODE, "name": NAME, "status": "存续", "registered_capital": "1000万元人民币",
              "established": "2015-03-01", "business_scope": "呼叫中心服务；客户服务外包", "dishonest_listed": "no",
              "dishonest_date": "", "dishonest_reason": ""}
    values.update(changes)
    return [values[h] for h in COMPANY_HEADER]


def test_csv_extract_every_check(env: Env) -> None:
    write_csv(env.ws / "registry.csv", COMPANY_HEADER, [
        csv_company(registered_capital="5,000,000"),
        csv_company(registration_no=OTHER_CODE, name="Other Ltd", status="吊销", dishonest_listed="yes",
                    dishonest_date="2026-03-01", dishonest_reason="失信被执行人"),
    ])
    write_csv(env.ws / "registry.penalties.csv", ["registration_no", "date", "authority", "description", "severity"], [
        [CODE, "2026-02-01", "市场监管局", "年报逾期", "minor"],
        [OTHER_CODE, "2025-09-09", "税务局", "偷税", "major"],
    ])
    options = env.with_options(scope_keywords=["呼叫中心"])
    good = options.findings(make_bid())
    assert good["registry.identity"].outcome == "review"
    assert "declared 10,000,000 CNY, registry 5,000,000 CNY" in good["registry.identity"].reason
    assert "registry.csv:2" in good["registry.identity"].evidence
    assert good["registry.status"].outcome == "pass"
    assert good["registry.scope"].outcome == "pass"
    assert good["registry.penalties"].outcome == "pass"
    assert "registry.penalties.csv:2" in good["registry.penalties"].evidence
    assert good["registry.dishonesty"].outcome == "pass"

    bad = options.findings(make_bid(registration_no=OTHER_CODE, vendor_name="Other Ltd"))
    assert bad["registry.status"].outcome == "fail"
    assert bad["registry.penalties"].outcome == "fail"
    assert "偷税" in bad["registry.penalties"].reason
    assert bad["registry.dishonesty"].outcome == "fail"
    assert "失信被执行人" in bad["registry.dishonesty"].reason


def test_csv_without_penalties_file_is_review(env: Env) -> None:
    write_csv(env.ws / "registry.csv", COMPANY_HEADER, [csv_company(dishonest_listed="")])
    found = env.findings(make_bid())
    assert found["registry.penalties"].outcome == "review"
    assert found["registry.dishonesty"].outcome == "review"  # blank listing: not checked


def test_csv_gbk_with_chinese_headers_and_named_penalties_file(env: Env) -> None:
    (env.ws / "dd").mkdir()
    header = ["企业名称", "统一社会信用代码", "登记状态", "注册资本", "成立日期", "失信被执行人"]
    write_csv(env.ws / "dd" / "qcc.csv", header, [[NAME, CODE, "在业", "1000万元", "2015年3月1日", "否"]],
              encoding="gbk")
    write_csv(env.ws / "dd" / "cf.csv", ["统一社会信用代码", "处罚日期", "处罚机关", "处罚内容", "严重程度"],
              [[CODE, "2025-01-02", "应急管理局", "安全生产", "严重"]], encoding="gbk")
    found = env.with_options(extract="dd/qcc.csv", penalties="dd/cf.csv").findings(make_bid())
    assert found["registry.identity"].outcome == "pass"
    assert found["registry.status"].outcome == "pass"
    assert found["registry.penalties"].outcome == "fail"
    assert "dd/cf.csv:2" in found["registry.penalties"].evidence


# ---------------------------------------------------------------------------
# Bad extracts
# ---------------------------------------------------------------------------


def test_invalid_json_names_file_and_line(env: Env) -> None:
    (env.ws / "registry.json").write_text('[\n  {"registration_no": "x",\n   "name": }\n]\n', encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        env.findings(make_bid())
    text = str(caught.value)
    assert "registry.json: not valid JSON" in text
    assert "registry.json:3:" in text


def test_json_must_be_a_list(env: Env) -> None:
    (env.ws / "registry.json").write_text(json.dumps(company()), encoding="utf-8")
    with pytest.raises(InputFileError, match="must be a JSON list of company records"):
        env.findings(make_bid())


def test_every_bad_record_is_reported_with_its_line(env: Env) -> None:
    write_json(env,
               company(),
               company(registration_no=OTHER_CODE, established="2015-13-01"),
               company(registration_no="91330100716105852F", status="",
                       penalties=[penalty("2026-01-01", "mayor")]),
               company(registration_no="91330100716105852F", bussiness_scope="x"),
               company())
    with pytest.raises(InputFileError) as caught:
        env.findings(make_bid())
    error = caught.value
    messages = [str(p) for p in error.problems]
    assert all(p.file == "registry.json" and p.place for p in error.problems)
    text = "\n".join(messages)
    assert 'record 2: established "2015-13-01" is not a real calendar date' in text
    assert "record 3: status is blank (required)" in text
    assert "record 3: penalty severity 'mayor' is not minor or major" in text and "did you mean 'major'" in text
    assert "record 4: unknown key 'bussiness_scope' (did you mean 'business_scope'?)" in text
    assert f"registration number {CODE} appears twice (also at registry.json:2 (record 1))" in text
    lines = json.loads((env.ws / "registry.json").read_text(encoding="utf-8"))
    assert len(lines) == 5
    first_line_of_record_2 = (env.ws / "registry.json").read_text(encoding="utf-8").splitlines().index("  {", 2) + 1
    assert any(p.place == str(first_line_of_record_2) and "record 2" in p.message for p in error.problems)


def test_csv_missing_required_column(env: Env) -> None:
    write_csv(env.ws / "registry.csv", ["registration_no", "name"], [[CODE, NAME]])
    with pytest.raises(InputFileError) as caught:
        env.findings(make_bid())
    assert "registry.csv:1: missing column: status (登记状态)" in str(caught.value)


def test_csv_bad_values_and_unknown_penalty_company(env: Env) -> None:
    write_csv(env.ws / "registry.csv", COMPANY_HEADER, [
        csv_company(established="03/04/2015"),
        csv_company(registration_no=OTHER_CODE, registered_capital="lots", dishonest_listed="maybe"),
    ])
    with pytest.raises(InputFileError) as caught:
        env.findings(make_bid())
    text = str(caught.value)
    assert "registry.csv:2: established \"03/04/2015\" is ambiguous" in text
    assert 'registry.csv:3: registered_capital "lots" is not a number' in text
    assert "registry.csv:3: dishonest listed \"maybe\" is not Yes or No" in text

    write_csv(env.ws / "registry.csv", COMPANY_HEADER, [csv_company()])
    write_csv(env.ws / "registry.penalties.csv", ["registration_no", "date", "severity"],
              [["91110108551385082Q", "2026-01-01", "minor"], [CODE, "yesterday", "minor"]])
    with pytest.raises(InputFileError) as caught:
        env.findings(make_bid())
    text = str(caught.value)
    assert "registry.penalties.csv:2: registration number 91110108551385082Q is not in registry.csv" in text
    assert 'registry.penalties.csv:3: penalty date "yesterday" is not a date' in text


def test_options_are_validated_with_the_definition(env: Env) -> None:
    toml = env.ws / "rfp.toml"
    toml.write_text(toml.read_text(encoding="utf-8")
                    + '\n[plugins.registry]\nlookbak_years = 3\nscope_keywords = "客服"\nminor_penalties = "ignore"\n',
                    encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_rfp(toml, context=env.context)
    text = str(caught.value)
    assert "plugins.registry.lookbak_years: the registry plugin has no option 'lookbak_years' " \
           "(did you mean 'lookback_years'?)" in text
    assert "plugins.registry.scope_keywords: must be a list of texts" in text
    assert "plugins.registry.minor_penalties: must be \"pass\" or \"review\"" in text


def test_bad_options_at_screening_are_refused(env: Env) -> None:
    write_json(env, company())
    with pytest.raises(RfpflowError, match="invalid"):
        env.with_options(lookback_years="three").findings(make_bid())


# ---------------------------------------------------------------------------
# The registration_code gate
# ---------------------------------------------------------------------------


def run_gate(env: Env, bid: Bid, on_fail: str = "fail") -> GateResult:
    rule = env.context.host.screening_rules()["registration_code"]
    gate = Gate("uscc", "registration_code", "Valid code", on_fail=on_fail)
    return rule.check(bid, gate, (bid,), env.rfp, env.context)


@pytest.mark.parametrize("code", VALID_CODES)
def test_valid_codes_pass(env: Env, code: str) -> None:
    result = run_gate(env, make_bid(registration_no=code))
    assert result.outcome == "pass", result.reason
    assert result.gate_id == "uscc" and result.source == "gate:registration_code"


def test_mutated_code_fails_with_message_and_cell(env: Env) -> None:
    mutated = CODE[:17] + "4"
    result = run_gate(env, make_bid(registration_no=mutated))
    assert result.outcome == "review"  # a wrong check character needs review (issue 15)
    assert "check character is 4, expected 3" in result.reason and "expected check character 3" in result.reason
    assert result.evidence == ("acme.xlsx: Company!C5",)
    assert run_gate(env, make_bid(registration_no=mutated), on_fail="review").outcome == "review"


@pytest.mark.parametrize("country", ["CN", "China", "中国", "中华人民共和国", "People's Republic of China", None])
def test_chinese_vendors_are_checked(env: Env, country: str | None) -> None:
    swapped = CODE[:8] + CODE[9] + CODE[8] + CODE[10:]
    assert run_gate(env, make_bid(registration_no=swapped, country=country)).outcome == "review"
    wrong_division = CODE[:2] + "X" + CODE[3:]
    assert run_gate(env, make_bid(registration_no=wrong_division, country=country)).outcome == "fail"


def test_wrong_length_chinese_code_fails(env: Env) -> None:
    result = run_gate(env, make_bid(registration_no=CODE[:17]))
    assert result.outcome == "fail"
    assert "has 17 characters, expected 18" in result.reason


def test_missing_code_is_review(env: Env) -> None:
    result = run_gate(env, make_bid(registration_no=None))
    assert result.outcome == "review"
    assert "not declared" in result.reason


@pytest.mark.parametrize("country", ["US", "Germany", "Hong Kong", "中国香港"])
def test_foreign_vendors_pass(env: Env, country: str) -> None:
    assert run_gate(env, make_bid(registration_no="HRB 12345", country=country)).outcome == "pass"


def test_unknown_country_short_number_is_review(env: Env) -> None:
    assert run_gate(env, make_bid(registration_no="HRB 12345", country=None)).outcome == "review"


def test_gate_kind_is_accepted_in_rfp_toml(env: Env) -> None:
    toml = env.ws / "rfp.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        "[gates.iso9001]", '[gates.uscc]\nkind = "registration_code"\n\n[gates.iso9001]'), encoding="utf-8")
    rfp = load_rfp(toml, context=env.context)
    assert any(g.kind == "registration_code" for g in rfp.gates)
