"""Score candidates by time-ordered cross-validation inside the training window; pick and refit the best.

The gate's holdout is the newest data and the only fair judge of candidate against champion,
so the search never sees it: each trial is fitted on earlier rows of the training window and
scored on the later rows that follow them (scikit-learn's ``TimeSeriesSplit``, newest fold
last). The trial with the best mean fold score wins and is refitted on the whole window; the
gate then treats it like the single candidate of a run without a search. Nothing here knows
how trials are scheduled: ``run_search_locally`` runs them one by one (the dry run), the
flow runs the same ``evaluate_trial`` as Prefect tasks on Dask.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING

import pandas as pd

from base.errors import Kind, RetrainError
from base.settings import EstimatorConfig, FoldScheme
from training.candidate import train_candidate
from training.compute import limited_threads
from training.data import select_features
from training.metrics import higher_is_better, metric_from_outputs, predict_outputs
from training.pipeline import build_pipeline
from training.search_plan import SearchPlan
from training.search_types import Fold, RankedTrial, SearchResult, TrialResult, TrialSpec, TrialStatus
from training.types import Candidate, Split

if TYPE_CHECKING:
    from base.settings import ModelConfig

ERROR_CHARS = 300


class SearchFailed(RetrainError):
    """No trial of the search completed: there is no candidate to gate."""

    kind = Kind.CONFIG


def build_folds(rows: int, folds: int, scheme: FoldScheme = FoldScheme.EXPANDING) -> list[Fold]:
    """Time-ordered folds over ``rows`` time-sorted rows; each validates on rows after its training rows.

    Expanding folds train on everything before their validation block; sliding folds on the
    same span (one block) right before it, so old rows weigh no more in the last fold than the first.
    """
    from sklearn.model_selection import TimeSeriesSplit

    if rows < 2 * (folds + 1):
        needed = 2 * (folds + 1)
        raise SearchFailed(f"search.folds={folds} needs at least {needed} training rows; the window has {rows}")
    block = rows // (folds + 1)
    splitter = TimeSeriesSplit(n_splits=folds, max_train_size=block if scheme is FoldScheme.SLIDING else None)
    out = []
    for number, (train, valid) in enumerate(splitter.split(range(rows))):
        out.append(Fold(number, int(train[0]), int(train[-1]) + 1, int(valid[0]), int(valid[-1]) + 1))
    return out


def search_frame(split: Split, config: "ModelConfig") -> pd.DataFrame:
    """The training window's labelled rows in time order, features and target only: what every trial reads."""
    target = config.data.target_column
    features = select_features(split.train, config)
    train = split.train[split.train[target].notna()]
    return train[[*features, target]].reset_index(drop=True)


def config_for(spec: TrialSpec, config: "ModelConfig") -> "ModelConfig":
    """The config with the trial's estimator in place of the `estimator` section."""
    estimator = EstimatorConfig(class_path=spec.class_path, params=spec.params)
    return config.model_copy(update={"estimator": estimator, "search": None})


def evaluate_trial(spec: TrialSpec, frame: pd.DataFrame, folds: list[Fold], config: "ModelConfig") -> TrialResult:
    """Fit the trial on each fold's training rows and score the primary metric on its validation rows.

    An estimator that refuses its parameters or the data fails this trial only.
    """
    started = time.monotonic()
    trial_config = config_for(spec, config)
    target = config.data.target_column
    X, y = frame.drop(columns=[target]), frame[target]
    scores = []
    try:
        for fold in folds:
            model = build_pipeline(trial_config, X.iloc[fold.train_start : fold.train_stop])
            with limited_threads(config):
                model.fit(X.iloc[fold.train_start : fold.train_stop], y.iloc[fold.train_start : fold.train_stop])
                valid = X.iloc[fold.valid_start : fold.valid_stop]
                outputs = predict_outputs(config.task, model, valid)
            truth = y.iloc[fold.valid_start : fold.valid_stop].to_numpy()
            scores.append(metric_from_outputs(config.task, config.primary_metric, truth, outputs))
    except Exception as exc:  # any estimator error: this setting is unusable, the others still count
        error = f"{type(exc).__name__}: {exc}"[:ERROR_CHARS]
        return TrialResult(spec, TrialStatus.FAILED, scores, time.monotonic() - started, error)
    return TrialResult(spec, TrialStatus.COMPLETE, scores, time.monotonic() - started)


def rank_trials(results: list[TrialResult], metric: str) -> list[RankedTrial]:
    """Best mean fold score first (ties: the earlier trial); failed trials last, unranked."""
    better_high = higher_is_better(metric)
    scored = [r for r in results if r.mean_score is not None]
    scored.sort(key=lambda r: (-(r.mean_score or 0.0) if better_high else (r.mean_score or 0.0), r.spec.number))
    failed = sorted((r for r in results if r.mean_score is None), key=lambda r: r.spec.number)
    return [RankedTrial(i, r) for i, r in enumerate(scored, 1)] + [RankedTrial(None, r) for r in failed]


def finish_search(
    results: list[TrialResult], folds: list[Fold], config: "ModelConfig", plan: SearchPlan, workers: int
) -> SearchResult:
    """The ranked search; ``SearchFailed`` naming the first error when no trial completed."""
    ranked = rank_trials(results, config.primary_metric)
    if not ranked or ranked[0].rank is None:
        first = ranked[0].result.error if ranked else "no trial ran"
        raise SearchFailed(f"no search trial completed ({len(results)} tried); first error: {first}")
    seconds = time.monotonic() - plan.started
    return SearchResult(config.primary_metric, ranked, folds, seconds, plan.stopped_by, workers)


def start_search(split: Split, config: "ModelConfig") -> tuple[SearchPlan, pd.DataFrame, list[Fold]]:
    """The planner, the frame every trial reads and the folds, before any trial runs."""
    assert config.search is not None
    frame = search_frame(split, config)
    folds = build_folds(len(frame), config.search.folds, config.search.scheme)
    return SearchPlan(config, higher_is_better(config.primary_metric)), frame, folds


def run_search_locally(split: Split, config: "ModelConfig") -> SearchResult:
    """Every trial in this process, one after another (the dry run; a baseline for the Dask runner)."""
    plan, frame, folds = start_search(split, config)
    results = []
    while (spec := plan.ask()) is not None:
        results.append(evaluate_trial(spec, frame, folds, config))
        plan.tell(results[-1])
    return finish_search(results, folds, config, plan, workers=1)


def train_winner(split: Split, config: "ModelConfig", result: SearchResult) -> Candidate:
    """The winner refitted on the whole training window, carrying the search's tags as lineage."""
    candidate = train_candidate(split, config_for(result.winner.spec, config))
    default = 0 if config.search is not None and config.search.include_estimator else None
    tags = {"estimator": result.winner.spec.class_path, **result.tags(default)}
    return replace(candidate, lineage={**candidate.lineage, **tags})
