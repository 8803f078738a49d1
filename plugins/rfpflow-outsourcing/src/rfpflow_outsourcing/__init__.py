"""rfpflow-outsourcing: the ``outsourcing-5d`` profile for private-sector service outsourcing.

What this plugin adds to rfpflow (its README explains each rule and where it comes from):

* the profile ``outsourcing-5d`` (``rfpflow new DIR --profile outsourcing-5d``), in
  English (IT operations, trial on the ``it-operations`` KPIs) and Chinese
  (customer-service hotline, trial on the ``hotline`` KPIs);
* the gate kind ``cmmi_level`` (:mod:`rfpflow_outsourcing.cmmi`), usable by any RFP;
* checks of an ``outsourcing-5d`` rfp.toml: ``[plugins.outsourcing]`` options
  ``personal_data`` (default true) and ``software`` (default: category ITO) demand
  an ISO 27001 / SOC 2 Type II gate and a CMMI gate of level 3 or higher;
* two documents rendered after screening: ``due-diligence-report`` and
  ``dispatch-compliance-memo``, with templates in ``templates/en`` and ``templates/zh``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from rfpflow import hookimpl
from rfpflow.context import RunContext
from rfpflow.errors import Problem
from rfpflow.model import Rfp
from rfpflow.options import suggest
from rfpflow.registry import DocumentSpec, Profile, ScreeningRule
from rfpflow_outsourcing.cmmi import DEFAULT_MIN_LEVEL, check_cmmi_level, cmmi_level

__all__ = ["DOCUMENTS", "OPTIONS", "PLUGIN", "PROFILE", "TEMPLATES", "cmmi_level", "validate"]

RFPFLOW_HOOK_API = (1, 0)

PROFILE = "outsourcing-5d"
#: The ``[plugins.outsourcing]`` table of rfp.toml.
PLUGIN = "outsourcing"
#: ``[plugins.outsourcing]`` options and their types.
OPTIONS: Mapping[str, type] = {"personal_data": bool, "software": bool}
#: Certificates of which one is required when the service handles personal data.
SECURITY_CERTIFICATES = ("ISO 27001", "SOC 2 Type II")
#: The package's template folder (``en/`` and ``zh/`` inside; see templates/README in the package).
TEMPLATES = Path(__file__).resolve().parent / "templates"
DOCUMENTS = (
    DocumentSpec("due-diligence-report", "due-diligence-report", "screening", profiles=(PROFILE,)),
    DocumentSpec("dispatch-compliance-memo", "dispatch-compliance-memo", "screening", profiles=(PROFILE,)),
)


def _profile_text(language: str) -> str:
    return resources.files(__package__).joinpath("profiles", f"{PROFILE}.{language}.toml").read_text(encoding="utf-8")


@hookimpl
def rfpflow_register_profiles(register: Callable[[Profile], None]) -> None:
    register(Profile(
        name=PROFILE,
        title="Service outsourcing, five dimensions (outsourcing-5d)",
        description="Private-sector ITO/BPO: qualifications, team, technical capability, service process and "
                    "client reputation (100 points); security, quality and CMMI gates; shortlist of 2 scoring 70+; "
                    "trial run; award 60 % evaluation, 20 % price, 20 % trial.",
        templates={"en": _profile_text("en"), "zh": _profile_text("zh")},
        timezone="Asia/Shanghai",
    ))


@hookimpl
def rfpflow_register_screening_rules(register: Callable[[ScreeningRule], None]) -> None:
    register(ScreeningRule(
        "cmmi_level", "A valid CMMI appraisal at maturity level min_level (default 3) or higher",
        check_cmmi_level, {"min_level": int}))


@hookimpl
def rfpflow_register_documents(register: Callable[[DocumentSpec], None]) -> None:
    for spec in DOCUMENTS:
        register(spec)


@hookimpl
def rfpflow_template_dirs() -> list[Path]:
    return [TEMPLATES]


def _gate_names(values: Any) -> list[str]:
    return [str(v) for v in values] if isinstance(values, (list, tuple)) else []


def _tokens(name: str) -> set[str]:
    return set(re.findall(r"[A-Z]+|\d+", name.upper()))


def _covers(any_of: list[str], wanted: str) -> bool:
    """Whether a certification gate's any_of list accepts the certificate ``wanted``."""
    return any(_tokens(name) <= _tokens(wanted) or _tokens(wanted) <= _tokens(name) for name in any_of)


def validate(rfp: Rfp) -> list[Problem]:
    """The problems of an ``outsourcing-5d`` RFP (any RFP's cmmi_level gates are checked too)."""
    problems: list[Problem] = []
    for gate in rfp.gates:
        level = gate.params.get("min_level", DEFAULT_MIN_LEVEL)
        if gate.kind == "cmmi_level" and isinstance(level, int) and not 1 <= level <= 5:
            problems.append(Problem(f"CMMI maturity levels run from 1 to 5, got {level}",
                                    field=f"gates.{gate.id}.min_level"))
    if rfp.profile != PROFILE:
        return problems
    options = rfp.options_for(PLUGIN)
    for key, value in options.items():
        field = f"plugins.{PLUGIN}.{key}"
        if key not in OPTIONS:
            problems.append(Problem(f"the outsourcing plugin has no option {key!r}{suggest(key, OPTIONS)}; "
                                    f"options: {', '.join(OPTIONS)}", field=field))
        elif not isinstance(value, OPTIONS[key]):
            problems.append(Problem(f"must be true or false, got {value!r}", field=field))
    personal_data = options.get("personal_data", True)
    software = options.get("software", rfp.category == "ITO")
    if personal_data is True:
        accepted = [name for gate in rfp.gates if gate.kind == "certification"
                    for name in _gate_names(gate.params.get("any_of"))]
        missing = [c for c in SECURITY_CERTIFICATES if not _covers(accepted, c)]
        if missing:
            problems.append(Problem(
                "the service handles personal data ([plugins.outsourcing] personal_data = true), so a certification "
                f"gate must accept {' or '.join(SECURITY_CERTIFICATES)}; missing: {', '.join(missing)}",
                field="gates"))
    if software is True:
        levels = [g.params.get("min_level", DEFAULT_MIN_LEVEL) for g in rfp.gates if g.kind == "cmmi_level"]
        if not any(isinstance(level, int) and level >= DEFAULT_MIN_LEVEL for level in levels):
            problems.append(Problem(
                "the service includes software work ([plugins.outsourcing] software = true), so a gate "
                f"kind = \"cmmi_level\" with min_level = {DEFAULT_MIN_LEVEL} or higher is required",
                field="gates"))
    if rfp.questionnaire and not any(g.kind == "mandatory_answers" for g in rfp.gates):
        problems.append(Problem(
            "no mandatory_answers gate: the data-processing agreement and the tested continuity plan would not be "
            "enforced at screening", field="gates", severity="warning"))
    return problems


@hookimpl
def rfpflow_validate_rfp(rfp: Rfp, context: RunContext) -> list[Problem]:
    return validate(rfp)
