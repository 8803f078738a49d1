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
    ``RFPFLOW_TRACE_PLUGINS`` print every call into a plugin (hooks and registered
                              callables: plugin, what, duration, result kind) to stderr.
    prefer                    ``[plugins] prefer = [...]`` in rfp.toml: these plugins are
                              asked first by firstresult hooks, in this order.
    plugins dir               ``--plugins-dir DIR``: every ``*.py`` module and package in
                              DIR is loaded as a plugin named after it (for development).
    ``RFPFLOW_PLUGIN_TIMEOUT``  seconds one hook implementation may run (default 300);
                              one that hangs is stopped and named, and the command
                              changes nothing.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib
import importlib.util
import os
import signal
import sys
import threading
import time
import traceback
import types
from collections.abc import Callable, Iterable, Iterator, Sequence
from importlib import metadata
from pathlib import Path
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
    module: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "hooks": list(self.hooks),
            "builtin": self.builtin,
            "error": self.error,
        }


@attrs.frozen
class Conflict:
    """Several installed plugins answer one firstresult hook: who is asked first, and why."""

    hook: str
    plugins: tuple[str, ...]  # in the order they are asked
    preferred: bool           # the order comes from ``[plugins] prefer``

    def message(self) -> str:
        quoted = [repr(p) for p in self.plugins]
        names = (f"{', '.join(quoted[:-1])} and {quoted[-1]} all" if len(quoted) > 2
                 else " and ".join(quoted) + " both")
        why = "as [plugins] prefer says" if self.preferred else (
            "by the default precedence; choose with [plugins] prefer = [...] in rfp.toml")
        return f"plugins {names} answer {self.hook}; {self.plugins[0]!r} is asked first ({why})"


#: The registries ``rfpflow plugins`` shows: (method name, what one item is called).
REGISTRIES: tuple[tuple[str, str], ...] = (
    ("screening_rules", "gate kind"),
    ("scoring_methods", "scoring method"),
    ("kpi_presets", "KPI preset"),
    ("profiles", "profile"),
    ("documents", "document"),
)


#: What a registered price formula may ask for by naming a parameter (hook API 1.2).
FORMULA_EXTRAS: tuple[str, ...] = ("options", "quality", "rfp")


def formula_wants(function: Callable[..., Any]) -> frozenset[str]:
    """The extras of :data:`FORMULA_EXTRAS` that ``function`` accepts (all of them with ``**kwargs``).

    A formula written for hook API 1.1, ``f(prices, max_points)``, asks for none and is
    called as before.
    """
    import inspect

    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return frozenset()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return frozenset(FORMULA_EXTRAS)
    return frozenset(p.name for p in parameters if p.name in FORMULA_EXTRAS)


def formula_extras(function: Callable[..., Any], **available: Any) -> dict[str, Any]:
    """The keyword arguments of ``available`` that ``function`` asks for (see :func:`formula_wants`)."""
    wanted = formula_wants(function)
    return {name: value for name, value in available.items() if name in wanted}


_METHOD_KINDS = {"price": "price formula", "ranking": "ranking method", "award": "award formula"}


def tracing() -> bool:
    """Whether ``RFPFLOW_TRACE_PLUGINS`` asks for every plugin call on stderr."""
    return os.environ.get(TRACE_ENV, "").strip() not in ("", "0")


def _result_kind(result: object) -> str:
    if result is None:
        return "None"
    if isinstance(result, (list, tuple)):
        inner = sorted({type(item).__name__ for item in result})
        return f"{type(result).__name__}[{len(result)}{' ' + '|'.join(inner) if inner else ''}]"
    return type(result).__name__


def _trace(plugin_name: str, what: str, subject: str, started: float, outcome: str) -> None:
    elapsed = (time.perf_counter() - started) * 1000
    about = f" ({subject})" if subject else ""
    sys.stderr.write(f"rfpflow trace: {plugin_name} {what}{about} {elapsed:.1f} ms -> {outcome}\n")
    sys.stderr.flush()


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

    def __init__(self, pm: pluggy.PluginManager, infos: list[PluginInfo], *, prefer: Sequence[str] = (),
                 known_names: Iterable[str] = ()) -> None:
        self.pm = pm
        self._infos = infos
        self._builtin_names = {i.name for i in infos if i.builtin}
        self._registries: dict[str, Registry[Any]] = {}
        self.prefer: tuple[str, ...] = tuple(prefer)
        #: Every plugin name this host could have loaded (loaded, failed or blocked).
        self.known_names: frozenset[str] = frozenset(known_names) | {i.name for i in infos}
        #: Which plugin answered a firstresult hook for each input (``"file x.xlsx"`` -> plugin).
        self.answered_by: dict[str, str] = {}

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
        plugins_dir: Path | None = None,
        prefer: Sequence[str] = (),
    ) -> PluginHost:
        """Build a host: builtins, ``extra_plugins`` (name, object), modules in
        ``plugins_dir``, then entry points.

        ``allow`` defaults to ``RFPFLOW_LOAD_PLUGINS`` when that is set;
        ``prefer`` names plugins asked first by firstresult hooks, in order.
        """
        pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        pm.add_hookspecs(hookspecs)
        blocked_names = set(blocked) | set(_split_names(os.environ.get(DISABLE_ENV)))
        for name in blocked_names:
            pm.set_blocked(name)
        infos: list[PluginInfo] = []
        loader = _Loader(pm, infos, strict)
        for module_name in builtins:
            loader.known.add(module_name)
            if module_name in blocked_names:
                continue
            loader.register(importlib.import_module(module_name), module_name, None, None, builtin=True)
        for name, plugin in extra_plugins:
            loader.register(plugin, name, None, None, builtin=False)
        if plugins_dir is not None:
            loader.load_directory(plugins_dir, blocked_names)
        if load_entrypoints:
            if allow is None and LOAD_ENV in os.environ:
                allow = _split_names(os.environ[LOAD_ENV])
            loader.load_entrypoints(allow, blocked_names)
        return cls(pm, infos, prefer=prefer, known_names=loader.known)

    # -- introspection ----------------------------------------------------

    def plugin_infos(self) -> list[PluginInfo]:
        """Every plugin, loaded or failed, builtins first, then by name."""
        return sorted(self._infos, key=lambda i: (not i.builtin, i.name))

    @property
    def load_errors(self) -> list[PluginInfo]:
        return [i for i in self._infos if i.error]

    def is_builtin(self, plugin_name: str) -> bool:
        return plugin_name in self._builtin_names

    def unknown_names(self, names: Iterable[str]) -> list[str]:
        """Each of ``names`` that names no plugin, with a "did you mean" when one is close."""
        out = []
        for name in names:
            if name in self.known_names:
                continue
            close = difflib.get_close_matches(name, sorted(self.known_names), n=1)
            out.append(f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name))
        return out

    def conflicts(self) -> list[Conflict]:
        """Firstresult hooks that two or more installed (non-builtin) plugins implement."""
        found = []
        for hook_name in sorted(_firstresult_hooks()):
            impls = [i for i in self._impls(hook_name) if not self.is_builtin(i.plugin_name)]
            scopes = [_profiles_of(i.plugin) for i in impls]
            if len(impls) > 1 and not _disjoint(scopes):
                askers = tuple(i.plugin_name for i in impls)
                found.append(Conflict(hook_name, askers, askers[0] in self.prefer))
        return found

    def registrations(self) -> list[tuple[str, str, str, str | None]]:
        """Every registered name: ``(plugin, what, name, the builtin it overrides or None)``."""
        rows: list[tuple[str, str, str, str | None]] = []
        for method, what in REGISTRIES:
            registry: Registry[Any] = getattr(self, method)()
            replaced = {name: builtin for name, _holder, builtin in registry.overridden}
            for name in registry.names():
                item = registry[name]
                label = _METHOD_KINDS.get(item.kind, what) if isinstance(item, ScoringMethod) else what
                rows.append((registry.suppliers[name], label, name, replaced.get(name)))
        return rows

    # -- calling hooks ----------------------------------------------------

    def _impls(self, hook_name: str) -> list[pluggy.HookImpl]:
        hook: pluggy.HookCaller = getattr(self.pm.hook, hook_name)
        # pluggy calls the last registered, tryfirst-sorted implementation first.
        impls = list(reversed(hook.get_hookimpls()))
        if self.prefer:
            rank = {name: index for index, name in enumerate(self.prefer)}
            impls.sort(key=lambda i: rank.get(i.plugin_name, len(rank)))  # stable: the rest keep their order
        return impls

    def _fail(self, plugin_name: str, hook_name: str, exc: BaseException, subject: str = "") -> RfpflowError:
        about = f" ({subject})" if subject else ""
        if isinstance(exc, SystemExit):
            return PluginError(f"plugin {plugin_name!r} tried to end rfpflow (sys.exit) in {hook_name}{about}; "
                               "nothing was changed")
        if isinstance(exc, Timeout):
            return PluginError(f"plugin {plugin_name!r} did not finish {hook_name}{about} within "
                               f"{plugin_timeout():g} s and was stopped; nothing was changed (limit: {TIMEOUT_ENV})")
        if isinstance(exc, RfpflowError):
            if self.is_builtin(plugin_name):
                return exc
            err = type(exc)(f"plugin {plugin_name!r}: {exc.args[0] if exc.args else exc}", exc.problems)
            return err
        return PluginError(f"plugin {plugin_name!r} failed in {hook_name}{about}: {type(exc).__name__}: {exc}")

    def blame(self, exc: BaseException) -> str:
        """The plugin whose code raised ``exc`` (innermost plugin frame), or "unknown"."""
        files: dict[str, str] = {}
        for name, plugin in self.pm.list_name_plugin():
            if plugin is not None and (path := _plugin_file(plugin)):
                files[path] = name
        for hook_caller in self.pm.hook.__dict__.values():
            for impl in getattr(hook_caller, "get_hookimpls", list)():
                code = getattr(impl.function, "__code__", None)
                if code is not None:  # also plugins without a file (made in memory, in tests)
                    files.setdefault(os.path.realpath(code.co_filename), impl.plugin_name)
        found = "unknown"
        for frame, _ in traceback.walk_tb(exc.__traceback__):
            owner = files.get(os.path.realpath(frame.f_code.co_filename))
            if owner:
                found = owner
        return found

    def invoke(self, plugin_name: str, what: str, function: Callable[..., Any], /, *args: Any,
               subject: str = "", expected: type | tuple[type, ...] | None = None,
               passthrough: tuple[type[BaseException], ...] = (), **kwargs: Any) -> Any:
        """Call ``function``, which ``plugin_name`` supplied, the one way rfpflow calls plugin code.

        ``what`` says what it is (``"rfpflow_read_bids"``, ``"price formula 'x'"``),
        ``subject`` the input (``"file a.xlsx"``, ``"vendor acme"``). The call runs
        under the time limit and is traced when ``RFPFLOW_TRACE_PLUGINS`` is set;
        an exception (other than ``passthrough`` ones, re-raised as they are), a
        timeout or ``sys.exit`` becomes a :class:`PluginError` naming the plugin,
        ``what`` and ``subject``, and a result that is not ``None`` must be an
        instance of ``expected`` (when given). Raised inside a command's
        transaction, the error rolls the command back.
        """
        trace = tracing()
        started = time.perf_counter()
        try:
            with time_limit(plugin_timeout()):
                result = function(*args, **kwargs)
        except passthrough as exc:
            if trace:
                _trace(plugin_name, what, subject, started, f"raised {type(exc).__name__}")
            raise
        except (Exception, Timeout, SystemExit) as exc:
            if trace:
                _trace(plugin_name, what, subject, started, f"raised {type(exc).__name__}")
            raise self._fail(plugin_name, what, exc, subject) from exc
        if trace:
            _trace(plugin_name, what, subject, started, _result_kind(result))
        if expected is not None and result is not None and not isinstance(result, expected):
            about = f" ({subject})" if subject else ""
            raise PluginError(f"plugin {plugin_name!r} returned {type(result).__name__} from {what}{about}, "
                              f"expected {_type_names(expected)}")
        return result

    def call(self, hook_name: str, *, firstresult: bool, subject: str = "", **kwargs: Any) -> list[tuple[str, Any]]:
        """Call a hook; return ``(plugin name, result)`` for each non-None result.

        Without wrappers, implementations are called one by one (in the order
        of :meth:`_impls`) through :meth:`invoke`, so that errors and wrong
        return types name their plugin exactly; with wrappers, pluggy runs the
        call and the traceback names the plugin. A ``firstresult`` call returns
        at most one pair, and remembers its plugin in :attr:`answered_by`
        under ``subject``.
        """
        impls = self._impls(hook_name)
        if any(i.wrapper or i.hookwrapper for i in impls):
            trace = tracing()
            started = time.perf_counter()
            try:
                with time_limit(plugin_timeout()):
                    result = getattr(self.pm.hook, hook_name)(**kwargs)
            except (Exception, Timeout, SystemExit) as exc:
                culprit = self.blame(exc)
                if trace:
                    _trace(culprit, hook_name, subject, started, f"raised {type(exc).__name__}")
                raise self._fail(culprit, hook_name, exc, subject) from exc
            if trace:
                _trace("(wrapped)", hook_name, subject, started, _result_kind(result))
            if firstresult:
                return [] if result is None else [("a plugin", result)]
            return [("a plugin", r) for r in result if r is not None]
        results: list[tuple[str, Any]] = []
        for impl in impls:
            args = {name: kwargs[name] for name in impl.argnames}
            result = self.invoke(impl.plugin_name, hook_name, impl.function, subject=subject, **args)
            if result is not None:
                results.append((impl.plugin_name, result))
                if firstresult:
                    if subject:
                        self.answered_by[subject] = impl.plugin_name
                    break
        return results

    def first(self, hook_name: str, expected: type[T] | tuple[type, ...], *, subject: str = "",
              **kwargs: Any) -> T | None:
        """Call a firstresult hook and check the winning result's type."""
        outcome = self.call(hook_name, firstresult=True, subject=subject, **kwargs)
        if not outcome:
            return None
        plugin_name, result = outcome[0]
        if not isinstance(result, expected):
            about = f" ({subject})" if subject else ""
            raise PluginError(
                f"plugin {plugin_name!r} returned {type(result).__name__} from {hook_name}{about}, "
                f"expected {_type_names(expected)}"
            )
        return result  # type: ignore[return-value]

    def collect(self, hook_name: str, item_type: type[T] | tuple[type, ...], *, subject: str = "",
                **kwargs: Any) -> list[T]:
        """Call a collecting hook whose implementations return lists; flatten and check."""
        items: list[T] = []
        about = f" ({subject})" if subject else ""
        for plugin_name, result in self.call(hook_name, firstresult=False, subject=subject, **kwargs):
            if not isinstance(result, (list, tuple)):
                raise PluginError(
                    f"plugin {plugin_name!r} returned {type(result).__name__} from {hook_name}{about}, "
                    f"expected a list of {_type_names(item_type)}"
                )
            for item in result:
                if not isinstance(item, item_type):
                    raise PluginError(
                        f"plugin {plugin_name!r} returned a {type(item).__name__} in the list from "
                        f"{hook_name}{about}, expected {_type_names(item_type)}"
                    )
                items.append(item)  # type: ignore[arg-type]  # checked just above
        return items

    def notify(self, hook_name: str, **kwargs: Any) -> list[str]:
        """Call an observer hook; failures (timeouts and ``sys.exit`` too) become warnings naming the plugin."""
        warnings: list[str] = []
        for impl in self._impls(hook_name):
            try:
                self.invoke(impl.plugin_name, hook_name, impl.function,
                            **{name: kwargs[name] for name in impl.argnames})
            except RfpflowError as exc:
                message = str(exc)
                if not message.startswith("plugin "):
                    message = f"plugin {impl.plugin_name!r} failed in {hook_name}: {message}"
                warnings.append(message)
        return warnings

    def run_each(self, hook_name: str, make_arg: Callable[[str], dict[str, Any]]) -> None:
        """Call each implementation with arguments made for its plugin name."""
        for impl in self._impls(hook_name):
            args = make_arg(impl.plugin_name)
            self.invoke(impl.plugin_name, hook_name, impl.function, passthrough=(RfpflowError,),
                        **{name: args[name] for name in impl.argnames})

    def supplied(self, registry: Registry[Any], name: str, what: str, function: Callable[..., Any], /,
                 *args: Any, subject: str = "", expected: type | tuple[type, ...] | None = None,
                 passthrough: tuple[type[BaseException], ...] = (), **kwargs: Any) -> Any:
        """Call a callable registered under ``name`` in ``registry`` through :meth:`invoke`,
        naming the plugin that registered it and ``what`` (``"price formula 'x'"``)."""
        return self.invoke(registry.suppliers.get(name, "unknown"), what, function, *args, subject=subject,
                           expected=expected, passthrough=passthrough, **kwargs)

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
        self.known: set[str] = set()

    def _record_error(self, name: str, dist: str | None, version: str | None, builtin: bool, message: str,
                      exc: BaseException | None = None) -> None:
        self.infos.append(PluginInfo(name, dist, version, builtin, (), message))
        if self.strict:
            raise PluginError(f"plugin {name!r} failed to load: {message}") from exc

    def register(self, plugin: object, name: str, dist: str | None, version: str | None, *, builtin: bool) -> None:
        self.known.add(name)
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
            self.known.update(n for n in (ep.name, dist) if n)
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

    def load_directory(self, directory: Path, blocked: set[str]) -> None:
        """Every module and package in ``directory``, named after it (``--plugins-dir``)."""
        for name, path in _directory_modules(directory):
            self.known.add(name)
            if name in blocked:
                continue
            try:
                plugin = _load_module_file(name, path)
            except Exception as exc:
                self._record_error(name, None, None, False, f"{type(exc).__name__}: {exc}", exc)
                continue
            self.register(plugin, name, None, None, builtin=False)


def _load_module_file(name: str, path: Path) -> types.ModuleType:
    """Import ``path`` (a module file or a package's ``__init__.py``) as the module ``name``."""
    location = path / "__init__.py" if path.is_dir() else path
    search = [str(path)] if path.is_dir() else None
    spec = importlib.util.spec_from_file_location(name, location, submodule_search_locations=search)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _directory_modules(directory: Path) -> list[tuple[str, Path]]:
    """The plugin modules in ``directory``: ``name.py`` files and packages, by name."""
    if not directory.is_dir():
        raise PluginError(f"--plugins-dir {directory}: no such folder")
    found = []
    for entry in sorted(directory.iterdir()):
        if entry.name.startswith(("_", ".")):
            continue
        if entry.is_file() and entry.suffix == ".py":
            found.append((entry.stem, entry))
        elif entry.is_dir() and (entry / "__init__.py").is_file():
            found.append((entry.name, entry))
    return found


def _profiles_of(plugin: object) -> frozenset[str] | None:
    """The profiles a plugin's hooks answer for (``RFPFLOW_PROFILES``), or None: every RFP."""
    declared = getattr(plugin, "RFPFLOW_PROFILES", None)
    if isinstance(declared, (list, tuple, set, frozenset)) and all(isinstance(p, str) for p in declared):
        return frozenset(declared)
    return None


def _disjoint(scopes: Sequence[frozenset[str] | None]) -> bool:
    """Whether plugins scoped to these profiles can never answer the same RFP."""
    if any(scope is None for scope in scopes):
        return False
    seen: set[str] = set()
    for scope in scopes:
        assert scope is not None
        if seen & scope:
            return False
        seen |= scope
    return True


def _firstresult_hooks() -> list[str]:
    return [name for name in dir(hookspecs) if name.startswith("rfpflow_")
            and getattr(getattr(hookspecs, name), "rfpflow_spec", {}).get("firstresult")]


def _is_optional(caller: pluggy.HookCaller, plugin: object) -> bool:
    return all(impl.optionalhook for impl in caller.get_hookimpls() if impl.plugin is plugin)


def _api_compatible(wanted: object) -> bool:
    if isinstance(wanted, int):
        wanted = (wanted, 0)
    if not (isinstance(wanted, tuple) and len(wanted) == 2 and all(isinstance(p, int) for p in wanted)):
        return False
    major, minor = hookspecs.HOOK_API_VERSION
    return bool(wanted[0] == major and wanted[1] <= minor)
