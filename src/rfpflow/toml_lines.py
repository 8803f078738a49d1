"""Where in a TOML file a field is written, so errors can name the line.

``tomllib`` returns plain data without positions. This scanner walks the text
once and remembers, for every table header and key, the line it appears on,
under the same field path the definition loader reports (``criteria.tech.weight``,
``pricing.items[2].quantity``; array elements are numbered from 1, as people count).
It is deliberately forgiving: when a path cannot be placed, the nearest enclosing
table's line is used, and failing that no line at all.
"""

from __future__ import annotations

import re

_BARE = r"[A-Za-z0-9_-]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"|\'[^\']*\''
_KEY_PART = rf"(?:{_BARE}|{_QUOTED})"
_DOTTED = rf"{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*"
_HEADER = re.compile(rf"^\s*(\[\[|\[)\s*({_DOTTED})\s*(\]\]|\])\s*(?:#.*)?$")
_KEY = re.compile(rf"^\s*({_DOTTED})\s*=\s*(.*)$")
_PART = re.compile(_KEY_PART)


def _parts(dotted: str) -> list[str]:
    parts = []
    for match in _PART.finditer(dotted):
        token = match.group(0)
        if token[0] in "\"'":
            token = token[1:-1]
        parts.append(token)
    return parts


def join_path(parts: list[str]) -> str:
    out = ""
    for part in parts:
        if part.startswith("["):
            out += part
        else:
            out += ("." if out else "") + part
    return out


class LineIndex:
    """Field path -> 1-based line number, built from a TOML document's text."""

    def __init__(self, text: str) -> None:
        self.lines: dict[str, int] = {}
        self._scan(text)

    def _remember(self, parts: list[str], line: int) -> None:
        self.lines.setdefault(join_path(parts), line)

    def _scan(self, text: str) -> None:
        table: list[str] = []
        array_counts: dict[str, int] = {}
        in_string: str | None = None
        open_array: list[str] | None = None  # key path of a multi-line array value
        array_depth = 0
        inline_index = 0
        for number, line in enumerate(text.split("\n"), start=1):  # TOML lines end at \n only (not U+0085 etc.)
            if in_string:
                if in_string in line:
                    in_string = None
                continue
            if open_array is not None:
                stripped = line.strip()
                if stripped.startswith("{"):
                    inline_index += 1
                    self._remember([*open_array, f"[{inline_index}]"], number)
                array_depth += line.count("[") - line.count("]")
                if array_depth <= 0:
                    open_array = None
                continue
            header = _HEADER.match(line)
            if header:
                parts = _parts(header.group(2))
                if header.group(1) == "[[":
                    key = join_path(parts)
                    array_counts[key] = array_counts.get(key, 0) + 1
                    parts = [*parts, f"[{array_counts[key]}]"]
                else:
                    parts = self._resolve_arrays(parts, array_counts)
                table = parts
                self._remember(table, number)
                continue
            assignment = _KEY.match(line)
            if not assignment:
                continue
            parts = [*table, *_parts(assignment.group(1))]
            self._remember(parts, number)
            value = assignment.group(2)
            for quote in ('"""', "'''"):
                if value.startswith(quote) and value.count(quote) == 1:
                    in_string = quote
            if value.startswith("["):
                depth = value.count("[") - value.count("]")
                if value.lstrip("[").lstrip().startswith("{"):
                    self._remember([*parts, "[1]"], number)
                if depth > 0:
                    open_array, array_depth = parts, depth
                    inline_index = 1 if "{" in value else 0

    @staticmethod
    def _resolve_arrays(parts: list[str], array_counts: dict[str, int]) -> list[str]:
        """``[a.b]`` after ``[[a]]`` means a sub-table of the last ``a`` element."""
        out: list[str] = []
        for part in parts:
            out.append(part)
            count = array_counts.get(join_path(out))
            if count:
                out.append(f"[{count}]")
        return out

    def line_of(self, path: str) -> int | None:
        """The line of ``path`` or of the nearest enclosing table or key."""
        while path:
            if path in self.lines:
                return self.lines[path]
            cut = max(path.rfind("."), path.rfind("["))
            if cut <= 0:
                break
            path = path[:cut]
        return self.lines.get(path)
