"""What the exporters share: reading the cycle view, sealing prices, writing files.

The exporters (:mod:`~rfpflow.builtins.export_xlsx`,
:mod:`~rfpflow.builtins.export_json`, :mod:`~rfpflow.builtins.export_ocds`)
are pure functions of the cycle view (``rfpflow.workflow.cycle_view``, plain
JSON data; its shape is the one of ``tests/view_fixture.py``). They never read
the clock: every date they write comes from the view, so exporting the same
view twice gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from rfpflow.documents.view import SEALED_REASON as SEALED_REASON
from rfpflow.documents.view import seal_prices
from rfpflow.documents.view import sealed as sealed  # re-exported for the exporters
from rfpflow.errors import RfpflowError

#: Used for file timestamps when the view has no ``as_of`` (no event recorded yet).
EPOCH = dt.datetime(1980, 1, 1, tzinfo=dt.UTC)


def export_view(view: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``view`` safe to export (see :func:`rfpflow.documents.view.seal_prices`).

    ``cycle_view`` already seals prices; the exporters apply the same rule
    again so that no export can leak a price even from a view built another way.
    """
    return seal_prices(view)


def number(value: Any) -> int | float | None:
    """A JSON number from a view value (``"1080000.00"``, ``12``, ``0.5``); None when blank.

    Whole numbers come back as ``int`` so that ``"12"`` is written ``12``, not ``12.0``.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str) and not value.strip():
        return None
    try:
        exact = Decimal(str(value).strip())
    except InvalidOperation:
        raise RfpflowError(f"export: {value!r} is not a number") from None
    if not exact.is_finite():
        raise RfpflowError(f"export: {value!r} is not a finite number")
    if exact == exact.to_integral_value():
        return int(exact)
    return float(exact)


def as_of(view: Mapping[str, Any]) -> dt.datetime | None:
    """The view's ``as_of`` as an aware date-time (naive values are UTC), or None when blank."""
    text = view.get("as_of") or ""
    if not text:
        return None
    return parse_datetime(str(text), dt.UTC)


def parse_datetime(text: str, tz: dt.tzinfo, *, end_of_day: bool = False) -> dt.datetime:
    """An ISO date or date-time as an aware date-time.

    A bare date is taken in ``tz`` at the start of the day, or at 23:59:59
    with ``end_of_day`` (deadlines and period ends written as dates).
    """
    text = text.strip()
    try:
        if "T" not in text and " " not in text and len(text) <= 10:
            day = dt.date.fromisoformat(text)
            moment = dt.time(23, 59, 59) if end_of_day else dt.time(0)
            return dt.datetime.combine(day, moment, tzinfo=tz)
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise RfpflowError(f"export: {text!r} is not an ISO date or date-time") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.replace(microsecond=0)


def by_id(items: Sequence[Mapping[str, Any]] | None) -> dict[str, Mapping[str, Any]]:
    return {str(item.get("id")): item for item in items or []}


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_bytes(target: Path, data: bytes) -> Path:
    """Write ``data`` to ``target`` all at once (a temporary file renamed), making its folder."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
