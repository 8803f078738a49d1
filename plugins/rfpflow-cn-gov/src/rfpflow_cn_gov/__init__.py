"""rfpflow-cn-gov: the ``cn-gov-87`` profile for Chinese government procurement (综合评分法, MOF Order 87).

What this plugin adds (its README explains each rule and where it comes from):

* the profile ``cn-gov-87`` (Chinese): services procured by comprehensive scoring;
* the checks of :mod:`rfpflow_cn_gov.rules` for a ``cn-gov-87`` rfp.toml: price
  weight, barred criteria, the evaluation committee, no trial run, the price
  formula and the tie-break;
* the award rule: with fewer than 3 vendors in the final ranking the tender
  fails (废标) and no award can be made; otherwise rfpflow's own award rule
  (follow the ranking) applies;
* the Chinese documents 评标报告, 中标结果公告, 中标通知书, 未中标通知 and the
  archive manifest (15-year retention), with templates in ``templates/zh``.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path

from rfpflow import hookimpl
from rfpflow.context import RunContext
from rfpflow.errors import Problem, RfpflowError
from rfpflow.model import AwardDecision, Ranking, Rfp
from rfpflow.registry import DocumentSpec, Profile
from rfpflow_cn_gov.rules import validate

__all__ = ["MIN_VALID_BIDS", "PROFILE", "RETENTION_YEARS", "TEMPLATES", "TenderFailed", "documents", "validate"]

RFPFLOW_HOOK_API = (1, 0)

PROFILE = "cn-gov-87"
#: This plugin's firstresult hooks answer only for RFPs of this profile (no conflict with others).
RFPFLOW_PROFILES = (PROFILE,)
#: Fewer vendors than this passing review make the tender fail (废标).
MIN_VALID_BIDS = 3
#: How long the procurement file is kept, from the end of the procurement.
RETENTION_YEARS = 15
TEMPLATES = Path(__file__).resolve().parent / "templates" / "zh"


def documents() -> tuple[DocumentSpec, ...]:
    """The documents of a cn-gov-87 cycle (rfpflow.documents, and so Jinja, is imported only when needed)."""
    from rfpflow.registry import EVERY_STAGE, VendorDocumentSpec

    return (
        DocumentSpec("cn-gov-evaluation-report", "cn-gov-evaluation-report", "evaluation", profiles=(PROFILE,)),
        DocumentSpec("cn-gov-award-announcement", "cn-gov-award-announcement", "awarded", profiles=(PROFILE,)),
        VendorDocumentSpec("cn-gov-award-notice", "cn-gov-award-notice", "awarded", audience="winner",
                           profiles=(PROFILE,)),
        VendorDocumentSpec("cn-gov-unsuccessful-notice", "cn-gov-unsuccessful-notice", "awarded",
                           audience="unsuccessful", profiles=(PROFILE,)),
        DocumentSpec("archive-manifest", "archive-manifest", EVERY_STAGE, profiles=(PROFILE,)),
    )


class TenderFailed(RfpflowError):
    """The tender fails (废标): too few bids passed review to award."""


@hookimpl
def rfpflow_register_profiles(register: Callable[[Profile], None]) -> None:
    text = resources.files(__package__).joinpath("profiles", f"{PROFILE}.zh.toml").read_text(encoding="utf-8")
    register(Profile(
        name=PROFILE,
        title="政府采购综合评分法（财政部令第87号）",
        description="Chinese government procurement of goods and services by comprehensive scoring under MOF "
                    "Order 87: price weight floors, no scoring of qualifications, regional/industry records or "
                    "company size, a committee of 5+ with two-thirds experts, no trial run, 废标 below 3 bids.",
        templates={"zh": text},
        timezone="Asia/Shanghai",
    ))


@hookimpl
def rfpflow_validate_rfp(rfp: Rfp, context: RunContext) -> list[Problem] | None:
    return validate(rfp) if rfp.profile == PROFILE else None


@hookimpl
def rfpflow_decide_award(ranking: Ranking, rfp: Rfp, context: RunContext) -> AwardDecision | None:
    """Refuse the award when fewer than 3 vendors are ranked; otherwise leave it to rfpflow's rule."""
    if rfp.profile != PROFILE:
        return None
    if len(ranking.entries) < MIN_VALID_BIDS:
        raise TenderFailed(
            f"fewer than {MIN_VALID_BIDS} bids passed review: the tender fails (废标) "
            f"({len(ranking.entries)} in the ranking); cancel the cycle and procure again")
    return None


@hookimpl
def rfpflow_register_documents(register: Callable[[DocumentSpec], None]) -> None:
    for spec in documents():
        register(spec)


@hookimpl
def rfpflow_template_dirs() -> list[Path]:
    return [TEMPLATES]
