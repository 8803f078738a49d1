"""The price comparison (bid tabulation): one row per price line, one column per vendor.

Made from the cycle view (so prices stay sealed by the view's one rule: while they are sealed
there is no comparison). For each line: every vendor's quantity, unit price and line total, the
lowest price, each vendor's deviation from the median unit price (flagged beyond the RFP's
threshold, ``[bids] price_deviation``, default 30%), missing or zero prices, and what the vendor
wrote beside the price (its comment and the columns it added), flagged when it may change what
the price means (tax, discounts, options, exclusions).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from statistics import median
from typing import Any

from rfpflow.bids import flag_text

__all__ = ["DEFAULT_DEVIATION", "price_comparison"]

#: The default flag: a unit price more than 30% above or below the line's median.
DEFAULT_DEVIATION = 0.30


def _decimal(value: object) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def price_comparison(view: Mapping[str, Any]) -> dict[str, Any] | None:
    """The comparison of the bids in ``view`` (None while prices are sealed or without price lines)."""
    if view.get("prices_sealed"):
        return None
    rfp = view.get("rfp") or {}
    items = list(rfp.get("line_items") or [])
    vendors = [v for v in view.get("vendors") or []
               if v.get("status", "received") == "received" and isinstance(v.get("bid"), dict)
               and v["bid"].get("prices") is not None]
    if not items or not vendors:
        return None
    vendors = sorted(vendors, key=lambda v: str(v["id"]))
    threshold = rfp.get("price_deviation")
    threshold = DEFAULT_DEVIATION if threshold is None else float(threshold)
    extra_columns: dict[str, None] = {}
    rows: list[dict[str, Any]] = []
    totals: dict[str, Decimal] = {str(v["id"]): Decimal(0) for v in vendors}
    for item in items:
        item_id = str(item["id"])
        cells: dict[str, dict[str, Any]] = {}
        prices: dict[str, Decimal] = {}
        for vendor in vendors:
            vid = str(vendor["id"])
            line = next((p for p in vendor["bid"]["prices"] if p.get("item") == item_id), None)
            if line is None:
                cells[vid] = {"missing": True, "zero": False, "quantity": None, "unit_price": None,
                              "line_total": None, "comment": "", "extras": {}, "flag_comment": False,
                              "lowest": False, "deviation": None, "flag_deviation": False}
                continue
            unit = _decimal(line.get("unit_price")) or Decimal(0)
            total = _decimal(line.get("line_total")) or Decimal(0)
            extras = dict(line.get("extras") or {})
            for key in extras:
                extra_columns.setdefault(str(key), None)
            comment = str(line.get("comment") or "")
            cells[vid] = {
                "missing": False, "zero": unit == 0, "quantity": line.get("quantity"),
                "unit_price": _text(unit), "line_total": _text(total), "comment": comment, "extras": extras,
                "flag_comment": flag_text(comment) or any(flag_text(f"{k} {v}") for k, v in extras.items()),
                "lowest": False, "deviation": None, "flag_deviation": False,
            }
            totals[vid] += total
            if unit > 0:
                prices[vid] = unit
        middle = Decimal(str(median(prices.values()))) if prices else None
        lowest = min(prices.values()) if prices else None
        for vid, unit in prices.items():
            cell = cells[vid]
            cell["lowest"] = unit == lowest
            if middle:
                deviation = float((unit - middle) / middle)
                cell["deviation"] = round(deviation, 4)
                cell["flag_deviation"] = abs(deviation) > threshold + 1e-12
        rows.append({
            "item": item_id, "description": str(item.get("description") or ""), "unit": str(item.get("unit") or ""),
            "quantity": str(item.get("quantity") or ""),
            "median_unit_price": None if middle is None else _text(middle),
            "lowest_unit_price": None if lowest is None else _text(lowest),
            "lowest_vendors": sorted(v for v, p in prices.items() if p == lowest),
            "cells": cells,
        })
    return {
        "threshold": threshold,
        "currency": rfp.get("currency"),
        "vendors": [{"id": str(v["id"]), "name": str(v["name"]), "total": _text(totals[str(v["id"])])}
                    for v in vendors],
        "rows": rows,
        "extra_columns": list(extra_columns),
        "flags": sum(1 for r in rows for c in r["cells"].values()
                     if c["missing"] or c["zero"] or c["flag_comment"] or c["flag_deviation"]),
    }
