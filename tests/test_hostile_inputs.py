"""Hostile and broken inputs through the real CLI: refused clearly, or accepted as inert data.

The corpus (tests/hostile/corpus.py) is generated at test time. Each bid workbook is
imported with ``rfpflow bids import FILE`` into a workspace issued from the generic
profile; each rfp.toml is checked with ``rfpflow validate``. A refusal must exit 2 with
one problem line per expectation naming the file and the place (``FILE:Sheet!Cell: ...``,
``FILE:xl/worksheets/sheet5.xml: ...``, ``rfp.toml:LINE: field: ...``), without a
traceback and without changing the store.

The default run drives every case through :func:`rfpflow.cli.main` in this process (the
same code as the ``rfpflow`` command) and every refused and accepted bid workbook once
more through one real ``rfpflow`` subprocess; the slow run (``pytest -m slow``) starts
one subprocess per case. Vendor text built to execute somewhere (formulas, DDE, Jinja,
HTML/SVG, path traversal, bidi controls) is carried through a whole ``rfpflow run`` of
the flagship sample and looked for in every document and exported workbook.
"""

from __future__ import annotations

import json
import re
import shutil
import time
import zipfile
from pathlib import Path
from typing import Any

import attrs
import pytest

from rfpflow.spreadsheets.cells import is_formula_like, parse_text
from tests.hostile import xlsx_edit as xe
from tests.hostile.corpus import (
    TEXT_PAYLOADS,
    VALID,
    BidCase,
    Material,
    TomlCase,
    bid_cases,
    counts,
    make_material,
    toml_cases,
    toml_expectations,
)
from tests.hostile.harness import (
    FLAGSHIP_VENDORS,
    GENERIC_BIDS,
    GENERIC_CLOSED,
    CliResult,
    files_under,
    has_problem,
    hostile_sample,
    issued_generic,
    ok,
    run_inproc,
    run_sub,
    snapshot,
    stored_bids,
)

#: Cases that fail because of a known bug (strict xfail with the bug as reason); empty: all fixed.
KNOWN_BUGS: dict[str, str] = {}  # every bug this suite found is fixed; see docs/reliability.md

BID_CASES = {case.name: case for case in bid_cases()}
TOML_CASES = {case.name: case for case in toml_cases()}


def _params(names: list[str]) -> list[Any]:
    return [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[n])) if n in KNOWN_BUGS else n
            for n in names]


@attrs.frozen
class Bench:
    workspace: Path
    material: Material
    files: dict[str, Path]
    folder: Path


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Bench:
    root = tmp_path_factory.mktemp("hostile-bids")
    workspace = issued_generic(root / "ws")
    material = make_material(workspace, root / "material")
    folder = root / "files"
    folder.mkdir()
    files = {}
    for case in BID_CASES.values():
        path = folder / case.file_name
        case.build(material, path)
        files[case.name] = path
    return Bench(workspace, material, files, folder)


def _import(workspace: Path, *paths: Path, sub: bool = False) -> CliResult:
    args = ("-C", str(workspace), "--now", GENERIC_BIDS, "--actor", "hostile", "bids", "import", *map(str, paths))
    return run_sub(*args) if sub else run_inproc(*args)


def _check_case(case: BidCase, bench: Bench, workspace: Path, result: CliResult, before: Any) -> None:
    assert not result.crashed(), result.output
    if case.accepted:
        assert result.code == 0, result.output
        stored = _stored_for(workspace, case.file_name)
        assert case.check is not None
        case.check(stored)
        if case.warning:
            assert any(case.warning in w for w in stored["bid"]["warnings"]), stored["bid"]["warnings"]
        return
    assert result.code == 2, result.output
    for expect in case.refused:
        place = case.place(bench.material, expect)
        assert has_problem(result.stderr, case.file_name, place, expect.fragment), (
            f"no line '{case.file_name}:{place}: ...{expect.fragment}...' in:\n{result.stderr}")
    assert snapshot(workspace) == before, "a refused file changed the store"


def _stored_for(workspace: Path, file_name: str) -> dict[str, Any]:
    """The stored bid (current, or replaced and kept in the history) that came from ``file_name``."""
    found = [json.loads(data) for collection, _key, data in snapshot(workspace)[2]
             if collection in ("bids", "bid_history")]
    matching = [record for record in found if file_name in record.get("files", [])]
    assert matching, f"no stored bid came from {file_name}"
    return matching[-1]


def _batch(accepted: bool) -> list[BidCase]:
    return [c for c in BID_CASES.values() if c.accepted == accepted and c.name not in KNOWN_BUGS]


@attrs.frozen
class Batch:
    """One real ``rfpflow bids import`` process importing many corpus files at once."""

    workspace: Path
    result: CliResult
    before: Any
    seconds: float
    results: dict[str, CliResult] = attrs.field(factory=dict)  # accepted cases: each import's own result


def _run_batch(bench: Bench, folder: Path, accepted: bool) -> Batch:
    workspace = shutil.copytree(bench.workspace, folder, symlinks=True)
    before = snapshot(workspace)
    started = time.perf_counter()
    if accepted:
        # The accepted cases all vary one clean bid of one vendor, and a bid belongs to its vendor
        # (issue 15): in one batch they would be that vendor's workbook many times over. Each is
        # imported on its own, a re-submission of the one before, and found by its file.
        results = {c.name: _import(workspace, bench.files[c.name]) for c in _batch(accepted)}
        code = max(r.code for r in results.values())
        result = CliResult(code, "".join(r.stdout for r in results.values()),
                           "".join(r.stderr for r in results.values()))
        return Batch(workspace, result, before, time.perf_counter() - started, results)
    result = _import(workspace, *(bench.files[c.name] for c in _batch(accepted)), sub=True)
    return Batch(workspace, result, before, time.perf_counter() - started)


@pytest.fixture(scope="module")
def refused_batch(bench: Bench) -> Batch:
    return _run_batch(bench, bench.folder.parent / "refused-batch", accepted=False)


@pytest.fixture(scope="module")
def accepted_batch(bench: Bench) -> Batch:
    return _run_batch(bench, bench.folder.parent / "accepted-batch", accepted=True)


def test_the_refused_batch_exits_2_and_changes_nothing(refused_batch: Batch) -> None:
    result = refused_batch.result
    assert result.code == 2 and not result.crashed(), result.output
    assert f"0 imported, {len(_batch(accepted=False))} refused" in result.stdout
    assert snapshot(refused_batch.workspace) == refused_batch.before
    assert refused_batch.seconds < 60, "hostile files must be dealt with quickly"


def test_the_accepted_batch_stores_every_bid(accepted_batch: Batch) -> None:
    result = accepted_batch.result
    assert result.code == 0 and not result.crashed(), result.output
    assert result.stdout.count("1 imported, 0 refused") == len(_batch(accepted=True))
    verify = run_inproc("-C", str(accepted_batch.workspace), "audit", "verify")
    assert verify.code == 0, verify.output


@pytest.mark.parametrize("name", _params(list(BID_CASES)))
def test_bid_workbook_through_the_cli(name: str, bench: Bench, request: pytest.FixtureRequest) -> None:
    """Each case's outcome, read from the batch it was imported in (a known bug runs alone, in-process)."""
    case = BID_CASES[name]
    if name in KNOWN_BUGS:
        workspace = bench.folder.parent / f"alone-{name}"
        shutil.copytree(bench.workspace, workspace, symlinks=True)
        before = snapshot(workspace)
        _check_case(case, bench, workspace, _import(workspace, bench.files[name]), before)
        return
    batch: Batch = request.getfixturevalue("accepted_batch" if case.accepted else "refused_batch")
    _check_case(case, bench, batch.workspace, batch.results.get(name, batch.result), batch.before)


@pytest.mark.slow
@pytest.mark.parametrize("name", _params(list(BID_CASES)))
def test_bid_workbook_in_its_own_rfpflow_process(name: str, bench: Bench, tmp_path: Path) -> None:
    workspace = shutil.copytree(bench.workspace, tmp_path / "ws", symlinks=True)
    before = snapshot(workspace)
    _check_case(BID_CASES[name], bench, workspace, _import(workspace, bench.files[name], sub=True), before)


def test_one_vendors_bad_number_does_not_block_the_other_bids(bench: Bench, tmp_path: Path) -> None:
    workspace = shutil.copytree(bench.workspace, tmp_path / "ws", symlinks=True)
    good = shutil.copy(bench.material.clean, tmp_path / "good.xlsx")
    result = _import(workspace, Path(good), bench.files["price-infinite"], bench.files["expiry-400-digits"])
    assert "1 imported, 2 refused" in result.stdout, result.output
    assert has_problem(result.stderr, "price-infinite.xlsx", bench.material.at("price.L1"), "unit price")


def test_bids_import_shows_the_macro_warning(bench: Bench, tmp_path: Path) -> None:
    """The documented policy: an .xlsm is accepted *with a warning*, so the officer knows."""
    workspace = shutil.copytree(bench.workspace, tmp_path / "ws", symlinks=True)
    result = _import(workspace, bench.files["xlsm-with-vba-project"])
    assert result.code == 0, result.output
    assert "macros are ignored" in result.output


def test_an_implausibly_large_price_is_refused_and_the_others_go_on(bench: Bench, tmp_path: Path) -> None:
    """1E+25 is a valid Excel number but no real price: the workbook is refused naming the cell,
    the other bids are imported and the cycle's documents keep rendering."""
    workspace = shutil.copytree(bench.workspace, tmp_path / "ws", symlinks=True)
    codes = {"alpha": "91350100M000100Y43", "beta": "91350100MA0000001P", "huge": "91350100MA0000002T"}
    for name, price in (("alpha", 80_000), ("beta", 90_000), ("huge", 1e25)):
        # Three vendors: their own names and registration numbers (a bid belongs to its vendor).
        xe.set_cells(bench.material.clean, tmp_path / f"{name}.xlsx", {
            bench.material.at("price.L1"): price, bench.material.at("company.vendor_name"): f"{name.title()} Ltd.",
            bench.material.at("company.registration_no"): codes[name]})
    result = _import(workspace, *(tmp_path / f"{n}.xlsx" for n in ("alpha", "beta", "huge")))
    assert result.code == 2 and "2 imported, 1 refused" in result.stdout, result.output
    assert "huge.xlsx:Pricing!" in result.stderr and "is too large" in result.stderr
    base = ("-C", str(workspace), "--now", GENERIC_CLOSED)
    ok(run_inproc(*base, "close"))
    assert run_inproc(*base, "screen").code == 0


@pytest.mark.parametrize(("change", "typed", "expected"), [
    ({"decimal_comma": True}, "1.234,50", "1234.50"),
    ({"decimal_comma": True}, "€ 1.234,50", None),  # a comma locale does not make euros yuan
    ({"currency": "USD"}, "$980", "980"),
    ({"currency": "USD"}, "¥1,200", None),
], ids=["comma-decimals-declared", "comma-decimals-other-currency", "dollars-in-a-usd-rfp", "yuan-in-a-usd-rfp"])
def test_number_formats_follow_the_rfp(bench: Bench, tmp_path: Path, change: dict[str, Any], typed: str,
                                       expected: str | None) -> None:
    """'1.234,50' and '$980', refused in the generic (CNY, point-decimal) RFP, are read when rfp.toml says so."""
    from rfpflow.definition import definition_hash
    from rfpflow.errors import InputFileError
    from rfpflow.spreadsheets.bid_reader import read_bid_workbook
    from rfpflow.spreadsheets.samples import write_vendor_workbook

    changed = attrs.evolve(bench.material.rfp, **change)
    rfp = attrs.evolve(changed, definition_hash=definition_hash(changed))
    path = write_vendor_workbook(tmp_path / "acme.xlsx", rfp, {**VALID, "prices": {"L1": typed, "L2": 1}})
    for reader in ("fast", "openpyxl"):
        if expected is None:
            with pytest.raises(InputFileError) as refused:
                read_bid_workbook(path, rfp, reader=reader)
            assert refused.value.problems[0].place == "Pricing!E4"
        else:
            bid = read_bid_workbook(path, rfp, reader=reader)
            assert str(next(p.unit_price for p in bid.prices if p.item_id == "L1")) == expected


# ---------------------------------------------------------------------------
# rfp.toml
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def profile_text(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("profile") / "ws"
    ok(run_inproc("new", str(folder)))
    return (folder / "rfp.toml").read_text(encoding="utf-8")


def _toml_workspace(case: TomlCase, base: str, folder: Path) -> tuple[Path, str]:
    folder.mkdir(parents=True)
    made = case.make(base)
    if isinstance(made, str):
        (folder / "rfp.toml").write_text(made, encoding="utf-8")
        return folder, made
    (folder / "rfp.toml").write_bytes(made)
    return folder, made.decode("utf-8", errors="replace")


def _check_validate(case: TomlCase, text: str, result: CliResult) -> None:
    assert not result.crashed(), result.output
    assert result.code == 2, result.output
    lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
    for line, field, fragment in toml_expectations(case, text):
        where = rf":{line}" if line else r"(:\d+)?"
        pattern = rf"^(error: )?rfp\.toml{where}: " + (re.escape(field) + ": " if field else "") + ".*" + re.escape(
            fragment)
        assert any(re.search(pattern, x) for x in lines), f"no line matching {pattern!r} in:\n{result.stderr}"
    for x in lines:  # every message names the file first (warnings aside)
        assert re.match(r"^(error: |warning: )?rfp\.toml[:]", x) or x.startswith("warning:"), x


@pytest.mark.parametrize("name", _params(list(TOML_CASES)))
def test_rfp_toml_through_validate(name: str, profile_text: str, tmp_path: Path) -> None:
    case = TOML_CASES[name]
    folder, text = _toml_workspace(case, profile_text, tmp_path / "ws")
    _check_validate(case, text, run_inproc("-C", str(folder), "validate"))


@pytest.mark.slow
@pytest.mark.parametrize("name", _params(list(TOML_CASES)))
def test_rfp_toml_in_its_own_rfpflow_process(name: str, profile_text: str, tmp_path: Path) -> None:
    case = TOML_CASES[name]
    folder, text = _toml_workspace(case, profile_text, tmp_path / "ws")
    _check_validate(case, text, run_sub("-C", str(folder), "validate"))


def test_the_corpus_covers_every_class() -> None:
    numbers = counts()
    assert numbers["file"] >= 50 and numbers["content"] >= 60 and numbers["text"] >= 20 and numbers["toml"] >= 80
    assert numbers["total"] == len(BID_CASES) + len(TOML_CASES)
    assert set(KNOWN_BUGS) <= set(BID_CASES) | set(TOML_CASES)


# ---------------------------------------------------------------------------
# Hostile vendor text through a whole cycle: documents and exports
# ---------------------------------------------------------------------------

#: Vendors of the flagship that pass screening (evaluated, so named in the evaluation
#: workbook, the charts and the ranking) come first.
EVALUATED = ("huaxin", "xinrui", "lianjie")
OTHERS = ("anxun", "yuanjing", "zhongli")
PAYLOAD = {label: typed for label, typed, _ in TEXT_PAYLOADS}

#: The default run: composite names so that one cycle carries every kind of payload.
COMPOSITE = {
    "huaxin": PAYLOAD["formula-hyperlink"] + " " + PAYLOAD["svg-onload"] + " " + PAYLOAD["template-expression"],
    "xinrui": PAYLOAD["formula-dde"] + " " + PAYLOAD["html-script"] + " " + PAYLOAD["template-loop"],
    "lianjie": PAYLOAD["formula-at"] + " " + PAYLOAD["path-traversal"] + " " + PAYLOAD["markdown-link"]
    + " " + PAYLOAD["rtl-override"],
    "anxun": PAYLOAD["formula-minus"] + " " + PAYLOAD["img-onerror"] + " " + PAYLOAD["path-traversal-windows"],
    "yuanjing": PAYLOAD["formula-plus"] + " " + PAYLOAD["template-sandbox-escape"] + " " + PAYLOAD["zero-width"],
    "zhongli": PAYLOAD["formula-tab"] + " " + PAYLOAD["chinese-full-width"],
}
Q4_PAYLOAD = PAYLOAD["formula-dde"] + " " + PAYLOAD["html-script"] + " " + PAYLOAD["template-expression"]

RAW_MARKUP = ("<script", "<svg onload", "<img src=x", "\u202e")
FORMULA_MARKERS = ("cmd|", "HYPERLINK", "calc", "notepad", "SUM(1+1)", "1+1", "attacker", "alert")


def _rotations() -> list[dict[str, str]]:
    """Every payload alone as the name of an evaluated vendor in some run."""
    typed = [t for _, t, _ in TEXT_PAYLOADS]
    runs = []
    for start in range(0, len(typed), 3):
        chunk = typed[start:start + 3]
        rest = [t for t in typed if t not in chunk][start:start + 3] or typed[:3]
        runs.append({**dict(zip(EVALUATED, chunk, strict=False)), **dict(zip(OTHERS, rest, strict=False))})
    return runs


def _run_hostile_cycle(tmp_path: Path, names: dict[str, str]) -> Path:
    sample = hostile_sample(tmp_path / "sample", names, q4_comment=Q4_PAYLOAD)
    before = files_under(tmp_path)
    started = time.perf_counter()
    result = run_sub("run", str(sample), "--out", str(tmp_path / "ws"))
    assert time.perf_counter() - started < 90, "vendor text must never be evaluated as a template"
    assert result.code == 0 and not result.crashed(), result.output
    workspace = tmp_path / "ws"
    ok(run_inproc("-C", str(workspace), "export", "xlsx", "-o", str(workspace / "out" / "again.xlsx")))
    created = files_under(tmp_path) - before
    escaped = sorted(p for p in created if not p.startswith("ws"))
    assert not escaped, f"files written outside the workspace: {escaped}"
    assert not [p for p in created if Path(p).name in ("passwd", "win.ini")]
    out = (workspace / "out").resolve()
    for path in out.rglob("*"):
        assert out in path.resolve().parents or path.resolve() == out
    return workspace


def _stored_names(workspace: Path) -> dict[str, str]:
    return {vid: bid["bid"]["vendor_name"] for vid, bid in stored_bids(workspace).items()}


def _check_exports(workspace: Path, names: dict[str, str]) -> None:
    workbooks = sorted((workspace / "out").rglob("*.xlsx"))
    assert len(workbooks) >= 5, workbooks
    evaluated_names = {names[v] for v in EVALUATED}
    seen_as_text: set[str] = set()
    for workbook in workbooks:
        styles = zipfile.ZipFile(workbook).read("xl/styles.xml").decode("utf-8")
        xfs = re.search(r"<cellXfs[^>]*>(.*?)</cellXfs>", styles, re.S)
        cell_styles = re.findall(r"<xf\b[^>]*?(?:/>|>.*?</xf>)", xfs.group(1), re.S) if xfs else []
        for part, xml in xe.iter_sheet_xml(workbook):
            for formula in re.findall(r"<f(?:\s[^>]*)?>(.*?)</f>", xml, re.S):
                assert not any(m in formula for m in FORMULA_MARKERS), f"{workbook.name} {part}: <f>{formula}</f>"
            for name in evaluated_names:
                text = xe.xml_text(name).replace("&#13;", "\r")
                for m in re.finditer(r'<c r="[A-Z]+\d+"( s="(\d+)")? t="inlineStr"><is><t[^>]*>' + re.escape(text)
                                     + "</t>", xml):
                    seen_as_text.add(name)
                    if is_formula_like(name):  # Excel keeps it text when the cell is edited (F2, Enter)
                        assert m.group(2) is not None and 'quotePrefix="1"' in cell_styles[int(m.group(2))], (
                            f"{workbook.name} {part}: {name!r} without the quote prefix")
    assert evaluated_names <= seen_as_text, f"not found as text cells: {evaluated_names - seen_as_text}"


def _check_documents(workspace: Path, names: dict[str, str]) -> None:
    html = sorted((workspace / "out").glob("*.html"))
    markdown = sorted((workspace / "out").glob("*.md"))
    assert html and markdown
    texts = {p: p.read_text(encoding="utf-8") for p in [*html, *markdown]}
    for path, text in texts.items():
        for raw in RAW_MARKUP:
            assert raw not in text, f"{path.name}: unescaped {raw!r}"
        if path.suffix == ".md":  # an unescaped "](" would make a link
            assert not re.search(r"(?<!\\)\]\(javascript:", text), path.name
    everything = "".join(texts.values())
    for name in names.values():
        for template in ("{{ 7*7 }}", "{% for x in range(10**9) %}", "{{ ''.__class__"):
            if template in name:
                assert template in everything or template.replace("'", "&#39;") in everything, template
    regret = [p.name for p in html if p.name.startswith("regret-letter-")]
    assert len(regret) == 5, regret  # one per unsuccessful vendor, none written elsewhere


def _check_stored(workspace: Path, names: dict[str, str]) -> None:
    stored = _stored_names(workspace)
    for vendor, typed in names.items():
        # hostile_sample writes the names with openpyxl, which keeps CR raw in the XML, where
        # every XML parser reads CR LF and CR as LF: the vendor's CR never reaches rfpflow.
        as_saved = typed.replace("\r\n", "\n").replace("\r", "\n")
        assert stored[vendor] == parse_text(as_saved, "vendor name"), vendor
        assert not re.search("[\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]", stored[vendor])
    data = json.loads(next((workspace / "out").glob("*.json")).read_text(encoding="utf-8"))
    exported = json.dumps(data, ensure_ascii=False)
    for vendor in FLAGSHIP_VENDORS:
        assert json.dumps(stored[vendor], ensure_ascii=False)[1:-1] in exported


def test_hostile_vendor_text_through_a_whole_cycle(tmp_path: Path) -> None:
    workspace = _run_hostile_cycle(tmp_path, COMPOSITE)
    _check_stored(workspace, COMPOSITE)
    _check_exports(workspace, _stored_names(workspace))
    _check_documents(workspace, COMPOSITE)
    assert run_inproc("-C", str(workspace), "audit", "verify").code == 0


@pytest.mark.slow
@pytest.mark.parametrize("rotation", range(len(_rotations())))
def test_each_payload_as_an_evaluated_vendors_name(rotation: int, tmp_path: Path) -> None:
    names = _rotations()[rotation]
    workspace = _run_hostile_cycle(tmp_path, names)
    _check_stored(workspace, names)
    _check_exports(workspace, _stored_names(workspace))
    _check_documents(workspace, names)


def test_valid_bid_is_the_baseline(bench: Bench) -> None:
    """The clean workbook every case is made from is itself accepted as it was typed."""
    assert VALID["prices"] == {"L1": 82_000, "L2": 15_000}
    result = _import(shutil.copytree(bench.workspace, bench.folder.parent / "baseline", symlinks=True),
                     bench.material.clean)
    assert result.code == 0, result.output
