"""A realistic cycle view (the data documents and exports are made from), for tests.

The workflow builds this structure with ``rfpflow.workflow.cycle_view``; its
shape is documented in docs/cycle-view.md. Vendor text here is hostile on
purpose in places: documents and exports must keep it inert.
"""

from __future__ import annotations

import copy
from typing import Any

HOSTILE_NAMES = ["{{ 7*7 }}", "<script>alert(1)</script>", "=cmd|' /C calc'!A0", "../../etc/passwd"]

_CRITERIA = [
    {"id": "approach", "name": "Service approach and SLA", "weight": 25.0, "direction": "benefit",
     "source": "judgement", "parent": "technical", "scale": [0.0, 10.0], "guidance": "How convincing"},
    {"id": "team", "name": "Team and staffing", "weight": 20.0, "direction": "benefit", "source": "judgement",
     "parent": "technical", "scale": [0.0, 10.0], "guidance": "Leads and attrition"},
    {"id": "experience", "name": "Relevant experience", "weight": 15.0, "direction": "benefit",
     "source": "judgement", "parent": "technical", "scale": [0.0, 10.0], "guidance": "Same industry"},
    {"id": "price", "name": "Price", "weight": 40.0, "direction": "cost", "source": "price", "parent": None,
     "scale": [0.0, 10.0], "guidance": ""},
]

_VIEW: dict[str, Any] = {
    "schema": 1,
    "rfp": {
        "id": "RFP-2027-001", "title": "Customer-service hotline outsourcing", "buyer": "Example Retail Ltd.",
        "category": "BPO", "currency": "CNY", "language": "en", "profile": "generic",
        "contract_value": "1200000", "budget_ceiling": "1500000", "two_envelope": False,
        "timeline": {"issue_date": "2027-01-04", "clarification_deadline": "2027-01-15",
                     "bid_deadline": "2027-01-29T17:00:00+08:00", "trial_start": "2027-02-15",
                     "trial_end": "2027-03-28", "decision_date": "2027-04-09", "contract_start": "2027-05-01"},
        "criteria": _CRITERIA,
        "dimensions": [
            {"id": "technical", "name": "Technical and service quality", "weight": 60.0,
             "children": ["approach", "team", "experience"]},
            {"id": "price", "name": "Price", "weight": 40.0, "children": ["price"]},
        ],
        "gates": [{"id": "iso9001", "kind": "certification", "name": "Valid ISO 9001 certificate", "on_fail": "fail"},
                  {"id": "abnormally_low", "kind": "abnormally_low", "name": "Price not abnormally low",
                   "on_fail": "review"}],
        "line_items": [{"id": "L1", "description": "Hotline seats, 12 months", "unit": "month", "quantity": "12"},
                       {"id": "L2", "description": "Onboarding", "unit": "lot", "quantity": "1"}],
        "questionnaire": [{"id": "Q1", "text": "Do you accept the SLA?", "mandatory": True, "choices": ["Yes", "No"]}],
        "kpis": [{"id": "service_level", "name": "Calls answered within 20 s", "unit": "%", "target": 80.0,
                  "direction": "higher", "must_have": True, "weight": 3.0},
                 {"id": "csat", "name": "Customer satisfaction", "unit": "%", "target": 85.0, "direction": "higher",
                  "must_have": False, "weight": 2.0}],
        "evaluators": [{"id": "E1", "name": "Evaluator 1", "role": "evaluator"},
                       {"id": "E2", "name": "Evaluator 2", "role": "evaluator"},
                       {"id": "E3", "name": "Evaluator 3", "role": "evaluator"}],
        "scoring": {"method": "weighted-sum", "normalization": "min-max", "consensus": "median",
                    "outlier_threshold": 2.0, "price_formula": "lowest-ratio",
                    "tie_break": ["total_score", "price", "technical_score", "submitted_at", "vendor"],
                    "award_weights": {"evaluation": 0.6, "price": 0.2, "trial": 0.2}},
        "standstill_days": 10,
    },
    "definition_hash": "c8e30528565920a6194e0df47e0e03c1859ef8669741d825e40ea96d349044bc",
    "stage": "award-recommended",
    "chain_head": "90bdb24c24f8e39245969f9a610a58297eba53ed0f32f7801ad5ac23434a6f3e",
    "event_count": 23,
    "as_of": "2027-04-09T10:00:00+08:00",
    "prices_sealed": False,
    "vendors": [
        {"id": "acme", "name": "Acme Services", "registration_no": "91350100M000100Y43", "country": "CN",
         "submitted_at": "2027-01-20T09:00:00+08:00", "late": False, "source_file": "acme.xlsx",
         "total_price": "1080000.00", "screening": "pass",
         "gates": [{"gate": "iso9001", "name": "Valid ISO 9001 certificate", "outcome": "pass",
                    "reason": "ISO 9001:2015 declared, valid until 2029-06-30",
                    "evidence": ["acme.xlsx: Certifications!B4"], "resolution": None}]},
        {"id": "beta", "name": "Beta BPO", "registration_no": "", "country": "CN",
         "submitted_at": "2027-01-21T09:00:00+08:00", "late": False, "source_file": "beta.xlsx",
         "total_price": "960000.00", "screening": "pass",
         "gates": [{"gate": "abnormally_low", "name": "Price not abnormally low", "outcome": "review",
                    "reason": "total 960,000.00 is 21.0% below the mean",
                    "evidence": [], "resolution": {"decision": "pass", "reason": "explained in clarification 3",
                                                   "actor": "li.wei", "at": "2027-02-02T10:00:00+08:00"}}]},
        {"id": "gamma", "name": "Gamma Contact Centre", "registration_no": "", "country": "CN",
         "submitted_at": "2027-01-22T09:00:00+08:00", "late": False, "source_file": "gamma.xlsx",
         "total_price": "1190000.00", "screening": "pass", "gates": []},
        {"id": "delta", "name": "Delta Staffing", "registration_no": "", "country": "CN",
         "submitted_at": "2027-01-23T09:00:00+08:00", "late": True, "source_file": "delta.xlsx",
         "total_price": "700000.00", "screening": "fail",
         "gates": [{"gate": "iso9001", "name": "Valid ISO 9001 certificate", "outcome": "fail",
                    "reason": "none of ISO 9001 declared", "evidence": [], "resolution": None}]},
    ],
    "evaluation": {
        "method": "weighted-sum",
        "totals": [
            {"vendor": "acme", "rank": 1, "total": 82.4, "price": "1080000.00",
             "breakdown": {"approach": 21.0, "team": 16.0, "experience": 10.0, "price": 35.4},
             "dimensions": {"technical": 47.0, "price": 35.4}},
            {"vendor": "beta", "rank": 2, "total": 80.5, "price": "960000.00",
             "breakdown": {"approach": 16.0, "team": 14.0, "experience": 10.5, "price": 40.0},
             "dimensions": {"technical": 40.5, "price": 40.0}},
            {"vendor": "gamma", "rank": 3, "total": 70.3, "price": "1190000.00",
             "breakdown": {"approach": 15.0, "team": 12.0, "experience": 11.0, "price": 32.3},
             "dimensions": {"technical": 38.0, "price": 32.3}},
        ],
        "tied_groups": [],
        "notes": ["Totals are points out of 100."],
        "outliers": [{"evaluator": "E3", "vendor": "beta", "criterion": "team", "score": 2.0, "median": 7.0,
                      "distance": 5.0}],
        "sensitivity": [{"criterion": "team", "current_weight": 20.0, "new_weight": 31.4, "new_winner": "beta",
                         "text": "team: the winner changes if its weight rises from 20.0 to 31.4 - "
                                 "Beta BPO would lead"}],
        "scores": [{"evaluator": "E1", "vendor": "acme", "criterion": "approach", "score": 8.0, "comment": "solid"},
                   {"evaluator": "E3", "vendor": "beta", "criterion": "team", "score": 2.0,
                    "comment": "<b>weak</b> {{ 7*7 }}"}],
    },
    "shortlist": ["acme", "beta"],
    "trial": {"results": [
        {"vendor": "acme", "passed": True, "score": 91.0, "notes": [],
         "kpis": [{"kpi": "service_level", "name": "Calls answered within 20 s", "unit": "%", "value": 78.0,
                   "target": 80.0, "met": False, "attainment": 0.975},
                  {"kpi": "csat", "name": "Customer satisfaction", "unit": "%", "value": 90.0, "target": 85.0,
                   "met": True, "attainment": 1.0}]},
        {"vendor": "beta", "passed": True, "score": 100.0, "notes": [],
         "kpis": [{"kpi": "service_level", "name": "Calls answered within 20 s", "unit": "%", "value": 86.0,
                   "target": 80.0, "met": True, "attainment": 1.0},
                  {"kpi": "csat", "name": "Customer satisfaction", "unit": "%", "value": 88.0, "target": 85.0,
                   "met": True, "attainment": 1.0}]},
    ]},
    "award": {"vendor": "beta", "vendor_name": "Beta BPO", "justification": "", "follows_ranking": True,
              "standstill_ends": "2027-04-19",
              "ranking": [{"vendor": "beta", "rank": 1, "total": 88.3, "evaluation": 80.5, "price_score": 100.0,
                           "trial_score": 100.0},
                          {"vendor": "acme", "rank": 2, "total": 85.9, "evaluation": 82.4, "price_score": 88.9,
                           "trial_score": 91.0}]},
    "events": [
        {"seq": 1, "at": "2027-01-05T09:00:00+08:00", "actor": "li.wei", "kind": "cycle.issued",
         "data": {"rfp_id": "RFP-2027-001"}, "hash": "438c356a1ab692b0" + "0" * 48},
        {"seq": 2, "at": "2027-01-05T09:00:00+08:00", "actor": "li.wei", "kind": "stage.changed",
         "data": {"source": "draft", "target": "issued"}, "hash": "90bdb24c24f8e392" + "0" * 48},
    ],
}


def sample_view(language: str = "en", hostile: bool = False) -> dict[str, Any]:
    """A deep copy of the sample view; ``hostile`` renames vendors to injection payloads."""
    view = copy.deepcopy(_VIEW)
    view["rfp"]["language"] = language
    if language == "zh":
        view["rfp"]["title"] = "客服热线外包服务采购"
        view["rfp"]["buyer"] = "示例零售有限公司"
    if hostile:
        for vendor, name in zip(view["vendors"], HOSTILE_NAMES, strict=False):
            vendor["name"] = name
        view["award"]["vendor_name"] = view["vendors"][1]["name"]
    return view
