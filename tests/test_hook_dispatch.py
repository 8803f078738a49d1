"""Each hook of the contract dispatches as documented, with real plugins on a real host.

Installed plugins win over builtins; a firstresult hook falls through on None;
a collect hook gathers from everyone. Stage-level behaviour of each hook is
tested with its stage; these tests pin the contract itself.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs
import pytest

from rfpflow import hookimpl
from rfpflow.definition import load_rfp
from rfpflow.errors import PluginError
from rfpflow.model import AwardDecision, Bid, GateResult, Kpi, RankedVendor, Ranking, TrialResult
from rfpflow.registry import DocumentSpec, KpiPreset, Measurement
from rfpflow.testing import make_host


class NotMine:
    """Returns None from every firstresult hook: "not my format / not my call"."""

    @hookimpl
    def rfpflow_read_bids(self, source, rfp, context):
        return None

    @hookimpl
    def rfpflow_export(self, fmt, target, context):
        return None


class Mine:
    @hookimpl
    def rfpflow_read_bids(self, source, rfp, context):
        return [Bid("V1", "Vendor One", source.name)] if source.suffix == ".mine" else None

    @hookimpl
    def rfpflow_write_bid_workbook(self, rfp, target, context):
        target.write_text(rfp.id)
        return target

    @hookimpl
    def rfpflow_write_score_sheet(self, rfp, evaluator_id, vendor_ids, target, context):
        target.write_text(f"{evaluator_id}:{','.join(vendor_ids)}")
        return target

    @hookimpl
    def rfpflow_read_scores(self, source, rfp, context):
        return [{"evaluator": "E1", "vendor": "V1", "criterion": "team", "score": 7.0, "comment": "", "cell": "A1"}]

    @hookimpl
    def rfpflow_read_trial_data(self, source, rfp, context):
        return [Measurement(dt.date(2027, 3, 1), "V1", "csat", 90.0, f"{source.name}:2")]

    @hookimpl
    def rfpflow_evaluate_trial(self, vendor_id, measurements, rfp, context):
        return TrialResult(vendor_id, True, 100.0, ())

    @hookimpl
    def rfpflow_award_ranking(self, ranking, rfp, context):
        # reverse the order: an organisation's own award rule
        entries = tuple(attrs.evolve(e, rank=n) for n, e in enumerate(reversed(ranking.entries), start=1))
        return attrs.evolve(ranking, method="our-rule", entries=entries)

    @hookimpl
    def rfpflow_decide_award(self, ranking, rfp, context):
        return AwardDecision(ranking.entries[-1].vendor_id, "our own rule", follows_ranking=False)

    @hookimpl
    def rfpflow_export(self, fmt, target, context):
        if fmt != "mine":
            return None
        target.write_text("exported")
        return target

    @hookimpl
    def rfpflow_due_diligence(self, bid, rfp, context):
        return [GateResult(bid.vendor_id, "registry", "review", "registry says otherwise")]

    @hookimpl
    def rfpflow_screen_bid(self, bid, bids, rfp, context):
        return [GateResult(bid.vendor_id, "extra", "pass", f"{len(bids)} bids seen")]

    @hookimpl
    def rfpflow_register_kpi_presets(self, register):
        register(KpiPreset("warehouse", "Warehouse picking", (Kpi("accuracy", "Pick accuracy", "%", 99.5),)))

    @hookimpl
    def rfpflow_register_documents(self, register):
        register(DocumentSpec("dd-report", "dd_report.html.j2", "screening"))

    @hookimpl
    def rfpflow_template_dirs(self):
        return [Path("/org/templates")]

    @hookimpl
    def rfpflow_prepare_jinja_env(self, env, rfp):
        env.globals["org"] = "Acme"


@pytest.fixture
def setup(tmp_path, rfpflow_context):
    from rfpflow.workspace import create_workspace

    host = make_host(NotMine(), Mine())
    ws = create_workspace(tmp_path / "ws", host)
    context = rfpflow_context(host, workspace=ws)
    rfp = load_rfp(ws / "rfp.toml", context=context)
    return host, context.with_rfp(rfp), rfp, tmp_path


def test_firstresult_hooks_fall_through_none_and_stop_at_the_first_answer(setup) -> None:
    host, context, rfp, tmp = setup
    assert host.first("rfpflow_read_bids", list, source=tmp / "acme.xls", rfp=rfp, context=context) is None
    bids = host.first("rfpflow_read_bids", list, source=tmp / "acme.mine", rfp=rfp, context=context)
    assert bids == [Bid("V1", "Vendor One", "acme.mine")]
    written = host.first("rfpflow_write_bid_workbook", Path, rfp=rfp, target=tmp / "b.xlsx", context=context)
    assert written.read_text() == "RFP-2027-001"
    sheet = host.first("rfpflow_write_score_sheet", Path, rfp=rfp, evaluator_id="E2", vendor_ids=["V1", "V2"],
                       target=tmp / "s.xlsx", context=context, vendor_names={})
    assert sheet.read_text() == "E2:V1,V2"
    scores = host.first("rfpflow_read_scores", list, source=tmp / "s.xlsx", rfp=rfp, context=context)
    assert scores[0]["score"] == 7.0
    data = host.first("rfpflow_read_trial_data", list, source=tmp / "t.csv", rfp=rfp, context=context)
    assert data[0].place == "t.csv:2"
    trial = host.first("rfpflow_evaluate_trial", TrialResult, vendor_id="V1", measurements=data, rfp=rfp,
                       context=context)
    assert trial.passed
    ranking = Ranking("weighted-sum", (RankedVendor("V1", 1, 90.0), RankedVendor("V2", 2, 80.0)))
    reranked = host.first("rfpflow_award_ranking", Ranking, ranking=ranking, rfp=rfp, context=context)
    assert reranked.method == "our-rule" and [e.vendor_id for e in reranked.entries] == ["V2", "V1"]
    award = host.first("rfpflow_decide_award", AwardDecision, ranking=ranking, rfp=rfp, context=context)
    assert award.vendor_id == "V2" and not award.follows_ranking
    assert host.first("rfpflow_export", Path, fmt="pdf-via-fax", target=tmp / "x", context=context) is None
    assert host.first("rfpflow_export", Path, fmt="mine", target=tmp / "x", context=context).read_text() == "exported"


def test_collect_hooks_gather_from_every_plugin(setup) -> None:
    host, context, rfp, _ = setup
    bid = Bid("V1", "Vendor One", "v1.xlsx")
    assert host.collect("rfpflow_due_diligence", GateResult, bid=bid, rfp=rfp, context=context)[0].outcome == "review"
    found = host.collect("rfpflow_screen_bid", GateResult, bid=bid, bids=(bid, bid), rfp=rfp, context=context)
    assert found[0].reason == "2 bids seen"
    assert host.collect("rfpflow_template_dirs", Path) == [Path("/org/templates")]
    assert "warehouse" in host.kpi_presets() and "hotline" in host.kpi_presets()
    assert host.documents()["dd-report"].stage == "screening"

    import jinja2

    env = jinja2.Environment()
    host.call("rfpflow_prepare_jinja_env", firstresult=False, env=env, rfp=rfp)
    assert env.globals["org"] == "Acme"


def test_wrong_result_type_from_a_firstresult_hook_names_the_plugin(setup) -> None:
    host, context, rfp, tmp = setup
    with pytest.raises(PluginError, match="plugin 'Mine' returned list from rfpflow_read_bids, expected dict"):
        host.first("rfpflow_read_bids", dict, source=tmp / "a.mine", rfp=rfp, context=context)


COMMAND_PLUGIN = """
import click
from rfpflow import hookimpl

@click.command("hello")
@click.argument("name")
def hello(name):
    "Say hello."
    click.echo(f"hello {name} from a plugin")

@hookimpl
def rfpflow_register_commands(cli):
    cli.add_command(hello)
"""


def test_plugin_commands_join_the_cli(cli, plugin_site) -> None:
    site = plugin_site("hello-rfp", {"hello_rfp": COMMAND_PLUGIN}, {"hello": "hello_rfp"})
    result = cli("hello", "Li Wei", pythonpath=[site])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "hello Li Wei from a plugin"
    assert "hello" in cli("--help", pythonpath=[site]).stdout
    assert cli("--disable-plugin", "hello", "hello", "x", pythonpath=[site]).returncode == 2


class Veto:
    @hookimpl(wrapper=True)
    def rfpflow_transition(self, transition, context):
        if transition.target.value == "issued":
            raise RuntimeError("the legal team has not signed off")
        return (yield)


def test_a_transition_wrapper_can_veto_and_is_named(setup) -> None:
    from rfpflow.model import Stage, Transition

    _, context, _, _ = setup
    host = make_host(Veto())
    moment = dt.datetime(2027, 1, 4, tzinfo=dt.UTC)
    close = Transition("close", Stage.ISSUED, Stage.BIDS_CLOSED, "test", moment)
    assert host.first("rfpflow_transition", Transition, transition=close, context=context) == close
    issue = Transition("issue", Stage.DRAFT, Stage.ISSUED, "test", moment)
    with pytest.raises(PluginError, match="plugin 'Veto' failed in rfpflow_transition: RuntimeError: the legal"):
        host.first("rfpflow_transition", Transition, transition=issue, context=context)


class Hangs:
    @hookimpl
    def rfpflow_validate_rfp(self, rfp, context):
        import time

        try:
            time.sleep(30)
        except Exception:  # a plugin swallowing every exception still cannot swallow the time limit
            return []
        return []


def test_a_hanging_plugin_is_stopped_and_named(setup, monkeypatch) -> None:
    import time

    from rfpflow.definition import check_rfp

    _, context, _, _ = setup
    monkeypatch.setenv("RFPFLOW_PLUGIN_TIMEOUT", "0.5")
    host = make_host(Hangs())
    started = time.monotonic()
    with pytest.raises(PluginError, match=r"plugin 'Hangs' did not finish rfpflow_validate_rfp within 0.5 s"):
        check_rfp(context.workspace / "rfp.toml", context=attrs.evolve(context, host=host))
    assert time.monotonic() - started < 10
