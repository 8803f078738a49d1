"""How rfpflow prints numbers, money and dates: one home for every document, reason and message.

Money is ``CNY 1,080,000.00`` (currency first, two decimals, half up); scores
have a fixed number of decimals (half up); dates are ISO, long dates are
``19 April 2027`` / ``2027年4月19日``. Nothing here reads the clock or the locale,
so the same value always prints the same way.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

#: What a missing number prints as.
MISSING = "—"

_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")


def parse_decimal(value: object) -> Decimal | None:
    """A finite Decimal from a number or numeric text (thousands separators allowed), else None."""
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        number = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def format_money(value: object, currency: str = "", *, missing: str = MISSING) -> str:
    """``CNY 1,080,000.00``; ``missing`` for no value; text that is not a number, as it is."""
    number = parse_decimal(value)
    if number is None:
        return str(value) if value not in (None, "") else missing
    return f"{currency} {format_amount(number)}".strip()


def format_amount(value: Decimal | float | int) -> str:
    """An amount without its currency: ``1,080,000.00`` (two decimals, half up, any size)."""
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    with localcontext() as wide:  # amounts beyond 28 digits must still print, not fail the document
        wide.prec = max(28, len(number.as_tuple().digits) + 4)
        return f"{number.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"


def _parse_iso(value: object) -> dt.date | dt.datetime | None:
    if isinstance(value, dt.datetime | dt.date):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if len(text) == 10:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass  # not an ISO date-time: try the other forms below
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def format_date(value: object) -> str:
    """The ISO date (``2027-01-29``) of an ISO date or date-time string, as written (no clock, no conversion)."""
    parsed = _parse_iso(value)
    if parsed is None:
        return "" if value is None else str(value)
    if isinstance(parsed, dt.datetime):
        return parsed.date().isoformat()
    return parsed.isoformat()


def format_datetime(value: object) -> str:
    """``2027-01-29 17:00 +08:00`` from an ISO date-time; a bare date is printed as a date."""
    parsed = _parse_iso(value)
    if parsed is None:
        return "" if value is None else str(value)
    if not isinstance(parsed, dt.datetime):
        return parsed.isoformat()
    text = parsed.strftime("%Y-%m-%d %H:%M")
    offset = parsed.strftime("%z")
    if offset:
        text += f" {offset[:3]}:{offset[3:]}"
    return text


def format_long_date(value: object, lang: str = "en") -> str:
    """A date for letters: ``19 April 2027`` / ``2027年4月19日``."""
    parsed = _parse_iso(value)
    if parsed is None:
        return "" if value is None else str(value)
    day = parsed.date() if isinstance(parsed, dt.datetime) else parsed
    if lang == "zh":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"


def round_half_up(value: float, digits: int) -> Decimal:
    quantum = Decimal(1).scaleb(-digits)
    return Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP)


def format_number(value: object, digits: int = 1) -> str:
    """A score with ``digits`` decimals (half up), ``—`` for a missing value."""
    if value is None or isinstance(value, bool):
        return MISSING
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if number != number or number in (float("inf"), float("-inf")):
        return MISSING
    return f"{round_half_up(number, digits):.{digits}f}"


def format_percent(value: object, digits: int = 1) -> str:
    """A fraction as a percentage: ``0.975`` -> ``97.5%``."""
    if value is None or isinstance(value, bool):
        return MISSING
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    return f"{format_number(number * 100, digits)}%"


def format_quantity(value: object) -> str:
    """A quantity as the RFP states it: ``12``, ``60,000``, ``1.5`` (no trailing zeros, nothing rounded)."""
    number = parse_decimal(value)
    if number is None:
        return MISSING if value in (None, "") else str(value)
    if number == number.to_integral_value():
        return f"{int(number):,}"
    return f"{number.normalize():,f}"
