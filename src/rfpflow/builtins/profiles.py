"""The builtin ``generic`` profile: a starting rfp.toml for any service RFP."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources

from rfpflow.hookspecs import hookimpl
from rfpflow.registry import Profile


def _text(name: str) -> str:
    return resources.files(__package__).joinpath("profiles", name).read_text(encoding="utf-8")


@hookimpl(trylast=True)
def rfpflow_register_profiles(register: Callable[[Profile], None]) -> None:
    register(
        Profile(
            name="generic",
            title="Generic service RFP",
            description="Technical quality and price, pass/fail gates, optional trial run; "
            "a neutral starting point to adapt.",
            templates={"en": _text("generic.en.toml"), "zh": _text("generic.zh.toml")},
        )
    )
