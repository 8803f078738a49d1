"""Tests for rfpflow.spreadsheets.cells: reading values the way people type them."""

from __future__ import annotations

import re
import zipfile
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rfpflow.spreadsheets.cells import (
    AmbiguousValue,
    CellValue,
    CellValueError,
    MissingValue,
    is_blank,
    is_formula_like,
    parse_date,
    parse_integer,
    parse_number,
    parse_text,
    parse_yes_no,
    safe_cell_text,
    write_text,
)

# ---------------------------------------------------------------------------
# parse_number
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1234, "1234"),
        (1234.5, "1234.5"),
        (0.1 + 0.2, "0.3"),
        (1e20, "100000000000000000000"),
        (Decimal("12.50"), "12.50"),
        ("1234.50", "1234.50"),
        ("1,234.50", "1234.50"),
        ("1,234", "1234"),
        ("1,234,567.8", "1234567.8"),
        ("1 234.50", "1234.50"),
        ("1\u00a0234.50", "1234.50"),
        ("1\u2009234", "1234"),
        ("  42  ", "42"),
        ("\u00a042\u3000", "42"),
        ("'1200", "1200"),
        ("¥1,200", "1200"),
        ("￥1,200", "1200"),
        ("$980", "980"),
        ("US$ 980", "980"),
        ("€ 12.5", "12.5"),
        ("£7", "7"),
        ("CNY 1,200", "1200"),
        ("cny1200", "1200"),
        ("RMB 1,200.00", "1200.00"),
        ("1,200元", "1200"),
        ("1200 USD", "1200"),
        ("人民币1200元", "1200"),
        ("1.2万", "12000"),
        ("1.2万元", "12000"),
        ("3亿", "300000000"),
        ("１２３", "123"),
        ("１，２３４．５", "1234.5"),
        ("(1,200)", "-1200"),
        ("（1,200）", "-1200"),
        ("(¥1,200)", "-1200"),
        ("-1,200", "-1200"),
        ("-$980", "-980"),
        ("$-980", "-980"),
        ("\u2212980", "-980"),
        ("+5", "5"),
        (".5", "0.5"),
        ("5.", "5"),
        ("1.5E+3", "1500"),
        ("-0", "0"),
        ("\u200b12\u200e", "12"),
    ],
)
def test_parse_number_accepts(raw: CellValue, expected: str) -> None:
    result = parse_number(raw, "unit price")
    assert isinstance(result, Decimal)
    assert result == Decimal(expected)
    assert str(result) == expected


def test_float_keeps_its_digits() -> None:
    assert str(parse_number(1234.5, "x")) == "1234.5"
    assert str(parse_number(19.99, "x")) == "19.99"
    assert parse_number(0.1 + 0.2, "x") == Decimal("0.3")
    assert parse_number(1e-7, "x") == Decimal("0.0000001")


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("abc", 'unit price "abc" is not a number'),
        ("12abc", "is not a number"),
        ("1-2", "is not a number"),
        ("$", "is not a number"),
        ("USD EUR 5", "is not a number"),
        ("--5", "is not a number"),
        ("-(5)", "both a minus sign and parentheses"),
        ("15%", "is a percentage"),
        ("12 34", "spaces inside the number"),
        ("1,2345.6", "misplaced thousands separators"),
        (True, "is TRUE, not a number"),
        (float("nan"), "is not a number"),
        (float("inf"), "is not a number"),
        (Decimal("NaN"), "is not a number"),
        (date(2026, 3, 1), "is a date (2026-03-01), not a number"),
        (time(10, 30), "is a time of day"),
    ],
)
def test_parse_number_refuses(raw: CellValue, fragment: str) -> None:
    with pytest.raises(CellValueError) as info:
        parse_number(raw, "unit price")
    assert fragment in str(info.value)
    assert not isinstance(info.value, MissingValue)


def test_european_format_refused_without_locale() -> None:
    with pytest.raises(AmbiguousValue) as info:
        parse_number("1.234,50", "unit price")
    message = str(info.value)
    assert "looks like a European number format" in message
    assert "rfp.toml's decimal_comma = true accepts such numbers, but only if it is set before the RFP is issued" \
        in message
    assert "1234.50" in message
    with pytest.raises(AmbiguousValue, match="European"):
        parse_number("1.234.567", "unit price")


@pytest.mark.parametrize("raw", ["1,23", "1,5", "12,3456", "1,234,5"])
def test_comma_not_followed_by_three_digits_is_ambiguous(raw: str) -> None:
    with pytest.raises(AmbiguousValue, match=r"ambiguous.*decimal_comma = true accepts such numbers"):
        parse_number(raw, "unit price")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1.234,50", "1234.50"),
        ("1,5", "1.5"),
        ("1.234", "1234"),
        ("1 234,50", "1234.50"),
        ("€ 1.234.567,89", "1234567.89"),
        ("(1.200,5)", "-1200.5"),
        ("12", "12"),
    ],
)
def test_decimal_comma(raw: str, expected: str) -> None:
    assert parse_number(raw, "unit price", decimal_comma=True) == Decimal(expected)


@pytest.mark.parametrize("raw", ["1,234.50", "1.5", "1,2,3"])
def test_decimal_comma_refuses_english_format(raw: str) -> None:
    with pytest.raises(CellValueError):
        parse_number(raw, "unit price", decimal_comma=True)


def test_percent_only_when_allowed() -> None:
    assert parse_number("15%", "discount", allow_percent=True) == Decimal("0.15")
    assert parse_number("１５％", "discount", allow_percent=True) == Decimal("0.15")
    assert parse_number("15", "discount", allow_percent=True) == Decimal("15")
    assert parse_number(0.15, "discount", allow_percent=True) == Decimal("0.15")


def test_currency_must_match_when_declared() -> None:
    assert parse_number("¥1,200", "price", currency="CNY") == 1200
    assert parse_number("1,200元", "price", currency="CNY") == 1200
    assert parse_number("1200", "price", currency="CNY") == 1200
    with pytest.raises(CellValueError, match=r'price "\$980" is in \$, but this RFP asks for amounts in CNY'):
        parse_number("$980", "price", currency="CNY")
    with pytest.raises(CellValueError, match="is in EUR"):
        parse_number("EUR 5", "price", currency="cny")


@pytest.mark.parametrize("raw", [None, "", "   ", "\u00a0", "\u200b", "'"])
def test_blank_is_missing_value(raw: str | None) -> None:
    with pytest.raises(MissingValue, match="unit price is blank"):
        parse_number(raw, "unit price")
    assert is_blank(raw) or raw == "'"


def test_missing_value_is_a_cell_value_error() -> None:
    assert issubclass(MissingValue, CellValueError)
    assert issubclass(CellValueError, ValueError)


@given(st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False))
def test_grouped_text_round_trips(value: Decimal) -> None:
    english = f"{value:,.2f}"
    assert parse_number(english, "x") == value
    european = english.replace(",", " ").replace(".", ",").replace(" ", ".")
    assert parse_number(european, "x", decimal_comma=True) == value


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15))
def test_floats_round_trip_through_text(value: float) -> None:
    number = parse_number(value, "x")
    assert parse_number(parse_text(value, "x"), "x") == number
    assert abs(float(number) - value) <= abs(value) * 1e-14


# ---------------------------------------------------------------------------
# parse_integer
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [("12", 12), (12.0, 12), ("１２", 12), (7, 7), ("1,200", 1200)])
def test_parse_integer(raw: CellValue, expected: int) -> None:
    result = parse_integer(raw, "quantity")
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize("raw", [12.5, "12.5", "twelve", True])
def test_parse_integer_refuses(raw: CellValue) -> None:
    with pytest.raises(CellValueError, match="quantity"):
        parse_integer(raw, "quantity")


def test_parse_integer_message() -> None:
    with pytest.raises(CellValueError, match=r'quantity "12\.5" is not a whole number'):
        parse_integer("12.5", "quantity")
    with pytest.raises(MissingValue):
        parse_integer(None, "quantity")


# ---------------------------------------------------------------------------
# parse_date
# ---------------------------------------------------------------------------

MARCH_1 = date(2026, 3, 1)


@pytest.mark.parametrize(
    "raw",
    [
        datetime(2026, 3, 1, 14, 30),
        date(2026, 3, 1),
        46082,
        46082.75,
        "46082",
        20260301,
        20260301.0,
        "2026-03-01",
        "2026-03-01T00:00:00",
        "2026-03-01 09:30",
        "2026/3/1",
        "2026.03.01",
        "2026-3-1",
        "20260301",
        "2026年3月1日",
        "2026 年 3 月 1 日",
        "２０２６年３月１日",
        "1 March 2026",
        "1st March 2026",
        "1 mar 2026",
        "Mar 1, 2026",
        "March 1st, 2026",
        "Sunday, 1 March 2026",
        "01-Mar-2026",
        "2026-Mar-01",
        "\u200b2026-03-01\u00a0",
    ],
)
def test_parse_date_accepts(raw: CellValue) -> None:
    assert parse_date(raw, "delivery date") == MARCH_1


def test_day_over_twelve_disambiguates() -> None:
    assert parse_date("13/03/2026", "d") == date(2026, 3, 13)
    assert parse_date("03/13/2026", "d") == date(2026, 3, 13)
    assert parse_date("13.03.2026", "d") == date(2026, 3, 13)
    assert parse_date("04/04/2026", "d") == date(2026, 4, 4)


def test_ambiguous_day_month_refused() -> None:
    with pytest.raises(AmbiguousValue) as info:
        parse_date("03/04/2026", "delivery date")
    message = str(info.value)
    assert "ambiguous" in message
    assert "2026-04-03" in message and "2026-03-04" in message
    assert "YYYY-MM-DD" in message


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("2026-02-30", "not a real calendar date"),
        ("2026-13-01", "not a real calendar date"),
        ("01-Mar-26", "two-digit year"),
        ("3/1/26", "two-digit year"),
        ("next week", "is not a date; write the date as YYYY-MM-DD"),
        ("1 Foo 2026", "is not a date"),
        ("2026", "is not a date"),
        (60, "1900-02-29"),
        (0, "not an Excel date"),
        (-5, "not an Excel date"),
        (True, "not a date"),
        (time(9), "time of day"),
        (float("nan"), "not a date"),
    ],
)
def test_parse_date_refuses(raw: CellValue, fragment: str) -> None:
    with pytest.raises(CellValueError) as info:
        parse_date(raw, "delivery date")
    assert fragment in str(info.value)


def test_excel_1900_serials_around_the_leap_bug() -> None:
    assert parse_date(1, "d") == date(1900, 1, 1)
    assert parse_date(59, "d") == date(1900, 2, 28)
    assert parse_date(61, "d") == date(1900, 3, 1)
    assert parse_date(45658, "d") == date(2025, 1, 1)
    assert parse_date(2958465, "d") == date(9999, 12, 31)


def test_excel_1904_serials() -> None:
    assert parse_date(0, "d", date1904=True) == date(1904, 1, 1)
    assert parse_date(46082 - 1462, "d", date1904=True) == MARCH_1
    assert parse_date("44620", "d", date1904=True) == MARCH_1


def test_serials_agree_with_openpyxl() -> None:
    from openpyxl.utils.datetime import from_excel

    for serial in (1, 59, 61, 1000, 45658, 46082, 80000):
        assert parse_date(serial, "d") == from_excel(serial).date()


def test_parse_date_blank() -> None:
    with pytest.raises(MissingValue, match="delivery date is blank"):
        parse_date("  ", "delivery date")


# ---------------------------------------------------------------------------
# parse_yes_no
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", ["Yes", "yes", " YES ", "Y", "y", "True", "TRUE", "是", "有", "√", "✓", "1", 1, 1.0, True, "ＹＥＳ", "Ｙ"]
)
def test_yes(raw: CellValue) -> None:
    assert parse_yes_no(raw, "compliant") is True


@pytest.mark.parametrize(
    "raw", ["No", "no", " NO ", "N", "n", "False", "否", "无", "×", "✗", "0", 0, 0.0, False, "ｎｏ"]
)
def test_no(raw: CellValue) -> None:
    assert parse_yes_no(raw, "compliant") is False


@pytest.mark.parametrize("raw", ["maybe", "x", "2", 2, "yes and no"])
def test_yes_no_refuses(raw: CellValue) -> None:
    with pytest.raises(CellValueError, match=r"compliant .* is not Yes or No"):
        parse_yes_no(raw, "compliant")


def test_yes_no_blank() -> None:
    with pytest.raises(MissingValue):
        parse_yes_no(" ", "compliant")


# ---------------------------------------------------------------------------
# parse_text
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Acme Ltd  ", "Acme Ltd"),
        ("Acme\u200b Ltd", "Acme Ltd"),
        ("\ufeffAcme", "Acme"),
        ("\u202eexe.txt\u202c", "exe.txt"),
        ("\u2066Acme\u2069", "Acme"),
        ("ＡＣＭＥ", "ＡＣＭＥ"),  # full-width kept
        ("line 1\nline 2", "line 1\nline 2"),
        (12, "12"),
        (12.0, "12"),
        (12.5, "12.5"),
        (0.1 + 0.2, "0.3"),
        (13800138000, "13800138000"),
        (Decimal("1.50"), "1.5"),
        (True, "TRUE"),
        (date(2026, 3, 1), "2026-03-01"),
        (datetime(2026, 3, 1), "2026-03-01"),
        (datetime(2026, 3, 1, 9, 30), "2026-03-01 09:30:00"),
    ],
)
def test_parse_text(raw: CellValue, expected: str) -> None:
    assert parse_text(raw, "vendor name") == expected


@pytest.mark.parametrize("raw", [None, "", "  ", "\u200b\u200c"])
def test_parse_text_blank(raw: str | None) -> None:
    with pytest.raises(MissingValue, match="vendor name is blank"):
        parse_text(raw, "vendor name")


# ---------------------------------------------------------------------------
# Writing text back
# ---------------------------------------------------------------------------

PAYLOADS = ["=cmd|' /C calc'!A0", "+1+1", "-2", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("http://x","y")']


@pytest.mark.parametrize("payload", [*PAYLOADS, " =1", "\u00a0=1", "\u200b=1", "＝1+1", "\n=1"])
def test_safe_cell_text_neutralises(payload: str) -> None:
    assert is_formula_like(payload)
    assert safe_cell_text(payload) == "'" + payload


@pytest.mark.parametrize("text", ["Acme Ltd", "1,200", "", "a=b", "email@example.com", "'quoted"])
def test_safe_cell_text_leaves_harmless_text(text: str) -> None:
    assert not is_formula_like(text)
    assert safe_cell_text(text) == text


def _sheet_xml(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        return zf.read("xl/worksheets/sheet1.xml").decode("utf-8")


def test_write_text_never_writes_a_formula(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for row, payload in enumerate([*PAYLOADS, "#N/A", "plain"], start=1):
        cell = write_text(ws.cell(row=row, column=1), payload)
        assert cell.data_type == "s"
    path = tmp_path / "out.xlsx"
    wb.save(path)

    xml = _sheet_xml(path)
    assert "<f>" not in xml and "<f " not in xml
    cells = re.findall(r"<c [^>]*?(?:/>|>.*?</c>)", xml, re.DOTALL)
    assert len(cells) == len(PAYLOADS) + 2
    for c in cells:
        assert 't="inlineStr"' in c or 't="s"' in c, c
    assert "cmd|' /C calc'!A0" in xml

    back = openpyxl.load_workbook(path).active
    assert back is not None
    assert back["A1"].value == PAYLOADS[0]
    assert back["A1"].data_type == "s"
    assert back["A1"].quotePrefix
    assert back["A2"].value == "+1+1"
    assert back["A8"].value == "#N/A" and back["A8"].data_type == "s"
    assert not back["A9"].quotePrefix


def test_write_text_removes_characters_xlsx_cannot_store() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    cell = write_text(ws["A1"], "a\x00b\x07c")
    assert cell.value == "abc"


def test_plain_openpyxl_assignment_would_write_a_formula(tmp_path: Path) -> None:
    # The reason write_text exists.
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws["A1"] = "=1+1"
    path = tmp_path / "naive.xlsx"
    wb.save(path)
    assert "<f>" in _sheet_xml(path)


@pytest.mark.parametrize("raw", ["1,234.5.6", "12.34,5", "1E999"])
def test_garbled_numbers_are_not_numbers(raw: str) -> None:
    with pytest.raises(CellValueError, match="is not a number"):
        parse_number(raw, "unit price")


def test_day_first_date_with_time() -> None:
    assert parse_date("13/3/2026 10:00", "delivery date") == date(2026, 3, 13)
