"""Who a bid belongs to: vendor identity, readable vendor ids, and what evaluators must notice.

A bid's identity comes from the workbook, never from its file name: the registration number
(normalised for case, spaces and full-width characters), else the normalised legal name. A vendor
keeps one id for the whole cycle: the id of an invited vendor (``[[vendors]]`` of rfp.toml) with
that identity, else the id its first bid was given, else a short slug of its name (``acme``), or
``vendor-N`` when the name has no Latin letters.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from rfpflow.model import Bid, InvitedVendor, PriceLine
from rfpflow.records import StoredBid

__all__ = [
    "FLAG_WORDS",
    "bid_record",
    "flag_text",
    "identity_key",
    "identity_keys",
    "invited_match",
    "join_envelopes",
    "name_key",
    "new_vendor_id",
    "registration_key",
    "short_time",
]

#: Words in a vendor's comment that may change what a price means (tax, discounts, options, exclusions).
FLAG_WORDS: tuple[str, ...] = (
    "tax", "vat", "gst", "增值税", "税", "discount", "折扣", "rebate", "option", "可选", "excluded", "excluding",
    "excl", "exclusive", "not included", "不含", "extra", "另计",
)

_FLAG = re.compile("|".join(re.escape(w) if not w.isascii() else rf"\b{re.escape(w)}" for w in FLAG_WORDS),
                   re.IGNORECASE)

#: Words of a company name that make poor ids.
_GENERIC = frozenset({"the", "a", "an", "le", "la", "les", "der", "die", "das", "el", "company", "co", "ltd",
                      "limited", "inc", "llc", "gmbh", "sa", "sarl", "bv", "oy", "group"})

_ID_LIMIT = 24


def registration_key(text: object) -> str:
    """A registration number for comparing: NFKC (full-width to ASCII), no spaces or dashes, upper case."""
    if not isinstance(text, str):
        return ""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in folded if ch.isalnum()).upper()


def name_key(text: str) -> str:
    """A legal name for comparing: NFKC, case-folded, punctuation and spaces removed."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def identity_key(bid: Bid) -> str:
    """Who wrote ``bid``: ``reg:<number>`` from its registration number, else ``name:<legal name>``."""
    registration = registration_key(bid.fields.get("registration_no"))
    if registration:
        return "reg:" + registration
    return "name:" + name_key(bid.vendor_name)


def identity_keys(bid: Bid) -> tuple[str, ...]:
    """Every key a bid is recognised by, strongest first: its registration number, then its legal name
    (so that a vendor who mistyped the registration number is still the same vendor)."""
    name = "name:" + name_key(bid.vendor_name)
    first = identity_key(bid)
    return (first, name) if first != name else (name,)


def may_be_one_vendor(registration_a: str, registration_b: str) -> bool:
    """Whether two bids with the same legal name may come from one vendor, given their registration keys.

    Two valid, different registration numbers are two companies, whatever their names say (names that
    fold to the same letters, a payload like ``=1+1`` and ``-1+1``); a missing number, or one that fails
    its check character (a typo at 16:59), lets the name decide.
    """
    from rfpflow.uscc import is_valid_uscc

    if not registration_a or not registration_b or registration_a == registration_b:
        return True
    return not (is_valid_uscc(registration_a) and is_valid_uscc(registration_b))


def invited_match(bid: Bid, invited: Sequence[InvitedVendor]) -> InvitedVendor | None:
    """The invited vendor ``bid`` comes from: same registration number, else same legal name."""
    registration = registration_key(bid.fields.get("registration_no"))
    if registration:
        for vendor in invited:
            if registration_key(vendor.registration_no) == registration:
                return vendor
    name = name_key(bid.vendor_name)
    for vendor in invited:
        if vendor.name and name_key(vendor.name) == name:
            return vendor
    return None


def _slug(text: str) -> str:
    s = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", "-", s).strip("-")


def name_slug(name: str) -> str:
    """The first distinctive Latin word of a name (``Acme Hotline Services Ltd.`` → ``acme``), or ``""``."""
    words = [w for w in _slug(name).split("-") if w]
    for word in words:
        if word not in _GENERIC and not word.isdigit():
            return word[:_ID_LIMIT]
    return ""


def new_vendor_id(name: str, taken: Iterable[str], proposed: str = "") -> str:
    """A readable id for a vendor not seen before: the id its reader proposed (the builtin reader
    proposes the slug of the vendor's name), else the slug of its name (``acme``; ``acme-2`` when
    another vendor has it), else ``vendor-1``, ``vendor-2``, … for names without Latin letters."""
    used = set(taken)
    base = _slug(proposed)[:_ID_LIMIT].strip("-") if proposed and proposed != "vendor" else ""
    base = base or name_slug(name)
    if base:
        if base not in used:
            return base
        number = 2
        while f"{base}-{number}" in used:
            number += 1
        return f"{base}-{number}"
    number = 1
    while f"vendor-{number}" in used:
        number += 1
    return f"vendor-{number}"


def flag_text(text: str) -> bool:
    """Whether a vendor's comment may change what a price means (it mentions tax, a discount, an option…)."""
    return bool(text) and _FLAG.search(unicodedata.normalize("NFKC", text)) is not None


def line_flagged(line: PriceLine) -> bool:
    """Whether a price line carries a comment or an added column evaluators should read."""
    return flag_text(line.comment) or any(flag_text(f"{k} {v}") for k, v in line.extras)


def short_time(iso: str) -> str:
    """``2027-03-18T14:02:31+08:00`` → ``2027-03-18 14:02`` (the time as it was recorded)."""
    try:
        return dt.datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


def extra_columns(bids: Iterable[Bid]) -> list[str]:
    """Every column vendors added to their price schedules, in order of first appearance."""
    seen: dict[str, None] = {}
    for bid in bids:
        for line in bid.prices:
            for key, _ in line.extras:
                seen.setdefault(key, None)
    return list(seen)


def answers_by_id(bid: Bid) -> Mapping[str, tuple[str, str, str]]:
    return {a.question_id: (a.answer, a.comment, a.evidence_ref) for a in bid.answers}


def _text(value: object) -> object:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)


def submission_record(stored: StoredBid) -> dict[str, Any]:
    """One submission as history lists it."""
    return {"submitted_at": stored.submitted_at, "files": list(stored.files or (stored.bid.source_file,)),
            "sha256": stored.sha256, "late": stored.late, "late_reason": stored.late_reason,
            "status": stored.status, "status_reason": stored.status_reason, "status_at": stored.status_at}


def bid_record(stored: StoredBid, history: Sequence[StoredBid] = ()) -> dict[str, Any]:
    """The whole bid as plain data (`rfpflow bids show --json`, the JSON export): company data, every
    answer with its comment and evidence, every price line with its comment and added columns, the
    file's SHA-256 and the earlier submissions."""
    bid = stored.bid
    return {
        "vendor": bid.vendor_id,
        "legal_name": bid.vendor_name,
        "registration_no": str(bid.fields.get("registration_no") or ""),
        "status": stored.status,
        "status_reason": stored.status_reason,
        "status_at": stored.status_at,
        "files": list(stored.files or (bid.source_file,)),
        "sha256": stored.sha256,
        "submitted_at": stored.submitted_at,
        "late": stored.late,
        "late_reason": stored.late_reason,
        "needs_resubmission": stored.needs_resubmission,
        "envelopes": [{"envelope": e, "file": f} for e, f in stored.envelope_files],
        "incomplete": list(stored.envelopes),
        "invited": not stored.unlisted,
        "company": {str(k): _text(v) for k, v in sorted(bid.fields.items())},
        "certifications": [{"name": c.name, "expires": _text(c.expires), "evidence": c.evidence}
                           for c in bid.certifications],
        "answers": [{"question": a.question_id, "answer": a.answer, "comment": a.comment,
                     "evidence": a.evidence_ref, "cell": a.cell, "flagged": flag_text(a.comment)}
                    for a in bid.answers],
        "prices": [{"item": line.item_id, "quantity": format(line.quantity, "f"),
                    "unit_price": format(line.unit_price, "f"), "line_total": format(line.total, "f"),
                    "comment": line.comment, "extras": {k: v for k, v in line.extras},
                    "cell": line.cell, "flagged": line_flagged(line)}
                   for line in bid.prices],
        "extra_columns": extra_columns([bid]),
        "total_price": format(bid.total_price, "f"),
        "warnings": list(bid.warnings),
        "history": [submission_record(s) for s in history if s.bid.vendor_id == bid.vendor_id],
    }


ENVELOPES = ("technical", "financial")


def join_envelopes(base: Bid, base_envelopes: Sequence[str], part: Bid) -> tuple[Bid, tuple[str, ...]]:
    """A vendor's bid with one envelope (``part``) put in: the technical envelope brings the company
    data, certifications and answers, the financial one the prices. Returns the bid and the envelopes
    it now holds (``()`` once it is whole)."""
    have = set(base_envelopes or ENVELOPES)
    have.add(part.envelope)
    if part.envelope == "financial":
        joined = attrs.evolve(base, prices=part.prices, warnings=(*base.warnings, *part.warnings))
    else:
        joined = attrs.evolve(part, prices=base.prices, warnings=(*part.warnings, *base.warnings))
    envelopes = () if have >= set(ENVELOPES) else tuple(e for e in ENVELOPES if e in have)
    return attrs.evolve(joined, envelope="" if not envelopes else envelopes[0]), envelopes
