"""The documents subsystem: the cycle view, and the RFP, letters and reports rendered from it.

It owns the cycle view (:mod:`~rfpflow.documents.view`: the plain-JSON picture of a cycle
that documents and exports are made from, and the one rule that seals prices), rendering
with Jinja (:mod:`~rfpflow.documents.render`), the SVG charts (:mod:`~rfpflow.documents.charts`)
and the labels the Python side prints (:mod:`~rfpflow.documents.labels`). It may import the
core (``model``, ``records``, ``bids``, ``registry``, ``formatting``, ``errors``) and the store's records;
never the workflow, which calls it. The rendering names below are imported on first use, so
that reading the view does not load Jinja.
"""

from __future__ import annotations

import importlib
from typing import Any

_RENDER_NAMES = frozenset({
    "AUDIENCES", "EVERY_STAGE", "FORMATS", "RenderError", "VendorDocumentSpec", "audience_of",
    "document_context", "documents_due", "make_environment", "md_escape", "prepare_view", "reached_stage",
    "render_documents", "sanitize_filename", "select_vendors", "template_dirs", "template_names",
})
_CHART_NAMES = frozenset({"dimension_chart_svg", "kpi_chart_svg", "score_chart_svg"})
_FORMATTING_NAMES = frozenset({"format_date", "format_datetime", "format_long_date", "format_money",
                               "format_number", "format_percent"})

__all__ = sorted(_RENDER_NAMES | _CHART_NAMES | _FORMATTING_NAMES | {"STAGE_ORDER"})


def __getattr__(name: str) -> Any:
    if name in _RENDER_NAMES:
        module = "rfpflow.documents.render"
    elif name in _CHART_NAMES:
        module = "rfpflow.documents.charts"
    elif name in _FORMATTING_NAMES:
        module = "rfpflow.formatting"
    elif name == "STAGE_ORDER":
        module = "rfpflow.model"
    else:
        raise AttributeError(f"module 'rfpflow.documents' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
