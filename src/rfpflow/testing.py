"""Test helpers for plugin authors, loaded by pytest through the ``pytest11`` entry point.

Fixtures
    ``rfpflow_host``          a factory: ``rfpflow_host(my_plugin, ...)`` returns a
                              :class:`~rfpflow.plugins.PluginHost` holding the builtins and
                              exactly the plugins you name (no entry points), so a test
                              never depends on what else is installed.
    ``rfpflow_context``       a factory: a :class:`~rfpflow.context.RunContext` for a host,
                              with a fixed simulated clock (2027-01-01T00:00Z).
    ``rfpflow_workspace``     a factory: ``rfpflow_workspace("my-profile", "zh")`` makes a
                              workspace (a folder with a commented rfp.toml) from a registered
                              profile, as ``rfpflow new`` does; ``rfpflow_workspace(Path("samples/x"))``
                              copies a sample folder instead. Returns the folder.
    ``rfpflow_bid_workbook``  a factory: ``rfpflow_bid_workbook(rfp, "acme", company={...},
                              certifications=[...], answers={...}, prices={...})`` writes the
                              blank bid-response workbook through the ``rfpflow_write_bid_workbook``
                              hook and fills it in as a vendor would, finding every cell by its
                              label. Returns the .xlsx path.

    ``rfpflow_cli``           a factory: ``rfpflow_cli(["-C", ws, "validate"], host=host)`` runs the
                              command line in this process over a test host (no subprocess, no
                              installed plugins) and returns a :class:`CliResult` (exit code,
                              stdout, stderr), exactly as ``rfpflow`` would print them.
    ``rfpflow_cycle_view``    a factory: ``rfpflow_cycle_view(Path("samples/x"), "evaluation")``
                              replays a sample cycle up to a stage (``issued``, ``closed``,
                              ``screened``, ``evaluation``, ``trial``, ``award``, ``awarded``)
                              and returns the cycle view hooks and templates receive.

Plugins are named as the command line names them: a module installed under an
``rfpflow`` entry point gets its entry-point name (``acme``, not ``rfpflow_acme``);
pass ``(name, plugin)`` pairs to choose a name.

The same helpers are plain functions for use outside pytest: :func:`make_host`,
:func:`make_context`, :func:`make_workspace`, :func:`fill_bid_workbook`,
:func:`run_cli` and :func:`make_cycle_view`.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import pytest

from rfpflow.context import Clock, RunContext
from rfpflow.errors import RfpflowError
from rfpflow.plugins import PluginHost

if TYPE_CHECKING:
    from rfpflow.model import Rfp
    from rfpflow.spreadsheets.layout import TableSpec

__all__ = [
    "FIXED_NOW",
    "CliResult",
    "fill_bid_workbook",
    "make_context",
    "make_cycle_view",
    "make_host",
    "make_workspace",
    "plugin_name",
    "rfpflow_bid_workbook",
    "rfpflow_cli",
    "rfpflow_context",
    "rfpflow_cycle_view",
    "rfpflow_host",
    "rfpflow_workspace",
    "run_cli",
    "write_blank_bid_workbook",
]

FIXED_NOW = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)

#: A certificate for :func:`fill_bid_workbook`: a name, ``(name, number, expires)``
#: or a mapping with the keys ``name``, ``number`` and ``expires``.
CertificateData = str | Sequence[Any] | Mapping[str, Any]
#: An answer: the answer text, ``(answer, comment)`` or a mapping with ``answer``,
#: ``comment`` and ``evidence``.
AnswerData = str | Sequence[str] | Mapping[str, str]


def plugin_name(plugin: object) -> str:
    """The name the command line gives ``plugin``: its entry-point name when it is installed
    under the ``rfpflow`` group, else its module name."""
    from importlib import metadata

    from rfpflow.plugins import ENTRY_POINT_GROUP

    module = getattr(plugin, "__name__", None) or type(plugin).__module__
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.value.split(":")[0].strip() == module:
            return ep.name
    return str(getattr(plugin, "__name__", type(plugin).__name__))


def make_host(*plugins: object, builtins: bool = True, blocked: Iterable[str] = (),
              prefer: Sequence[str] = ()) -> PluginHost:
    """A host with the builtins (unless ``builtins=False``) and ``plugins``, no entry points.

    Each plugin is named as the command line names it (:func:`plugin_name`); give a
    ``(name, plugin)`` pair to name it yourself. ``blocked`` names plugins (builtins
    included, e.g. ``"rfpflow.builtins.documents"``) not to load, so a test can look at
    one plugin's documents or rules alone; ``prefer`` is ``[plugins] prefer``.
    """
    from rfpflow.plugins import BUILTIN_PLUGINS

    named = [p if isinstance(p, tuple) else (plugin_name(p), p) for p in plugins]
    return PluginHost.create(load_entrypoints=False, extra_plugins=named, strict=True, blocked=blocked,
                             builtins=BUILTIN_PLUGINS if builtins else (), prefer=prefer)


def make_context(host: PluginHost | None = None, **kwargs: Any) -> RunContext:
    """A run context with the fixed clock :data:`FIXED_NOW` and the actor ``test``."""
    return RunContext(host=host or make_host(), clock=Clock(FIXED_NOW), actor="test", **kwargs)


def _installed_host() -> PluginHost:
    """The builtins and every installed plugin, as the command line loads them."""
    return PluginHost.create()


def make_workspace(target: Path, source: str | Path = "generic", language: str = "en", *,
                   host: PluginHost | None = None) -> Path:
    """A workspace at ``target``: from the profile named ``source`` in ``language``
    (like ``rfpflow new``), or a copy of the folder ``source`` when it is a :class:`~pathlib.Path`.

    ``host`` supplies the profiles; by default the builtins and every installed
    plugin, as the command line loads them.
    """
    if isinstance(source, Path):
        if not (source / "rfp.toml").is_file():
            raise RfpflowError(f"{source} is not a workspace: it has no rfp.toml")
        if target.exists():
            raise RfpflowError(f"{target} already exists")
        shutil.copytree(source, target, ignore=shutil.ignore_patterns(".rfpflow", "__pycache__"))
        return target
    from rfpflow.workspace import create_workspace

    return create_workspace(target, host or _installed_host(), profile=source, language=language)


# --------------------------------------------------------------------------
# Bid workbooks
# --------------------------------------------------------------------------


def write_blank_bid_workbook(rfp: Rfp, target: Path, *, host: PluginHost | None = None) -> Path:
    """The workbook vendors fill in, written through the ``rfpflow_write_bid_workbook`` hook.

    When no plugin implements the hook yet, rfpflow's own writer
    (:mod:`rfpflow.spreadsheets.bid_writer`) writes it.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    host = host or make_host()
    written = host.first("rfpflow_write_bid_workbook", (Path, str), rfp=rfp, target=target,
                         context=make_context(host, rfp=rfp))
    if written is not None:
        return Path(written)
    from rfpflow.spreadsheets.bid_writer import write_bid_workbook

    return write_bid_workbook(rfp, target)


def _header(ws: Any, table: TableSpec) -> tuple[int, dict[str, int]]:
    """The header row of ``table`` on ``ws`` and its columns (key -> 1-based column), found by label."""
    from rfpflow.spreadsheets.layout import label_keys

    required = {c.key for c in table.columns if c.required}
    for row in ws.iter_rows(min_row=1, max_row=40):
        found: dict[str, int] = {}
        for cell in row:
            keys = set(label_keys(cell.value))
            for column in table.columns:
                if column.key not in found and keys & column.keys():
                    found[column.key] = cell.column
        if required <= found.keys():
            return row[0].row, found
    raise RfpflowError(f"sheet {ws.title!r}: no header row with the columns "
                       f"{', '.join(c.en for c in table.columns if c.required)}")


def _sheet(wb: Any, name: str) -> Any:
    if name not in wb.sheetnames:
        raise RfpflowError(f"the bid workbook has no sheet {name!r}; it has {', '.join(wb.sheetnames)}")
    return wb[name]


def _put(cell: Any, value: object) -> None:
    from rfpflow.spreadsheets.cells import write_text

    if isinstance(value, str):
        write_text(cell, value)
    elif isinstance(value, (int, float, Decimal, dt.date)) or value is None:
        cell.value = value
    else:
        write_text(cell, str(value))


def _fill_company(ws: Any, company: Mapping[str, object]) -> None:
    from rfpflow.spreadsheets.layout import COMPANY_FIELDS, COMPANY_TABLE, label_key, label_keys

    header, columns = _header(ws, COMPANY_TABLE)
    accepted = [(spec, spec.keys()) for spec in COMPANY_FIELDS]
    wanted: dict[str, object] = {}
    for given, value in company.items():
        spec = next((s for s, keys in accepted if label_key(given) in keys), None)
        if spec is None:
            raise RfpflowError(f"unknown company field {given!r}; the workbook asks for "
                               f"{', '.join(s.key for s in COMPANY_FIELDS)}")
        wanted[spec.key] = value
    for row in range(header + 1, ws.max_row + 1):
        labels = set(label_keys(ws.cell(row=row, column=columns["field"]).value))
        spec = next((s for s, keys in accepted if labels & keys), None)
        if spec is not None and spec.key in wanted:
            _put(ws.cell(row=row, column=columns["value"]), wanted.pop(spec.key))
    if wanted:
        raise RfpflowError(f"the Company sheet has no row for {', '.join(sorted(wanted))}")


def _certificate(item: CertificateData) -> tuple[str, object, object]:
    if isinstance(item, str):
        return item, None, None
    if isinstance(item, Mapping):
        return str(item["name"]), item.get("number"), item.get("expires")
    parts = [*item, None, None]
    return str(parts[0]), parts[1], parts[2]


def _fill_certifications(ws: Any, certifications: Iterable[CertificateData]) -> None:
    from rfpflow.spreadsheets.layout import CERTIFICATIONS_TABLE

    header, columns = _header(ws, CERTIFICATIONS_TABLE)
    row = header + 1
    for item in certifications:
        name, number, expires = _certificate(item)
        while ws.cell(row=row, column=columns["name"]).value not in (None, ""):
            row += 1
        _put(ws.cell(row=row, column=columns["name"]), name)
        if number is not None and "number" in columns:
            _put(ws.cell(row=row, column=columns["number"]), str(number))
        if expires is not None and "expires" in columns:
            _put(ws.cell(row=row, column=columns["expires"]), expires)
        row += 1


def _answer(value: AnswerData) -> dict[str, str]:
    if isinstance(value, str):
        return {"answer": value}
    if isinstance(value, Mapping):
        return {k: str(v) for k, v in value.items() if k in ("answer", "comment", "evidence")}
    parts = list(value)
    return dict(zip(("answer", "comment", "evidence"), parts, strict=False))


def _rows_by_id(ws: Any, header: int, column: int) -> dict[str, int]:
    rows: dict[str, int] = {}
    for row in range(header + 1, ws.max_row + 1):
        value = ws.cell(row=row, column=column).value
        if value not in (None, ""):
            rows.setdefault(str(value).strip(), row)
    return rows


def _fill_answers(ws: Any, answers: Mapping[str, AnswerData]) -> None:
    from rfpflow.spreadsheets.layout import QUESTIONNAIRE_TABLE

    header, columns = _header(ws, QUESTIONNAIRE_TABLE)
    rows = _rows_by_id(ws, header, columns["id"])
    unknown = sorted(set(answers) - set(rows))
    if unknown:
        raise RfpflowError(f"the Questionnaire sheet has no requirement {', '.join(unknown)}")
    for qid, value in answers.items():
        for key, text in _answer(value).items():
            if key in columns:
                _put(ws.cell(row=rows[qid], column=columns[key]), text)


def _fill_prices(ws: Any, prices: Mapping[str, object]) -> None:
    from rfpflow.spreadsheets.layout import PRICING_TABLE

    header, columns = _header(ws, PRICING_TABLE)
    rows = _rows_by_id(ws, header, columns["item_id"])
    unknown = sorted(set(prices) - set(rows))
    if unknown:
        raise RfpflowError(f"the Pricing sheet has no line item {', '.join(unknown)}")
    for item_id, price in prices.items():
        _put(ws.cell(row=rows[item_id], column=columns["unit_price"]), price)


def fill_bid_workbook(path: Path, *, company: Mapping[str, object] | None = None,
                      certifications: Iterable[CertificateData] = (),
                      answers: Mapping[str, AnswerData] | None = None,
                      prices: Mapping[str, object] | None = None, target: Path | None = None) -> Path:
    """Fill in the bid workbook at ``path`` as a vendor would; save it at ``target`` (default: ``path``).

    ``company`` maps company fields (``vendor_name``, ``registration_no``,
    ``year_established``, ... or their labels, in English or Chinese) to
    values; ``certifications`` lists certificates (a name, ``(name, number,
    expires)`` or a mapping); ``answers`` maps question ids to an answer,
    ``(answer, comment)`` or a mapping with ``answer``, ``comment`` and
    ``evidence``; ``prices`` maps line-item ids to unit prices. Every cell is
    found by the label of its row or column, never by a fixed coordinate.
    """
    import openpyxl

    from rfpflow.spreadsheets.layout import CERTIFICATIONS, COMPANY, PRICING, QUESTIONNAIRE

    wb = openpyxl.load_workbook(path)
    if company:
        _fill_company(_sheet(wb, COMPANY), company)
    certificates = list(certifications)
    if certificates:
        _fill_certifications(_sheet(wb, CERTIFICATIONS), certificates)
    if answers:
        _fill_answers(_sheet(wb, QUESTIONNAIRE), answers)
    if prices:
        _fill_prices(_sheet(wb, PRICING), prices)
    out = target or path
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


# --------------------------------------------------------------------------
# The command line, in process; the cycle view at a stage
# --------------------------------------------------------------------------


@attrs.frozen
class CliResult:
    """What one ``rfpflow`` command did: its exit code and what it printed."""

    exit_code: int
    stdout: str
    stderr: str


def run_cli(args: Sequence[str | Path], *, host: PluginHost | None = None,
            env: Mapping[str, str] | None = None) -> CliResult:
    """Run ``rfpflow ARGS`` in this process over ``host`` (default: the builtins only).

    Output and exit code are those of the real command line (errors: one line on stderr,
    exit 2). ``env`` sets environment variables for the run (``RFPFLOW_TRACE_PLUGINS``...).
    """
    from click.testing import CliRunner

    from rfpflow.cli import main

    runner = CliRunner()
    code = 0
    with runner.isolation(env=dict(env or {})) as (out, err, _output):
        try:
            main([str(a) for a in args], host=host or make_host())
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return CliResult(code, out.getvalue().decode("utf-8", "replace"), err.getvalue().decode("utf-8", "replace"))


#: The stages :func:`make_cycle_view` can stop after, in cycle order.
VIEW_STAGES: tuple[str, ...] = ("issued", "closed", "screened", "evaluation", "trial", "award", "awarded")


def make_cycle_view(sample: Path, stage: str, target: Path, *, host: PluginHost | None = None) -> dict[str, Any]:
    """The cycle view of the sample cycle ``sample`` replayed into ``target`` up to ``stage``
    (one of :data:`VIEW_STAGES`), as ``rfpflow.workflow.cycle_view`` gives it to hooks."""
    if stage not in VIEW_STAGES:
        raise RfpflowError(f"unknown stage {stage!r}; choose one of {', '.join(VIEW_STAGES)}")
    from rfpflow.runner import run_sample
    from rfpflow.workflow import cycle_view

    context = make_context(host)
    run_sample(sample, target, context, lambda _line: None, until=stage)
    return cycle_view(attrs.evolve(context, workspace=target))


# --------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------


@pytest.fixture
def rfpflow_cli() -> Callable[..., CliResult]:
    """``run(args, *, host=None, env=None) -> CliResult``: see :func:`run_cli`."""
    return run_cli


@pytest.fixture
def rfpflow_cycle_view(tmp_path: Path) -> Callable[..., dict[str, Any]]:
    """``make(sample, stage="award", *, host=None) -> dict``: see :func:`make_cycle_view`."""
    made: list[Path] = []

    def make(sample: Path, stage: str = "award", *, host: PluginHost | None = None) -> dict[str, Any]:
        made.append(tmp_path / f"cycle-{len(made) + 1}")
        return make_cycle_view(sample, stage, made[-1], host=host)

    return make


@pytest.fixture
def rfpflow_host() -> Callable[..., PluginHost]:
    return make_host


@pytest.fixture
def rfpflow_context() -> Callable[..., RunContext]:
    return make_context


@pytest.fixture
def rfpflow_workspace(tmp_path: Path) -> Callable[..., Path]:
    """``make(source="generic", language="en", *, host=None, name=None) -> Path``.

    ``source`` is a profile name (text) or a sample folder to copy (a Path).
    Each call makes a new folder under ``tmp_path`` (``name`` chooses it).
    """
    made: list[Path] = []

    def make(source: str | Path = "generic", language: str = "en", *, host: PluginHost | None = None,
             name: str | None = None) -> Path:
        target = tmp_path / (name or f"workspace-{len(made) + 1}")
        made.append(make_workspace(target, source, language, host=host))
        return made[-1]

    return make


@pytest.fixture
def rfpflow_bid_workbook(tmp_path: Path) -> Callable[..., Path]:
    """``make(rfp, vendor="vendor", *, company=None, certifications=(), answers=None, prices=None,
    host=None, target=None) -> Path``: a vendor's filled-in bid workbook.

    The blank workbook comes from the ``rfpflow_write_bid_workbook`` hook of
    ``host`` (default: the builtins); ``company`` defaults to
    ``{"vendor_name": vendor}``. The file is ``tmp_path/bids/<vendor>.xlsx``
    unless ``target`` says otherwise.
    """

    def make(rfp: Rfp, vendor: str = "vendor", *, company: Mapping[str, object] | None = None,
             certifications: Iterable[CertificateData] = (), answers: Mapping[str, AnswerData] | None = None,
             prices: Mapping[str, object] | None = None, host: PluginHost | None = None,
             target: Path | None = None) -> Path:
        path = target or tmp_path / "bids" / f"{vendor}.xlsx"
        blank = write_blank_bid_workbook(rfp, path, host=host)
        return fill_bid_workbook(blank, company=company or {"vendor_name": vendor}, certifications=certifications,
                                 answers=answers, prices=prices, target=path)

    return make
