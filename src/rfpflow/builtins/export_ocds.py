"""``rfpflow export ocds``: the cycle as an Open Contracting Data Standard 1.1 release package.

One release describes the cycle as of the view's ``as_of``: the buyer and
every tenderer as parties, the tender (items, periods, award criteria and
weights), the bids (through the OCDS bid extension) and the award once one is
recommended. docs/exports.md lists how each rfpflow field maps to OCDS and why.

Nothing about bids is published while the tender is open (before bids close):
not the tenderers, not their number. While prices are sealed no bid or award
value is published. The package validates against the OCDS 1.1.5 release
package schema (the bid extension's fields are additional properties there).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rfpflow.builtins.export_common import as_of, export_view, number, parse_datetime, sealed, write_bytes
from rfpflow.errors import RfpflowError

OCDS_VERSION = "1.1"
BID_EXTENSION = "https://raw.githubusercontent.com/open-contracting-extensions/ocds_bid_extension/v1.1.5/extension.json"
DEFAULT_OCID_PREFIX = "ocds-rfpflow-"
DEFAULT_PROCUREMENT_METHOD = "open"
PROCUREMENT_METHODS = ("open", "selective", "limited", "direct")
BUYER_PARTY_ID = "buyer"

#: rfp.toml ``category`` -> OCDS ``mainProcurementCategory`` (``other`` has none).
MAIN_CATEGORY = {"ITO": "services", "BPO": "services", "KPO": "services", "goods": "goods", "works": "works"}

#: rfpflow stage -> OCDS ``tender.status``.
TENDER_STATUS = {
    "draft": "planned", "issued": "active", "bids-closed": "active", "screening": "active",
    "evaluation": "active", "trial-run": "active", "award-recommended": "active", "awarded": "complete",
    "cancelled": "cancelled",
}

#: Stages in which bids have closed (tenderers and bids may be published).
BIDS_CLOSED_STAGES = frozenset({"bids-closed", "screening", "evaluation", "trial-run", "award-recommended",
                                "awarded"})

#: A vendor's overall screening outcome -> the bid extension's ``status``.
BID_STATUS = {"pass": "valid", "fail": "disqualified"}

_AWARD_WEIGHT_LABELS = {
    "en": {"evaluation": "evaluation", "price": "price", "trial": "trial run"},
    "zh": {"evaluation": "评审", "price": "价格", "trial": "试运行"},
}


def export_ocds(view: Mapping[str, Any], target: Path, *, ocid_prefix: str = DEFAULT_OCID_PREFIX,
                publisher: str | None = None, package_uri: str | None = None,
                procurement_method: str = DEFAULT_PROCUREMENT_METHOD) -> Path:
    """Write the OCDS release package at ``target`` and return ``target``.

    ``ocid_prefix`` is the publisher's registered OCID prefix followed by
    ``-`` (the default is not registered); ``publisher`` defaults to the buyer;
    ``package_uri`` to a ``urn:`` naming the release; ``procurement_method`` is
    one of ``open``, ``selective``, ``limited``, ``direct``.
    """
    package = ocds_package(view, ocid_prefix=ocid_prefix, publisher=publisher, package_uri=package_uri,
                           procurement_method=procurement_method)
    text = json.dumps(package, ensure_ascii=False, indent=2, allow_nan=False)
    return write_bytes(target, (text + "\n").encode("utf-8"))


def ocds_package(view: Mapping[str, Any], *, ocid_prefix: str = DEFAULT_OCID_PREFIX, publisher: str | None = None,
                 package_uri: str | None = None,
                 procurement_method: str = DEFAULT_PROCUREMENT_METHOD) -> dict[str, Any]:
    """The release package as data."""
    data = export_view(view)
    release = ocds_release(data, ocid_prefix=ocid_prefix, procurement_method=procurement_method)
    rfp = data.get("rfp") or {}
    name = publisher or str(rfp.get("buyer") or "")
    if not name:
        raise RfpflowError("ocds export: no publisher name (set [plugins.exports] publisher or the buyer)")
    uri = package_uri or f"urn:rfpflow:ocds:{quote(release['ocid'], safe='')}:{quote(release['id'], safe='')}"
    return {
        "uri": uri,
        "version": OCDS_VERSION,
        "extensions": [BID_EXTENSION],
        "publishedDate": release["date"],
        "publisher": {"name": name},
        "releases": [release],
    }


def ocds_release(view: Mapping[str, Any], *, ocid_prefix: str = DEFAULT_OCID_PREFIX,
                 procurement_method: str = DEFAULT_PROCUREMENT_METHOD) -> dict[str, Any]:
    """The single OCDS release describing the cycle as of ``view["as_of"]``.

    ``view`` should already be export-safe (:func:`export_common.export_view`);
    :func:`ocds_package` makes it so.
    """
    if procurement_method not in PROCUREMENT_METHODS:
        raise RfpflowError(f"ocds export: procurement method {procurement_method!r} is not one of "
                           f"{', '.join(PROCUREMENT_METHODS)}")
    moment = as_of(view)
    if moment is None:
        raise RfpflowError("ocds export: the cycle has no recorded event yet, so there is no release date")
    tz = moment.tzinfo or dt.UTC
    rfp = view.get("rfp") or {}
    rfp_id = str(rfp.get("id") or "")
    if not rfp_id:
        raise RfpflowError("ocds export: the RFP has no id")
    stage = str(view.get("stage") or "")
    ocid = f"{ocid_prefix}{rfp_id}"
    chain = str(view.get("chain_head") or "")
    release_id = f"{rfp_id}-{view.get('event_count') or 0}" + (f"-{chain[:8]}" if chain else "")
    currency = rfp.get("currency") or None
    hide_prices = sealed(view)

    closed = stage in BIDS_CLOSED_STAGES or any(e.get("kind") == "bids.closed" for e in view.get("events") or [])
    vendors = list(view.get("vendors") or []) if closed else []
    award = view.get("award") or {}
    winner = str(award.get("vendor") or "") or None
    award_status = _award_status(stage) if winner else None

    buyer_ref = {"id": BUYER_PARTY_ID, "name": str(rfp.get("buyer") or "")}
    parties: list[dict[str, Any]] = [{**buyer_ref, "roles": ["buyer", "procuringEntity"]}]
    refs: dict[str, dict[str, Any]] = {}
    for vendor in vendors:
        vendor_id = str(vendor.get("id"))
        ref = {"id": party_id(vendor_id), "name": str(vendor.get("name") or vendor_id)}
        refs[vendor_id] = ref
        roles = ["tenderer"]
        if vendor_id == winner and award_status != "cancelled":
            roles.append("supplier")
        party: dict[str, Any] = {**ref, "roles": roles}
        registration = str(vendor.get("registration_no") or "")
        if registration:
            party["identifier"] = {"id": registration, "legalName": ref["name"]}
        parties.append(party)
    if winner and winner not in refs:  # an award without the bids published: the supplier is still a party
        refs[winner] = {"id": party_id(winner), "name": str(award.get("vendor_name") or winner)}
        parties.append({**refs[winner], "roles": [] if award_status == "cancelled" else ["supplier"]})

    release: dict[str, Any] = {
        "ocid": ocid,
        "id": release_id,
        "date": moment.isoformat(),
        "tag": _tags(stage, bool(winner)),
        "initiationType": "tender",
    }
    language = str(rfp.get("language") or "")[:2].lower()
    if language:
        release["language"] = language
    release["parties"] = parties
    release["buyer"] = buyer_ref
    release["tender"] = _tender(view, rfp, stage, tz, currency, procurement_method, buyer_ref,
                                [refs[str(v.get("id"))] for v in vendors], closed)
    if vendors:
        release["bids"] = _bids(vendors, refs, tz, currency, hide_prices)
    if winner:
        release["awards"] = [_award(view, rfp, award, winner, refs, award_status, tz, currency, hide_prices)]
    return release


def party_id(vendor_id: str) -> str:
    """The stable party id of a vendor (the buyer's is :data:`BUYER_PARTY_ID`)."""
    return f"vendor-{vendor_id}"


def bid_id(vendor_id: str) -> str:
    return f"bid-{vendor_id}"


def _tags(stage: str, has_award: bool) -> list[str]:
    if stage == "draft":
        return ["planning"]
    if stage == "cancelled":
        return ["tenderCancellation", "awardCancellation"] if has_award else ["tenderCancellation"]
    if has_award and stage in ("award-recommended", "awarded"):
        return ["tender", "award"]
    return ["tender"]


def _award_status(stage: str) -> str:
    if stage == "awarded":
        return "active"
    if stage == "cancelled":
        return "cancelled"
    return "pending"


def _tender(view: Mapping[str, Any], rfp: Mapping[str, Any], stage: str, tz: dt.tzinfo, currency: str | None,
            procurement_method: str, buyer_ref: Mapping[str, Any], tenderers: Sequence[Mapping[str, Any]],
            closed: bool) -> dict[str, Any]:
    timeline = rfp.get("timeline") or {}
    language = "zh" if str(rfp.get("language") or "").startswith("zh") else "en"
    tender: dict[str, Any] = {"id": str(rfp.get("id")), "title": str(rfp.get("title") or "")}
    status = TENDER_STATUS.get(stage)
    if status:
        tender["status"] = status
    tender["procuringEntity"] = dict(buyer_ref)
    items = []
    for item in rfp.get("line_items") or []:
        entry: dict[str, Any] = {"id": str(item.get("id")), "description": str(item.get("description") or "")}
        quantity = number(item.get("quantity"))
        if quantity is not None:
            entry["quantity"] = quantity
        if item.get("unit"):
            entry["unit"] = {"name": str(item["unit"])}
        items.append(entry)
    if items:
        tender["items"] = items
    value = number(rfp.get("contract_value"))
    if value is not None:
        tender["value"] = {"amount": value, "currency": currency}
    tender["procurementMethod"] = procurement_method
    tender["procurementMethodDetails"] = ("征求建议书（RFP）" if language == "zh" else "Request for proposals")
    category = MAIN_CATEGORY.get(str(rfp.get("category") or ""))
    if category:
        tender["mainProcurementCategory"] = category
    criteria = list(rfp.get("criteria") or [])
    tender["awardCriteria"] = _award_criteria(criteria)
    tender["awardCriteriaDetails"] = _award_criteria_details(rfp, criteria, language)
    gates = [str(g.get("name") or g.get("id")) for g in rfp.get("gates") or []]
    if gates:
        tender["eligibilityCriteria"] = ("；" if language == "zh" else "; ").join(gates)
    tender["tenderPeriod"] = _period(timeline.get("issue_date"), timeline.get("bid_deadline"), tz)
    enquiry = _period(timeline.get("issue_date"), timeline.get("clarification_deadline"), tz)
    if enquiry:
        tender["enquiryPeriod"] = enquiry
    award_period = _period(timeline.get("bid_deadline"), timeline.get("decision_date"), tz)
    if award_period:
        tender["awardPeriod"] = award_period
    contract_period = _period(timeline.get("contract_start"), None, tz)
    if contract_period:
        tender["contractPeriod"] = contract_period
    if not tender["tenderPeriod"]:
        del tender["tenderPeriod"]
    if closed:
        tender["numberOfTenderers"] = len(tenderers)
        if tenderers:
            tender["tenderers"] = [dict(t) for t in tenderers]
    return tender


def _award_criteria(criteria: Sequence[Mapping[str, Any]]) -> str:
    weighted = [c for c in criteria if (number(c.get("weight")) or 0) > 0]
    price = [c for c in weighted if c.get("source") == "price"]
    if weighted and len(price) == len(weighted):
        return "priceOnly"
    if not price:
        return "qualityOnly"
    return "ratedCriteria"


def _percent(part: float, whole: float) -> str:
    return f"{round(100 * part / whole, 1):g}%" if whole else "0%"


def _award_criteria_details(rfp: Mapping[str, Any], criteria: Sequence[Mapping[str, Any]], language: str) -> str:
    """The criteria and their weights in words, e.g. ``Weighted scoring (weighted-sum): Price 40%, ...``."""
    scoring = rfp.get("scoring") or {}
    method = str(scoring.get("method") or "")
    whole = sum(float(number(c.get("weight")) or 0) for c in criteria)
    parts = [f"{c.get('name') or c.get('id')} {_percent(float(number(c.get('weight')) or 0), whole)}"
             for c in criteria]
    award_weights = scoring.get("award_weights") or {}
    labels = _AWARD_WEIGHT_LABELS[language]
    award_whole = sum(float(v) for v in award_weights.values())
    award_parts = [f"{labels.get(k, k)} {_percent(float(v), award_whole)}" for k, v in award_weights.items()]
    if language == "zh":
        text = f"加权评分（{method}）：" + "、".join(parts) + "。"
        if award_parts:
            text += "推荐依据：" + "、".join(award_parts) + "。"
        return text
    text = f"Weighted scoring ({method}): " + ", ".join(parts) + "."
    if award_parts:
        text += " Recommendation: " + ", ".join(award_parts) + "."
    return text


def _iso(text: Any, tz: dt.tzinfo, *, end: bool) -> str | None:
    if not text:
        return None
    return parse_datetime(str(text), tz, end_of_day=end).isoformat()


def _period(start: Any, end: Any, tz: dt.tzinfo) -> dict[str, Any]:
    period: dict[str, Any] = {}
    if start:
        period["startDate"] = _iso(start, tz, end=False)
    if end:
        period["endDate"] = _iso(end, tz, end=True)
    return period


def _bids(vendors: Sequence[Mapping[str, Any]], refs: Mapping[str, Mapping[str, Any]], tz: dt.tzinfo,
          currency: str | None, hide_prices: bool) -> dict[str, Any]:
    details = []
    for vendor in vendors:
        vendor_id = str(vendor.get("id"))
        bid: dict[str, Any] = {"id": bid_id(vendor_id)}
        submitted = _iso(vendor.get("submitted_at"), tz, end=False)
        if submitted:
            bid["date"] = submitted
        bid["status"] = BID_STATUS.get(str(vendor.get("screening")), "pending")
        bid["tenderers"] = [dict(refs[vendor_id])]
        amount = None if hide_prices else number(vendor.get("total_price"))
        if amount is not None:
            bid["value"] = {"amount": amount, "currency": currency}
        details.append(bid)
    statuses = [b["status"] for b in details]
    statistics: list[dict[str, Any]] = [{"id": "bids", "measure": "bids", "value": len(details)}]
    if "pending" not in statuses:
        statistics.append({"id": "validBids", "measure": "validBids", "value": statuses.count("valid")})
        statistics.append({"id": "disqualifiedBidders", "measure": "disqualifiedBidders",
                           "value": statuses.count("disqualified")})
    return {"statistics": statistics, "details": details}


def _award_date(view: Mapping[str, Any], rfp: Mapping[str, Any], status: str | None, tz: dt.tzinfo) -> str:
    """When the award reached its status: the stage change to it, else the decision date, else ``as_of``."""
    wanted = ("awarded",) if status == "active" else ("award-recommended",)
    for event in reversed(view.get("events") or []):
        data = event.get("data") or {}
        if event.get("kind") == "stage.changed" and data.get("target") in wanted and event.get("at"):
            return parse_datetime(str(event["at"]), tz).isoformat()
    decision = (rfp.get("timeline") or {}).get("decision_date")
    if decision:
        return parse_datetime(str(decision), tz).isoformat()
    return str(view.get("as_of"))


def _award(view: Mapping[str, Any], rfp: Mapping[str, Any], award: Mapping[str, Any], winner: str,
           refs: Mapping[str, Mapping[str, Any]], status: str | None, tz: dt.tzinfo, currency: str | None,
           hide_prices: bool) -> dict[str, Any]:
    vendors = {str(v.get("id")): v for v in view.get("vendors") or []}
    vendor = vendors.get(winner) or {}
    supplier = refs[winner]
    entry: dict[str, Any] = {"id": f"award-{winner}"}
    if status:
        entry["status"] = status
    entry["date"] = _award_date(view, rfp, status, tz)
    justification = str(award.get("justification") or "")
    if justification:
        entry["description"] = justification
    entry["suppliers"] = [dict(supplier)]
    amount = None if hide_prices else number(vendor.get("total_price"))
    if amount is not None:
        entry["value"] = {"amount": amount, "currency": currency}
    entry["relatedBid"] = bid_id(winner)
    return entry
