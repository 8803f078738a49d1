"""The client's letterhead on every HTML document, and a board summary (en, zh) after the award."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from rfpflow import hookimpl
from rfpflow.model import Rfp
from rfpflow.registry import DocumentSpec

RFPFLOW_HOOK_API = (1, 1)
TEMPLATES = Path(__file__).resolve().parent / "templates"
PLUGIN = "letterhead"


@hookimpl
def rfpflow_template_dirs() -> list[Path]:
    return [TEMPLATES]


@hookimpl
def rfpflow_prepare_jinja_env(env: Any, rfp: Rfp) -> None:
    options = rfp.options_for(PLUGIN)
    env.globals["letterhead"] = str(options.get("name", rfp.buyer))


@hookimpl
def rfpflow_register_documents(register: Callable[[DocumentSpec], None]) -> None:
    register(DocumentSpec("board-summary", "board-summary", "award-recommended"))
