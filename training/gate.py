"""The promotion gate: should this candidate replace the champion?

Both models are scored on the *same* fresh holdout. The rules (``training.gate_rules``)
run in a fixed order and each one leaves a typed result, passed or failed, because the
person reading a rejected run needs to see every rule that held it back, not only the
first. Differences are oriented so that positive always means "candidate better", also for
loss metrics.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from training.bootstrap import paired_bootstrap
from training.compute import limited_threads
from training.data import DataError
from training.gate_rules import (
    champion_failed,
    compare_to_champion,
    judge_floor,
    judge_output_checks,
    note_champion_floor,
    note_no_champion,
)
from training.metrics import encode, metric_names, predict_outputs, weighted_metric
from training.output_checks import check_predicted
from training.slices import judge_slice_rule, judge_slices
from training.types import Decision, Outputs, RuleResult

if TYPE_CHECKING:
    from base.settings import ModelConfig

__all__ = ["Decision", "decide_promotion"]


def decide_promotion(
    task: str,
    config: "ModelConfig",
    candidate_model: Any,
    champion_model: Any | None,
    holdout: pd.DataFrame,
    features: list[str],
    champion_version: str | None,
) -> Decision:
    """Score candidate (and champion) on the holdout and apply the gate rules in order.

    Scoring runs within the config's thread cap (``compute.threads``).
    """
    with limited_threads(config):
        return _decide(task, config, candidate_model, champion_model, holdout, features, champion_version)


def _decide(
    task: str,
    config: "ModelConfig",
    candidate_model: Any,
    champion_model: Any | None,
    holdout: pd.DataFrame,
    features: list[str],
    champion_version: str | None,
) -> Decision:
    metric = config.primary_metric
    target = config.data.target_column
    rows = holdout[holdout[target].notna()]
    if rows.empty:
        raise DataError(config.data_glob, f"holdout has no rows with a value in {target!r}")
    y = rows[target].to_numpy()
    cand_outputs = predict_outputs(task, candidate_model, rows[features])
    cand_metrics = _all_metrics(task, y, cand_outputs)
    rules: list[RuleResult] = []
    if config.gate.floor is not None:
        rules.append(judge_floor(metric, cand_metrics[metric], config.gate.floor))
    output_check = check_predicted(task, cand_outputs, config.constraints)
    rules.append(judge_output_checks(output_check.passed, output_check.problems))
    base: dict[str, Any] = dict(
        metric=metric,
        candidate_score=cand_metrics[metric],
        champion_version=champion_version,
        output_check=output_check,
        candidate_metrics=cand_metrics,
    )
    if champion_model is None:
        rules.append(note_no_champion(config.name))
        return Decision(_passes(rules), rules, champion_score=None, bootstrap=None, champion_metrics=None, **base)
    try:
        champ_outputs = predict_outputs(task, champion_model, rows[_champion_columns(champion_model, features)])
    except Exception as exc:  # any failure means we cannot compare, so we must not promote
        rules.append(champion_failed(champion_version, exc))
        return Decision(False, rules, champion_score=None, bootstrap=None, champion_metrics=None, **base)
    champ_metrics = _all_metrics(task, y, champ_outputs)
    below = False
    if config.gate.floor is not None:  # the champion's score joins the floor's line
        rules[0], below = note_champion_floor(rules[0], metric, champ_metrics[metric], champion_version)
    bootstrap = paired_bootstrap(
        task,
        metric,
        y,
        cand_outputs,
        champ_outputs,
        config.gate.bootstrap.resamples,
        config.gate.bootstrap.confidence,
        config.gate.bootstrap.seed,
    )
    rules += compare_to_champion(config, cand_metrics[metric], champ_metrics[metric], champion_version, bootstrap)
    slices = judge_slices(task, y, rows, cand_outputs, champ_outputs, config) if config.gate.slices else []
    if config.gate.slices:
        rules.append(judge_slice_rule(slices, config.gate.min_slice_rows))
    return Decision(
        slices=slices,
        promote=_passes(rules),
        rules=rules,
        champion_score=champ_metrics[metric],
        bootstrap=bootstrap,
        champion_metrics=champ_metrics,
        champion_below_floor=below,
        **base,
    )


def _passes(rules: list[RuleResult]) -> bool:
    """Every deciding rule passed; informational ones (``passed`` None) do not count."""
    return not any(rule.failed for rule in rules)


def _all_metrics(task: str, y: np.ndarray, outputs: Outputs) -> dict[str, float]:
    y_enc, (out,) = encode(task, y, [outputs])
    return {m: weighted_metric(task, m, y_enc, out) for m in metric_names(task)}


def _champion_columns(champion_model: Any, features: list[str]) -> list[str]:
    """The champion reads the columns it was trained on, which may differ from the candidate's."""
    names = getattr(champion_model, "feature_names_in_", None)
    return [str(c) for c in names] if names is not None else list(features)
