"""Errors rfpflow raises on purpose.

Every error a user can cause is an :class:`RfpflowError`; the CLI prints its
message and exits with :attr:`RfpflowError.exit_code` (2) without a traceback.
Errors that concern a place in a file carry :class:`Problem` records so that
every problem is reported at once, each naming the file and the place.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

__all__ = [
    "DefinitionError",
    "GuardError",
    "InputFileError",
    "PluginError",
    "Problem",
    "ProblemCollector",
    "RfpflowError",
    "StageError",
]


@attrs.frozen
class Problem:
    """One thing wrong with an input, and where it is.

    ``file`` is the file name as the user knows it; ``place`` is where in it:
    a TOML line number (``"42"``), a sheet and cell (``"Pricing!E14"``), a
    CSV row; ``field`` is the field path (``criteria.technical.weight``).
    """

    message: str
    file: str | None = None
    place: str | None = None
    field: str | None = None
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file
            if self.place:
                where += f":{self.place}"
            where += ": "
        elif self.place:
            where = f"{self.place}: "
        field = f"{self.field}: " if self.field else ""
        return f"{where}{field}{self.message}"


class RfpflowError(Exception):
    """An error the user can act on. The CLI prints it and exits with ``exit_code``."""

    exit_code = 2

    def __init__(self, message: str, problems: Iterable[Problem] = ()) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__(message)

    def __str__(self) -> str:
        head = super().__str__()
        if not self.problems:
            return head
        return "\n".join([head, *(f"  {p}" for p in self.problems)])

    def __reduce__(self) -> tuple[type[RfpflowError], tuple[str, tuple[Problem, ...]]]:
        # with its problems (a worker process sends errors back pickled)
        return type(self), (super().__str__(), self.problems)


class DefinitionError(RfpflowError):
    """rfp.toml (or a file it references) is not a valid RFP definition."""


class InputFileError(RfpflowError):
    """A file handed to rfpflow (a workbook, a CSV) cannot be read or is invalid."""


class StageError(RfpflowError):
    """A command was run at a stage of the cycle where it is not allowed."""


class GuardError(RfpflowError):
    """A guard of the cycle refused a change (late bid, edited definition, ...)."""


class PluginError(RfpflowError):
    """A plugin failed: it raised, returned the wrong type, or could not load."""


class ProblemCollector:
    """Collects the problems found while reading one input, so that all are reported at once.

    ``file`` names the input as the user knows it; each problem added names its place.
    """

    def __init__(self, file: str | None = None) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def add(self, message: str, *, place: str | None = None, field: str | None = None,
            severity: str = "error") -> None:
        self.problems.append(Problem(message, file=self.file, place=place, field=field, severity=severity))

    def __bool__(self) -> bool:
        return bool(self.problems)

    def __len__(self) -> int:
        return len(self.problems)

    def raise_if_any(self, summary: str, error: type[RfpflowError] = InputFileError) -> None:
        """Raise ``error(summary, problems)`` if anything was collected."""
        if self.problems:
            raise error(summary, self.problems)

    def listing(self, heading: str, limit: int) -> str:
        """``heading:`` and the first ``limit`` problems, one per line (for a plain ValueError)."""
        shown = self.problems[:limit]
        lines = [f"{heading}:", *(f"  - {p}" for p in shown)]
        if len(self.problems) > len(shown):
            lines.append(f"  ... and {len(self.problems) - len(shown)} more")
        return "\n".join(lines)
