"""The consultant's kit: every call into a plugin contained and named, tracing, names, precedence.

Each failure the issue measured as uncontained is run here on the flagship cycle, in process,
through :func:`rfpflow.testing.run_cli` over a host holding the builtins and the plugin under
test: one clear message, exit 2, and the stored cycle exactly as before.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

import pytest

from rfpflow.plugins import PluginHost
from rfpflow.testing import CliResult, make_host, plugin_name, run_cli
from tests.conftest import clean_env
from tests.hostile.harness import FlagshipStages, normalised, snapshot, step_args

STEP = {"bids import": 1, "close": 2, "screen": 3, "evaluate rank": 8, "award": 12}


def plugin(name: str, source: str) -> tuple[str, types.ModuleType]:
    """A real plugin module made from source, named as an entry point would name it."""
    module = types.ModuleType(f"kit_{name.replace('-', '_')}")
    exec(compile(textwrap.dedent(source), f"<plugin {name}>", "exec"), module.__dict__)
    return name, module


@pytest.fixture(scope="module")
def stages(tmp_path_factory: pytest.TempPathFactory) -> FlagshipStages:
    return FlagshipStages(tmp_path_factory.mktemp("kit-stages"))


def run_step(stages: FlagshipStages, tmp_path: Path, step: str, host: PluginHost,
             env: dict[str, str] | None = None) -> tuple[CliResult, bool, Path]:
    """Run one flagship step over ``host``: (result, whether the store is unchanged, workspace)."""
    workspace = stages.copy_before(STEP[step], tmp_path / "ws")
    before = normalised(snapshot(workspace))
    result = run_cli(step_args(workspace, STEP[step]), host=host, env=env)
    return result, normalised(snapshot(workspace)) == before, workspace


FORMULA = '''
from rfpflow import hookimpl
from rfpflow.registry import ScoringMethod

def formula(prices, max_points):
    {body}

@hookimpl
def rfpflow_register_scoring_methods(register):
    register(ScoringMethod("lowest-ratio", "price", "a replacement", formula))
'''


def test_a_price_formula_raising_is_named_and_changes_nothing(stages: FlagshipStages, tmp_path: Path) -> None:
    host = make_host(plugin("bank", FORMULA.format(body="return [max_points / 0 for p in prices]")))
    result, unchanged, _ = run_step(stages, tmp_path, "award", host)
    assert (result.exit_code, result.stderr) == (
        2, "error: plugin 'bank' failed in price formula 'lowest-ratio': ZeroDivisionError: float division by zero\n")
    assert unchanged


def test_a_slow_price_formula_is_stopped_by_the_time_limit(stages: FlagshipStages, tmp_path: Path) -> None:
    host = make_host(plugin("bank", FORMULA.format(body="import time; time.sleep(30)")))
    result, unchanged, _ = run_step(stages, tmp_path, "award", host, env={"RFPFLOW_PLUGIN_TIMEOUT": "1"})
    assert (result.exit_code, result.stderr) == (
        2, "error: plugin 'bank' did not finish price formula 'lowest-ratio' within 1 s and was stopped; "
           "nothing was changed (limit: RFPFLOW_PLUGIN_TIMEOUT)\n")
    assert unchanged


def test_a_gate_returning_a_wrong_type_names_the_plugin(stages: FlagshipStages, tmp_path: Path) -> None:
    host = make_host(plugin("bank-gate", '''
        from rfpflow import hookimpl
        from rfpflow.registry import ScreeningRule

        def check(bid, gate, bids, rfp, context):
            return "pass"

        @hookimpl
        def rfpflow_register_screening_rules(register):
            register(ScreeningRule("min_years", "replaced", check, {"years": int}))
    '''))
    result, unchanged, _ = run_step(stages, tmp_path, "screen", host)
    assert (result.exit_code, result.stderr) == (
        2, "error: plugin 'bank-gate' returned str from gate 'years' (min_years) (vendor anxun), "
           "expected GateResult\n")
    assert unchanged


def test_an_observer_failing_is_reported_by_every_command(stages: FlagshipStages, tmp_path: Path) -> None:
    host = make_host(plugin("notify", '''
        from rfpflow import hookimpl

        @hookimpl
        def rfpflow_after_transition(transition, context):
            raise RuntimeError("the mail server is down")
    '''))
    result, unchanged, _ = run_step(stages, tmp_path, "close", host)
    assert result.exit_code == 0 and not unchanged  # the transition stays done
    assert ("warning: plugin 'notify' failed in rfpflow_after_transition: RuntimeError: the mail server is down\n"
            in result.stderr)


def test_a_reader_raising_names_the_file_and_stores_nothing(stages: FlagshipStages, tmp_path: Path) -> None:
    host = make_host(plugin("legacy", '''
        from rfpflow import hookimpl

        @hookimpl
        def rfpflow_read_bids(source, rfp, context):
            if source.name.startswith("huaxin"):
                raise KeyError("Sheet1")
            return None
    '''))
    result, unchanged, workspace = run_step(stages, tmp_path, "bids import", host)
    huaxin = next(p.name for p in sorted((workspace / "bids").iterdir()) if p.name.startswith("huaxin"))
    assert (result.exit_code, result.stderr) == (
        2, f"error: plugin 'legacy' failed in rfpflow_read_bids (file {huaxin}): KeyError: 'Sheet1'\n")
    assert unchanged


def test_tracing_shows_every_call_with_plugin_duration_and_result(stages: FlagshipStages, tmp_path: Path) -> None:
    host = make_host(plugin("bank", FORMULA.format(body="return [max_points * min(prices) / p for p in prices]")))
    result, _, _ = run_step(stages, tmp_path, "award", host, env={"RFPFLOW_TRACE_PLUGINS": "1"})
    assert result.exit_code == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("rfpflow trace: ")]
    calls = [TRACE.fullmatch(line) for line in lines]
    assert lines and all(calls), lines
    shapes = {(m[1], m[2], m[4]) for m in calls if m}
    # the two vendors that passed the trial run
    assert ("bank", "price formula 'lowest-ratio'", "list[2 float]") in shapes
    assert ("rfpflow.builtins.transitions", "rfpflow_transition", "Transition") in shapes
    assert ("rfpflow.builtins.award", "rfpflow_decide_award", "AwardDecision") in shapes


TRACE = re.compile(r"rfpflow trace: (\S+) (.+?) (\d+\.\d) ms -> (.+)")


def test_an_unknown_disabled_plugin_is_an_error_with_a_suggestion() -> None:
    host = make_host(plugin("acme", "from rfpflow import hookimpl\n"))
    result = run_cli(["--disable-plugin", "acmee", "plugins"], host=host)
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", "error: --disable-plugin: no plugin named 'acmee' (did you mean 'acme'?); "
               "`rfpflow plugins` lists them\n")
    assert run_cli(["--disable-plugin", "rfpflow.builtins.pdf", "plugins"], host=host).exit_code == 0


READER = '''
from rfpflow import hookimpl

@hookimpl
def rfpflow_read_bids(source, rfp, context):
    return None
'''


def test_first_result_conflicts_are_warned_listed_and_chosen_with_prefer(tmp_path: Path) -> None:
    host = make_host(plugin("alpha", READER), plugin("beta", READER))
    listing = run_cli(["plugins"], host=host)
    assert listing.exit_code == 0
    conflict = ("plugins 'beta' and 'alpha' both answer rfpflow_read_bids; 'beta' is asked first "
                "(by the default precedence; choose with [plugins] prefer = [...] in rfp.toml)")
    assert listing.stderr == f"warning: {conflict}\n"
    assert listing.stdout.endswith(f"\nFirst-result conflicts:\n  {conflict}\n")

    assert run_cli(["new", tmp_path / "ws"], host=host).exit_code == 0
    definition = tmp_path / "ws" / "rfp.toml"
    definition.write_text(definition.read_text(encoding="utf-8") + '\n[plugins]\nprefer = ["alpha"]\n',
                          encoding="utf-8")
    chosen = run_cli(["-C", tmp_path / "ws", "plugins"], host=make_host(plugin("alpha", READER),
                                                                       plugin("beta", READER)))
    assert chosen.stderr == ""
    assert chosen.stdout.endswith("\nFirst-result conflicts:\n  plugins 'alpha' and 'beta' both answer "
                                  "rfpflow_read_bids; 'alpha' is asked first (as [plugins] prefer says)\n")
    valid = run_cli(["-C", tmp_path / "ws", "validate"], host=make_host())
    assert valid.exit_code == 0, valid.stderr
    definition.write_text(definition.read_text(encoding="utf-8").replace('prefer = ["alpha"]', 'prefer = "alpha"'),
                          encoding="utf-8")
    invalid = run_cli(["-C", tmp_path / "ws", "validate"], host=make_host())
    assert invalid.exit_code == 2
    assert "plugins.prefer: must be a list of text, got" in invalid.stderr


def test_plugins_lists_every_registered_name_with_its_supplier_and_what_it_overrides() -> None:
    host = make_host(plugin("bank", FORMULA.format(body="return list(prices)")))
    result = run_cli(["plugins"], host=host)
    assert result.exit_code == 0
    bank = result.stdout.split("\nbank  (?)\n")[1].split("\n\n")[0]
    assert bank.splitlines() == ["  rfpflow_register_scoring_methods",
                                 "  registers price formula lowest-ratio  (overrides rfpflow.builtins.scoring)"]
    assert "  registers gate kind min_years\n" in result.stdout
    assert "  registers ranking method topsis\n" in result.stdout
    assert "  registers profile generic\n" in result.stdout
    assert "  registers document award-recommendation\n" in result.stdout


def test_plugins_dir_loads_unpackaged_modules(tmp_path: Path) -> None:
    folder = tmp_path / "dev"
    folder.mkdir()
    (folder / "bank_dev.py").write_text(FORMULA.format(body="return list(prices)").replace(
        '"lowest-ratio"', '"bank-ratio"'), encoding="utf-8")
    (folder / "_private.py").write_text("raise SystemExit('never imported')\n", encoding="utf-8")
    env = clean_env()
    env["RFPFLOW_LOAD_PLUGINS"] = ""
    done = subprocess.run([sys.executable, "-m", "rfpflow", "--plugins-dir", str(folder), "plugins"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "\nbank_dev  (?)\n  rfpflow_register_scoring_methods\n  registers price formula bank-ratio\n" in done.stdout
    missing = subprocess.run([sys.executable, "-m", "rfpflow", "--plugins-dir", str(tmp_path / "nope"), "plugins"],
                             capture_output=True, text=True, env=env, timeout=120)
    assert (missing.returncode, missing.stderr) == (2, f"error: --plugins-dir {tmp_path / 'nope'}: no such folder\n")


def test_fixtures_name_plugins_as_the_command_line_does(plugin_site: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    site = plugin_site("rfpflow-acme", {"rfpflow_acme_kit": "from rfpflow import hookimpl\n"},
                       {"acme": "rfpflow_acme_kit"})
    monkeypatch.syspath_prepend(str(site))
    import importlib

    module = importlib.import_module("rfpflow_acme_kit")
    assert plugin_name(module) == "acme"
    assert "acme" in {i.name for i in make_host(module).plugin_infos()}
    assert plugin_name(types.ModuleType("not_installed")) == "not_installed"


# ---------------------------------------------------------------------------
# The richer contract (hook API 1.2), and plugins written against 1.1
# ---------------------------------------------------------------------------


def test_a_price_formula_written_for_hook_api_1_1_keeps_working(stages: FlagshipStages, tmp_path: Path) -> None:
    old = plugin("old", "RFPFLOW_HOOK_API = (1, 1)\n" + FORMULA.format(
        body="return [max_points * min(prices) / p for p in prices]"))
    result, unchanged, _ = run_step(stages, tmp_path, "award", make_host(old))
    assert result.exit_code == 0, result.stderr
    assert not unchanged


def test_a_price_formula_receives_its_options_and_the_quality_scores(stages: FlagshipStages, tmp_path: Path) -> None:
    new = plugin("bank", '''
        RFPFLOW_HOOK_API = (1, 2)
        from rfpflow import hookimpl
        from rfpflow.registry import ScoringMethod

        SEEN = []

        def formula(prices, max_points, options, quality):
            SEEN.append((len(prices), dict(options), list(quality)))
            return [max_points * min(prices) / p for p in prices]

        @hookimpl
        def rfpflow_register_scoring_methods(register):
            register(ScoringMethod("lowest-ratio", "price", "with options", formula))
    ''')
    result, _, _ = run_step(stages, tmp_path, "award", make_host(new))
    assert result.exit_code == 0, result.stderr
    seen = new[1].SEEN
    assert seen and all(n == len(quality) for n, _options, quality in seen)
    assert all(0 <= q <= 100 for _, _, quality in seen for q in quality)
    assert any(q > 0 for _, _, quality in seen for q in quality)


def test_a_custom_award_ranking_keeps_its_method_and_breakdown(stages: FlagshipStages, tmp_path: Path) -> None:
    vfm = plugin("vfm", '''
        import attrs
        from rfpflow import hookimpl

        @hookimpl
        def rfpflow_award_ranking(ranking, rfp, context):
            entries = [attrs.evolve(e, breakdown={"value_for_money": round(e.total_score / 2, 1)})
                       for e in ranking.entries]
            return attrs.evolve(ranking, method="value-for-money", entries=entries,
                                description="quality points per 10,000 CNY of price")
    ''')
    result, _, workspace = run_step(stages, tmp_path, "award", make_host(vfm))
    assert result.exit_code == 0, result.stderr
    text = next((workspace / "out").glob("*award-recommendation*.md")).read_text(encoding="utf-8")
    assert "排名方法: value-for-money — quality points per 10,000 CNY of price" in text
    assert "Final score =" not in text
    assert ("\n- 成都新锐智能客服有限公司: value\\_for\\_money 43.6\n"
            "- 上海华信客户服务有限公司: value\\_for\\_money 43.4\n") in text


def test_run_cli_prints_exactly_what_the_command_line_prints(tmp_path: Path) -> None:
    inproc = run_cli(["new", tmp_path / "a"])
    done = subprocess.run([sys.executable, "-m", "rfpflow", "new", str(tmp_path / "b")], capture_output=True,
                          text=True, env={**clean_env(), "RFPFLOW_LOAD_PLUGINS": ""}, timeout=120)
    assert (inproc.exit_code, inproc.stdout.replace(str(tmp_path / "a"), "X")) == (
        done.returncode, done.stdout.replace(str(tmp_path / "b"), "X"))
    assert os.environ.get("RFPFLOW_TRACE_PLUGINS") is None


def test_plugins_scoped_to_different_profiles_do_not_conflict() -> None:
    scoped = 'RFPFLOW_PROFILES = ("{0}",)\n' + READER
    host = make_host(plugin("alpha", scoped.format("alpha-profile")), plugin("beta", scoped.format("beta-profile")))
    assert host.conflicts() == []
    overlapping = make_host(plugin("alpha", scoped.format("shared")), plugin("beta", scoped.format("shared")))
    assert [c.plugins for c in overlapping.conflicts()] == [("beta", "alpha")]
    unscoped = make_host(plugin("alpha", scoped.format("alpha-profile")), plugin("beta", READER))
    assert [c.hook for c in unscoped.conflicts()] == ["rfpflow_read_bids"]


def test_an_observer_failing_is_reported_by_rfpflow_run_too(tmp_path: Path) -> None:
    from tests.hostile.harness import FLAGSHIP

    host = make_host(plugin("notify", '''
        from rfpflow import hookimpl

        @hookimpl
        def rfpflow_after_transition(transition, context):
            if transition.command == "close":
                raise RuntimeError("the mail server is down")
    '''))
    result = run_cli(["run", FLAGSHIP, "--out", tmp_path / "run"], host=host)
    assert result.exit_code == 0, result.stderr
    warned = [line.strip() for line in result.stdout.splitlines() if "warning: plugin 'notify'" in line]
    assert warned == ["warning: plugin 'notify' failed in rfpflow_after_transition: RuntimeError: "
                      "the mail server is down"]
