"""Regenerate the EU MEAT sample's inputs (deterministic: same code, same files).

    python samples/eu-meat-services/make_sample.py

The City of Aldenburg buys a managed service desk for 24 months (open procedure,
Directive 2014/24/EU), awarded on the best price-quality ratio: quality 60, price 40.
Five tenderers, each with a story its tender workbook tells:

* Helix (helix)            the best quality and the highest price
* NordServ (nordserv)      good quality at a fair price: the most economically advantageous
* ValDesk (valdesk)        30 % below the others: abnormally low -> explanation requested
                           (art. 69); its explanation (a nearshore centre under a collective
                           agreement, automated password resets) is accepted
* Castellan (castellan)    answers "No" to exclusion declaration EX-4: a prior public
                           contract was terminated early in 2025. Its self-cleaning evidence
                           (art. 57(6)) is weighed and found insufficient: excluded
* BrightDesk (brightdesk)  a start-up whose yearly turnover is below the 1,000,000 EUR
                           selection criterion

Three evaluators score the three remaining tenders. The award decision is notified
electronically, so the standstill period is 10 days.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from rfpflow.builtins.score_sheets import write_score_sheet
from rfpflow.context import Clock, RunContext
from rfpflow.definition import load_rfp
from rfpflow.spreadsheets.samples import fill_score_sheet, write_bid_workbooks
from rfpflow.testing import make_host

HERE = Path(__file__).resolve().parent

#: Every exclusion-ground declaration made, and the ESPD complete.
DECLARED = {q: "Yes" for q in ("EX-1", "EX-2", "EX-3", "EX-4", "ESPD")}

VENDORS: dict[str, dict] = {
    "helix": {
        "company": {"vendor_name": "Helix Workplace Services GmbH", "registration_no": "HRB 204518",
                    "country": "Germany", "year_established": 2004, "registered_capital": "500,000",
                    "annual_turnover": "48,500,000", "headcount": 610, "contact_name": "Jana Hoffmann",
                    "contact_email": "tenders@helix-workplace.example.de", "contact_phone": "+49 40 5555 2101"},
        "certifications": [{"name": "ISO 9001:2015", "number": "HX-Q-2209", "expires": dt.date(2029, 6, 30)},
                           {"name": "ISO/IEC 27001:2022", "number": "HX-IS-3117", "expires": dt.date(2029, 6, 30)},
                           {"name": "ISO/IEC 20000-1:2018", "number": "HX-SM-0408", "expires": dt.date(2028, 12, 31)}],
        "answers": {**DECLARED},
        "prices": {"L1": 33500, "L2": 46000},
    },
    "nordserv": {
        "company": {"vendor_name": "NordServ Oy", "registration_no": "2874511-6", "country": "Finland",
                    "year_established": 2012, "registered_capital": "80,000", "annual_turnover": "21,300,000",
                    "headcount": 290, "contact_name": "Mikko Lahtinen",
                    "contact_email": "bids@nordserv.example.fi", "contact_phone": "+358 9 5555 2202"},
        "certifications": [{"name": "ISO 9001:2015", "number": "NS-Q-118", "expires": dt.date(2028, 9, 30)},
                           {"name": "ISO/IEC 27001:2022", "number": "NS-IS-071", "expires": dt.date(2028, 9, 30)}],
        "answers": {**DECLARED},
        "prices": {"L1": 30000, "L2": 40000},
    },
    "valdesk": {
        "company": {"vendor_name": "ValDesk Soluciones S.L.", "registration_no": "B98765432", "country": "Spain",
                    "year_established": 2017, "registered_capital": "120,000", "annual_turnover": "6,800,000",
                    "headcount": 170, "contact_name": "Lucía Martínez",
                    "contact_email": "licitaciones@valdesk.example.es", "contact_phone": "+34 96 555 2303"},
        "certifications": [{"name": "ISO 9001:2015", "number": "VD-Q-33", "expires": dt.date(2028, 3, 31)}],
        "answers": {**DECLARED},
        "prices": {"L1": 21000, "L2": 28000},
    },
    "castellan": {
        "company": {"vendor_name": "Castellan IT Solutions Ltd", "registration_no": "612345", "country": "Ireland",
                    "year_established": 2009, "registered_capital": "250,000", "annual_turnover": "14,200,000",
                    "headcount": 220, "contact_name": "Siobhan Keane",
                    "contact_email": "tenders@castellan-it.example.ie", "contact_phone": "+353 1 555 2404"},
        "certifications": [{"name": "ISO 9001:2015", "number": "CI-Q-604", "expires": dt.date(2028, 7, 31)},
                           {"name": "ISO/IEC 27001:2013", "number": "CI-IS-212", "expires": dt.date(2028, 7, 31)}],
        "answers": {**DECLARED,
                    "EX-4": {"answer": "No",
                             "comment": "Our service-desk contract with a regional health authority was terminated "
                                        "early in 2025; see annex 7 for the corrective measures taken"}},
        "prices": {"L1": 29000, "L2": 35000},
    },
    "brightdesk": {
        "company": {"vendor_name": "BrightDesk BV", "registration_no": "0712.345.678", "country": "Belgium",
                    "year_established": 2022, "registered_capital": "18,600", "annual_turnover": "650,000",
                    "headcount": 14, "contact_name": "Pieter Claes",
                    "contact_email": "hello@brightdesk.example.be", "contact_phone": "+32 9 555 2505"},
        "certifications": [],
        "answers": {**DECLARED},
        "prices": {"L1": 27500, "L2": 30000},
    },
}

# The tenderers that pass screening, and each evaluator's scores (0-10) on the quality criteria.
EVALUATED = ["helix", "nordserv", "valdesk"]
#: Evaluators see the vendors by name over their columns (issue 15).
NAMES = {vendor: VENDORS[vendor]["company"]["vendor_name"] for vendor in EVALUATED}
CRITERIA = ["technical_merit", "service_delivery", "staff", "data_protection"]
SCORES = {  # criterion: {vendor: (E1, E2, E3)}
    "technical_merit":  {"helix": (9, 9, 8), "nordserv": (9, 8, 8), "valdesk": (6, 6, 5)},
    "service_delivery": {"helix": (9, 9, 9), "nordserv": (9, 9, 8), "valdesk": (6, 6, 6)},
    "staff":            {"helix": (9, 8, 9), "nordserv": (8, 8, 9), "valdesk": (5, 6, 5)},
    "data_protection":  {"helix": (9, 9, 9), "nordserv": (9, 9, 9), "valdesk": (6, 5, 6)},
}
COMMENTS = {("E3", "valdesk", "data_protection"): "Sub-processor list incomplete; deletion at exit only described",
            ("E2", "nordserv", "service_delivery"): "Credible SLA reporting; Finnish and English desk, "
                                                   "local on-site visits twice a week"}

#: What the procurement officer decided at screening (written to decisions.toml, read by `rfpflow run`).
DECISIONS = [
    {"vendor": "castellan", "gate": "exclusion", "decision": "fail",
     "reason": "Exclusion ground art. 57(4)(g): a prior public contract was terminated early in 2025 for "
               "significant deficiencies. The self-cleaning evidence (art. 57(6)) shows no compensation paid and "
               "no concrete staff or organisational measures: excluded",
     "actor": "M. Jansen (procurement officer)"},
    {"vendor": "valdesk", "gate": "abnormally_low", "decision": "pass",
     "reason": "Written explanation (art. 69), clarification C-3: nearshore centre in Valencia paid under the "
               "applicable collective agreement, self-service password resets remove a third of the tickets; "
               "the price covers the costs",
     "actor": "M. Jansen (procurement officer)"},
]


def _decisions_toml() -> str:
    lines = ["# What people decided along the way (read by `rfpflow run`)."]
    for item in DECISIONS:
        lines += ["", "[[screening]]"]
        lines += [f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in item.items()]
    return "\n".join(lines) + "\n"


def _fill_score_sheet(path: Path, evaluator_index: int, evaluator: str) -> None:
    scores = {c: {v: SCORES[c][v][evaluator_index] for v in EVALUATED} for c in CRITERIA}
    comments = {(v, c): text for (e, v, c), text in COMMENTS.items() if e == evaluator}
    # "returned by the evaluator"
    fill_score_sheet(path, EVALUATED, scores, dt.datetime(2027, 5, 26, 15, 0), comments)


def main(target: Path = HERE) -> None:
    """Write the sample's inputs into ``target`` (the sample folder; tests pass another one)."""
    host = make_host()
    context = RunContext(host=host, clock=Clock(dt.datetime(2027, 4, 12, tzinfo=dt.UTC)), actor="sample")
    rfp = load_rfp(HERE / "rfp.toml", context=context)
    for folder in ("bids", "evaluations"):
        shutil.rmtree(target / folder, ignore_errors=True)
        (target / folder).mkdir(parents=True)
    write_bid_workbooks(rfp, VENDORS, target / "bids")
    for index, evaluator in enumerate(e.id for e in rfp.evaluators):
        path = write_score_sheet(rfp, evaluator, EVALUATED, target / "evaluations" / f"{rfp.id}-{evaluator}.xlsx",
                                 NAMES)
        _fill_score_sheet(path, index, evaluator)
    (target / "decisions.toml").write_text(_decisions_toml(), encoding="utf-8")
    print(f"wrote the inputs of {rfp.id} into {target}")


if __name__ == "__main__":
    main()
