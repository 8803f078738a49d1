"""Property-based tests: whatever the input, rfpflow's readers give records or an rfpflow error.

Never another exception: a ``KeyError`` or ``OverflowError`` out of a reader becomes
"internal error" (exit 1) on the command line, or aborts a whole batch of bids.
Covered: rfp.toml (arbitrary text, generated TOML documents, mutations of the
generic profile) through :func:`rfpflow.definition.check_rfp` and ``load_rfp`` with
the plugins' checks; the :mod:`rfpflow.spreadsheets.cells` parsers on arbitrary values; the bid
reader on valid workbooks with arbitrary cells (values, numbers no spreadsheet
writes, error and formula cells), where both readers must agree; the trial CSV reader.

Every property is collected twice (see :func:`twice`): ``test_X`` runs a few
derandomized examples in the default run, the same on every machine; ``test_X_slow``
(marked ``slow``: ``pytest -m slow``, ``tox -e slow``) explores many random ones.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import math
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from rfpflow.definition import CRITERION_KEYS, TIMELINE_KEYS, TOP_KEYS, check_rfp, load_rfp
from rfpflow.errors import InputFileError, RfpflowError
from rfpflow.model import Bid, Rfp
from rfpflow.spreadsheets.bid_reader import READERS, read_bid_workbook
from rfpflow.spreadsheets.cells import (
    CellValueError,
    MissingValue,
    parse_date,
    parse_integer,
    parse_number,
    parse_text,
    parse_yes_no,
)
from rfpflow.testing import make_context, make_host
from tests.hostile import xlsx_edit as xe
from tests.hostile.corpus import Material, make_material
from tests.hostile.harness import issued_generic, ok, run_inproc

_COMMON: dict[str, Any] = {"deadline": None, "suppress_health_check": [
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]}
#: Every property runs twice: derandomized with a few examples in the default run, and
#: with many random examples in the slow run (``pytest -m slow``, ``tox -e slow``).
BUDGETS: dict[str, tuple[int, int]] = {}


def twice(default: int, slow: int, **strategies: Any) -> Any:
    """Two tests from one property body: (default run, slow run)."""
    def wrap(body: Any) -> tuple[Any, Any]:
        BUDGETS[body.__name__] = (default, slow)
        quick = settings(max_examples=default, derandomize=True, **_COMMON)(given(**strategies)(body))
        thorough = settings(max_examples=slow, **_COMMON)(given(**strategies)(body))
        return quick, pytest.mark.slow(thorough)
    return wrap


#: Inputs that crash today because of a bug that has its own strict-xfail test; the properties
#: set them aside (``assume``) so that they keep guarding everything else. Remove an entry
#: when its bug is fixed.
KNOWN_CRASHES: tuple[tuple[type[BaseException], str, str], ...] = ()  # all fixed


def known_crash(exc: BaseException) -> bool:
    return any(type(exc) is kind and text in str(exc) for kind, text, _ in KNOWN_CRASHES)


# ---------------------------------------------------------------------------
# rfp.toml
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def context() -> Any:
    return make_context(make_host())


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("profile") / "ws"
    ok(run_inproc("new", str(folder)))
    return folder / "rfp.toml", (folder / "rfp.toml").read_text(encoding="utf-8")


def _check_definition(path: Path, text: str, context: Any) -> None:
    """check_rfp and load_rfp on ``text``: an Rfp, problems, or a DefinitionError -- nothing else."""
    try:
        rfp, problems = check_rfp(path, context=context, text=text)
    except RfpflowError:
        return
    except Exception as exc:
        assume(not known_crash(exc))
        raise
    assert (rfp is None) == any(p.severity == "error" for p in problems)
    for problem in problems:
        assert problem.message and problem.file == "rfp.toml"
        if problem.place is not None:
            assert problem.place.isdigit() and 1 <= int(problem.place) <= text.count("\n") + 1, problem
    try:
        loaded = load_rfp(path, context=context, text=text)
    except RfpflowError:
        assert rfp is None
        return
    assert rfp is not None and loaded.definition_hash == rfp.definition_hash


@twice(60, 2000, text=st.text(max_size=3000))
def _any_text_as_rfp_toml(profile: tuple[Path, str], context: Any, text: str) -> None:
    _check_definition(profile[0], text, context)


test_any_text_as_rfp_toml, test_any_text_as_rfp_toml_slow = _any_text_as_rfp_toml


# TOML documents built from rfp.toml's own keys with values of every TOML type
_KEYS = sorted(TOP_KEYS | set(TIMELINE_KEYS) | CRITERION_KEYS | {"items", "kpis", "id", "kind", "x", "年"})
_scalars = st.one_of(
    st.integers(min_value=-(10**18), max_value=10**18),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.booleans(),
    st.dates(),
    st.datetimes(timezones=st.sampled_from([None, dt.UTC, dt.timezone(dt.timedelta(hours=8))])),
    st.times(),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(_KEYS), inner, max_size=4)),
    max_leaves=25,
)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\\/", "/").replace("\x7f", "\\u007f")
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml_document(data: dict[str, Any]) -> str:
    lines = []
    for key, value in data.items():
        if isinstance(value, dict) and all(isinstance(v, dict) for v in value.values()) and value:
            for sub, table in value.items():  # [criteria.x] style tables
                lines.append(f"[{json.dumps(key)}.{json.dumps(sub, ensure_ascii=False)}]")
                lines.extend(f"{json.dumps(k, ensure_ascii=False)} = {toml_value(v)}" for k, v in table.items())
        else:
            lines.insert(0, f"{json.dumps(key, ensure_ascii=False)} = {toml_value(value)}")
    return "\n".join(lines) + "\n"


@twice(60, 2000, data=st.dictionaries(st.sampled_from(_KEYS), _values, max_size=12))
def _generated_toml_documents_as_rfp_toml(profile: tuple[Path, str], context: Any, data: dict[str, Any]) -> None:
    _check_definition(profile[0], toml_document(data), context)


test_generated_toml_documents_as_rfp_toml, test_generated_toml_documents_as_rfp_toml_slow = (
    _generated_toml_documents_as_rfp_toml)


def _mutate(text: str, ops: list[tuple[str, int, str]]) -> str:
    lines = text.splitlines(keepends=True)
    for op, at, char in ops:
        if not lines:
            break
        i = at % len(lines)
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap" and len(lines) > 1:
            j = (i + 1) % len(lines)
            lines[i], lines[j] = lines[j], lines[i]
        else:
            line = lines[i]
            k = (at // 7) % max(len(line), 1)
            lines[i] = line[:k] + char + line[k + 1:]
    return "".join(lines)


_ops = st.lists(st.tuples(st.sampled_from(["delete", "duplicate", "swap", "substitute"]),
                          st.integers(min_value=0, max_value=10**6),
                          st.sampled_from([*"=[]{}\"'#.,0123456789-_ \n\tx", "\u3000", "１", "é", "\\"])),
                min_size=1, max_size=8)


@twice(80, 3000, ops=_ops)
def _mutations_of_the_generic_profile(profile: tuple[Path, str], context: Any,
                                          ops: list[tuple[str, int, str]]) -> None:
    _check_definition(profile[0], _mutate(profile[1], ops), context)


test_mutations_of_the_generic_profile, test_mutations_of_the_generic_profile_slow = (
    _mutations_of_the_generic_profile)


# ---------------------------------------------------------------------------
# rfpflow.spreadsheets.cells
# ---------------------------------------------------------------------------

_cell_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.text(),
    st.text(alphabet="0123456789.,-+ ()¥$€%万亿eE'１２３．，元CNYUSD\u00a0\u3000", max_size=25),
    st.dates(), st.datetimes(), st.times(),
)
_PARSERS = {
    "parse_number": lambda v: parse_number(v, "x"),
    "parse_number_comma": lambda v: parse_number(v, "x", decimal_comma=True, allow_percent=True, currency="CNY"),
    "parse_integer": lambda v: parse_integer(v, "x"),
    "parse_date": lambda v: parse_date(v, "x"),
    "parse_date_1904": lambda v: parse_date(v, "x", date1904=True),
    "parse_yes_no": lambda v: parse_yes_no(v, "x"),
    "parse_text": lambda v: parse_text(v, "x"),
}
#: Values no workbook reader produces (a reader gives str, int, float, bool, datetime, date,
#: time or None); Decimal signalling NaNs make some parsers raise decimal's own errors.
_UNREACHABLE = (Decimal,)


@twice(300, 20000, value=_cell_values, parser=st.sampled_from(sorted(_PARSERS)))
def _cell_parsers_return_a_value_or_a_cell_value_error(value: Any, parser: str) -> None:
    try:
        result = _PARSERS[parser](value)
    except MissingValue as exc:
        assert "blank" in str(exc)
        return
    except CellValueError as exc:
        assert str(exc).startswith("x ") or str(exc).startswith("x\u00a0"), exc
        return
    except Exception as exc:
        if isinstance(value, _UNREACHABLE) and isinstance(value, Decimal) and value.is_snan():
            return
        assume(not known_crash(exc))
        raise
    expected = {"parse_number": Decimal, "parse_number_comma": Decimal, "parse_integer": int,
                "parse_date": dt.date, "parse_date_1904": dt.date, "parse_yes_no": bool, "parse_text": str}
    assert isinstance(result, expected[parser])
    if isinstance(result, Decimal):
        assert result.is_finite()


test_cell_parsers_return_a_value_or_a_cell_value_error, test_cell_parsers_return_a_value_or_a_cell_value_error_slow = (
    _cell_parsers_return_a_value_or_a_cell_value_error)


# ---------------------------------------------------------------------------
# The bid readers on workbooks with arbitrary cells
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def material(tmp_path_factory: pytest.TempPathFactory) -> Material:
    root = tmp_path_factory.mktemp("property-bids")
    return make_material(issued_generic(root / "ws"), root / "material")


_SHEETS = ("Company", "Certifications", "Questionnaire", "Pricing", "_rfpflow", "Instructions")
_refs = st.builds(lambda col, row: f"{col}{row}", st.sampled_from(list("ABCDEFGH")), st.integers(1, 14))
_xml_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**16), max_value=10**16),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(["1,234.50", "¥1,200", "$980", "１２３", " 980 ", "1.234,50", "2027/3/1", "03/04/2028", "是", "Y",
                     "=1+1", DDE := "=cmd|' /C calc'!A0", "{{ 7*7 }}", "<script>alert(1)</script>", "Total", "合计",
                     "L1", "L2", "Q1", "Item ID", "Unit price", "Vendor name *", "_x0000_", "\u202e", "ISO 9001"]),
    st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(9999, 12, 31)),
    st.builds(xe.F, st.sampled_from(["1+1", "E5*2", "SUM(A1:A3)", DDE[1:]]),
              st.one_of(st.none(), st.integers(0, 10**6), st.text(max_size=10))),
    st.builds(lambda v: xe.Raw('t="e"', f"<v>{v}</v>"), st.sampled_from(["#DIV/0!", "#N/A", "#VALUE!", "#REF!"])),
    st.builds(lambda v: xe.Raw('t="n"', f"<v>{v}</v>"), st.sampled_from(["1e300", "-0", "1E-300", "0.1", "12.0"])),
)


def _outcome(path: Path, rfp: Rfp, reader: str) -> Any:
    try:
        return read_bid_workbook(path, rfp, reader=reader)
    except InputFileError as exc:
        return [str(p) for p in exc.problems]


@twice(40, 1500, cells=st.dictionaries(st.tuples(st.sampled_from(_SHEETS), _refs), _xml_values, min_size=1,
                                       max_size=8))
def _bid_readers_on_arbitrary_cells(material: Material, tmp_path: Path,
                                        cells: dict[tuple[str, str], Any]) -> None:
    """(c) a Bid or an InputFileError, and (d) both readers give the same outcome."""
    path = xe.set_cells(material.clean, tmp_path / "random.xlsx", {f"{s}!{r}": v for (s, r), v in cells.items()})
    outcomes = []
    for reader in READERS:
        try:
            outcomes.append(_outcome(path, material.rfp, reader))
        except Exception as exc:
            assume(not known_crash(exc))
            raise
    fast, openpyxl_reader = outcomes
    assert isinstance(fast, (Bid, list))
    assert fast == openpyxl_reader, f"fast: {fast}\nopenpyxl: {openpyxl_reader}"
    if isinstance(fast, list):
        assert fast, "an InputFileError must carry its problems"
        assert all(p.startswith("random.xlsx") for p in fast), fast


test_bid_readers_on_arbitrary_cells, test_bid_readers_on_arbitrary_cells_slow = _bid_readers_on_arbitrary_cells


@twice(20, 500, values=st.lists(_xml_values, min_size=1, max_size=6),
       column=st.sampled_from(["price", "quantity", "item"]))
def _bid_readers_on_arbitrary_pricing_rows(material: Material, tmp_path: Path, values: list[Any],
                                               column: str) -> None:
    """Arbitrary values down a Pricing column, through the rows the reader reads most closely."""
    start = material.at(f"{column}.L1")
    path = xe.set_cells(material.clean, tmp_path / "rows.xlsx",
                        {xe.below(start, n): v for n, v in enumerate(values)})
    outcomes = [_outcome(path, material.rfp, reader) for reader in READERS]
    assert outcomes[0] == outcomes[1]


test_bid_readers_on_arbitrary_pricing_rows, test_bid_readers_on_arbitrary_pricing_rows_slow = (
    _bid_readers_on_arbitrary_pricing_rows)


# ---------------------------------------------------------------------------
# The trial CSV reader
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trial_rfp(profile: tuple[Path, str], context: Any) -> Rfp:
    rfp = load_rfp(profile[0], context=context)
    assert rfp.trial.kpis, "the generic profile's trial has KPIs (from its preset)"
    return rfp


def _read_trial(path: Path, rfp: Rfp) -> Any:
    from rfpflow.builtins.trial_run import read_trial_file

    try:
        result = read_trial_file(path, rfp)
    except InputFileError as exc:
        assert exc.problems or str(exc)
        return exc
    except Exception as exc:
        assume(not known_crash(exc))
        raise
    assert isinstance(result, list)
    return result


@twice(60, 3000, text=st.text(max_size=2000),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]))
def _trial_csv_reader_on_arbitrary_text(tmp_path: Path, trial_rfp: Rfp, text: str, encoding: str) -> None:
    path = tmp_path / "trial.csv"
    try:
        path.write_bytes(text.encode(encoding))
    except UnicodeEncodeError:
        assume(False)
    _read_trial(path, trial_rfp)


test_trial_csv_reader_on_arbitrary_text, test_trial_csv_reader_on_arbitrary_text_slow = (
    _trial_csv_reader_on_arbitrary_text)


_trial_cells = st.one_of(
    st.text(max_size=15),
    st.sampled_from(["2027-03-01", "2027/3/2", "03/04/2027", "2027年3月3日", "46082", "huaxin", "xinrui", "",
                     "service_level", "abandonment", "csat", "SERVICE_LEVEL", "85", "85%", "85 %", "0.85", "1,234.5",
                     "１２", "-5", "150%", "nan", "inf", "1e400", "=1+1", '"quoted, cell"']),
    st.integers(-10**6, 10**6).map(str),
    st.floats().map(repr),
)


@twice(60, 3000, header=st.permutations(["date", "vendor", "kpi", "value", "note"]),
       rows=st.lists(st.lists(_trial_cells, min_size=0, max_size=6), max_size=12),
       delimiter=st.sampled_from([",", ";", "\t"]))
def _trial_csv_reader_on_generated_tables(tmp_path: Path, trial_rfp: Rfp, header: list[str],
                                              rows: list[list[str]], delimiter: str) -> None:
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    path = tmp_path / "trial.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    result = _read_trial(path, trial_rfp)
    if isinstance(result, InputFileError):
        for problem in result.problems:  # every problem names the file, and the line when it is about one
            assert problem.file == "trial.csv"
            assert problem.place is None or re.fullmatch(r"\d+", problem.place), problem.place


test_trial_csv_reader_on_generated_tables, test_trial_csv_reader_on_generated_tables_slow = (
    _trial_csv_reader_on_generated_tables)


def test_trial_csv_with_old_mac_line_endings(tmp_path: Path, trial_rfp: Rfp) -> None:
    """The example hypothesis found: read_csv_rows ranks delimiters on the first line with csv.reader,
    outside its try/except csv.Error, so a bare CR there escapes as _csv.Error."""
    kpi = trial_rfp.trial.kpis[0].id
    path = tmp_path / "trial.csv"
    path.write_bytes(f"date,vendor,kpi,value\r2027-03-01,huaxin,{kpi},85\r".encode())
    from rfpflow.builtins.trial_run import read_trial_file

    with contextlib.suppress(InputFileError):
        read_trial_file(path, trial_rfp)


def test_every_property_has_a_default_and_a_slow_budget() -> None:
    assert len(BUDGETS) == 8
    for name, (default, slow) in BUDGETS.items():
        assert default <= 300 and slow >= 10 * default, name


def test_parse_date_of_a_number_too_large_for_a_float() -> None:
    with pytest.raises(CellValueError):
        parse_date(10**400, "date")


def test_trial_workbook_with_a_huge_number_as_date(tmp_path: Path, trial_rfp: Rfp) -> None:
    import openpyxl

    from rfpflow.builtins.trial_run import read_trial_file

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.append(["date", "vendor", "kpi", "value"])
    ws.append(["2027-03-01", "huaxin", trial_rfp.trial.kpis[0].id, 85])
    wb.save(tmp_path / "plain.xlsx")
    path = xe.set_cells(tmp_path / "plain.xlsx", tmp_path / "trial.xlsx",
                        {"Data!A2": xe.Raw('t="n"', "<v>1" + "0" * 400 + "</v>", keep_style=False)})
    with pytest.raises(InputFileError) as refused:
        read_trial_file(path, trial_rfp)
    assert refused.value.problems[0].place == "Data!A2"
