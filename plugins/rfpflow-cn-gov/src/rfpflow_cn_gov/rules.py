"""The checks a ``cn-gov-87`` rfp.toml must pass (综合评分法 under MOF Order 87).

:func:`validate` returns every problem, each with the field path of rfp.toml
it concerns. The rules (the README says which are verified):

* **Price weight** -- the price criteria's share of the total weight must be
  at least 30 % for goods (category ``goods``) and 10 % for services (every
  other category except ``works``, which Order 87 does not govern: a warning).
* **Barred criteria** -- no criterion may score a qualification condition,
  a track record tied to an industry or a region, or the company's size.
  Detected by :func:`barred_reasons`, a heuristic over each criterion:

  - ``source = "bid"`` with ``field`` naming a size fact
    (:data:`SIZE_FIELDS`: registered capital, turnover, headcount, year
    established / company age) -> company size;
  - ``rule = "present"`` whose ``any_of`` names a certificate that a
    ``certification`` gate of the RFP already requires -> a qualification
    condition scored a second time;
  - the name or guidance containing a qualification term
    (:data:`QUALIFICATION_TERMS`: 资格条件, 企业资质, 资质证书, 营业执照, 许可证,
    qualification condition, eligibility, licence ...) -> qualification
    condition (the qualifications of the proposed *team* are not meant);
  - the name or guidance containing both an industry/region term
    (:data:`RESTRICTED_SCOPE_TERMS`: 同行业, 本行业, 本地, 本省, 省内,
    same industry, local ...) and a track-record term
    (:data:`RECORD_TERMS`: 业绩, 案例, 经验, 奖项, track record, cases ...)
    -> industry- or region-specific record;
  - the name or guidance containing a size term (:data:`SIZE_TERMS`:
    注册资本, 营业收入, 员工人数, 成立年限, registered capital, headcount ...)
    -> company size.

  Chinese terms match anywhere, Latin ones as whole words, after width and
  case folding. "类似项目业绩（不限行业、地区）" is allowed: it names no
  restricting term. A heuristic can miss a criterion worded otherwise; the
  tender documents still need a human review.
* **Evaluation committee** -- ``[[evaluators]]``: at least 5 members (7 when
  the budget, ``budget_ceiling`` else ``contract_value``, is 10 million yuan
  or more), an odd number, at least two-thirds experts (``role = "expert"``
  or ``"专家"``).
* **No trial run** -- ``trial.enabled`` must be false: acceptance (履约验收)
  happens after the contract, not during selection.
* **Price formula** -- ``lowest-ratio`` (基准价 / 投标报价 x 价格分值).
* **Ties** -- ``tie_break`` must start with ``total_score`` then ``price``;
  the keys after them are the method the tender documents state.
* **No award weights** -- the comprehensive score is the evaluation total.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from decimal import Decimal

from rfpflow.errors import Problem
from rfpflow.model import Criterion, Rfp

__all__ = [
    "COMMITTEE_MIN",
    "EXPERT_ROLES",
    "LARGE_BUDGET",
    "LARGE_COMMITTEE_MIN",
    "MIN_PRICE_SHARE",
    "QUALIFICATION_TERMS",
    "RECORD_TERMS",
    "RESTRICTED_SCOPE_TERMS",
    "SIZE_FIELDS",
    "SIZE_TERMS",
    "barred_reasons",
    "price_share",
    "validate",
]

#: The lowest share of the total weight the price may have, by kind of procurement.
MIN_PRICE_SHARE = {"goods": Decimal("0.30"), "services": Decimal("0.10")}
COMMITTEE_MIN = 5
LARGE_COMMITTEE_MIN = 7
#: From this budget (in CNY) the committee needs at least 7 members.
LARGE_BUDGET = Decimal(10_000_000)
EXPERT_ROLES = ("expert", "专家", "评审专家")

SIZE_FIELDS = ("registered_capital", "annual_turnover", "headcount", "year_established", "years_established",
               "company_age")
QUALIFICATION_TERMS = ("资格条件", "资格要求", "资格审查", "供应商资格", "投标人资格", "企业资质", "资质等级",
                       "资质证书", "营业执照", "许可证", "qualification condition", "qualification conditions",
                       "qualification requirement", "qualification requirements", "eligibility", "licence",
                       "license", "licences", "licenses")
RESTRICTED_SCOPE_TERMS = ("同行业", "本行业", "特定行业", "行业内", "本地", "本省", "本市", "本区", "本县", "省内",
                          "市内", "区内", "县内", "当地", "特定区域", "特定地区", "特定行政区域", "same industry",
                          "same-industry", "industry-specific", "in the industry", "local", "regional",
                          "in the region", "in the province", "in the city")
RECORD_TERMS = ("业绩", "案例", "经验", "奖项", "获奖", "荣誉", "track record", "experience", "case", "cases",
                "reference", "references", "project", "projects", "award", "awards")
SIZE_TERMS = ("注册资本", "营业收入", "营业额", "资产总额", "员工人数", "从业人员", "职工人数", "企业规模", "公司规模",
              "成立年限", "成立时间", "经营年限", "registered capital", "turnover", "revenue", "total assets",
              "headcount", "number of employees", "company size", "years established", "years in business",
              "company age")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _found(text: str, terms: Sequence[str]) -> list[str]:
    folded = _fold(text)
    hits = []
    for term in terms:
        key = _fold(term)
        if key.isascii():
            if re.search(rf"(?<![a-z0-9]){re.escape(key)}(?![a-z0-9])", folded):
                hits.append(term)
        elif key in folded:
            hits.append(term)
    return hits


def _walk(criteria: Sequence[Criterion], prefix: str = "criteria") -> Iterator[tuple[str, Criterion]]:
    for crit in criteria:
        path = f"{prefix}.{crit.id}"
        yield path, crit
        yield from _walk(crit.children, path)


def price_share(rfp: Rfp) -> Decimal:
    """The price criteria's share of the total leaf weight (0 when there is none)."""
    leaves = rfp.leaf_criteria()
    total = sum((Decimal(str(c.weight)) for c in leaves), Decimal(0))
    price = sum((Decimal(str(c.weight)) for c in leaves if c.source.kind == "price"), Decimal(0))
    return price / total if total else Decimal(0)


def _gate_certificates(rfp: Rfp) -> list[str]:
    names: list[str] = []
    for gate in rfp.gates:
        if gate.kind == "certification":
            value = gate.params.get("any_of", [])
            names += [str(v) for v in value] if isinstance(value, list) else []
    return names


def barred_reasons(crit: Criterion, rfp: Rfp) -> list[str]:
    """Why a criterion may not be scored under Order 87 (empty when nothing is found)."""
    reasons: list[str] = []
    text = f"{crit.name} {crit.guidance}"
    source = crit.source
    if crit.is_leaf and source.kind == "bid" and source.field in SIZE_FIELDS:
        reasons.append(f"it scores the company's size (bid field {source.field!r})")
    if crit.is_leaf and source.kind == "bid" and source.rule == "present":
        wanted = source.params.get("any_of") or []
        required = {_fold(n) for n in _gate_certificates(rfp)}
        overlap = [str(n) for n in wanted if _fold(str(n)) in required]
        if overlap:
            reasons.append(f"it scores {', '.join(overlap)}, which a certification gate already requires as a "
                           "qualification condition")
    qualification = _found(text, QUALIFICATION_TERMS)
    if qualification:
        reasons.append(f"it scores a qualification condition ({', '.join(qualification)})")
    scope, record = _found(text, RESTRICTED_SCOPE_TERMS), _found(text, RECORD_TERMS)
    if scope and record:
        reasons.append(f"it scores a track record tied to an industry or a region ({', '.join(scope)} "
                       f"{', '.join(record)})")
    size = _found(text, SIZE_TERMS)
    if size:
        reasons.append(f"it scores the company's size ({', '.join(size)})")
    return reasons


def _kind_of_procurement(rfp: Rfp) -> str | None:
    if rfp.category == "goods":
        return "goods"
    if rfp.category == "works":
        return None
    return "services"


def _budget(rfp: Rfp) -> Decimal | None:
    return rfp.budget_ceiling if rfp.budget_ceiling is not None else rfp.contract_value


def validate(rfp: Rfp) -> list[Problem]:
    """Every problem of a ``cn-gov-87`` definition (see the module documentation)."""
    problems: list[Problem] = []

    kind = _kind_of_procurement(rfp)
    if kind is None:
        problems.append(Problem("Order 87 governs goods and services; works tendered under the Bidding Law follow "
                                "other rules, so the price weight is not checked", field="category",
                                severity="warning"))
    else:
        share = price_share(rfp)
        minimum = MIN_PRICE_SHARE[kind]
        if share < minimum:
            price_paths = [p for p, c in _walk(rfp.criteria) if c.is_leaf and c.source.kind == "price"]
            field = f"{price_paths[0]}.weight" if price_paths else "criteria"
            what = "货物 goods" if kind == "goods" else "服务 services"
            problems.append(Problem(
                f"the price weighs {share * 100:.4g}% of the total; for {what} it must be at least "
                f"{minimum * 100:.0f}% (综合评分法)" + ("" if price_paths else
                                                      '; add a criterion with source = "price"'), field=field))

    for path, crit in _walk(rfp.criteria):
        for reason in barred_reasons(crit, rfp):
            problems.append(Problem(f"{crit.name!r} may not be scored: {reason}", field=path))

    members = len(rfp.evaluators)
    experts = sum(1 for e in rfp.evaluators if e.role.strip().casefold() in EXPERT_ROLES)
    budget = _budget(rfp)
    needed = COMMITTEE_MIN
    if budget is not None and rfp.currency != "CNY":
        problems.append(Problem(f"the budget is in {rfp.currency}, so whether it reaches 10 million yuan (which "
                                "needs a committee of 7) is not checked", field="currency", severity="warning"))
    elif budget is not None and budget >= LARGE_BUDGET:
        needed = LARGE_COMMITTEE_MIN
    if members < needed:
        why = f" for a budget of {budget:,} yuan (10 million or more)" if needed == LARGE_COMMITTEE_MIN else ""
        problems.append(Problem(f"the evaluation committee has {members} member(s); it needs at least {needed}{why}",
                                field="evaluators"))
    if members and members % 2 == 0:
        problems.append(Problem(f"the evaluation committee has {members} members; it must have an odd number",
                                field="evaluators"))
    if members and experts * 3 < members * 2:
        problems.append(Problem(
            f"{experts} of the {members} committee members are experts (role = \"expert\"); at least two-thirds "
            f"({-(-members * 2 // 3)}) must be", field="evaluators"))

    if rfp.trial.enabled:
        problems.append(Problem("government procurement selects on the bids; acceptance (履约验收) of the service "
                                "happens after the contract, so set enabled = false", field="trial.enabled"))
    if rfp.scoring.price_formula != "lowest-ratio":
        problems.append(Problem(f"comprehensive scoring prices by the lowest valid price (基准价/投标报价 x 价格分值): "
                                f"use \"lowest-ratio\", not {rfp.scoring.price_formula!r}",
                                field="scoring.price_formula"))
    if tuple(rfp.scoring.tie_break[:2]) != ("total_score", "price"):
        problems.append(Problem("equal scores are ranked by price first (then by the method the tender documents "
                                "state): tie_break must start with \"total_score\", \"price\"",
                                field="scoring.tie_break"))
    if rfp.scoring.award_weights:
        problems.append(Problem("the comprehensive score is the evaluation total; remove the award weights",
                                field="scoring.award"))
    if rfp.language != "zh":
        problems.append(Problem("the cn-gov-87 documents (评标报告, 中标结果公告, 中标通知书 ...) are in Chinese",
                                field="language", severity="warning"))
    return problems
