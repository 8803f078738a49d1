"""The default award rule: the top of the final ranking, and nothing when nobody is ranked."""

from __future__ import annotations

from rfpflow import hookimpl
from rfpflow.builtins import award
from rfpflow.model import AwardDecision, RankedVendor, Ranking, Rfp
from rfpflow.testing import make_context, make_host

RFP = Rfp("R-1", "Cleaning", "Buyer", "services", "CNY", "en")
RANKING = Ranking("weighted-sum", (RankedVendor("V2", 1, 0.9), RankedVendor("V1", 2, 0.4)))


def decide(ranking: Ranking, *plugins: object) -> AwardDecision | None:
    host = make_host(*plugins)
    return host.first("rfpflow_decide_award", AwardDecision, ranking=ranking, rfp=RFP,
                      context=make_context(host, rfp=RFP))


def test_the_top_of_the_ranking_is_recommended() -> None:
    assert award.rfpflow_decide_award(RANKING, RFP, make_context()) == AwardDecision("V2", "", follows_ranking=True)
    assert decide(RANKING) == AwardDecision("V2", "", follows_ranking=True)


def test_a_single_ranked_vendor_is_recommended() -> None:
    only = Ranking("topsis", (RankedVendor("V7", 1, 0.0),))
    assert decide(only) == AwardDecision("V7", "", follows_ranking=True)


def test_an_empty_ranking_decides_nothing() -> None:
    assert award.rfpflow_decide_award(Ranking("weighted-sum", ()), RFP, make_context()) is None
    assert decide(Ranking("weighted-sum", ())) is None


class _TooFewBids:
    """An organisation's own award rule."""

    @hookimpl
    def rfpflow_decide_award(self, ranking, rfp, context):
        return AwardDecision(ranking.entries[-1].vendor_id, "our own rule", follows_ranking=False)


def test_an_organisation_rule_comes_before_the_builtin_fallback() -> None:
    assert decide(RANKING, _TooFewBids()) == AwardDecision("V1", "our own rule", follows_ranking=False)
