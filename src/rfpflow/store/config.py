"""Which store a workspace's cycle lives in, and opening it.

- A workspace with ``.rfpflow/store.toml`` (the *pointer*, written by ``issue`` and ``store copy``)
  uses the cycle it names in a PostgreSQL store.
- A workspace with ``.rfpflow/cycle.sqlite3`` uses that file, as it always has.
- A new cycle goes where the *configured* store says: the ``RFPFLOW_STORE`` environment variable,
  else ``[store] url`` in the user's config (``$XDG_CONFIG_HOME/rfpflow/config.toml``), else in the
  site config (``/etc/rfpflow/config.toml``, or ``RFPFLOW_SITE_CONFIG``); with none of them, SQLite
  in the workspace, exactly as before. Never ``rfp.toml``: a definition is shared with vendors and
  auditors and must not carry a server's address or credentials.

This module does not import psycopg; the PostgreSQL backend loads only when a cycle uses it.
"""

from __future__ import annotations

import os
import tomllib
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from rfpflow.errors import RfpflowError
from rfpflow.store.sqlite import STORE_DIR, SqliteStore, store_path

if TYPE_CHECKING:
    from rfpflow.store.interface import Store

ENV_URL = "RFPFLOW_STORE"
ENV_SITE_CONFIG = "RFPFLOW_SITE_CONFIG"
POINTER_FILE = "store.toml"
SCHEMES = ("postgresql://", "postgres://")


@attrs.frozen
class StoreSettings:
    """The configured server store (None: the SQLite default) and its limits."""

    url: str | None = None
    origin: str = "default"
    statement_timeout_s: float = 30.0
    lock_wait_s: float = 120.0
    pool_size: int = 10


@attrs.frozen
class Pointer:
    """A workspace's note of its cycle in a server store."""

    url: str
    cycle: str


def user_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "rfpflow" / "config.toml"


def site_config_path() -> Path:
    return Path(os.environ.get(ENV_SITE_CONFIG) or "/etc/rfpflow/config.toml")


def _check_url(url: str, origin: str) -> str | None:
    url = url.strip()
    if url in ("", "sqlite"):
        return None
    if not url.startswith(SCHEMES):
        raise RfpflowError(f"{origin}: the store must be a postgresql://… URL (or 'sqlite' for the workspace's "
                           f"own file), not {url.split('://')[0]!r}")
    return url


def _read_config(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise RfpflowError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise RfpflowError(f"{path}: cannot read the config: {exc.strerror or exc}") from None
    section = data.get("store", {})
    if not isinstance(section, dict):
        raise RfpflowError(f"{path}: [store] must be a table")
    return section


def _number(section: dict[str, Any], key: str, default: float, path: Path) -> float:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise RfpflowError(f"{path}: [store] {key} must be a positive number, not {value!r}")
    return float(value)


def settings() -> StoreSettings:
    """The configured store: environment first, then the user's config, then the site's."""
    found: dict[str, Any] = {}
    url: str | None = None
    origin = "default"
    for path in (site_config_path(), user_config_path()):  # the user's settings override the site's
        if path.is_file():
            section = _read_config(path)
            for key in ("statement_timeout", "lock_wait", "pool_size"):
                if key in section:
                    found[key] = (_number(section, key, 1, path), path)
            if "url" in section:
                if not isinstance(section["url"], str):
                    raise RfpflowError(f"{path}: [store] url must be a string")
                url, origin = _check_url(section["url"], f"{path}: [store] url"), str(path)
    env = os.environ.get(ENV_URL)
    if env is not None:
        url, origin = _check_url(env, ENV_URL), ENV_URL
    return StoreSettings(
        url=url, origin=origin,
        statement_timeout_s=found.get("statement_timeout", (30.0,))[0],
        lock_wait_s=found.get("lock_wait", (120.0,))[0],
        pool_size=int(found.get("pool_size", (10,))[0]),
    )


def pointer_path(workspace: Path) -> Path:
    return workspace / STORE_DIR / POINTER_FILE


def read_pointer(workspace: Path) -> Pointer | None:
    path = pointer_path(workspace)
    if not path.is_file():
        return None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RfpflowError(f"{path}: cannot read which server cycle this workspace uses: {exc}") from None
    url, cycle = data.get("url"), data.get("cycle")
    if not isinstance(url, str) or not isinstance(cycle, str) or not url.startswith(SCHEMES) or not cycle:
        raise RfpflowError(f"{path}: needs url = \"postgresql://…\" and cycle = \"…\"")
    return Pointer(url, cycle)


def write_pointer(workspace: Path, url: str, cycle: str) -> Path:
    """Write the pointer atomically (a whole file or none); the password is never written."""
    from rfpflow.store.postgresql import redact

    path = pointer_path(workspace)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = ("# This workspace's RFP cycle lives in a PostgreSQL store (written by rfpflow; see docs/deployment.md).\n"
            "# The password comes from RFPFLOW_STORE, the user config, ~/.pgpass or PGPASSWORD, never from here.\n"
            f"url = {_toml_string(redact(url))}\ncycle = {_toml_string(cycle)}\n")
    temporary = path.with_name(f".{POINTER_FILE}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    with temporary.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    return path


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def connection_url(pointer: Pointer, configured: StoreSettings) -> str:
    """The pointer's server, with the configured URL's credentials when it names the same server."""
    from rfpflow.store.postgresql import redact

    if configured.url and redact(configured.url) == pointer.url:
        return configured.url
    return pointer.url


def cycle_store_exists(workspace: Path) -> bool:
    """Whether the workspace has a cycle's store (a SQLite file or a pointer to a server cycle)."""
    return pointer_path(workspace).is_file() or store_path(workspace).exists()


def new_cycle_id() -> str:
    return uuid.uuid4().hex


def open_store(workspace: Path, *, create: bool = False, read_only: bool = False) -> Store:
    """The store of the workspace's cycle; with ``create``, a new cycle where the config says."""
    pointer = read_pointer(workspace)
    configured = settings()
    if pointer is not None:
        return open_server(connection_url(pointer, configured), pointer.cycle, workspace=workspace,
                           read_only=read_only, configured=configured)
    sqlite = store_path(workspace)
    if sqlite.exists() or not create or configured.url is None:
        return SqliteStore(sqlite, create=create, read_only=read_only)
    cycle = new_cycle_id()
    store = open_server(configured.url, cycle, workspace=workspace, configured=configured)
    try:
        write_pointer(workspace, configured.url, cycle)
    except OSError as exc:
        store.close()
        raise RfpflowError(f"{workspace}: cannot note the server cycle in {pointer_path(workspace)}: "
                           f"{exc.strerror or exc}; nothing was changed") from None
    return store


def open_server(url: str, cycle: str, *, workspace: Path | None = None, read_only: bool = False,
                configured: StoreSettings | None = None) -> Store:
    try:
        from rfpflow.store.postgresql import PostgresStore
    except ImportError:
        raise RfpflowError("this cycle lives in a PostgreSQL store, but psycopg is not installed; "
                           "install rfpflow[postgresql]") from None
    limits = configured or settings()
    return PostgresStore(url, cycle, workspace=workspace, read_only=read_only,
                         statement_timeout_s=limits.statement_timeout_s, lock_wait_s=limits.lock_wait_s)


def use_server_pool(size: int | None = None) -> None:
    """For a long-running process (the web portal): keep a pool of ``size`` connections per
    server (default ``[store] pool_size``, 10) instead of one connection per command."""
    from rfpflow.store.postgresql import use_pool

    use_pool(size if size is not None else settings().pool_size)
