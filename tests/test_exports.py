"""The builtin exports (xlsx, json, ocds) made from a cycle view.

The exporters are pure functions of the view, so these tests call them with
``sample_view(...)`` directly; one test goes through the ``rfpflow_export``
hook with ``rfpflow.workflow.cycle_view`` replaced. The workbook's formulas are
evaluated here by a small evaluator for exactly the expressions the exporter
writes (sums of products of cell references, and RANK), so a wrong reference
gives a wrong total. The OCDS package is validated offline against the OCDS
1.1.5 schemas copied into tests/data/ocds.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import shutil
import subprocess
import time
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from defusedxml import ElementTree

from rfpflow.builtins import exports
from rfpflow.builtins.export_common import SEALED_REASON
from rfpflow.builtins.export_xlsx import MATRIX, WEIGHTS
from tests.view_fixture import HOSTILE_NAMES, sample_view

OCDS_DIR = Path(__file__).parent / "data" / "ocds"
RELEASE_SCHEMA_URL = "https://standard.open-contracting.org/schema/1__1__5/release-schema.json"
PRICES = ["1080000", "960000", "1190000", "700000"]
BID_STATUSES = {"invited", "pending", "valid", "disqualified", "withdrawn"}


# ---------------------------------------------------------------------------
# A tiny evaluator for the formulas the exporter writes
# ---------------------------------------------------------------------------

_REF = re.compile(r"^(?:(?P<sheet>\w+)!)?\$?(?P<col>[A-Z]+)\$?(?P<row>\d+)$")
_RANK = re.compile(r"^RANK\((?P<ref>[^,]+),\$?(?P<c1>[A-Z]+)\$?(?P<r1>\d+):\$?(?P<c2>[A-Z]+)\$?(?P<r2>\d+),0\)$")


def evaluate(wb: Any, sheet: str, formula: Any) -> float:
    """The value of a cell's content: a number, blank (0) or one of the exporter's formulas."""
    if formula is None:
        return 0.0
    if isinstance(formula, (int, float)):
        return float(formula)
    assert isinstance(formula, str) and formula.startswith("="), formula
    body = formula[1:]
    rank = _RANK.match(body)
    if rank:
        value = resolve(wb, sheet, rank["ref"])
        column = rank["c1"]
        assert column == rank["c2"]
        others = [evaluate(wb, sheet, wb[sheet][f"{column}{r}"].value)
                  for r in range(int(rank["r1"]), int(rank["r2"]) + 1)]
        return float(1 + sum(1 for other in others if other > value))
    total = 0.0
    for term in body.split("+"):
        product = 1.0
        for factor in term.split("*"):
            product *= resolve(wb, sheet, factor)
        total += product
    return total


def resolve(wb: Any, sheet: str, factor: str) -> float:
    if re.fullmatch(r"\d+(\.\d+)?", factor):
        return float(factor)
    ref = _REF.match(factor)
    assert ref, f"unexpected formula part {factor!r}"
    where = ref["sheet"] or sheet
    return evaluate(wb, where, wb[where][f"{ref['col']}{ref['row']}"].value)


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def columns(ws: Any, row: int = 1) -> dict[str, int]:
    return {str(cell.value): cell.column for cell in ws[row] if cell.value is not None}


def matrix_rows(ws: Any) -> dict[str, int]:
    """Vendor id -> row on the Matrix sheet."""
    rows: dict[str, int] = {}
    for row in range(2, ws.max_row + 1):
        total = ws.cell(row, columns(ws)["Total"]).value
        if isinstance(total, str) and total.startswith("="):
            rows[str(ws.cell(row, 1).value)] = row
    return rows


def xml_parts(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist() if name.endswith(".xml")}


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


@pytest.fixture
def view() -> dict[str, Any]:
    return sample_view()


@pytest.fixture
def workbook_path(tmp_path: Path, view: dict[str, Any]) -> Path:
    return exports.export_xlsx(view, tmp_path / "evaluation.xlsx")


# ---------------------------------------------------------------------------
# xlsx: live totals
# ---------------------------------------------------------------------------


def test_matrix_totals_and_ranks_are_formulas_over_the_weights_sheet(workbook_path: Path, view: dict[str, Any]) -> None:
    wb = openpyxl.load_workbook(workbook_path)
    ws = wb[MATRIX]
    head = columns(ws)
    rows = matrix_rows(ws)
    assert list(rows) == [t["vendor"] for t in view["evaluation"]["totals"]]
    for row in rows.values():
        total = ws.cell(row, head["Total"])
        assert total.data_type == "f" and total.value.startswith("=")
        assert f"{WEIGHTS}!$D$" in total.value
        rank = ws.cell(row, head["Rank"])
        assert rank.data_type == "f" and rank.value.startswith("=RANK(")


def test_weights_are_plain_editable_numbers_with_ids(workbook_path: Path, view: dict[str, Any]) -> None:
    ws = openpyxl.load_workbook(workbook_path)[WEIGHTS]
    assert [ws.cell(1, c).value for c in range(1, 5)] == ["Criterion id", "Criterion", "Dimension", "Weight"]
    criteria = view["rfp"]["criteria"]
    for i, criterion in enumerate(criteria, start=2):
        assert ws.cell(i, 1).value == criterion["id"]
        assert ws.cell(i, 2).value == criterion["name"]
        assert ws.cell(i, 4).data_type == "n" and ws.cell(i, 4).value == criterion["weight"]
    assert ws.cell(2, 3).value == "Technical and service quality"
    assert ws.cell(5, 3).value == "Price"
    sum_cell = ws.cell(2 + len(criteria), 4)
    assert sum_cell.value == "=SUM(D2:D5)"
    assert sum(ws.cell(r, 4).value for r in range(2, 6)) == pytest.approx(100.0)


def test_evaluating_the_formulas_gives_the_view_totals_and_breakdown(workbook_path: Path,
                                                                     view: dict[str, Any]) -> None:
    wb = openpyxl.load_workbook(workbook_path)
    ws = wb[MATRIX]
    head = columns(ws)
    rows = matrix_rows(ws)
    weights = wb[WEIGHTS]
    for entry in view["evaluation"]["totals"]:
        row = rows[entry["vendor"]]
        formula = ws.cell(row, head["Total"]).value
        assert evaluate(wb, MATRIX, formula) == pytest.approx(entry["total"], abs=0.01)
        assert evaluate(wb, MATRIX, ws.cell(row, head["Rank"]).value) == entry["rank"]
        assert ws.cell(row, head["Recorded total"]).value == pytest.approx(entry["total"])
        # each term is value x Weights!D<r>, and Weights!A<r> names the criterion: points match the breakdown
        for term in formula[1:].split("+"):
            value_ref, weight_ref = term.split("*")
            weight_row = int(_REF.match(weight_ref)["row"])
            criterion = weights.cell(weight_row, 1).value
            points = ws[value_ref].value * weights.cell(weight_row, 4).value
            assert points == pytest.approx(entry["breakdown"][criterion], abs=0.01)
            assert 0.0 <= ws[value_ref].value <= 1.0


def test_changing_a_weight_recomputes_totals_and_can_change_the_ranking(workbook_path: Path,
                                                                        view: dict[str, Any]) -> None:
    wb = openpyxl.load_workbook(workbook_path)
    ws = wb[MATRIX]
    head = columns(ws)
    rows = matrix_rows(ws)
    price_col = next(c for name, c in head.items() if name == "Price")  # the price criterion's values

    def total(vendor: str) -> float:
        return evaluate(wb, MATRIX, ws.cell(rows[vendor], head["Total"]).value)

    def rank(vendor: str) -> float:
        return evaluate(wb, MATRIX, ws.cell(rows[vendor], head["Rank"]).value)

    before = {v: total(v) for v in rows}
    assert rank("acme") == 1 and rank("beta") == 2
    wb[WEIGHTS]["D5"].value = 80  # the price weight: 40 -> 80
    for vendor, row in rows.items():
        value = ws.cell(row, price_col).value
        assert total(vendor) == pytest.approx(before[vendor] + 40 * value)
    assert rank("beta") == 1 and rank("acme") == 2  # beta is the cheapest: more weight on price puts it first
    # the change survives a save and a reload: the formulas still point at the Weights sheet
    saved = workbook_path.with_name("edited.xlsx")
    wb.save(saved)
    again = openpyxl.load_workbook(saved)
    assert evaluate(again, MATRIX, again[MATRIX].cell(rows["beta"], head["Total"]).value) == pytest.approx(
        before["beta"] + 40 * 1.0)


def test_chinese_headings_with_the_same_formulas(tmp_path: Path) -> None:
    view = sample_view(language="zh")
    wb = openpyxl.load_workbook(exports.export_xlsx(view, tmp_path / "zh.xlsx"))
    ws = wb[MATRIX]
    head = columns(ws)
    assert {"供应商", "总分", "排名", "记录总分", "投标总价（CNY）"} <= set(head)
    assert wb[WEIGHTS]["D1"].value == "权重"
    for row, entry in enumerate(view["evaluation"]["totals"], start=2):
        assert evaluate(wb, MATRIX, ws.cell(row, head["总分"]).value) == pytest.approx(entry["total"], abs=0.01)


@pytest.mark.skipif(not (shutil.which("soffice") or shutil.which("libreoffice")),
                    reason="LibreOffice (soffice) is not installed: no headless recalculation check")
def test_libreoffice_recalculates_totals_after_a_weight_change(tmp_path: Path, workbook_path: Path,
                                                               view: dict[str, Any]) -> None:
    office = shutil.which("soffice") or shutil.which("libreoffice")
    assert office is not None
    wb = openpyxl.load_workbook(workbook_path)
    wb[WEIGHTS]["D5"].value = 80
    edited = tmp_path / "in" / "edited.xlsx"
    edited.parent.mkdir()
    wb.save(edited)
    out = tmp_path / "out"
    subprocess.run([office, f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless",
                    "--convert-to", "xlsx", "--outdir", str(out), str(edited)],
                   check=True, capture_output=True, timeout=180)
    values = openpyxl.load_workbook(out / "edited.xlsx", data_only=True)[MATRIX]
    head = columns(values)
    expected = {t["vendor"]: t["total"] + 40 * t["breakdown"]["price"] / 40 for t in view["evaluation"]["totals"]}
    for row in range(2, 2 + len(expected)):
        vendor = values.cell(row, 1).value
        assert values.cell(row, head["Total"]).value == pytest.approx(expected[vendor], abs=0.01)
    assert values.cell(3, head["Rank"]).value == 1  # beta


# ---------------------------------------------------------------------------
# xlsx: presentation
# ---------------------------------------------------------------------------


def test_frozen_panes_widths_and_conditional_formatting(workbook_path: Path) -> None:
    wb = openpyxl.load_workbook(workbook_path)
    assert wb[MATRIX].freeze_panes == "C2"
    assert wb[WEIGHTS].freeze_panes == "C2"
    assert wb["Scores E1"].freeze_panes == "C5"
    assert wb[MATRIX].column_dimensions["B"].width >= 16
    ranges = {str(cf.sqref): [r.type for r in cf.rules] for cf in wb[MATRIX].conditional_formatting}
    assert ranges.get("C2:F4") == ["colorScale"]  # the criterion values
    assert ranges.get("G2:G4") == ["colorScale"]  # the live totals
    assert wb.calculation.fullCalcOnLoad


def test_bar_chart_of_the_live_totals(workbook_path: Path) -> None:
    parts = xml_parts(workbook_path)
    charts = [text for name, text in parts.items() if name.startswith("xl/charts/")]
    assert len(charts) == 1
    root = ElementTree.fromstring(charts[0])
    assert any(local(e.tag) == "barChart" for e in root.iter())
    refs = [e.text for e in root.iter() if local(e.tag) == "f"]
    assert "'Matrix'!$G$2:$G$4" in refs  # the Total column
    assert "'Matrix'!$B$2:$B$4" in refs  # vendor names as categories


def test_a_score_sheet_per_evaluator_with_comments_and_outliers(workbook_path: Path, view: dict[str, Any]) -> None:
    wb = openpyxl.load_workbook(workbook_path)
    assert [n for n in wb.sheetnames if n.startswith("Scores ")] == ["Scores E1", "Scores E2", "Scores E3"]
    e1 = wb["Scores E1"]
    assert e1["C3"].value == "Acme Services" and e1["C4"].value == "Score" and e1["D4"].value == "Comment"
    assert e1["A5"].value == "approach" and e1["C5"].value == 8.0 and e1["D5"].value == "solid"
    e3 = wb["Scores E3"]
    assert e3["E3"].value == "Beta BPO"
    assert e3["A6"].value == "team" and e3["E6"].value == 2.0
    assert e3["F6"].value == "<b>weak</b> {{ 7*7 }}" and e3["F6"].data_type == "s"
    assert e3["E6"].fill.fgColor.rgb.endswith("F4B183")  # the outlier is marked
    assert [e1.cell(r, 1).value for r in range(5, 8)] == ["approach", "team", "experience"]
    assert e1["A8"].value != "price"  # evaluators do not score the price


def test_hostile_vendor_names_are_text_never_formulas(tmp_path: Path) -> None:
    hostile = sample_view(hostile=True)
    path = exports.export_xlsx(hostile, tmp_path / "hostile.xlsx")
    texts: list[str] = []
    for name, xml in xml_parts(path).items():
        for element in ElementTree.fromstring(xml).iter():
            if local(element.tag) == "f":
                formula = element.text or ""
                assert not any(bad in formula for bad in HOSTILE_NAMES), (name, formula)
                assert "cmd|" not in formula and "calc" not in formula
            elif local(element.tag) == "t" and element.text:
                texts.append(element.text)
    for bad in HOSTILE_NAMES[:3]:  # the three evaluated vendors appear on the Matrix sheet
        assert bad in texts
    ws = openpyxl.load_workbook(path)[MATRIX]
    names = {ws.cell(r, 2).value: ws.cell(r, 2) for r in range(2, 5)}
    cell = names["=cmd|' /C calc'!A0"]
    assert cell.data_type == "s"
    assert cell.quotePrefix  # stays text when edited in Excel


# ---------------------------------------------------------------------------
# Determinism and sealed prices
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xlsx", "json", "ocds"])
def test_exports_are_deterministic(tmp_path: Path, view: dict[str, Any], fmt: str,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    first = exports.export_view_as(fmt, view, tmp_path / f"one.{fmt}")
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 3 * 86400 + 7)  # a later wall clock: zip times would differ
    second = exports.export_view_as(fmt, copy.deepcopy(view), tmp_path / f"two.{fmt}")
    assert first is not None and second is not None
    assert first.read_bytes() == second.read_bytes()
    if fmt == "xlsx":
        core = xml_parts(first)["docProps/core.xml"]
        assert "2027-04-09T02:00:00Z" in core  # created and modified come from as_of (10:00 +08:00)
        assert all(info.date_time == (2027, 4, 9, 2, 0, 0) for info in zipfile.ZipFile(first).infolist())  # UTC


def _export_texts(tmp_path: Path, view: dict[str, Any]) -> dict[str, str]:
    texts = {}
    for fmt in ("xlsx", "json", "ocds"):
        path = exports.export_view_as(fmt, view, tmp_path / f"export.{fmt}")
        assert path is not None
        texts[fmt] = "\n".join(xml_parts(path).values()) if fmt == "xlsx" else path.read_text("utf-8")
    return texts


def test_prices_appear_in_every_export_when_not_sealed(tmp_path: Path, view: dict[str, Any]) -> None:
    texts = _export_texts(tmp_path, view)
    assert "Bid price (CNY)" in texts["xlsx"]
    for fmt, text in texts.items():
        shown = PRICES[:3] if fmt == "xlsx" else PRICES  # the workbook lists the evaluated vendors only
        assert all(price in text for price in shown), fmt


def test_sealed_prices_are_absent_from_every_export(tmp_path: Path, view: dict[str, Any]) -> None:
    view["prices_sealed"] = True  # the exporters must seal even a view that still carries prices
    texts = _export_texts(tmp_path, view)
    spelled = [*PRICES, "1,080,000", "960,000", "1,190,000", "700,000"]
    for fmt, text in texts.items():
        leaked = [price for price in spelled if price in text]
        assert not leaked, (fmt, leaked)
    assert "Bid price" not in texts["xlsx"]
    cycle = json.loads(texts["json"])["cycle"]
    assert all(v["total_price"] is None for v in cycle["vendors"])
    assert all("price" not in t for t in cycle["evaluation"]["totals"])
    assert cycle["vendors"][1]["gates"][0]["reason"] == SEALED_REASON
    release = json.loads(texts["ocds"])["releases"][0]
    assert all("value" not in bid for bid in release["bids"]["details"])
    assert all("value" not in award for award in release["awards"])
    assert view["vendors"][0]["total_price"] == "1080000.00"  # the caller's view is not changed


# ---------------------------------------------------------------------------
# json
# ---------------------------------------------------------------------------


def test_json_export_round_trips_and_carries_its_version(tmp_path: Path) -> None:
    view = sample_view(language="zh")
    path = exports.export_json(view, tmp_path / "cycle.json")
    raw = path.read_bytes()
    assert raw.endswith(b"}\n") and not raw.endswith(b"\n\n")
    text = raw.decode("utf-8")
    assert "客服热线外包服务采购" in text  # not escaped to \uXXXX
    document = json.loads(text)
    assert document == {"rfpflow_export_version": 1, "cycle": view}
    assert text == json.dumps(document, sort_keys=True, ensure_ascii=False, indent=2) + "\n"  # keys sorted


def test_json_export_refuses_values_json_cannot_hold(tmp_path: Path, view: dict[str, Any]) -> None:
    view["evaluation"]["totals"][0]["total"] = float("nan")
    with pytest.raises(ValueError):
        exports.export_json(view, tmp_path / "bad.json")
    assert not (tmp_path / "bad.json").exists()
    assert not list(tmp_path.iterdir())  # no temporary file left behind


# ---------------------------------------------------------------------------
# ocds
# ---------------------------------------------------------------------------


@pytest.fixture
def ocds_validators(monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """Draft 4 validators for the release package and the release, resolving the release schema locally."""
    import urllib.request

    from jsonschema import Draft4Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    def no_network(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("schema validation tried to use the network")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    release_schema = json.loads((OCDS_DIR / "release-schema.json").read_text("utf-8"))
    package_schema = json.loads((OCDS_DIR / "release-package-schema.json").read_text("utf-8"))
    assert release_schema["id"] == RELEASE_SCHEMA_URL
    assert package_schema["properties"]["releases"]["items"]["$ref"] == RELEASE_SCHEMA_URL
    registry: Registry[Any] = Registry().with_resource(
        RELEASE_SCHEMA_URL, Resource.from_contents(release_schema, default_specification=DRAFT4))
    Draft4Validator.check_schema(package_schema)
    Draft4Validator.check_schema(release_schema)
    checker = copy.deepcopy(Draft4Validator.FORMAT_CHECKER)

    # jsonschema checks "date-time" and "uri" only with optional packages; check them here without any
    @checker.checks("date-time", raises=ValueError)
    def is_date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", value):
            return False
        dt.datetime.fromisoformat(value.replace("Z", "+00:00"))  # raises for impossible dates
        return True

    @checker.checks("uri")
    def is_uri(value: object) -> bool:
        return not isinstance(value, str) or bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+", value))

    return (Draft4Validator(package_schema, registry=registry, format_checker=checker),
            Draft4Validator(release_schema, format_checker=checker))


def assert_valid(validator: Any, instance: Any) -> None:
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(instance)]
    assert not errors, "\n".join(errors)


def assert_bid_extension_shape(release: dict[str, Any]) -> None:
    """The bid extension's Bid (v1.1.5): id required, status from its closed codelist."""
    for bid in release.get("bids", {}).get("details", []):
        assert isinstance(bid["id"], str)
        assert bid["status"] in BID_STATUSES
        assert all({"id", "name"} <= set(t) for t in bid["tenderers"])
    party_ids = {p["id"] for p in release["parties"]}
    for award in release.get("awards", []):
        assert {s["id"] for s in award["suppliers"]} <= party_ids
        assert award["relatedBid"] in {b["id"] for b in release.get("bids", {}).get("details", [])} | {None}


def test_ocds_package_validates_offline_against_the_1_1_5_schema(tmp_path: Path, view: dict[str, Any],
                                                                 ocds_validators: tuple[Any, Any]) -> None:
    package_validator, release_validator = ocds_validators
    path = exports.export_ocds(view, tmp_path / "release-package.json")
    package = json.loads(path.read_text("utf-8"))
    assert_valid(package_validator, package)
    assert_valid(release_validator, package["releases"][0])
    assert_bid_extension_shape(package["releases"][0])


def test_the_offline_validation_does_catch_errors(ocds_validators: tuple[Any, Any], view: dict[str, Any]) -> None:
    package_validator, _ = ocds_validators
    package = exports.ocds_package(view)
    package["releases"][0]["tag"] = ["bogus"]  # only checkable through the referenced release schema
    package["releases"][0]["tender"]["mainProcurementCategory"] = "labour"
    package["releases"][0]["date"] = "2027-04-09"  # a date, not a date-time
    messages = [e.message for e in package_validator.iter_errors(package)]
    assert any("bogus" in m for m in messages) and any("labour" in m for m in messages)
    assert any("date-time" in m for m in messages)


def test_ocds_mapping(view: dict[str, Any]) -> None:
    package = exports.ocds_package(view)
    assert package["version"] == "1.1"
    assert package["publishedDate"] == "2027-04-09T10:00:00+08:00"
    assert package["publisher"] == {"name": "Example Retail Ltd."}
    assert package["extensions"] == [exports.BID_EXTENSION]
    assert package["uri"].startswith("urn:rfpflow:ocds:")
    release = package["releases"][0]
    assert release["ocid"] == "ocds-rfpflow-RFP-2027-001"
    assert release["tag"] == ["tender", "award"]
    assert release["initiationType"] == "tender"
    parties = {p["id"]: p for p in release["parties"]}
    assert parties["buyer"]["roles"] == ["buyer", "procuringEntity"]
    assert release["buyer"] == {"id": "buyer", "name": "Example Retail Ltd."}
    assert parties["vendor-beta"]["roles"] == ["tenderer", "supplier"]
    assert parties["vendor-acme"]["roles"] == ["tenderer"]
    assert parties["vendor-acme"]["identifier"]["id"] == "91350100M000100Y43"
    tender = release["tender"]
    assert tender["status"] == "active" and tender["procurementMethod"] == "open"
    assert tender["mainProcurementCategory"] == "services"
    assert tender["items"][0] == {"id": "L1", "description": "Hotline seats, 12 months", "quantity": 12,
                                  "unit": {"name": "month"}}
    assert tender["value"] == {"amount": 1200000, "currency": "CNY"}
    assert tender["tenderPeriod"] == {"startDate": "2027-01-04T00:00:00+08:00", "endDate": "2027-01-29T17:00:00+08:00"}
    assert tender["awardCriteria"] == "ratedCriteria"
    for part in ("Service approach and SLA 25%", "Team and staffing 20%", "Relevant experience 15%", "Price 40%"):
        assert part in tender["awardCriteriaDetails"]
    assert tender["numberOfTenderers"] == 4
    bids = {b["id"]: b for b in release["bids"]["details"]}
    assert bids["bid-acme"]["status"] == "valid" and bids["bid-delta"]["status"] == "disqualified"
    assert bids["bid-beta"]["value"] == {"amount": 960000, "currency": "CNY"}
    assert bids["bid-beta"]["date"] == "2027-01-21T09:00:00+08:00"
    (award,) = release["awards"]
    assert award["status"] == "pending"
    assert award["suppliers"] == [{"id": "vendor-beta", "name": "Beta BPO"}]
    assert award["value"] == {"amount": 960000, "currency": "CNY"}
    assert award["relatedBid"] == "bid-beta"


def _at_stage(stage: str) -> dict[str, Any]:
    view = sample_view()
    view["stage"] = stage
    if stage in ("draft", "issued"):
        view["evaluation"] = None
        view["trial"] = None
        view["award"] = None
        view["shortlist"] = []
    if stage == "draft":
        view["vendors"] = []
    if stage == "awarded":
        view["events"].append({"seq": 24, "at": "2027-04-20T09:00:00+08:00", "actor": "li.wei",
                               "kind": "stage.changed", "data": {"source": "award-recommended", "target": "awarded"},
                               "hash": "f" * 64})
    return view


@pytest.mark.parametrize(("stage", "tag", "tender_status", "award_status"), [
    ("draft", ["planning"], "planned", None),
    ("issued", ["tender"], "active", None),
    ("award-recommended", ["tender", "award"], "active", "pending"),
    ("awarded", ["tender", "award"], "complete", "active"),
    ("cancelled", ["tenderCancellation", "awardCancellation"], "cancelled", "cancelled"),
])
def test_ocds_follows_the_stage(stage: str, tag: list[str], tender_status: str, award_status: str | None,
                                ocds_validators: tuple[Any, Any]) -> None:
    package = exports.ocds_package(_at_stage(stage))
    assert_valid(ocds_validators[0], package)
    release = package["releases"][0]
    assert release["tag"] == tag
    assert release["tender"]["status"] == tender_status
    assert [a["status"] for a in release.get("awards", [])] == ([award_status] if award_status else [])
    if stage == "awarded":
        assert release["awards"][0]["date"] == "2027-04-20T09:00:00+08:00"
    if stage == "cancelled":
        assert "supplier" not in {r for p in release["parties"] for r in p["roles"]}


def test_ocds_publishes_nothing_about_bids_while_the_tender_is_open() -> None:
    view = _at_stage("issued")  # bids received, not yet closed
    release = exports.ocds_release(view)
    assert [p["id"] for p in release["parties"]] == ["buyer"]
    assert "bids" not in release
    assert "numberOfTenderers" not in release["tender"] and "tenderers" not in release["tender"]
    assert "Acme" not in json.dumps(release)


@pytest.mark.parametrize(("category", "expected"), [
    ("ITO", "services"), ("BPO", "services"), ("KPO", "services"), ("goods", "goods"), ("works", "works"),
    ("other", None),
])
def test_ocds_main_procurement_category(category: str, expected: str | None, view: dict[str, Any]) -> None:
    view["rfp"]["category"] = category
    assert exports.ocds_release(view)["tender"].get("mainProcurementCategory") == expected


def test_ocds_award_criteria_follow_the_weights(view: dict[str, Any]) -> None:
    for criterion in view["rfp"]["criteria"]:
        criterion["weight"] = 100.0 if criterion["source"] == "price" else 0.0
    assert exports.ocds_release(view)["tender"]["awardCriteria"] == "priceOnly"
    view["rfp"]["criteria"] = [c for c in view["rfp"]["criteria"] if c["source"] != "price"]
    view["rfp"]["criteria"][0]["weight"] = 1.0
    assert exports.ocds_release(view)["tender"]["awardCriteria"] == "qualityOnly"


def test_ocds_in_chinese_with_hostile_names_and_options_still_validates(ocds_validators: tuple[Any, Any]) -> None:
    view = sample_view(language="zh", hostile=True)
    package = exports.ocds_package(view, ocid_prefix="ocds-abc123-", publisher="示例零售有限公司采购部",
                                   package_uri="https://example.com/ocds/RFP-2027-001.json",
                                   procurement_method="selective")
    assert_valid(ocds_validators[0], package)
    release = package["releases"][0]
    assert release["ocid"] == "ocds-abc123-RFP-2027-001"
    assert release["language"] == "zh"
    assert release["tender"]["procurementMethod"] == "selective"
    assert release["tender"]["awardCriteriaDetails"].startswith("加权评分（weighted-sum）：")
    assert {p["name"] for p in release["parties"]} >= set(HOSTILE_NAMES)


def test_ocds_options_are_checked(view: dict[str, Any], tmp_path: Path) -> None:
    from rfpflow.errors import RfpflowError

    with pytest.raises(RfpflowError, match="procurement method"):
        exports.export_view_as("ocds", view, tmp_path / "x.json", {"procurement_method": "auction"})
    with pytest.raises(RfpflowError, match=r"plugins\.exports\.publisher"):
        exports.ocds_options({"publisher": 3})
    assert exports.ocds_options({})["ocid_prefix"] == "ocds-rfpflow-"


# ---------------------------------------------------------------------------
# Before evaluation, and the hook
# ---------------------------------------------------------------------------


def test_exports_before_any_evaluation(tmp_path: Path, ocds_validators: tuple[Any, Any]) -> None:
    view = _at_stage("issued")
    path = exports.export_xlsx(view, tmp_path / "early.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [MATRIX, WEIGHTS, "Cycle"]
    assert wb[MATRIX]["A3"].value == "No evaluation result yet."
    assert not any(name.startswith("xl/charts/") for name in xml_parts(path))
    assert json.loads(exports.export_json(view, tmp_path / "early.json").read_text("utf-8"))["cycle"] == view
    assert_valid(ocds_validators[0], json.loads(exports.export_ocds(view, tmp_path / "o.json").read_text("utf-8")))


def test_the_hook_exports_the_cycle_view_and_declines_other_formats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    rfpflow_context: Any) -> None:
    from rfpflow.testing import make_host

    view = sample_view()
    seen: list[Any] = []

    def fake_cycle_view(context: Any) -> dict[str, Any]:
        seen.append(context)
        return copy.deepcopy(view)

    monkeypatch.setattr("rfpflow.workflow.cycle_view", fake_cycle_view)
    host = make_host(exports, builtins=False)
    context = rfpflow_context(host)
    target = tmp_path / "out" / "cycle.json"
    assert host.first("rfpflow_export", Path, fmt="json", target=target, context=context) == target
    assert target.read_bytes() == exports.json_bytes(view)
    assert seen == [context]
    xlsx = host.first("rfpflow_export", Path, fmt="xlsx", target=tmp_path / "e.xlsx", context=context)
    assert xlsx is not None and xlsx.read_bytes() == exports.xlsx_bytes(view)
    assert host.first("rfpflow_export", Path, fmt="pdf", target=tmp_path / "x.pdf", context=context) is None
    assert not (tmp_path / "x.pdf").exists()
    assert len(seen) == 2  # no view is built for a format this plugin does not make
