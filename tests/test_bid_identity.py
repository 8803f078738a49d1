"""Bids belong to vendors (issue 15), through the real CLI on real workbooks.

The flagship sample's bid workbooks (made by its generator) are copied under other names and
into per-vendor folders, the way a mail export delivers them; each case checks what the store
holds (`bids list --json`, `bids show --json`) and the audit events, not only the output.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from rfpflow.uscc import with_check_character

from .conftest import run_cli

FLAGSHIP = Path(__file__).resolve().parent.parent / "samples" / "customer-service-outsourcing"
ISSUE = "2027-01-04T09:00:00+08:00"
DAY1 = "2027-01-18T14:02:00+08:00"
DAY2 = "2027-01-25T09:30:00+08:00"
LATE = "2027-01-29T18:10:00+08:00"
CLOSE = "2027-01-30T09:00:00+08:00"
STRANGER = with_check_character("91310000MA1FL0000")


def rf(ws: Path, *args: str, now: str = DAY1):
    return run_cli("-C", str(ws), "--now", now, "--actor", "li.wei", *args)


def ok(result):
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result


def refused(result, fragment: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert fragment in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def listed(ws: Path) -> dict[str, dict[str, Any]]:
    return {row["vendor"]: row for row in json.loads(ok(rf(ws, "bids", "list", "--json")).stdout)}


def shown(ws: Path, vendor: str) -> dict[str, Any]:
    return json.loads(ok(rf(ws, "bids", "show", vendor, "--json")).stdout)


def events(ws: Path, kind: str | None = None) -> list[dict[str, Any]]:
    every = json.loads(ok(rf(ws, "log", "--json")).stdout)
    return [e for e in every if kind is None or e["kind"] == kind]


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("cso_sample", FLAGSHIP / "make_sample.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def sample() -> Any:
    return _generator()


def workspace(tmp_path: Path, *, invited: bool = True, extra_toml: str = "") -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    text = (FLAGSHIP / "rfp.toml").read_text(encoding="utf-8")
    if not invited:
        text = text[:text.index("\n# The invited vendors")] + "\n"
    (ws / "rfp.toml").write_text(text + extra_toml, encoding="utf-8")
    shutil.copy(FLAGSHIP / "registry.json", ws / "registry.json")
    (ws / "bids").mkdir()
    ok(rf(ws, "issue", now=ISSUE))
    return ws


def vendor_workbook(ws: Path, sample: Any, vendor: str, target: Path, **changes: Any) -> Path:
    """The vendor's bid from the sample generator, on this workspace's own workbook, with ``changes``."""
    from rfpflow.spreadsheets.samples import fill_bid_workbook

    drop = changes.pop("drop", ())
    data = {k: v for k, v in sample.VENDORS[vendor].items() if k != "registry" and k not in drop}
    company = dict(data["company"])
    company.update(changes.pop("company", {}))
    data["company"] = company
    for key in ("prices", "answers"):
        data[key] = {**data.get(key, {}), **changes.pop(key, {})}
    data.update(changes)
    target.parent.mkdir(parents=True, exist_ok=True)
    return fill_bid_workbook(ws / "out" / "CSO-2027-001-bid-response.xlsx", target, data)


def test_two_vendors_sending_bid_xlsx_in_their_own_folders_are_two_bids(tmp_path: Path, sample: Any) -> None:
    ws = workspace(tmp_path)
    inbox = ws / "bids" / "inbox"
    vendor_workbook(ws, sample, "huaxin", inbox / "huaxin" / "bid.xlsx")
    vendor_workbook(ws, sample, "xinrui", inbox / "xinrui" / "bid.xlsx")
    (inbox / "huaxin" / "~$bid.xlsx").write_bytes(b"owner")
    (inbox / "xinrui" / ".~lock.bid.xlsx#").write_text("lock")

    result = ok(rf(ws, "bids", "import", "bids/inbox"))

    assert "skipped   huaxin/~$bid.xlsx (a spreadsheet lock file)" in result.stdout
    assert "skipped   xinrui/.~lock.bid.xlsx# (a spreadsheet lock file)" in result.stdout
    assert "2 imported, 0 refused" in result.stdout
    assert "huaxin/bid.xlsx" in result.stdout and "xinrui/bid.xlsx" in result.stdout
    bids = listed(ws)
    assert {v: (r["legal_name"], r["files"], r["status"]) for v, r in bids.items() if r["files"]} == {
        "huaxin": ("上海华信客户服务有限公司", ["huaxin/bid.xlsx"], "received"),
        "xinrui": ("成都新锐智能客服有限公司", ["xinrui/bid.xlsx"], "received"),
    }
    received = events(ws, "bid.received")
    assert [(e["data"]["vendor"], e["data"]["file"], e["data"]["resubmission"]) for e in received] == [
        ("huaxin", "huaxin/bid.xlsx", False), ("xinrui", "xinrui/bid.xlsx", False)]

    # Then the second file of the same name, alone: a different vendor, both bids kept.
    vendor_workbook(ws, sample, "lianjie", ws / "bids" / "later" / "bid.xlsx")
    result = ok(rf(ws, "bids", "import", "bids/later/bid.xlsx", now=DAY2))
    assert "lianjie" in result.stdout and "new" in result.stdout and "replace" not in result.stdout
    assert sorted(v for v, r in listed(ws).items() if r["files"]) == ["huaxin", "lianjie", "xinrui"]


def test_one_company_under_three_file_names_is_one_vendor_with_history(tmp_path: Path, sample: Any) -> None:
    ws = workspace(tmp_path)
    vendor_workbook(ws, sample, "huaxin", ws / "bids" / "huaxin.xlsx")
    ok(rf(ws, "bids", "import", "bids/huaxin.xlsx", now=DAY1))
    revised = vendor_workbook(ws, sample, "huaxin", ws / "mail" / "Huaxin - revised bid (final).xlsx",
                              prices={"L1": 1_500_000, "L2": 20, "L3": 80_000})
    result = ok(rf(ws, "bids", "import", str(revised), now=DAY2))
    assert "huaxin" in result.stdout
    assert "replaces the bid of 2027-01-18 14:02 from huaxin.xlsx" in result.stdout
    registration = sample.VENDORS["huaxin"]["company"]["registration_no"]
    spaced = " ".join(registration[i:i + 6] for i in range(0, 18, 6)).lower()
    full_width = spaced.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    chinese = vendor_workbook(ws, sample, "huaxin", ws / "mail" / "华信.xlsx",
                              company={"registration_no": full_width}, prices={"L1": 1_400_000})
    result = ok(rf(ws, "bids", "import", str(chinese), now=DAY2))
    assert "replaces the bid of 2027-01-25 09:30 from Huaxin - revised bid (final).xlsx" in result.stdout

    assert [v for v, r in listed(ws).items() if r["files"]] == ["huaxin"]
    bid = shown(ws, "huaxin")
    assert bid["files"] == ["华信.xlsx"] and bid["status"] == "received"
    assert bid["registration_no"] == registration
    assert [(h["files"], h["status"], h["submitted_at"]) for h in bid["history"]] == [
        (["huaxin.xlsx"], "replaced", "2027-01-18T14:02:00+08:00"),
        (["Huaxin - revised bid (final).xlsx"], "replaced", "2027-01-25T09:30:00+08:00"),
    ]
    received = events(ws, "bid.received")
    assert [(e["data"]["vendor"], e["data"]["resubmission"]) for e in received] == [
        ("huaxin", False), ("huaxin", True), ("huaxin", True)]
    assert received[2]["data"]["replaces_sha256"] == received[1]["data"]["sha256"]


def test_a_byte_identical_file_is_unchanged_and_records_nothing(tmp_path: Path, sample: Any) -> None:
    ws = workspace(tmp_path)
    vendor_workbook(ws, sample, "huaxin", ws / "bids" / "huaxin.xlsx")
    ok(rf(ws, "bids", "import", "bids", now=DAY1))
    before = events(ws)
    shutil.copy(ws / "bids" / "huaxin.xlsx", ws / "bids" / "copy-of-huaxin.xlsx")
    (ws / "bids" / "huaxin.xlsx").unlink()

    result = ok(rf(ws, "bids", "import", "bids", now=DAY2))

    assert "copy-of-huaxin.xlsx" in result.stdout and "unchanged" in result.stdout
    assert events(ws) == before
    assert shown(ws, "huaxin")["submitted_at"] == "2027-01-18T14:02:00+08:00"
    assert shown(ws, "huaxin")["history"] == []


def test_accept_late_applies_only_to_the_late_bids(tmp_path: Path, sample: Any) -> None:
    ws = workspace(tmp_path)
    for vendor in ("huaxin", "xinrui", "lianjie"):
        vendor_workbook(ws, sample, vendor, ws / "bids" / f"{vendor}.xlsx")
    ok(rf(ws, "bids", "import", "bids", now=DAY1))
    vendor_workbook(ws, sample, "anxun", ws / "bids" / "anxun.xlsx")

    refused(rf(ws, "bids", "import", "bids", now=LATE), "late bids are refused: anxun.xlsx")
    result = ok(rf(ws, "bids", "import", "bids", "--accept-late", "--reason", "courier delayed", now=LATE))

    assert result.stdout.count("unchanged") == 3
    bids = listed(ws)
    assert {v: (r["timing"], r["submitted_at"]) for v, r in bids.items() if r["files"]} == {
        "anxun": ("late", "2027-01-29T18:10:00+08:00"),
        "huaxin": ("on time", "2027-01-18T14:02:00+08:00"),
        "lianjie": ("on time", "2027-01-18T14:02:00+08:00"),
        "xinrui": ("on time", "2027-01-18T14:02:00+08:00"),
    }
    assert shown(ws, "anxun")["late_reason"] == "courier delayed"
    assert shown(ws, "huaxin")["late_reason"] == ""
    late = [e["data"]["vendor"] for e in events(ws, "bid.received") if e["data"]["late"]]
    assert late == ["anxun"]


def test_a_vendor_who_never_resubmits_is_withdrawn_or_excluded_and_close_goes_on(tmp_path: Path,
                                                                                 sample: Any) -> None:
    ws = workspace(tmp_path)
    for vendor in ("huaxin", "xinrui", "lianjie"):
        vendor_workbook(ws, sample, vendor, ws / "bids" / f"{vendor}.xlsx")
    ok(rf(ws, "bids", "import", "bids", now=DAY1))
    toml = ws / "rfp.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("budget_ceiling = 4_200_000",
                                                               "budget_ceiling = 4_300_000"), encoding="utf-8")
    ok(rf(ws, "amend", "--reason", "budget raised", now=DAY1))
    vendor_workbook(ws, sample, "huaxin", ws / "bids2" / "huaxin.xlsx")
    ok(rf(ws, "bids", "import", "bids2", now=DAY2))
    refused(rf(ws, "close", now=CLOSE), "have not been resubmitted: lianjie, xinrui")

    refused(rf(ws, "bids", "withdraw", "nosuch", "--reason", "x", now=CLOSE),
            "there is no bid of vendor 'nosuch' (vendors with bids: huaxin, lianjie, xinrui)")
    result = ok(rf(ws, "bids", "withdraw", "xinrui", "--reason", "letter of 2027-01-26: withdraws", now=CLOSE))
    assert result.stdout == "xinrui (成都新锐智能客服有限公司): bid withdrawn (letter of 2027-01-26: withdraws)\n"
    ok(rf(ws, "bids", "exclude", "lianjie", "--reason", "did not answer amendment 1", now=CLOSE))
    refused(rf(ws, "bids", "exclude", "lianjie", "--reason", "again", now=CLOSE), "already excluded")

    assert "Bids closed with 1 bid." in ok(rf(ws, "close", now=CLOSE)).stdout
    bids = listed(ws)
    assert {v: (r["status"], r["status_reason"]) for v, r in bids.items() if r["files"]} == {
        "huaxin": ("received", ""), "lianjie": ("excluded", "did not answer amendment 1"),
        "xinrui": ("withdrawn", "letter of 2027-01-26: withdraws")}
    assert [(e["data"]["vendor"], e["data"]["reason"]) for e in events(ws, "bid.withdrawn")] == [
        ("xinrui", "letter of 2027-01-26: withdraws")]
    assert [e["data"]["vendor"] for e in events(ws, "bid.excluded")] == ["lianjie"]
    closed = events(ws, "bids.closed")[0]["data"]
    assert (closed["bids"], closed["withdrawn"], closed["excluded"]) == (1, ["xinrui"], ["lianjie"])
    screen = ok(rf(ws, "screen", now=CLOSE)).stdout
    assert "huaxin" in screen and "xinrui" not in screen and "lianjie" not in screen
    report = (ws / "out" / "screening-report.md").read_text(encoding="utf-8")
    assert "| 供应商已撤回投标：letter of 2027-01-26: withdraws |" in report
    assert "| 采购人已排除该投标：did not answer amendment 1 |" in report
    status = json.loads(ok(rf(ws, "status", "--json", now=CLOSE)).stdout)["bids"]
    assert (status["withdrawn"], status["excluded"]) == (["xinrui"], ["lianjie"])


def test_comments_and_added_columns_are_kept_flagged_and_exported(tmp_path: Path, sample: Any) -> None:
    ws = workspace(tmp_path)
    vendor_workbook(ws, sample, "huaxin", ws / "bids" / "huaxin.xlsx",
                    price_comments={"L1": "price excl. 6% VAT", "L3": "含培训"},
                    price_columns={"Discount %": {"L1": 5, "L2": "2.5"}},
                    answers={"Q1": {"answer": "Yes", "comment": "option: a second site", "evidence": "Annex 2"}})
    ok(rf(ws, "bids", "import", "bids", now=DAY1))
    bid = shown(ws, "huaxin")
    lines = {p["item"]: (p["comment"], p["extras"], p["flagged"]) for p in bid["prices"]}
    assert lines == {"L1": ("price excl. 6% VAT", {"Discount %": "5"}, True),
                     "L2": ("", {"Discount %": "2.5"}, True),
                     "L3": ("含培训", {}, False)}
    assert bid["extra_columns"] == ["Discount %"]
    q1 = next(a for a in bid["answers"] if a["question"] == "Q1")
    assert (q1["answer"], q1["comment"], q1["evidence"], q1["flagged"]) == ("是", "option: a second site",
                                                                           "Annex 2", True)
    assert len(bid["sha256"]) == 64
    text = ok(rf(ws, "bids", "show", "huaxin", now=DAY1)).stdout
    assert "comment: price excl. 6% VAT; Discount %: 5)  [check]" in text

    ok(rf(ws, "export", "json", now=DAY1))
    exported = json.loads((ws / "out" / "CSO-2027-001.json").read_text(encoding="utf-8"))
    vendor = next(v for v in exported["cycle"]["vendors"] if v["id"] == "huaxin")
    assert vendor["bid"]["prices"][0]["comment"] == "price excl. 6% VAT"
    assert vendor["bid"]["answers"] == bid["answers"]


def test_a_mistyped_check_character_imports_and_screening_asks_for_review(tmp_path: Path, sample: Any) -> None:
    ws = workspace(tmp_path)
    registration = sample.VENDORS["huaxin"]["company"]["registration_no"]
    wrong = registration[:17] + ("0" if registration[17] != "0" else "1")
    vendor_workbook(ws, sample, "huaxin", ws / "bids" / "huaxin.xlsx", company={"registration_no": wrong})
    result = ok(rf(ws, "bids", "import", "bids", now=LATE.replace("18:10", "16:59")))
    assert "1 imported, 0 refused" in result.stdout
    assert f"check character is {wrong[17]}, expected {registration[17]}" in result.stderr
    ok(rf(ws, "close", now=CLOSE))
    screen = ok(rf(ws, "screen", now=CLOSE)).stdout
    assert f"review  uscc: 统一社会信用代码 '{wrong}' check character is {wrong[17]}, expected " \
           f"{registration[17]}" in screen
    assert f"expected check character {registration[17]}" in screen


def test_invited_vendors_who_has_not_bid_and_the_uninvited(tmp_path: Path, sample: Any) -> None:
    ws = workspace(tmp_path)
    vendor_workbook(ws, sample, "huaxin", ws / "bids" / "huaxin.xlsx")
    vendor_workbook(ws, sample, "xinrui", ws / "bids" / "stranger.xlsx", company={
        "vendor_name": "Stranger Contact Ltd", "registration_no": STRANGER})
    result = ok(rf(ws, "bids", "import", "bids", now=DAY1))
    assert "stranger.xlsx: Stranger Contact Ltd is not one of the invited vendors ([[vendors]] in rfp.toml); " \
           "imported" in result.stderr
    bids = listed(ws)
    assert {v: r["status"] for v, r in bids.items()} == {
        "huaxin": "received", "stranger": "received", "anxun": "not submitted", "lianjie": "not submitted",
        "xinrui": "not submitted", "yuanjing": "not submitted", "zhongli": "not submitted"}
    assert bids["stranger"]["invited"] is False and bids["huaxin"]["invited"] is True
    status = json.loads(ok(rf(ws, "status", "--json")).stdout)["bids"]
    assert status["not_submitted"] == ["anxun", "lianjie", "xinrui", "yuanjing", "zhongli"]
    assert status["unlisted"] == ["stranger"]
    assert "not submitted: anxun, lianjie, xinrui, yuanjing, zhongli; not invited: stranger" in ok(
        rf(ws, "status")).stdout


def test_a_restricted_procedure_refuses_the_uninvited(tmp_path: Path, sample: Any) -> None:
    ws = workspace(tmp_path, extra_toml="\n[bids]\nrestricted = true\n")
    vendor_workbook(ws, sample, "xinrui", ws / "bids" / "stranger.xlsx", company={
        "vendor_name": "Stranger Contact Ltd", "registration_no": STRANGER})
    vendor_workbook(ws, sample, "huaxin", ws / "bids" / "huaxin.xlsx")
    result = rf(ws, "bids", "import", "bids", now=DAY1)
    assert result.returncode == 2
    assert ("stranger.xlsx: Stranger Contact Ltd is not one of the invited vendors ([[vendors]] in rfp.toml) "
            "and this procedure is restricted to them") in result.stderr
    assert [v for v, r in listed(ws).items() if r["files"]] == ["huaxin"]


def test_without_a_vendor_list_ids_come_from_names_never_from_files(tmp_path: Path, sample: Any) -> None:
    ws = workspace(tmp_path, invited=False)
    vendor_workbook(ws, sample, "huaxin", ws / "bids" / "bid.xlsx")
    vendor_workbook(ws, sample, "xinrui", ws / "bids" / "x" / "bid.xlsx", company={
        "vendor_name": "Alpha IT Services Ltd"})
    vendor_workbook(ws, sample, "lianjie", ws / "bids" / "y" / "bid.xlsx", company={
        "vendor_name": "Alpha Consulting GmbH"})
    ok(rf(ws, "bids", "import", "bids", now=DAY1))
    bids = listed(ws)
    assert {v: r["legal_name"] for v, r in bids.items()} == {
        "alpha": "Alpha IT Services Ltd", "alpha-2": "Alpha Consulting GmbH", "vendor-1": "上海华信客户服务有限公司"}
    assert all(r["invited"] is None for r in bids.values())


def test_the_price_comparison_cell_by_cell(tmp_path: Path, sample: Any) -> None:
    import openpyxl

    from rfpflow.documents.price_comparison import price_comparison

    ws = workspace(tmp_path)
    vendor_workbook(ws, sample, "huaxin", ws / "bids" / "huaxin.xlsx",
                    price_comments={"L1": "price excl. 6% VAT"}, price_columns={"Discount %": {"L2": 5}})
    vendor_workbook(ws, sample, "lianjie", ws / "bids" / "lianjie.xlsx", prices={"L3": 0})
    vendor_workbook(ws, sample, "anxun", ws / "bids" / "anxun.xlsx")
    ok(rf(ws, "bids", "import", "bids", now=DAY1))
    ok(rf(ws, "close", now=CLOSE))
    ok(rf(ws, "screen", now=CLOSE))
    ok(rf(ws, "export", "json", now=CLOSE))
    ok(rf(ws, "export", "xlsx", now=CLOSE))

    view = json.loads((ws / "out" / "CSO-2027-001.json").read_text(encoding="utf-8"))["cycle"]
    comparison = price_comparison(view)
    assert comparison is not None and comparison["threshold"] == 0.30
    assert [v["id"] for v in comparison["vendors"]] == ["anxun", "huaxin", "lianjie"]
    l1, l2, l3 = comparison["rows"]
    assert (l1["median_unit_price"], l1["lowest_vendors"]) == ("220000", ["lianjie"])
    assert {v: (c["deviation"], c["flag_deviation"]) for v, c in l1["cells"].items()} == {
        "anxun": (0.0, False), "huaxin": (0.0455, False), "lianjie": (-0.3182, True)}
    assert l1["cells"]["huaxin"]["comment"] == "price excl. 6% VAT" and l1["cells"]["huaxin"]["flag_comment"]
    assert l2["cells"]["huaxin"]["extras"] == {"Discount %": "5"} and l2["cells"]["huaxin"]["flag_comment"]
    assert (l3["median_unit_price"], l3["lowest_vendors"]) == ("110000", ["anxun"])
    assert l3["cells"]["lianjie"]["zero"] and l3["cells"]["lianjie"]["deviation"] is None
    assert [v["total"] for v in comparison["vendors"]] == ["3100000", "3270000", "2040000"]

    book = openpyxl.load_workbook(ws / "out" / "CSO-2027-001.xlsx")
    sheet = book["Price comparison"]  # sheet names stay English (formulas refer to them)
    assert [sheet.cell(1, c).value for c in range(1, 10)] == [
        "项目", "内容", "单位", "数量", "苏州安讯数据服务有限公司: 单价", "上海华信客户服务有限公司: 单价",
        "杭州廉捷外包服务有限公司: 单价", "中位单价", "最低单价"]
    assert [sheet.cell(2, c).value for c in (1, 4, 5, 6, 7)] == ["L1", 12, 220000, 230000, 150000]
    assert sheet["H2"].value.text == "=MEDIAN(IF(E2:G2>0,E2:G2))"
    assert sheet["I2"].value.text == "=MIN(IF(E2:G2>0,E2:G2))"
    assert [sheet.cell(2, c).value for c in (10, 11, 12)] == ["=$D2*E2", "=$D2*F2", "=$D2*G2"]
    assert sheet["M2"].value == '=IF(AND(ISNUMBER(E2),E2>0),E2/$H2-1,"")'
    assert sheet["Q2"].value == "price excl. 6% VAT" and sheet["Q3"].value == "Discount %: 5"
    assert sheet["G4"].value == 0
    assert [sheet.cell(5, c).value for c in (1, 10, 11, 12)] == ["合计", "=SUM(J2:J4)", "=SUM(K2:K4)", "=SUM(L2:L4)"]
    assert sheet.freeze_panes == "E2"
    rules = {str(r.sqref): [rule.formula for rule in r.rules] for r in sheet.conditional_formatting}
    assert rules == {"E2:G4": [["OR(ISBLANK(E2),E2=0)"], ["E2=$I2"]],
                     "M2:O4": [["AND(ISNUMBER(M2),ABS(M2)>0.3)"]]}
    document = (ws / "out" / "price-comparison.html").read_text(encoding="utf-8")
    assert "报价对比表" in document and "size: A4 landscape" in document and "price excl. 6% VAT" in document
    # quantities as the RFP states them, amounts without a currency prefix that would break inside a cell
    assert '<td class="num">12 月</td>' in document and "二、逐项对比（金额单位：CNY）" in document
    assert "12.0 月" not in document and "white-space: nowrap" in document
    markdown = (ws / "out" / "price-comparison.md").read_text(encoding="utf-8")
    assert "| L1 " in markdown and "可能改变报价含义" in markdown


def test_two_envelopes_in_two_files_are_one_vendor(tmp_path: Path, sample: Any) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    text = (FLAGSHIP / "rfp.toml").read_text(encoding="utf-8").replace(
        "budget_ceiling = 4_200_000", "budget_ceiling = 4_200_000\ntwo_envelope = true")
    (ws / "rfp.toml").write_text(text, encoding="utf-8")
    shutil.copy(FLAGSHIP / "registry.json", ws / "registry.json")
    ok(rf(ws, "issue", now=ISSUE))
    inbox = ws / "bids" / "inbox"
    vendor_workbook(ws, sample, "huaxin", inbox / "huaxin" / "technical.xlsx", drop=("prices",))
    vendor_workbook(ws, sample, "huaxin", inbox / "huaxin" / "financial.xlsx", drop=("answers", "certifications"))
    vendor_workbook(ws, sample, "xinrui", inbox / "xinrui" / "technical.xlsx", drop=("prices",))

    result = ok(rf(ws, "bids", "import", "bids/inbox", now=DAY1))

    assert "3 imported, 0 refused" in result.stdout
    assert "technical envelope, with the financial envelope of 2027-01-18 14:02: the bid is complete" \
        in result.stdout
    assert "new — technical envelope only: incomplete" in result.stdout
    bids = listed(ws)
    assert {v: (r["files"], r["envelopes"], r["incomplete"], r["total_price"]) for v, r in bids.items()
            if r["files"]} == {
        "huaxin": (["huaxin/technical.xlsx", "financial.xlsx"], ["technical", "financial"], False, None),
        "xinrui": (["xinrui/technical.xlsx"], ["technical"], True, None)}
    huaxin = shown(ws, "huaxin")
    assert huaxin["prices"] is None  # sealed until the financial envelopes are opened
    assert [a["question"] for a in huaxin["answers"]] == ["Q1", "Q2", "Q3", "Q4"]  # from the technical envelope
    assert huaxin["registration_no"] == sample.VENDORS["huaxin"]["company"]["registration_no"]
    received = events(ws, "bid.received")
    assert [(e["data"]["vendor"], e["data"]["envelope"], e["data"]["envelopes"]) for e in received] == [
        ("huaxin", "financial", ["financial"]), ("huaxin", "technical", []), ("xinrui", "technical", ["technical"])]
    table = ok(rf(ws, "bids", "list", now=DAY1)).stdout
    assert "received (incomplete: one envelope)" in table and "sealed" in table


def test_records_written_before_issue_15_still_load() -> None:
    from decimal import Decimal

    from rfpflow.model import PriceLine
    from rfpflow.records import StoredBid
    from rfpflow.store import serde

    old = {"bid": {"vendor_id": "acme", "vendor_name": "Acme Ltd.", "source_file": "acme.xlsx", "fields": {},
                   "certifications": [], "answers": [], "cells": {}, "warnings": [],
                   "prices": [["L1", "12", "82000.50", "Pricing!E4"], ["L2", "1", "0", None]]},
           "submitted_at": "2027-01-18T14:02:00+08:00", "sha256": "ab" * 32, "late": False, "late_reason": "",
           "needs_resubmission": True}
    stored = serde.from_data(StoredBid, old)
    assert (stored.status, stored.files, stored.envelopes, stored.active) == ("received", (), (), True)
    assert stored.bid.prices[0] == PriceLine("L1", Decimal("12"), Decimal("82000.50"), "Pricing!E4")
    assert stored.bid.envelope == ""
    # Lines without comments are written as before; a comment or an added column makes the row longer.
    assert serde.to_data(PriceLine("L1", Decimal("1"), Decimal("2"))) == ["L1", "1", "2", None]
    noted = PriceLine("L1", Decimal("1"), Decimal("2"), None, "excl. VAT", (("Discount %", "5"),))
    assert serde.from_data(PriceLine, serde.to_data(noted)) == noted


def test_a_wrong_vendor_list_is_refused_naming_the_line(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    text = (FLAGSHIP / "rfp.toml").read_text(encoding="utf-8")
    registration = text.split('id = "huaxin"\n', 1)[1].split("registration_no = ", 1)[1].split("\n", 1)[0]
    text += (f'\n[[vendors]]\nid = "huaxin"\nname = "Dup"\nregistration_no = {registration}\n'
             '\n[bids]\nrestricted = "yes"\n')
    (ws / "rfp.toml").write_text(text, encoding="utf-8")
    lines = text.splitlines()
    result = run_cli("-C", str(ws), "validate")
    assert result.returncode == 2 and "Traceback" not in result.stderr + result.stdout
    out = result.stdout + result.stderr
    assert f"rfp.toml:{len(lines)}: bids.restricted: must be true or false, got 'yes' (text)" in out
    assert f"rfp.toml:{len(lines) - 5}: vendors[7].id: vendor id 'huaxin' is used twice" in out
    number = registration.strip('"')
    assert f"rfp.toml:{len(lines) - 3}: vendors[7].registration_no: registration number {number!r} is listed twice" \
        in out


def test_bids_list_and_show_as_tables(tmp_path: Path, sample: Any) -> None:
    ws = workspace(tmp_path)
    vendor_workbook(ws, sample, "huaxin", ws / "bids" / "huaxin.xlsx")
    ok(rf(ws, "bids", "import", "bids", now=DAY1))
    lines = ok(rf(ws, "bids", "list", now=DAY1)).stdout.splitlines()
    assert lines[0].split("  ")[0] == "vendor"
    assert lines[1].startswith("huaxin ") and lines[2].startswith("anxun ") and lines[2].endswith("not submitted")
    huaxin = lines[1]
    registration = sample.VENDORS["huaxin"]["company"]["registration_no"]
    assert " ".join(huaxin.split()) == (f"huaxin 上海华信客户服务有限公司 {registration} huaxin.xlsx 2027-01-18 14:02 "
                                        "on time 3,270,000.00 received")
    refused(rf(ws, "bids", "show", "anxun", now=DAY1), "there is no bid of vendor 'anxun' (vendors with bids: huaxin)")
    text = ok(rf(ws, "bids", "show", "huaxin", now=DAY1)).stdout
    assert text.startswith("huaxin: 上海华信客户服务有限公司\n  status: received\n")
    assert "  L1: 12 x 230000 = 2760000\n" in text


def test_a_bid_excluded_during_screening_leaves_review_and_the_score_sheets(tmp_path: Path, sample: Any) -> None:
    import openpyxl

    ws = workspace(tmp_path)
    for vendor in ("huaxin", "xinrui", "zhongli"):
        vendor_workbook(ws, sample, vendor, ws / "bids" / f"{vendor}.xlsx")
    ok(rf(ws, "bids", "import", "bids", now=DAY1))
    ok(rf(ws, "close", now=CLOSE))
    screen = ok(rf(ws, "screen", now=CLOSE)).stdout
    assert "zhongli" in screen and "review  labour-dispatch" in screen
    refused(rf(ws, "evaluate", "sheets", now=CLOSE), "zhongli labour-dispatch")
    ok(rf(ws, "bids", "exclude", "zhongli", "--reason", "法务审查：劳务派遣", now=CLOSE))

    ok(rf(ws, "evaluate", "sheets", now=CLOSE))

    sheet = openpyxl.load_workbook(ws / "out" / "score-sheets" / "CSO-2027-001-E1.xlsx").worksheets[0]
    heads = [str(c.value) for row in sheet.iter_rows(min_row=1, max_row=8) for c in row if c.value]
    assert any(h.startswith("上海华信客户服务有限公司: ") for h in heads)  # names, not ids, over the columns
    assert any(h.startswith("成都新锐智能客服有限公司: ") for h in heads)
    assert not any("南京众力" in h or h.startswith(("huaxin", "zhongli")) for h in heads)
    written = events(ws, "evaluation.sheets_written")[0]["data"]
    assert written["vendors"] == ["huaxin", "xinrui"]


def test_namesakes_with_two_valid_registration_numbers_are_two_vendors(tmp_path: Path, sample: Any) -> None:
    """Names that fold to the same letters ("=1+1" and "-1+1", "Acme Ltd" and "ACME, Ltd.") do not make two
    companies one: two valid, different registration numbers decide. (Found by the hostile-input suite.)"""
    ws = workspace(tmp_path, invited=False)
    vendor_workbook(ws, sample, "huaxin", ws / "bids" / "a.xlsx", company={"vendor_name": "=1+1"})
    vendor_workbook(ws, sample, "lianjie", ws / "bids" / "b.xlsx", company={"vendor_name": "-1+1"})
    result = ok(rf(ws, "bids", "import", "bids"))
    assert "2 imported, 0 refused" in result.stdout
    bids = {r["registration_no"]: r["legal_name"] for r in listed(ws).values() if r["files"]}
    assert bids == {sample.VENDORS["huaxin"]["company"]["registration_no"]: "=1+1",
                    sample.VENDORS["lianjie"]["company"]["registration_no"]: "-1+1"}
    assert len(events(ws, "bid.received")) == 2
