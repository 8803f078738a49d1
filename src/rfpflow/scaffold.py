"""``rfpflow plugin new NAME``: a new organisation plugin, ready to install and test.

:func:`create_plugin` copies the files under ``scaffold_template/`` into a new
distribution folder, replacing these markers in file names and contents:

================  ==========================================  =================
marker            meaning                                     for ``acme-rules``
================  ==========================================  =================
``@@NAME@@``      the plugin's name: entry point, options     ``acme-rules``
``@@DIST@@``      the distribution (pip) name and the folder  ``rfpflow-acme-rules``
``@@MODULE@@``    the Python package                          ``rfpflow_acme_rules``
``@@OPTIONS@@``   the ``[plugins.NAME]`` table key            ``acme-rules``
================  ==========================================  =================

A template file ending in ``.tmpl`` loses that suffix (so that the template's
Python files are not taken for rfpflow's own modules by linters and type
checkers). The generated plugin has one commented example of each kind of hook
-- a screening gate, a price formula, a template folder with an override, a
validation rule and a transition observer -- tests using :mod:`rfpflow.testing`,
and a README; its tests pass as generated.
"""

from __future__ import annotations

import re
from pathlib import Path

import attrs

from rfpflow.errors import RfpflowError

__all__ = ["TEMPLATE_ROOT", "PluginNames", "create_plugin", "plugin_names"]

_NAME = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")
#: The files a new plugin is made from.
TEMPLATE_ROOT = Path(__file__).resolve().parent / "scaffold_template"


@attrs.frozen
class PluginNames:
    """The names a new plugin is known by (see the module documentation)."""

    name: str
    dist: str
    module: str

    def replacements(self) -> dict[str, str]:
        return {"@@NAME@@": self.name, "@@DIST@@": self.dist, "@@MODULE@@": self.module, "@@OPTIONS@@": self.name}

    def fill(self, text: str) -> str:
        for marker, value in self.replacements().items():
            text = text.replace(marker, value)
        return text


def plugin_names(name: str) -> PluginNames:
    """Check a plugin name and derive its distribution and module names.

    ``acme``, ``acme-rules`` and ``acme_rules`` are accepted (lower-case
    letters and digits, words joined by ``-`` or ``_``); a leading
    ``rfpflow-`` is dropped: ``rfpflow-acme`` is the plugin ``acme``.
    """
    given = name.strip()
    slug = given.replace("_", "-")
    if slug.startswith("rfpflow-"):
        slug = slug[len("rfpflow-"):]
    if not _NAME.match(slug) or slug == "rfpflow":
        raise RfpflowError(
            f"{given!r} is not a usable plugin name: use lower-case letters and digits, words joined by '-' "
            "(for example acme or acme-rules)")
    return PluginNames(name=slug, dist=f"rfpflow-{slug}", module="rfpflow_" + slug.replace("-", "_"))


def _files(root: Path) -> list[tuple[tuple[str, ...], Path]]:
    """Every template file as (path parts relative to ``root``, file), sorted; caches skipped."""
    return [(path.relative_to(root).parts, path) for path in sorted(root.rglob("*"))
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"]


def create_plugin(name: str, directory: Path | str = ".") -> Path:
    """Write a new plugin distribution ``rfpflow-NAME`` inside ``directory``; return its folder.

    Refuses a folder that exists and is not empty, so nothing is overwritten.
    """
    names = plugin_names(name)
    target = Path(directory) / names.dist
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise RfpflowError(f"{target} already exists and is not empty; choose another --dir or name")
    for parts, source in _files(TEMPLATE_ROOT):
        relative = [names.fill(part) for part in parts]
        relative[-1] = relative[-1].removesuffix(".tmpl")
        path = target.joinpath(*relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(names.fill(source.read_text(encoding="utf-8")), encoding="utf-8", newline="\n")
    return target
