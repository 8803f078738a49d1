"""Regenerate the flagship sample's inputs (deterministic: same code, same files).

    python samples/customer-service-outsourcing/make_sample.py

A retail chain outsources its customer-service hotline (客服热线外包). Six
vendors, each with a story its bid workbook tells:

* 华信客服 (huaxin)   strong, incumbent-style; the highest evaluation score
* 廉捷外包 (lianjie)  cheapest by far: abnormally low -> review; it explains its
                      price (voice bots take 30% of calls) and is let through
* 安讯数据 (anxun)    its ISO 27001 certificate expires before the contract starts
* 众力人力 (zhongli)  prices per person-month and lets the buyer keep attendance:
                      disguised labour dispatch -> legal review -> fail
* 远景呼叫 (yuanjing) the registry shows a major administrative penalty in 2025
* 新锐智服 (xinrui)   a solid newcomer (founded 2022), a little cheaper

Three evaluators score the three vendors that pass screening; the external
consultant (E3) is an outlier on 新锐's system security. The two shortlisted
vendors run a six-week trial; 新锐's trial and price overturn the order that
evaluation alone gave.
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
SEED = 87  # for the trial measurements' day-to-day noise


def uscc(region: str, org: str) -> str:
    """A valid unified social credit code (GB 32100-2015) from a region code and an organisation code."""
    return with_check_character(f"91{region}{org}")


VENDORS: dict[str, dict] = {
    "huaxin": {
        "company": {"vendor_name": "上海华信客户服务有限公司", "registration_no": uscc("310115", "MA1H8XK2P"),
                    "country": "中国", "year_established": 2009, "registered_capital": "¥20,000,000",
                    "annual_turnover": "186,000,000", "headcount": 2600, "contact_name": "刘洋",
                    "contact_email": "bid@huaxin-cs.example.cn", "contact_phone": "021-5555 0101"},
        "certifications": [{"name": "ISO 9001:2015", "number": "Q-2023-0871", "expires": dt.date(2028, 6, 30)},
                           {"name": "ISO/IEC 27001:2022", "number": "IS-2024-1130", "expires": dt.date(2028, 9, 30)},
                           {"name": "CMMI-SVC ML3", "number": "CMMI-55123", "expires": dt.date(2028, 1, 31)}],
        "answers": {"Q1": "是", "Q2": "是", "Q3": "是",
                    "Q4": {"answer": "按服务成果计费，供应商自行管理人员", "comment": "按月服务费 + 按结案工单计费"}},
        "prices": {"L1": 230000, "L2": 6.5, "L3": 120000},
        "registry": {"capital": "2000万元人民币", "scope": "呼叫中心服务；客户服务外包；数据处理服务"},
    },
    "lianjie": {
        "company": {"vendor_name": "杭州廉捷外包服务有限公司", "registration_no": uscc("330106", "MA2B7T3QX"),
                    "country": "中国", "year_established": 2016, "registered_capital": "5,000,000",
                    "annual_turnover": "48,000,000", "headcount": 620, "contact_name": "周敏",
                    "contact_email": "sales@lianjie.example.cn", "contact_phone": "0571-5555 0202"},
        "certifications": [{"name": "ISO 9001:2015", "number": "LJ-Q-19", "expires": dt.date(2028, 3, 31)},
                           {"name": "ISO 27001", "number": "LJ-IS-21", "expires": dt.date(2027, 12, 31)}],
        "answers": {"Q1": "是", "Q2": "是", "Q3": "部分",
                    "Q4": {"answer": "按服务成果计费，供应商自行管理人员",
                           "comment": "智能语音机器人分流约 30% 话务，人工坐席成本因此较低"}},
        "prices": {"L1": "150,000", "L2": "¥4.00", "L3": 50000},
        "registry": {"capital": "500万元人民币", "scope": "客户服务外包；人工智能应用软件开发"},
    },
    "anxun": {
        "company": {"vendor_name": "苏州安讯数据服务有限公司", "registration_no": uscc("320505", "MA1N4RW8L"),
                    "country": "中国", "year_established": 2012, "registered_capital": "10,000,000",
                    "annual_turnover": "95,000,000", "headcount": 1100, "contact_name": "吴斌",
                    "contact_email": "tender@anxun.example.cn", "contact_phone": "0512-5555 0303"},
        "certifications": [{"name": "ISO 9001:2015", "number": "AX-Q-07", "expires": dt.date(2028, 5, 31)},
                           {"name": "ISO/IEC 27001:2013", "number": "AX-IS-02", "expires": dt.date(2027, 3, 31)}],
        "answers": {"Q1": "是", "Q2": "是", "Q3": "是",
                    "Q4": "按服务成果计费，供应商自行管理人员"},
        "prices": {"L1": 220000, "L2": 6.0, "L3": 100000},
        "registry": {"capital": "1000万元人民币", "scope": "数据处理服务；呼叫中心服务"},
    },
    "zhongli": {
        "company": {"vendor_name": "南京众力人力资源有限公司", "registration_no": uscc("320106", "MA1W2E6YK"),
                    "country": "中国", "year_established": 2018, "registered_capital": "8,000,000",
                    "annual_turnover": "60,000,000", "headcount": 3000, "contact_name": "郑凯",
                    "contact_email": "hr@zhongli.example.cn", "contact_phone": "025-5555 0404"},
        "certifications": [{"name": "ISO 9001:2015", "number": "ZL-Q-11", "expires": dt.date(2027, 11, 30)},
                           {"name": "ISO 27001:2022", "number": "ZL-IS-03", "expires": dt.date(2028, 2, 28)}],
        "answers": {"Q1": "是", "Q2": "是", "Q3": "是",
                    "Q4": {"answer": "其他（请在备注说明）",
                           "comment": "按人月计费，每名坐席 8,500 元/人月；坐席由贵司统一排班、考勤与绩效考核"}},
        "prices": {"L1": 200000, "L2": 5.5, "L3": 80000},
        "registry": {"capital": "800万元人民币", "scope": "劳务派遣；人力资源服务；客户服务外包"},
    },
    "yuanjing": {
        "company": {"vendor_name": "合肥远景呼叫中心有限公司", "registration_no": uscc("340104", "MA2P9D1CF"),
                    "country": "中国", "year_established": 2011, "registered_capital": "12,000,000",
                    "annual_turnover": "88,000,000", "headcount": 900, "contact_name": "孙丽",
                    "contact_email": "bd@yuanjing.example.cn", "contact_phone": "0551-5555 0505"},
        "certifications": [{"name": "ISO 9001:2015", "number": "YJ-Q-04", "expires": dt.date(2028, 8, 31)},
                           {"name": "ISO 27001:2022", "number": "YJ-IS-09", "expires": dt.date(2028, 8, 31)}],
        "answers": {"Q1": "是", "Q2": "是", "Q3": "是", "Q4": "按服务成果计费，供应商自行管理人员"},
        "prices": {"L1": 210000, "L2": 6.0, "L3": 90000},
        "registry": {"capital": "1200万元人民币", "scope": "呼叫中心服务；客户服务外包",
                     "penalties": [{"date": "2025-08-19", "authority": "合肥市市场监督管理局",
                                    "description": "违法收集、使用消费者个人信息，罚款 50 万元", "severity": "major"}]},
    },
    "xinrui": {
        "company": {"vendor_name": "成都新锐智能客服有限公司", "registration_no": uscc("510107", "MA6C3L5UJ"),
                    "country": "中国", "year_established": 2022, "registered_capital": "10,000,000",
                    "annual_turnover": "52,000,000", "headcount": 750, "contact_name": "何静",
                    "contact_email": "bid@xinrui-ai.example.cn", "contact_phone": "028-5555 0606"},
        "certifications": [{"name": "ISO 9001:2015", "number": "XR-Q-01", "expires": dt.date(2029, 1, 31)},
                           {"name": "ISO/IEC 27001:2022", "number": "XR-IS-01", "expires": dt.date(2029, 1, 31)}],
        "answers": {"Q1": "是", "Q2": "是", "Q3": "是",
                    "Q4": {"answer": "按服务成果计费，供应商自行管理人员",
                           "comment": "按月服务费，SLA 未达标按比例扣减"}},
        "prices": {"L1": 200000, "L2": 5.8, "L3": 100000},
        "registry": {"capital": "1000万元人民币", "scope": "客户服务外包；呼叫中心服务；软件开发"},
    },
}

# The vendors that pass screening, and each evaluator's scores (0-10) on the judgement criteria.
EVALUATED = ["huaxin", "lianjie", "xinrui"]
#: Evaluators see the vendors by name over their columns (issue 15).
NAMES = {vendor: VENDORS[vendor]["company"]["vendor_name"] for vendor in EVALUATED}
CRITERIA = ["certifications", "cases", "background", "size", "stability", "ai_data", "security",
            "data_protection", "response", "qa", "references", "site_visit", "reports"]
SCORES = {  # criterion: {vendor: (E1, E2, E3)}
    "certifications":  {"huaxin": (9, 9, 8), "lianjie": (7, 7, 6), "xinrui": (8, 8, 8)},
    "cases":           {"huaxin": (9, 8, 9), "lianjie": (6, 6, 5), "xinrui": (8, 7, 8)},
    "background":      {"huaxin": (8, 9, 8), "lianjie": (6, 6, 6), "xinrui": (8, 7, 7)},
    "size":            {"huaxin": (9, 9, 9), "lianjie": (6, 5, 6), "xinrui": (7, 7, 7)},
    "stability":       {"huaxin": (8, 8, 7), "lianjie": (5, 6, 5), "xinrui": (7, 8, 7)},
    "ai_data":         {"huaxin": (7, 7, 7), "lianjie": (8, 7, 7), "xinrui": (9, 9, 8)},
    "security":        {"huaxin": (9, 8, 8), "lianjie": (6, 6, 6), "xinrui": (8, 8, 3)},  # E3: the outlier
    "data_protection": {"huaxin": (8, 8, 8), "lianjie": (6, 6, 6), "xinrui": (8, 8, 7)},
    "response":        {"huaxin": (8, 8, 8), "lianjie": (6, 7, 6), "xinrui": (8, 7, 8)},
    "qa":              {"huaxin": (9, 8, 8), "lianjie": (6, 6, 6), "xinrui": (8, 8, 8)},
    "references":      {"huaxin": (9, 9, 8), "lianjie": (6, 6, 6), "xinrui": (8, 8, 7)},
    "site_visit":      {"huaxin": (8, 8, 8), "lianjie": (6, 5, 6), "xinrui": (8, 8, 7)},
    "reports":         {"huaxin": (8, 7, 8), "lianjie": (5, 5, 5), "xinrui": (6, 6, 6)},
}
COMMENTS = {("E3", "xinrui", "security"): "等保三级测评报告尚未取得，仅有自评材料，风险较高",
            ("E1", "huaxin", "cases"): "服务过两家全国性连锁零售客户，案例可核实"}

# Trial run: six weeks of daily KPI values; the last two weeks decide (window_days = 14).
TRIAL_VENDORS = ["huaxin", "xinrui"]
TRIAL_LEVELS = {  # kpi: {vendor: (first four weeks, last two weeks)}
    "service_level": {"huaxin": (84.0, 81.5), "xinrui": (78.0, 86.0)},
    "abandonment": {"huaxin": (3.8, 4.6), "xinrui": (5.5, 3.2)},
    "fcr": {"huaxin": (66.0, 58.0), "xinrui": (70.0, 76.0)},
    "csat": {"huaxin": (86.0, 80.0), "xinrui": (85.0, 90.0)},
    "qa_score": {"huaxin": (86.0, 78.0), "xinrui": (84.0, 89.0)},
}

DECISIONS = """\
# What people decided along the way (read by `rfpflow run`).

[[screening]]
vendor = "lianjie"
gate = "abnormally_low"
decision = "pass"
reason = "澄清函第 2 号：智能语音机器人分流约 30% 话务，成本构成合理，承诺不低于成本报价"
actor = "王敏"

[[screening]]
vendor = "zhongli"
gate = "labour-dispatch"
decision = "fail"
reason = "法务审查：按人月计费且由采购方排班、考勤与考核，实为劳务派遣，不符合服务外包要求"
actor = "法务部 李律师"
"""


def _registry() -> list[dict]:
    records = []
    for vendor_id, data in VENDORS.items():
        company, reg = data["company"], data["registry"]
        records.append({
            "registration_no": company["registration_no"], "name": company["vendor_name"],
            "legal_representative": company["contact_name"], "registered_capital": reg["capital"],
            "business_scope": reg["scope"], "status": "存续（在营、开业、在册）",
            "established": f"{company['year_established']}-03-15", "penalties": reg.get("penalties", []),
            "dishonest": {"listed": False}, "source": f"企查查导出 2027-01-30 ({vendor_id})",
        })
    return records


def _fill_score_sheet(path: Path, evaluator_index: int, evaluator: str) -> None:
    scores = {c: {v: SCORES[c][v][evaluator_index] for v in EVALUATED} for c in CRITERIA}
    comments = {(v, c): text for (e, v, c), text in COMMENTS.items() if e == evaluator}
    # "returned by the evaluator"
    fill_score_sheet(path, EVALUATED, scores, dt.datetime(2027, 2, 3, 18, 0), comments)


def _trial_rows(start: dt.date) -> list[list[str]]:
    rng = random.Random(SEED)
    rows = []
    for day in range(42):
        date = start + dt.timedelta(days=day)
        for vendor in TRIAL_VENDORS:
            for kpi, levels in TRIAL_LEVELS.items():
                base = levels[vendor][0] if day < 28 else levels[vendor][1]
                value = round(base + rng.uniform(-0.6, 0.6), 1)
                rows.append([date.isoformat(), vendor, kpi, f"{value:.1f}"])
    return rows


def main(target: Path = HERE) -> None:
    """Write the sample's inputs into ``target`` (the sample folder; tests pass another one)."""
    host = make_host()
    context = RunContext(host=host, clock=Clock(dt.datetime(2027, 1, 4, tzinfo=dt.UTC)), actor="sample")
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
        writer.writerow(["date", "vendor", "kpi", "value"])
        writer.writerows(_trial_rows(rfp.timeline.trial_start))
    (target / "decisions.toml").write_text(DECISIONS, encoding="utf-8")
    print(f"wrote the inputs of {rfp.id} into {target}")


if __name__ == "__main__":
    main()
