"""The modules that moved into subpackages, importable under their old names for a while.

``import rfpflow.cells`` still works and gives ``rfpflow.spreadsheets.cells`` itself, with a
DeprecationWarning naming the new place, so that a plugin written against the old layout keeps
working until its author moves the import. ``rfpflow.views`` also offers ``cycle_view``, which
now lives in ``rfpflow.workflow``.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
import types
import warnings
from collections.abc import Sequence
from typing import Any, cast

#: old module name -> new module name
MOVED: dict[str, str] = {
    "rfpflow.cells": "rfpflow.spreadsheets.cells",
    "rfpflow.filecheck": "rfpflow.spreadsheets.filecheck",
    "rfpflow.itemlist": "rfpflow.spreadsheets.item_list",
    "rfpflow.reading": "rfpflow.spreadsheets.batch",
    "rfpflow.serde": "rfpflow.store.serde",
    "rfpflow.views": "rfpflow.documents.view",
    "rfpflow.workbooks": "rfpflow.spreadsheets.workbooks",
    "rfpflow.xlsx_bid_reader": "rfpflow.spreadsheets.bid_reader",
    "rfpflow.xlsx_bid_writer": "rfpflow.spreadsheets.bid_writer",
    "rfpflow.xlsx_io": "rfpflow.spreadsheets.saving",
    "rfpflow.xlsx_layout": "rfpflow.spreadsheets.layout",
    "rfpflow.xlsx_mapping": "rfpflow.spreadsheets.mapping",
    "rfpflow.xlsx_reader": "rfpflow.spreadsheets.fast_reader",
    "rfpflow.xlsx_samples": "rfpflow.spreadsheets.samples",
}

#: names an old module offered that now live elsewhere: old module -> {name: new module}
_ALSO: dict[str, dict[str, str]] = {"rfpflow.views": {"cycle_view": "rfpflow.workflow"}}


class _Alias(types.ModuleType):
    """The old module: every attribute is looked up in the new one."""

    def __init__(self, old: str, new: str) -> None:
        super().__init__(old, f"moved to {new}")
        self.__dict__["_new"] = new

    def __getattr__(self, name: str) -> Any:
        elsewhere = _ALSO.get(self.__name__, {}).get(name)
        module = importlib.import_module(elsewhere or self.__dict__["_new"])
        return getattr(module, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("__"):  # the import system's own bookkeeping (__spec__, __loader__, ...)
            super().__setattr__(name, value)
            return
        # monkeypatching the old name patches the module that is really used
        setattr(importlib.import_module(self.__dict__["_new"]), name, value)

    def __dir__(self) -> list[str]:
        return sorted(set(dir(importlib.import_module(self.__dict__["_new"]))) | set(_ALSO.get(self.__name__, {})))


class _MovedFinder:
    """A meta path finder and loader for the old names (plain class: importing importlib.abc costs
    tens of milliseconds at start-up)."""

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: types.ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, cast(Any, self))  # a loader by its methods

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        new = MOVED[spec.name]
        warnings.warn(f"{spec.name} moved to {new}; import it from there", DeprecationWarning, stacklevel=2)
        return _Alias(spec.name, new)

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing to run: the alias looks every name up in the new module."""


def install() -> None:
    """Let the old module names be imported (once per process)."""
    if not any(isinstance(finder, _MovedFinder) for finder in sys.meta_path):
        sys.meta_path.append(_MovedFinder())
