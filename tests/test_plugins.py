"""Plugin loading with real distributions on disk, discovered through entry points."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rfpflow import hookimpl
from rfpflow.errors import PluginError
from rfpflow.registry import ScoringMethod
from rfpflow.testing import make_host

GOOD = """
from rfpflow import hookimpl
from rfpflow.model import GateResult

@hookimpl
def rfpflow_screen_bid(bid, bids, rfp, context):
    return [GateResult(bid.vendor_id, "acme-check", "pass", "fine")]

@hookimpl
def rfpflow_register_profiles(register):
    from rfpflow.registry import Profile
    register(Profile("acme-profile", "Acme", "Acme's rules", {"en": "id = 'x'"}))
"""

BROKEN = """
import this_module_does_not_exist
"""

TYPO = """
from rfpflow import hookimpl

@hookimpl
def rfpflow_screen_bids(bid, rfp):
    return []
"""

TOO_NEW = """
from rfpflow import hookimpl
RFPFLOW_HOOK_API = (1, 99)

@hookimpl
def rfpflow_after_transition(transition, context):
    pass
"""


def _plugins_json(cli, site: Path, *args: str, env: dict[str, str] | None = None) -> list[dict]:
    result = cli(*args, "plugins", "--json", pythonpath=[site], env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_installed_plugin_is_listed_with_version_and_hooks(cli, plugin_site) -> None:
    site = plugin_site("acme-rfp", {"acme_rfp": GOOD}, {"acme": "acme_rfp"}, version="2.3.1")
    listed = {p["name"]: p for p in _plugins_json(cli, site)}
    acme = listed["acme"]
    assert acme["version"] == "2.3.1"
    assert acme["distribution"] == "acme-rfp"
    assert acme["builtin"] is False
    assert acme["error"] is None
    assert acme["hooks"] == ["rfpflow_register_profiles", "rfpflow_screen_bid"]
    assert listed["rfpflow.builtins.screening"]["builtin"] is True
    assert "rfpflow_register_screening_rules" in listed["rfpflow.builtins.screening"]["hooks"]


def test_plugin_profile_is_usable_by_new(cli, plugin_site, tmp_path: Path) -> None:
    site = plugin_site("acme-rfp", {"acme_rfp": GOOD}, {"acme": "acme_rfp"})
    result = cli("new", str(tmp_path / "w"), "--profile", "acme-profile", pythonpath=[site])
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "w" / "rfp.toml").read_text() == "id = 'x'"


def test_broken_plugin_is_reported_not_fatal(cli, plugin_site) -> None:
    plugin_site("acme-rfp", {"acme_rfp": GOOD}, {"acme": "acme_rfp"})
    site = plugin_site("broken-rfp", {"broken_rfp": BROKEN}, {"broken": "broken_rfp"}, version="0.1")
    result = cli("plugins", "--json", pythonpath=[site])
    assert result.returncode == 0
    listed = {p["name"]: p for p in json.loads(result.stdout)}
    assert "No module named 'this_module_does_not_exist'" in listed["broken"]["error"]
    assert listed["broken"]["version"] == "0.1"
    assert listed["acme"]["error"] is None  # the good one still loads
    assert "plugin 'broken' not loaded" in result.stderr
    # and the human-readable listing says so too
    table = cli("plugins", pythonpath=[site])
    assert "FAILED: ModuleNotFoundError" in table.stdout


def test_strict_plugins_turns_a_load_failure_into_an_error(cli, plugin_site) -> None:
    site = plugin_site("broken-rfp", {"broken_rfp": BROKEN}, {"broken": "broken_rfp"})
    result = cli("--strict-plugins", "plugins", pythonpath=[site])
    assert result.returncode == 2
    assert "plugin 'broken' failed to load" in result.stderr
    assert "Traceback" not in result.stderr


def test_misspelled_hook_is_an_error_naming_the_plugin(cli, plugin_site) -> None:
    site = plugin_site("typo-rfp", {"typo_rfp": TYPO}, {"typo": "typo_rfp"})
    listed = {p["name"]: p for p in _plugins_json(cli, site)}
    error = listed["typo"]["error"]
    assert "rfpflow_screen_bids (did you mean rfpflow_screen_bid?)" in error


def test_plugin_for_a_newer_hook_api_is_skipped(cli, plugin_site) -> None:
    site = plugin_site("new-rfp", {"new_rfp": TOO_NEW}, {"newer": "new_rfp"})
    listed = {p["name"]: p for p in _plugins_json(cli, site)}
    assert "needs hook API (1, 99)" in listed["newer"]["error"]
    assert listed["newer"]["hooks"] == []


def test_allow_list_and_block_list(cli, plugin_site, tmp_path: Path) -> None:
    names = lambda plugins: {p["name"] for p in plugins if not p["builtin"]}  # noqa: E731
    # Whatever else is installed in this environment (an organisation plugin, say) is listed
    # before our two distributions exist; every expectation below is relative to it.
    installed = names(_plugins_json(cli, tmp_path / "empty-site"))
    assert not installed & {"acme", "other"}
    plugin_site("acme-rfp", {"acme_rfp": GOOD}, {"acme": "acme_rfp"})
    site = plugin_site("other-rfp", {"other_rfp": GOOD}, {"other": "other_rfp"})
    assert names(_plugins_json(cli, site)) == installed | {"acme", "other"}
    assert names(_plugins_json(cli, site, env={"RFPFLOW_LOAD_PLUGINS": "acme"})) == {"acme"}
    assert names(_plugins_json(cli, site, env={"RFPFLOW_LOAD_PLUGINS": "other-rfp"})) == {"other"}
    assert names(_plugins_json(cli, site, env={"RFPFLOW_LOAD_PLUGINS": ""})) == set()
    assert names(_plugins_json(cli, site, "--disable-plugin", "acme")) == installed | {"other"}
    assert names(_plugins_json(cli, site, env={"RFPFLOW_DISABLE_PLUGINS": "other"})) == installed | {"acme"}


def test_block_list_in_workspace_configuration(cli, plugin_site, workspace: Path) -> None:
    site = plugin_site("acme-rfp", {"acme_rfp": GOOD}, {"acme": "acme_rfp"})
    text = (workspace / "rfp.toml").read_text()
    (workspace / "rfp.toml").write_text(text + '\n[plugins]\ndisable = ["acme"]\n')
    listed = _plugins_json(cli, site, "-C", str(workspace))
    assert "acme" not in {p["name"] for p in listed}
    assert cli("-C", str(workspace), "validate", pythonpath=[site]).returncode == 0


def test_builtins_can_be_blocked(cli, workspace: Path) -> None:
    result = cli("-C", str(workspace), "--disable-plugin", "rfpflow.builtins.screening", "validate")
    assert result.returncode == 2
    assert "unknown gate kind 'certification'" in result.stderr


class _WeightedSumOverride:
    @hookimpl
    def rfpflow_register_scoring_methods(self, register):
        register(ScoringMethod("weighted-sum", "ranking", "ours", lambda *a, **k: None))


class _AnotherOverride(_WeightedSumOverride):
    pass


def test_installed_registration_replaces_the_builtin_one() -> None:
    host = make_host(_WeightedSumOverride())
    methods = host.scoring_methods()
    assert methods["weighted-sum"].description == "ours"
    assert methods.suppliers["weighted-sum"] == "_WeightedSumOverride"
    assert ("weighted-sum", "_WeightedSumOverride", "rfpflow.builtins.scoring") in methods.overridden


def test_two_plugins_registering_one_name_is_an_error_naming_both() -> None:
    host = make_host(_WeightedSumOverride(), _AnotherOverride())
    with pytest.raises(PluginError, match=r"both register the scoring method 'weighted-sum'"):
        host.scoring_methods()


class _WrongType:
    @hookimpl
    def rfpflow_validate_rfp(self, rfp, context):
        return "not a list"


def test_wrong_return_type_names_the_plugin(rfpflow_context, workspace: Path) -> None:
    from rfpflow.definition import check_rfp

    context = rfpflow_context(make_host(_WrongType()))
    with pytest.raises(PluginError, match="plugin '_WrongType' returned str from rfpflow_validate_rfp"):
        check_rfp(workspace / "rfp.toml", context=context)


class _Raises:
    @hookimpl
    def rfpflow_validate_rfp(self, rfp, context):
        raise KeyError("boom")


def test_exception_in_a_plugin_names_it(rfpflow_context, workspace: Path) -> None:
    from rfpflow.definition import check_rfp

    with pytest.raises(PluginError, match=r"plugin '_Raises' failed in rfpflow_validate_rfp: KeyError"):
        check_rfp(workspace / "rfp.toml", context=rfpflow_context(make_host(_Raises())))
