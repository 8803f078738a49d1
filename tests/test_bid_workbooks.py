"""The bid-response workbook: written by rfpflow, filled in by vendors, read back.

Every workbook here is a real .xlsx file written at run time: the generated
workbook filled in with openpyxl (inline strings, as openpyxl writes them),
or an equivalent vendor workbook written from scratch with xlsxwriter
(shared strings, its own styles, columns in another order).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import openpyxl
import pytest

from rfpflow.builtins import xlsx_bids
from rfpflow.context import RunContext
from rfpflow.definition import definition_hash, load_rfp
from rfpflow.errors import InputFileError
from rfpflow.model import Answer, Bid, Certification, LineItem, PriceLine, Question, Rfp
from rfpflow.plugins import BUILTIN_PLUGINS, PluginHost
from rfpflow.spreadsheets.bid_reader import read_bid_workbook, vendor_id_for
from rfpflow.spreadsheets.bid_writer import INPUT_FILL, fixed_timestamp, write_bid_workbook
from rfpflow.spreadsheets.filecheck import MACRO_WARNING
from rfpflow.spreadsheets.samples import Formula, write_vendor_workbook
from rfpflow.spreadsheets.samples import fill_bid_workbook as _fill
from rfpflow.testing import make_context, make_host
from rfpflow.workspace import create_workspace

READERS = ("fast", "openpyxl")
PLUGIN = "rfpflow.builtins.xlsx_bids"

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def fill_bid_workbook(template_path: Path, out_path: Path, data: Mapping[str, Any]) -> Path:
    """Fill the generated workbook as a vendor would (openpyxl; see rfpflow.spreadsheets.samples)."""
    return _fill(template_path, out_path, data)


def host_with_plugin() -> PluginHost:
    """The builtins plus this plugin (whether or not it is a builtin yet)."""
    return make_host() if PLUGIN in BUILTIN_PLUGINS else make_host(xlsx_bids)


def load_generic(folder: Path, language: str) -> Rfp:
    host = host_with_plugin()
    ws = create_workspace(folder, host, language=language)
    return load_rfp(ws / "rfp.toml", context=make_context(host))


def rehash(rfp: Rfp, **changes: Any) -> Rfp:
    changed = attrs.evolve(rfp, **changes)
    return attrs.evolve(changed, definition_hash=definition_hash(changed))


def refusal(path: Path, rfp: Rfp, reader: str = "fast") -> list[tuple[str | None, str]]:
    """(place, message) of every problem reading ``path`` raised."""
    with pytest.raises(InputFileError) as info:
        read_bid_workbook(path, rfp, reader=reader)
    return [(p.place, p.message) for p in info.value.problems]


def read_both(path: Path, rfp: Rfp) -> Bid:
    """Read with both readers, check they agree, return the bid."""
    bids = [read_bid_workbook(path, rfp, reader=r) for r in READERS]
    assert bids[0] == bids[1]
    return bids[0]


@pytest.fixture(scope="module")
def rfp(tmp_path_factory: pytest.TempPathFactory) -> Rfp:
    return load_generic(tmp_path_factory.mktemp("en") / "ws", "en")


@pytest.fixture(scope="module")
def rfp_zh(tmp_path_factory: pytest.TempPathFactory) -> Rfp:
    return load_generic(tmp_path_factory.mktemp("zh") / "ws", "zh")


@pytest.fixture(scope="module")
def template(rfp: Rfp, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_bid_workbook(rfp, tmp_path_factory.mktemp("tpl") / "blank.xlsx")


@pytest.fixture(scope="module")
def template_zh(rfp_zh: Rfp, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_bid_workbook(rfp_zh, tmp_path_factory.mktemp("tplzh") / "blank.xlsx")


GOOD: dict[str, Any] = {
    "company": {
        "vendor_name": "Acme Hotline Services Ltd.",
        "registration_no": "91350100M000100Y43",
        "country": "China",
        "year_established": 2012,
        "registered_capital": 5_000_000,
        "annual_turnover": 38_500_000.5,
        "headcount": 420,
        "contact_name": "Li Lei",
        "contact_email": "li.lei@acme.example",
        "contact_phone": "+86 591 1234 5678",
    },
    "certifications": [
        {"name": "ISO 9001:2015", "number": "CN-Q-123", "expires": dt.date(2028, 6, 30)},
        {"name": "ISO 27001", "number": "CN-S-77", "expires": dt.date(2027, 12, 31)},
    ],
    "answers": {
        "Q1": "Yes",
        "Q2": {"answer": "Yes", "comment": "Two data centres in Fuzhou", "evidence": "Annex 3, p. 4"},
        "Q3": "Partly",
    },
    "prices": {"L1": 82_000, "L2": 15_000.25},
}

EXPECTED_FIELDS = {
    "vendor_name": "Acme Hotline Services Ltd.",
    "registration_no": "91350100M000100Y43",
    "country": "China",
    "year_established": 2012,
    "registered_capital": Decimal("5000000"),
    "annual_turnover": Decimal("38500000.5"),
    "headcount": 420,
    "contact_name": "Li Lei",
    "contact_email": "li.lei@acme.example",
    "contact_phone": "+86 591 1234 5678",
}


# ---------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------


def test_round_trip_generated_and_filled_with_openpyxl(rfp: Rfp, template: Path, tmp_path: Path) -> None:
    path = fill_bid_workbook(template, tmp_path / "Acme.xlsx", GOOD)
    expected = Bid(
        vendor_id="acme",
        vendor_name="Acme Hotline Services Ltd.",
        source_file="Acme.xlsx",
        fields=EXPECTED_FIELDS,
        certifications=(
            Certification("ISO 9001:2015", dt.date(2028, 6, 30), "Certifications!A4"),
            Certification("ISO 27001", dt.date(2027, 12, 31), "Certifications!A5"),
        ),
        answers=(
            Answer("Q1", "Yes", "", "", "Questionnaire!D4"),
            Answer("Q2", "Yes", "Two data centres in Fuzhou", "Annex 3, p. 4", "Questionnaire!D5"),
            Answer("Q3", "Partly", "", "", "Questionnaire!D6"),
        ),
        prices=(
            PriceLine("L1", Decimal("12"), Decimal("82000"), "Pricing!E4"),
            PriceLine("L2", Decimal("1"), Decimal("15000.25"), "Pricing!E5"),
        ),
        cells={key: f"Company!B{row}" for row, key in enumerate(EXPECTED_FIELDS, start=4)},
        warnings=(),
    )
    for reader in READERS:
        assert read_bid_workbook(path, rfp, reader=reader) == expected
    assert expected.total_price == Decimal("12") * 82000 + Decimal("15000.25")


def test_round_trip_written_with_xlsxwriter(rfp: Rfp, tmp_path: Path) -> None:
    path = write_vendor_workbook(tmp_path / "acme.xlsx", rfp, GOOD)
    with zipfile.ZipFile(path) as zf:
        assert "xl/sharedStrings.xml" in zf.namelist()  # unlike openpyxl's inline strings
    bid = read_both(path, rfp)
    assert dict(bid.fields) == EXPECTED_FIELDS
    assert [(c.name, c.expires) for c in bid.certifications] == [
        ("ISO 9001:2015", dt.date(2028, 6, 30)), ("ISO 27001", dt.date(2027, 12, 31))]
    assert [(a.question_id, a.answer) for a in bid.answers] == [("Q1", "Yes"), ("Q2", "Yes"), ("Q3", "Partly")]
    assert bid.total_price == Decimal("999000.25")


def test_xlsxwriter_constant_memory_inline_strings(rfp: Rfp, tmp_path: Path) -> None:
    path = write_vendor_workbook(tmp_path / "acme.xlsx", rfp, GOOD, options={"constant_memory": True})
    assert dict(read_both(path, rfp).fields) == EXPECTED_FIELDS


def test_chinese_workbook_round_trip(rfp_zh: Rfp, template_zh: Path, tmp_path: Path) -> None:
    data = {
        "company": {"vendor_name": "福州示例呼叫中心有限公司", "registration_no": "9135 0100 m000 100y43",
                    "country": "中国", "year_established": "2015年", "registered_capital": "500万",
                    "annual_turnover": "¥3,850万元", "headcount": "３２０"},
        "answers": {"Q1": "是", "Q2": "Y", "Q3": "部分"},
        "prices": {"L1": "¥82,000.00", "L2": "1.5万"},
    }
    path = fill_bid_workbook(template_zh, tmp_path / "福州示例.xlsx", data)
    problems = refusal(path, rfp_zh)
    assert problems == [("Company!B7", 'year established "2015年" is not a number')]
    data["company"]["year_established"] = "２０１５"
    bid = read_both(fill_bid_workbook(template_zh, tmp_path / "福州示例.xlsx", data), rfp_zh)
    assert bid.vendor_id == "vendor"  # no Latin letters in the name: the workflow numbers it (vendor-1)
    assert bid.fields["registration_no"] == "91350100M000100Y43"
    assert bid.fields["year_established"] == 2015
    assert bid.fields["registered_capital"] == Decimal("5000000")
    assert bid.fields["annual_turnover"] == Decimal("38500000")
    assert bid.fields["headcount"] == 320
    assert [a.answer for a in bid.answers] == ["是", "是", "部分"]
    assert [p.unit_price for p in bid.prices] == [Decimal("82000"), Decimal("15000")]


def test_chinese_workbook_has_bilingual_headers(template_zh: Path) -> None:
    wb = openpyxl.load_workbook(template_zh)
    assert wb.sheetnames == ["Instructions", "Company", "Certifications", "Questionnaire", "Pricing", "_rfpflow"]
    pricing = wb["Pricing"]
    headers = [c.value for c in pricing[3]]
    assert headers == ["编号 / Item ID", "描述 / Description", "单位 / Unit", "数量 / Quantity",
                       "单价（CNY） / Unit price (CNY)", "小计（CNY） / Line total (CNY)", "备注 / Comment"]
    assert wb["Company"]["A4"].value == "供应商名称 / Vendor name *"
    assert "请只填写黄色单元格" in "".join(str(c.value) for c in wb["Instructions"]["A"] if c.value)


def test_english_workbook_is_english_only(template: Path) -> None:
    wb = openpyxl.load_workbook(template)
    texts = [str(c.value) for ws in wb.worksheets if ws.title != "_rfpflow" for row in ws.iter_rows()
             for c in row if isinstance(c.value, str)]
    assert not any(re.search(r"[\u4e00-\u9fff]", t) for t in texts)
    assert wb["Company"]["A4"].value == "Vendor name *"


# ---------------------------------------------------------------------------
# Values as people type them
# ---------------------------------------------------------------------------


def test_messy_values_are_read(rfp: Rfp, template: Path, tmp_path: Path) -> None:
    data: dict[str, Any] = {
        "company": {"vendor_name": "  Acme\u200b Ltd  ", "registration_no": "91350100M000100Y43",
                    "country": "CN", "year_established": "2012", "registered_capital": "¥1,200",
                    "annual_turnover": "1,234.50", "headcount": "１２３", "contact_phone": 8659112345678},
        "certifications": [("ISO 9001", "Q-1", "2027/3/1"), ("ISO 27001", None, 46082),
                           ("ISO 20000", None, "2028年1月31日")],
        "answers": {"Q1": "是", "Q2": " yes ", "Q3": "PARTLY"},
        "prices": {"L1": " 980 ", "L2": "$980"},
    }
    rfp_usd = rehash(rfp, currency="USD")
    path = fill_bid_workbook(write_bid_workbook(rfp_usd, tmp_path / "t.xlsx"), tmp_path / "messy.xlsx", data)
    problems = refusal(path, rfp_usd)
    assert problems == [("Company!B8", 'registered capital "¥1,200" is in ¥, but this RFP asks for amounts in USD')]
    data["company"]["registered_capital"] = "US$1,200"
    bid = read_both(fill_bid_workbook(write_bid_workbook(rfp_usd, tmp_path / "t.xlsx"), path, data), rfp_usd)
    assert bid.vendor_name == "Acme Ltd"
    assert bid.fields["registered_capital"] == Decimal("1200")
    assert bid.fields["annual_turnover"] == Decimal("1234.50")
    assert bid.fields["headcount"] == 123
    assert bid.fields["contact_phone"] == "8659112345678"
    assert [c.expires for c in bid.certifications] == [dt.date(2027, 3, 1), dt.date(2026, 3, 1), dt.date(2028, 1, 31)]
    assert [a.answer for a in bid.answers] == ["Yes", "Yes", "Partly"]
    assert [p.unit_price for p in bid.prices] == [Decimal("980"), Decimal("980")]


def test_serial_dates_in_plain_cells_and_1904_workbooks(rfp: Rfp, tmp_path: Path) -> None:
    data = {**GOOD, "certifications": [("ISO 9001", "Q", 46082), ("ISO 27001", "S", "46082")]}
    path = write_vendor_workbook(tmp_path / "acme.xlsx", rfp, data)
    assert [c.expires for c in read_both(path, rfp).certifications] == [dt.date(2026, 3, 1)] * 2
    mac = write_vendor_workbook(tmp_path / "mac.xlsx", rfp, data, options={"date_1904": True})
    assert [c.expires for c in read_both(mac, rfp).certifications] == [dt.date(2030, 3, 2)] * 2


def test_decimal_comma_rfp(rfp: Rfp, tmp_path: Path) -> None:
    european = rehash(rfp, decimal_comma=True, currency="EUR")
    data = {**GOOD, "company": {**GOOD["company"], "registered_capital": "1.250.000,50", "annual_turnover": 1},
            "prices": {"L1": "980,50", "L2": "1.234,5"}}
    path = write_vendor_workbook(tmp_path / "acme.xlsx", european, data)
    bid = read_both(path, european)
    assert bid.fields["registered_capital"] == Decimal("1250000.50")
    assert [p.unit_price for p in bid.prices] == [Decimal("980.50"), Decimal("1234.5")]
    assert refusal(path, rehash(european, decimal_comma=False))[0][1].startswith("was made for an earlier version")


def test_ambiguous_values_are_refused_naming_the_cell(rfp: Rfp, template: Path, tmp_path: Path) -> None:
    data = {**GOOD, "certifications": [("ISO 9001", "Q", "03/04/2027")], "prices": {"L1": "1.234,50", "L2": 1}}
    path = fill_bid_workbook(template, tmp_path / "acme.xlsx", data)
    problems = refusal(path, rfp)
    assert [place for place, _ in problems] == ["Certifications!C4", "Pricing!E4"]
    assert problems[0][1].startswith('expiry date "03/04/2027" is ambiguous: it could be 2027-04-03 or 2027-03-04')
    assert problems[1][1].startswith('unit price "1.234,50" looks like a European number format')


def test_answers_map_onto_the_choices(rfp: Rfp, template: Path, tmp_path: Path) -> None:
    data = {**GOOD, "answers": {"Q1": "Y", "Q2": "ＹＥＳ", "Q3": "no"}}
    bid = read_both(fill_bid_workbook(template, tmp_path / "acme.xlsx", data), rfp)
    assert [a.answer for a in bid.answers] == ["Yes", "Yes", "No"]
    data = {**GOOD, "answers": {"Q1": "Maybe", "Q2": "Yes", "Q3": "Sometimes"}}
    assert refusal(fill_bid_workbook(template, tmp_path / "acme.xlsx", data), rfp) == [
        ("Questionnaire!D4", 'answer "Maybe" to Q1 is not one of the choices (Yes, No)'),
        ("Questionnaire!D6", 'answer "Sometimes" to Q3 is not one of the choices (Yes, No, Partly)'),
    ]


def test_optional_fields_may_be_left_out(rfp: Rfp, template: Path, tmp_path: Path) -> None:
    data = {"company": {"vendor_name": "Acme"}, "answers": {"Q1": "Yes", "Q2": "No"},
            "prices": {"L1": 1, "L2": 2}}
    bid = read_both(fill_bid_workbook(template, tmp_path / "acme.xlsx", data), rfp)
    assert dict(bid.fields) == {"vendor_name": "Acme"}
    assert dict(bid.cells) == {"vendor_name": "Company!B4"}
    assert bid.certifications == ()
    assert [a.question_id for a in bid.answers] == ["Q1", "Q2"]


# ---------------------------------------------------------------------------
# Vendors who change the layout
# ---------------------------------------------------------------------------


def test_vendor_inserted_rows_and_columns_still_reads(rfp: Rfp, template: Path, tmp_path: Path) -> None:
    filled = fill_bid_workbook(template, tmp_path / "filled.xlsx", GOOD)
    wb = openpyxl.load_workbook(filled)
    for name in ("Company", "Questionnaire", "Pricing"):
        ws = wb[name]
        ws.protection.sheet = False
        ws.insert_rows(2, amount=3)  # a logo and a note above the table
        ws["A2"] = "Our reference: ACME-2027-17"
        ws.insert_cols(1)  # a column of row numbers in front
        for row in range(1, 12):
            ws.cell(row=row, column=1, value=row)
    wb["Pricing"].insert_rows(8)  # a blank row between the two line items
    wb["Pricing"]["J7"] = "a note far to the right"
    wb.create_sheet("Our notes", 0)["A1"] = "an extra sheet is ignored"
    wb.save(tmp_path / "moved.xlsx")
    bid = read_both(tmp_path / "moved.xlsx", rfp)
    assert dict(bid.fields) == EXPECTED_FIELDS
    assert bid.cells["vendor_name"] == "Company!C7"
    assert [(p.item_id, p.unit_price, p.cell) for p in bid.prices] == [
        ("L1", Decimal("82000"), "Pricing!F7"), ("L2", Decimal("15000.25"), "Pricing!F9")]
    assert [a.cell for a in bid.answers] == ["Questionnaire!E7", "Questionnaire!E8", "Questionnaire!E9"]


def test_columns_in_another_order_and_extra_columns(rfp: Rfp, tmp_path: Path) -> None:
    order = {"Pricing": ["unit_price", "comment", "item_id", "quantity", "description"],
             "Questionnaire": ["evidence", "answer", "id", "text"],
             "Company": ["value", "field"]}
    path = write_vendor_workbook(tmp_path / "acme.xlsx", rfp, GOOD, column_order=order, first_row=7,
                                 extra_columns=("Brand", "Lead time (days)"), extra_values=lambda r, c: "x")
    bid = read_both(path, rfp)
    assert dict(bid.fields) == EXPECTED_FIELDS
    assert bid.cells["vendor_name"] == "Company!A8"
    assert [p.cell for p in bid.prices] == ["Pricing!A8", "Pricing!A9"]
    assert bid.answer("Q2") == Answer("Q2", "Yes", "", "Annex 3, p. 4", "Questionnaire!B9")


def test_merged_cells_are_tolerated(rfp: Rfp, template: Path, tmp_path: Path) -> None:
    filled = fill_bid_workbook(template, tmp_path / "filled.xlsx", GOOD)
    wb = openpyxl.load_workbook(filled)
    wb["Company"].merge_cells("B4:C4")  # the vendor name spread over the notes column
    wb["Questionnaire"].merge_cells("E5:F5")
    wb.save(tmp_path / "merged.xlsx")
    bid = read_both(tmp_path / "merged.xlsx", rfp)
    assert bid.vendor_name == "Acme Hotline Services Ltd."
    assert bid.answer("Q2") == Answer("Q2", "Yes", "Two data centres in Fuzhou", "", "Questionnaire!D5")


# ---------------------------------------------------------------------------
# Problems
# ---------------------------------------------------------------------------


def test_every_problem_is_reported_at_once(rfp: Rfp, template: Path, tmp_path: Path) -> None:
    data = {
        "company": {"vendor_name": "  ", "registration_no": "91350100M000100Y4X", "country": "China",
                    "year_established": 2099, "registered_capital": "lots", "headcount": 12.5,
                    "contact_email": "li.lei at acme"},
        "certifications": [{"number": "Q-1", "expires": "2028-02-30"}],
        "answers": {"Q1": "Yes", "Q3": "Perhaps"},
        "prices": {"L1": "abc", "L2": -5},
    }
    path = fill_bid_workbook(template, tmp_path / "acme.xlsx", data)
    with pytest.raises(InputFileError) as info:
        read_bid_workbook(path, rfp)
    error = info.value
    assert str(error).splitlines()[0] == "acme.xlsx: 11 problems"
    assert all(p.file == "acme.xlsx" for p in error.problems)
    # A wrong check character alone no longer refuses the bid: a warning, and "needs review" in screening.
    assert [(p.place, p.message) for p in error.problems] == [
        ("Company!B4", "vendor name is blank"),
        ("Company!B7", "year established 2099 is in the future"),
        ("Company!B8", 'registered capital "lots" is not a number'),
        ("Company!B10", "headcount 12.5 is not a whole number"),
        ("Company!B12", 'contact e-mail "li.lei at acme" is not an e-mail address'),
        ("Certifications!A4", "certificate name is blank, but the row has a number or expiry date"),
        ("Certifications!C4", 'expiry date "2028-02-30" is not a real calendar date; write the date as YYYY-MM-DD'),
        ("Questionnaire!D5", "Q2 is mandatory and has no answer"),
        ("Questionnaire!D6", 'answer "Perhaps" to Q3 is not one of the choices (Yes, No, Partly)'),
        ("Pricing!E4", 'unit price "abc" is not a number'),
        ("Pricing!E5", "unit price -5 is negative"),
    ]


def test_missing_rows_and_duplicates(rfp: Rfp, template: Path, tmp_path: Path) -> None:
    filled = fill_bid_workbook(template, tmp_path / "filled.xlsx", GOOD)
    wb = openpyxl.load_workbook(filled)
    wb["Questionnaire"].delete_rows(4)  # Q1, mandatory
    pricing = wb["Pricing"]
    pricing.delete_rows(5)  # L2
    pricing["A5"] = "L1"  # the total row now repeats L1 ...
    pricing["E5"] = 10
    pricing["A6"] = "Total"
    pricing["A7"] = "X9"  # ... and an item that is not in the RFP (below the total: ignored)
    pricing["E7"] = 99
    company = wb["Company"]
    company["A13"] = "Vendor name"  # the contact phone row relabelled: a second vendor name
    wb.save(tmp_path / "acme.xlsx")
    assert refusal(tmp_path / "acme.xlsx", rfp) == [
        ("Company!B13", "vendor name is asked twice (Company!B4 and Company!B13); keep one row"),
        ("Questionnaire", "Q1 is mandatory and has no answer (its row is missing from the Questionnaire sheet)"),
        ("Pricing!A5", "line item L1 appears twice (Pricing!A4 and Pricing!A5); keep one row"),
        ("Pricing", "line item L2 has no row in the Pricing sheet (was the row deleted?); it needs a unit price"),
    ]


def test_unknown_priced_item_and_missing_vendor_name_row(rfp: Rfp, template: Path, tmp_path: Path) -> None:
    filled = fill_bid_workbook(template, tmp_path / "filled.xlsx", GOOD)
    wb = openpyxl.load_workbook(filled)
    wb["Company"].delete_rows(4)
    pricing = wb["Pricing"]
    pricing.insert_rows(5)
    pricing["A5"] = "L1b"
    pricing["E5"] = 5
    wb.save(tmp_path / "acme.xlsx")
    assert refusal(tmp_path / "acme.xlsx", rfp) == [
        ("Company", 'vendor name is missing: the Company sheet has no row labelled "Vendor name"'),
        ("Pricing!A5", 'item "L1b" is not a line item of this RFP; put optional extras in a comment, not in a '
                       "priced row"),
    ]


def test_missing_sheet_and_header(rfp: Rfp, template: Path, tmp_path: Path) -> None:
    filled = fill_bid_workbook(template, tmp_path / "filled.xlsx", GOOD)
    wb = openpyxl.load_workbook(filled)
    del wb["Questionnaire"]
    wb["Pricing"]["E3"] = "Our price"
    wb.save(tmp_path / "acme.xlsx")
    assert refusal(tmp_path / "acme.xlsx", rfp) == [
        (None, "the Questionnaire sheet is missing (was it deleted or renamed?); ask the vendor to fill in the "
               "workbook from `rfpflow issue`"),
        ("Pricing", 'the Pricing sheet has no header row naming the columns "Item ID", "Unit price" in its first 40 '
                    "rows (were the headers changed?)"),
    ]


def test_renamed_sheets_in_chinese_are_found(rfp: Rfp, template: Path, tmp_path: Path) -> None:
    filled = fill_bid_workbook(template, tmp_path / "filled.xlsx", GOOD)
    wb = openpyxl.load_workbook(filled)
    wb["Pricing"].title = "报价表"
    wb["Company"].title = "公司信息"
    wb.save(tmp_path / "acme.xlsx")
    bid = read_both(tmp_path / "acme.xlsx", rfp)
    assert bid.cells["vendor_name"] == "公司信息!B4"
    assert bid.prices[0].cell == "报价表!E4"


def test_wrong_rfp_is_refused_naming_both_ids(rfp: Rfp, tmp_path: Path) -> None:
    other = rehash(rfp, id="RFP-2027-099")
    path = write_vendor_workbook(tmp_path / "acme.xlsx", other, GOOD)
    assert refusal(path, rfp) == [("_rfpflow", "is the bid-response workbook of RFP RFP-2027-099, not of RFP "
                                   "RFP-2027-001; check that the file was sent for this RFP, or send the vendor the "
                                   "workbook of RFP RFP-2027-001")]


def test_amended_definition_is_refused(rfp: Rfp, template: Path, tmp_path: Path) -> None:
    path = fill_bid_workbook(template, tmp_path / "acme.xlsx", GOOD)
    amended = rehash(rfp, budget_ceiling=Decimal("1400000"))
    [(place, message)] = refusal(path, amended)
    assert place == "_rfpflow"
    assert message == (f"was made for an earlier version of the RFP definition ({rfp.definition_hash[:12]}…); the "
                       "RFP was amended — ask the vendor to resubmit on the current workbook")


def test_workbook_without_metadata(rfp: Rfp, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Our own price list"
    wb.save(tmp_path / "acme.xlsx")
    assert refusal(tmp_path / "acme.xlsx", rfp) == [(None, "is not an rfpflow bid-response workbook for RFP "
                                                     "RFP-2027-001 (no metadata sheet); send the vendor the workbook "
                                                     "from `rfpflow issue`")]
    newer = write_vendor_workbook(tmp_path / "newer.xlsx", rfp, GOOD, metadata={"format": 2})
    assert refusal(newer, rfp)[0][1].startswith("was made by a newer version of rfpflow (workbook format 2")


def test_formula_input_without_calculated_value(rfp: Rfp, template: Path, tmp_path: Path) -> None:
    data = {**GOOD, "company": {**GOOD["company"], "vendor_name": Formula('=CONCAT("Ac","me")')},
            "prices": {"L1": Formula("=80000+2000"), "L2": 15000}}
    path = fill_bid_workbook(template, tmp_path / "acme.xlsx", data)  # openpyxl never calculates
    message = ("is a formula without a calculated value; open and save the workbook in Excel or LibreOffice "
               "(rfpflow reads the values a spreadsheet program calculated, it never calculates formulas itself)")
    for reader in READERS:
        assert refusal(path, rfp, reader) == [("Company!B4", f"vendor name {message}"),
                                              ("Pricing!E4", f"unit price {message}")]


def test_formula_with_calculated_value_is_read_through_its_value(rfp: Rfp, tmp_path: Path) -> None:
    path = write_vendor_workbook(tmp_path / "acme.xlsx", rfp, GOOD)
    with zipfile.ZipFile(path) as zf:  # make a price a formula with its value, as Excel saves it
        sheet = zf.read("xl/worksheets/sheet5.xml").decode()
    sheet = sheet.replace('<c r="E4"><v>82000</v></c>', '<c r="E4"><f>80000+2000</f><v>82000</v></c>')
    assert "<f>80000+2000</f>" in sheet
    _rewrite(path, tmp_path / "cached.xlsx", {"xl/worksheets/sheet5.xml": sheet.encode()})
    bid = read_both(tmp_path / "cached.xlsx", rfp)
    assert bid.prices[0].unit_price == Decimal("82000")


def test_totals_are_recomputed_not_read(rfp: Rfp, template: Path, tmp_path: Path) -> None:
    filled = fill_bid_workbook(template, tmp_path / "filled.xlsx", GOOD)
    wb = openpyxl.load_workbook(filled)
    wb["Pricing"]["F4"] = 1  # a vendor who overwrote the line total and the total
    wb["Pricing"]["F6"] = 2
    wb.save(tmp_path / "acme.xlsx")
    assert read_both(tmp_path / "acme.xlsx", rfp).total_price == Decimal("999000.25")


# ---------------------------------------------------------------------------
# Warnings: accepted, but the officer should know
# ---------------------------------------------------------------------------


def test_hidden_rows_rows_below_total_and_changed_quantity(rfp: Rfp, template: Path, tmp_path: Path) -> None:
    filled = fill_bid_workbook(template, tmp_path / "filled.xlsx", {**GOOD, "quantities": {"L1": 10}})
    wb = openpyxl.load_workbook(filled)
    pricing = wb["Pricing"]
    pricing.row_dimensions[5].hidden = True
    pricing["A8"] = "Prices exclude VAT"
    pricing["A9"] = "L2"
    pricing["E9"] = 1
    wb.save(tmp_path / "acme.xlsx")
    bid = read_both(tmp_path / "acme.xlsx", rfp)
    assert bid.warnings == (
        "Pricing!D4: quantity of L1 was changed to 10; the RFP's quantity 12 is used",
        "Pricing: hidden row 5 hold values that were read; check them with the vendor",
        "Pricing!A8: 2 rows below the total are ignored",
    )
    assert bid.prices[0].quantity == Decimal("12")


def test_macro_enabled_workbook_is_read_with_a_warning(rfp: Rfp, template: Path, tmp_path: Path) -> None:
    filled = fill_bid_workbook(template, tmp_path / "filled.xlsx", GOOD)
    path = _rewrite(filled, tmp_path / "acme.xlsm", {}, add={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0" + bytes(508)})
    bid = read_both(path, rfp)
    assert bid.warnings == (MACRO_WARNING,)
    assert bid.vendor_id == "acme"


def test_huge_cell_is_refused(rfp: Rfp, template: Path, tmp_path: Path) -> None:
    data = {**GOOD, "company": {**GOOD["company"], "vendor_name": "A" * 32767}}
    filled = fill_bid_workbook(template, tmp_path / "filled.xlsx", data)  # openpyxl and xlsxwriter stop at 32,767
    with zipfile.ZipFile(filled) as zf:
        sheet = zf.read("xl/worksheets/sheet2.xml")
    path = _rewrite(filled, tmp_path / "acme.xlsx",
                    {"xl/worksheets/sheet2.xml": sheet.replace(b"A" * 32767, b"A" * 1_000_000)})
    for reader in READERS:
        assert refusal(path, rfp, reader) == [(
            "Company!B4", "vendor name is 1,000,000 characters long, more than the 32,767 a spreadsheet cell can "
                          "hold; the file was not saved by a spreadsheet program — ask the vendor to send the "
                          "workbook again")]


# ---------------------------------------------------------------------------
# Vendor text is data
# ---------------------------------------------------------------------------


def test_formula_like_vendor_text_is_read_as_text(rfp: Rfp, template: Path, tmp_path: Path) -> None:
    evil = "=cmd|' /C calc'!A0"
    data = {**GOOD, "company": {**GOOD["company"], "vendor_name": evil, "contact_name": "@SUM(1+1)*cmd|' /C calc'!A0"},
            "answers": {**GOOD["answers"], "Q3": {"answer": "Yes", "comment": "+1+1", "evidence": "-2"}}}
    for path in (fill_bid_workbook(template, tmp_path / "acme.xlsx", data),
                 write_vendor_workbook(tmp_path / "acme2.xlsx", rfp, data)):
        with zipfile.ZipFile(path) as zf:
            company = next(n for n in zf.namelist() if n.endswith("sheet2.xml"))
            assert b"<f>" not in zf.read(company)  # the vendor's text was written as text
        bid = read_both(path, rfp)
        assert bid.vendor_name == evil
        assert bid.fields["contact_name"] == "@SUM(1+1)*cmd|' /C calc'!A0"
        assert bid.answer("Q3") == Answer("Q3", "Yes", "+1+1", "-2", "Questionnaire!D6")


def test_buyer_text_is_never_a_formula(rfp: Rfp, tmp_path: Path) -> None:
    tricky = rehash(
        rfp,
        title="=HYPERLINK(\"http://x\")",
        questionnaire=(Question("Q1", "=1+1 is two?", True, ("=Yes", "No, \"never\"")),),
        line_items=(LineItem("L1", "+44 hotline", "@seat", Decimal("2.5")),),
    )
    path = write_bid_workbook(tricky, tmp_path / "tricky.xlsx")
    with zipfile.ZipFile(path) as zf:
        sheets = {n: zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/worksheets/")}
    formulas = [f for text in sheets.values() for f in re.findall(r"<f>(.*?)</f>", text)]
    assert formulas == ['IF(ISNUMBER(E4),D4*E4,"")', "SUM(F4:F4)"]
    wb = openpyxl.load_workbook(path)
    assert wb["Questionnaire"]["B4"].value == "=1+1 is two?"
    assert wb["Instructions"]["A1"].value.endswith('=HYPERLINK("http://x")')
    assert wb["Pricing"]["D4"].value == 2.5
    # choices with a comma or a quote cannot be an inline list: they are a range of the metadata sheet
    [validation] = wb["Questionnaire"].data_validations.dataValidation
    assert validation.formula1 == "'_rfpflow'!$B$10:$C$10"
    assert [c.value for c in wb["_rfpflow"][10]][:3] == ["choices", "=Yes", 'No, "never"']
    data = {"company": {"vendor_name": "Acme"}, "answers": {"Q1": "=yes"}, "prices": {"L1": 3}}
    bid = read_both(fill_bid_workbook(path, tmp_path / "acme.xlsx", data), tricky)
    assert bid.answers[0].answer == "=Yes"
    assert bid.total_price == Decimal("7.5")


# ---------------------------------------------------------------------------
# The generated workbook
# ---------------------------------------------------------------------------


def _cells(ws: Any) -> Iterator[Any]:
    for row in ws.iter_rows(min_row=1, max_row=ws.max_row + 3, max_col=ws.max_column + 2):
        yield from row


def test_generated_workbook_structure(rfp: Rfp, template: Path) -> None:
    wb = openpyxl.load_workbook(template)
    assert wb.sheetnames == ["Instructions", "Company", "Certifications", "Questionnaire", "Pricing", "_rfpflow"]
    assert wb.active.title == "Instructions"
    inputs: dict[str, list[str]] = {}
    for ws in wb.worksheets:
        assert ws.protection.sheet, ws.title
        assert not ws.protection.password, ws.title
        unlocked = [c.coordinate for c in _cells(ws) if not c.protection.locked]
        yellow = [c.coordinate for c in _cells(ws) if c.fill.fgColor.rgb == INPUT_FILL]
        assert unlocked == yellow, ws.title  # input cells are exactly the yellow, unlocked ones
        inputs[ws.title] = unlocked
    assert inputs["Company"] == [f"B{r}" for r in range(4, 14)]
    assert inputs["Certifications"] == [f"{c}{r}" for r in range(4, 14) for c in "ABC"]
    assert inputs["Questionnaire"] == [f"{c}{r}" for r in range(4, 7) for c in "DEF"]
    assert inputs["Pricing"] == ["E4", "G4", "E5", "G5"]
    assert inputs["Instructions"] == inputs["_rfpflow"] == []

    validations = wb["Questionnaire"].data_validations.dataValidation
    lists = {str(v.sqref): (v.type, v.formula1, v.showErrorMessage) for v in validations}
    assert lists == {"D4 D5": ("list", '"Yes,No"', True), "D6": ("list", '"Yes,No,Partly"', True)}

    pricing = wb["Pricing"]
    assert pricing["F4"].value == '=IF(ISNUMBER(E4),D4*E4,"")'
    assert pricing["A6"].value == "Total"
    assert pricing["F6"].value == "=SUM(F4:F5)"
    assert [pricing[f"D{r}"].value for r in (4, 5)] == [12, 1]

    meta = wb["_rfpflow"]
    assert meta.sheet_state == "veryHidden"
    values = {meta.cell(row=r, column=1).value: meta.cell(row=r, column=2).value for r in range(1, 7)}
    assert values["rfp_id"] == "RFP-2027-001"
    assert values["definition_hash"] == rfp.definition_hash
    assert values["format"] == 1
    assert values["language"] == "en"
    assert wb.properties.created == wb.properties.modified == dt.datetime(2027, 1, 4)


def test_generated_workbook_is_deterministic(rfp: Rfp, tmp_path: Path) -> None:
    first = write_bid_workbook(rfp, tmp_path / "a.xlsx").read_bytes()
    assert write_bid_workbook(rfp, tmp_path / "b.xlsx").read_bytes() == first
    with zipfile.ZipFile(tmp_path / "a.xlsx") as zf:
        assert {info.date_time for info in zf.infolist()} == {(2027, 1, 4, 0, 0, 0)}
    # another process, another hash seed, another second: the same bytes
    script = (
        "import sys; from pathlib import Path\n"
        "from tests.test_bid_workbooks import load_generic\n"
        "from rfpflow.spreadsheets.bid_writer import write_bid_workbook\n"
        "out = Path(sys.argv[1])\n"
        "write_bid_workbook(load_generic(out.parent / 'ws2', 'en'), out)\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "c.xlsx")], env=env, cwd=root, check=True,
                   timeout=120)
    assert (tmp_path / "c.xlsx").read_bytes() == first
    assert fixed_timestamp(attrs.evolve(rfp, timeline=attrs.evolve(rfp.timeline, issue_date=None))) == dt.datetime(
        2000, 1, 1)


def test_many_line_items_and_no_questions(rfp: Rfp, tmp_path: Path) -> None:
    items = tuple(LineItem(f"L{i}", f"Item {i}", "pcs", Decimal(i)) for i in range(1, 301))
    big = rehash(rfp, line_items=items, questionnaire=())
    template = write_bid_workbook(big, tmp_path / "t.xlsx")
    data = {"company": {"vendor_name": "Acme"}, "prices": {f"L{i}": i / 4 for i in range(1, 301)}}
    bid = read_both(fill_bid_workbook(template, tmp_path / "acme.xlsx", data), big)
    assert len(bid.prices) == 300
    assert bid.total_price == sum(Decimal(i) * Decimal(str(i / 4)) for i in range(1, 301))
    assert bid.prices[-1].cell == "Pricing!E303"
    assert bid.answers == ()


# ---------------------------------------------------------------------------
# Hooks and vendor ids
# ---------------------------------------------------------------------------


def test_hooks_claim_xlsx_only(rfp: Rfp, template: Path, tmp_path: Path) -> None:
    host = host_with_plugin()
    context = RunContext(host=host, actor="test")
    assert xlsx_bids.rfpflow_write_bid_workbook(rfp, tmp_path / "bid.csv", context) is None
    assert xlsx_bids.rfpflow_read_bids(tmp_path / "bids.csv", rfp, context) is None
    written = host.first("rfpflow_write_bid_workbook", Path, rfp=rfp, target=tmp_path / "blank.xlsx",
                         context=context)
    assert written == tmp_path / "blank.xlsx"
    assert written.read_bytes() == template.read_bytes()
    (tmp_path / "bids").mkdir()
    path = fill_bid_workbook(written, tmp_path / "bids" / "Acme Ltd.XLSX", GOOD)
    bids = host.first("rfpflow_read_bids", list, source=path, rfp=rfp, context=context)
    assert bids is not None
    assert [b.vendor_id for b in bids] == ["acme"]  # from the vendor's name, not the file's
    csv = "Item,Price,Comment\nL1,5,fine\nL2,7,fine\nL3,9,see note\n"
    (tmp_path / "bids" / "broken.xlsx").write_text(csv, encoding="utf-8")
    with pytest.raises(InputFileError, match="CSV"):
        host.first("rfpflow_read_bids", list, source=tmp_path / "bids" / "broken.xlsx", rfp=rfp, context=context)


def test_reader_option_in_rfp_toml(rfp: Rfp, template: Path, tmp_path: Path) -> None:
    path = fill_bid_workbook(template, tmp_path / "acme.xlsx", GOOD)
    context = RunContext(host=host_with_plugin(), actor="test")
    for reader in ("openpyxl", "fast", "nonsense"):
        configured = attrs.evolve(rfp, plugin_options={"xlsx_bids": {"reader": reader}})
        [bid] = xlsx_bids.rfpflow_read_bids(path, configured, context) or []
        assert bid.vendor_name == "Acme Hotline Services Ltd."
    with pytest.raises(ValueError, match="reader must be one of"):
        read_bid_workbook(path, rfp, reader="calamine")


@pytest.mark.parametrize(("file_name", "vendor_name", "expected"), [
    ("bid.xlsx", "Acme Hotline Services Ltd.", "acme"),
    ("Alpha IT - revised bid (final).xlsx", "Alpha IT Services Ltd", "alpha"),
    ("x.xlsx", "Société Générale SA", "societe"),
    ("x.xlsx", "ＡＣＭＥ　Ｌｔｄ", "acme"),
    ("x.xlsx", "The Ltd Co", "vendor"),
    ("阿尔法.xlsx", "华为技术有限公司", "vendor"),
    ("acme.xlsx", "华为技术有限公司", "vendor"),
])
def test_vendor_id_rule(file_name: str, vendor_name: str, expected: str) -> None:
    """The reader's id comes from the vendor's name, never from the file name."""
    vendor_id = vendor_id_for(file_name, "91350100M000100Y43", vendor_name)
    assert vendor_id == expected
    assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", vendor_id)


def _rewrite(src: Path, dst: Path, replace: Mapping[str, bytes], add: Mapping[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, replace.get(info.filename, zin.read(info)))
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return dst


# ---------------------------------------------------------------------------
# [import.mapping]: a vendor's own layout
# ---------------------------------------------------------------------------

MAPPING = {
    "company": {"sheet": "供应商信息", "vendor_name": ["公司名称", "投标人"], "registration_no": "信用代码"},
    "pricing": {"sheet": "报价单", "item_id": "序号", "unit_price": "单价(元)", "quantity": "数量"},
    "questionnaire": {"sheet": "技术响应", "id": "条款", "answer": "是否满足"},
}


def _own_layout(path: Path, *, price: object = 82000) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "供应商信息"
    ws["A1"] = "投标人基本情况"
    ws.merge_cells("A3:B3")
    ws["A3"] = "公司名称："  # a merged label; the value follows in the next filled cell
    ws["C3"] = "福州示例呼叫中心有限公司"
    ws["A4"] = "信用代码"
    ws["B4"] = "91350100M000100Y43"
    ws["A5"] = "成立年份"
    ws["B5"] = 2015
    prices = wb.create_sheet("报价单")
    prices.append(["报价明细"])
    prices.append(["序号", "服务内容", "数量", "单价(元)", "合价"])
    prices.append(["L2", "上线与知识转移", 1, 15000, "=C3*D3"])
    prices.append(["L1", "热线坐席", 12, price, "=C4*D4"])
    answers = wb.create_sheet("技术响应")
    answers.append(["条款", "要求", "是否满足"])
    answers.append(["Q1", "...", "是"])
    answers.append(["Q2", "...", "满足"])
    wb.save(path)
    return path


def test_vendor_layout_is_read_through_the_mapping(rfp: Rfp, tmp_path: Path) -> None:
    mapped = rehash(rfp, import_mapping=MAPPING)
    path = _own_layout(tmp_path / "fuzhou.xlsx")
    problems = refusal(path, mapped)
    assert problems == [("技术响应!C3", 'answer "满足" to Q2 is not one of the choices (Yes, No)')]
    wb = openpyxl.load_workbook(path)
    wb["技术响应"]["C3"] = "yes"
    wb.save(path)
    bid = read_both(path, mapped)
    assert bid.vendor_name == "福州示例呼叫中心有限公司"
    assert dict(bid.cells) == {"vendor_name": "供应商信息!C3", "registration_no": "供应商信息!B4",
                               "year_established": "供应商信息!B5"}
    assert [(p.item_id, p.unit_price, p.cell) for p in bid.prices] == [
        ("L1", Decimal("82000"), "报价单!D4"), ("L2", Decimal("15000"), "报价单!D3")]
    assert bid.warnings[0].startswith("no rfpflow metadata sheet: read through [import.mapping]")
    assert "the workbook has no Certifications sheet: no certificates declared" in bid.warnings
    without = refusal(path, rfp)
    assert without[0][1].startswith("is not an rfpflow bid-response workbook for RFP RFP-2027-001")


def test_vendor_layout_problems_name_the_vendors_cells(rfp: Rfp, tmp_path: Path) -> None:
    mapped = rehash(rfp, import_mapping=MAPPING)
    path = _own_layout(tmp_path / "fuzhou.xlsx", price="待定")
    assert refusal(path, mapped) == [
        ("技术响应!C3", 'answer "满足" to Q2 is not one of the choices (Yes, No)'),
        ("报价单!D4", 'unit price "待定" is not a number'),
    ]


def test_mapping_is_validated(rfp: Rfp) -> None:
    context = RunContext(host=host_with_plugin(), actor="test")
    bad = attrs.evolve(rfp, import_mapping={
        "pricing": {"sheet": "报价单", "unit_pric": "单价", "item_id": 7},
        "prices": {"sheet": "x"},
        "company": "供应商信息",
    }, plugin_options={"xlsx_bids": {"reader": "calamine"}})
    problems = xlsx_bids.rfpflow_validate_rfp(bad, context) or []
    assert [(p.field, p.message) for p in problems] == [
        ("import.mapping.pricing.unit_pric", "unknown key 'unit_pric' (did you mean 'unit_price'?); pricing accepts "
                                             "comment, description, item_id, line_total, quantity, sheet, unit, "
                                             "unit_price"),
        ("import.mapping.pricing.item_id", "must be a text or a list of texts (the names as the vendor wrote them)"),
        ("import.mapping.prices", "unknown table 'prices' (did you mean 'pricing'?); the mapping has company, "
                                  "certifications, questionnaire, pricing"),
        ("import.mapping.company", "must be a table of sheet, column and label names"),
        ("plugins.xlsx_bids.reader", "must be one of fast, openpyxl, got 'calamine'"),
    ]
    assert xlsx_bids.rfpflow_validate_rfp(rfp, context) is None


def test_numbers_no_spreadsheet_holds_are_refused(rfp: Rfp, template: Path, tmp_path: Path) -> None:
    filled = fill_bid_workbook(template, tmp_path / "filled.xlsx", GOOD)
    with zipfile.ZipFile(filled) as zf:
        pricing = zf.read("xl/worksheets/sheet5.xml")
        company = zf.read("xl/worksheets/sheet2.xml")
        certs = zf.read("xl/worksheets/sheet3.xml")
    pricing = pricing.replace(b"<v>82000</v>", b"<v>1e400</v>").replace(b"<v>15000.25</v>", b"<v>1" + b"0" * 400
                                                                         + b"</v>")
    company = company.replace(b"<v>5000000</v>", b"<v>1E+25</v>")
    certs = re.sub(rb'<c r="C4"[^>]*><v>[^<]*', b'<c r="C4"><v>' + b"9" * 401, certs)  # a plain number cell
    path = _rewrite(filled, tmp_path / "acme.xlsx", {"xl/worksheets/sheet5.xml": pricing,
                                                     "xl/worksheets/sheet2.xml": company,
                                                     "xl/worksheets/sheet3.xml": certs})
    too_large = "is too large: a spreadsheet keeps 15 digits, so it cannot hold this amount exactly; check the cell"
    for reader in READERS:
        problems = refusal(path, rfp, reader)
        assert problems == [
            ("Company!B8", f"registered capital 1.000000E+25 {too_large}"),
            ("Certifications!C4", 'expiry date "9999999999999999999999999999999999999..." is not a date; write the '
                                  "date as YYYY-MM-DD"),
            ("Pricing!E4", "unit price inf is not a number"),
            ("Pricing!E5", f"unit price 1.000000E+400 {too_large}"),
        ], reader
