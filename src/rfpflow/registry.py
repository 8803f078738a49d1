"""Named things plugins register, and the registry that collects them.

A ``register_*`` hook is called once per plugin, each with its own
``register`` callback, so the registry knows which plugin supplied each item
(llm's pattern). Names are unique: a plugin's item replaces a builtin item of
the same name (that is how an organisation overrides a default); two installed
plugins claiming one name is an error naming both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import attrs

from rfpflow.errors import PluginError
from rfpflow.model import frozen_map, to_tuple

if TYPE_CHECKING:
    from rfpflow.model import Bid, Gate, GateResult, Kpi, Rfp


@attrs.frozen
class Profile:
    """An RFP starting point for ``rfpflow new``: a commented rfp.toml per language."""

    name: str
    title: str
    description: str
    # language code -> the text of a commented rfp.toml
    templates: Mapping[str, str] = attrs.field(converter=frozen_map)
    #: The default buyer's time zone (IANA name) for an rfp.toml made from this profile that declares none.
    timezone: str | None = None


class GateCheck(Protocol):
    """``check(bid, gate, bids, rfp, context) -> GateResult``; ``context`` is the
    :class:`rfpflow.context.RunContext` (typed loosely here so that the registry stays
    below the context, which names the plugin host, in the import order)."""

    def __call__(
        self, bid: Bid, gate: Gate, bids: tuple[Bid, ...], rfp: Rfp, context: Any
    ) -> GateResult: ...


@attrs.frozen
class ScreeningRule:
    """A gate kind: what ``kind = NAME`` in an rfp.toml gate runs.

    ``options`` maps each option the gate accepts to its type (for validation
    and "did you mean" on typos); ``required`` lists the options it needs.
    """

    name: str
    description: str
    check: GateCheck
    options: Mapping[str, type | tuple[type, ...]] = attrs.field(factory=dict, converter=frozen_map)
    required: tuple[str, ...] = ()


@attrs.frozen
class ScoringMethod:
    """A named scoring method. ``kind`` is ``ranking``, ``price`` or ``award``.

    ``function`` is the callable the evaluation stage calls; its signature
    depends on ``kind`` (see docs/hooks.md).
    """

    name: str
    kind: str
    description: str
    function: Callable[..., Any]


@attrs.frozen
class KpiPreset:
    name: str
    description: str
    kpis: tuple[Kpi, ...] = attrs.field(converter=to_tuple)


#: A document stage meaning "every stage from issued on" (the audit appendix).
EVERY_STAGE = "*"
#: Who a per-vendor document is for (see :func:`rfpflow.documents.audience_of`).
AUDIENCES: tuple[str, ...] = ("bidders", "winner", "unsuccessful", "evaluated", "screened-out", "shortlisted")


@attrs.frozen
class DocumentSpec:
    """A document rendered after ``stage`` completes, from template ``template``.

    ``per_vendor`` documents are rendered once per vendor (letters).
    ``formats`` lists the output formats (``html``, ``md``). ``profiles``
    limits the document to cycles whose rfp.toml names one of these profiles
    (empty: every cycle), so an organisation plugin's documents appear only
    in its own tenders.
    """

    name: str
    template: str
    stage: str
    per_vendor: bool = False
    formats: tuple[str, ...] = ("html", "md")
    profiles: tuple[str, ...] = ()


@attrs.frozen
class VendorDocumentSpec(DocumentSpec):
    """A per-vendor :class:`DocumentSpec` that says which vendors it is for.

    ``audience`` is one of :data:`AUDIENCES`. Because it *is* a DocumentSpec,
    it can be registered through ``rfpflow_register_documents`` as it is.
    """

    per_vendor: bool = True
    audience: str = attrs.field(default="bidders", validator=attrs.validators.in_(AUDIENCES))


@attrs.frozen
class Measurement:
    """One trial-run measurement: a KPI's value for a vendor on a day."""

    day: dt.date
    vendor_id: str
    kpi_id: str
    value: float
    place: str = ""  # where it came from, e.g. "trial.csv:14"


class Named(Protocol):
    @property
    def name(self) -> str: ...


T = TypeVar("T", bound=Named)


@attrs.define
class Registry(Generic[T]):
    """Items of one kind by name, remembering which plugin supplied each."""

    kind: str
    items: dict[str, T] = attrs.field(factory=dict)
    suppliers: dict[str, str] = attrs.field(factory=dict)
    overridden: list[tuple[str, str, str]] = attrs.field(factory=list)

    def add(self, item: T, *, plugin: str, builtin: bool) -> None:
        name = item.name
        if name in self.items:
            holder = self.suppliers[name]
            if builtin:
                # Builtins are called last: an installed plugin already took the name.
                self.overridden.append((name, holder, plugin))
                return
            raise PluginError(
                f"plugins {holder!r} and {plugin!r} both register the {self.kind} {name!r}; "
                f"disable one of them with --disable-plugin"
            )
        self.items[name] = item
        self.suppliers[name] = plugin

    def __getitem__(self, name: str) -> T:
        return self.items[name]

    def __contains__(self, name: object) -> bool:
        return name in self.items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.items))

    def get(self, name: str) -> T | None:
        return self.items.get(name)

    def names(self) -> list[str]:
        return sorted(self.items)


def template_root() -> Path:
    """The folder of rfpflow's default templates (packaged inside the wheel)."""
    here = Path(__file__).resolve().parent
    packaged = here / "templates"
    if packaged.is_dir():
        return packaged
    # Running from a source checkout (editable install): the top-level folder.
    return here.parent.parent / "templates"
