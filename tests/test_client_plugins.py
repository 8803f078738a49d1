"""Three client plugins written from the docs alone (tests/plugins/), installed and used as a consultant would.

A session fixture lays each distribution out in a site folder the way pip installs it (the package,
and a dist-info with the entry points of its pyproject.toml); the command line then finds them through
``importlib.metadata`` on ``PYTHONPATH``, under their entry-point names (``bank``, ``letterhead``,
``legacy``), exactly as installed plugins.
"""

from __future__ import annotations

import shutil
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from rfpflow.definition import load_rfp
from rfpflow.evaluation import _call_price_formula
from rfpflow.model import Answer, Bid, Gate
from rfpflow.testing import make_context, make_host, run_cli
from tests.conftest import run_cli as run_subprocess
from tests.hostile.harness import GENERIC_BIDS, GENERIC_ISSUE, FlagshipStages, step_args

PLUGINS = Path(__file__).resolve().parent / "plugins"


def lay_out(distribution: Path, site: Path) -> None:
    """Install ``distribution`` into ``site`` as pip lays a wheel out: its package and a dist-info."""
    project = tomllib.loads((distribution / "pyproject.toml").read_text(encoding="utf-8"))
    meta = project["project"]
    for package in project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]:
        shutil.copytree(distribution / package, site / Path(package).name)
    info = site / f"{meta['name'].replace('-', '_')}-{meta['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n",
                                   encoding="utf-8")
    points = meta["entry-points"]["rfpflow"]
    (info / "entry_points.txt").write_text("[rfpflow]\n" + "".join(f"{k} = {v}\n" for k, v in points.items()),
                                           encoding="utf-8")
    (info / "RECORD").write_text("", encoding="utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("client-site")
    for distribution in sorted(PLUGINS.glob("*/pyproject.toml")):
        lay_out(distribution.parent, folder)
    sys.path.insert(0, str(folder))
    yield folder
    sys.path.remove(str(folder))
    for name in ("rfpflow_bank", "rfpflow_letterhead", "rfpflow_legacy_prices"):
        sys.modules.pop(name, None)


def plugin(site: Path, module: str) -> Any:
    import importlib

    return importlib.import_module(module)


def test_the_plugins_are_listed_with_everything_they_register(site: Path) -> None:
    done = run_subprocess("plugins", pythonpath=[site])
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    out = done.stdout
    assert ("\nbank  (rfpflow-bank 1.0.0)\n  rfpflow_register_profiles\n  rfpflow_register_scoring_methods\n"
            "  rfpflow_register_screening_rules\n  registers gate kind bank-residency\n"
            "  registers price formula bank-value\n  registers profile bank-it\n") in out
    assert ("\nletterhead  (rfpflow-letterhead 1.0.0)\n  rfpflow_prepare_jinja_env\n  rfpflow_register_documents\n"
            "  rfpflow_template_dirs\n  registers document board-summary\n") in out
    assert "\nlegacy  (rfpflow-legacy-prices 1.0.0)\n  rfpflow_read_bids\n" in out


def test_the_bank_profile_makes_a_valid_definition(site: Path, tmp_path: Path) -> None:
    made = run_subprocess("new", str(tmp_path / "ws"), "--profile", "bank-it", pythonpath=[site])
    assert made.returncode == 0, made.stderr
    valid = run_subprocess("-C", str(tmp_path / "ws"), "validate", pythonpath=[site])
    assert valid.returncode == 0, valid.stderr
    assert valid.stdout.startswith("rfp.toml: valid - RFP-2027-001 ")
    assert ", 6 gates, " in valid.stdout


@pytest.mark.parametrize(("answer", "on_fail", "outcome", "reason"), [
    ("Yes", "fail", "pass", "Q2: customer data stays in the country"),
    ("No", "fail", "fail", "Q2: answered 'No', 'Yes' required"),
    ("No", "review", "review", "Q2: answered 'No', 'Yes' required"),
    (None, "fail", "review", "Q2 (data residency) not answered"),
])
def test_the_residency_gate(site: Path, answer: str | None, on_fail: str, outcome: str, reason: str) -> None:
    bank = plugin(site, "rfpflow_bank")
    host = make_host(bank)
    rule = host.screening_rules()["bank-residency"]
    answers = () if answer is None else (Answer("Q2", answer, cell="Questionnaire!D6"),)
    bid = Bid("acme", "Acme", "acme.xlsx", answers=answers)
    gate = Gate("residency", "bank-residency", on_fail=on_fail, params={"question": "Q2"})
    rfp = load_rfp(Path(bank.__file__).parent / "bank-it.en.toml", context=make_context(host))
    result = rule.check(bid, gate, (bid,), rfp, make_context(host))
    assert (result.outcome, result.reason) == (outcome, reason)
    assert host.screening_rules().suppliers["bank-residency"] == "bank"


def test_the_bank_price_formula_gets_its_options_and_the_quality_scores(site: Path) -> None:
    bank = plugin(site, "rfpflow_bank")
    host = make_host(bank)
    rfp = load_rfp(Path(bank.__file__).parent / "bank-it.en.toml", context=make_context(host))
    assert dict(rfp.scoring.options) == {"bank_exponent": 2.0, "bank_min_quality": 50}
    points = _call_price_formula(rfp, host, [100.0, 200.0, 400.0], 40.0, [80.0, 60.0, 30.0])
    assert points == [40.0, 10.0, 0.0]


def test_the_bank_price_formula_refusing_its_options_is_a_problem_of_the_formula(site: Path) -> None:
    import attrs

    from rfpflow.evaluation import EvaluationError

    bank = plugin(site, "rfpflow_bank")
    host = make_host(bank)
    rfp = load_rfp(Path(bank.__file__).parent / "bank-it.en.toml", context=make_context(host))
    broken = attrs.evolve(rfp, scoring=attrs.evolve(rfp.scoring, options={"bank_exponent": 0}))
    with pytest.raises(EvaluationError) as caught:
        _call_price_formula(broken, host, [100.0], 40.0, [80.0])
    assert str(caught.value) == "price formula 'bank-value': bank_exponent must be above 0, got 0"


def legacy_workbook(path: Path, rows: list[list[Any]]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Prices"
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def test_the_legacy_reader_imports_a_workbook_and_says_it_read_it(site: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert run_subprocess("new", str(ws), pythonpath=[site]).returncode == 0
    issued = run_subprocess("-C", str(ws), "--now", GENERIC_ISSUE, "issue", pythonpath=[site])
    assert issued.returncode == 0, issued.stderr
    (ws / "bids").mkdir(exist_ok=True)
    legacy_workbook(ws / "bids" / "acme.legacy.xlsx", [
        ["Vendor", "Acme Services Ltd."], ["Code", "ACME"], [], ["Item", "Qty", "Unit price"],
        ["L1", 12, 8000], ["L2", 1, 20000]])
    legacy_workbook(ws / "bids" / "bad.legacy.xlsx", [
        ["Vendor", "Bad Ltd."], ["Code", "BAD"], [], ["Item", "Qty", "Unit price"], ["L9", 1, "abc"]])
    done = run_subprocess("-C", str(ws), "--now", GENERIC_BIDS, "bids", "import", str(ws / "bids"),
                          pythonpath=[site])
    assert done.returncode == 2
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["imported", "acme.legacy.xlsx", "acme", "new,", "read", "by", "plugin", "'legacy'"]
    assert lines[1:] == ["  refused   bad.legacy.xlsx", "1 imported, 1 refused"]
    assert done.stderr == ("plugin 'legacy': bad.legacy.xlsx: 1 problem(s) in the legacy price workbook\n"
                           '  bad.legacy.xlsx:Prices!B5:C5: unit price "abc" is not a number\n')


def test_the_legacy_reader_failing_names_the_file(site: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert run_subprocess("new", str(ws), pythonpath=[site]).returncode == 0
    assert run_subprocess("-C", str(ws), "--now", GENERIC_ISSUE, "issue", pythonpath=[site]).returncode == 0
    (ws / "bids").mkdir(exist_ok=True)
    (ws / "bids" / "broken.legacy.xlsx").write_bytes(b"not a zip file")
    done = run_subprocess("-C", str(ws), "--now", GENERIC_BIDS, "bids", "import", str(ws / "bids"),
                          pythonpath=[site])
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("error: plugin 'legacy' failed in rfpflow_read_bids (file broken.legacy.xlsx): ")


@pytest.fixture(scope="module")
def stages(tmp_path_factory: pytest.TempPathFactory) -> FlagshipStages:
    return FlagshipStages(tmp_path_factory.mktemp("client-stages"))


def test_the_letterhead_and_the_board_summary_in_both_languages(site: Path, stages: FlagshipStages,
                                                               tmp_path: Path) -> None:
    letterhead = plugin(site, "rfpflow_letterhead")
    host = make_host(letterhead)
    award = 12
    workspace = stages.copy_before(award, tmp_path / "ws")
    result = run_cli(step_args(workspace, award), host=host)
    assert result.exit_code == 0, result.stderr
    summary = (workspace / "out" / "board-summary.md").read_text(encoding="utf-8")
    assert "# 董事会摘要" in summary
    assert ("致华东优选连锁超市有限公司董事会：采购小组建议“客服热线外包服务采购”由 "
            "**成都新锐智能客服有限公司** 中标。") in summary
    html = (workspace / "out" / "award-recommendation.html").read_text(encoding="utf-8")
    assert '<p class="letterhead"><strong>华东优选连锁超市有限公司</strong></p>' in html

    from rfpflow.documents.render import render_documents
    from rfpflow.workflow import Cycle, cycle_view

    context = make_context(host, workspace=workspace)
    view = cycle_view(context)
    view["rfp"]["language"] = "en"
    written = render_documents(view, host, workspace=workspace, out_dir=tmp_path / "en", stage="award-recommended",
                               rfp=Cycle(workspace, context).current_rfp())
    assert tmp_path / "en" / "board-summary.md" in written
    english = (tmp_path / "en" / "board-summary.md").read_text(encoding="utf-8")
    assert "# Board Summary" in english
    assert "the procurement team recommends **成都新锐智能客服有限公司** for 客服热线外包服务采购." in english
