"""``rfpflow export json``: the whole cycle as one JSON document (docs/exports.md).

The document is ``{"rfpflow_export_version": 1, "cycle": VIEW}`` where VIEW
is the cycle view (with prices removed while they are sealed). Keys are
sorted, text is UTF-8 and not escaped to ASCII, and the file ends with a
newline, so the same cycle always gives the same bytes and two exports diff
cleanly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rfpflow.builtins.export_common import export_view, write_bytes

#: The version of the JSON export's layout. It grows when a key is renamed or
#: removed or changes meaning; added keys do not change it.
EXPORT_VERSION = 1


def json_document(view: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON export as data: the version and the (sealed-safe) view."""
    return {"rfpflow_export_version": EXPORT_VERSION, "cycle": export_view(view)}


def json_bytes(view: Mapping[str, Any]) -> bytes:
    """The bytes :func:`export_json` writes."""
    text = json.dumps(json_document(view), sort_keys=True, ensure_ascii=False, indent=2, allow_nan=False)
    return (text + "\n").encode("utf-8")


def export_json(view: Mapping[str, Any], target: Path) -> Path:
    """Write the cycle as JSON at ``target`` and return ``target``."""
    return write_bytes(target, json_bytes(view))
