"""The promotion gate: should this candidate replace the champion?

Both models are scored on the *same* fresh holdout. The rules run in a fixed order and
each one leaves a reason, passed or failed, because the person reading a rejected run
needs to see every rule that held it back, not only the first. Differences are oriented
so that positive always means "candidate better", also for loss metrics.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from training.compute import limited_threads
from training.data import DataError
from training.metrics import encode, higher_is_better, metric_names, predict_outputs, weighted_metric
from training.shares import judge_between
from training.slices import judge_slices, slice_reason
from training.types import BootstrapResult, Decision, OutputCheck, Outputs

if TYPE_CHECKING:
    from base.settings import ConstraintsConfig, ModelConfig

__all__ = ["BootstrapResult", "Decision", "OutputCheck", "check_outputs", "decide_promotion", "paired_bootstrap"]

DECISION_THRESHOLD = 0.5


def check_outputs(task: str, model: Any, X: pd.DataFrame, constraints: "ConstraintsConfig") -> OutputCheck:
    """Predict on X and check the outputs against the configured constraints."""
    return check_predicted(task, predict_outputs(task, model, X), constraints)


def check_predicted(task: str, outputs: Outputs, constraints: "ConstraintsConfig") -> OutputCheck:
    """Catch broken models before metrics do: NaN, degenerate rates, impossible values."""
    values = np.asarray(outputs.values, dtype=float)
    if len(values) == 0:
        return OutputCheck(False, ["no rows to check"])
    # a multiclass row is usable only if its whole probability vector is finite
    finite = np.isfinite(values) if values.ndim == 1 else np.isfinite(values).all(axis=1)
    problems = []
    if not constraints.allow_nan and not finite.all():
        problems.append(f"{int((~finite).sum())} of {len(finite)} predictions are NaN or infinite (allowed: none)")
    if finite.any():
        problems += _range_problems(task, outputs.labels, values[finite], constraints)
    return OutputCheck(passed=not problems, problems=problems)


def _range_problems(task: str, labels: np.ndarray | None, kept: np.ndarray, constraints) -> list[str]:
    """Constraints for other tasks are ignored; ``kept`` holds only the finite outputs."""
    problems = []
    if task == "binary" and constraints.positive_rate is not None:
        positives = int(np.sum(kept >= DECISION_THRESHOLD))
        problems += _outside("predicted positive rate (at 0.5)", positives, len(kept), constraints.positive_rate)
    if task == "multiclass" and constraints.class_shares is not None:
        predicted = np.asarray(labels)[np.argmax(kept, axis=1)].astype(str)
        for label, bounds in constraints.class_shares.items():
            count = int(np.sum(predicted == str(label)))
            problems += _outside(f"predicted share of class {label!r}", count, len(kept), bounds)
    if task == "regression" and constraints.prediction_range is not None:
        low, high = constraints.prediction_range
        outside = int(np.sum((kept < low) | (kept > high)))
        if outside:
            problems.append(
                f"{outside} of {len(kept)} predictions fall outside the allowed range [{low:g}, {high:g}] "
                f"(observed min {kept.min():.4g}, max {kept.max():.4g})"
            )
    return problems


def _outside(what: str, count: int, rows: int, bounds: tuple[float, float]) -> list[str]:
    """A rate outside its bounds beyond sampling noise (``training.shares``); not judged on a few rows."""
    verdict = judge_between(count, rows, bounds[0], bounds[1], what)
    return [verdict.note] if verdict.failed else []


def paired_bootstrap(
    task: str,
    metric: str,
    y: Any,
    cand_outputs: Outputs,
    champ_outputs: Outputs,
    resamples: int,
    confidence: float,
    seed: int,
) -> BootstrapResult:
    """Confidence interval of (candidate − champion) from resampling the same holdout rows.

    Both models are scored on the same resampled rows (paired), which cancels most of the
    noise shared by the two scores. Resamples where the metric is undefined (a single
    class for ROC AUC) are skipped and the count of used ones is reported.
    """
    sign = 1.0 if higher_is_better(metric) else -1.0
    y_enc, (cand, champ) = encode(task, y, [cand_outputs, champ_outputs])
    observed = sign * (weighted_metric(task, metric, y_enc, cand) - weighted_metric(task, metric, y_enc, champ))
    # sorting by score once makes each weighted ROC AUC a near-linear pass
    sides = [_presort(task, y_enc, out) for out in (cand, champ)]
    rng = np.random.default_rng(seed)
    n = len(y_enc)
    diffs = np.full(resamples, np.nan)
    for r in range(resamples):
        weights = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
        scores = [weighted_metric(task, metric, ys, out, weights[order]) for ys, out, order in sides]
        diffs[r] = sign * (scores[0] - scores[1])
    valid = diffs[np.isfinite(diffs)]
    if len(valid) == 0:
        nan = float("nan")
        return BootstrapResult(metric, nan, nan, nan, confidence, resamples, seed, False, observed, 0)
    alpha = 1.0 - confidence
    low, high = np.quantile(valid, [alpha / 2, 1 - alpha / 2])
    return BootstrapResult(
        metric=metric,
        mean_diff=float(valid.mean()),
        low=float(low),
        high=float(high),
        confidence=confidence,
        resamples=resamples,
        seed=seed,
        significant=bool(low > 0),
        observed_diff=float(observed),
        used_resamples=len(valid),
    )


def _presort(task: str, y: np.ndarray, out: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.argsort(out, kind="stable") if task == "binary" else np.arange(len(y))
    return y[order], out[order], order


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
    reasons: list[str] = []
    passed: list[bool] = []
    floor_at = len(reasons)
    if config.gate.floor is not None:
        passed.append(_check_floor(metric, cand_metrics[metric], config.gate.floor, reasons))
    output_check = check_predicted(task, cand_outputs, config.constraints)
    passed.append(output_check.passed)
    problems = "; ".join(output_check.problems)
    reasons.append("pass: output checks" if output_check.passed else f"fail: output checks: {problems}")
    base: dict[str, Any] = dict(
        metric=metric,
        candidate_score=cand_metrics[metric],
        champion_version=champion_version,
        output_check=output_check,
        candidate_metrics=cand_metrics,
    )
    if champion_model is None:
        reasons.append(f"info: no champion for {config.name!r} yet; only the floor and output checks apply")
        return Decision(
            promote=all(passed), reasons=reasons, champion_score=None, bootstrap=None, champion_metrics=None, **base
        )
    try:
        champ_outputs = predict_outputs(task, champion_model, rows[_champion_columns(champion_model, features)])
    except Exception as exc:  # any failure means we cannot compare, so we must not promote
        reasons.append(
            f"fail: champion v{champion_version} could not score the holdout "
            f"({type(exc).__name__}: {exc}); not promoting without a comparison"
        )
        return Decision(
            promote=False, reasons=reasons, champion_score=None, bootstrap=None, champion_metrics=None, **base
        )
    champ_metrics = _all_metrics(task, y, champ_outputs)
    below = _note_champion_floor(config, champ_metrics[metric], champion_version, reasons, floor_at)
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
    passed += _compare(config, cand_metrics[metric], champ_metrics[metric], champion_version, bootstrap, reasons)
    slices = judge_slices(task, y, rows, cand_outputs, champ_outputs, config) if config.gate.slices else []
    if config.gate.slices:
        ok, reason = slice_reason(slices, config.gate.min_slice_rows)
        passed.append(ok)
        reasons.append(reason)
    return Decision(
        slices=slices,
        promote=all(passed),
        reasons=reasons,
        champion_score=champ_metrics[metric],
        bootstrap=bootstrap,
        champion_metrics=champ_metrics,
        champion_below_floor=below,
        **base,
    )


def _all_metrics(task: str, y: np.ndarray, outputs: Outputs) -> dict[str, float]:
    y_enc, (out,) = encode(task, y, [outputs])
    return {m: weighted_metric(task, m, y_enc, out) for m in metric_names(task)}


def _champion_columns(champion_model: Any, features: list[str]) -> list[str]:
    """The champion reads the columns it was trained on, which may differ from the candidate's."""
    names = getattr(champion_model, "feature_names_in_", None)
    return [str(c) for c in names] if names is not None else list(features)


def _check_floor(metric: str, value: float, floor: float, reasons: list[str]) -> bool:
    higher = higher_is_better(metric)
    ok = bool(np.isfinite(value) and (value >= floor if higher else value <= floor))
    word = "at least" if higher else "at most"
    reasons.append(f"{_verdict(ok)}: floor: candidate {metric} {value:.4f} must be {word} {floor:.4f}")
    return ok


def _note_champion_floor(config: "ModelConfig", score: float, version: str | None, reasons: list[str], at: int) -> bool:
    """Add the champion's score to the floor reason: a failing champion must not go unmentioned.

    Returns True when the champion itself is under the floor, which the flow announces,
    because rejecting the candidate then leaves a model in service that fails the rule.
    """
    floor = config.gate.floor
    if floor is None:
        return False
    higher = higher_is_better(config.primary_metric)
    ok = bool(np.isfinite(score) and (score >= floor if higher else score <= floor))
    candidate_failed = reasons[at].startswith("fail")
    state = "meets the floor" if ok else "fails the floor too" if candidate_failed else "fails the floor"
    reasons[at] += f"; champion v{version} scores {score:.4f} and {state}"
    return not ok


def _compare(
    config: "ModelConfig",
    cand: float,
    champ: float,
    version: str | None,
    bootstrap: BootstrapResult,
    reasons: list[str],
) -> list[bool]:
    """Regression limit, required improvement and (optionally) significance vs the champion."""
    gate, metric = config.gate, config.primary_metric
    diff = (cand - champ) if higher_is_better(metric) else (champ - cand)
    head = (
        f"{metric} candidate {cand:.4f} vs champion v{version} {champ:.4f} (difference {diff:+.4f}, positive = better)"
    )
    if not np.isfinite(diff):
        reasons.append(f"fail: {head}: the comparison could not be computed")
        return [False]
    no_worse = diff >= -gate.max_regression
    reasons.append(f"{_verdict(no_worse)}: max regression: {head}; may be worse by at most {gate.max_regression:g}")
    results = [no_worse]
    if gate.min_improvement > 0:
        improved = diff >= gate.min_improvement
        reasons.append(f"{_verdict(improved)}: min improvement: {diff:+.4f} must be at least {gate.min_improvement:g}")
        results.append(improved)
    reasons.append(_bootstrap_reason(bootstrap, gate.bootstrap.require_significant))
    if gate.bootstrap.require_significant:
        results.append(bootstrap.significant)
    return results


def _bootstrap_reason(b: BootstrapResult, required: bool) -> str:
    interval = (
        f"{b.confidence:.0%} interval of the difference [{b.low:+.4f}, {b.high:+.4f}] over {b.used_resamples} resamples"
    )
    verdict = describe_interval(b)
    if not required:
        return f"info: bootstrap: {interval}, {verdict} (significance not required)"
    return f"{_verdict(b.significant)}: bootstrap: {interval}, {verdict} (significance required)"


def describe_interval(b: BootstrapResult) -> str:
    """Say which way the interval points: "not significant" alone hid a clearly worse candidate."""
    if not (np.isfinite(b.low) and np.isfinite(b.high)):
        return "no interval (the metric was undefined on every resample)"
    if b.low > 0:
        return "candidate significantly better"
    if b.high < 0:
        return "candidate significantly worse"
    return "no significant difference"


def _verdict(ok: bool) -> str:
    return "pass" if ok else "fail"
