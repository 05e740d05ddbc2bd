"""Fit a candidate on the training side of a split: one pipeline, or a cascade of two.

Kept apart from ``training.pipeline`` (how one pipeline is built) and ``training.cascade``
(how two are paired), which both build on the pipeline and neither on the other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from training.cascade import train_cascade
from training.compute import limited_threads
from training.data import select_features
from training.pipeline import PipelineError, build_pipeline, describe_params
from training.types import Candidate, Split

if TYPE_CHECKING:
    from base.settings import ModelConfig


def train_candidate(split: Split, config: "ModelConfig") -> Candidate:
    """Fit a fresh pipeline on the training side of the split (rows without a target skipped)."""
    features = select_features(split.train, config)
    target = config.data.target_column
    if target not in split.train.columns:
        raise PipelineError(f"target column {target!r} is not in the training data")
    train = split.train[split.train[target].notna()]
    X, y = train[features], train[target]
    if config.task != "regression" and y.nunique() < 2:
        raise PipelineError(f"training data has a single class in {target!r}: {y.unique().tolist()}")
    if config.cascade is not None:
        return train_cascade(train, features, config)
    model = build_pipeline(config, X)
    with limited_threads(config):
        model.fit(X, y)
    params = describe_params(model.named_steps["model"])
    return Candidate(
        model=model, features=features, params=params, train_rows=len(X), estimator=config.estimator.class_path
    )
