"""A workspace: one folder per RFP cycle, as procurement teams keep one per tender.

    rfp.toml        the definition
    bids/           vendor workbooks as received
    evaluations/    evaluators' score sheets
    trial/          trial-run measurements
    templates/      optional document template overrides
    out/            generated documents and exports
    .rfpflow/       the store (SQLite) - do not edit by hand
"""

from __future__ import annotations

from pathlib import Path

from rfpflow.errors import RfpflowError
from rfpflow.options import suggest
from rfpflow.plugins import PluginHost
from rfpflow.registry import Profile

SUBFOLDERS = ("bids", "evaluations", "trial", "templates", "out")


def _profile(host: PluginHost, profile: str) -> Profile:
    profiles = host.profiles()
    chosen = profiles.get(profile)
    if chosen is None:
        raise RfpflowError(
            f"no profile {profile!r}{suggest(profile, profiles.names())}; installed profiles: "
            f"{', '.join(profiles.names())} (`rfpflow plugins` shows where they come from)"
        )
    return chosen


def profile_language(host: PluginHost, profile: str, language: str | None) -> str:
    """The language to make a workspace in: the one asked for; else the profile's only one; else English."""
    if language is not None:
        return language
    languages = sorted(_profile(host, profile).templates)
    if len(languages) == 1:
        return languages[0]
    return "en" if "en" in languages or not languages else languages[0]


def create_workspace(target: Path, host: PluginHost, *, profile: str = "generic", language: str | None = None
                     ) -> Path:
    """Create a workspace with a commented rfp.toml from a registered profile (``language``: see
    :func:`profile_language`)."""
    chosen = _profile(host, profile)
    language = profile_language(host, profile, language)
    text = chosen.templates.get(language)
    if text is None:
        available = ", ".join(sorted(chosen.templates))
        raise RfpflowError(f"profile {profile!r} has no {language!r} version; it has: {available}")
    definition = target / "rfp.toml"
    if definition.exists():
        raise RfpflowError(f"{definition} already exists; choose another folder or remove it first")
    if target.exists() and not target.is_dir():
        raise RfpflowError(f"{target} exists and is not a folder")
    target.mkdir(parents=True, exist_ok=True)
    for name in SUBFOLDERS:
        (target / name).mkdir(exist_ok=True)
    definition.write_text(text, encoding="utf-8")
    return target
