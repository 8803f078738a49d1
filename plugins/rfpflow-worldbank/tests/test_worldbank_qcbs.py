"""worldbank-qcbs: the qcbs scoring method, the award rule, the profile's checks and the notification."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import pytest
from rfpflow_worldbank.qcbs import qcbs

from rfpflow.definition import check_rfp
from rfpflow.documents import render_documents
from rfpflow.errors import RfpflowError
from rfpflow.model import RankedVendor, Ranking, Rfp

PROFILE = "worldbank-qcbs"


# -- the qcbs method ----------------------------------------------------------


def test_combined_score_is_st_t_plus_sf_one_minus_t() -> None:
    result = qcbs([90, 80], [120_000, 100_000])
    assert result.financial == (pytest.approx(100 * 100_000 / 120_000), 100.0)
    assert result.scores[0] == pytest.approx(90 * 0.8 + 100 * 100_000 / 120_000 * 0.2)
    assert result.scores[1] == pytest.approx(80 * 0.8 + 100 * 0.2)
    assert result.ranks == (1, 2) and result.winner == 0


def test_proposals_below_the_minimum_are_not_opened() -> None:
    result = qcbs([90, 74.99, 80], [150_000, 50_000, 100_000], minimum_technical=75)
    assert result.qualified == (True, False, True)
    assert result.financial[1] is None and result.scores[1] is None
    assert result.financial[2] == 100.0  # the lowest price among the qualified, not the rejected 50,000
    assert result.ranks[1] == 3


def test_technical_weight_is_configurable() -> None:
    result = qcbs([90, 80], [120_000, 100_000], technical_weight=0.7)
    assert math.isclose(result.scores[1], 80 * 0.7 + 100 * 0.3)


def test_equal_combined_scores_rank_the_higher_technical_score_first() -> None:
    tie = qcbs([85, 95], [90_000, 100_000], technical_weight=0.5)  # S = 0.5 x (85 + 100) = 0.5 x (95 + 90)
    assert tie.scores[0] == pytest.approx(tie.scores[1])
    assert tie.ranks == (2, 1)


def test_no_qualified_proposal_has_no_winner() -> None:
    assert qcbs([60, 70], [1.0, 2.0]).winner is None


@pytest.mark.parametrize(("technical", "prices", "kwargs", "message"), [
    ([90], [1.0, 2.0], {}, "1 technical scores but 2 prices"),
    ([90], [1.0], {"technical_weight": 1.0}, "between 0 and 1"),
    ([120], [1.0], {}, "from 0 to 100"),
    ([90], [0], {}, "positive"),
])
def test_bad_input_is_refused(technical, prices, kwargs, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        qcbs(technical, prices, **kwargs)


def test_qcbs_is_registered_as_an_award_method(rfpflow_host, plugin) -> None:
    method = rfpflow_host(plugin).scoring_methods()["qcbs"]
    assert method.kind == "award"
    assert method.function is qcbs


# -- the award rule -----------------------------------------------------------


def _rfp(**options) -> Rfp:
    return Rfp(id="WB", title="t", buyer="b", category="KPO", currency="USD", language="en", profile=PROFILE,
               plugin_options={"worldbank": {"minimum_technical": 75, **options}})


def _ranking(*rows: tuple[str, float, str]) -> Ranking:
    return Ranking("weighted-sum", [RankedVendor(v, n, 0.0, Decimal(p), {"technical_score": st})
                                    for n, (v, st, p) in enumerate(rows, start=1)])


def _qcbs_ranking(ranking: Ranking, rfpflow_context, plugin) -> Ranking:
    return plugin.rfpflow_award_ranking(ranking, _rfp(), rfpflow_context())


def test_the_award_ranking_is_qcbs_among_qualified_firms(rfpflow_context, plugin) -> None:
    # rfpflow's own award ranking compares every price; QCBS opens only the qualified proposals,
    # so the cheap firm below the minimum neither wins nor sets the price benchmark.
    ranking = _ranking(("cheap", 70, "50000"), ("alpha", 90, "120000"), ("beta", 80, "100000"))
    reranked = _qcbs_ranking(ranking, rfpflow_context, plugin)
    assert reranked.method == "qcbs"
    assert [(e.vendor_id, e.rank) for e in reranked.entries] == [("alpha", 1), ("beta", 2), ("cheap", 3)]
    # alpha: 90 x 0.8 + (100 x 100000 / 120000) x 0.2 = 72 + 16.67 = 88.67; beta: 64 + 20 = 84
    assert [round(e.total_score, 2) for e in reranked.entries] == [88.67, 84.0, 0.0]
    assert reranked.entries[2].breakdown["below_minimum"] == 1.0
    assert "financial proposal not opened: cheap" in reranked.notes[0]
    decision = plugin.rfpflow_decide_award(reranked, _rfp(), rfpflow_context())
    assert decision.vendor_id == "alpha" and decision.follows_ranking


def test_award_is_refused_when_no_proposal_qualifies(rfpflow_host, rfpflow_context, plugin) -> None:
    host = rfpflow_host(plugin)
    context = rfpflow_context(host)
    ranking = host.first("rfpflow_award_ranking", Ranking, ranking=_ranking(("a", 60, "1"), ("b", 70, "2")),
                         rfp=_rfp(), context=context)
    with pytest.raises(RfpflowError, match="minimum technical score of 75"):
        host.first("rfpflow_decide_award", object, ranking=ranking, rfp=_rfp(), context=context)


def test_other_profiles_are_left_to_rfpflow(rfpflow_context, plugin) -> None:
    rfp = Rfp(id="x", title="t", buyer="b", category="KPO", currency="USD", language="en")
    assert plugin.rfpflow_decide_award(_ranking(("a", 10, "1")), rfp, rfpflow_context()) is None
    assert plugin.rfpflow_award_ranking(_ranking(("a", 10, "1")), rfp, rfpflow_context()) is None


# -- the profile and its checks -------------------------------------------------


def test_new_then_validate_succeeds_with_the_installed_plugin(rfpflow_cli, tmp_path: Path) -> None:
    made = rfpflow_cli("new", str(tmp_path / "wb"), "--profile", PROFILE)
    assert made.returncode == 0, made.stderr
    checked = rfpflow_cli("-C", str(tmp_path / "wb"), "validate")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "warning" not in checked.stdout + checked.stderr


@pytest.fixture
def check(rfpflow_workspace, rfpflow_host, rfpflow_context, plugin):
    host = rfpflow_host(plugin)

    def run(*edits: tuple[str, str]):
        ws = rfpflow_workspace(PROFILE, host=host)
        path = ws / "rfp.toml"
        text = path.read_text(encoding="utf-8")
        for old, new in edits:
            assert old in text, old
            text = text.replace(old, new)
        path.write_text(text, encoding="utf-8")
        rfp, problems = check_rfp(path, context=rfpflow_context(host, workspace=ws))
        fields: dict[str | None, list] = {}
        for p in problems:
            fields.setdefault(p.field, []).append(p)
        return rfp, fields

    return run


def test_template_declares_the_qcbs_rules(check) -> None:
    rfp, problems = check()
    assert problems == {}
    assert rfp.two_envelope
    assert rfp.options_for("worldbank") == {"minimum_technical": 75, "technical_weight": 0.8}
    assert dict(rfp.scoring.award_weights) == {"evaluation": 0.8, "price": 0.2}
    assert {c.id: c.weight for c in rfp.criteria} == {"experience": 10, "methodology": 30, "key_experts": 50,
                                                      "transfer": 5, "nationals": 5}


def test_minimum_technical_must_be_declared(check) -> None:
    rfp, problems = check(("minimum_technical = 75", ""))
    assert rfp is None and "minimum_technical = 75" in problems["plugins.worldbank"][0].message


def test_another_minimum_is_a_warning(check) -> None:
    rfp, problems = check(("minimum_technical = 75", "minimum_technical = 70"))
    assert rfp is not None and problems["plugins.worldbank.minimum_technical"][0].severity == "warning"


def test_two_envelopes_are_required(check) -> None:
    _, problems = check(("two_envelope = true", "two_envelope = false"))
    assert "two_envelope = true" in problems["two_envelope"][0].message


def test_award_weights_must_match_the_technical_weight(check) -> None:
    _, problems = check(("technical_weight = 0.8", "technical_weight = 0.7"))
    assert "evaluation = 0.7, price = 0.3" in problems["scoring.award"][0].message
    rfp, problems = check(("technical_weight = 0.8", "technical_weight = 0.7"),
                          ("award = { evaluation = 0.8, price = 0.2 }", "award = { evaluation = 0.7, price = 0.3 }"))
    assert rfp is not None and problems == {}


def test_price_may_not_be_a_technical_criterion(check) -> None:
    _, problems = check(('[gates.declarations]',
                         '[criteria.price]\nname = "Price"\nweight = 10\nsource = "price"\n\n[gates.declarations]'),
                        ('name = "Key experts\' qualifications and competence"\nweight = 50',
                         'name = "Key experts\' qualifications and competence"\nweight = 40'))
    assert "may not include the price" in problems["criteria"][0].message


def test_standstill_shorter_than_ten_business_days_is_a_warning(check) -> None:
    rfp, problems = check(("standstill_days = 14", "standstill_days = 10"))
    assert rfp is not None and problems["award.standstill_days"][0].severity == "warning"


def test_unknown_option_is_refused(check) -> None:
    _, problems = check(("technical_weight = 0.8", "technical_weight = 0.8\nminimum_tech = 70"))
    assert "did you mean 'minimum_technical'" in problems["plugins.worldbank.minimum_tech"][0].message


# -- the notification -----------------------------------------------------------


def test_notification_goes_to_every_consultant_with_scores_and_standstill(rfpflow_host, plugin, award_view,
                                                                          tmp_path: Path) -> None:
    host = rfpflow_host(plugin, blocked=["rfpflow.builtins.documents"])
    paths = render_documents(award_view, host, workspace=None, out_dir=tmp_path)
    files = {p.name: p.read_text(encoding="utf-8") for p in paths}
    assert sorted(files) == [f"notification-of-intention-to-award-{n}.{f}"
                             for n in ("Alpha-Engineering", "Beta-Consult", "Gamma-Partners") for f in ("html", "md")]
    beta = files["notification-of-intention-to-award-Beta-Consult.html"]
    assert "Beta &lt;Consult&gt;" in beta
    assert "ranked 2 of 2" in beta and "84.00" in beta
    assert "24 May 2027" in beta and "10 Business Days" in beta
    gamma = files["notification-of-intention-to-award-Gamma-Partners.md"]
    assert "COI answered" in gamma
    alpha = files["notification-of-intention-to-award-Alpha-Engineering.html"]
    assert "Your proposal" not in alpha
