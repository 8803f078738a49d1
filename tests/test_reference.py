"""docs/reference/ is generated from the code (tools/gen_reference.py) and must match it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "reference"


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_reference", ROOT / "tools" / "gen_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_reference"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["README.md", "data-model.md", "registry.md", "callables.md",
                                  "import-mapping.md", "helpers.md"])
def test_the_reference_is_up_to_date(name: str) -> None:
    expected = generator().pages()[name]
    actual = (REFERENCE / name).read_text(encoding="utf-8") if (REFERENCE / name).exists() else ""
    assert actual == expected, f"docs/reference/{name} is out of date: run python tools/gen_reference.py"


def test_the_reference_covers_what_a_consultant_had_to_read_the_source_for() -> None:
    pages = generator().pages()
    for record in ("Bid", "Answer", "PriceLine", "Certification", "Gate", "Rfp", "Ranking"):
        assert f"### `rfpflow.model.{record}`" in pages["data-model.md"]
    for record in ("ScreeningRule", "ScoringMethod", "Profile", "DocumentSpec"):
        assert f"### `rfpflow.registry.{record}`" in pages["registry.md"]
    assert "| `profiles` | `tuple[str, ...]` | `()` |" in pages["registry.md"]
    assert "formula(prices: list[float], max_points: float, *, options=..., quality=..., rfp=...)" in (
        pages["callables.md"])
    assert "[import.mapping.pricing]" in pages["import-mapping.md"]
    for helper in ("rfpflow.spreadsheets.cells", "rfpflow.spreadsheets.filecheck", "rfpflow.errors"):
        assert f"## `{helper}`" in pages["helpers.md"]
    assert "- `parse_number(" in pages["helpers.md"] and "- class `InputFileError(" in pages["helpers.md"]


@pytest.mark.slow
def test_the_cycle_view_reference_is_up_to_date(tmp_path: Path) -> None:
    expected = generator().cycle_view_page(tmp_path)
    assert (REFERENCE / "cycle-view.md").read_text(encoding="utf-8") == expected, (
        "docs/reference/cycle-view.md is out of date: run python tools/gen_reference.py --views")
