"""Test helpers for plugin authors, loaded by pytest through the ``pytest11`` entry point.

Fixtures
    ``rfpflow_host``      a factory: ``rfpflow_host(my_plugin, ...)`` returns a
                          :class:`~rfpflow.plugins.PluginHost` holding the builtins and
                          exactly the plugins you name (no entry points), so a test
                          never depends on what else is installed.
    ``rfpflow_context``   a factory: a :class:`~rfpflow.context.RunContext` for a host,
                          with a fixed simulated clock (2027-01-01T00:00Z).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from rfpflow.context import Clock, RunContext
from rfpflow.plugins import PluginHost

FIXED_NOW = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)


def make_host(*plugins: object, builtins: bool = True) -> PluginHost:
    """A host with the builtins (unless ``builtins=False``) and ``plugins``, no entry points."""
    from rfpflow.plugins import BUILTIN_PLUGINS

    named = [(getattr(p, "__name__", type(p).__name__), p) for p in plugins]
    return PluginHost.create(load_entrypoints=False, extra_plugins=named, strict=True,
                             builtins=BUILTIN_PLUGINS if builtins else ())


@pytest.fixture
def rfpflow_host() -> Callable[..., PluginHost]:
    return make_host


@pytest.fixture
def rfpflow_context() -> Callable[..., RunContext]:
    def make(host: PluginHost | None = None, **kwargs: Any) -> RunContext:
        return RunContext(host=host or make_host(), clock=Clock(FIXED_NOW), actor="test", **kwargs)

    return make
