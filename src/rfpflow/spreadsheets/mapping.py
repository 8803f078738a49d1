"""``[import.mapping]``: reading bids from vendors' own spreadsheet layouts.

Some vendors will not use the issued workbook -- a framework supplier sends its
standard price list, a state-owned company its own 报价单. rfp.toml can then
say where the bid's data is in such a workbook; names are sheet names,
column headers or field labels exactly as the vendor wrote them (compared
like every label: case, width, spaces and unit hints in parentheses ignored),
each a text or a list of texts::

    [import.mapping.company]
    sheet = "供应商信息"                    # default: Company
    vendor_name = ["公司名称", "投标人"]     # the label in front of the value
    registration_no = "统一社会信用代码"
    value_column = "内容"                   # optional: header of the values' column

    [import.mapping.pricing]
    sheet = "报价单"
    item_id = "序号"                        # column headers
    unit_price = "单价(元)"
    quantity = "数量"

    [import.mapping.questionnaire]         # keys: sheet, id, answer, comment, evidence
    [import.mapping.certifications]        # keys: sheet, name, number, expires

The names add to what the reader always accepts. A workbook without
rfpflow's metadata sheet is read through the mapping when rfp.toml has one
(with a warning that its RFP and version cannot be checked); without a
mapping it is refused. In the Company sheet of a vendor's layout the value
may simply follow its label in the same row (label, value), without a
header row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from rfpflow.errors import Problem
from rfpflow.options import suggest
from rfpflow.spreadsheets.layout import (
    CERTIFICATIONS_TABLE,
    COMPANY_FIELDS,
    PRICING_TABLE,
    QUESTIONNAIRE_TABLE,
    TableSpec,
)

__all__ = ["SECTIONS", "ImportMapping", "check_mapping", "parse_mapping"]

_TABLES: dict[str, TableSpec] = {
    "certifications": CERTIFICATIONS_TABLE,
    "questionnaire": QUESTIONNAIRE_TABLE,
    "pricing": PRICING_TABLE,
}
#: The tables of ``[import.mapping]`` and the keys each accepts.
SECTIONS: dict[str, frozenset[str]] = {
    "company": frozenset({"sheet", "value_column", *(f.key for f in COMPANY_FIELDS)}),
    **{name: frozenset({"sheet", *(c.key for c in spec.columns)}) for name, spec in _TABLES.items()},
}
_SHEETS = {"company": "Company", **{name: spec.sheet for name, spec in _TABLES.items()}}


@attrs.frozen
class ImportMapping:
    """A checked ``[import.mapping]``: extra names, by canonical sheet name."""

    sheets: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    """Canonical sheet (``Pricing``) -> the vendor's sheet names."""
    columns: Mapping[str, Mapping[str, tuple[str, ...]]] = attrs.field(factory=dict)
    """Canonical sheet -> column key -> the vendor's headers."""
    labels: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    """Company field key -> the vendor's labels."""
    value_column: tuple[str, ...] = ()
    """Headers of the column holding the company values."""


def _names(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, str) and value.strip():
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
        return tuple(value)
    return None


def check_mapping(raw: Mapping[str, Any]) -> list[Problem]:
    """Problems of an ``[import.mapping]`` table (unknown tables or keys, values that are no names)."""

    problems: list[Problem] = []
    for section, table in raw.items():
        path = f"import.mapping.{section}"
        if section not in SECTIONS:
            problems.append(Problem(f"unknown table {section!r}{suggest(section, SECTIONS)}; the mapping has "
                                    f"{', '.join(SECTIONS)}", field=path))
            continue
        if not isinstance(table, Mapping):
            problems.append(Problem("must be a table of sheet, column and label names", field=path))
            continue
        for key, value in table.items():
            if key not in SECTIONS[section]:
                problems.append(Problem(f"unknown key {key!r}{suggest(key, SECTIONS[section])}; "
                                        f"{section} accepts {', '.join(sorted(SECTIONS[section]))}",
                                        field=f"{path}.{key}"))
            elif _names(value) is None:
                problems.append(Problem("must be a text or a list of texts (the names as the vendor wrote them)",
                                        field=f"{path}.{key}"))
    return problems


def parse_mapping(raw: Mapping[str, Any]) -> ImportMapping | None:
    """The mapping of rfp.toml, or None when it has none; invalid entries
    (reported by :func:`check_mapping` at validation) are ignored."""
    if not raw:
        return None
    sheets: dict[str, tuple[str, ...]] = {}
    columns: dict[str, dict[str, tuple[str, ...]]] = {}
    labels: dict[str, tuple[str, ...]] = {}
    value_column: tuple[str, ...] = ()
    for section, table in raw.items():
        if section not in SECTIONS or not isinstance(table, Mapping):
            continue
        for key, value in table.items():
            names = _names(value)
            if names is None or key not in SECTIONS[section]:
                continue
            if key == "sheet":
                sheets[_SHEETS[section]] = names
            elif section == "company" and key == "value_column":
                value_column = names
            elif section == "company":
                labels[key] = names
            else:
                columns.setdefault(_SHEETS[section], {})[key] = names
    return ImportMapping(sheets, columns, labels, value_column)
