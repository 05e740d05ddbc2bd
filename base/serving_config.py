"""The ``serving`` section: how scored rows are identified, judged confident and logged.

A prediction counts only when the model is confident enough; the rest go to a person. How
sure is "enough" is a threshold on a per-row confidence: the margin between the two most
probable classes for a classifier, the width of a split-conformal interval for a regressor
(wider = less sure). The threshold is either fixed here or chosen on the holdout at every
retrain, for a target share of rows sent to review or a target accuracy on the rows that are
not, and recorded on the model version so scoring reads back exactly what training chose.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class ThresholdMode(StrEnum):
    """How the confidence threshold is set."""

    FIXED = "fixed"  # ``fixed`` is the threshold
    REVIEW_RATE = "review_rate"  # the threshold sends ``review_rate`` of the holdout to review
    ACCURACY = "accuracy"  # the lowest threshold whose auto-routed holdout rows reach ``target_accuracy``


class EndpointConfig(BaseModel):
    """The HTTP service (``retrain endpoint``): how fast it follows ``champion`` and what it accepts."""

    model_config = ConfigDict(extra="forbid")

    poll_seconds: float = Field(
        default=20.0, ge=0.2, le=60.0, description="how often the alias is read; a move is served within this"
    )
    max_body_bytes: int = Field(default=10_000_000, ge=1_000, description="larger request bodies get 413")
    log_flush_seconds: float = Field(
        default=1.0, gt=0.0, le=60.0, description="answered rows are written to the log at most this late"
    )
    warm_rows: int = Field(default=5, ge=1, le=1000, description="reference rows a new version predicts before traffic")


class ServingConfig(BaseModel):
    """Scoring settings; every default works, so a config without the section still scores."""

    model_config = ConfigDict(extra="forbid")

    id_column: str | None = Field(default=None, description="column naming each row; None = a hash of the row")
    threshold: ThresholdMode = ThresholdMode.REVIEW_RATE
    fixed: float = Field(
        default=0.0, ge=0.0, description="classifiers: least margin auto-routed; regression: widest interval"
    )
    review_rate: float = Field(default=0.1, ge=0.0, le=1.0, description="share of holdout rows sent to review")
    target_accuracy: float = Field(default=0.9, gt=0.0, le=1.0, description="accuracy wanted on auto-routed rows")
    coverage: float = Field(default=0.9, gt=0.0, lt=1.0, description="regression: conformal interval coverage")
    interval_bins: int = Field(default=10, ge=1, le=100, description="regression: prediction bins of the interval")
    prediction_log: str | None = Field(
        default=None, description="folder of the prediction log; None = <home>/predictions"
    )

    review_columns: list[str] | None = Field(
        default=None,
        description=(
            "columns a reviewer sees beside a queued row; None = every column but the target and "
            "data.exclude (columns known only after the fact would tell the reviewer the answer)"
        ),
    )
    shadow: bool = Field(
        default=False, description="also score every row with the challenger, logged beside the champion's answer"
    )
    endpoint: EndpointConfig = Field(default_factory=EndpointConfig)

    def log_root(self, home: Path) -> Path:
        """Where the prediction log lives: the configured folder, else ``<home>/predictions``."""
        return Path(self.prediction_log).expanduser().resolve() if self.prediction_log else Path(home) / "predictions"


def check_serving(task: str, serving: ServingConfig) -> None:
    """A target accuracy needs classes: a regressor's rows have no right or wrong."""
    if task == "regression" and serving.threshold is ThresholdMode.ACCURACY:
        raise ValueError("serving.threshold 'accuracy' needs a classifier; use review_rate or fixed for regression")
