"""A light/heavy cascade: the light model answers the rows it is sure of, the heavy one the rest.

Most rows are easy, and a cheap model gets them right as often as an expensive one; paying
for the heavy model only where the light one hesitates cuts the average cost per row. How
sure the light model must be is a margin threshold (``training.confidence``, the same number
the serving threshold reads), chosen at every retrain:

1. the last ``cascade.validation_fraction`` of the training window (by time) is set aside;
   the holdout is never touched, because the gate judges the finished cascade on it;
2. light and heavy are fitted on the rest and scored on that validation slice;
3. the threshold is the lowest one (most rows to the light model) whose cascade stays within
   ``cascade.accuracy_budget`` of the heavy model alone, in ``cascade.budget_metric``;
4. both models are refitted on the whole training window. The heavy half is then exactly the
   model a plain retrain would register, trained on the most recent rows too; the margin scale
   of a model fitted on 80 % or 100 % of the same window barely moves, so the threshold carries.

The result is one estimator, ``CascadeModel``, registered as one MLflow model like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from base.cascade_config import ACCURACY
from base.settings import EstimatorConfig
from training.compute import limited_threads
from training.confidence import margin_confidence
from training.data import DataError
from training.metrics import higher_is_better, metric_from_outputs, predict_outputs
from training.pipeline import PipelineError, build_pipeline, describe_params, make_estimator
from training.types import Candidate, Outputs, to_jsonable

if TYPE_CHECKING:
    from base.settings import ModelConfig

ALL_HEAVY = float(np.nextafter(1.0, 2.0))  # above every margin: each row goes to the heavy model
MAX_THRESHOLDS = 400  # candidate thresholds tried (quantiles of the light model's margins)
TOLERANCE = 1e-12


class CascadeModel(ClassifierMixin, BaseEstimator):
    """Fitted light and heavy classifiers behind one ``predict_proba``; ``fit`` fits nothing.

    A row whose light-model margin is below ``threshold`` is answered by the heavy model.
    Both components take the same raw feature frame (each pipeline picks its own columns).
    """

    def __init__(self, light: Any = None, heavy: Any = None, threshold: float = ALL_HEAVY):
        self.light = light
        self.heavy = heavy
        self.threshold = threshold

    def fit(self, X: Any = None, y: Any = None) -> "CascadeModel":
        """Check the two fitted components agree on the classes; nothing is trained."""
        light, heavy = np.asarray(self.light.classes_), np.asarray(self.heavy.classes_)
        if light.shape != heavy.shape or not np.array_equal(light, heavy):
            raise PipelineError(
                f"cascade models know different classes: light {light.tolist()}, heavy {heavy.tolist()}"
            )
        self.classes_ = heavy
        return self

    def heavy_rows(self, X: Any) -> np.ndarray:
        """Boolean mask of the rows the heavy model answers."""
        return self._hard(np.asarray(self.light.predict_proba(X), dtype=float))

    def shares(self, X: Any) -> dict[str, float]:
        """Share of ``X``'s rows each model answers."""
        heavy = float(np.mean(self.heavy_rows(X))) if len(X) else 0.0
        return {"light": 1.0 - heavy, "heavy": heavy}

    def predict_proba(self, X: Any) -> np.ndarray:
        proba = np.asarray(self.light.predict_proba(X), dtype=float)
        hard = self._hard(proba)
        if hard.any():
            rows = X.iloc[hard] if isinstance(X, pd.DataFrame) else np.asarray(X)[hard]
            proba[hard] = self.heavy.predict_proba(rows)
        return proba

    def predict(self, X: Any) -> np.ndarray:
        return np.asarray(self.classes_)[np.argmax(self.predict_proba(X), axis=1)]

    def _hard(self, proba: np.ndarray) -> np.ndarray:
        return margin_confidence(Outputs(values=proba)) < self.threshold


@dataclass(frozen=True)
class ThresholdChoice:
    """The chosen threshold and what it did on the validation slice."""

    threshold: float
    light_share: float
    metric: str
    budget: float
    heavy_score: float
    light_score: float
    cascade_score: float


def choose_threshold(task: str, metric: str, budget: float, y: Any, light: Outputs, heavy: Outputs) -> ThresholdChoice:
    """Lowest margin threshold whose cascade scores within ``budget`` of the heavy model alone.

    Lower thresholds send more rows to the light model. ``ALL_HEAVY`` always qualifies (the
    cascade is then the heavy model), so there is always an answer.
    """
    margins = margin_confidence(light)
    grid = np.quantile(margins, np.linspace(0.0, 1.0, MAX_THRESHOLDS), method="inverted_cdf")
    sign = 1.0 if higher_is_better(metric) else -1.0
    heavy_score = task_score(task, metric, y, heavy)
    light_score = task_score(task, metric, y, light)
    for threshold in np.unique(np.r_[0.0, grid]):
        mixed = mix(light, heavy, margins >= threshold)
        score = task_score(task, metric, y, mixed)
        if sign * (score - heavy_score) >= -budget - TOLERANCE:
            share = float(np.mean(margins >= threshold))
            return ThresholdChoice(float(threshold), share, metric, budget, heavy_score, light_score, score)
    return ThresholdChoice(ALL_HEAVY, 0.0, metric, budget, heavy_score, light_score, heavy_score)


def mix(light: Outputs, heavy: Outputs, use_light: np.ndarray) -> Outputs:
    """Per row, the light model's output where ``use_light`` holds, else the heavy one's."""
    lv, hv = np.asarray(light.values, dtype=float), np.asarray(heavy.values, dtype=float)
    pick = use_light if lv.ndim == 1 else use_light[:, None]
    return Outputs(values=np.where(pick, lv, hv), labels=heavy.labels)


def task_score(task: str, metric: str, y: Any, outputs: Outputs) -> float:
    """``metric`` of ``outputs``; accuracy is the share of rows whose most probable class is right."""
    if metric != ACCURACY:
        return metric_from_outputs(task, metric, y, outputs)
    values, labels = np.asarray(outputs.values, dtype=float), np.asarray(outputs.labels)
    predicted = labels[(values >= 0.5).astype(int)] if values.ndim == 1 else labels[np.argmax(values, axis=1)]
    return float(np.mean(predicted == np.asarray(y)))


def light_config(config: "ModelConfig") -> "ModelConfig":
    """The config as the light model sees it: its estimator, and only its columns' categories."""
    assert config.cascade is not None
    light = config.cascade.light
    data = config.data
    if light.features is not None and data.categorical is not None:
        data = data.model_copy(update={"categorical": [c for c in data.categorical if c in light.features]})
    estimator = EstimatorConfig(class_path=light.class_path, params=light.params)
    return config.model_copy(update={"estimator": estimator, "data": data})


def make_light_estimator(config: "ModelConfig") -> Any:
    """The light estimator, or a PipelineError naming ``cascade.light`` fields."""
    try:
        return make_estimator(light_config(config))
    except PipelineError as err:
        raise PipelineError(str(err).replace("estimator.", "cascade.light.")) from None


def light_features(config: "ModelConfig", features: list[str]) -> list[str]:
    assert config.cascade is not None
    chosen = config.cascade.light.features
    if chosen is None:
        return list(features)
    stray = [c for c in chosen if c not in features]
    if stray:
        raise PipelineError(f"cascade.light.features are not features of the model: {', '.join(stray)}")
    return list(chosen)


def validation_slice(train: pd.DataFrame, config: "ModelConfig") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(fit part, validation slice): the slice is the most recent rows of the training window.

    The cut falls between two timestamps, so no instant is on both sides.
    """
    assert config.cascade is not None
    ts = train[config.data.timestamp_column]
    wanted = max(1, round(len(train) * config.cascade.validation_fraction))
    cut = ts.sort_values(kind="stable").iloc[len(train) - wanted]
    later = (ts >= cut).to_numpy()
    fit_part, held = train[~later], train[later]
    target = config.data.target_column
    minimum = config.window.min_holdout_rows
    if len(held) < minimum or len(fit_part) < minimum:
        raise DataError(
            config.data_glob,
            f"cascade.validation_fraction={config.cascade.validation_fraction} splits the training window into "
            f"{len(fit_part)} fitting and {len(held)} validation rows; each needs window.min_holdout_rows={minimum}",
        )
    if fit_part[target].nunique() < 2 or held[target].nunique() < 2:
        raise DataError(config.data_glob, "the cascade's fitting part or validation slice holds a single class")
    return fit_part, held


def train_cascade(train: pd.DataFrame, features: list[str], config: "ModelConfig") -> Candidate:
    """Pick the threshold on the validation slice, refit both models on the whole window."""
    assert config.cascade is not None
    cascade, target = config.cascade, config.data.target_column
    light_cols = light_features(config, features)
    fit_part, held = validation_slice(train, config)
    light, heavy = _fit_pair(fit_part, features, light_cols, config)
    with limited_threads(config):
        light_out = predict_outputs(config.task, light, held[features])
        heavy_out = predict_outputs(config.task, heavy, held[features])
    choice = choose_threshold(
        config.task, cascade.budget_metric, cascade.accuracy_budget, held[target], light_out, heavy_out
    )
    light, heavy = _fit_pair(train, features, light_cols, config)
    model = CascadeModel(light, heavy, choice.threshold).fit()
    light_params = describe_params(light.named_steps["model"])
    heavy_params = describe_params(heavy.named_steps["model"])
    ts = held[config.data.timestamp_column]
    lineage = {
        "cascade.light": cascade.light.class_path,
        "cascade.light_params": light_params,
        "cascade.light_features": ",".join(light_cols),
        "cascade.heavy": config.estimator.class_path,
        "cascade.heavy_params": heavy_params,
        "cascade.threshold": choice.threshold,
        "cascade.light_share": choice.light_share,
        "cascade.heavy_share": 1.0 - choice.light_share,
        "cascade.budget": f"{cascade.accuracy_budget} {cascade.budget_metric}",
        "cascade.validation_rows": len(held),
        "cascade.validation_window": f"{pd.Timestamp(ts.min()).isoformat()}..{pd.Timestamp(ts.max()).isoformat()}",
        f"cascade.validation_{choice.metric}": {
            "heavy": choice.heavy_score,
            "light": choice.light_score,
            "cascade": choice.cascade_score,
        },
    }
    return Candidate(
        model=model,
        features=features,
        params={"light": light_params, "heavy": heavy_params, "threshold": choice.threshold},
        train_rows=len(train),
        estimator=f"{type(model).__module__}.{type(model).__name__}",
        lineage={**to_jsonable(lineage), "cascade.threshold": choice.threshold},  # exact, not rounded
    )


def _fit_pair(rows: pd.DataFrame, features: list[str], light_cols: list[str], config: "ModelConfig") -> tuple:
    """Fresh light and heavy pipelines fitted on ``rows`` (each reads its own columns)."""
    X, y = rows[features], rows[config.data.target_column]
    light = build_pipeline(light_config(config), X[light_cols])
    heavy = build_pipeline(config, X)
    with limited_threads(config):
        light.fit(X, y)
        heavy.fit(X, y)
    return light, heavy
