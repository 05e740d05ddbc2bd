"""A candidate search's trials as MLflow child runs of the candidate's run.

The registered version names the winner in its tags; the child runs keep every trial a
person may ask about later: its estimator and parameters, each fold's score, the mean, its
rank and how long it took. They are written through the client after registration, all at
once, so a search on many workers never writes to the tracking store from a worker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from registry.store import experiment_id
from registry.tag_values import TAG_LIMIT, flatten

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from base.settings import ModelConfig
    from training.search_types import RankedTrial, SearchResult

TRIAL_KIND = "trial"


def log_search(client: "MlflowClient", config: "ModelConfig", parent_run_id: str, search: "SearchResult") -> list[str]:
    """One child run per trial under ``parent_run_id``; returns their run ids (existing ones on a retry)."""
    existing = trial_runs(client, config, parent_run_id)
    if existing:
        return existing
    experiment = experiment_id(client, config.name)
    return [log_trial(client, experiment, parent_run_id, search.metric, ranked) for ranked in search.ranked]


def log_trial(client: "MlflowClient", experiment: str, parent_run_id: str, metric: str, ranked: "RankedTrial") -> str:
    """A finished child run: params, fold scores, mean, seconds; rank and status as tags."""
    from mlflow.entities import Metric, Param, RunTag

    result = ranked.result
    spec = result.spec
    tags = {
        "mlflow.parentRunId": parent_run_id,
        "retrain.kind": TRIAL_KIND,
        "trial.number": str(spec.number),
        "trial.status": str(result.status),
        "trial.rank": str(ranked.rank) if ranked.rank is not None else "-",
        "trial.label": spec.label,
        "estimator": spec.class_path,
    }
    if result.error:
        tags["trial.error"] = result.error[:TAG_LIMIT]
    run = client.create_run(experiment, run_name=f"trial-{spec.number}", tags=tags)
    values = [(f"cv_{metric}_fold{n}", score) for n, score in enumerate(result.fold_scores)]
    if result.mean_score is not None:
        values.append((f"cv_{metric}", result.mean_score))
    values.append(("seconds", result.seconds))
    metrics = [Metric(key, float(value), 0, 0) for key, value in values]
    params = [Param(key, value) for key, value in flatten(spec.params).items()]
    seconds = [RunTag("trial.seconds", f"{result.seconds:.2f}")]
    client.log_batch(run.info.run_id, metrics=metrics, params=params, tags=seconds)
    client.set_terminated(run.info.run_id, status="FINISHED" if ranked.rank is not None else "FAILED")
    return run.info.run_id


def trial_runs(client: "MlflowClient", config: "ModelConfig", parent_run_id: str) -> list[str]:
    """The trial runs already logged under ``parent_run_id``, in trial order."""
    runs = client.search_runs(
        [experiment_id(client, config.name)],
        filter_string=f"tags.mlflow.parentRunId = '{parent_run_id}' and tags.`retrain.kind` = '{TRIAL_KIND}'",
        max_results=1000,
    )
    return [r.info.run_id for r in sorted(runs, key=lambda r: int(r.data.tags.get("trial.number", "0")))]
