"""The builtin exports: ``xlsx`` (live evaluation workbook), ``json`` (the whole cycle), ``ocds``.

The exporters are pure functions of the cycle view (``rfpflow.workflow.cycle_view``,
plain JSON data) and live in :mod:`~rfpflow.builtins.export_xlsx`,
:mod:`~rfpflow.builtins.export_json` and :mod:`~rfpflow.builtins.export_ocds`;
this module is the plugin: its ``rfpflow_export`` hook builds the view from the
context and calls the exporter for the format asked for, or returns None for a
format it does not make, leaving it to other plugins. docs/exports.md describes
each format.

Options (``[plugins.exports]`` in rfp.toml), all for ``ocds``:
``ocid_prefix`` (your registered OCID prefix followed by ``-``; default
``ocds-rfpflow-``), ``publisher`` (default: the buyer), ``package_uri``
(where the package will be published; default a ``urn:``) and
``procurement_method`` (``open``, ``selective``, ``limited`` or ``direct``;
default ``open``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rfpflow.context import RunContext
from rfpflow.errors import RfpflowError
from rfpflow.hookspecs import hookimpl

if TYPE_CHECKING:
    from rfpflow.builtins.export_json import EXPORT_VERSION, export_json, json_bytes, json_document
    from rfpflow.builtins.export_ocds import (
        BID_EXTENSION,
        export_ocds,
        ocds_package,
        ocds_release,
    )
    from rfpflow.builtins.export_xlsx import export_xlsx, xlsx_bytes

#: The exporters load on first use, so that start-up (``rfpflow --help``) stays light.
_LAZY = {
    **dict.fromkeys(("EXPORT_VERSION", "export_json", "json_bytes", "json_document"), "rfpflow.builtins.export_json"),
    **dict.fromkeys(("BID_EXTENSION", "DEFAULT_OCID_PREFIX", "DEFAULT_PROCUREMENT_METHOD", "export_ocds",
                     "ocds_package", "ocds_release"), "rfpflow.builtins.export_ocds"),
    **dict.fromkeys(("export_xlsx", "xlsx_bytes"), "rfpflow.builtins.export_xlsx"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _lazy(name: str) -> Any:
    """``name`` as this module has it: set here (by a test's monkeypatch, say) or loaded on first use."""
    return globals()[name] if name in globals() else __getattr__(name)


__all__ = [
    "BID_EXTENSION",
    "EXPORT_VERSION",
    "FORMATS",
    "export_json",
    "export_ocds",
    "export_view_as",
    "export_xlsx",
    "json_bytes",
    "json_document",
    "ocds_options",
    "ocds_package",
    "ocds_release",
    "rfpflow_export",
    "xlsx_bytes",
]

PLUGIN = "exports"

#: The formats this plugin makes, with what each one is.
FORMATS: Mapping[str, str] = {
    "xlsx": "evaluation workbook: weights, matrix with live totals and ranks, scores per evaluator, chart",
    "json": "the whole cycle as JSON (rfpflow_export_version 1)",
    "ocds": "Open Contracting Data Standard 1.1 release package (with the bid extension)",
}

_OCDS_OPTIONS = {"ocid_prefix": str, "publisher": str, "package_uri": str, "procurement_method": str}


def ocds_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of :func:`export_ocds` from ``[plugins.exports]``; checks their types."""
    found: dict[str, Any] = {}
    for key, kind in _OCDS_OPTIONS.items():
        if key not in options:
            continue
        value = options[key]
        if not isinstance(value, kind) or not value:
            raise RfpflowError(f"plugins.{PLUGIN}.{key}: write a non-empty text, not {value!r}")
        found[key] = value
    found.setdefault("ocid_prefix", _lazy("DEFAULT_OCID_PREFIX"))
    found.setdefault("procurement_method", _lazy("DEFAULT_PROCUREMENT_METHOD"))
    return found


def export_view_as(fmt: str, view: Mapping[str, Any], target: Path,
                   options: Mapping[str, Any] | None = None) -> Path | None:
    """Export ``view`` in ``fmt`` at ``target``; None when ``fmt`` is not one of :data:`FORMATS`."""
    writers: dict[str, Callable[[Mapping[str, Any], Path], Path]] = {
        "xlsx": _lazy("export_xlsx"), "json": _lazy("export_json")}
    if fmt == "ocds":
        return _lazy("export_ocds")(view, target, **ocds_options(options or {}))  # type: ignore[no-any-return]
    writer = writers.get(fmt)
    return writer(view, target) if writer is not None else None


@hookimpl(trylast=True)
def rfpflow_export(fmt: str, target: Path, context: RunContext) -> Path | None:
    if fmt not in FORMATS:
        return None
    from rfpflow.workflow import cycle_view

    return export_view_as(fmt, cycle_view(context), target, context.plugin_options(PLUGIN))
