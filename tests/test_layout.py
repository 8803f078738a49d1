"""The package layout: the core at the top level, one subpackage per subsystem, no import circles."""

from __future__ import annotations

import ast
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import rfpflow

PACKAGE = Path(rfpflow.__file__).parent
SUBSYSTEMS = ("spreadsheets", "documents", "store", "builtins")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if "scaffold_template" not in p.parts}


def _module_level_imports(path: Path, name: str, *, type_only: bool = True) -> set[str]:
    """rfpflow modules imported at module level (not inside functions); with ``type_only``, also
    those in ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith("rfpflow"))
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    base = ".".join([*parts[: len(parts) - node.level + 1], base]).strip(".")
                if base.startswith("rfpflow"):
                    found.add(base)
                    found.update(f"{base}.{a.name}" for a in node.names)
            elif isinstance(node, (ast.If, ast.Try, ast.With)):
                if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test) and not type_only:
                    continue
                visit(node.body)
                visit(getattr(node, "orelse", []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)
    visit(tree.body)
    return found


def _graph(*, type_only: bool = True) -> dict[str, set[str]]:
    """Module -> the rfpflow modules it imports (its own ancestor packages left out: Python always
    initialises a package before its submodules, so that is no circle)."""
    modules = _modules()
    return {name: {m for m in _module_level_imports(path, name, type_only=type_only)
                   if m in modules and m != name and not name.startswith(m + ".")}
            for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                found.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            walk(node)
    return found


def test_no_import_circle_at_module_level() -> None:
    assert _cycles(_graph(type_only=False)) == []


def test_type_only_references_form_just_the_one_known_circle() -> None:
    """Type hints may point upward under TYPE_CHECKING (never executed). One such circle is known and
    deliberate: the hook contract names RunContext, whose ``host`` is the PluginHost, which loads
    the contract. Any other circle, even of type hints only, fails here."""
    cycles = {frozenset(c) for c in _cycles(_graph(type_only=True))}
    assert cycles == {frozenset({"rfpflow.hookspecs", "rfpflow.context", "rfpflow.plugins"})}


def test_the_cycle_finder_finds_a_circle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c", "a"]]


def test_the_core_is_small_and_each_subsystem_says_what_it_owns() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 25, top
    for sub in SUBSYSTEMS:
        doc = ast.get_docstring(ast.parse((PACKAGE / sub / "__init__.py").read_text(encoding="utf-8")))
        assert doc and len(doc.split()) >= 15, f"{sub}/__init__.py needs a docstring saying what it owns"


@pytest.mark.parametrize("sub", ["spreadsheets", "documents", "store"])
def test_subsystems_never_import_the_workflow_or_the_cli(sub: str) -> None:
    graph = _graph()
    for name, imported in graph.items():
        if name.startswith(f"rfpflow.{sub}"):
            assert not imported & {"rfpflow.workflow", "rfpflow.cli", "rfpflow.runner"}, name


def test_the_store_imports_no_other_subsystem() -> None:
    for name, imported in _graph().items():
        if name.startswith("rfpflow.store"):
            others = {m for m in imported if m.startswith(("rfpflow.spreadsheets", "rfpflow.documents",
                                                           "rfpflow.builtins"))}
            assert not others, (name, others)


@pytest.mark.parametrize(("old", "new", "name"), [
    ("rfpflow.cells", "rfpflow.spreadsheets.cells", "write_text"),
    ("rfpflow.filecheck", "rfpflow.spreadsheets.filecheck", "check_workbook_file"),
    ("rfpflow.xlsx_samples", "rfpflow.spreadsheets.samples", "write_bid_workbooks"),
    ("rfpflow.serde", "rfpflow.store.serde", "dumps"),
    ("rfpflow.views", "rfpflow.documents.view", "seal_prices"),
    ("rfpflow.views", "rfpflow.workflow", "cycle_view"),
])
def test_old_module_names_still_import_with_a_deprecation_warning(old: str, new: str, name: str) -> None:
    import importlib

    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=f"{old} moved to "):
        module = importlib.import_module(old)
    assert getattr(module, name) is getattr(importlib.import_module(new), name)
    sys.modules.pop(old, None)


def test_documented_names_import_from_their_places() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # none of these is a deprecated path
        from rfpflow.documents import VendorDocumentSpec, format_money, render_documents  # noqa: F401
        from rfpflow.store import SqliteStore, Store, Transaction, verify_chain  # noqa: F401
        from rfpflow.workflow import Cycle, cycle_view  # noqa: F401
    assert format_money("1080000", "CNY") == "CNY 1,080,000.00"


def test_help_loads_neither_jinja_nor_openpyxl() -> None:
    code = ("import sys; from rfpflow.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('jinja2', 'openpyxl') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(("value", "shown"), [("12", "12"), ("60000", "60,000"), ("1.50", "1.5"), (None, "—"),
                                              ("0.125", "0.125"), ("n/a", "n/a")])
def test_quantities_print_as_the_rfp_states_them(value: object, shown: str) -> None:
    from rfpflow.formatting import format_quantity

    assert format_quantity(value) == shown
