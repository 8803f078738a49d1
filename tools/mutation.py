"""A small, deterministic mutation run over rfpflow's rule modules (``tox -e mutation``).

Each mutant is one classic change to one module, made on its syntax tree:

    compare     a flipped comparison (``<`` → ``<=``, ``>=`` → ``>``, ``==`` → ``!=``, ``in`` → ``not in`` ...)
    arith       ``+`` ↔ ``-``, ``*`` ↔ ``/``, ``//`` → ``/``, ``%`` → ``*``
    constant    an int or float constant off by one, ``True`` ↔ ``False``
    boolop      ``and`` ↔ ``or``
    negate      ``if c:`` → ``if not c:`` (also ``x if c else y`` and ``while``)
    not         ``not c`` → ``c``
    return      ``return None`` as the first statement of a function
    delete      a statement replaced by ``pass``

The run copies the repository (``src``, ``tests``, ``samples``, ...) to a scratch folder once,
writes each mutant over the module there, and runs the test files mapped to that module with
``pytest -x -q`` (``PYTHONPATH`` points at the copy, so the worktree is never changed and the
tests you are editing meanwhile do not leak in). A mutant is *killed* when the tests fail,
*timeout* when they run longer than the limit (counted as killed), *survived* when they pass.
Survivors listed in ``tools/mutation_equivalent.txt`` (module, operator, the mutated line, a reason)
are reported as equivalent and left out of the kill rate.

    python tools/mutation.py                       # every module, every mutant
    python tools/mutation.py --module screening    # one module
    python tools/mutation.py --sample 60 --seed 1  # a random but repeatable 60 mutants per module
    python tools/mutation.py --list                # show the mutants, run nothing

The report goes to ``.mutation/report.md`` (and ``.mutation/<module>.json``).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: module key -> (path under src/rfpflow, the test files that exercise it)
MODULES: dict[str, tuple[str, tuple[str, ...]]] = {
    # The fast rule tests first (-x stops at the first failure); the slow property, fuzz and
    # command-line files (test_properties, test_hostile_inputs, test_samples) are left out:
    # each would add 10-17 s to every surviving mutant.
    "scoring": ("scoring.py", ("tests/test_scoring_boundaries.py", "tests/test_scoring.py",
                               "tests/test_evaluation.py")),
    "definition": ("definition.py", ("tests/test_definition_validation.py", "tests/test_definition.py",
                                     "tests/test_profiles.py")),
    "screening": ("builtins/screening.py", ("tests/test_screening_gates.py", "tests/test_evaluation.py")),
    "due_diligence": ("builtins/due_diligence.py", ("tests/test_due_diligence_rules.py",
                                                   "tests/test_due_diligence.py")),
    "evaluation": ("evaluation.py", ("tests/test_evaluation_boundaries.py", "tests/test_evaluation.py")),
    "trial_run": ("builtins/trial_run.py", ("tests/test_trial_run_rules.py", "tests/test_trial_run.py")),
    "award": ("builtins/award.py", ("tests/test_award.py", "tests/test_evaluation.py")),
}

COMPARE_FLIPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In,
    ast.Is: ast.IsNot, ast.IsNot: ast.Is,
}
ARITH_FLIPS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div, ast.Mod: ast.Mult,
}
DELETABLE = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Raise, ast.Continue, ast.Break,
             ast.Return)


@dataclass(frozen=True)
class Mutant:
    module: str
    index: int  # its place in the module's sorted list of mutation points
    line: int
    op: str
    description: str
    code: str = ""  # the source line, stripped: what keys the set-aside list, so it survives edits elsewhere

    @property
    def key(self) -> str:
        return f"{self.module}:{self.op}:{self.description} | {self.code}"


def _skipped_subtrees(tree: ast.AST) -> set[int]:
    """Node ids not to mutate: docstrings, annotations, ``TYPE_CHECKING`` blocks, ``__all__``."""
    skip: set[int] = set()

    def mark(node: ast.AST | None) -> None:
        if node is not None:
            skip.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                mark(body[0])
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            mark(node.returns)
            for arg in [*node.args.args, *node.args.kwonlyargs, *node.args.posonlyargs,
                        node.args.vararg, node.args.kwarg]:
                if arg is not None:
                    mark(arg.annotation)
        if isinstance(node, ast.AnnAssign):
            mark(node.annotation)
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            mark(node)
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__"
                                                for t in node.targets):
            mark(node)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mark(node)
    return skip


def _points(tree: ast.AST) -> Iterator[tuple[ast.AST, str, str, object]]:
    """Every mutation point: (node, operator, description, what to apply)."""
    skip = _skipped_subtrees(tree)
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                if type(op) in COMPARE_FLIPS:
                    new = COMPARE_FLIPS[type(op)]
                    yield node, "compare", f"{type(op).__name__} -> {new.__name__} (#{i})", ("cmp", i, new)
        elif isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in ARITH_FLIPS:
            new = ARITH_FLIPS[type(node.op)]
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant) \
                    and isinstance(node.left.value, str):
                continue  # "%s" % x formatting
            yield node, "arith", f"{type(node.op).__name__} -> {new.__name__}", ("arith", new)
        elif isinstance(node, ast.Constant) and type(node.value) in (int, float, bool):
            if isinstance(node.value, bool):
                yield node, "constant", f"{node.value} -> {not node.value}", ("const", not node.value)
            else:
                yield node, "constant", f"{node.value!r} -> {node.value + 1!r}", ("const", node.value + 1)
        elif isinstance(node, ast.BoolOp):
            new_op = ast.Or if isinstance(node.op, ast.And) else ast.And
            yield node, "boolop", f"{type(node.op).__name__} -> {new_op.__name__}", ("boolop", new_op)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            yield node, "not", "not c -> c", ("unnot",)
        if isinstance(node, (ast.If, ast.IfExp, ast.While)) and id(node) not in skip:
            yield node, "negate", f"{type(node).__name__} condition negated", ("negate",)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node, "return", f"return None at the start of {node.name}()", ("early_return",)
        if isinstance(node, ast.AnnAssign) and node.value is None:
            continue  # a bare annotation: deleting it changes nothing
        if isinstance(node, DELETABLE) and not isinstance(getattr(node, "value", None), ast.Yield):
            yield node, "delete", f"{type(node).__name__} deleted", ("delete",)


def _sorted_points(tree: ast.AST) -> list[tuple[ast.AST, str, str, object]]:
    points = list(_points(tree))
    points.sort(key=lambda p: (getattr(p[0], "lineno", 0), getattr(p[0], "col_offset", 0), p[1], p[2]))
    return points


def list_mutants(module: str) -> list[Mutant]:
    path = ROOT / "src" / "rfpflow" / MODULES[module][0]
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    tree = ast.parse(text)

    def code(line: int) -> str:
        return lines[line - 1].strip() if 0 < line <= len(lines) else ""

    return [Mutant(module, i, getattr(node, "lineno", 0), op, desc, code(getattr(node, "lineno", 0)))
            for i, (node, op, desc, _) in enumerate(_sorted_points(tree))]


class _Delete(ast.NodeTransformer):
    def __init__(self, target: ast.AST) -> None:
        self.target = target

    def generic_visit(self, node: ast.AST) -> ast.AST:
        for _field, value in ast.iter_fields(node):
            if isinstance(value, list) and self.target in value:
                value[value.index(self.target)] = ast.Pass()
                return node
        return super().generic_visit(node)


def mutated_source(module: str, index: int) -> str:
    path = ROOT / "src" / "rfpflow" / MODULES[module][0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    node, _, _, action = _sorted_points(tree)[index]
    kind = action[0]  # type: ignore[index]
    if kind == "cmp":
        _, i, new = action  # type: ignore[misc]
        node.ops[i] = new()  # type: ignore[attr-defined]
    elif kind == "arith":
        node.op = action[1]()  # type: ignore[attr-defined,index]
    elif kind == "const":
        node.value = action[1]  # type: ignore[attr-defined,index]
    elif kind == "boolop":
        node.op = action[1]()  # type: ignore[attr-defined,index]
    elif kind == "unnot":
        replacement = node.operand  # type: ignore[attr-defined]
        _Replace(node, replacement).visit(tree)
    elif kind == "negate":
        node.test = ast.UnaryOp(ast.Not(), node.test)  # type: ignore[attr-defined]
    elif kind == "early_return":
        body = node.body  # type: ignore[attr-defined]
        at = 1 if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) else 0
        body.insert(at, ast.Return(ast.Constant(None)))
    elif kind == "delete":
        _Delete(node).visit(tree)
    return ast.unparse(ast.fix_missing_locations(tree))


class _Replace(ast.NodeTransformer):
    def __init__(self, target: ast.AST, replacement: ast.AST) -> None:
        self.target, self.replacement = target, replacement

    def visit(self, node: ast.AST) -> ast.AST:
        if node is self.target:
            return self.replacement
        return super().visit(node)


def _copy_repository(scratch: Path) -> Path:
    copy = scratch / "repo"
    ignore = shutil.ignore_patterns(".git", ".tox", ".mutation", "__pycache__", "*.pyc", ".pytest_cache",
                                    ".hypothesis", ".rfpflow")
    shutil.copytree(ROOT, copy, ignore=ignore)
    return copy


def _run_tests(copy: Path, tests: tuple[str, ...], timeout: float) -> tuple[str, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RFPFLOW_")}
    env.update(PYTHONPATH=str(copy / "src"), PYTHONDONTWRITEBYTECODE="1", NO_COLOR="1", PYTHONHASHSEED="0")
    present = [t for t in tests if (copy / t).exists()]
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-m", "not slow",
               "--no-header", "-o", "addopts=", *present]
    start = time.monotonic()
    try:
        result = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", time.monotonic() - start
    elapsed = time.monotonic() - start
    if result.returncode == 0:
        return "survived", elapsed
    if result.returncode in (1, 3):  # tests failed, or an internal error (e.g. the import failed)
        return "killed", elapsed
    return f"error({result.returncode})", elapsed


def _equivalents() -> dict[str, str]:
    """``module:op:description | source line`` -> reason, from tools/mutation_equivalent.txt.

    Keyed by the mutated line's text, not its number, so that edits elsewhere in the module do
    not move an entry onto another line; an entry whose line was itself changed no longer
    matches, and its mutant is counted again until someone looks at it."""
    path = ROOT / "tools" / "mutation_equivalent.txt"
    known: dict[str, str] = {}
    if path.exists():
        for raw in path.read_text(encoding="utf-8").splitlines():
            if raw.strip() and not raw.startswith("#"):
                head, _, rest = raw.partition(" | ")
                code, _, reason = rest.rpartition(" || ")
                known[f"{head.strip()} | {code.strip()}"] = reason.strip()
    return known


def run_module(module: str, copy: Path, sample: int | None, seed: int, report: dict[str, object]) -> None:
    relative, tests = MODULES[module]
    target = copy / "src" / "rfpflow" / relative
    original = target.read_text(encoding="utf-8")
    mutants = list_mutants(module)
    chosen = mutants
    if sample is not None and sample < len(mutants):
        chosen = sorted(random.Random(f"{seed}:{module}").sample(mutants, sample), key=lambda m: m.index)
    # The baseline: the unmutated module as ast.unparse writes it must pass, and sets the timeout.
    target.write_text(ast.unparse(ast.parse(original)), encoding="utf-8")
    outcome, baseline = _run_tests(copy, tests, timeout=900)
    if outcome != "survived":
        raise SystemExit(f"{module}: the tests do not pass on the unmutated module ({outcome})")
    timeout = baseline * 3 + 10
    equivalent = _equivalents()
    results = []
    started = time.monotonic()
    try:
        for n, mutant in enumerate(chosen, 1):
            target.write_text(mutated_source(module, mutant.index), encoding="utf-8")
            status, elapsed = _run_tests(copy, tests, timeout)
            if status == "survived" and mutant.key in equivalent:
                status = "equivalent"
            results.append({**asdict(mutant), "status": status, "seconds": round(elapsed, 2),
                            "reason": equivalent.get(mutant.key, "")})
            print(f"[{module} {n}/{len(chosen)}] {status:10} line {mutant.line} {mutant.op}: {mutant.description}",
                  flush=True)
    finally:
        target.write_text(original, encoding="utf-8")
    report[module] = {"total_points": len(mutants), "run": len(chosen), "baseline_seconds": round(baseline, 2),
                      "seconds": round(time.monotonic() - started, 1), "results": results}


def _summary(module: str, data: dict[str, object]) -> dict[str, int | float]:
    results = data["results"]  # type: ignore[index]
    count = {s: sum(1 for r in results if r["status"] == s) for s in ("killed", "timeout", "survived", "equivalent")}
    errors = sum(1 for r in results if r["status"].startswith("error"))
    killed = count["killed"] + count["timeout"] + errors
    considered = killed + count["survived"]
    return {**count, "errors": errors, "killed_total": killed, "considered": considered,
            "rate": round(100 * killed / considered, 1) if considered else 100.0}


def write_report(report: dict[str, object], out: Path, args: argparse.Namespace) -> None:
    out.mkdir(exist_ok=True)
    lines = ["# Mutation report", "",
             f"Sample: {args.sample or 'all'} per module, seed {args.seed}.", "",
             "| module | mutants (of points) | killed | survived | equivalent | kill rate | baseline s | run s |",
             "|---|---|---|---|---|---|---|---|"]
    for module, data in report.items():
        s = _summary(module, data)  # type: ignore[arg-type]
        d = data  # type: ignore[assignment]
        lines.append(f"| {module} | {d['run']} ({d['total_points']}) | {s['killed_total']} | {s['survived']} | "  # type: ignore[index]
                     f"{s['equivalent']} | {s['rate']}% | {d['baseline_seconds']} | {d['seconds']} |")  # type: ignore[index]
        (out / f"{module}.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
    for module, data in report.items():
        survivors = [r for r in data["results"] if r["status"] in ("survived", "equivalent")]  # type: ignore[index]
        if not survivors:
            continue
        lines += ["", f"## {module}: survivors", ""]
        for r in survivors:
            note = f" (equivalent: {r['reason']})" if r["status"] == "equivalent" else ""
            lines.append(f"- `{r['module']}:{r['line']}:{r['op']}:{r['description']}`{note}")
    (out / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines[:4 + 2 + len(report)]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--module", action="append", choices=sorted(MODULES), help="repeatable; default: all")
    parser.add_argument("--sample", type=int, help="run N mutants per module, chosen with --seed")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    parser.add_argument("--out", type=Path, default=ROOT / ".mutation")
    args = parser.parse_args(argv)
    modules = args.module or list(MODULES)
    if args.list:
        for module in modules:
            for m in list_mutants(module):
                print(f"{m.index:4} {m.key}")
        return 0
    # a SIGTERM (tox, a CI timeout) unwinds normally, so the scratch copy is removed
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    report: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="rfpflow-mutation-") as scratch:
        copy = _copy_repository(Path(scratch))
        for module in modules:
            run_module(module, copy, args.sample, args.seed, report)
            write_report(report, args.out, args)
    survived = sum(_summary(m, d)["survived"] for m, d in report.items())  # type: ignore[arg-type]
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
