"""What the workflow keeps in the store about bids and screening, and the overall screening outcome.

These are the stored forms (a bid with when and how it came in, a gate result
with the buyer's resolution); the cycle view and the workflow both read them.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from rfpflow.model import Bid, GateResult


@attrs.frozen
class StoredBid:
    """A bid as kept in the store, with how and when it came in."""

    bid: Bid
    submitted_at: str
    sha256: str
    late: bool = False
    late_reason: str = ""
    needs_resubmission: bool = False
    #: "received", "withdrawn" (the vendor withdrew) or "excluded" (the buyer excluded it);
    #: earlier submissions are kept in the "bid_history" collection with the status "replaced".
    status: str = "received"
    status_reason: str = ""
    status_at: str = ""
    files: tuple[str, ...] = ()  # the file(s) of the bid: two in a two-envelope cycle
    envelopes: tuple[str, ...] = ()  # "technical" or "financial" while only that envelope came; () when whole
    envelope_files: tuple[tuple[str, str], ...] = ()  # (envelope, file) when the envelopes came as two files
    unlisted: bool = False  # the vendor is not in the [[vendors]] list of rfp.toml

    @property
    def active(self) -> bool:
        """Whether the bid takes part in the cycle (not withdrawn, not excluded)."""
        return self.status == "received"


@attrs.frozen
class Resolution:
    decision: str
    reason: str
    actor: str
    at: str
    #: the outcome in force before this decision (the check's own, or an earlier decision's)
    was: str = ""


@attrs.frozen
class StoredGateResult:
    result: GateResult
    resolution: Resolution | None = None

    @property
    def outcome(self) -> str:
        return self.resolution.decision if self.resolution else self.result.outcome


def summarize(results: Sequence[StoredGateResult]) -> dict[str, str]:
    """Each vendor's overall outcome: fail if any gate fails, review if any needs review, else pass."""
    overall: dict[str, str] = {}
    for stored in results:
        vendor = stored.result.vendor_id
        outcome = stored.outcome
        current = overall.get(vendor, "pass")
        if outcome == "fail" or current == "fail":
            overall[vendor] = "fail"
        elif outcome == "review" or current == "review":
            overall[vendor] = "review"
        else:
            overall[vendor] = "pass"
    return dict(sorted(overall.items()))
