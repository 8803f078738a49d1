"""The hook contract is documented and tested: datasette's guard, applied to rfpflow.

These tests fail when a hookspec has no heading in docs/hooks.md, when the
heading's signature differs from the code, or when no test mentions a hook.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from rfpflow import hookspecs

ROOT = Path(__file__).resolve().parent.parent
HOOKS = [name for name in vars(hookspecs) if name.startswith("rfpflow_")]


def signature_of(name: str) -> str:
    fn = getattr(hookspecs, name)
    sig = inspect.signature(fn)
    params = ", ".join(f"{p.name}: {p.annotation}" for p in sig.parameters.values())
    return f"{name}({params}) -> {sig.return_annotation}"


def documented_signatures() -> dict[str, str]:
    text = (ROOT / "docs" / "hooks.md").read_text(encoding="utf-8")
    found = {}
    for heading in re.findall(r"^### `(rfpflow_\w+\(.*\).*)`$", text, flags=re.M):
        found[heading.split("(", 1)[0]] = heading
    return found


def test_there_is_a_hook_for_each_decision_point() -> None:
    required = {
        "rfpflow_register_profiles", "rfpflow_validate_rfp", "rfpflow_read_bids",
        "rfpflow_register_screening_rules", "rfpflow_due_diligence", "rfpflow_register_scoring_methods",
        "rfpflow_evaluate_trial", "rfpflow_decide_award", "rfpflow_register_documents",
        "rfpflow_prepare_jinja_env", "rfpflow_export", "rfpflow_register_commands",
        "rfpflow_transition", "rfpflow_after_transition",
    }
    assert required <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented_with_its_exact_signature(hook: str) -> None:
    docs = documented_signatures()
    assert hook in docs, f"docs/hooks.md has no '### `{hook}(...)`' heading"
    assert docs[hook] == signature_of(hook)


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_docstring_says_mode_and_stage(hook: str) -> None:
    doc = " ".join((inspect.getdoc(getattr(hookspecs, hook)) or "").split())
    assert "Stage:" in doc
    firstresult = getattr(hookspecs, hook).rfpflow_spec.get("firstresult")
    assert ("first non-None result wins" in doc) == bool(firstresult), hook
    assert "Return" in doc


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_exercised_by_a_test(hook: str) -> None:
    this = Path(__file__).resolve()
    sources = [p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("test_*.py") if p.resolve() != this]
    assert any(re.search(rf"\b{hook}\b", s) for s in sources), f"no test mentions {hook}"


def test_documented_hooks_all_exist() -> None:
    assert set(documented_signatures()) == set(HOOKS)
