"""Checking names a user wrote against the names that exist, with "did you mean".

Plugins read their options from ``[plugins.NAME]`` in rfp.toml; :func:`unknown_options`
gives each unknown key one problem, naming the closest known key and listing them all.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

from rfpflow.errors import Problem

__all__ = ["suggest", "unknown_options"]


def suggest(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean X?)`` when a close match exists, else an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_options(plugin: str, label: str, options: Mapping[str, object], known: Iterable[str]) -> list[Problem]:
    """One problem per key of ``options`` (the ``[plugins.PLUGIN]`` table) that is not in ``known``.

    ``label`` is how the message names the plugin ("the dispatch plugin").
    """
    names = list(known)
    return [Problem(f"{label} has no option {key!r}{suggest(key, names)}; options: {', '.join(names)}",
                    field=f"plugins.{plugin}.{key}")
            for key in options if key not in names]
