"""Loading plugins and calling hooks.

One :class:`PluginHost` per command or API session (never a module global):
it registers rfpflow's builtin plugins (ordinary plugins marked ``trylast``),
then installed plugins from the ``rfpflow`` entry-point group, and records
every plugin that failed to load instead of crashing. Core code calls hooks
only through the host's typed methods, so results are checked and failures
are blamed on the plugin that caused them in one place.

Controls
    ``RFPFLOW_LOAD_PLUGINS``  comma-separated allow-list of installed plugins
                              (entry-point or distribution names); an empty
                              string loads none. Builtins always load.
    blocked names             ``--disable-plugin NAME``, ``RFPFLOW_DISABLE_PLUGINS``
                              and ``[plugins] disable = [...]`` in rfp.toml;
                              builtins can be blocked too.
    strict                    ``--strict-plugins``: re-raise load errors.
    ``RFPFLOW_TRACE_PLUGINS`` print every hook call to stderr.
    ``RFPFLOW_PLUGIN_TIMEOUT``  seconds one hook implementation may run (default 300);
                              one that hangs is stopped and named, and the command
                              changes nothing.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib
import os
import signal
import sys
import threading
import traceback
import types
from collections.abc import Callable, Iterable, Iterator, Sequence
from importlib import metadata
from typing import Any, TypeVar

import attrs
import pluggy

from rfpflow import hookspecs
from rfpflow.errors import PluginError, RfpflowError
from rfpflow.registry import (
    DocumentSpec,
    KpiPreset,
    Named,
    Profile,
    Registry,
    ScoringMethod,
    ScreeningRule,
)

ENTRY_POINT_GROUP = "rfpflow"
LOAD_ENV = "RFPFLOW_LOAD_PLUGINS"
TIMEOUT_ENV = "RFPFLOW_PLUGIN_TIMEOUT"
#: Seconds a single hook implementation may take before it is stopped and named.
DEFAULT_TIMEOUT = 300.0
DISABLE_ENV = "RFPFLOW_DISABLE_PLUGINS"
TRACE_ENV = "RFPFLOW_TRACE_PLUGINS"

#: rfpflow's own behaviour, as plugins. Each module marks its hooks trylast.
BUILTIN_PLUGINS: tuple[str, ...] = (
    "rfpflow.builtins.profiles",
    "rfpflow.builtins.validation",
    "rfpflow.builtins.transitions",
    "rfpflow.builtins.xlsx_bids",
    "rfpflow.builtins.screening",
    "rfpflow.builtins.scoring",
    "rfpflow.builtins.trial",
    "rfpflow.builtins.trial_run",
    "rfpflow.builtins.due_diligence",
    "rfpflow.builtins.dispatch",
    "rfpflow.builtins.score_sheets",
    "rfpflow.builtins.award",
    "rfpflow.builtins.exports",
    "rfpflow.builtins.documents",
    "rfpflow.builtins.pdf",
    "rfpflow.builtins.plugin_commands",
)

T = TypeVar("T")
N = TypeVar("N", bound=Named)


@attrs.frozen
class PluginInfo:
    """What ``rfpflow plugins`` shows for one plugin."""

    name: str
    distribution: str | None
    version: str | None
    builtin: bool
    hooks: tuple[str, ...] = ()
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "hooks": list(self.hooks),
            "builtin": self.builtin,
            "error": self.error,
        }


def plugin_timeout() -> float:
    """The per-implementation time limit in seconds (``RFPFLOW_PLUGIN_TIMEOUT``; 0 = none)."""
    text = os.environ.get(TIMEOUT_ENV, "")
    try:
        return max(0.0, float(text)) if text.strip() else DEFAULT_TIMEOUT
    except ValueError:
        raise RfpflowError(f"{TIMEOUT_ENV}: {text!r} is not a number of seconds") from None


class Timeout(BaseException):
    """A hook implementation ran past the time limit."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`Timeout` in this thread after ``seconds`` (POSIX main thread only; else no limit).

    A hanging plugin cannot be stopped from another thread in Python, but the
    CLI runs hooks in the main thread, where an interval timer can interrupt it.
    """
    usable = (seconds > 0 and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def expire(_signum: int, _frame: object) -> None:
        raise Timeout

    previous = signal.signal(signal.SIGALRM, expire)
    remaining = signal.setitimer(signal.ITIMER_REAL, seconds)[0]
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if remaining:  # an outer limit was running: give it back what is left of it
            signal.setitimer(signal.ITIMER_REAL, remaining)


def _split_names(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _plugin_file(plugin: object) -> str | None:
    module = plugin if isinstance(plugin, types.ModuleType) else sys.modules.get(type(plugin).__module__)
    filename = getattr(module, "__file__", None)
    return os.path.realpath(filename) if filename else None


class PluginHost:
    """A plugin manager with rfpflow's plugins loaded, and typed hook calls."""

    def __init__(self, pm: pluggy.PluginManager, infos: list[PluginInfo]) -> None:
        self.pm = pm
        self._infos = infos
        self._builtin_names = {i.name for i in infos if i.builtin}
        self._registries: dict[str, Registry[Any]] = {}

    # -- creation ---------------------------------------------------------

    @classmethod
    def create(
        cls,
        *,
        load_entrypoints: bool = True,
        blocked: Iterable[str] = (),
        strict: bool = False,
        allow: Sequence[str] | None = None,
        extra_plugins: Iterable[tuple[str, object]] = (),
        builtins: Sequence[str] = BUILTIN_PLUGINS,
    ) -> PluginHost:
        """Build a host: builtins, ``extra_plugins`` (name, object), then entry points.

        ``allow`` defaults to ``RFPFLOW_LOAD_PLUGINS`` when that is set.
        """
        pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        pm.add_hookspecs(hookspecs)
        blocked_names = set(blocked) | set(_split_names(os.environ.get(DISABLE_ENV)))
        for name in blocked_names:
            pm.set_blocked(name)
        if os.environ.get(TRACE_ENV):
            pm.trace.root.setwriter(sys.stderr.write)
            pm.enable_tracing()
        infos: list[PluginInfo] = []
        loader = _Loader(pm, infos, strict)
        for module_name in builtins:
            if module_name in blocked_names:
                continue
            loader.register(importlib.import_module(module_name), module_name, None, None, builtin=True)
        for name, plugin in extra_plugins:
            loader.register(plugin, name, None, None, builtin=False)
        if load_entrypoints:
            if allow is None and LOAD_ENV in os.environ:
                allow = _split_names(os.environ[LOAD_ENV])
            loader.load_entrypoints(allow, blocked_names)
        return cls(pm, infos)

    # -- introspection ----------------------------------------------------

    def plugin_infos(self) -> list[PluginInfo]:
        """Every plugin, loaded or failed, builtins first, then by name."""
        return sorted(self._infos, key=lambda i: (not i.builtin, i.name))

    @property
    def load_errors(self) -> list[PluginInfo]:
        return [i for i in self._infos if i.error]

    def is_builtin(self, plugin_name: str) -> bool:
        return plugin_name in self._builtin_names

    # -- calling hooks ----------------------------------------------------

    def _impls(self, hook_name: str) -> list[pluggy.HookImpl]:
        hook: pluggy.HookCaller = getattr(self.pm.hook, hook_name)
        # pluggy calls the last registered, tryfirst-sorted implementation first.
        return list(reversed(hook.get_hookimpls()))

    def _fail(self, plugin_name: str, hook_name: str, exc: BaseException) -> RfpflowError:
        if isinstance(exc, SystemExit):
            return PluginError(f"plugin {plugin_name!r} tried to end rfpflow (sys.exit) in {hook_name}; "
                               "nothing was changed")
        if isinstance(exc, Timeout):
            return PluginError(f"plugin {plugin_name!r} did not finish {hook_name} within {plugin_timeout():g} s "
                               f"and was stopped; nothing was changed (limit: {TIMEOUT_ENV})")
        if isinstance(exc, RfpflowError):
            if self.is_builtin(plugin_name):
                return exc
            err = type(exc)(f"plugin {plugin_name!r}: {exc.args[0] if exc.args else exc}", exc.problems)
            return err
        return PluginError(f"plugin {plugin_name!r} failed in {hook_name}: {type(exc).__name__}: {exc}")

    def blame(self, exc: BaseException) -> str:
        """The plugin whose code raised ``exc`` (innermost plugin frame), or "unknown"."""
        files: dict[str, str] = {}
        for name, plugin in self.pm.list_name_plugin():
            if plugin is not None and (path := _plugin_file(plugin)):
                files[path] = name
        found = "unknown"
        for frame, _ in traceback.walk_tb(exc.__traceback__):
            owner = files.get(os.path.realpath(frame.f_code.co_filename))
            if owner:
                found = owner
        return found

    def call(self, hook_name: str, *, firstresult: bool, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call a hook; return ``(plugin name, result)`` for each non-None result.

        Without wrappers, implementations are called one by one in pluggy's
        order so that errors and wrong return types name their plugin exactly;
        with wrappers, pluggy runs the call and the traceback names the plugin.
        A ``firstresult`` call returns at most one pair.
        """
        impls = self._impls(hook_name)
        limit = plugin_timeout()
        if any(i.wrapper or i.hookwrapper for i in impls):
            try:
                with time_limit(limit):
                    result = getattr(self.pm.hook, hook_name)(**kwargs)
            except (Exception, Timeout, SystemExit) as exc:
                raise self._fail(self.blame(exc), hook_name, exc) from exc
            if firstresult:
                return [] if result is None else [("a plugin", result)]
            return [("a plugin", r) for r in result if r is not None]
        results: list[tuple[str, Any]] = []
        for impl in impls:
            args = {name: kwargs[name] for name in impl.argnames}
            try:
                with time_limit(limit):
                    result = impl.function(**args)
            except (Exception, Timeout, SystemExit) as exc:
                raise self._fail(impl.plugin_name, hook_name, exc) from exc
            if result is not None:
                results.append((impl.plugin_name, result))
                if firstresult:
                    break
        return results

    def first(self, hook_name: str, expected: type[T] | tuple[type, ...], **kwargs: Any) -> T | None:
        """Call a firstresult hook and check the winning result's type."""
        outcome = self.call(hook_name, firstresult=True, **kwargs)
        if not outcome:
            return None
        plugin_name, result = outcome[0]
        if not isinstance(result, expected):
            raise PluginError(
                f"plugin {plugin_name!r} returned {type(result).__name__} from {hook_name}, "
                f"expected {_type_names(expected)}"
            )
        return result  # type: ignore[return-value]

    def collect(self, hook_name: str, item_type: type[T] | tuple[type, ...], **kwargs: Any) -> list[T]:
        """Call a collecting hook whose implementations return lists; flatten and check."""
        items: list[T] = []
        for plugin_name, result in self.call(hook_name, firstresult=False, **kwargs):
            if not isinstance(result, (list, tuple)):
                raise PluginError(
                    f"plugin {plugin_name!r} returned {type(result).__name__} from {hook_name}, "
                    f"expected a list of {_type_names(item_type)}"
                )
            for item in result:
                if not isinstance(item, item_type):
                    raise PluginError(
                        f"plugin {plugin_name!r} returned a {type(item).__name__} in the list from "
                        f"{hook_name}, expected {_type_names(item_type)}"
                    )
                items.append(item)  # type: ignore[arg-type]  # checked just above
        return items

    def notify(self, hook_name: str, **kwargs: Any) -> list[str]:
        """Call an observer hook; failures become warnings naming the plugin."""
        warnings: list[str] = []
        for impl in self._impls(hook_name):
            try:
                impl.function(**{name: kwargs[name] for name in impl.argnames})
            except Exception as exc:
                warnings.append(f"plugin {impl.plugin_name!r} failed in {hook_name}: {exc}")
        return warnings

    def run_each(self, hook_name: str, make_arg: Callable[[str], dict[str, Any]]) -> None:
        """Call each implementation with arguments made for its plugin name."""
        for impl in self._impls(hook_name):
            args = make_arg(impl.plugin_name)
            try:
                impl.function(**{name: args[name] for name in impl.argnames})
            except RfpflowError:
                raise
            except Exception as exc:
                raise self._fail(impl.plugin_name, hook_name, exc) from exc

    # -- registries -------------------------------------------------------

    def _registry(self, hook_name: str, kind: str, item_type: type[N]) -> Registry[N]:
        if hook_name in self._registries:
            return self._registries[hook_name]
        registry: Registry[N] = Registry(kind)

        def make_register(plugin_name: str) -> dict[str, Any]:
            builtin = self.is_builtin(plugin_name)

            def register(item: N) -> None:
                if not isinstance(item, item_type):
                    raise PluginError(
                        f"plugin {plugin_name!r} registered a {type(item).__name__} in {hook_name}, "
                        f"expected {item_type.__name__}"
                    )
                registry.add(item, plugin=plugin_name, builtin=builtin)

            return {"register": register}

        self.run_each(hook_name, make_register)
        self._registries[hook_name] = registry
        return registry

    def profiles(self) -> Registry[Profile]:
        return self._registry("rfpflow_register_profiles", "profile", Profile)

    def screening_rules(self) -> Registry[ScreeningRule]:
        return self._registry("rfpflow_register_screening_rules", "screening rule", ScreeningRule)

    def scoring_methods(self) -> Registry[ScoringMethod]:
        return self._registry("rfpflow_register_scoring_methods", "scoring method", ScoringMethod)

    def kpi_presets(self) -> Registry[KpiPreset]:
        return self._registry("rfpflow_register_kpi_presets", "KPI preset", KpiPreset)

    def documents(self) -> Registry[DocumentSpec]:
        return self._registry("rfpflow_register_documents", "document", DocumentSpec)


def _type_names(expected: type | tuple[type, ...]) -> str:
    if isinstance(expected, tuple):
        return " or ".join(t.__name__ for t in expected)
    return expected.__name__


class _Loader:
    """Registers plugins, recording (not raising) every failure unless strict."""

    def __init__(self, pm: pluggy.PluginManager, infos: list[PluginInfo], strict: bool) -> None:
        self.pm = pm
        self.infos = infos
        self.strict = strict
        self.spec_names = sorted(
            name for name in dir(hookspecs) if name.startswith("rfpflow_")
        )

    def _record_error(self, name: str, dist: str | None, version: str | None, builtin: bool, message: str,
                      exc: BaseException | None = None) -> None:
        self.infos.append(PluginInfo(name, dist, version, builtin, (), message))
        if self.strict:
            raise PluginError(f"plugin {name!r} failed to load: {message}") from exc

    def register(self, plugin: object, name: str, dist: str | None, version: str | None, *, builtin: bool) -> None:
        wanted = getattr(plugin, "RFPFLOW_HOOK_API", None)
        if wanted is not None and not _api_compatible(wanted):
            self._record_error(
                name, dist, version, builtin,
                f"needs hook API {wanted}, this rfpflow has {hookspecs.HOOK_API_VERSION}; "
                "upgrade rfpflow or install a version of the plugin made for it",
            )
            return
        try:
            self.pm.register(plugin, name=name)
        except Exception as exc:  # pluggy validation errors: wrong arguments for a hook
            self._record_error(name, dist, version, builtin, str(exc), exc)
            return
        unknown = [
            caller.name for caller in (self.pm.get_hookcallers(plugin) or [])
            if caller.spec is None and not _is_optional(caller, plugin)
        ]
        if unknown:
            self.pm.unregister(plugin)
            hints = []
            for hook in unknown:
                close = difflib.get_close_matches(hook, self.spec_names, n=1)
                hints.append(f"{hook} (did you mean {close[0]}?)" if close else hook)
            self._record_error(
                name, dist, version, builtin,
                "implements hooks rfpflow does not have: " + ", ".join(hints),
            )
            return
        hooks = tuple(sorted(c.name for c in (self.pm.get_hookcallers(plugin) or [])))
        self.infos.append(PluginInfo(name, dist, version, builtin, hooks, None))

    def load_entrypoints(self, allow: Sequence[str] | None, blocked: set[str]) -> None:
        seen: set[str] = set()
        eps = sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name)
        for ep in eps:
            if ep.name in seen:
                continue
            seen.add(ep.name)
            dist = ep.dist.name if ep.dist is not None else None
            version = ep.dist.version if ep.dist is not None else None
            if ep.name in blocked or (dist and dist in blocked):
                continue
            if allow is not None and ep.name not in allow and (dist is None or dist not in allow):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:
                self._record_error(ep.name, dist, version, False, f"{type(exc).__name__}: {exc}", exc)
                continue
            self.register(plugin, ep.name, dist, version, builtin=False)


def _is_optional(caller: pluggy.HookCaller, plugin: object) -> bool:
    return all(impl.optionalhook for impl in caller.get_hookimpls() if impl.plugin is plugin)


def _api_compatible(wanted: object) -> bool:
    if isinstance(wanted, int):
        wanted = (wanted, 0)
    if not (isinstance(wanted, tuple) and len(wanted) == 2 and all(isinstance(p, int) for p in wanted)):
        return False
    major, minor = hookspecs.HOOK_API_VERSION
    return bool(wanted[0] == major and wanted[1] <= minor)
