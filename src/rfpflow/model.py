"""The records rfpflow works with: immutable, typed, and shared by every plugin.

All records are frozen, slotted attrs classes. Collections inside them are
tuples or read-only mappings, so a record handed to a plugin cannot be changed
behind the core's back; a changed record is made with :func:`attrs.evolve`.

The RFP definition (:class:`Rfp` and its parts) comes from ``rfp.toml`` through
:mod:`rfpflow.definition`. The cycle records (:class:`Bid`, :class:`GateResult`,
:class:`Ranking`, :class:`TrialResult`, :class:`AwardDecision`) are produced by
the stages and kept in the store.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Literal

import attrs

CATEGORIES = ("ITO", "BPO", "KPO", "goods", "works", "other")
LANGUAGES = ("en", "zh")
DIRECTIONS = ("benefit", "cost")
SOURCE_KINDS = ("judgement", "bid", "price", "trial")

Direction = Literal["benefit", "cost"]


def to_tuple(items: Iterable[Any]) -> tuple[Any, ...]:
    """Convert any iterable into a tuple (attrs converter keeping records immutable)."""
    return tuple(items)


def frozen_map(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """Convert a mapping into a read-only one (attrs converter)."""
    return MappingProxyType(dict(value or {}))


class Stage(enum.StrEnum):
    """The stages of an RFP cycle, in order. ``cancelled`` ends any open stage."""

    DRAFT = "draft"
    ISSUED = "issued"
    BIDS_CLOSED = "bids-closed"
    SCREENING = "screening"
    EVALUATION = "evaluation"
    TRIAL_RUN = "trial-run"
    AWARD_RECOMMENDED = "award-recommended"
    AWARDED = "awarded"
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        """Whether the cycle can still move (not awarded, not cancelled)."""
        return self not in (Stage.AWARDED, Stage.CANCELLED)


#: The stages a cycle moves through, in order (``cancelled`` ends any of them and is not among them).
STAGE_ORDER: tuple[str, ...] = tuple(s.value for s in Stage if s != Stage.CANCELLED)


# --------------------------------------------------------------------------
# The RFP definition
# --------------------------------------------------------------------------


@attrs.frozen
class Timeline:
    """The dates of the cycle. Deadlines are timezone-aware when rfp.toml gives an offset."""

    issue_date: dt.date | None = None
    clarification_deadline: dt.date | dt.datetime | None = None
    bid_deadline: dt.date | dt.datetime | None = None
    trial_start: dt.date | None = None
    trial_end: dt.date | None = None
    decision_date: dt.date | None = None
    contract_start: dt.date | None = None


@attrs.frozen
class CriterionSource:
    """Where a criterion's value comes from.

    ``kind`` is ``judgement`` (evaluators' scores), ``bid`` (a bid field or
    questionnaire answer turned into points by ``rule``), ``price`` (a price
    formula) or ``trial`` (the trial run's score). ``params`` holds the rule's
    options exactly as rfp.toml gave them (e.g. ``bands``).
    """

    kind: str = "judgement"
    field: str | None = None
    rule: str | None = None
    params: Mapping[str, Any] = attrs.field(factory=dict, converter=frozen_map)


@attrs.frozen
class Criterion:
    """A node of the criteria tree: a dimension with sub-criteria, or a leaf.

    ``weight`` is in the RFP's own unit (points or a share); children's weights
    add up to their parent's. ``scale`` is the range evaluators score on.
    """

    id: str
    name: str
    weight: float
    direction: str = "benefit"
    scale: tuple[float, float] = (0.0, 10.0)
    source: CriterionSource = attrs.field(factory=CriterionSource)
    guidance: str = ""
    children: tuple[Criterion, ...] = attrs.field(default=(), converter=to_tuple)

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def leaves(self) -> Iterator[Criterion]:
        """This criterion's leaves, depth first, in definition order."""
        if self.is_leaf:
            yield self
        for child in self.children:
            yield from child.leaves()


@attrs.frozen
class Gate:
    """A pass/fail screening gate. ``kind`` names a registered screening rule."""

    id: str  # the key of [gates.ID] in rfp.toml
    kind: str  # the registered screening rule (ScreeningRule.name) that checks it
    name: str = ""  # shown in reports
    on_fail: str = "fail"  # "fail" or "review": what a failed check produces
    params: Mapping[str, Any] = attrs.field(factory=dict, converter=frozen_map)  # the gate's other keys, as given


#: Gate kinds whose reasons quote bid prices: they are settled once prices are open, and
#: their reasons are withheld while prices are sealed.
PRICE_GATE_KINDS = frozenset({"abnormally_low", "budget_ceiling"})


@attrs.frozen
class LineItem:
    """A priced line of the bid: the buyer fixes the quantity, vendors the unit price."""

    id: str
    description: str
    unit: str
    quantity: Decimal


@attrs.frozen
class Question:
    """A questionnaire requirement vendors answer from a list of choices."""

    id: str
    text: str
    mandatory: bool = False
    choices: tuple[str, ...] = ("Yes", "No")
    required_answer: str | None = None


@attrs.frozen
class Kpi:
    """A trial-run KPI: met when the measured value reaches ``target`` in ``direction``."""

    id: str
    name: str
    unit: str
    target: float
    direction: str = "higher"  # "higher" or "lower" is better
    must_have: bool = False
    weight: float = 1.0
    window_days: int | None = None


@attrs.frozen
class TrialPlan:
    """The trial run (pilot). ``enabled`` is False for RFPs without one."""

    enabled: bool = False
    preset: str | None = None
    kpis: tuple[Kpi, ...] = attrs.field(default=(), converter=to_tuple)
    window_days: int | None = None  # judge KPIs on the last N days (a KPI may set its own)


@attrs.frozen
class Evaluator:
    id: str
    name: str
    role: str = "evaluator"


@attrs.frozen
class ScoringPlan:
    """How scores become a ranking; names refer to registered scoring methods."""

    method: str = "weighted-sum"
    normalization: str = "min-max"
    consensus: str = "mean"
    outlier_threshold: float = 2.0
    price_formula: str = "lowest-ratio"
    blind: bool = False
    tie_break: tuple[str, ...] = attrs.field(
        default=("total_score", "price", "technical_score", "submitted_at", "vendor"),
        converter=to_tuple,
    )
    award_weights: Mapping[str, float] = attrs.field(factory=dict, converter=frozen_map)
    options: Mapping[str, Any] = attrs.field(factory=dict, converter=frozen_map)


@attrs.frozen
class ShortlistRule:
    top: int | None = None
    min_score: float | None = None


@attrs.frozen
class InvitedVendor:
    """A vendor invited to bid (``[[vendors]]`` of rfp.toml)."""

    id: str
    name: str = ""
    registration_no: str = ""
    email: str = ""


#: The Rfp fields that enter the definition hash only when set, so that definitions written
#: before they existed keep their hash.
HASHED_WHEN_SET = frozenset({"vendors", "vendors_restricted", "price_deviation", "timezone"})


@attrs.frozen
class Rfp:
    """A validated RFP definition, as loaded from rfp.toml."""

    id: str
    title: str
    buyer: str
    category: str
    currency: str
    language: str
    profile: str = "generic"
    contract_value: Decimal | None = None
    budget_ceiling: Decimal | None = None
    two_envelope: bool = False
    timeline: Timeline = attrs.field(factory=Timeline)
    criteria: tuple[Criterion, ...] = attrs.field(default=(), converter=to_tuple)
    gates: tuple[Gate, ...] = attrs.field(default=(), converter=to_tuple)
    line_items: tuple[LineItem, ...] = attrs.field(default=(), converter=to_tuple)
    questionnaire: tuple[Question, ...] = attrs.field(default=(), converter=to_tuple)
    trial: TrialPlan = attrs.field(factory=TrialPlan)
    evaluators: tuple[Evaluator, ...] = attrs.field(default=(), converter=to_tuple)
    scoring: ScoringPlan = attrs.field(factory=ScoringPlan)
    shortlist: ShortlistRule = attrs.field(factory=ShortlistRule)
    standstill_days: int | None = None
    decimal_comma: bool = False
    #: The buyer's IANA time zone (``Asia/Shanghai``): a date-time without an offset is read in it,
    #: and deadlines and standstill periods are compared as instants in it. None: not declared.
    timezone: str | None = None
    plugin_options: Mapping[str, Any] = attrs.field(factory=dict, converter=frozen_map)
    import_mapping: Mapping[str, Any] = attrs.field(factory=dict, converter=frozen_map)
    vendors: tuple[InvitedVendor, ...] = attrs.field(default=(), converter=to_tuple)
    vendors_restricted: bool = False  # refuse bids from vendors not in ``vendors``
    price_deviation: float | None = None  # price comparison: flag beyond this share of the median (default 0.30)
    definition_hash: str = ""
    source: str = "rfp.toml"

    def leaf_criteria(self) -> tuple[Criterion, ...]:
        """Every scored criterion (the leaves of the tree), in definition order."""
        return tuple(leaf for c in self.criteria for leaf in c.leaves())

    def options_for(self, plugin: str) -> Mapping[str, Any]:
        """The ``[plugins.NAME]`` table of rfp.toml for one plugin (empty if absent)."""
        value = self.plugin_options.get(plugin, {})
        return value if isinstance(value, Mapping) else {}


# --------------------------------------------------------------------------
# Records produced by the cycle
# --------------------------------------------------------------------------


@attrs.frozen
class Certification:
    """A certificate the vendor declares (Certifications sheet)."""

    name: str  # as the vendor wrote it, e.g. "ISO/IEC 27001:2022"
    expires: dt.date | None = None  # None: no expiry date given
    evidence: str | None = None  # e.g. "Company!C12"


@attrs.frozen
class Answer:
    """The vendor's answer to one questionnaire question."""

    question_id: str  # the question's id in rfp.toml, e.g. "Q2"
    answer: str  # the answer text, e.g. "Yes", "Partly"
    comment: str = ""  # the vendor's comment
    evidence_ref: str = ""  # where the vendor says the evidence is
    cell: str | None = None  # where the answer was read, e.g. "Questionnaire!D6"


@attrs.frozen
class PriceLine:
    """One priced line of a bid. Stored as a row (see :mod:`rfpflow.store.serde`):
    a bid may hold tens of thousands."""

    __serde_row__ = True
    __serde_optional__ = ("comment", "extras")

    item_id: str  # the line item's id in rfp.toml
    quantity: Decimal  # as the RFP asks (the vendor cannot change it)
    unit_price: Decimal  # in the RFP's currency
    cell: str | None = None  # where the unit price was read, e.g. "Pricing!E4"
    comment: str = ""  # what the vendor wrote in the line's comment column
    extras: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=to_tuple)  # columns the vendor added

    @property
    def total(self) -> Decimal:
        return self.quantity * self.unit_price


@attrs.frozen
class Bid:
    """One vendor's bid, as read from its workbook.

    ``fields`` holds the company facts by name (``registration_no``,
    ``year_established``, ``registered_capital``, ...); ``cells`` says where
    each came from (``"Company!C5"``), so screening can cite evidence.
    """

    vendor_id: str  # lower-case id the cycle knows the vendor by
    vendor_name: str
    source_file: str  # the file name the bid was read from
    #: company facts by field name (the table below)
    fields: Mapping[str, Any] = attrs.field(factory=dict, converter=frozen_map)
    certifications: tuple[Certification, ...] = attrs.field(default=(), converter=to_tuple)
    answers: tuple[Answer, ...] = attrs.field(default=(), converter=to_tuple)
    prices: tuple[PriceLine, ...] = attrs.field(default=(), converter=to_tuple)
    cells: Mapping[str, str] = attrs.field(factory=dict, converter=frozen_map)
    warnings: tuple[str, ...] = attrs.field(default=(), converter=to_tuple)
    #: In a two-envelope RFP, a workbook may hold one envelope: "technical" (no prices) or
    #: "financial" (prices only); "" is a whole bid.
    envelope: str = ""

    @property
    def total_price(self) -> Decimal:
        return sum((line.total for line in self.prices), Decimal(0))

    def answer(self, question_id: str) -> Answer | None:
        return next((a for a in self.answers if a.question_id == question_id), None)


OUTCOMES = ("pass", "fail", "review")


@attrs.frozen
class GateResult:
    """A screening or due-diligence finding for one vendor and one gate."""

    vendor_id: str
    gate_id: str
    outcome: str  # "pass", "fail" or "review"
    reason: str
    evidence: tuple[str, ...] = attrs.field(default=(), converter=to_tuple)
    source: str = ""  # the plugin or rule that produced it

    def __attrs_post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, got {self.outcome!r}")


@attrs.frozen
class RankedVendor:
    vendor_id: str
    rank: int
    total_score: float
    price: Decimal | None = None
    breakdown: Mapping[str, float] = attrs.field(factory=dict, converter=frozen_map)


@attrs.frozen
class Ranking:
    """Vendors best first, with the groups the tie-break had to separate."""

    method: str
    entries: tuple[RankedVendor, ...] = attrs.field(converter=to_tuple)
    tied_groups: tuple[tuple[str, ...], ...] = attrs.field(default=(), converter=to_tuple)
    notes: tuple[str, ...] = attrs.field(default=(), converter=to_tuple)
    #: How the method ranks, in a sentence the award documents print (hook API 1.2); a
    #: ranking from ``rfpflow_award_ranking`` sets it to replace the builtin formula's text.
    description: str = ""

    @property
    def top(self) -> RankedVendor | None:
        return self.entries[0] if self.entries else None


@attrs.frozen
class KpiAttainment:
    kpi_id: str
    value: float | None
    target: float
    met: bool
    attainment: float  # share of target reached, capped at 1.0


@attrs.frozen
class TrialResult:
    vendor_id: str
    passed: bool
    score: float  # 0..100
    kpis: tuple[KpiAttainment, ...] = attrs.field(converter=to_tuple)
    notes: tuple[str, ...] = attrs.field(default=(), converter=to_tuple)


@attrs.frozen
class AwardDecision:
    vendor_id: str
    justification: str = ""
    follows_ranking: bool = True
    standstill_ends: dt.date | None = None
    decided_by: str = ""


@attrs.frozen
class Transition:
    """A move of the cycle from one stage to another, as seen by transition hooks."""

    command: str
    source: Stage
    target: Stage
    actor: str
    at: dt.datetime
    data: Mapping[str, Any] = attrs.field(factory=dict, converter=frozen_map)
