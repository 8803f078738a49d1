"""The ``cmmi_level`` gate: a CMMI appraisal at or above a maturity level.

Vendors write their CMMI rating in many ways: ``CMMI ML3``, ``CMMI Level 5``,
``CMMI-DEV V2.0 ML3``, ``CMMI-SVC ML 4``, ``CMMI 3``, ``CMMI5``, ``CMMI 三级``,
``CMMI 成熟度 3 级``. :func:`cmmi_level` reads the maturity level from such a
name (a version such as ``V2.0`` or ``1.3`` is not a level). The gate:

* passes when a CMMI appraisal valid on the reference date (the contract
  start, else the decision date) has a level of at least ``min_level``
  (default 3);
* fails when the best valid appraisal is below it, when the only CMMI
  appraisals have expired, or when none is declared (``on_fail = "review"``
  turns these into needs-review);
* gives needs-review when a CMMI certificate is declared but its level
  cannot be read from the name.
"""

from __future__ import annotations

import re
import unicodedata

from rfpflow.builtins.screening import reference_date
from rfpflow.context import RunContext
from rfpflow.model import Bid, Certification, Gate, GateResult, Rfp

__all__ = ["DEFAULT_MIN_LEVEL", "check_cmmi_level", "cmmi_level", "is_cmmi"]

DEFAULT_MIN_LEVEL = 3

_CHINESE_DIGITS = str.maketrans("一二三四五", "12345")
_VERSION = re.compile(r"\bV\s*\d+(?:\.\d+)*|\b\d+\.\d+\b")
_LEVEL_PATTERNS = (
    re.compile(r"\bML\s*-?\s*([1-5])\b"),
    re.compile(r"\bLEVEL\s*-?\s*([1-5])\b"),
    re.compile(r"\bL([1-5])\b"),
    re.compile(r"成熟度\s*(?:等级)?\s*([1-5])"),
    re.compile(r"([1-5])\s*级"),
    re.compile(r"CMMI(?:\s*-\s*[A-Z]+)?\s*-?\s*([1-5])\b"),
)


def _normalise(name: str) -> str:
    text = unicodedata.normalize("NFKC", name).upper()
    text = re.sub(r"([一二三四五])\s*级", lambda m: m.group(1).translate(_CHINESE_DIGITS) + "级", text)
    return _VERSION.sub(" ", text)


def is_cmmi(name: str) -> bool:
    """Whether a certificate name is a CMMI appraisal."""
    return "CMMI" in unicodedata.normalize("NFKC", name).upper()


def cmmi_level(name: str) -> int | None:
    """The maturity level (1-5) a CMMI certificate name states, or None.

    >>> [cmmi_level(n) for n in ("CMMI ML3", "CMMI Level 5", "CMMI-DEV V2.0 ML3", "CMMI 三级", "CMMI5")]
    [3, 5, 3, 3, 5]
    >>> cmmi_level("CMMI-DEV V2.0") is None
    True
    """
    if not is_cmmi(name):
        return None
    text = _normalise(name)
    for pattern in _LEVEL_PATTERNS:
        found = pattern.search(text)
        if found:
            return int(found.group(1))
    return None


def _describe(cert: Certification) -> str:
    return f"{cert.name} (valid until {cert.expires.isoformat()})" if cert.expires else cert.name


def check_cmmi_level(bid: Bid, gate: Gate, bids: tuple[Bid, ...], rfp: Rfp, context: RunContext) -> GateResult:
    """Run the ``cmmi_level`` gate for one bid (see the module documentation)."""
    needed = int(gate.params.get("min_level", DEFAULT_MIN_LEVEL))
    when = reference_date(rfp, context)

    def result(ok: bool | None, reason: str, evidence: tuple[str, ...] = ()) -> GateResult:
        if ok is None:
            outcome = "review"
        elif ok:
            outcome = "pass"
        else:
            outcome = "review" if gate.on_fail == "review" else "fail"
        return GateResult(bid.vendor_id, gate.id, outcome, reason, evidence, source=f"gate:{gate.kind}")

    declared = [c for c in bid.certifications if is_cmmi(c.name)]
    if not declared:
        return result(False, f"no CMMI appraisal declared; maturity level {needed} or higher required")
    expired = [c for c in declared if c.expires is not None and c.expires < when]
    valid = [c for c in declared if c not in expired]
    if not valid:
        listed = "; ".join(f"{c.name} expires {c.expires.isoformat()}" for c in expired if c.expires)
        return result(False, f"{listed}, before {when.isoformat()} (counts as missing)")
    rated = [(level, c) for c in valid if (level := cmmi_level(c.name)) is not None]
    evidence_of = {id(c): (f"{bid.source_file}: {c.evidence}",) if c.evidence else () for c in valid}
    if rated:
        level, best = max(rated, key=lambda pair: pair[0])
        if level >= needed:
            return result(True, f"{_describe(best)}: maturity level {level}, {needed} required",
                          evidence_of[id(best)])
        unread = [c.name for c in valid if cmmi_level(c.name) is None]
        if unread:
            return result(None, f"{_describe(best)} is level {level}, {needed} required; the level of "
                                f"{', '.join(unread)} cannot be read: check the appraisal", evidence_of[id(best)])
        return result(False, f"{_describe(best)} is maturity level {level}; level {needed} or higher required",
                      evidence_of[id(best)])
    names = ", ".join(c.name for c in valid)
    return result(None, f"CMMI declared ({names}) but no maturity level can be read from it; "
                        f"check the appraisal (level {needed} or higher required)",
                  tuple(e for c in valid for e in evidence_of[id(c)]))
