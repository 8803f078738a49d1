"""Checks of rfp.toml that depend on what plugins registered.

Gate kinds and their options, scoring method and price formula names, KPI
presets and the profile are looked up in the registries, so a definition
naming a gate kind from a plugin that is not installed is refused with a
"did you mean" instead of failing later, half-way through a cycle.
"""

from __future__ import annotations

from rfpflow.context import RunContext
from rfpflow.errors import Problem
from rfpflow.hookspecs import hookimpl
from rfpflow.model import Rfp
from rfpflow.options import suggest


def _type_name(expected: type | tuple[type, ...]) -> str:
    names = {int: "a whole number", float: "a number", str: "text", bool: "true or false",
             list: "a list", dict: "a table"}
    types = expected if isinstance(expected, tuple) else (expected,)
    return " or ".join(names.get(t, t.__name__) for t in types)


@hookimpl(trylast=True)
def rfpflow_validate_rfp(rfp: Rfp, context: RunContext) -> list[Problem]:
    host = context.host
    problems: list[Problem] = []
    rules = host.screening_rules()
    for gate in rfp.gates:
        path = f"gates.{gate.id}"
        rule = rules.get(gate.kind)
        if rule is None:
            problems.append(Problem(
                f"unknown gate kind {gate.kind!r}{suggest(gate.kind, rules.names())}; "
                f"installed kinds: {', '.join(rules.names()) or 'none'}", field=f"{path}.kind"))
            continue
        for option, value in gate.params.items():
            if option not in rule.options:
                problems.append(Problem(
                    f"the {gate.kind} gate has no option {option!r}{suggest(option, rule.options)}",
                    field=f"{path}.{option}"))
                continue
            expected = rule.options[option]
            types = expected if isinstance(expected, tuple) else (expected,)
            ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
            if float in types and isinstance(value, int) and not isinstance(value, bool):
                ok = True
            if not ok:
                problems.append(Problem(f"must be {_type_name(expected)}, got {value!r}", field=f"{path}.{option}"))
        for option in rule.required:
            if option not in gate.params:
                problems.append(Problem(f"the {gate.kind} gate needs the option {option!r}", field=path))

    methods = host.scoring_methods()
    ranking = [n for n in methods.names() if methods[n].kind == "ranking"]
    prices = [n for n in methods.names() if methods[n].kind == "price"]
    if rfp.scoring.method not in ranking:
        problems.append(Problem(
            f"unknown scoring method {rfp.scoring.method!r}{suggest(rfp.scoring.method, ranking)}; "
            f"available: {', '.join(ranking) or 'none'}", field="scoring.method"))
    uses_price = (any(leaf.source.kind == "price" for leaf in rfp.leaf_criteria())
                  or "price" in rfp.scoring.award_weights)
    if uses_price and rfp.scoring.price_formula not in prices:
        problems.append(Problem(
            f"unknown price formula {rfp.scoring.price_formula!r}{suggest(rfp.scoring.price_formula, prices)}; "
            f"available: {', '.join(prices) or 'none'}", field="scoring.price_formula"))

    if rfp.trial.enabled and rfp.trial.preset:
        presets = host.kpi_presets()
        if rfp.trial.preset not in presets:
            problems.append(Problem(
                f"unknown KPI preset {rfp.trial.preset!r}{suggest(rfp.trial.preset, presets.names())}; "
                f"available: {', '.join(presets.names()) or 'none'}", field="trial.preset"))

    profiles = host.profiles()
    if rfp.profile not in profiles:
        problems.append(Problem(
            f"profile {rfp.profile!r} is not installed{suggest(rfp.profile, profiles.names())}; "
            "rules it adds will not run", field="profile", severity="warning"))

    if rfp.contract_value is not None:
        for gate in rfp.gates:
            amount = gate.params.get("amount")
            if gate.kind == "min_turnover" and isinstance(amount, (int, float)) and amount > 2 * rfp.contract_value:
                problems.append(Problem(
                    f"asks for a turnover of {amount:,} - more than twice the contract value "
                    f"({rfp.contract_value:,}); EU rules (Directive 2014/24/EU art. 58(3)) cap it there",
                    field=f"gates.{gate.id}.amount", severity="warning"))
    return problems
