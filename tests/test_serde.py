"""The store's JSON: ``serde.dumps`` writes exactly what ``to_data`` plus canonical JSON would."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import attrs

from rfpflow.model import Bid, Certification, PriceLine, Stage
from rfpflow.spreadsheets.bid_reader import read_bid_workbook
from rfpflow.spreadsheets.bid_writer import write_bid_workbook
from rfpflow.spreadsheets.samples import fill_bid_workbook
from rfpflow.store import canonical, serde
from rfpflow.workflow import StoredBid
from tests.test_bid_workbooks import GOOD, load_generic


@attrs.frozen
class _Odd:
    stage: Stage
    when: dt.datetime
    day: dt.date
    nested: dict[str, object]
    items: tuple[object, ...]


def test_a_stored_bid_is_written_as_to_data_would_and_reads_back(tmp_path: Path) -> None:
    rfp = load_generic(tmp_path / "ws", "en")
    filled = fill_bid_workbook(write_bid_workbook(rfp, tmp_path / "blank.xlsx"), tmp_path / "acme.xlsx", GOOD)
    stored = StoredBid(read_bid_workbook(filled, rfp), "2027-03-01T09:00:00+08:00", "ab" * 32)
    assert stored.bid.prices and stored.bid.certifications  # Decimals, dates and records are all in it

    text = serde.dumps(stored)

    assert text == canonical(serde.to_data(stored))
    assert serde.from_data(StoredBid, json.loads(text)) == stored


def test_enums_dates_mappings_and_nested_records_match_to_data() -> None:
    odd = _Odd(
        stage=Stage.AWARDED,
        when=dt.datetime(2027, 3, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        day=dt.date(2027, 2, 28),
        nested={"b": Decimal("1.50"),
                "a": [Certification("ISO 9001", dt.date(2028, 6, 30), "Certifications!B5"), None, 2.5]},
        items=(Decimal("-0"), "=cmd|' /C calc'!A0", True, 7),
    )

    assert serde.dumps(odd) == canonical(serde.to_data(odd))
    assert '"stage":"awarded"' in serde.dumps(odd)


def test_price_lines_are_stored_as_rows_and_the_older_object_form_still_loads() -> None:
    line = PriceLine("L1", Decimal("12"), Decimal("82000.50"), "Pricing!E4")
    bid = Bid("acme", "Acme Ltd.", "acme.xlsx", prices=(line, PriceLine("L2", Decimal("1"), Decimal("0"))))

    text = serde.dumps(bid)

    assert '"prices":[["L1","12","82000.50","Pricing!E4"],["L2","1","0",null]]' in text
    assert serde.from_data(Bid, json.loads(text)) == bid
    older = json.loads(text)
    older["prices"][0] = {"item_id": "L1", "quantity": {"$decimal": "12"}, "unit_price": {"$decimal": "82000.50"},
                          "cell": "Pricing!E4"}
    assert serde.from_data(Bid, older) == bid
