"""The organisation profiles under plugins/, loaded from source, and the rfpflow.testing fixtures they use.

Each plugin distribution has its own tests (tox -e plugins installs it and runs them); here the main
suite checks, without installing anything, that every profile makes a workspace whose rfp.toml is
valid with its plugin, that each distribution is packaged as rfpflow expects, and that the
``rfpflow_workspace`` and ``rfpflow_bid_workbook`` fixtures work.
"""

from __future__ import annotations

import datetime as dt
import importlib
import tomllib
from pathlib import Path

import openpyxl
import pytest

from rfpflow.definition import check_rfp, load_rfp
from rfpflow.errors import RfpflowError
from rfpflow.hookspecs import HOOK_API_VERSION
from rfpflow.testing import make_host

PLUGINS = Path(__file__).resolve().parent.parent / "plugins"
# distribution folder -> (module, entry-point name, profile, languages)
DISTRIBUTIONS = {
    "rfpflow-outsourcing": ("rfpflow_outsourcing", "outsourcing", "outsourcing-5d", ("en", "zh")),
    "rfpflow-cn-gov": ("rfpflow_cn_gov", "cn-gov", "cn-gov-87", ("zh",)),
    "rfpflow-eu": ("rfpflow_eu", "eu", "eu-meat", ("en",)),
    "rfpflow-worldbank": ("rfpflow_worldbank", "worldbank", "worldbank-qcbs", ("en",)),
}


@pytest.fixture
def load_plugin(monkeypatch):
    def load(folder: str):
        monkeypatch.syspath_prepend(str(PLUGINS / folder / "src"))
        return importlib.import_module(DISTRIBUTIONS[folder][0])

    return load


@pytest.mark.parametrize("folder", sorted(DISTRIBUTIONS))
def test_distribution_is_packaged_as_rfpflow_expects(folder: str, load_plugin) -> None:
    module_name, entry_point, _, _ = DISTRIBUTIONS[folder]
    project = tomllib.loads((PLUGINS / folder / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["name"] == folder
    assert project["project"]["entry-points"]["rfpflow"] == {entry_point: module_name}
    assert any(dep.startswith("rfpflow>=0.1") for dep in project["project"]["dependencies"])
    assert project["build-system"]["build-backend"] == "hatchling.build"
    module = load_plugin(folder)
    major, minor = module.RFPFLOW_HOOK_API
    assert major == HOOK_API_VERSION[0] and minor <= HOOK_API_VERSION[1]  # loadable by this rfpflow
    readme = (PLUGINS / folder / "README.md").read_text(encoding="utf-8")
    assert "**[V]**" in readme and "**[K]**" in readme and "not verified" in readme
    assert list((PLUGINS / folder / "tests").glob("test_*.py"))


@pytest.mark.parametrize(("folder", "language"),
                         [(f, lang) for f, (_, _, _, langs) in sorted(DISTRIBUTIONS.items()) for lang in langs])
def test_profile_makes_a_valid_workspace(folder: str, language: str, load_plugin, rfpflow_workspace,
                                         rfpflow_context) -> None:
    host = make_host(load_plugin(folder))
    profile = DISTRIBUTIONS[folder][2]
    workspace = rfpflow_workspace(profile, language, host=host)
    rfp, problems = check_rfp(workspace / "rfp.toml", context=rfpflow_context(host, workspace=workspace))
    assert problems == []
    assert rfp is not None and rfp.profile == profile and rfp.language == language


def test_all_four_plugins_load_together(load_plugin) -> None:
    host = make_host(*(load_plugin(folder) for folder in sorted(DISTRIBUTIONS)))
    assert {"outsourcing-5d", "cn-gov-87", "eu-meat", "worldbank-qcbs"} <= set(host.profiles().names())
    assert host.screening_rules()["cmmi_level"] and host.scoring_methods()["qcbs"].kind == "award"
    assert len(host.documents().names()) == len(set(host.documents().names()))


# -- the rfpflow.testing fixtures ---------------------------------------------------


def test_workspace_fixture_makes_one_folder_per_call(rfpflow_workspace) -> None:
    host = make_host()
    first = rfpflow_workspace("generic", "zh", host=host)
    second = rfpflow_workspace(host=host, name="mine")
    assert first != second and second.name == "mine"
    assert 'language = "zh"' in (first / "rfp.toml").read_text(encoding="utf-8")
    assert {p.name for p in second.iterdir()} >= {"rfp.toml", "bids", "templates", "out"}


def test_workspace_fixture_copies_a_sample_folder(rfpflow_workspace, tmp_path: Path) -> None:
    sample = rfpflow_workspace(host=make_host(), name="sample")
    (sample / "bids" / "note.txt").write_text("kept", encoding="utf-8")
    copy = rfpflow_workspace(sample, name="copy")
    assert (copy / "bids" / "note.txt").read_text(encoding="utf-8") == "kept"
    with pytest.raises(RfpflowError, match=r"no rfp\.toml"):
        rfpflow_workspace(tmp_path / "empty-sample")


def test_workspace_fixture_names_an_unknown_profile(rfpflow_workspace) -> None:
    with pytest.raises(RfpflowError, match=r"no profile 'genric'.*did you mean 'generic'"):
        rfpflow_workspace("genric", host=make_host())


def _cells(path: Path, sheet: str) -> list[list[object]]:
    wb = openpyxl.load_workbook(path)
    return [[c.value for c in row] for row in wb[sheet].iter_rows()]


@pytest.mark.parametrize("language", ["en", "zh"])
def test_bid_workbook_fixture_fills_the_blank_workbook_by_label(rfpflow_workspace, rfpflow_bid_workbook,
                                                                rfpflow_context, language: str) -> None:
    host = make_host()
    workspace = rfpflow_workspace("generic", language, host=host)
    rfp = load_rfp(workspace / "rfp.toml", context=rfpflow_context(host))
    answer = "Yes" if language == "en" else rfp.questionnaire[0].choices[0]
    path = rfpflow_bid_workbook(
        rfp, "acme", host=host,
        company={"vendor_name": "Acme Ltd.", "Year established": 2012, "registration_no": "91350100M000100Y43"},
        certifications=[("ISO 9001:2015", "Q-1", dt.date(2029, 6, 30)), "ISO 27001"],
        answers={"Q1": answer, "Q3": (rfp.questionnaire[2].choices[-1], "weekends only")},
        prices={"L1": 80_000, "L2": 20_000})
    assert path.name == "acme.xlsx"
    company = {row[0].split(" *")[0].split(" / ")[-1]: row[1] for row in _cells(path, "Company") if row[0]}
    assert company["Vendor name"] == "Acme Ltd." and company["Year established"] == 2012
    certificates = [row[:3] for row in _cells(path, "Certifications")[3:5]]
    assert certificates == [["ISO 9001:2015", "Q-1", dt.datetime(2029, 6, 30)], ["ISO 27001", None, None]]
    answers = {row[0]: (row[3], row[4]) for row in _cells(path, "Questionnaire")[3:] if row[0]}
    assert answers["Q1"] == (answer, None) and answers["Q3"][1] == "weekends only"
    prices = {row[0]: row[4] for row in _cells(path, "Pricing")[3:] if row[0] in ("L1", "L2")}
    assert prices == {"L1": 80_000, "L2": 20_000}


def test_bid_workbook_fixture_refuses_what_the_workbook_does_not_ask(rfpflow_workspace, rfpflow_bid_workbook,
                                                                     rfpflow_context) -> None:
    host = make_host()
    rfp = load_rfp(rfpflow_workspace(host=host) / "rfp.toml", context=rfpflow_context(host))
    with pytest.raises(RfpflowError, match="no line item L9"):
        rfpflow_bid_workbook(rfp, prices={"L9": 1}, host=host)
    with pytest.raises(RfpflowError, match="unknown company field 'shoe_size'"):
        rfpflow_bid_workbook(rfp, company={"shoe_size": 42}, host=host)
