"""The builtin documents of an RFP cycle and the stage each is rendered at.

Each document is a pair of templates per language, ``templates/<lang>/<name>.html.j2``
and ``<name>.md.j2`` (rendered by :func:`rfpflow.documents.render_documents`).
A plugin registering the same name replaces a document; a workspace's
``templates/<name>.html.j2`` or a plugin's template folder overrides just
its template (and may ``{% extends "default:<name>.html.j2" %}``).

=====================  ====================  ==============================================
name                   stage                 for
=====================  ====================  ==============================================
rfp                    issued                the request itself, sent to vendors
bid-instructions       issued                how to submit a bid
screening-report       screening             qualification results, gate by gate
price-comparison       screening             line-by-line prices of every bid (once prices are open)
evaluation-report      evaluation            matrix, criterion breakdown, outliers, sensitivity
trial-report           trial-run             trial KPIs against targets (only with trial results)
award-recommendation   award-recommended     final ranking, justification, standstill
award-letter           award-recommended     the recommended vendor (one letter)
regret-letter          award-recommended     every other vendor that bid (one letter each)
audit-appendix         ``*`` (every stage)   the event log and audit chain head
=====================  ====================  ==============================================
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rfpflow.hookspecs import hookimpl
from rfpflow.registry import EVERY_STAGE, DocumentSpec, VendorDocumentSpec

DOCUMENTS: tuple[DocumentSpec, ...] = (
    DocumentSpec("rfp", "rfp", "issued"),
    DocumentSpec("bid-instructions", "bid-instructions", "issued"),
    DocumentSpec("screening-report", "screening-report", "screening"),
    DocumentSpec("price-comparison", "price-comparison", "screening"),
    DocumentSpec("evaluation-report", "evaluation-report", "evaluation"),
    DocumentSpec("trial-report", "trial-report", "trial-run"),
    DocumentSpec("award-recommendation", "award-recommendation", "award-recommended"),
    VendorDocumentSpec("award-letter", "award-letter", "award-recommended", audience="winner"),
    VendorDocumentSpec("regret-letter", "regret-letter", "award-recommended", audience="unsuccessful"),
    DocumentSpec("audit-appendix", "audit-appendix", EVERY_STAGE),
)


@hookimpl(trylast=True)
def rfpflow_register_documents(register: Callable[[DocumentSpec], None]) -> None:
    for spec in DOCUMENTS:
        register(spec)


@hookimpl(trylast=True)
def rfpflow_template_dirs() -> list[Path] | None:
    # The builtin templates are the defaults (rfpflow.registry.template_root()), searched last anyway.
    return None
