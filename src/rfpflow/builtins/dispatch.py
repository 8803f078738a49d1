"""Outsourcing or disguised labour dispatch? Signs for legal review.

Under China's labour-dispatch rules (劳动合同法 arts. 57-67 and the 劳务派遣暂行规定,
whose art. 27 treats "outsourcing" run as dispatch as dispatch), *outsourcing*
buys a result: the vendor directs, schedules and appraises its own people, and is
paid for deliverables or service levels. *Labour dispatch* rents people whom
the buyer directs; it needs a dispatch licence, is capped at 10 % of the
buyer's workforce and limited to temporary, auxiliary or substitute posts.
A service contract priced per head and run like employment is therefore a
legal risk for the buyer, whatever it is called.

This plugin looks for three signs and gives every bid one finding,
``labour-dispatch``: ``review`` (for legal review) listing the signs found,
or ``pass`` when there is none. It never fails a bid: the signs are reasons
to look, not proof.

1. **Priced per head** -- an RFP line item whose unit or description names a
   per-head unit (:data:`PER_HEAD_UNITS`: person-month, man-day, FTE, per head,
   headcount, 人月, 人/月, 人天, 每人, ...). A bid can only price the RFP's line
   items, so the vendor's side is modest: a questionnaire answer or its comment
   in which the vendor explains its price in such units
   (:data:`VENDOR_PER_HEAD_UNITS`, the same list without "headcount", which
   vendors use to describe their size).
2. **Buyer-managed attendance or appraisal** -- RFP text (title, line items,
   questions, criteria and their guidance) or a vendor's answer saying that the
   buyer keeps attendance, approves timesheets or appraises the vendor's staff
   (:data:`BUYER_MANAGEMENT_PATTERNS`: 甲方负责考勤, 考勤由采购人管理,
   甲方对驻场人员进行绩效考核, "attendance managed by the client", "timesheets
   approved by the client", ...). Appraising the *service* (SLA reviews) is
   not a sign; appraising *people* is. A negated sentence ("attendance is not
   managed by the client") still matches: the finding is a review.
3. **No defined deliverables** -- no line item, question or criterion of the
   RFP mentions a deliverable, acceptance or service level
   (:data:`DELIVERABLE_TERMS`: deliverable, acceptance, SLA, service level,
   验收, 交付, 服务水平, ...).

``rfpflow_validate_rfp`` also warns, when the RFP is loaded, about every line
item priced per head (field ``pricing.items[N].unit``, or ``.description`` when
only the description says so).

Options (``[plugins.dispatch]`` in rfp.toml), each a list of texts:
``per_head_units``, ``buyer_management_terms`` and ``deliverable_terms``
replace a default list; ``extra_per_head_units``,
``extra_buyer_management_terms`` and ``extra_deliverable_terms`` add to it.
Terms are matched without regard to case or width, with spaces, hyphens,
slashes and middle dots counting alike (``person-month`` matches
``Person Month``, ``人/月`` matches ``人·月``); Latin terms match whole words only
(``FTE`` does not match "after"). Option terms for buyer management are plain
phrases, not patterns. Per-head units added by an option count on both sides.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

from rfpflow.context import RunContext
from rfpflow.errors import Problem, RfpflowError
from rfpflow.hookspecs import hookimpl
from rfpflow.model import Bid, GateResult, Rfp
from rfpflow.options import unknown_options

__all__ = [
    "BUYER_MANAGEMENT_PATTERNS",
    "DELIVERABLE_TERMS",
    "GATE_ID",
    "OPTIONS",
    "PER_HEAD_UNITS",
    "VENDOR_PER_HEAD_UNITS",
    "dispatch_signs",
    "find_terms",
    "rfpflow_screen_bid",
    "rfpflow_validate_rfp",
]

PLUGIN = "dispatch"
GATE_ID = "labour-dispatch"
SOURCE = "dispatch"

#: Units and phrases meaning "paid per person" (line item units and descriptions).
PER_HEAD_UNITS: tuple[str, ...] = (
    "person-month", "person-day", "person-hour", "person-year", "man-month", "man-day", "man-hour", "man-year",
    "per head", "per person", "per capita", "per FTE", "FTE", "full-time equivalent", "headcount", "head count",
    "人月", "人/月", "人天", "人/天", "人日", "人/日", "人年", "人/年", "人时", "每人", "人头",
)
#: Per-head units looked for in a vendor's answers and comments ("headcount" is left
#: out: vendors use it to describe their size, not their price).
VENDOR_PER_HEAD_UNITS: tuple[str, ...] = tuple(u for u in PER_HEAD_UNITS if u not in ("headcount", "head count"))

_BUYER = r"(?:甲方|采购方|采购人|买方|招标人|发包方|委托方|用工单位|客户方|我方|我司|贵方|贵司)"
_STAFF = r"(?:人员|员工|职员|坐席|座席|驻场|外包人员|工程师|顾问|派驻)"
_APPRAISE = r"(?:绩效考核|绩效考评|绩效评估|考核|考评)"
_CLIENT = r"(?:the\s+)?(?:client|buyer|customer|purchaser|contracting\s+authority)(?:'s)?"
_PEOPLE = r"(?:staff|agents|personnel|employees|workers|team\s+members|consultants|engineers)"

#: Regular expressions (matched on NFKC-folded, lower-cased text) for "the buyer keeps
#: attendance or appraises the vendor's people".
BUYER_MANAGEMENT_PATTERNS: tuple[str, ...] = (
    rf"{_BUYER}[^。；;\n]{{0,20}}(?:考勤|打卡|排班|签到)",
    rf"(?:考勤|打卡|排班|签到)[^。；;\n]{{0,12}}由{_BUYER}",
    rf"{_BUYER}[^。；;\n]{{0,20}}{_STAFF}[^。；;\n]{{0,12}}{_APPRAISE}",
    rf"{_STAFF}[^。；;\n]{{0,12}}{_APPRAISE}[^。；;\n]{{0,6}}由{_BUYER}",
    rf"{_BUYER}[^。；;\n]{{0,12}}(?:直接管理|直接指挥|统一管理|日常管理)[^。；;\n]{{0,12}}{_STAFF}",
    rf"\battendance\b[^.;\n]{{0,40}}\b(?:managed|approved|recorded|tracked|controlled|monitored|kept|taken)"
    rf"\s+by\s+{_CLIENT}",
    rf"\btimesheets?\b[^.;\n]{{0,40}}\b(?:approved|signed(?:\s+off)?|managed|verified|validated)\s+by\s+{_CLIENT}",
    rf"\b{_CLIENT}\s+(?:will\s+|shall\s+|is\s+to\s+)?(?:manages?|supervises?|directs?|appraises?|evaluates?|"
    rf"assess(?:es)?|schedules?)\s+(?:the\s+)?(?:performance\s+of\s+)?(?:the\s+)?(?:individual\s+)?"
    rf"(?:(?:vendor|supplier|contractor|provider)(?:'s|s')?\s+)?{_PEOPLE}",
    rf"\b(?:performance\s+)?(?:appraisals?|reviews?|evaluations?)\s+of\s+(?:the\s+)?(?:individual\s+)?"
    rf"(?:(?:vendor|supplier|contractor|provider)(?:'s|s')?\s+)?{_PEOPLE}\s+(?:by|conducted\s+by)\s+{_CLIENT}",
    rf"\b{_PEOPLE}\s+(?:will\s+|shall\s+)?reports?\s+(?:directly\s+)?to\s+{_CLIENT}",
)
#: Words showing the RFP buys a result: deliverables, acceptance, service levels.
DELIVERABLE_TERMS: tuple[str, ...] = (
    "deliverable", "deliverables", "acceptance", "acceptance criteria", "SLA", "SLAs", "service level",
    "service levels", "service-level agreement", "验收", "交付", "交付物", "交付成果", "服务水平", "服务水平协议",
    "服务等级",
)

#: ``[plugins.dispatch]`` options (each a list of texts).
OPTIONS: tuple[str, ...] = (
    "per_head_units", "extra_per_head_units", "buyer_management_terms", "extra_buyer_management_terms",
    "deliverable_terms", "extra_deliverable_terms",
)

_SEPARATORS = re.compile(r"[\s\-_/·・‧•.]+")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return _SEPARATORS.sub(" ", text).strip()


def find_terms(text: str, terms: Iterable[str]) -> list[str]:
    """The terms found in ``text`` (see the module documentation for how they match)."""
    folded = _fold(text)
    found: list[str] = []
    for term in terms:
        key = _fold(term)
        if not key:
            continue
        if re.search(r"[a-z0-9]", key):
            hit = re.search(rf"(?<![a-z0-9]){re.escape(key)}(?![a-z0-9])", folded) is not None
        else:
            hit = key in folded
        if hit and term not in found:
            found.append(term)
    return found


def _find_patterns(text: str, patterns: Sequence[str]) -> list[str]:
    """The passages of ``text`` matching any pattern, as written (shortened)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    passages: list[str] = []
    for pattern in patterns:
        m = re.search(pattern, folded)
        if m:
            passage = m.group(0).strip()
            passages.append(passage if len(passage) <= 60 else passage[:57] + "...")
    return passages


def _options(rfp: Rfp, context: RunContext | None) -> Mapping[str, object]:
    if context is not None and context.rfp is not None:
        return context.plugin_options(PLUGIN)
    return rfp.options_for(PLUGIN)


def _option_problems(options: Mapping[str, object]) -> list[Problem]:
    problems = unknown_options(PLUGIN, "the dispatch plugin", options, OPTIONS)
    for key, value in options.items():
        field = f"plugins.{PLUGIN}.{key}"
        if key not in OPTIONS:
            continue
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            problems.append(Problem(f"must be a list of texts, got {value!r}", field=field))
    return problems


class _Lists:
    """The keyword lists in force: defaults, replaced or extended by options."""

    def __init__(self, options: Mapping[str, object]) -> None:
        problems = _option_problems(options)
        if problems:
            raise RfpflowError("rfp.toml: invalid [plugins.dispatch] options", problems)

        def get(name: str) -> list[str] | None:
            value = options.get(name)
            return [str(v) for v in value] if isinstance(value, list) else None

        extra_units = get("extra_per_head_units") or []
        replaced = get("per_head_units")
        self.per_head = [*(replaced if replaced is not None else PER_HEAD_UNITS), *extra_units]
        self.vendor_per_head = [*(replaced if replaced is not None else VENDOR_PER_HEAD_UNITS), *extra_units]
        terms = get("buyer_management_terms")
        phrases = [*(terms or []), *(get("extra_buyer_management_terms") or [])]
        base = list(BUYER_MANAGEMENT_PATTERNS) if terms is None else []
        self.management = base + [re.escape(unicodedata.normalize("NFKC", t).casefold().strip()) for t in phrases]
        deliverables = get("deliverable_terms")
        self.deliverables = [*(deliverables if deliverables is not None else DELIVERABLE_TERMS),
                             *(get("extra_deliverable_terms") or [])]


def _rfp_texts(rfp: Rfp) -> list[tuple[str, str]]:
    """(where, text) for every piece of RFP text a sign may hide in."""
    texts: list[tuple[str, str]] = [("title", rfp.title)]
    for n, item in enumerate(rfp.line_items, start=1):
        texts.append((f"pricing.items[{n}] ({item.id})", f"{item.description} ({item.unit})"))
    for n, question in enumerate(rfp.questionnaire, start=1):
        texts.append((f"questionnaire[{n}] ({question.id})", question.text))
    for criterion in rfp.criteria:
        stack = [criterion]
        while stack:
            node = stack.pop(0)
            texts.append((f"criteria.{node.id}", f"{node.name}. {node.guidance}"))
            stack.extend(node.children)
    return texts


def _per_head_items(rfp: Rfp, terms: Sequence[str]) -> list[tuple[int, str, list[str]]]:
    """(item number from 1, field "unit"/"description", terms) for line items priced per head."""
    found: list[tuple[int, str, list[str]]] = []
    for n, item in enumerate(rfp.line_items, start=1):
        in_unit = find_terms(item.unit, terms)
        if in_unit:
            found.append((n, "unit", in_unit))
            continue
        in_description = find_terms(item.description, terms)
        if in_description:
            found.append((n, "description", in_description))
    return found


def dispatch_signs(bid: Bid, rfp: Rfp, context: RunContext | None = None) -> tuple[list[str], list[str]]:
    """The signs of labour dispatch for one bid: (reasons, evidence)."""
    lists = _Lists(_options(rfp, context))
    reasons: list[str] = []
    evidence: list[str] = []
    source = rfp.source or "rfp.toml"

    for n, field, terms in _per_head_items(rfp, lists.per_head):
        item = rfp.line_items[n - 1]
        reasons.append(f"priced per head: line item {item.id} {item.description!r} in {item.unit!r} "
                       f"({', '.join(terms)}) pays for people's time, not a result")
        evidence.append(f"{source}: pricing.items[{n}].{field} ({item.id})")
    for answer in bid.answers:
        said = " ".join(t for t in (answer.answer, answer.comment) if t)
        terms = find_terms(said, lists.vendor_per_head)
        if terms:
            reasons.append(f"the vendor's answer to {answer.question_id} prices or staffs per head "
                           f"({', '.join(terms)}): {said[:80]!r}")
            evidence.append(f"{bid.source_file}: {answer.cell}" if answer.cell else f"{bid.source_file}: "
                            f"answer {answer.question_id}")

    for where, text in _rfp_texts(rfp):
        passages = _find_patterns(text, lists.management)
        if passages:
            reasons.append(f"the RFP has the buyer manage the vendor's people ({where}: {passages[0]!r})")
            evidence.append(f"{source}: {where}")
    for answer in bid.answers:
        said = " ".join(t for t in (answer.answer, answer.comment) if t)
        passages = _find_patterns(said, lists.management)
        if passages:
            reasons.append(f"the vendor's answer to {answer.question_id} has the buyer manage its people "
                           f"({passages[0]!r})")
            evidence.append(f"{bid.source_file}: {answer.cell}" if answer.cell else f"{bid.source_file}: "
                            f"answer {answer.question_id}")

    defined = [where for where, text in _rfp_texts(rfp)
               if where != "title" and find_terms(text, lists.deliverables)]
    if not defined:
        reasons.append("no deliverables or acceptance criteria: no line item, question or criterion of the RFP "
                       "mentions a deliverable, acceptance or service level")
        evidence.append(f"{source}: pricing, questionnaire, criteria")
    return reasons, evidence


@hookimpl(trylast=True)
def rfpflow_screen_bid(bid: Bid, bids: Sequence[Bid], rfp: Rfp, context: RunContext) -> list[GateResult]:
    reasons, evidence = dispatch_signs(bid, rfp, context)
    if reasons:
        reason = ("signs of labour dispatch rather than outsourcing, for legal review: " + "; ".join(reasons))
        return [GateResult(bid.vendor_id, GATE_ID, "review", reason, tuple(evidence), source=SOURCE)]
    units = ", ".join(f"{item.id} per {item.unit}" for item in rfp.line_items) or "no line items"
    return [GateResult(bid.vendor_id, GATE_ID, "pass",
                       f"no sign of labour dispatch: priced per deliverable ({units}), deliverables or service "
                       "levels defined, no buyer-managed attendance or appraisal", (), source=SOURCE)]


@hookimpl(trylast=True)
def rfpflow_validate_rfp(rfp: Rfp, context: RunContext) -> list[Problem]:
    options = rfp.options_for(PLUGIN)
    problems = _option_problems(options)
    if problems:
        return problems
    lists = _Lists(options)
    for n, field, terms in _per_head_items(rfp, lists.per_head):
        problems.append(Problem(
            f"priced per head ({', '.join(terms)}): paying for people's time instead of a result is a sign of "
            "disguised labour dispatch (劳务派遣), which Chinese law restricts, so price deliverables or service "
            "levels or have the contract reviewed",
            field=f"pricing.items[{n}].{field}", severity="warning"))
    return problems
