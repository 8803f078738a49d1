"""Shared data for the rfpflow-cn-gov tests: a cycle view after the award, and the CLI."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import rfpflow_cn_gov

_CRITERIA = [
    {"id": "solution", "name": "运维技术方案", "weight": 18.0, "source": "judgement", "parent": "technical"},
    {"id": "projects", "name": "类似项目业绩", "weight": 52.0, "source": "judgement", "parent": None},
    {"id": "price", "name": "价格", "weight": 30.0, "source": "price", "parent": None, "direction": "cost"},
]


def _vendor(vid: str, name: str, price: str, screening: str, gates: list[dict[str, Any]] | None = None) -> dict:
    return {"id": vid, "name": name, "registration_no": "91350100M000100Y43" if vid == "v1" else "",
            "country": "CN", "submitted_at": "2027-03-20T10:00:00+08:00", "late": False,
            "source_file": f"{vid}.xlsx", "total_price": price, "screening": screening, "gates": gates or []}


_VIEW: dict[str, Any] = {
    "schema": 1,
    "rfp": {
        "id": "GP-2027-001", "title": "信息系统运维服务采购项目", "buyer": "示例市数据管理局", "category": "ITO",
        "currency": "CNY", "language": "zh", "profile": "cn-gov-87", "contract_value": "2800000",
        "budget_ceiling": "2800000", "timeline": {"bid_deadline": "2027-03-22T09:30:00+08:00",
                                                  "decision_date": "2027-03-29"},
        "criteria": _CRITERIA,
        "evaluators": [{"id": f"E{n}", "name": f"评审专家{n}", "role": "expert"} for n in range(1, 5)]
        + [{"id": "E5", "name": "采购人代表", "role": "buyer"}],
        "scoring": {"method": "weighted-sum", "price_formula": "lowest-ratio",
                    "tie_break": ["total_score", "price", "technical_score", "vendor"]},
    },
    "definition_hash": "f" * 64,
    "stage": "awarded",
    "chain_head": "c" * 64,
    "event_count": 31,
    "as_of": "2027-03-29T16:00:00+08:00",
    "vendors": [
        _vendor("v1", "甲信息技术有限公司", "2500000.00", "pass"),
        _vendor("v2", "乙科技有限公司", "2400000.00", "pass"),
        _vendor("v3", "丙运维服务有限公司", "2700000.00", "pass"),
        _vendor("v4", "丁<script>公司</script>", "2000000.00", "fail", [
            {"gate": "qualification", "name": "资格条件与实质性要求", "outcome": "fail",
             "reason": "Q22-4 answered '否', '是' required", "evidence": ["v4.xlsx: Questionnaire!D7"]}]),
    ],
    "evaluation": {
        "method": "weighted-sum",
        "totals": [
            {"vendor": "v1", "rank": 1, "total": 88.8, "price": "2500000.00",
             "breakdown": {"solution": 15.0, "projects": 45.0, "price": 28.8}, "dimensions": {}},
            {"vendor": "v2", "rank": 2, "total": 86.5, "price": "2400000.00",
             "breakdown": {"solution": 12.0, "projects": 44.5, "price": 30.0}, "dimensions": {}},
            {"vendor": "v3", "rank": 3, "total": 80.67, "price": "2700000.00",
             "breakdown": {"solution": 12.0, "projects": 42.0, "price": 26.67}, "dimensions": {}},
        ],
        "notes": ["weighted sum: each total is the sum of the criterion points on the 100-point scale"],
    },
    "award": {"vendor": "v1", "vendor_name": "甲信息技术有限公司", "justification": "综合得分最高",
              "follows_ranking": True,
              "ranking": [{"vendor": "v1", "rank": 1, "total": 88.8}, {"vendor": "v2", "rank": 2, "total": 86.5},
                          {"vendor": "v3", "rank": 3, "total": 80.67}]},
    "events": [],
}


@pytest.fixture
def award_view() -> Callable[..., dict[str, Any]]:
    """The view of a cn-gov-87 cycle after the award (``stage`` to move it back)."""

    def make(stage: str = "awarded") -> dict[str, Any]:
        view = copy.deepcopy(_VIEW)
        view["stage"] = stage
        if stage != "awarded":
            view["award"] = None
        return view

    return make


@pytest.fixture
def plugin() -> Any:
    return rfpflow_cn_gov


@pytest.fixture
def rfpflow_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RFPFLOW_")}
        return subprocess.run([sys.executable, "-m", "rfpflow", *args], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=120)

    return run
