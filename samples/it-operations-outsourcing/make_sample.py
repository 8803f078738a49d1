"""Regenerate the IT-operations sample's inputs (deterministic: same code, same files).

    python samples/it-operations-outsourcing/make_sample.py

A manufacturer with three plants around Changzhou outsources its IT operations
(service desk, servers and storage, plant networks). Four vendors, each with a
story its bid workbook tells:

* Northbridge (northbridge)  the strongest bid and the dearest; ISO 20000 certified
* Kestrel (kestrel)          close behind and the cheapest: on evaluation and price it
                             would win, but the trial run shows a severity-1 security
                             incident (a shared administrator password on the plant-network
                             jump host) and fails a must-have KPI
* Harbor (harbor)            SOC 2 Type II instead of ISO 27001 (accepted), no ISO 20000,
                             7x24 cover only "Partly": scores below 70, not shortlisted
* Lumen (lumen)              no ISO 27001 and no SOC 2 Type II: fails the security gate

Three evaluators score the three vendors that pass screening. The two shortlisted
vendors run a six-week trial measured on the builtin ``it-operations`` KPIs
(availability, P1 response, P1 restore, severity-1 security incidents); the award
goes to Northbridge.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import shutil
from pathlib import Path

from rfpflow.builtins.score_sheets import write_score_sheet
from rfpflow.context import Clock, RunContext
from rfpflow.definition import load_rfp
from rfpflow.spreadsheets.samples import fill_score_sheet, write_bid_workbooks
from rfpflow.testing import make_host
from rfpflow.uscc import with_check_character

HERE = Path(__file__).resolve().parent
SEED = 2027  # for the trial measurements' day-to-day noise


def uscc(region: str, org: str) -> str:
    """A valid unified social credit code (GB 32100-2015) from a region code and an organisation code."""
    return with_check_character(f"91{region}{org}")


ANSWERS_OK = {"Q-SLA": "Yes", "Q-DPA": "Yes", "Q-BCP": "Yes", "Q-TRANSFER": "No"}

VENDORS: dict[str, dict] = {
    "northbridge": {
        "company": {"vendor_name": "Northbridge IT Services (Suzhou) Co., Ltd.",
                    "registration_no": uscc("320505", "MA1K7NB3X"), "country": "China", "year_established": 2011,
                    "registered_capital": "20,000,000", "annual_turnover": "240,000,000", "headcount": 1800,
                    "contact_name": "Gu Jianping", "contact_email": "bids@northbridge-it.example.cn",
                    "contact_phone": "+86 512 5555 0111"},
        "certifications": [{"name": "ISO 9001:2015", "number": "NB-Q-0412", "expires": dt.date(2029, 3, 31)},
                           {"name": "ISO/IEC 27001:2022", "number": "NB-IS-0977", "expires": dt.date(2028, 10, 31)},
                           {"name": "ISO/IEC 20000-1:2018", "number": "NB-ITSM-0318",
                            "expires": dt.date(2028, 10, 31)}],
        "answers": {**ANSWERS_OK, "Q-COVER": {"answer": "Yes", "comment": "On-call P1 team in Suzhou, 40 min by car"}},
        "prices": {"L1": 188000, "L2": 150000, "L3": 60000},
        "registry": {"name": "诺桥信息技术服务（苏州）有限公司", "capital": "2000万元人民币",
                     "scope": "信息技术咨询服务；信息系统运行维护服务；计算机网络工程"},
    },
    "kestrel": {
        "company": {"vendor_name": "Kestrel Managed Services (Shanghai) Co., Ltd.",
                    "registration_no": uscc("310115", "MA1G4KT8R"), "country": "China", "year_established": 2015,
                    "registered_capital": "10,000,000", "annual_turnover": "96,000,000", "headcount": 640,
                    "contact_name": "Shen Yu", "contact_email": "tenders@kestrel-ms.example.cn",
                    "contact_phone": "+86 21 5555 0222"},
        "certifications": [{"name": "ISO 9001:2015", "number": "KS-Q-88", "expires": dt.date(2028, 6, 30)},
                           {"name": "ISO/IEC 27001:2022", "number": "KS-IS-41", "expires": dt.date(2029, 1, 31)},
                           {"name": "ISO/IEC 20000-1:2018", "number": "KS-ITSM-12", "expires": dt.date(2029, 1, 31)}],
        "answers": {**ANSWERS_OK, "Q-COVER": {"answer": "Yes", "comment": "Remote-first 7x24 NOC in Shanghai"}},
        "prices": {"L1": 160000, "L2": 90000, "L3": 40000},
        "registry": {"name": "凯思卓信息系统运维（上海）有限公司", "capital": "1000万元人民币",
                     "scope": "信息系统运行维护服务；信息技术咨询服务；软件开发"},
    },
    "harbor": {
        "company": {"vendor_name": "Harbor Digital Support (Ningbo) Co., Ltd.",
                    "registration_no": uscc("330212", "MA2H6BD9W"), "country": "China", "year_established": 2020,
                    "registered_capital": "5,000,000", "annual_turnover": "38,000,000", "headcount": 260,
                    "contact_name": "Fang Li", "contact_email": "sales@harbor-digital.example.cn",
                    "contact_phone": "+86 574 5555 0333"},
        "certifications": [{"name": "ISO 9001:2015", "number": "HB-Q-07", "expires": dt.date(2028, 4, 30)},
                           {"name": "SOC 2 Type II", "number": "HB-SOC2-2026", "expires": dt.date(2027, 12, 31)}],
        "answers": {**ANSWERS_OK,
                    "Q-COVER": {"answer": "Partly", "comment": "7x24 for P1 on weekdays; weekends on call by phone"}},
        "prices": {"L1": 170000, "L2": 80000, "L3": 40000},
        "registry": {"name": "港湾数字技术支持（宁波）有限公司", "capital": "500万元人民币",
                     "scope": "信息技术咨询服务；计算机系统服务；运维服务"},
    },
    "lumen": {
        "company": {"vendor_name": "Lumen Systems Integration (Wuxi) Co., Ltd.",
                    "registration_no": uscc("320214", "MA1P3LM5E"), "country": "China", "year_established": 2009,
                    "registered_capital": "30,000,000", "annual_turnover": "310,000,000", "headcount": 2100,
                    "contact_name": "Tang Bo", "contact_email": "bid@lumen-si.example.cn",
                    "contact_phone": "+86 510 5555 0444"},
        "certifications": [{"name": "ISO 9001:2015", "number": "LM-Q-2019", "expires": dt.date(2028, 9, 30)},
                           {"name": "ISO/IEC 20000-1:2018", "number": "LM-ITSM-05", "expires": dt.date(2028, 9, 30)}],
        "answers": {**ANSWERS_OK,
                    "Q-COVER": {"answer": "Yes",
                                "comment": "ISO 27001 certification audit planned for Q4 2027"}},
        "prices": {"L1": 155000, "L2": 100000, "L3": 50000},
        "registry": {"name": "流明系统集成（无锡）有限公司", "capital": "3000万元人民币",
                     "scope": "信息系统集成服务；信息技术咨询服务；运行维护服务"},
    },
}

# The vendors that pass screening, and each evaluator's scores (0-10) on the judgement criteria.
EVALUATED = ["harbor", "kestrel", "northbridge"]
#: Evaluators see the vendors by name over their columns (issue 15).
NAMES = {vendor: VENDORS[vendor]["company"]["vendor_name"] for vendor in EVALUATED}
CRITERIA = ["cases", "background", "size", "stability", "ai_data", "security", "data_protection", "sla",
            "quality", "references", "site_visit", "reports"]
SCORES = {  # criterion: {vendor: (E1, E2, E3)}
    "cases":           {"northbridge": (9, 8, 9), "kestrel": (8, 7, 8), "harbor": (6, 6, 7)},
    "background":      {"northbridge": (8, 8, 8), "kestrel": (8, 8, 7), "harbor": (7, 7, 6)},
    "size":            {"northbridge": (9, 8, 8), "kestrel": (7, 7, 8), "harbor": (6, 5, 6)},
    "stability":       {"northbridge": (8, 8, 7), "kestrel": (7, 8, 7), "harbor": (7, 7, 7)},
    "ai_data":         {"northbridge": (7, 7, 8), "kestrel": (9, 8, 8), "harbor": (7, 6, 7)},
    "security":        {"northbridge": (8, 9, 8), "kestrel": (8, 7, 8), "harbor": (7, 7, 7)},
    "data_protection": {"northbridge": (8, 8, 8), "kestrel": (8, 8, 8), "harbor": (7, 6, 7)},
    "sla":             {"northbridge": (9, 8, 8), "kestrel": (8, 8, 8), "harbor": (6, 6, 7)},
    "quality":         {"northbridge": (8, 8, 9), "kestrel": (8, 7, 7), "harbor": (7, 6, 6)},
    "references":      {"northbridge": (9, 8, 8), "kestrel": (8, 8, 7), "harbor": (7, 7, 7)},
    "site_visit":      {"northbridge": (8, 8, 9), "kestrel": (7, 7, 8), "harbor": (6, 7, 6)},
    "reports":         {"northbridge": (7, 7, 7), "kestrel": (7, 6, 7), "harbor": (5, 5, 6)},
}
COMMENTS = {("E2", "kestrel", "security"): "Jump-host access model relies on shared admin accounts until month 3",
            ("E3", "northbridge", "site_visit"): "Suzhou NOC visited 2027-04-02; runbooks for MES outages shown"}

# Trial run: six weeks of measurements; the last two weeks decide (window_days = 14).
TRIAL_VENDORS = ["northbridge", "kestrel"]
AVAILABILITY = {"northbridge": 99.97, "kestrel": 99.98}      # daily availability, %
P1_RESPONSE = {"northbridge": 11.0, "kestrel": 8.0}          # minutes
P1_RESTORE = {"northbridge": 3.1, "kestrel": 2.6}            # hours
OUTAGES = {("northbridge", 9): (99.20, "core switch failure, plant 2 (week 2, outside the final window)")}
SEV1 = {("kestrel", 31): "jump host to the plant network reachable with a shared administrator password"}


def _registry() -> list[dict]:
    records = []
    for vendor_id, data in VENDORS.items():
        company, reg = data["company"], data["registry"]
        records.append({
            "registration_no": company["registration_no"], "name": reg["name"],
            "english_name": company["vendor_name"], "legal_representative": company["contact_name"],
            "registered_capital": reg["capital"], "business_scope": reg["scope"],
            "status": "存续（在营、开业、在册）", "established": f"{company['year_established']}-06-01",
            "penalties": [], "dishonest": {"listed": False},
            "source": f"Qichacha export 2027-03-27 ({vendor_id})",
        })
    return records


def _fill_score_sheet(path: Path, evaluator_index: int, evaluator: str) -> None:
    scores = {c: {v: SCORES[c][v][evaluator_index] for v in EVALUATED} for c in CRITERIA}
    comments = {(v, c): text for (e, v, c), text in COMMENTS.items() if e == evaluator}
    # "returned by the evaluator"
    fill_score_sheet(path, EVALUATED, scores, dt.datetime(2027, 4, 6, 17, 30), comments)


def _trial_rows(start: dt.date) -> list[list[str]]:
    """Daily availability and security-incident counts; P1 response and restore per P1 incident."""
    rng = random.Random(SEED)
    rows = []
    tickets = dict.fromkeys(TRIAL_VENDORS, 0)
    for day in range(42):
        date = (start + dt.timedelta(days=day)).isoformat()
        for vendor in TRIAL_VENDORS:
            availability, note = OUTAGES.get((vendor, day), (None, ""))
            if availability is None:
                availability = round(AVAILABILITY[vendor] + rng.uniform(-0.03, 0.02), 2)
            rows.append([date, vendor, "availability", f"{availability:.2f}", note])
            incident = SEV1.get((vendor, day))
            rows.append([date, vendor, "sev1_security_incidents", "1" if incident else "0", incident or ""])
            for _ in range(1 if rng.random() < 0.45 else 0):  # about three P1 incidents a week
                response = round(P1_RESPONSE[vendor] + rng.uniform(-3.0, 3.0))
                restore = round(P1_RESTORE[vendor] + rng.uniform(-0.8, 0.8), 1)
                tickets[vendor] += 1
                ticket = f"P1 incident {vendor[:2].upper()}-{tickets[vendor]:03d}"
                rows.append([date, vendor, "p1_response", f"{response}", ticket])
                rows.append([date, vendor, "p1_restore", f"{restore:.1f}", ticket])
    return rows


def main(target: Path = HERE) -> None:
    """Write the sample's inputs into ``target`` (the sample folder; tests pass another one)."""
    host = make_host()
    context = RunContext(host=host, clock=Clock(dt.datetime(2027, 3, 1, tzinfo=dt.UTC)), actor="sample")
    rfp = load_rfp(HERE / "rfp.toml", context=context)
    for folder in ("bids", "evaluations", "trial"):
        shutil.rmtree(target / folder, ignore_errors=True)
        (target / folder).mkdir(parents=True)
    bids = {vendor: {k: v for k, v in data.items() if k != "registry"} for vendor, data in VENDORS.items()}
    write_bid_workbooks(rfp, bids, target / "bids")
    for index, evaluator in enumerate(e.id for e in rfp.evaluators):
        path = write_score_sheet(rfp, evaluator, EVALUATED, target / "evaluations" / f"{rfp.id}-{evaluator}.xlsx",
                                 NAMES)
        _fill_score_sheet(path, index, evaluator)
    (target / "registry.json").write_text(json.dumps(_registry(), ensure_ascii=False, indent=2) + "\n",
                                        encoding="utf-8")
    assert rfp.timeline.trial_start is not None
    with (target / "trial" / "kpi-daily.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["date", "vendor", "kpi", "value", "note"])
        writer.writerows(_trial_rows(rfp.timeline.trial_start))
    print(f"wrote the inputs of {rfp.id} into {target}")


if __name__ == "__main__":
    main()
