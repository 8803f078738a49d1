"""The default transition approval: every transition the core allows is approved.

Organisation plugins wrap ``rfpflow_transition`` to veto (raise) or observe.
"""

from __future__ import annotations

from rfpflow.context import RunContext
from rfpflow.hookspecs import hookimpl
from rfpflow.model import Transition


@hookimpl(trylast=True)
def rfpflow_transition(transition: Transition, context: RunContext) -> Transition:
    return transition
