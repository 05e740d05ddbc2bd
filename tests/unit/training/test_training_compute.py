"""``compute.threads`` caps the native thread pools during fit and scoring, and only then."""

from __future__ import annotations

import sys
import types
from typing import ClassVar

import numpy as np
import pytest
from pydantic import ValidationError
from sklearn.base import BaseEstimator, ClassifierMixin
from threadpoolctl import threadpool_info

from training.candidate import train_candidate
from training.compute import limited_threads
from training.gate import decide_promotion
from training.split import split_by_time

PROBE_MODULE = "retrain_thread_probe"


def pool_sizes() -> set[int]:
    return {pool["num_threads"] for pool in threadpool_info()}


class ThreadProbeClassifier(ClassifierMixin, BaseEstimator):
    """Records the thread pools' sizes when it is fitted and when it predicts."""

    seen: ClassVar[dict[str, set[int]]] = {}

    def fit(self, X, y):
        ThreadProbeClassifier.seen["fit"] = pool_sizes()
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        ThreadProbeClassifier.seen["predict"] = pool_sizes()
        p = np.full(len(X), 0.5)
        return np.column_stack([1 - p, p])

    def predict(self, X):
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(int)]


@pytest.fixture
def probe(monkeypatch):
    module = types.ModuleType(PROBE_MODULE)
    module.ThreadProbeClassifier = ThreadProbeClassifier
    monkeypatch.setitem(sys.modules, PROBE_MODULE, module)
    ThreadProbeClassifier.seen = {}
    return ThreadProbeClassifier


def test_default_is_one_thread(make_config):
    assert make_config().compute.threads == 1


def test_threads_must_be_positive(make_config):
    with pytest.raises(ValidationError, match=r"compute\.threads"):
        make_config(compute={"threads": 0})


def test_cap_holds_inside_the_block_and_is_undone_after(make_config):
    before = pool_sizes()
    with limited_threads(make_config(compute={"threads": 2})) as threads:
        inside = pool_sizes()
    assert threads == 2 and inside == {2}
    assert pool_sizes() == before


def test_fit_and_gate_scoring_run_under_the_configured_cap(make_config, frame, probe):
    """The suite runs with one thread everywhere; seeing 2 proves the config's cap applied."""
    config = make_config(compute={"threads": 2}, estimator={"class_path": f"{PROBE_MODULE}.ThreadProbeClassifier"})
    split = split_by_time(frame("binary"), config)

    candidate = train_candidate(split, config)
    assert probe.seen["fit"] == {2} and pool_sizes() == {1}

    decide_promotion("binary", config, candidate.model, None, split.holdout, candidate.features, None)
    assert probe.seen["predict"] == {2} and pool_sizes() == {1}
