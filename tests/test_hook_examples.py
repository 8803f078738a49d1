"""Every hook in docs/hooks.md has an example, and every example runs: each is loaded as the plugin
``example`` beside the builtins and its hook is called through the host, as rfpflow calls it."""

from __future__ import annotations

import datetime as dt
import json
import re
import textwrap
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
import pytest

from rfpflow.context import RunContext
from rfpflow.definition import load_rfp
from rfpflow.model import Bid, Certification, Gate, GateResult, RankedVendor, Ranking, Rfp, Stage, Transition
from rfpflow.plugins import PluginHost
from rfpflow.registry import Measurement
from rfpflow.testing import FIXED_NOW, make_context, make_host, make_workspace, run_cli

ROOT = Path(__file__).resolve().parents[1]
HOOKS = ROOT / "docs" / "hooks.md"


def examples() -> dict[str, str]:
    found: dict[str, str] = {}
    for section in re.split(r"\n(?=### `rfpflow_)", HOOKS.read_text(encoding="utf-8"))[1:]:
        name = re.match(r"### `(rfpflow_\w+)\(", section)
        code = re.search(r"\*Example\*.*?\n```python\n(.*?)\n```", section, re.S)
        assert name, section[:80]
        found[name.group(1)] = code.group(1) if code else ""
    return found


EXAMPLES = examples()


def test_every_hook_has_an_example() -> None:
    from rfpflow import hookspecs

    hooks = sorted(n for n in dir(hookspecs) if n.startswith("rfpflow_"))
    assert sorted(EXAMPLES) == hooks
    assert [name for name, code in EXAMPLES.items() if not code] == []


class Example:
    """The example of one hook as a plugin, with what its check needs."""

    def __init__(self, hook: str, tmp_path: Path) -> None:
        self.module = types.ModuleType(f"example_{hook}")
        code = compile(textwrap.dedent(EXAMPLES[hook]), f"<docs/hooks.md {hook}>", "exec")
        exec(code, self.module.__dict__)
        self.host: PluginHost = make_host(("example", self.module))
        self.tmp = tmp_path
        self.workspace = make_workspace(tmp_path / "ws", "generic", host=self.host)
        self.rfp: Rfp = load_rfp(self.workspace / "rfp.toml", context=make_context(self.host))
        self.context: RunContext = make_context(self.host, workspace=self.workspace, rfp=self.rfp)


def bid(vendor: str, name: str, **fields: Any) -> Bid:
    return Bid(vendor, name, f"{vendor}.xlsx", fields={"vendor_name": name, **fields},
               certifications=(Certification("ISO 9001", dt.date(2030, 1, 1)),))


def ranking() -> Ranking:
    return Ranking("weighted-sum", (RankedVendor("acme", 1, 80.0, None, {}), RankedVendor("beta", 2, 70.0, None, {})))


def check_commands(ex: Example) -> None:
    result = run_cli(["hello"], host=ex.host)
    assert (result.exit_code, result.stdout) == (0, "hello from the example plugin\n")


def check_profiles(ex: Example) -> None:
    assert ex.host.profiles()["example-minimal"].title == "Example minimal RFP"
    assert ex.host.profiles().suppliers["example-minimal"] == "example"


def check_screening_rules(ex: Example) -> None:
    rule = ex.host.screening_rules()["example-email"]
    gate = Gate("email", "example-email")
    with_email, without = bid("acme", "Acme", contact_email="bids@acme.example"), bid("beta", "Beta")
    assert rule.check(with_email, gate, (with_email,), ex.rfp, ex.context).reason == "contact: bids@acme.example"
    assert rule.check(without, gate, (without,), ex.rfp, ex.context).outcome == "review"


def check_scoring_methods(ex: Example) -> None:
    import attrs

    from rfpflow.evaluation import _call_price_formula

    rfp = attrs.evolve(ex.rfp, scoring=attrs.evolve(ex.rfp.scoring, price_formula="example-capped",
                                                     options={"example_floor": 15}))
    assert _call_price_formula(rfp, ex.host, [100.0, 400.0], 40.0) == [40.0, 15.0]


def check_kpi_presets(ex: Example) -> None:
    assert [k.id for k in ex.host.kpi_presets()["example-chat"].kpis] == ["first_reply", "csat"]


def check_documents(ex: Example) -> None:
    assert ex.host.documents()["example-note"].profiles == ("example-minimal",)


def check_template_dirs(ex: Example) -> None:
    assert Path("/opt/example/templates") in ex.host.collect("rfpflow_template_dirs", (Path, str))


def check_prepare_jinja_env(ex: Example) -> None:
    env = jinja2.Environment(autoescape=True)
    ex.host.call("rfpflow_prepare_jinja_env", firstresult=False, env=env, rfp=ex.rfp)
    assert env.from_string("{{ 'ok' | shout }} {{ example_buyer }}").render() == f"OK {ex.rfp.buyer}"


def check_validate_rfp(ex: Example) -> None:
    import attrs

    short = attrs.evolve(ex.rfp, standstill_days=5)
    problems = ex.host.collect("rfpflow_validate_rfp", object, rfp=short, context=ex.context)
    assert "award.standstill_days: a standstill of 5 days is short; we use 10" in [str(p) for p in problems]


def check_write_bid_workbook(ex: Example) -> None:
    target = ex.tmp / "bids.csv"
    assert ex.host.first("rfpflow_write_bid_workbook", Path, rfp=ex.rfp, target=target, context=ex.context) == target
    assert target.read_text(encoding="utf-8").splitlines()[0] == "item_id,description,quantity,unit_price"


def check_read_bids(ex: Example) -> None:
    source = ex.tmp / "acme.json"
    item = ex.rfp.line_items[0].id
    source.write_text(json.dumps({"vendor": "acme", "name": "Acme", "prices": [[item, 2, "1000.50"]]}),
                      encoding="utf-8")
    bids = ex.host.first("rfpflow_read_bids", list, source=source, rfp=ex.rfp, context=ex.context)
    assert bids is not None and [(b.vendor_id, str(b.total_price)) for b in bids] == [("acme", "2001.00")]
    assert ex.host.answered_by == {}
    ex.host.call("rfpflow_read_bids", firstresult=True, source=source, rfp=ex.rfp, context=ex.context,
                 subject="file acme.json")
    assert ex.host.answered_by == {"file acme.json": "example"}


def check_screen_bid(ex: Example) -> None:
    a, b = bid("acme", "Acme"), bid("acme2", "ACME")
    found = ex.host.collect("rfpflow_screen_bid", GateResult, bid=a, bids=(a, b), rfp=ex.rfp, context=ex.context)
    assert [(r.gate_id, r.reason) for r in found if r.gate_id == "example-twins"] == [
        ("example-twins", "same name as acme2")]


def check_due_diligence(ex: Example) -> None:
    import attrs

    rfp = attrs.evolve(ex.rfp, plugin_options={"example": {"blocked": ["acme"]}})
    context = ex.context.with_rfp(rfp)
    found = ex.host.collect("rfpflow_due_diligence", GateResult, bid=bid("acme", "Acme"), rfp=rfp, context=context)
    assert [r.outcome for r in found if r.gate_id == "example-blocklist"] == ["fail"]


def check_write_score_sheet(ex: Example) -> None:
    target = ex.tmp / "E1.csv"
    written = ex.host.first("rfpflow_write_score_sheet", Path, rfp=ex.rfp, evaluator_id="E1",
                            vendor_ids=["acme"], target=target, context=ex.context)
    assert written == target and target.read_text(encoding="utf-8").startswith("evaluator,vendor,criterion")


def check_read_scores(ex: Example) -> None:
    source = ex.tmp / "E1.csv"
    source.write_text("evaluator,vendor,criterion,score,comment\nE1,acme,approach,8,good\n", encoding="utf-8")
    rows = ex.host.first("rfpflow_read_scores", list, source=source, rfp=ex.rfp, context=ex.context)
    assert rows == [{"evaluator": "E1", "vendor": "acme", "criterion": "approach", "score": 8.0,
                     "comment": "good", "cell": "E1.csv:2"}]


def check_read_trial_data(ex: Example) -> None:
    source = ex.tmp / "trial.json"
    source.write_text(json.dumps([{"day": "2027-02-01", "vendor": "acme", "kpi": "sl", "value": 91}]),
                      encoding="utf-8")
    rows = ex.host.first("rfpflow_read_trial_data", list, source=source, rfp=ex.rfp, context=ex.context)
    assert rows == [Measurement(dt.date(2027, 2, 1), "acme", "sl", 91.0, "trial.json[0]")]


def check_evaluate_trial(ex: Example) -> None:
    from rfpflow.model import TrialResult

    kpis = ex.rfp.trial.kpis
    measurements = [Measurement(dt.date(2027, 2, 1), "acme", k.id, k.target) for k in kpis]
    result = ex.host.first("rfpflow_evaluate_trial", TrialResult, vendor_id="acme", measurements=measurements,
                           rfp=ex.rfp, context=ex.context)
    assert result is not None and result.vendor_id == "acme"
    assert result.passed and result.score == (100.0 if kpis else 0.0)


def check_award_ranking(ex: Example) -> None:
    result = ex.host.first("rfpflow_award_ranking", Ranking, ranking=ranking(), rfp=ex.rfp, context=ex.context)
    assert result is not None and result.description == "the builtin ranking, with points per 10,000"
    assert result.entries[0].breakdown == {"points_per_10k": 800000.0}


def check_decide_award(ex: Example) -> None:
    from rfpflow.model import AwardDecision

    decision = ex.host.first("rfpflow_decide_award", AwardDecision, ranking=ranking(), rfp=ex.rfp, context=ex.context)
    assert decision == AwardDecision("acme", "ranked first with 80.00 points")


def check_export(ex: Example) -> None:
    target = ex.tmp / "summary.txt"
    assert ex.host.first("rfpflow_export", Path, fmt="txt", target=target, context=ex.context) == target
    assert target.read_text(encoding="utf-8") == f"{ex.rfp.id}: {ex.rfp.title}\n"


def check_transition(ex: Example) -> None:
    from rfpflow.errors import RfpflowError

    friday = Transition("award confirm", Stage.AWARD_RECOMMENDED, Stage.AWARDED, "test", FIXED_NOW)
    assert ex.host.first("rfpflow_transition", Transition, transition=friday, context=ex.context) == friday
    saturday = make_context(ex.host, workspace=ex.workspace, rfp=ex.rfp)
    import attrs

    from rfpflow.context import Clock

    saturday = attrs.evolve(saturday, clock=Clock(FIXED_NOW + dt.timedelta(days=1)))
    with pytest.raises(RfpflowError) as refused:
        ex.host.first("rfpflow_transition", Transition, transition=friday, context=saturday)
    assert str(refused.value) == "plugin 'example': awards are confirmed on working days only"


def check_after_transition(ex: Example) -> None:
    moved = Transition("close", Stage.ISSUED, Stage.BIDS_CLOSED, "test", FIXED_NOW)
    assert ex.host.notify("rfpflow_after_transition", transition=moved, context=ex.context) == []
    assert (ex.workspace / "transitions.log").read_text(encoding="utf-8") == (
        "2027-01-01T00:00:00+00:00 issued -> bids-closed\n")


CHECKS: dict[str, Callable[[Example], None]] = {
    "rfpflow_register_commands": check_commands,
    "rfpflow_register_profiles": check_profiles,
    "rfpflow_register_screening_rules": check_screening_rules,
    "rfpflow_register_scoring_methods": check_scoring_methods,
    "rfpflow_register_kpi_presets": check_kpi_presets,
    "rfpflow_register_documents": check_documents,
    "rfpflow_template_dirs": check_template_dirs,
    "rfpflow_prepare_jinja_env": check_prepare_jinja_env,
    "rfpflow_validate_rfp": check_validate_rfp,
    "rfpflow_write_bid_workbook": check_write_bid_workbook,
    "rfpflow_read_bids": check_read_bids,
    "rfpflow_screen_bid": check_screen_bid,
    "rfpflow_due_diligence": check_due_diligence,
    "rfpflow_write_score_sheet": check_write_score_sheet,
    "rfpflow_read_scores": check_read_scores,
    "rfpflow_read_trial_data": check_read_trial_data,
    "rfpflow_evaluate_trial": check_evaluate_trial,
    "rfpflow_award_ranking": check_award_ranking,
    "rfpflow_decide_award": check_decide_award,
    "rfpflow_export": check_export,
    "rfpflow_transition": check_transition,
    "rfpflow_after_transition": check_after_transition,
}


@pytest.mark.parametrize("hook", sorted(EXAMPLES))
def test_the_example_runs(hook: str, tmp_path: Path) -> None:
    CHECKS[hook](Example(hook, tmp_path))
