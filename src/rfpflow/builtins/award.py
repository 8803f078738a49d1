"""The default award rule: recommend the top of the final ranking.

The ranking already applied the tie-break rfp.toml declares; an organisation
plugin can implement ``rfpflow_decide_award`` to apply its own rule (or to
refuse an award, e.g. a tender that fails for too few valid bids).
"""

from __future__ import annotations

from rfpflow.context import RunContext
from rfpflow.hookspecs import hookimpl
from rfpflow.model import AwardDecision, Ranking, Rfp


@hookimpl(trylast=True)
def rfpflow_decide_award(ranking: Ranking, rfp: Rfp, context: RunContext) -> AwardDecision | None:
    top = ranking.top
    if top is None:
        return None
    return AwardDecision(top.vendor_id, "", follows_ranking=True)
