"""rfpflow-eu: the ``eu-meat`` profile (EU Directive 2014/24/EU, most economically advantageous tender).

What this plugin adds (its README explains each rule and where it comes from):

* the profile ``eu-meat`` (English): exclusion grounds (art. 57) as mandatory
  declarations, a turnover selection criterion (art. 58), MEAT scoring with
  quality 60 and price 40 (price points = 40 x lowest price / price), the
  abnormally-low review (art. 69) and the standstill period;
* checks of an ``eu-meat`` rfp.toml (:func:`validate`): the turnover asked may
  not exceed twice the contract value; ``[award] standstill_days`` must match
  ``[plugins.eu] notification`` (10 days electronic, 15 otherwise); the price
  formula is ``lowest-ratio``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from importlib import resources

from rfpflow import hookimpl
from rfpflow.context import RunContext
from rfpflow.errors import Problem
from rfpflow.model import Rfp
from rfpflow.options import suggest
from rfpflow.registry import Profile

__all__ = ["NOTIFICATION_STANDSTILL", "OPTIONS", "PLUGIN", "PROFILE", "TURNOVER_CAP", "validate"]

RFPFLOW_HOOK_API = (1, 0)

PROFILE = "eu-meat"
#: The ``[plugins.eu]`` table of rfp.toml.
PLUGIN = "eu"
#: ``[plugins.eu]`` options and their types.
OPTIONS: Mapping[str, type] = {"notification": str, "turnover_justification": str}
#: Standstill days by the means the award decision is notified.
NOTIFICATION_STANDSTILL: Mapping[str, int] = {"electronic": 10, "other": 15}
#: The minimum yearly turnover asked may be at most this multiple of the contract value.
TURNOVER_CAP = Decimal(2)


@hookimpl
def rfpflow_register_profiles(register: Callable[[Profile], None]) -> None:
    text = resources.files(__package__).joinpath("profiles", f"{PROFILE}.en.toml").read_text(encoding="utf-8")
    register(Profile(
        name=PROFILE,
        title="EU public procurement, most economically advantageous tender (eu-meat)",
        description="Directive 2014/24/EU: exclusion grounds, turnover selection (at most 2x the contract value), "
                    "MEAT award on quality 60 / price 40, abnormally-low review, 10- or 15-day standstill.",
        templates={"en": text},
        timezone="Europe/Brussels",
    ))


def _option_problems(options: Mapping[str, object]) -> list[Problem]:
    problems: list[Problem] = []
    for key, value in options.items():
        field = f"plugins.{PLUGIN}.{key}"
        if key not in OPTIONS:
            problems.append(Problem(f"the eu plugin has no option {key!r}{suggest(key, OPTIONS)}; options: "
                                    f"{', '.join(OPTIONS)}", field=field))
        elif not isinstance(value, str):
            problems.append(Problem(f"must be text, got {value!r}", field=field))
    return problems


def _standstill_problems(rfp: Rfp, notification: object) -> list[Problem]:
    choices = ", ".join(f'"{k}"' for k in NOTIFICATION_STANDSTILL)
    if notification is None:
        return [Problem(f"say how the award decision is notified: notification = {choices} (it sets the "
                        "standstill period)", field=f"plugins.{PLUGIN}")]
    if notification not in NOTIFICATION_STANDSTILL:
        return [Problem(f"must be one of {choices}, got {notification!r}"
                        f"{suggest(str(notification), NOTIFICATION_STANDSTILL)}",
                        field=f"plugins.{PLUGIN}.notification")]
    days = NOTIFICATION_STANDSTILL[str(notification)]
    means = "electronically" if notification == "electronic" else "by other means"
    if rfp.standstill_days is None:
        return [Problem(f"the award decision is notified {means}: set standstill_days = {days} in [award]",
                        field="award")]
    if rfp.standstill_days < days:
        return [Problem(f"is {rfp.standstill_days} days, but a decision notified {means} needs a standstill of "
                        f"{days} days", field="award.standstill_days")]
    if rfp.standstill_days > days:
        return [Problem(f"is {rfp.standstill_days} days, longer than the {days} days a decision notified {means} "
                        "needs; make sure the award notice states the same period", field="award.standstill_days",
                        severity="warning")]
    return []


def _turnover_problems(rfp: Rfp, justification: object) -> list[Problem]:
    problems: list[Problem] = []
    for gate in rfp.gates:
        if gate.kind != "min_turnover":
            continue
        amount = gate.params.get("amount")
        if rfp.contract_value is None:
            problems.append(Problem("a minimum turnover needs the contract value it is capped by: set "
                                    "contract_value", field=f"gates.{gate.id}.amount"))
            continue
        cap = rfp.contract_value * TURNOVER_CAP
        if isinstance(amount, (int, float)) and not isinstance(amount, bool) and Decimal(str(amount)) > cap:
            justified = isinstance(justification, str) and justification.strip()
            problems.append(Problem(
                f"asks for a turnover of {amount:,}, more than twice the contract value ({cap:,}); the minimum "
                "turnover may not exceed twice the estimated contract value"
                + (" (justified in [plugins.eu] turnover_justification: state it in the procurement documents)"
                   if justified else "; lower it, or give the reason in [plugins.eu] turnover_justification"),
                field=f"gates.{gate.id}.amount", severity="warning" if justified else "error"))
    return problems


def validate(rfp: Rfp) -> list[Problem]:
    """Every problem of an ``eu-meat`` definition."""
    options = rfp.options_for(PLUGIN)
    problems = _option_problems(options)
    problems += _standstill_problems(rfp, options.get("notification"))
    problems += _turnover_problems(rfp, options.get("turnover_justification"))
    priced = any(c.source.kind == "price" for c in rfp.leaf_criteria()) or "price" in rfp.scoring.award_weights
    if priced and rfp.scoring.price_formula != "lowest-ratio":
        problems.append(Problem(f"the eu-meat price points are weight x lowest price / price: use "
                                f"\"lowest-ratio\", not {rfp.scoring.price_formula!r}", field="scoring.price_formula"))
    if not any(g.kind == "abnormally_low" for g in rfp.gates):
        problems.append(Problem("no abnormally_low gate: an abnormally low tender must be explained before it can "
                                "be rejected or accepted", field="gates", severity="warning"))
    if any(q.mandatory for q in rfp.questionnaire) and not any(g.kind == "mandatory_answers" for g in rfp.gates):
        problems.append(Problem("the exclusion-ground declarations are not checked: add a mandatory_answers gate",
                                field="gates"))
    return problems


@hookimpl
def rfpflow_validate_rfp(rfp: Rfp, context: RunContext) -> list[Problem] | None:
    return validate(rfp) if rfp.profile == PROFILE else None
