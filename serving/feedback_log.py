"""Feedback runs in MLflow: the live figures beside the drift checks of the same model.

One run per ``retrain feedback`` in the model's monitoring experiment, tagged with the
champion version it judged; the per-day metric, review rate and auto-routed accuracy are
logged as steps (one per day, oldest first) so the MLflow UI draws them over time.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from base.settings import ModelConfig
    from serving.feedback import FeedbackResult


def log_feedback(config: "ModelConfig", result: "FeedbackResult", flow_run_id: str = "") -> str:
    """Log one feedback run; returns its MLflow run id."""
    import mlflow

    from registry.store import connect, monitoring_experiment
    from registry.tag_values import clean_key

    client = connect(config)
    tags = {
        "retrain.kind": "feedback",
        "retrain.model": config.name,
        "retrain.champion_version": result.champion_version or "",
        "retrain.signals": ",".join(result.signals) or "none",
        "retrain.flow_run_id": flow_run_id,
    }
    with mlflow.start_run(experiment_id=monitoring_experiment(client, config), run_name="feedback") as run:
        mlflow.set_tags(tags)
        mlflow.log_metrics({clean_key(k): v for k, v in result.figures().items()})
        champion_days = [d for d in result.days if d.version == result.champion_version]
        for step, day in enumerate(champion_days):
            values = {
                "live_metric": day.metric,
                "review_rate": day.review_rate,
                "live_auto_accuracy": day.auto_accuracy,
            }
            mlflow.log_metrics({k: float(v) for k, v in values.items() if v is not None}, step=step)
        mlflow.log_text(json.dumps(result.to_dict(), indent=2, default=str), "feedback.json")
    if result.champion_version:
        client.set_model_version_tag(config.name, result.champion_version, "retrain.last_feedback", run.info.run_id)
    return run.info.run_id
