"""Regenerate the World Bank QCBS sample's inputs (deterministic: same code, same files).

    python samples/worldbank-consultants/make_sample.py

The project implementation unit of a water-security project financed by the World
Bank selects a consulting firm for the design and construction supervision of rural
water-supply schemes, by quality- and cost-based selection (QCBS): technical score St
(0-100, minimum 75), two envelopes, S = 0.8 St + 0.2 Sf with Sf = 100 x lowest price /
price among the proposals that reached the minimum. Four firms submit proposals:

* AquaConsult (aquaconsult)  the best technical proposal (St 85.83) and the dearest
* Meridian (meridian)        a good proposal (St 82.33) at a middle price
* Deltaflow (deltaflow)      St 81.50 and the cheapest proposal: the highest S (85.20)
* Sahel (sahel)              St 69.17, below the minimum of 75: rejected, and its
                             financial proposal is to stay unopened

The best technical proposal does not win: AquaConsult's S is 84.61. Sahel's price lies
between the others' prices, so it changes no other firm's Sf. rfpflow's own award
ranking compares every price, the rejected proposal's too: the plugin's rule (the
highest S among the proposals reaching the minimum) agrees with it here, which keeps
every letter consistent.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from rfpflow.builtins.score_sheets import write_score_sheet
from rfpflow.context import Clock, RunContext
from rfpflow.definition import load_rfp
from rfpflow.spreadsheets.samples import fill_score_sheet, write_bid_workbooks
from rfpflow.testing import make_host

HERE = Path(__file__).resolve().parent

DECLARED = {"ELIG": "Yes", "COI": "Yes"}

VENDORS: dict[str, dict] = {
    "aquaconsult": {
        "company": {"vendor_name": "AquaConsult Engineers GmbH", "registration_no": "HRB 98231",
                    "country": "Germany", "year_established": 1994, "registered_capital": "1,000,000",
                    "annual_turnover": "64,000,000", "headcount": 480, "contact_name": "Dr. Stefan Vogel",
                    "contact_email": "proposals@aquaconsult.example.de", "contact_phone": "+49 69 5555 3101"},
        "certifications": [{"name": "ISO 9001:2015", "number": "AC-Q-1994", "expires": dt.date(2029, 4, 30)}],
        "answers": {**DECLARED},
        "prices": {"F1": 560000, "F2": 720000, "F3": 100000},
    },
    "meridian": {
        "company": {"vendor_name": "Meridian Water Partners LLP", "registration_no": "OC412345",
                    "country": "United Kingdom", "year_established": 2006, "registered_capital": "250,000",
                    "annual_turnover": "22,500,000", "headcount": 160, "contact_name": "Helen Carter",
                    "contact_email": "bids@meridianwater.example.co.uk", "contact_phone": "+44 20 5555 3202"},
        "certifications": [{"name": "ISO 9001:2015", "number": "MW-Q-606", "expires": dt.date(2028, 10, 31)}],
        "answers": {**DECLARED},
        "prices": {"F1": 480000, "F2": 660000, "F3": 100000},
    },
    "deltaflow": {
        "company": {"vendor_name": "Deltaflow Infrastructure Consultants Ltd", "registration_no": "PVT-AB1C2D3E",
                    "country": "Kenya", "year_established": 2008, "registered_capital": "50,000,000",
                    "annual_turnover": "9,800,000", "headcount": 120, "contact_name": "Peter Kamau",
                    "contact_email": "tenders@deltaflow.example.co.ke", "contact_phone": "+254 20 555 3303"},
        "certifications": [{"name": "ISO 9001:2015", "number": "DF-Q-208", "expires": dt.date(2028, 6, 30)}],
        "answers": {**DECLARED},
        "prices": {"F1": 420000, "F2": 580000, "F3": 100000},
    },
    "sahel": {
        "company": {"vendor_name": "Sahel Hydro Conseil SARL", "registration_no": "SN-DKR-2011-B-04567",
                    "country": "Senegal", "year_established": 2011, "registered_capital": "10,000,000",
                    "annual_turnover": "3,100,000", "headcount": 45, "contact_name": "Awa Ndiaye",
                    "contact_email": "contact@sahelhydro.example.sn", "contact_phone": "+221 33 555 3404"},
        "certifications": [],
        "answers": {**DECLARED},
        "prices": {"F1": 440000, "F2": 610000, "F3": 100000},
    },
}

# Every firm passes the declarations; each evaluator's scores (0-10) on the technical criteria.
EVALUATED = ["aquaconsult", "deltaflow", "meridian", "sahel"]
#: Evaluators see the vendors by name over their columns (issue 15).
NAMES = {vendor: VENDORS[vendor]["company"]["vendor_name"] for vendor in EVALUATED}
CRITERIA = ["experience", "methodology", "key_experts", "transfer", "nationals"]
SCORES = {  # criterion: {vendor: (E1, E2, E3)}
    "experience":  {"aquaconsult": (9, 9, 9), "meridian": (9, 9, 8), "deltaflow": (8, 8, 8), "sahel": (7, 8, 7)},
    "methodology": {"aquaconsult": (9, 9, 8), "meridian": (8, 8, 8), "deltaflow": (8, 9, 8), "sahel": (7, 7, 7)},
    "key_experts": {"aquaconsult": (9, 9, 8), "meridian": (8, 9, 8), "deltaflow": (8, 8, 8), "sahel": (7, 6, 7)},
    "transfer":    {"aquaconsult": (8, 8, 8), "meridian": (8, 8, 8), "deltaflow": (8, 9, 8), "sahel": (7, 7, 7)},
    "nationals":   {"aquaconsult": (7, 7, 7), "meridian": (8, 8, 8), "deltaflow": (9, 9, 8), "sahel": (8, 8, 8)},
}
COMMENTS = {("E1", "sahel", "key_experts"): "Proposed supervision engineer lacks experience with schemes of this size",
            ("E2", "deltaflow", "methodology"): "Work plan ties each deliverable to the construction packages"}


def _fill_score_sheet(path: Path, evaluator_index: int, evaluator: str) -> None:
    scores = {c: {v: SCORES[c][v][evaluator_index] for v in EVALUATED} for c in CRITERIA}
    comments = {(v, c): text for (e, v, c), text in COMMENTS.items() if e == evaluator}
    # "returned by the committee member"
    fill_score_sheet(path, EVALUATED, scores, dt.datetime(2027, 10, 15, 12, 0), comments)


def main(target: Path = HERE) -> None:
    """Write the sample's inputs into ``target`` (the sample folder; tests pass another one)."""
    host = make_host()
    context = RunContext(host=host, clock=Clock(dt.datetime(2027, 8, 2, tzinfo=dt.UTC)), actor="sample")
    rfp = load_rfp(HERE / "rfp.toml", context=context)
    for folder in ("bids", "evaluations"):
        shutil.rmtree(target / folder, ignore_errors=True)
        (target / folder).mkdir(parents=True)
    write_bid_workbooks(rfp, VENDORS, target / "bids")
    for index, evaluator in enumerate(e.id for e in rfp.evaluators):
        path = write_score_sheet(rfp, evaluator, EVALUATED, target / "evaluations" / f"{rfp.id}-{evaluator}.xlsx",
                                 NAMES)
        _fill_score_sheet(path, index, evaluator)
    print(f"wrote the inputs of {rfp.id} into {target}")


if __name__ == "__main__":
    main()
