"""Reading cell values the way people type them, and writing text back safely.

Vendors fill in the bid workbook by hand, in Excel, WPS or LibreOffice, in
whatever locale their computer has. A price arrives as the number 1234.5, as
the text ``"1,234.50"``, as ``"¥1,234.50"``, as ``"１２３４．５"`` typed with a
Chinese input method, or with a non-breaking space pasted from a web page.
The functions here accept all of those and return exact values, and refuse
whatever is ambiguous rather than guess: ``"1.234,50"`` is 1234.50 in Germany
and nonsense in China, so unless rfp.toml declares comma decimals it is
refused with a message saying so. A wrong guess in a price comparison is far
worse than a question sent back to the vendor.

Every parser takes the raw value a workbook reader returns (``str``, ``int``,
``float``, ``bool``, ``Decimal``, ``datetime``, ``date``, ``time`` or
``None``) and a ``label`` (``"unit price"``), and either returns a value or
raises :class:`CellValueError` whose message a procurement officer
understands, e.g. ``unit price "abc" is not a number``. The caller knows the
file, sheet and cell and wraps the message in a :class:`rfpflow.errors.Problem`.
A blank cell (``None``, empty or whitespace-only text) raises the subclass
:class:`MissingValue`, so the caller decides whether blank is allowed.

Numbers are :class:`decimal.Decimal`, never ``float``: money must be exact.
Floats from a reader are rounded to 15 significant digits -- the precision
Excel itself displays and stores -- so ``1234.5`` is ``Decimal("1234.5")``
and the artefact ``0.1 + 0.2`` is ``Decimal("0.3")``.

Writing vendor text back into a spreadsheet (reports, comparison sheets)
must not turn ``=cmd|' /C calc'!A0`` typed by a vendor into a formula on the
evaluator's computer (CSV/formula injection). Two tools:

* :func:`write_text` for openpyxl: the cell keeps the vendor's exact text but
  is forced to the string type, so openpyxl writes it as a string and never as
  a ``<f>`` formula (nor as an error value such as ``#N/A``), and text that
  looks like a formula also gets Excel's *quote prefix* style, so that editing
  the cell in Excel (F2, Enter) keeps it text instead of evaluating it.
* :func:`safe_cell_text` for CSV and other plain-text exports, where no type
  can be attached: following the OWASP CSV-injection guidance, text that
  starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (or a line
  feed) gets a leading apostrophe, which spreadsheet programs take as "this is
  text". The check also looks past leading spaces and invisible characters and
  at full-width ``＝＋－＠``, because some programs trim spaces on import or
  convert full-width characters, and an apostrophe before harmless text costs
  nothing. The visible price of this rule is that text such as ``-2`` or
  ``- see annex`` gains an apostrophe; write numbers as numbers, not as text.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

__all__ = [
    "AmbiguousValue",
    "CellValue",
    "CellValueError",
    "MissingValue",
    "clean_text",
    "is_blank",
    "is_formula_like",
    "parse_date",
    "parse_integer",
    "parse_number",
    "parse_text",
    "parse_yes_no",
    "safe_cell_text",
    "write_text",
]

CellValue = str | int | float | bool | Decimal | datetime | date | time | None
"""What a workbook reader hands over for one cell."""


class CellValueError(ValueError):
    """A cell's value cannot be read as what is asked; the message says why in
    plain words and names the value, the caller adds file, sheet and cell."""


class MissingValue(CellValueError):
    """The cell is blank (``None``, empty or only spaces)."""


class AmbiguousValue(CellValueError):
    """The value can be read in more than one way (``1.234,50``, ``03/04/2026``)."""


# ---------------------------------------------------------------------------
# Text cleaning
# ---------------------------------------------------------------------------

# Invisible characters that sneak in when text is pasted from web pages, PDFs
# or chat programs: zero-width space/non-joiner/joiner, left-to-right and
# right-to-left marks, bidi embeddings and overrides (U+202A-U+202E, which can
# make "txt.exe" display as "exe.txt"), bidi isolates (U+2066-U+2069), the
# word joiner, the Arabic letter mark and the byte-order mark.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\u061c\ufeff]")

# Control characters that XML 1.0 (and therefore .xlsx) cannot store.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def clean_text(text: str) -> str:
    """Remove invisible and bidi-control characters; keep everything else."""
    return _INVISIBLE.sub("", text)


def is_blank(value: CellValue) -> bool:
    """``True`` for ``None`` and for text that is empty once spaces and
    invisible characters are removed."""
    if value is None:
        return True
    return isinstance(value, str) and not clean_text(value).strip()


def _shown(value: object) -> str:
    """The value as quoted in a message: text in quotes, cut when long."""
    if isinstance(value, str):
        text = clean_text(value).strip()
        if len(text) > 40:
            text = text[:37] + "..."
        return f'"{text}"'
    if isinstance(value, float):
        return _float_text(value) if math.isfinite(value) else repr(value)
    text = str(value)
    return _shown(text) if len(text) > 40 else text  # a 400-digit number is quoted and cut like text


def _normalised(text: str) -> str:
    """Text for parsing: invisibles removed, full-width and compatibility
    characters folded to ASCII (NFKC), spaces collapsed and trimmed."""
    text = unicodedata.normalize("NFKC", clean_text(text))
    text = text.replace("\u2212", "-")  # MINUS SIGN, used by Word and PDFs
    return re.sub(r"\s+", " ", text).strip()


# ---------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------

# Currency markers and the currencies they may stand for. "¥" is both the
# yuan and the yen; "$" is written for several dollars.
_CURRENCY_MARKERS: dict[str, frozenset[str]] = {
    "¥": frozenset({"CNY", "JPY"}),
    "元": frozenset({"CNY"}),
    "圆": frozenset({"CNY"}),
    "人民币": frozenset({"CNY"}),
    "RMB": frozenset({"CNY"}),
    "CNY": frozenset({"CNY"}),
    "$": frozenset({"USD", "HKD", "TWD", "SGD", "AUD", "CAD", "NZD"}),
    "US$": frozenset({"USD"}),
    "USD": frozenset({"USD"}),
    "美元": frozenset({"USD"}),
    "HK$": frozenset({"HKD"}),
    "HKD": frozenset({"HKD"}),
    "港币": frozenset({"HKD"}),
    "NT$": frozenset({"TWD"}),
    "TWD": frozenset({"TWD"}),
    "S$": frozenset({"SGD"}),
    "SGD": frozenset({"SGD"}),
    "A$": frozenset({"AUD"}),
    "AUD": frozenset({"AUD"}),
    "C$": frozenset({"CAD"}),
    "CAD": frozenset({"CAD"}),
    "€": frozenset({"EUR"}),
    "EUR": frozenset({"EUR"}),
    "欧元": frozenset({"EUR"}),
    "£": frozenset({"GBP"}),
    "GBP": frozenset({"GBP"}),
    "英镑": frozenset({"GBP"}),
    "JPY": frozenset({"JPY"}),
    "円": frozenset({"JPY"}),
    "日元": frozenset({"JPY"}),
    "₩": frozenset({"KRW"}),
    "KRW": frozenset({"KRW"}),
    "₹": frozenset({"INR"}),
    "INR": frozenset({"INR"}),
    "CHF": frozenset({"CHF"}),
}
# Longest first so that "US$" wins over "$" and "人民币" is one marker.
_CURRENCY_ALTERNATION = "|".join(re.escape(m) for m in sorted(_CURRENCY_MARKERS, key=len, reverse=True))
_CURRENCY_PREFIX = re.compile(rf"^(?:{_CURRENCY_ALTERNATION})", re.IGNORECASE)
_CURRENCY_SUFFIX = re.compile(rf"(?:{_CURRENCY_ALTERNATION})$", re.IGNORECASE)

# Chinese magnitude words: 1.2万 is 12 000, 3亿 is 300 000 000.
_MULTIPLIERS = {"万": 4, "萬": 4, "亿": 8, "億": 8}

_EUROPEAN_HINT = (
    "looks like a European number format (comma as decimal separator); "
    "write it as {example} (rfp.toml's decimal_comma = true accepts such numbers, but only if it is set "
    "before the RFP is issued)"
)


def _float_text(value: float) -> str:
    """A finite float as Excel shows it: 15 significant digits, no exponent,
    no trailing ``.0``."""
    return _decimal_text(_float_to_decimal(value))


def _float_to_decimal(value: float) -> Decimal:
    # 15 significant digits is what Excel keeps; it also removes binary
    # artefacts (0.1 + 0.2 -> 0.3) while keeping every value typed by hand
    # (any decimal of up to 15 digits survives the round trip to a double).
    return _tidy(Decimal(format(value, ".15g")))


def _tidy(number: Decimal) -> Decimal:
    """Turn ``1.2E+4`` into ``12000`` and ``-0`` into ``0``."""
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        number = Decimal(int(number))
    if number == 0:
        number = number.copy_abs()
    return number


def _decimal_text(number: Decimal) -> str:
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _non_text_number(value: object, label: str) -> Decimal:
    if isinstance(value, bool):
        raise CellValueError(f"{label} is {'TRUE' if value else 'FALSE'}, not a number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CellValueError(f"{label} {value!r} is not a number")
        return _float_to_decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise CellValueError(f"{label} {value} is not a number")
        return value
    if isinstance(value, datetime):
        raise CellValueError(f"{label} is a date ({value:%Y-%m-%d %H:%M}), not a number")
    if isinstance(value, date):
        raise CellValueError(f"{label} is a date ({value:%Y-%m-%d}), not a number")
    if isinstance(value, time):
        raise CellValueError(f"{label} is a time of day ({value:%H:%M}), not a number")
    raise CellValueError(f"{label} {_shown(value)} is not a number")


def parse_number(
    value: CellValue,
    label: str,
    *,
    decimal_comma: bool = False,
    allow_percent: bool = False,
    currency: str | None = None,
) -> Decimal:
    """Read a number the way people type it; return an exact ``Decimal``.

    Accepted: numbers; numbers stored as text; thousands separators
    (``1,234.50``, ``1 234.50``); currency symbols and codes before or after
    (``¥1,200``, ``$980``, ``CNY 1,200``, ``1,200元``, ``EUR 5``); ``万`` and
    ``亿`` (``1.2万`` = 12000); full-width digits and punctuation; stray
    spaces including non-breaking and thin spaces; a leading apostrophe;
    a leading ``+``/``-`` or parentheses for negatives (``(1,200)``);
    exponent notation (``1.5E+3``); a trailing ``%`` only with
    ``allow_percent`` (``15%`` returns ``0.15``, the value of a cell
    formatted as a percentage; ``15`` stays ``15``).

    ``decimal_comma`` declares the comma as decimal separator (``1.234,50``
    and ``1,5``); without it a comma must be a thousands separator followed by
    groups of exactly three digits, and numbers in the other convention are
    refused as ambiguous (:class:`AmbiguousValue`) rather than guessed.

    ``currency`` (an ISO code such as ``"CNY"``) refuses values marked with a
    different currency (``$980`` when prices are asked in CNY); without it
    currency markers are ignored.

    Raises :class:`MissingValue` when blank, :class:`CellValueError` otherwise.
    """
    if value is None:
        raise MissingValue(f"{label} is blank")
    if not isinstance(value, str):
        return _non_text_number(value, label)
    return _parse_number_text(value, label, decimal_comma, allow_percent, currency)


def _parse_number_text(raw: str, label: str, decimal_comma: bool, allow_percent: bool, currency: str | None) -> Decimal:
    shown = _shown(raw)
    s = _normalised(raw)
    if s[:1] in ("'", "\u2018", "\u2019"):
        s = s[1:].strip()
    if not s:
        raise MissingValue(f"{label} is blank")

    not_a_number = CellValueError(f"{label} {shown} is not a number")
    signed = negative = False
    parentheses = False
    markers: list[str] = []
    currencies: frozenset[str] = frozenset()
    scale = 0
    percent = False
    while True:
        s = s.strip()
        if not parentheses and len(s) > 2 and s[0] == "(" and s[-1] == ")":
            parentheses = True
            s = s[1:-1]
            continue
        if len(markers) < 2:  # "人民币1200元", "¥1,200元": one before, one after
            m = _CURRENCY_PREFIX.match(s) or _CURRENCY_SUFFIX.search(s)
            if m and len(m.group(0)) < len(s):
                stands_for = _CURRENCY_MARKERS[m.group(0).upper()]
                if markers and not (stands_for & currencies):
                    raise not_a_number
                markers.append(m.group(0))
                currencies = currencies & stands_for if currencies else stands_for
                s = s[: m.start()] + s[m.end() :]
                continue
        if not signed and s[:1] in ("+", "-") and len(s) > 1:
            signed = True
            negative = s[0] == "-"
            s = s[1:]
            continue
        if not percent and s.endswith("%") and len(s) > 1:
            percent = True
            s = s[:-1]
            continue
        if not scale and s[-1:] in _MULTIPLIERS and len(s) > 1:
            scale = _MULTIPLIERS[s[-1]]
            s = s[:-1]
            continue
        break
    if negative and parentheses:
        raise CellValueError(f"{label} {shown} has both a minus sign and parentheses; write one of them")
    if percent and not allow_percent:
        raise CellValueError(f"{label} {shown} is a percentage; write the number without %")
    if markers and currency is not None and currency.upper() not in currencies:
        named = markers[0] if len(currencies) > 1 else next(iter(currencies))
        raise CellValueError(f"{label} {shown} is in {named}, but this RFP asks for amounts in {currency.upper()}")

    number = _parse_plain_number(s, label, shown, decimal_comma, not_a_number)
    if scale:
        number = number.scaleb(scale)
    if percent:
        number = number.scaleb(-2)
    if negative or parentheses:
        number = -number
    return _tidy(number)


def _parse_plain_number(s: str, label: str, shown: str, decimal_comma: bool, not_a_number: CellValueError) -> Decimal:
    """Parse digits with grouping and decimal separators (no sign, currency)."""
    point, group = (",", ".") if decimal_comma else (".", ",")
    if not s or not re.fullmatch(r"[0-9., ]*[0-9][0-9., ]*(?:[eE][+-]?[0-9]+)?", s):
        raise not_a_number

    exponent = ""
    m = re.search(r"[eE]([+-]?[0-9]+)$", s)
    if m:
        exponent = m.group(1)
        s = s[: m.start()]
        if group in s or " " in s or abs(int(exponent)) > 30:
            raise not_a_number

    # The other convention, written correctly: 1.234,50 or 1.234.567 where a
    # decimal point is expected (1,234.50 or 1,234,567 where a comma is).
    if (point in s and group in s and s.rfind(group) > s.rfind(point)) or s.count(point) > 1:
        if not re.fullmatch(rf"[0-9]{{1,3}}(?:{re.escape(point)}[0-9]{{3}})+(?:{re.escape(group)}[0-9]*)?", s):
            raise not_a_number
        if decimal_comma:
            raise AmbiguousValue(
                f"{label} {shown} looks like an English number format (point as decimal "
                "separator), but rfp.toml declares comma decimals; write it as "
                f"{_swap_separators(s)}"
            )
        raise AmbiguousValue(f"{label} {shown} " + _EUROPEAN_HINT.format(example=_swap_separators(s)))

    integer, _, fraction = s.partition(point)
    integer = integer.strip()
    fraction = fraction.strip()
    if not re.fullmatch(r"[0-9]*", fraction) or (not integer and not fraction):
        raise not_a_number
    if group in integer or " " in integer:
        separators = set(re.sub(r"[0-9]", "", integer))
        grouped = len(separators) == 1 and re.fullmatch(r"[0-9]{1,3}(?:[., ][0-9]{3})+", integer)
        if not grouped:
            if " " in separators:
                raise CellValueError(f"{label} {shown} has spaces inside the number; write it without them")
            if point not in s and decimal_comma:
                raise AmbiguousValue(
                    f"{label} {shown} is ambiguous: rfp.toml declares comma decimals, and "
                    "a point not followed by groups of three digits is no thousands "
                    "separator; write the decimals with a comma"
                )
            if point not in s:
                raise AmbiguousValue(
                    f"{label} {shown} is ambiguous: a comma not followed by groups of three "
                    "digits is no thousands separator; write the decimals with a point (rfp.toml's "
                    "decimal_comma = true accepts such numbers, but only if it is set before the RFP is issued)"
                )
            raise CellValueError(f"{label} {shown} has misplaced thousands separators; write it without them")
        integer = re.sub(r"[., ]", "", integer)
    elif not re.fullmatch(r"[0-9]*", integer):
        raise not_a_number
    text = (integer or "0") + ("." + fraction if fraction else "")
    if exponent:
        text += "E" + exponent
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regexes admit only digits
        raise not_a_number from None


def _swap_separators(s: str) -> str:
    """``1.234,50`` -> ``1234.50``, ``1,234.50`` -> ``1234,50``: the example
    in a message, in the other convention and without grouping."""
    last = max(s.rfind("."), s.rfind(","))
    if last < 0 or s.count(s[last]) > 1:  # only grouping: 1.234.567
        return re.sub(r"[^0-9]", "", s)
    integer = re.sub(r"[^0-9]", "", s[:last])
    fraction = s[last + 1 :]
    decimal_sep = "," if s[last] == "." else "."
    return f"{integer}{decimal_sep}{fraction}" if fraction else integer


def parse_integer(value: CellValue, label: str) -> int:
    """Read a whole number: ``12``, ``12.0``, ``"12"``, ``"１２"``, ``"1,200"``.

    ``12.5`` is refused as not a whole number. Raises :class:`MissingValue`
    when blank, :class:`CellValueError` otherwise.
    """
    number = parse_number(value, label)
    if number != number.to_integral_value():
        raise CellValueError(f"{label} {_shown(value)} is not a whole number")
    return int(number)


# ---------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_WEEKDAY = r"(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|rsday|urday)?\.?,?\s*"
_TIME = r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*(?:Z|[+-]\d{2}:?\d{2}))?)?"
_YMD = re.compile(rf"(\d{{4}})([-/.])(\d{{1,2}})\2(\d{{1,2}}){_TIME}", re.IGNORECASE)
_CHINESE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?")
_DMY_OR_MDY = re.compile(rf"(\d{{1,2}})([-/.])(\d{{1,2}})\2(\d{{4}}){_TIME}", re.IGNORECASE)
_TWO_DIGIT_YEAR = re.compile(r"\d{1,2}[-/. ](?:\d{1,2}|[a-z]+\.?)[-/. ]\d{2}")
_ORD = r"(?:st|nd|rd|th)?"
_D_MON_Y = re.compile(rf"(\d{{1,2}}){_ORD}[\s\-/.]*(?:of\s+)?([a-z]+)\.?[\s\-/.,]*(\d{{4}})")
_MON_D_Y = re.compile(rf"([a-z]+)\.?[\s\-/.]*(\d{{1,2}}){_ORD}[\s,\-/.]*(\d{{4}})")
_Y_MON_D = re.compile(r"(\d{4})[\s\-/.]*([a-z]+)\.?[\s\-/.]*(\d{1,2})")

_EPOCH_1900 = date(1899, 12, 30)  # serial 61 and later (after the phantom 1900-02-29)
_EPOCH_1904 = date(1904, 1, 1)
_MAX_DATE = date(9999, 12, 31)

_WRITE_ISO = "write the date as YYYY-MM-DD"


def _make_date(year: int, month: int, day: int, label: str, shown: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise CellValueError(f"{label} {shown} is not a real calendar date; {_WRITE_ISO}") from None


def _from_serial(serial: float, label: str, shown: str, date1904: bool) -> date:
    if not math.isfinite(serial):
        raise CellValueError(f"{label} {shown} is not a date")
    day = math.floor(serial)
    if date1904:
        if 0 <= day <= (_MAX_DATE - _EPOCH_1904).days:
            return _EPOCH_1904 + timedelta(days=day)
    elif day == 60:
        raise CellValueError(
            f"{label} {shown} is 1900-02-29, a day that does not exist "
            f"(a bug kept in Excel for compatibility); {_WRITE_ISO}"
        )
    elif 1 <= day < 60:
        # Excel's 1900 system counts a phantom 29 February 1900, so serials
        # before it are one day off the simple epoch.
        return date(1899, 12, 31) + timedelta(days=day)
    elif 61 <= day <= (_MAX_DATE - _EPOCH_1900).days:
        return _EPOCH_1900 + timedelta(days=day)
    raise CellValueError(f"{label} {shown} is a number that is not an Excel date; {_WRITE_ISO}")


def day_first_order(values: Iterable[object]) -> bool | None:
    """Whether a column of day/month/year dates is day-first (True), month-first (False) or unknown (None).

    One value that can only be read one way (``13.04.2027`` is day-first) decides for the whole
    column, unless another value can only be read the other way.
    """
    day_first = month_first = False
    for value in values:
        if not isinstance(value, str):
            continue
        m = _DMY_OR_MDY.fullmatch(_normalised(value).lower())
        if m:
            first, second = int(m.group(1)), int(m.group(3))
            day_first = day_first or (first > 12 >= second)
            month_first = month_first or (second > 12 >= first)
    if day_first != month_first:
        return day_first
    return None


def parse_date(value: CellValue, label: str, *, date1904: bool = False, day_first: bool | None = None) -> date:
    """Read a date.

    Accepted: ``datetime``/``date`` objects (a time of day is dropped); Excel
    serial day numbers, as numbers or numeric text of five digits, in the 1900
    date system (with its phantom 1900-02-29, serial 60, refused) or, with
    ``date1904``, the 1904 system; eight-digit numbers ``20260301``; text
    ``2026-03-01`` (optionally with a time), ``2026/3/1``, ``2026.03.01``,
    ``20260301``, ``2026年3月1日``, ``1 March 2026``, ``1st March 2026``,
    ``Mar 1, 2026``, ``01-Mar-2026``, ``2026-Mar-01`` (a leading weekday
    is ignored); and day/month/year numbers when they can only be read one way
    (``13/04/2026``, ``04/13/2026``, ``04/04/2026``).

    Refused: ``03/04/2026`` (3 April or 4 March?) unless ``day_first`` says which order the
    column uses (:func:`day_first_order`), and two-digit years, with a message asking for
    YYYY-MM-DD. Raises :class:`MissingValue` when blank.
    """
    if value is None:
        raise MissingValue(f"{label} is blank")
    shown = _shown(value)
    if isinstance(value, bool):
        raise CellValueError(f"{label} is {'TRUE' if value else 'FALSE'}, not a date")
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, time):
        raise CellValueError(f"{label} is a time of day ({value:%H:%M}), not a date")
    if isinstance(value, (int, float, Decimal)):
        try:
            number = float(value)
        except OverflowError:
            raise CellValueError(f"{label} {shown} is not a date; write the date as YYYY-MM-DD") from None
        if number.is_integer() and 19000101 <= number <= 99991231:
            return _eight_digits(str(int(number)), label, shown)
        return _from_serial(number, label, shown, date1904)
    if not isinstance(value, str):
        raise CellValueError(f"{label} {shown} is not a date")
    return _parse_date_text(value, label, shown, date1904, day_first)


def _eight_digits(s: str, label: str, shown: str) -> date:
    return _make_date(int(s[:4]), int(s[4:6]), int(s[6:]), label, shown)


def _month(name: str) -> int | None:
    return _MONTHS.get(name.lower())


def _parse_date_text(raw: str, label: str, shown: str, date1904: bool, day_first: bool | None = None) -> date:
    s = _normalised(raw)
    if s[:1] in ("'", "\u2018", "\u2019"):
        s = s[1:].strip()
    if not s:
        raise MissingValue(f"{label} is blank")
    low = s.lower()
    low = re.sub(rf"^{_WEEKDAY}", "", low)

    if re.fullmatch(r"\d{8}", low):
        return _eight_digits(low, label, shown)
    if re.fullmatch(r"\d{5}(?:\.\d+)?", low):
        return _from_serial(float(low), label, shown, date1904)
    m = _YMD.fullmatch(low)
    if m:
        return _make_date(int(m.group(1)), int(m.group(3)), int(m.group(4)), label, shown)
    m = _CHINESE.fullmatch(low)
    if m:
        return _make_date(int(m.group(1)), int(m.group(2)), int(m.group(3)), label, shown)
    m = _DMY_OR_MDY.fullmatch(low)
    if m:
        first, second, year = int(m.group(1)), int(m.group(3)), int(m.group(4))
        if first > 12 >= second:
            return _make_date(year, second, first, label, shown)
        if second > 12 >= first or first == second:
            return _make_date(year, first, second, label, shown)
        if first > 12 and second > 12:
            raise CellValueError(f"{label} {shown} is not a real calendar date; {_WRITE_ISO}")
        if day_first is not None:  # the rest of the column shows the order
            return _make_date(year, second, first, label, shown) if day_first else \
                _make_date(year, first, second, label, shown)
        a = _make_date(year, second, first, label, shown)
        b = _make_date(year, first, second, label, shown)
        raise AmbiguousValue(
            f"{label} {shown} is ambiguous: it could be {a.isoformat()} or "
            f"{b.isoformat()} (day and month order unknown); {_WRITE_ISO}"
        )
    for pattern, order in ((_D_MON_Y, "dmy"), (_MON_D_Y, "mdy"), (_Y_MON_D, "ymd")):
        m = pattern.fullmatch(low)
        if not m:
            continue
        parts = dict(zip(order, m.groups(), strict=True))
        month = _month(parts["m"])
        if month is None:
            continue
        return _make_date(int(parts["y"]), month, int(parts["d"]), label, shown)
    if _TWO_DIGIT_YEAR.fullmatch(low):
        raise CellValueError(f"{label} {shown} has a two-digit year; {_WRITE_ISO} with the full year")
    raise CellValueError(f"{label} {shown} is not a date; {_WRITE_ISO}")


# ---------------------------------------------------------------------------
# Yes / no
# ---------------------------------------------------------------------------

_YES = frozenset({"yes", "y", "true", "t", "1", "是", "是的", "有", "对", "√", "✓", "✔", "☑"})
_NO = frozenset({"no", "n", "false", "f", "0", "否", "不是", "无", "無", "没有", "沒有", "×", "✗", "✘", "✕", "☒"})


def parse_yes_no(value: CellValue, label: str) -> bool:
    """Read a yes/no answer.

    Yes: ``Yes Y True 1 是 有 √ ✓``; no: ``No N False 0 否 无 × ✗`` (and a few
    close variants), in any case and width, with stray spaces. Booleans and
    the numbers 1 and 0 are accepted too. Raises :class:`MissingValue` when
    blank, :class:`CellValueError` for anything else (``maybe``, ``x``: a lone
    cross is a tick to some people and a "no" to others).
    """
    if value is None:
        raise MissingValue(f"{label} is blank")
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, Decimal)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        s = _normalised(value).casefold().rstrip(".")
        if not s:
            raise MissingValue(f"{label} is blank")
        if s in _YES:
            return True
        if s in _NO:
            return False
    raise CellValueError(f"{label} {_shown(value)} is not Yes or No; write Yes or No (是/否)")


# ---------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------


def parse_text(value: CellValue, label: str) -> str:
    """Read text as the vendor wrote it.

    The text is kept (no case or width folding, inner spaces and line breaks
    kept) except that outer whitespace is stripped and invisible characters
    are removed: zero-width characters (U+200B-U+200D, U+2060, U+FEFF),
    direction marks (U+200E, U+200F, U+061C) and bidi embeddings, overrides
    and isolates (U+202A-U+202E, U+2066-U+2069), which can make text display
    differently from what it is. Numbers come back as their text without
    ``.0`` (``12.0`` -> ``"12"``, 15 significant digits), dates as
    ``YYYY-MM-DD``, booleans as ``TRUE``/``FALSE``. Raises
    :class:`MissingValue` when blank.
    """
    if value is None:
        raise MissingValue(f"{label} is blank")
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CellValueError(f"{label} {value!r} is not a valid value")
        return _float_text(value)
    if isinstance(value, Decimal):
        return _decimal_text(value) if value.is_finite() else str(value)
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, (date, time)):
        return value.isoformat()
    text = clean_text(value).strip()
    if not text:
        raise MissingValue(f"{label} is blank")
    return text


# ---------------------------------------------------------------------------
# Writing text back
# ---------------------------------------------------------------------------

_TRIGGERS = frozenset("=+-@\t\r\n")


def is_formula_like(text: str) -> bool:
    """``True`` when a spreadsheet program might take ``text`` for a formula.

    That is when it starts with ``= + - @``, a tab, a carriage return or a
    line feed -- also after leading spaces and invisible characters, and in
    full-width form (``＝``).
    """
    if not text:
        return False
    if text[0] in _TRIGGERS:
        return True
    rest = clean_text(text).lstrip(" \u00a0\u2000\u2001\u2002\u2003\u2009\u202f\u3000")
    if not rest:
        return False
    first = unicodedata.normalize("NFKC", rest[0])[:1]
    return first in _TRIGGERS or rest[0] == "\u2212"


def safe_cell_text(text: str) -> str:
    """Make vendor text inert for CSV and other plain-text spreadsheet exports.

    Text that :func:`is_formula_like` gets a leading apostrophe (OWASP's
    recommendation); other text is returned unchanged. The caller still
    quotes fields as CSV requires (the ``csv`` module does). For openpyxl use
    :func:`write_text`, which keeps the text exact.
    """
    return "'" + text if is_formula_like(text) else text


_CellT = TypeVar("_CellT")


def write_text(cell: _CellT, text: str) -> _CellT:
    """Write ``text`` into an openpyxl cell as a string, never as a formula.

    Sets ``cell.value`` and then forces ``cell.data_type = "s"``: openpyxl
    types a value starting with ``=`` as a formula and ``#N/A`` as an error
    when it is assigned, and writes the cell according to ``data_type``, so
    forcing it makes openpyxl write the text as a string. Formula-like text
    also gets the quote-prefix style, so editing the cell in Excel keeps it
    text. Control characters that .xlsx cannot store are removed (openpyxl
    would refuse them). Returns the cell.
    """
    target: Any = cell
    safe = _XML_ILLEGAL.sub("", text)
    target.value = safe
    target.data_type = "s"
    if is_formula_like(safe):
        target.quotePrefix = True
    return cell
