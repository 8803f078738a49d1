"""The cmmi_level gate: reading maturity levels and judging bids."""

from __future__ import annotations

import datetime as dt

import pytest
from rfpflow_outsourcing.cmmi import cmmi_level, is_cmmi

from rfpflow.model import Bid, Certification, Gate, Rfp, Timeline

RFP = Rfp(id="R", title="t", buyer="b", category="ITO", currency="CNY", language="en",
          timeline=Timeline(contract_start=dt.date(2027, 5, 1)))


@pytest.mark.parametrize(("name", "level"), [
    ("CMMI ML3", 3), ("CMMI Level 5", 5), ("CMMI-DEV V2.0 ML3", 3), ("CMMI-SVC ML 4", 4), ("CMMI 3", 3),
    ("CMMI5", 5), ("CMMI 三级", 3), ("CMMI 成熟度 3 级", 3), ("ＣＭＭＩ ＭＬ５", 5), ("CMMI 1.3 L2", 2),
    ("CMMI-DEV V2.0", None), ("CMMI", None), ("ISO 9001", None),
])
def test_maturity_level_is_read_from_the_certificate_name(name: str, level: int | None) -> None:
    assert cmmi_level(name) == level


def test_only_cmmi_certificates_count() -> None:
    assert is_cmmi("cmmi-dev ml3") and not is_cmmi("ISO 27001")


@pytest.fixture
def gate_check(rfpflow_host, rfpflow_context, plugin):
    host = rfpflow_host(plugin)
    rule = host.screening_rules()["cmmi_level"]

    def check(*certs: Certification, min_level: int | None = 3, on_fail: str = "fail"):
        params = {} if min_level is None else {"min_level": min_level}
        gate = Gate("cmmi", "cmmi_level", on_fail=on_fail, params=params)
        bid = Bid("acme", "Acme", "acme.xlsx", certifications=certs)
        return rule.check(bid, gate, (bid,), RFP, rfpflow_context(host))

    return check


def test_level_at_or_above_the_minimum_passes_with_evidence(gate_check) -> None:
    result = gate_check(Certification("CMMI-DEV V2.0 ML3", dt.date(2028, 1, 1), "Certifications!A5"))
    assert result.outcome == "pass"
    assert "maturity level 3" in result.reason
    assert result.evidence == ("acme.xlsx: Certifications!A5",)
    assert result.source == "gate:cmmi_level"


def test_best_valid_appraisal_counts(gate_check) -> None:
    assert gate_check(Certification("CMMI ML2"), Certification("CMMI Level 4")).outcome == "pass"


def test_lower_level_fails(gate_check) -> None:
    result = gate_check(Certification("CMMI ML2"))
    assert result.outcome == "fail"
    assert "level 2" in result.reason and "3 or higher" in result.reason


def test_no_cmmi_fails_or_goes_to_review(gate_check) -> None:
    assert gate_check(Certification("ISO 9001")).outcome == "fail"
    assert gate_check(on_fail="review").outcome == "review"


def test_expired_appraisal_counts_as_missing(gate_check) -> None:
    result = gate_check(Certification("CMMI ML5", dt.date(2027, 3, 1)))
    assert result.outcome == "fail"
    assert "counts as missing" in result.reason


def test_unreadable_level_needs_review(gate_check) -> None:
    result = gate_check(Certification("CMMI-DEV V2.0"))
    assert result.outcome == "review"
    assert "no maturity level" in result.reason


def test_default_minimum_is_level_3(gate_check) -> None:
    assert gate_check(Certification("CMMI ML2"), min_level=None).outcome == "fail"
    assert gate_check(Certification("CMMI ML3"), min_level=None).outcome == "pass"
