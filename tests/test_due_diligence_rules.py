"""The due-diligence rules called directly on registry records: every finding whole, at its boundaries.

The reference date is the contract start (2027-05-01 below); the lookback window reaches back a whole
number of years from it, and a penalty or listing on the first day of the window counts.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

from rfpflow.builtins import due_diligence as dd
from rfpflow.builtins.due_diligence import Dishonesty, Penalty, RegistryRecord
from rfpflow.errors import InputFileError
from rfpflow.model import Bid, Gate, GateResult, Rfp, Timeline
from rfpflow.testing import make_context

CODE = "91350100M000100Y43"  # a valid unified social credit code (tests/test_uscc.py)
NAME = "福州某某客户服务有限公司"
START = dt.date(2027, 5, 1)
RFP = Rfp("R-1", "Hotline", "Buyer", "BPO", "CNY", "en", timeline=Timeline(contract_start=START))
CONTEXT = make_context()
WHERE = "registry.json:2 (record 1)"
WINDOW = "the 3 years before 2027-05-01 (since 2024-05-01)"


def bid(**fields: Any) -> Bid:
    values: dict[str, Any] = {"vendor_name": NAME, "registration_no": CODE, "year_established": 2015,
                              "registered_capital": Decimal(10_000_000)}
    values.update(fields)
    values = {k: v for k, v in values.items() if v is not None}
    cells = {"vendor_name": "Company!C4", "registration_no": "Company!C5", "year_established": "Company!C7",
             "registered_capital": "Company!C8"}
    return Bid("V1", NAME, "acme.xlsx", values, cells={k: v for k, v in cells.items() if k in values})


def record(**changes: Any) -> RegistryRecord:
    base = RegistryRecord(CODE, NAME, "存续", WHERE, registered_capital=Decimal(10_000_000), capital_currency="CNY",
                          established=dt.date(2015, 6, 1), penalties=(), dishonesty=Dishonesty(False))
    return attrs.evolve(base, **changes)


def findings(b: Bid | None = None, rec: RegistryRecord | None = None, rfp: Rfp = RFP,
             **options: Any) -> dict[str, GateResult]:
    if options:
        rfp = attrs.evolve(rfp, plugin_options={"registry": options})
    found = dd.due_diligence(b or bid(), [rec or record()], "registry.json", rfp, CONTEXT)
    return {f.gate_id: f for f in found}


def finding(gate: str, outcome: str, reason: str, evidence: tuple[str, ...] = (WHERE,)) -> GateResult:
    return GateResult("V1", gate, outcome, reason, evidence, source="due-diligence:registry")


# -- identity ----------------------------------------------------------------------


def test_everything_matches() -> None:
    assert findings() == {
        "registry.identity": finding("registry.identity", "pass", (
            f"registration number {CODE} found; matches the registry: name {NAME!r}, registered capital "
            "10,000,000 CNY, established 2015"), ("acme.xlsx: Company!C5", WHERE)),
        "registry.status": finding("registry.status", "pass", "status: registry '存续' (active)",
                                   ("acme.xlsx: Company!C5", WHERE)),
        "registry.penalties": finding("registry.penalties", "pass", f"no administrative penalty within {WINDOW}"),
        "registry.dishonesty": finding("registry.dishonesty", "pass", "not listed as a dishonest entity"),
    }


def test_no_registration_number_or_not_in_the_extract() -> None:
    assert findings(bid(registration_no=None)) == {"registry.identity": finding(
        "registry.identity", "review",
        "no registration number declared: cannot look the vendor up in registry.json", ("registry.json",))}
    other = "914403001922038216"
    assert findings(bid(registration_no=other)) == {"registry.identity": finding(
        "registry.identity", "review", f"registration number {other} not found in the registry extract registry.json",
        ("acme.xlsx: Company!C5", "registry.json"))}


def test_every_difference_is_named_with_what_matched_and_what_was_not_compared() -> None:
    result = findings(bid(vendor_name="Other Co", year_established=2016, registered_capital=None),
                      record(english_name="Fuzhou Service Co"))["registry.identity"]
    assert result == finding("registry.identity", "review", (
        "name: declared 'Other Co', registry '福州某某客户服务有限公司 / Fuzhou Service Co'; year established: "
        "declared 2016, registry 2015 (2015-06-01); not compared: registered capital (not declared)"),
        ("acme.xlsx: Company!C5", "acme.xlsx: Company!C4", "acme.xlsx: Company!C7", WHERE))


def test_the_english_name_matches_after_folding() -> None:
    result = findings(bid(vendor_name="FUZHOU service co."), record(english_name="Fuzhou Service Co"))
    assert result["registry.identity"].outcome == "pass"


def test_capital_one_yuan_apart_and_in_another_currency() -> None:
    result = findings(bid(registered_capital=Decimal(10_000_001)))["registry.identity"]
    assert result == finding("registry.identity", "review", (
        "registered capital: declared 10,000,001 CNY, registry 10,000,000 CNY; matching: name "
        f"{NAME!r}, established 2015"), ("acme.xlsx: Company!C5", "acme.xlsx: Company!C8", WHERE))
    result = findings(rec=record(capital_currency="USD"))["registry.identity"]
    assert result.reason == ("registered capital: declared 10,000,000 CNY, registry 10,000,000 USD (different "
                             f"currencies: compare by hand); matching: name {NAME!r}, established 2015")


def test_nothing_in_the_extract_to_compare() -> None:
    nameless = attrs.evolve(bid(vendor_name=None), vendor_name="")
    result = findings(nameless, record(registered_capital=None, established=None))["registry.identity"]
    assert result.reason == (f"registration number {CODE} found; matches the registry: nothing to compare; "
                             "not compared: name (not declared), registered capital (not in the registry extract), "
                             "year established (not in the registry extract)")


# -- status and scope ------------------------------------------------------------------


@pytest.mark.parametrize(("status", "outcome", "reason"), [
    ("存续（在营、开业、在册）", "pass", "status: registry '存续（在营、开业、在册）' (active)"),
    ("吊销，未注销", "fail", "status: registry '吊销，未注销': the company is no longer active (deregistered, revoked "
                          "or dissolved) and cannot sign the contract"),
    ("Registered", "pass", "status: registry 'Registered' (active)"),
    ("unregistered", "review", "status: registry 'unregistered' is not a recognised active status; check it with "
                               "the registry"),
])
def test_status(status: str, outcome: str, reason: str) -> None:
    assert findings(rec=record(status=status))["registry.status"] == finding(
        "registry.status", outcome, reason, ("acme.xlsx: Company!C5", WHERE))


def test_scope_keywords() -> None:
    assert "registry.scope" not in findings()
    scope = "呼叫中心服务；信息技术咨询"
    assert findings(rec=record(business_scope=scope), scope_keywords=["呼叫中心", "外包"])["registry.scope"] == \
        finding("registry.scope", "pass", "business scope covers the service: registry scope contains '呼叫中心'")
    assert findings(rec=record(business_scope=scope), scope_keywords=["外包"])["registry.scope"] == finding(
        "registry.scope", "review", f"business scope: registry {scope!r} contains none of '外包'")
    assert findings(scope_keywords=["外包", "hotline"])["registry.scope"] == finding(
        "registry.scope", "review", "business scope: not in the registry extract; expected one of 外包, hotline")


def test_a_long_scope_is_cut_at_120_characters() -> None:
    scope = "x" * 121
    reason = findings(rec=record(business_scope=scope), scope_keywords=["y"])["registry.scope"].reason
    assert reason == f"business scope: registry {'x' * 117 + '...'!r} contains none of 'y'"
    exact = "x" * 120
    reason = findings(rec=record(business_scope=exact), scope_keywords=["y"])["registry.scope"].reason
    assert reason == f"business scope: registry {exact!r} contains none of 'y'"


# -- penalties ---------------------------------------------------------------------------


def penalty(day: dt.date, severity: str, place: str = "registry.json:9") -> Penalty:
    return Penalty(day, "市场监督管理局", "late filing", severity, place)


@pytest.mark.parametrize(("day", "counted"), [
    (dt.date(2024, 5, 1), True),    # the first day of the window
    (dt.date(2024, 4, 30), False),  # the day before
])
def test_a_major_penalty_at_the_edge_of_the_window(day: dt.date, counted: bool) -> None:
    result = findings(rec=record(penalties=(penalty(day, "major"),)))["registry.penalties"]
    if counted:
        assert result == finding("registry.penalties", "fail", (
            f"major administrative penalty within {WINDOW}: major penalty of {day.isoformat()} by 市场监督管理局: "
            "late filing"), (WHERE, "registry.json:9"))
    else:
        assert result == finding("registry.penalties", "pass", (
            f"no administrative penalty within {WINDOW}; 1 older penalty not counted"))


def test_penalties_in_order_of_severity() -> None:
    day = dt.date(2026, 1, 2)
    old = penalty(dt.date(2010, 1, 1), "major", "registry.json:5")
    rec = record(penalties=(penalty(day, "minor", "p:1"), penalty(day, "unclassified", "p:2"), old, old))
    assert findings(rec=rec)["registry.penalties"] == finding("registry.penalties", "review", (
        f"administrative penalty within {WINDOW} not classified minor or major in the extract: unclassified "
        "penalty of 2026-01-02 by 市场监督管理局: late filing; 2 older penalties not counted"), (WHERE, "p:2", "p:1"))


def test_minor_penalties_pass_by_default_and_review_when_asked() -> None:
    rec = record(penalties=(Penalty(dt.date(2026, 1, 2), "", "", "minor", "p:1"),))
    assert findings(rec=rec)["registry.penalties"] == finding("registry.penalties", "pass", (
        f"no major penalty within {WINDOW}; note the minor penalties: minor penalty of 2026-01-02"), (WHERE, "p:1"))
    assert findings(rec=rec, minor_penalties="review")["registry.penalties"] == finding(
        "registry.penalties", "review", f"minor administrative penalties within {WINDOW}: minor penalty of 2026-01-02",
        (WHERE, "p:1"))


def test_no_penalty_information_is_review() -> None:
    assert findings(rec=record(penalties=None))["registry.penalties"] == finding(
        "registry.penalties", "review", "administrative penalties: the registry extract has no penalty information "
                                        "for this company; check them with the registry")


def test_the_lookback_option_moves_the_window() -> None:
    rec = record(penalties=(penalty(dt.date(2022, 5, 1), "major"),))
    result = findings(rec=rec, lookback_years=5)["registry.penalties"]
    assert result.outcome == "fail"
    assert result.reason.startswith("major administrative penalty within the 5 years before 2027-05-01 "
                                    "(since 2022-05-01): ")
    assert findings(rec=rec, lookback_years=0)["registry.penalties"].reason == (
        "no administrative penalty within the 0 years before 2027-05-01 (since 2027-05-01); "
        "1 older penalty not counted")


def test_a_window_from_29_february_starts_on_28_february() -> None:
    rfp = attrs.evolve(RFP, timeline=Timeline(contract_start=dt.date(2028, 2, 29)))
    rec = record(penalties=(penalty(dt.date(2025, 2, 28), "major"),))
    result = findings(rec=rec, rfp=rfp)["registry.penalties"]
    assert (result.outcome, result.reason.split(":")[0]) == (
        "fail", "major administrative penalty within the 3 years before 2028-02-29 (since 2025-02-28)")


# -- dishonesty ----------------------------------------------------------------------------


@pytest.mark.parametrize(("listing", "outcome", "reason"), [
    (None, "review", "dishonest-entity listing: the registry extract says nothing about it; check it with the "
                     "registry (信用中国 / 失信被执行人)"),
    (Dishonesty(False, dt.date(2026, 1, 1)), "pass", "not listed as a dishonest entity"),
    (Dishonesty(True), "fail", f"listed as a dishonest entity; the listing has no date, so it counts as within "
                               f"{WINDOW}"),
    (Dishonesty(True, dt.date(2024, 5, 1), "unpaid judgment"), "fail",
     f"listed as a dishonest entity on 2024-05-01 (unpaid judgment), within {WINDOW}"),
    (Dishonesty(True, dt.date(2024, 4, 30)), "review",
     f"listed as a dishonest entity on 2024-04-30, before {WINDOW}; check whether the listing is still in force"),
])
def test_dishonesty(listing: Dishonesty | None, outcome: str, reason: str) -> None:
    assert findings(rec=record(dishonesty=listing))["registry.dishonesty"] == finding(
        "registry.dishonesty", outcome, reason)


def test_a_record_with_a_source_is_cited_with_it() -> None:
    result = findings(rec=record(source="国家企业信用信息公示系统"))["registry.dishonesty"]
    assert result.evidence == (f"{WHERE} (国家企业信用信息公示系统)",)


# -- options ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("options", "messages"), [
    ({"lookback_years": 0, "minor_penalties": "review", "scope_keywords": ["a"]}, []),
    ({"lookback_years": -1}, ["plugins.registry.lookback_years: must be 0 or more, got -1"]),
    ({"lookback_years": True}, ["plugins.registry.lookback_years: must be a whole number, got True"]),
    ({"minor_penalties": "fail"}, ['plugins.registry.minor_penalties: must be "pass" or "review", got \'fail\'']),
    ({"scope_keywords": ["a", " "]}, ["plugins.registry.scope_keywords: must be a list of non-empty texts"]),
    ({"scope_keywords": "a"}, ["plugins.registry.scope_keywords: must be a list of texts, got 'a'"]),
    ({"extract": 3}, ["plugins.registry.extract: must be text, got 3"]),
])
def test_option_problems(options: dict[str, Any], messages: list[str]) -> None:
    rfp = attrs.evolve(RFP, plugin_options={"registry": options})
    assert [str(p) for p in dd.rfpflow_validate_rfp(rfp, CONTEXT)] == messages


def test_an_unknown_option_suggests_the_close_one() -> None:
    rfp = attrs.evolve(RFP, plugin_options={"registry": {"lookback_year": 2}})
    [problem] = dd.rfpflow_validate_rfp(rfp, CONTEXT)
    assert str(problem).startswith("plugins.registry.lookback_year: the registry plugin has no option "
                                   "'lookback_year' (did you mean 'lookback_years'?); options: extract, penalties, ")


def test_no_extract_configured_and_no_workspace_means_no_findings() -> None:
    assert dd.rfpflow_due_diligence(bid(), RFP, CONTEXT) is None


# -- the registration_code gate -----------------------------------------------------------------


def code_gate(on_fail: str = "fail", **fields: Any) -> GateResult:
    b = bid(**fields)
    return dd.check_registration_code(b, Gate("uscc", "registration_code", on_fail=on_fail), (b,), RFP, CONTEXT)


def gate_result(outcome: str, reason: str, evidence: tuple[str, ...] = ("acme.xlsx: Company!C5",)) -> GateResult:
    return GateResult("V1", "uscc", outcome, reason, evidence, source="gate:registration_code")


def test_a_valid_code() -> None:
    assert code_gate(country="中国") == gate_result("pass", f"统一社会信用代码 {CODE} is valid (GB 32100-2015 check "
                                                          "character)")


def test_a_wrong_check_character_fails_or_is_reviewed() -> None:
    bad = CODE[:-1] + "X"
    result = code_gate(registration_no=bad, country="P.R. China")
    # Only the check character is wrong: a typo to confirm with the vendor, never a refusal (issue 15).
    assert (result.outcome, result.reason.startswith(f"统一社会信用代码 {bad!r} ")) == ("review", True)
    assert result.reason.endswith(f"(GB 32100-2015); expected check character {CODE[-1]}: confirm the number "
                                  "with the vendor")
    assert code_gate("review", registration_no=bad, country="CN").outcome == "review"


def test_a_foreign_vendor_passes_without_the_check() -> None:
    assert code_gate(registration_no="HRB 12345", country="Germany") == gate_result(
        "pass", "vendor registered in Germany: GB 32100 codes apply only to mainland China")


def test_unknown_country_and_a_code_of_the_wrong_length_is_review() -> None:
    assert code_gate(registration_no="12345", country=" ") == gate_result(
        "review", "registration number '12345' is not an 18-character unified social credit code and the vendor's "
                  "country is not declared")
    assert code_gate(country=None).outcome == "pass"  # 18 characters: checked as a Chinese code


def test_no_code_declared_is_review() -> None:
    assert code_gate(registration_no=None) == gate_result(
        "review", "registration number (统一社会信用代码) not declared", ())


# -- reading the extract ---------------------------------------------------------------------------


def test_a_penalty_that_is_not_an_object_refuses_the_extract(tmp_path: Path) -> None:
    path = tmp_path / "registry.json"
    path.write_text(json.dumps([{"registration_no": CODE, "name": NAME, "status": "存续",
                                 "penalties": [3, {"date": "2026-01-02", "severity": "一般"}]}]), encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        dd.load_extract(path)
    assert str(caught.value).splitlines()[0] == "registry.json: 1 problem in the registry extract"
    assert [(p.place, p.message) for p in caught.value.problems] == [("1", "record 1: penalties[1] must be an object")]


def test_penalties_are_read_with_their_severity(tmp_path: Path) -> None:
    path = tmp_path / "registry.json"
    path.write_text(json.dumps([{"registration_no": CODE, "name": NAME, "status": "存续",
                                 "penalties": [{"date": "2026-01-02", "severity": "重大", "authority": "A"}]}]),
                    encoding="utf-8")
    [rec] = dd.load_extract(path)
    assert rec.penalties == (
        Penalty(dt.date(2026, 1, 2), "A", "", "major", "registry.json:1 (record 1), penalties[1]"),)


@pytest.mark.parametrize("suffix", ["json", "csv"])
def test_a_company_listed_twice_refuses_the_extract(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"registry.{suffix}"
    if suffix == "json":
        path.write_text(json.dumps([{"registration_no": CODE, "name": NAME, "status": "存续"}] * 2, indent=1),
                        encoding="utf-8")
        first, second = "registry.json:2 (record 1)", "7"
    else:
        path.write_text(f"registration_no,name,status\n{CODE},{NAME},存续\n{CODE},{NAME},存续\n", encoding="utf-8")
        first, second = "registry.csv:2", "3"
    with pytest.raises(InputFileError) as caught:
        dd.load_extract(path)
    assert [(p.place, p.message) for p in caught.value.problems] == [
        (second, f"registration number {CODE} appears twice (also at {first})")]


def test_a_record_that_is_not_an_object_refuses_the_extract(tmp_path: Path) -> None:
    path = tmp_path / "registry.json"
    path.write_text(json.dumps([3, {"registration_no": CODE, "name": NAME, "status": "存续"}], indent=1),
                    encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        dd.load_extract(path)
    assert [(p.place, p.message) for p in caught.value.problems] == [("2", "record 1 must be an object {...}, got int")]
