"""Regenerate the government-procurement sample's inputs (deterministic: same code, same files).

    python samples/cn-gov-services/make_sample.py

江州市档案馆 buys the digitisation of its archive holdings (馆藏档案数字化加工服务) by open
tender with comprehensive scoring (综合评分法, MOF Order 87). Four suppliers bid:

* 华档数字 (huadang)   the best technical bid (scanning workflow, security of the originals)
* 明远信息 (mingyuan)  solid and the lowest valid price: full price points
* 金石档案 (jinshi)    a good track record, a weaker plan and the highest price
* 恒信数据 (hengxin)   declares it is not on any credit blacklist (Q-CREDIT "是"), but the
                      credit check (信用中国 / registry extract) shows it listed as a dishonest
                      judgment debtor (失信被执行人) in 2026: it fails qualification review

Three valid bids remain, the minimum for a tender (fewer would be 废标). A committee of
five (four experts and the buyer's representative) scores them; price points are
30 x lowest valid price / price. No trial run: acceptance (履约验收) follows the contract.
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
from rfpflow.uscc import with_check_character

HERE = Path(__file__).resolve().parent


def uscc(region: str, org: str) -> str:
    """A valid unified social credit code (GB 32100-2015) from a region code and an organisation code."""
    return with_check_character(f"91{region}{org}")


#: The Article 22 declarations, the credit declaration and the ★ requirement, all accepted.
ANSWERS_OK = {q: "是" for q in ("Q22-1", "Q22-2", "Q22-3", "Q22-4", "Q22-5", "Q-CREDIT", "Q-STAR-1")}

VENDORS: dict[str, dict] = {
    "huadang": {
        "company": {"vendor_name": "江州华档数字科技有限公司", "registration_no": uscc("360102", "MA35K8HD2"),
                    "country": "中国", "year_established": 2013, "registered_capital": "10,000,000",
                    "annual_turnover": "68,000,000", "headcount": 420, "contact_name": "黄志远",
                    "contact_email": "zb@huadang-digital.example.cn", "contact_phone": "0791-5555 1201"},
        "certifications": [{"name": "ISO 9001:2015", "number": "HD-Q-3301", "expires": dt.date(2028, 11, 30)},
                           {"name": "ISO/IEC 27001:2022", "number": "HD-IS-0917", "expires": dt.date(2028, 11, 30)}],
        "answers": {**ANSWERS_OK},
        "prices": {"L1": 1.60, "L2": 4.00, "L3": 160000},
        "registry": {"capital": "1000万元人民币", "scope": "档案整理服务；档案数字化加工；数据处理服务；软件开发"},
    },
    "mingyuan": {
        "company": {"vendor_name": "南京明远信息服务有限公司", "registration_no": uscc("320106", "MA1XK4MY7"),
                    "country": "中国", "year_established": 2016, "registered_capital": "5,000,000",
                    "annual_turnover": "41,000,000", "headcount": 310, "contact_name": "陈明远",
                    "contact_email": "bid@mingyuan-info.example.cn", "contact_phone": "025-5555 1302"},
        "certifications": [{"name": "ISO 9001:2015", "number": "MY-Q-118", "expires": dt.date(2028, 5, 31)}],
        "answers": {**ANSWERS_OK},
        "prices": {"L1": 1.40, "L2": 3.60, "L3": 120000},
        "registry": {"capital": "500万元人民币", "scope": "档案数字化服务；数据处理和存储支持服务；信息技术咨询服务"},
    },
    "jinshi": {
        "company": {"vendor_name": "武汉金石档案服务有限公司", "registration_no": uscc("420106", "MA4KJ7ET1"),
                    "country": "中国", "year_established": 2008, "registered_capital": "8,000,000",
                    "annual_turnover": "55,000,000", "headcount": 380, "contact_name": "金石磊",
                    "contact_email": "tender@jinshi-archives.example.cn", "contact_phone": "027-5555 1403"},
        "certifications": [{"name": "ISO 9001:2015", "number": "JS-Q-77", "expires": dt.date(2029, 2, 28)}],
        "answers": {**ANSWERS_OK},
        "prices": {"L1": 1.75, "L2": 4.40, "L3": 200000},
        "registry": {"capital": "800万元人民币", "scope": "档案整理、寄存与数字化服务；档案修复"},
    },
    "hengxin": {
        "company": {"vendor_name": "杭州恒信数据处理有限公司", "registration_no": uscc("330106", "MA28HX6N0"),
                    "country": "中国", "year_established": 2014, "registered_capital": "6,000,000",
                    "annual_turnover": "36,000,000", "headcount": 260, "contact_name": "何恒",
                    "contact_email": "sales@hengxin-data.example.cn", "contact_phone": "0571-5555 1504"},
        "certifications": [{"name": "ISO 9001:2015", "number": "HX-Q-52", "expires": dt.date(2028, 8, 31)}],
        "answers": {**ANSWERS_OK},
        "prices": {"L1": 1.30, "L2": 3.20, "L3": 140000},
        "registry": {"capital": "600万元人民币", "scope": "数据处理服务；档案数字化加工；计算机系统服务",
                     "dishonest": {"listed": True, "date": "2026-09-14",
                                   "reason": "有履行能力而拒不履行生效法律文书确定的义务（(2026)浙0106执1873号）"}},
    },
}

# The suppliers that pass qualification review, and each evaluator's scores (0-10).
EVALUATED = ["huadang", "jinshi", "mingyuan"]
#: Evaluators see the vendors by name over their columns (issue 15).
NAMES = {vendor: VENDORS[vendor]["company"]["vendor_name"] for vendor in EVALUATED}
CRITERIA = ["solution", "security", "schedule", "response", "quality", "team", "projects"]
SCORES = {  # criterion: {vendor: (E1, E2, E3, E4, E5)}
    "solution": {"huadang": (9, 9, 9, 8, 9), "mingyuan": (8, 7, 8, 8, 8), "jinshi": (7, 7, 6, 7, 7)},
    "security": {"huadang": (9, 8, 9, 8, 9), "mingyuan": (7, 8, 7, 8, 8), "jinshi": (7, 8, 7, 7, 8)},
    "schedule": {"huadang": (8, 9, 8, 8, 9), "mingyuan": (8, 8, 8, 8, 8), "jinshi": (6, 7, 6, 7, 7)},
    "response": {"huadang": (8, 8, 8, 8, 8), "mingyuan": (8, 7, 8, 7, 8), "jinshi": (7, 7, 7, 7, 7)},
    "quality":  {"huadang": (9, 8, 9, 8, 9), "mingyuan": (7, 8, 7, 7, 8), "jinshi": (7, 7, 7, 7, 7)},
    "team":     {"huadang": (8, 8, 9, 8, 8), "mingyuan": (7, 8, 7, 7, 8), "jinshi": (7, 7, 7, 7, 7)},
    "projects": {"huadang": (9, 9, 9, 9, 9), "mingyuan": (7, 7, 8, 7, 7), "jinshi": (8, 8, 8, 8, 8)},
}
COMMENTS = {
    ("E3", "huadang", "security"): "加工场所 24 小时视频监控，档案出入库双人交接、逐卷清点",
    ("E1", "jinshi", "solution"): "图像处理与数据挂接工艺描述笼统，未给出日均加工能力测算",
    ("E2", "mingyuan", "schedule"): "分三批加工，每批验收后再调卷，进度安排可行",
}


def _registry() -> list[dict]:
    records = []
    for vendor_id, data in VENDORS.items():
        company, reg = data["company"], data["registry"]
        records.append({
            "registration_no": company["registration_no"], "name": company["vendor_name"],
            "legal_representative": company["contact_name"], "registered_capital": reg["capital"],
            "business_scope": reg["scope"], "status": "存续（在营、开业、在册）",
            "established": f"{company['year_established']}-04-20", "penalties": [],
            "dishonest": reg.get("dishonest", {"listed": False}),
            "source": f"信用中国、国家企业信用信息公示系统查询 2027-06-01 ({vendor_id})",
        })
    return records


def _fill_score_sheet(path: Path, evaluator_index: int, evaluator: str) -> None:
    scores = {c: {v: SCORES[c][v][evaluator_index] for v in EVALUATED} for c in CRITERIA}
    comments = {(v, c): text for (e, v, c), text in COMMENTS.items() if e == evaluator}
    # "signed by the committee member"
    fill_score_sheet(path, EVALUATED, scores, dt.datetime(2027, 6, 4, 16, 0), comments)


def main(target: Path = HERE) -> None:
    """Write the sample's inputs into ``target`` (the sample folder; tests pass another one)."""
    host = make_host()
    context = RunContext(host=host, clock=Clock(dt.datetime(2027, 5, 10, tzinfo=dt.UTC)), actor="sample")
    rfp = load_rfp(HERE / "rfp.toml", context=context)
    for folder in ("bids", "evaluations"):
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
    print(f"wrote the inputs of {rfp.id} into {target}")


if __name__ == "__main__":
    main()
