"""Score sheets: written by the builtin plugin, filled in with openpyxl as an evaluator would, read back.

Generic profile: judgement criteria approach (row 6), team (row 7), experience
(row 8); vendors V1, V2, V3 in columns F/G, H/I, J/K (score/comment).
"""

from __future__ import annotations

import hashlib
import zipfile
from decimal import Decimal
from pathlib import Path

import attrs
import openpyxl
import pytest

from rfpflow.builtins import score_sheets
from rfpflow.builtins.score_sheets import read_score_sheet, write_score_sheet
from rfpflow.definition import load_rfp
from rfpflow.errors import InputFileError, RfpflowError
from rfpflow.evaluation import criterion_values, rank_vendors, score_entries
from rfpflow.model import Bid, PriceLine
from rfpflow.plugins import BUILTIN_PLUGINS
from rfpflow.testing import make_host
from rfpflow.workspace import create_workspace

VENDORS = ["V1", "V2", "V3"]
ROWS = {"approach": 6, "team": 7, "experience": 8}
COLUMNS = {"V1": "F", "V2": "H", "V3": "J"}


def host_with_sheets():
    """The builtins plus this plugin (unless it is already a builtin)."""
    if score_sheets.__name__ in BUILTIN_PLUGINS:
        return make_host()
    return make_host(score_sheets)


@pytest.fixture
def setup(tmp_path: Path, rfpflow_context):
    host = host_with_sheets()
    ws = create_workspace(tmp_path / "ws", host)
    context = rfpflow_context(host, workspace=ws)
    rfp = load_rfp(ws / "rfp.toml", context=context)
    return host, context.with_rfp(rfp), rfp, ws / "evaluations"


def cell(vendor: str, criterion: str, comment: bool = False) -> str:
    column = COLUMNS[vendor]
    if comment:
        column = chr(ord(column) + 1)
    return f"{column}{ROWS[criterion]}"


def fill(path: Path, values: dict[str, object], sheet: str = "Scores") -> None:
    """Type values into the sheet the way an evaluator's spreadsheet program saves them."""
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    for ref, value in values.items():
        ws[ref] = value
    wb.save(path)


def full_scores(base: float = 5) -> dict[str, object]:
    return {cell(v, c): base for v in VENDORS for c in ROWS}


def write(host, context, rfp, folder: Path, evaluator: str = "E1", vendors=VENDORS, name: str | None = None) -> Path:
    target = folder / (name or f"{evaluator.lower()}.xlsx")
    written = host.first("rfpflow_write_score_sheet", Path, rfp=rfp, evaluator_id=evaluator, vendor_ids=vendors,
                         target=target, context=context, vendor_names={})
    assert written == target and target.is_file()
    return target


def read(host, context, rfp, path: Path):
    return host.first("rfpflow_read_scores", list, source=path, rfp=rfp, context=context)


def test_round_trip_through_a_real_workbook(setup) -> None:
    host, context, rfp, folder = setup
    path = write(host, context, rfp, folder, "E2")
    values = full_scores(6)
    values.update({
        cell("V1", "approach"): 7, cell("V1", "approach", comment=True): "Clear SLA plan",
        cell("V2", "team"): "7.5",                 # a number typed as text
        cell("V3", "experience"): 8.25,
        cell("V2", "experience"): "９",             # full-width digit from a Chinese input method
        cell("V3", "team", comment=True): "  团队稳定\nbut attrition risk  ",
    })
    fill(path, values)
    rows = read(host, context, rfp, path)
    assert len(rows) == 9
    assert rows[0] == {"evaluator": "E2", "vendor": "V1", "criterion": "approach", "score": 7.0,
                       "comment": "Clear SLA plan", "cell": "Scores!F6"}
    by_cell = {r["cell"]: r for r in rows}
    assert by_cell["Scores!H7"]["score"] == 7.5 and by_cell["Scores!H7"]["vendor"] == "V2"
    assert by_cell["Scores!J8"]["score"] == 8.25
    assert by_cell["Scores!H8"]["score"] == 9.0
    assert by_cell["Scores!J7"]["comment"] == "团队稳定\nbut attrition risk"
    assert [r["criterion"] for r in rows[:3]] == ["approach", "approach", "approach"]
    assert all(isinstance(r["score"], float) for r in rows)


def test_the_sheet_guides_and_constrains_the_evaluator(setup) -> None:
    host, context, rfp, folder = setup
    path = write(host, context, rfp, folder, "E1")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Scores", "rfpflow"]
    ws = wb["Scores"]
    assert ws["A6"].value == "approach" and ws["B6"].value == "Service approach and SLA"
    assert ws["C6"].value == 25 and ws["D6"].value == "0–10"
    assert ws["E7"].value.startswith("Experience of the proposed leads")
    assert ws["B2"].value == "Evaluator 1 (E1)"
    assert [ws.cell(5, c).value for c in range(6, 12)] == [
        "V1: score", "V1: comment", "V2: score", "V2: comment", "V3: score", "V3: comment"]
    # decimals within the scale, enforced on every score cell
    (dv,) = ws.data_validations.dataValidation
    assert (dv.type, dv.operator, dv.formula1, dv.formula2, dv.showErrorMessage) == (
        "decimal", "between", "0", "10", True)
    assert str(dv.sqref) == "F6 F7 F8 H6 H7 H8 J6 J7 J8" or set(str(dv.sqref).split()) == {
        f"{c}{r}" for c in "FHJ" for r in (6, 7, 8)}
    # only input cells are unlocked; the sheet is protected without a password
    assert ws.protection.sheet and not ws.protection.password
    assert not ws["F6"].protection.locked and not ws["G6"].protection.locked
    assert ws["A6"].protection.locked and ws["C6"].protection.locked and ws["F5"].protection.locked
    assert ws["F6"].fill.fgColor.rgb == "FFFFF2CC"
    meta = wb["rfpflow"]
    assert meta.sheet_state == "hidden" and meta.protection.sheet
    assert [meta.cell(r, 2).value for r in range(1, 5)] == [
        "rfpflow score sheet 1", "RFP-2027-001", rfp.definition_hash, "E1"]
    assert wb.security.lockStructure


def test_chinese_rfp_gets_chinese_labels(setup) -> None:
    host, context, rfp, folder = setup
    rfp = attrs.evolve(rfp, language="zh")
    path = write(host, context, rfp, folder, "E1")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "评分表"
    ws = wb["评分表"]
    headers = [ws.cell(5, c).value for c in range(1, 7)]
    assert headers == ["编号", "评审因素", "权重", "分值范围", "评分指引", "V1: 得分"]
    fill(path, full_scores(8), sheet="评分表")
    rows = read(host, context, rfp, path)
    assert rows[0]["cell"] == "评分表!F6" and rows[0]["score"] == 8.0


def test_same_input_gives_the_same_bytes(setup, tmp_path: Path) -> None:
    host, context, rfp, folder = setup
    first = write(host, context, rfp, folder, "E1")
    second = write(host, context, rfp, tmp_path / "elsewhere", "E1")
    assert hashlib.sha256(first.read_bytes()).digest() == hashlib.sha256(second.read_bytes()).digest()
    other = write(host, context, rfp, folder, "E2")
    assert other.read_bytes() != first.read_bytes()
    with zipfile.ZipFile(first) as archive:
        assert {i.date_time for i in archive.infolist()} == {(2000, 1, 1, 0, 0, 0)}  # FIXED_TIME
        core = archive.read("docProps/core.xml").decode()
    assert "2000-01-01T00:00:00Z" in core and "rfpflow" in core


def test_formula_like_text_is_written_as_text(setup) -> None:
    host, context, rfp, folder = setup
    path = write(host, context, rfp, folder, "E1", vendors=["=HYPERLINK(\"http://x\")", "V2"])
    with zipfile.ZipFile(path) as archive:
        sheets = [archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/worksheets/")]
    assert all("<f>" not in xml and "<f " not in xml for xml in sheets)
    values = {"F6": 5, "F7": 5, "F8": 5, "H6": 6, "H7": 6, "H8": 6}
    fill(path, values)
    rows = read(host, context, rfp, path)
    assert {r["vendor"] for r in rows} == {"=HYPERLINK(\"http://x\")", "V2"}


def test_out_of_scale_and_ambiguous_text_scores_are_reported_with_their_cells(setup) -> None:
    host, context, rfp, folder = setup
    path = write(host, context, rfp, folder, "E1")
    values = full_scores(5)
    values.update({"F7": 11, "H7": "7,5", "J6": -1})
    fill(path, values)
    with pytest.raises(InputFileError) as caught:
        read(host, context, rfp, path)
    error = caught.value
    assert "e1.xlsx: 3 problems in the score sheet of evaluator E1" in str(error)
    found = {(p.file, p.place): p.message for p in error.problems}
    assert set(found) == {("e1.xlsx", "Scores!F7"), ("e1.xlsx", "Scores!H7"), ("e1.xlsx", "Scores!J6")}
    assert found[("e1.xlsx", "Scores!F7")] == "score of V1 on 'team' is 11, outside the scale 0–10"
    assert found[("e1.xlsx", "Scores!J6")] == "score of V3 on 'approach' is -1, outside the scale 0–10"
    assert found[("e1.xlsx", "Scores!H7")].startswith("score of V2 on 'team' \"7,5\" is ambiguous")


def test_decimal_comma_rfp_reads_7_comma_5(setup) -> None:
    host, context, rfp, folder = setup
    rfp = attrs.evolve(rfp, decimal_comma=True)
    path = write(host, context, rfp, folder, "E1")
    values = full_scores(5)
    values["H7"] = "7,5"
    fill(path, values)
    rows = read(host, context, rfp, path)
    assert next(r for r in rows if r["cell"] == "Scores!H7")["score"] == 7.5


def test_blank_scores_are_listed_as_missing_by_evaluator_and_vendor(setup) -> None:
    host, context, rfp, folder = setup
    path = write(host, context, rfp, folder, "E3")
    values = full_scores(5)
    del values["H6"], values["J8"]
    values["H7"] = "   "
    fill(path, values)
    with pytest.raises(InputFileError) as caught:
        read(host, context, rfp, path)
    assert "e3.xlsx: 3 problems in the score sheet of evaluator E3, 3 scores missing" in str(caught.value)
    assert [(p.place, p.message) for p in caught.value.problems] == [
        ("Scores!H6", "score missing: evaluator E3, vendor V2, criterion 'approach'"),
        ("Scores!H7", "score missing: evaluator E3, vendor V2, criterion 'team'"),
        ("Scores!J8", "score missing: evaluator E3, vendor V3, criterion 'experience'"),
    ]


def test_a_sheet_for_another_rfp_is_refused(setup) -> None:
    host, context, rfp, folder = setup
    path = write(host, context, rfp, folder, "E1")
    fill(path, full_scores(5))
    other = attrs.evolve(rfp, id="RFP-2027-099")
    with pytest.raises(InputFileError) as caught:
        read(host, context, other, path)
    (problem,) = caught.value.problems
    assert problem.message == "this score sheet is for RFP 'RFP-2027-001', not 'RFP-2027-099'"
    assert (problem.file, problem.place) == ("e1.xlsx", "rfpflow!B2")


def test_a_sheet_for_another_version_of_the_definition_is_refused(setup) -> None:
    host, context, rfp, folder = setup
    path = write(host, context, rfp, folder, "E1")
    fill(path, full_scores(5))
    amended = attrs.evolve(rfp, definition_hash="0" * 64)
    with pytest.raises(InputFileError, match="made for another version of the RFP definition"):
        read(host, context, amended, path)


def test_the_expected_evaluator_is_checked(setup) -> None:
    host, context, rfp, folder = setup
    path = write(host, context, rfp, folder, "E1")
    fill(path, full_scores(5))
    assert len(read_score_sheet(path, rfp, evaluator="E1")) == 9
    with pytest.raises(InputFileError) as caught:
        read_score_sheet(path, rfp, evaluator="E2")
    assert [p.message for p in caught.value.problems] == ["this is the score sheet of evaluator 'E1', not of 'E2'"]
    removed = attrs.evolve(rfp, evaluators=rfp.evaluators[1:])
    with pytest.raises(InputFileError, match="evaluator 'E1' of this score sheet is not on the panel"):
        read_score_sheet(path, removed)


def test_moved_rows_are_caught(setup) -> None:
    host, context, rfp, folder = setup
    path = write(host, context, rfp, folder, "E1")
    values = full_scores(5)
    values.update({"A6": "team", "A7": "approach"})
    fill(path, values)
    with pytest.raises(InputFileError) as caught:
        read(host, context, rfp, path)
    assert [p.place for p in caught.value.problems] == ["Scores!A6", "Scores!A7"]
    assert "rows must not be moved" in caught.value.problems[0].message


def test_other_files_are_not_ours(setup, tmp_path: Path) -> None:
    host, context, rfp, _ = setup
    csv = tmp_path / "scores.csv"
    csv.write_text("evaluator,vendor\n", encoding="utf-8")
    assert read(host, context, rfp, csv) is None
    assert host.first("rfpflow_write_score_sheet", Path, rfp=rfp, evaluator_id="E1", vendor_ids=VENDORS,
                      target=tmp_path / "e1.ods", context=context, vendor_names={}) is None


def test_a_workbook_not_written_by_rfpflow_is_refused(setup, tmp_path: Path) -> None:
    host, context, rfp, _ = setup
    path = tmp_path / "my-scores.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "approach"
    wb.save(path)
    with pytest.raises(InputFileError, match="not an rfpflow score sheet"):
        read(host, context, rfp, path)


def test_file_checks_run_before_reading(setup, tmp_path: Path) -> None:
    host, context, rfp, _ = setup
    fake = tmp_path / "e1.xlsx"
    fake.write_text("evaluator,vendor,score\nE1,V1,7\n", encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        read(host, context, rfp, fake)
    assert "e1.xlsx" in str(caught.value)


def test_writing_refuses_what_cannot_be_scored(setup, tmp_path: Path) -> None:
    _, _, rfp, _ = setup
    with pytest.raises(RfpflowError, match="evaluator 'E9' is not on the panel"):
        write_score_sheet(rfp, "E9", VENDORS, tmp_path / "x.xlsx")
    with pytest.raises(RfpflowError, match="vendor\\(s\\) listed twice: V1"):
        write_score_sheet(rfp, "E1", ["V1", "V1"], tmp_path / "x.xlsx")
    assert not (tmp_path / "x.xlsx").exists()


def test_three_returned_sheets_feed_the_evaluation(setup) -> None:
    host, context, rfp, folder = setup
    given = {"E1": 7, "E2": 8, "E3": 2}  # every score of each evaluator
    scores = []
    for evaluator, score in given.items():
        path = write(host, context, rfp, folder, evaluator)
        fill(path, full_scores(score))
        scores += score_entries(read(host, context, rfp, path), file=path.name)
    assert scores[0].place == "e1.xlsx: Scores!F6"
    bids = [Bid(v, f"Vendor {v}", f"{v}.xlsx", prices=(PriceLine("L1", Decimal(1), Decimal(p)),))
            for v, p in (("V1", 100), ("V2", 125), ("V3", 200))]
    matrix = criterion_values(rfp, bids, scores, host=host)
    # median of 7, 8, 2 = 7: 0.7 x (25 + 20 + 15) = 42 technical points; price 40 / 32 / 20
    assert [matrix.total(v) for v in VENDORS] == pytest.approx([82.0, 74.0, 62.0])
    assert matrix.value("V1", "team").evidence == ("e1.xlsx: Scores!F7", "e2.xlsx: Scores!F7", "e3.xlsx: Scores!F7")
    ranking = rank_vendors(rfp, matrix, bids, host=host, submitted_at={})
    assert [e.vendor_id for e in ranking.entries] == VENDORS


def test_columns_are_headed_with_the_names_evaluators_know(setup, tmp_path: Path) -> None:
    """Issue 15: the vendor's name over its columns (the id stays in the metadata), and it reads back."""
    _host, _context, rfp, _folder = setup
    path = write_score_sheet(rfp, "E1", VENDORS, tmp_path / "s.xlsx",
                             {"V1": "Acme Hotline Services Ltd.", "V2": "=Beta BPO", "V3": "华信"})
    sheet = openpyxl.load_workbook(path)["Scores"]
    assert [sheet[f"{c}5"].value for c in "FGHIJK"] == [
        "Acme Hotline Services Ltd.: score", "Acme Hotline Services Ltd.: comment", "=Beta BPO: score",
        "=Beta BPO: comment", "华信: score", "华信: comment"]
    assert sheet["H5"].data_type == "s"  # vendor text is never a formula
    fill(path, full_scores())
    scores = read_score_sheet(path, rfp)
    assert sorted({s["vendor"] for s in scores}) == VENDORS
