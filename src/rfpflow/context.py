"""The run context every hook receives: who acts, when, where, with which plugins."""

from __future__ import annotations

import datetime as dt
import getpass
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from rfpflow.errors import RfpflowError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from rfpflow.model import Rfp
    from rfpflow.plugins import PluginHost

NOW_ENV = "RFPFLOW_NOW"


def parse_now(text: str, *, origin: str = "--now") -> dt.datetime:
    """Parse a simulated "now" (ISO date or date-time); naive values are taken as UTC."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise RfpflowError(
            f"{origin}: {text!r} is not an ISO date-time; write e.g. 2026-03-01T09:00:00+08:00"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


@attrs.frozen
class Clock:
    """The time as rfpflow sees it: real, or simulated for replays and training.

    A simulated clock is recorded beside the wall-clock time in every event so
    an auditor can see the run was simulated.
    """

    simulated: dt.datetime | None = None
    #: A replay (`rfpflow run`) records the simulated time as the wall-clock time too, so that
    #: two runs of one sample give the same event hashes, chain head and documents. Events stay
    #: marked simulated, so an auditor can still tell a replay from a real cycle.
    replay: bool = False

    @classmethod
    def from_env(cls, now: str | None = None) -> Clock:
        text = now if now is not None else os.environ.get(NOW_ENV)
        if not text:
            return cls()
        origin = "--now" if now is not None else NOW_ENV
        return cls(parse_now(text, origin=origin))

    def now(self) -> dt.datetime:
        return self.simulated if self.simulated is not None else self.wall()

    def wall(self) -> dt.datetime:
        if self.replay and self.simulated is not None:
            return self.simulated
        return dt.datetime.now(dt.UTC).replace(microsecond=0)

    @property
    def is_simulated(self) -> bool:
        return self.simulated is not None


def default_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user database entry (containers): still record something
        return os.environ.get("USER", "unknown")


@attrs.frozen
class RunContext:
    """What a hook may need besides its own arguments.

    ``workspace`` is the cycle's folder (None outside a workspace);
    ``host`` gives access to registries and other hooks.
    """

    host: PluginHost
    clock: Clock = attrs.field(factory=Clock)
    actor: str = attrs.field(factory=default_actor)
    workspace: Path | None = None
    rfp: Rfp | None = None

    def now(self) -> dt.datetime:
        return self.clock.now()

    def plugin_options(self, plugin: str) -> Mapping[str, Any]:
        """The ``[plugins.NAME]`` table of rfp.toml (empty without one)."""
        return self.rfp.options_for(plugin) if self.rfp is not None else {}

    def with_rfp(self, rfp: Rfp) -> RunContext:
        return attrs.evolve(self, rfp=rfp)
