"""Issue 17: over generated cycles (weights, scores, prices, evaluator counts), every document and
export says one number per vendor: the evaluation report, the award recommendation, every letter, the
JSON export and the xlsx export (its recorded totals, and its live formulas evaluated by hand) agree
with the evaluation's stored totals (a property)."""

from __future__ import annotations

import datetime as dt
import io
import re
import tempfile
from decimal import Decimal
from pathlib import Path

import openpyxl
from hypothesis import given, settings
from hypothesis import strategies as st

from rfpflow import evaluation
from rfpflow.builtins.export_json import json_document
from rfpflow.builtins.export_xlsx import FIRST_ROW, MATRIX, WEIGHTS, xlsx_bytes
from rfpflow.definition import check_rfp
from rfpflow.documents.render import render_documents
from rfpflow.documents.view import award_view, evaluation_view, rfp_view
from rfpflow.formatting import format_number
from rfpflow.model import AwardDecision, Bid, PriceLine
from rfpflow.testing import make_host

from .view_fixture import sample_view

NAMES = ["Acme Services", "Beta BPO", "Gamma Contact", "Delta Care", "Epsilon Desk"]


def _rfp_text(weights: list[int], evaluators: int) -> str:
    criteria = "".join(f'\n[criteria.c{i}]\nname = "Criterion {i}"\nweight = {w}\n' for i, w in enumerate(weights))
    panel = "".join(f'\n[[evaluators]]\nid = "E{i}"\nname = "Evaluator {i}"\n' for i in range(1, evaluators + 1))
    return (f'id = "RFP-P"\ntitle = "Property"\nbuyer = "Buyer"\ncategory = "BPO"\ncurrency = "CNY"\n'
            f'timezone = "Asia/Shanghai"\n\n[timeline]\nbid_deadline = 2027-03-01T17:00:00\n{criteria}'
            f'\n[criteria.price]\nname = "Price"\nweight = {100 - sum(weights)}\nsource = "price"\n'
            f'\n[[pricing.items]]\nid = "L1"\ndescription = "Service"\nunit = "month"\nquantity = 12\n{panel}')


@st.composite
def cycles(draw: st.DrawFn) -> tuple[str, int, list[int], list[list[list[int]]]]:
    n_criteria = draw(st.integers(1, 3))
    weights = [draw(st.integers(5, 25)) for _ in range(n_criteria)]
    evaluators = draw(st.integers(1, 4))
    vendors = draw(st.integers(2, 4))
    prices = [draw(st.integers(50_000, 150_000)) for _ in range(vendors)]
    scores = [[[draw(st.integers(0, 10)) for _ in range(n_criteria)] for _ in range(evaluators)]
              for _ in range(vendors)]
    return _rfp_text(weights, evaluators), vendors, prices, scores


@settings(max_examples=12)
@given(cycles())
def test_every_document_agrees_on_every_vendors_numbers(cycle: tuple[str, int, list[int], list]) -> None:
    text, vendors, prices, scores = cycle
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rfp.toml"
        path.write_text(text, encoding="utf-8")
        rfp, problems = check_rfp(path)
        assert rfp is not None, problems
        host = make_host()
        ids = [f"v{i}" for i in range(vendors)]
        bids = [Bid(v, NAMES[i], f"{v}.xlsx", prices=(PriceLine("L1", Decimal(12), Decimal(prices[i])),))
                for i, v in enumerate(ids)]
        entries = [evaluation.ScoreEntry(f"E{e + 1}", ids[v], f"c{c}", float(score))
                   for v, per_vendor in enumerate(scores) for e, per_evaluator in enumerate(per_vendor)
                   for c, score in enumerate(per_evaluator)]
        submitted = {v: dt.datetime(2027, 2, 1, 9, i, tzinfo=dt.UTC) for i, v in enumerate(ids)}
        matrix = evaluation.criterion_values(rfp, bids, entries, host=host)
        ranking = evaluation.rank_vendors(rfp, matrix, bids, host=host, submitted_at=submitted)
        result = evaluation_view(rfp, matrix, ranking, evaluation.outlier_review(rfp, entries),
                                 evaluation.sensitivity_report(rfp, matrix, bids=bids, ranking=ranking), entries)
        names = dict(zip(ids, NAMES, strict=False))
        view = sample_view()
        view["rfp"] = rfp_view(rfp)
        view["vendors"] = [dict(view["vendors"][0], id=v, name=names[v], total_price=str(prices[i] * 12),
                                gates=[], screening="pass", registration_no="") for i, v in enumerate(ids)]
        view["evaluation"] = result
        view["shortlist"] = []
        view["trial"] = None
        top = ranking.top.vendor_id if ranking.top else ids[0]
        view["award"] = award_view(AwardDecision(top), ranking, names)
        out = Path(folder) / "out"
        docs = {p.name: p.read_text(encoding="utf-8")
                for p in render_documents(view, host, workspace=None, out_dir=out)}
        report, recommendation = docs["evaluation-report.md"], docs["award-recommendation.md"]
        # the report names the normalisation the weighted sum applied, not the one rfp.toml may name
        assert ("normalisation each score's position on its criterion's scale (score ÷ scale maximum × the "
                "criterion's points)") in report
        for total in result["totals"]:
            shown = format_number(total["total"])
            name = names[total["vendor"]]
            assert any(name in line and shown in line for line in report.splitlines()), (name, shown)
            assert any(name in line and f"**{shown}**" in line for line in recommendation.splitlines()), (name, shown)
            letter = next(text for file, text in docs.items()
                          if file.endswith(".md") and "letter" in file and name.replace(" ", "-") in file)
            assert shown in letter, (name, shown, letter)
            if total["vendor"] != top:
                assert f"ranked {total['rank']} of {len(ids)}" in letter
            else:
                assert "of 1 " not in letter
        _exports_agree(view, result, names)


def _exports_agree(view: dict, result: dict, names: dict[str, str]) -> None:
    exported = json_document(view)["cycle"]["evaluation"]["totals"]
    assert [(t["vendor"], t["rank"], t["total"]) for t in exported] == \
        [(t["vendor"], t["rank"], t["total"]) for t in result["totals"]]
    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(view)))
    matrix, weights = book[MATRIX], book[WEIGHTS]
    headers = [c.value for c in matrix[1]]
    total_col, recorded_col = headers.index("Total") + 1, headers.index("Recorded total") + 1
    for offset, total in enumerate(result["totals"]):
        row = FIRST_ROW + offset
        assert matrix.cell(row, 2).value == names[total["vendor"]]
        assert matrix.cell(row, recorded_col).value == total["total"]
        # the live formula (share of each criterion's weight × the weight on the Weights sheet), by hand
        formula = str(matrix.cell(row, total_col).value)
        live = 0.0
        for cell, column, weight_row in re.findall(r"([A-Z]+\d+)\*" + WEIGHTS + r"!\$([A-Z]+)\$(\d+)", formula):
            live += float(matrix[cell].value or 0) * float(weights[f"{column}{weight_row}"].value or 0)
        assert formula.startswith("=") and abs(live - total["total"]) < 0.005, (formula, live, total["total"])
