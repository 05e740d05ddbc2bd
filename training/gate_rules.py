"""The gate's rules as typed results: which rule, whether it passed, its numbers, and a sentence.

A result is rendered to text (``pass: …``, ``fail: …``, ``info: …``) only where people read
it: MLflow tags, reports, the CLI. Code asks the result itself, so nothing parses the text
back. ``passed`` is None for a rule that informs and does not decide (a bootstrap whose
significance is not required, a first model without a champion).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from training.bootstrap import describe_interval
from training.metrics import higher_is_better
from training.types import Rule, RuleResult

if TYPE_CHECKING:
    from base.settings import ModelConfig
    from training.types import BootstrapResult


def judge_floor(metric: str, value: float, floor: float) -> RuleResult:
    higher = higher_is_better(metric)
    ok = bool(np.isfinite(value) and (value >= floor if higher else value <= floor))
    word = "at least" if higher else "at most"
    sentence = f"floor: candidate {metric} {value:.4f} must be {word} {floor:.4f}"
    return RuleResult(Rule.FLOOR, ok, sentence, value, floor)


def judge_output_checks(passed: bool, problems: list[str]) -> RuleResult:
    sentence = "output checks" if passed else f"output checks: {'; '.join(problems)}"
    return RuleResult(Rule.OUTPUT_CHECKS, passed, sentence)


def note_no_champion(name: str) -> RuleResult:
    sentence = f"no champion for {name!r} yet; only the floor and output checks apply"
    return RuleResult(Rule.NO_CHAMPION, None, sentence)


def champion_failed(version: str | None, exc: Exception) -> RuleResult:
    sentence = (
        f"champion v{version} could not score the holdout ({type(exc).__name__}: {exc}); "
        "not promoting without a comparison"
    )
    return RuleResult(Rule.CHAMPION_SCORES, False, sentence)


def note_champion_floor(
    floor_rule: RuleResult, metric: str, score: float, version: str | None
) -> tuple[RuleResult, bool]:
    """The floor's result with the champion's score added: a failing champion must not go unmentioned.

    The flag is True when the champion itself is under the floor, which the flow announces,
    because rejecting the candidate then leaves a model in service that fails the rule.
    """
    assert floor_rule.limit is not None, "a floor result carries its floor"
    higher = higher_is_better(metric)
    ok = bool(np.isfinite(score) and (score >= floor_rule.limit if higher else score <= floor_rule.limit))
    state = "meets the floor" if ok else "fails the floor too" if floor_rule.failed else "fails the floor"
    noted = replace(floor_rule, sentence=f"{floor_rule.sentence}; champion v{version} scores {score:.4f} and {state}")
    return noted, not ok


def compare_to_champion(
    config: "ModelConfig", cand: float, champ: float, version: str | None, bootstrap: "BootstrapResult"
) -> list[RuleResult]:
    """Regression limit, required improvement and (optionally) significance vs the champion."""
    gate, metric = config.gate, config.primary_metric
    diff = (cand - champ) if higher_is_better(metric) else (champ - cand)
    head = (
        f"{metric} candidate {cand:.4f} vs champion v{version} {champ:.4f} (difference {diff:+.4f}, positive = better)"
    )
    if not np.isfinite(diff):
        return [RuleResult(Rule.COMPARISON, False, f"{head}: the comparison could not be computed", diff)]
    results = [
        RuleResult(
            Rule.MAX_REGRESSION,
            bool(diff >= -gate.max_regression),
            f"max regression: {head}; may be worse by at most {gate.max_regression:g}",
            diff,
            -gate.max_regression,
        )
    ]
    if gate.min_improvement > 0:
        sentence = f"min improvement: {diff:+.4f} must be at least {gate.min_improvement:g}"
        results.append(
            RuleResult(Rule.MIN_IMPROVEMENT, bool(diff >= gate.min_improvement), sentence, diff, gate.min_improvement)
        )
    results.append(judge_bootstrap(bootstrap, gate.bootstrap.require_significant))
    return results


def judge_bootstrap(b: "BootstrapResult", required: bool) -> RuleResult:
    interval = (
        f"{b.confidence:.0%} interval of the difference [{b.low:+.4f}, {b.high:+.4f}] over {b.used_resamples} resamples"
    )
    verdict = describe_interval(b)
    if not required:
        return RuleResult(Rule.BOOTSTRAP, None, f"bootstrap: {interval}, {verdict} (significance not required)", b.low)
    sentence = f"bootstrap: {interval}, {verdict} (significance required)"
    return RuleResult(Rule.BOOTSTRAP, bool(b.significant), sentence, b.low, 0.0)
