"""The rfpflow hook contract: every decision point of an RFP cycle.

A plugin is a module (or object) with functions named like the hooks below and
decorated with ``@rfpflow.hookimpl``. rfpflow's own behaviour is implemented by
builtin plugins on exactly these hooks, registered ``trylast`` so that any
installed plugin wins. docs/hooks.md documents each hook with its signature.

Conventions
    * ``register_*`` hooks collect named items through a ``register`` callback;
      the host checks each item and remembers which plugin supplied it.
      A plugin registering a name a builtin also registers replaces the builtin.
    * ``firstresult`` hooks stop at the first non-None result; return ``None``
      for "not mine" (a file format you do not read, a method you do not own).
    * Arguments are only ever added to a published hook, never removed or
      renamed; :data:`HOOK_API_VERSION` says which contract this rfpflow has.
      A plugin may set ``RFPFLOW_HOOK_API = (major, minor)`` at module level:
      rfpflow skips it, with a recorded error, if the major version differs or
      the minor version is newer than its own.
    * A hookimpl may accept fewer arguments than the spec (pluggy passes only
      those it names) but never give one a default value: pluggy would not pass it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click
    import jinja2

    from rfpflow.context import RunContext
    from rfpflow.errors import Problem
    from rfpflow.model import (
        AwardDecision,
        Bid,
        GateResult,
        Ranking,
        Rfp,
        Transition,
        TrialResult,
    )
    from rfpflow.registry import (
        DocumentSpec,
        KpiPreset,
        Measurement,
        Profile,
        ScoringMethod,
        ScreeningRule,
    )

PROJECT_NAME = "rfpflow"

#: The version of this hook contract, ``(major, minor)``. The minor number
#: grows when hooks or hook arguments are added; the major number would grow
#: only if a published hook changed incompatibly.
#: 1.1 added rfpflow_award_ranking; 1.2 lets a price formula ask for ``options``, ``quality``
#: and ``rfp`` by naming them, and added ``Ranking.description``.
HOOK_API_VERSION: tuple[int, int] = (1, 2)

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


# --------------------------------------------------------------------------
# Start-up: commands, profiles, and what the other hooks can refer to by name
# --------------------------------------------------------------------------


@hookspec
def rfpflow_register_commands(cli: click.Group) -> None:
    """Add click commands to the ``rfpflow`` command line.

    Receives the top-level click group; call ``cli.add_command(...)``.
    Returns nothing; every plugin is called. Stage: CLI start-up, before the
    command line is parsed past the global options.
    """


@hookspec
def rfpflow_register_profiles(register: Callable[[Profile], None]) -> None:
    """Register named RFP starting points for ``rfpflow new --profile NAME``.

    Receives ``register``; call it with :class:`rfpflow.registry.Profile`
    records. Returns nothing; every plugin is called. Stage: ``new`` and
    ``validate`` (a definition names the profile it was made from).
    """


@hookspec
def rfpflow_register_screening_rules(register: Callable[[ScreeningRule], None]) -> None:
    """Register screening gate kinds that rfp.toml gates can name (``kind = "..."``).

    Receives ``register``; call it with :class:`rfpflow.registry.ScreeningRule`
    records. Returns nothing; every plugin is called. Stage: validation (the
    gate's kind and options are checked) and screening (the rule runs).
    """


@hookspec
def rfpflow_register_scoring_methods(register: Callable[[ScoringMethod], None]) -> None:
    """Register scoring methods (rankings, price formulas, award formulas) by name.

    Receives ``register``; call it with :class:`rfpflow.registry.ScoringMethod`
    records; rfp.toml chooses them by name (``[scoring] method = "topsis"``).
    Returns nothing; every plugin is called. Stage: validation, evaluation, award.
    """


@hookspec
def rfpflow_register_kpi_presets(register: Callable[[KpiPreset], None]) -> None:
    """Register named sets of trial-run KPIs (``[trial] preset = "hotline"``).

    Receives ``register``; call it with :class:`rfpflow.registry.KpiPreset`.
    Returns nothing; every plugin is called. Stage: validation, trial run.
    """


@hookspec
def rfpflow_register_documents(register: Callable[[DocumentSpec], None]) -> None:
    """Register documents rendered into ``out/`` as stages complete.

    Receives ``register``; call it with :class:`rfpflow.registry.DocumentSpec`
    (name, template, the stage after which it is rendered, per-vendor or not).
    Registering a builtin document's name replaces it. Returns nothing; every
    plugin is called. Stage: every stage that renders documents.
    """


@hookspec
def rfpflow_template_dirs() -> list[Path] | None:
    """Return folders of Jinja templates this plugin ships (or None).

    Searched after the workspace's ``templates/`` and before the defaults, so
    an organisation can override a default template or extend it with
    ``{% extends "default:NAME" %}``. Every plugin is called; results are
    concatenated. Stage: document rendering.
    """


@hookspec
def rfpflow_prepare_jinja_env(env: jinja2.Environment, rfp: Rfp) -> None:
    """Adjust the Jinja environment (filters, globals) before documents render.

    Receives the environment and the RFP; change ``env`` in place. Returns
    nothing; every plugin is called. Stage: document rendering.
    """


# --------------------------------------------------------------------------
# Request: defining and issuing the RFP
# --------------------------------------------------------------------------


@hookspec
def rfpflow_validate_rfp(rfp: Rfp, context: RunContext) -> list[Problem] | None:
    """Check a loaded RFP definition and return the problems found (or None).

    Receives the :class:`rfpflow.model.Rfp` (already structurally valid) and
    the run context. Returns a list of :class:`rfpflow.errors.Problem`; a
    problem with ``severity="warning"`` is shown but does not block. Every
    plugin is called and all problems are reported together. Stage:
    ``validate``, ``issue``, ``amend`` and every command that loads rfp.toml.
    """


@hookspec(firstresult=True)
def rfpflow_write_bid_workbook(rfp: Rfp, target: Path, context: RunContext) -> Path | None:
    """Write the bid-response workbook vendors fill in, at ``target``.

    Returns the path written, or None to leave it to another plugin. The first
    non-None result wins. Stage: ``issue`` (and ``amend``).
    """


# --------------------------------------------------------------------------
# Bids and screening
# --------------------------------------------------------------------------


@hookspec(firstresult=True)
def rfpflow_read_bids(source: Path, rfp: Rfp, context: RunContext) -> list[Bid] | None:
    """Read the bids in one file (usually one vendor workbook).

    Returns a list of :class:`rfpflow.model.Bid`, or None when the file is not
    this plugin's format. Raise :class:`rfpflow.errors.InputFileError` with
    every problem found (file, sheet, cell) to refuse the file; nothing of it
    is stored then. The first non-None result wins. Stage: ``bids import``.

    A batch of 16 files or more may be shared with a forked worker process
    (:mod:`rfpflow.spreadsheets.batch`), but only when every plugin implementing this
    hook sets ``RFPFLOW_READS_IN_WORKERS = True`` in its module: set it only
    if reading a file keeps no state between calls and reports nothing but
    the bids returned or the error raised.
    """


@hookspec
def rfpflow_screen_bid(bid: Bid, bids: Sequence[Bid], rfp: Rfp, context: RunContext) -> list[GateResult] | None:
    """Screen one bid beyond the gates declared in rfp.toml.

    Receives the bid, every bid of the cycle (for relative checks) and the
    RFP. Returns a list of :class:`rfpflow.model.GateResult` (or None).
    Every plugin is called; results are concatenated. Stage: ``screen``.
    """


@hookspec
def rfpflow_due_diligence(bid: Bid, rfp: Rfp, context: RunContext) -> list[GateResult] | None:
    """Check a vendor against outside sources (registries, sanctions lists).

    Returns a list of :class:`rfpflow.model.GateResult` comparing what the
    vendor declared with what the source says (or None). Every plugin is
    called; results are concatenated. Stage: ``screen``.
    """


# --------------------------------------------------------------------------
# Evaluation, trial run and award
# --------------------------------------------------------------------------


@hookspec(firstresult=True)
def rfpflow_write_score_sheet(
    rfp: Rfp, evaluator_id: str, vendor_ids: Sequence[str], target: Path, context: RunContext,
    vendor_names: Mapping[str, str]
) -> Path | None:
    """Write one evaluator's score sheet (criteria × vendors) at ``target``.

    ``vendor_names`` maps each of ``vendor_ids`` to what evaluators see over its columns: the
    vendor's legal name, or its blind code when evaluation is blind. (An implementation may leave
    the argument out.)

    Returns the path written, or None. The first non-None result wins.
    Stage: ``evaluate sheets``.
    """


@hookspec(firstresult=True)
def rfpflow_read_scores(source: Path, rfp: Rfp, context: RunContext) -> list[dict[str, Any]] | None:
    """Read an evaluator's returned score sheet.

    Returns a list of mappings with keys ``evaluator``, ``vendor``,
    ``criterion``, ``score``, ``comment`` and ``cell``, or None when the file
    is not this plugin's format. The first non-None result wins.
    Stage: ``evaluate import``.
    """


@hookspec(firstresult=True)
def rfpflow_read_trial_data(source: Path, rfp: Rfp, context: RunContext) -> list[Measurement] | None:
    """Read trial-run measurements (date, vendor, KPI, value) from one file.

    Returns a list of :class:`rfpflow.registry.Measurement`, or None when the
    file is not this plugin's format. The first non-None result wins.
    Stage: ``trial import``.
    """


@hookspec(firstresult=True)
def rfpflow_evaluate_trial(
    vendor_id: str, measurements: Sequence[Measurement], rfp: Rfp, context: RunContext
) -> TrialResult | None:
    """Turn one vendor's trial measurements into KPI attainment and a verdict.

    Returns a :class:`rfpflow.model.TrialResult`. The first non-None result
    wins (the builtin plugin applies the KPIs of rfp.toml). Stage: ``trial evaluate``.
    """


@hookspec(firstresult=True)
def rfpflow_award_ranking(ranking: Ranking, rfp: Rfp, context: RunContext) -> Ranking | None:
    """Replace the final award ranking with one computed by the organisation's own rule.

    Receives the ranking rfpflow computed (``[scoring] award`` weights, tie-break
    applied; each entry's breakdown holds ``evaluation_score``, ``price_score``
    and ``trial_score`` where they apply). Return a new
    :class:`rfpflow.model.Ranking` — e.g. QCBS, which compares only technically
    qualified firms and takes its price benchmark among them — or None to keep
    it. The first non-None result wins. Stage: ``award``, before
    ``rfpflow_decide_award``. Added in hook API 1.1.
    """


@hookspec(firstresult=True)
def rfpflow_decide_award(ranking: Ranking, rfp: Rfp, context: RunContext) -> AwardDecision | None:
    """Choose the vendor to recommend from the final ranking.

    Returns an :class:`rfpflow.model.AwardDecision`. The first non-None
    result wins (the builtin follows the ranking). Stage: ``award``.
    """


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------


@hookspec(firstresult=True)
def rfpflow_export(fmt: str, target: Path, context: RunContext) -> Path | None:
    """Export the cycle in format ``fmt`` (``xlsx``, ``json``, ``ocds``, ...) to ``target``.

    Returns the path written, or None when this plugin does not produce
    ``fmt``. The first non-None result wins. Stage: ``export``, any time.
    """


# --------------------------------------------------------------------------
# Stage transitions
# --------------------------------------------------------------------------


@hookspec(firstresult=True)
def rfpflow_transition(transition: Transition, context: RunContext) -> Transition | None:
    """Approve a stage transition; wrap it to inspect, veto or time it.

    Called inside the command's transaction, after the stage's work is done
    and before anything is committed. Implement it as a new-style wrapper
    (``@hookimpl(wrapper=True)``, ``result = yield``) to run code around it;
    raise to veto: the error names your plugin and nothing is stored.
    Returns the approved transition (the builtin returns it unchanged); the
    first non-None result wins.
    Stage: every transition.
    """


@hookspec
def rfpflow_after_transition(transition: Transition, context: RunContext) -> None:
    """Observe a transition once it is committed (notify people, sync systems).

    Returns nothing; every plugin is called. An observer that raises is
    reported as a warning naming the plugin: the transition stays done.
    Stage: every transition.
    """
