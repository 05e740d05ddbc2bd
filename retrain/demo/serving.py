"""The demo's serving side: each arriving month is scored by the champion, then its real outcomes
come back as late labels.

Scoring runs the same steps as ``retrain score`` (validation, prediction, output checks, the
prediction log and the review queue), on the simulated clock: a month is scored on its first
day, so the log's day partitions are the months. The month's true ``late`` values are fed back
by row id exactly as ``retrain feedback`` does; when the champion's live AUC has fallen past the
tolerance the feedback is the performance signal that starts the retrain, and the timeline
says so.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def forget_serving(config: Any) -> None:
    """A re-run starts the demo model's prediction log, review queue and labels empty too."""
    from serving import label_store, prediction_log, review_queue

    prediction_log.forget(config.serving.log_root(config.home), config.name, url=config.prediction_log_url)
    review_queue.forget(config.home, config.name, url=config.serving_url)
    label_store.forget(config.home, config.name, url=config.serving_url)


def score_and_feed_back(config: Any, batch: Path, month: int, year: int, out: Any) -> dict[str, Any]:
    """Score the month with the champion, feed its real outcomes back; the timeline's serving columns."""
    import pandas as pd

    from serving.feedback import judge_labels
    from serving.feedback_log import log_feedback
    from serving.live_figures import TRUTH
    from serving.scoring import BatchRefused, score_batch
    from training.data import DataError, load_batch

    with out.status(f"{batch.stem}: score with the champion → review queue → late labels ..."):
        try:
            scored = score_batch(config, batch, scored_at=datetime(year, month, 1, tzinfo=UTC))
        except (BatchRefused, DataError):  # the broken delivery: refused, nothing logged
            return {"served": "refused", "signals": []}
        frame = load_batch(batch, config.data.timestamp_column)
        labels = pd.DataFrame({"id": scored.rows["id"], TRUTH: frame[config.data.target_column].to_numpy()})
        verdict = judge_labels(config, labels)
        log_feedback(config, verdict)
    day = next((d for d in reversed(verdict.days) if d.version == scored.version), None)
    return {
        "served": f"v{scored.version}",
        "live_auc": None if day is None else day.metric,
        "live_accuracy": None if day is None else day.accuracy,
        "review_rate": None if day is None else day.review_rate,
        "auto_accuracy": None if day is None else day.auto_accuracy,
        "signals": list(verdict.signals),
    }


def merge_signals(check: dict[str, Any], served: dict[str, Any] | None) -> dict[str, Any]:
    """The check with the feedback's performance signal first: live labels judge the champion."""
    found = list((served or {}).get("signals") or [])
    return {**check, "signals": found + [s for s in check.get("signals") or [] if s not in found]}
