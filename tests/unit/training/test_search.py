"""The candidate search's logic: time-ordered folds, trial planning, ranking, and the holdout left alone."""

from __future__ import annotations

from dataclasses import replace

import pytest

from base.settings import FoldScheme
from training.metrics import score
from training.search import SearchFailed, build_folds, config_for, rank_trials, run_search_locally, train_winner
from training.search_types import TrialResult, TrialSpec, TrialStatus
from training.split import split_by_time

LOGREG = "sklearn.linear_model.LogisticRegression"
DUMMY = "sklearn.dummy.DummyClassifier"


def spec(number: int, class_path: str = LOGREG, **params) -> TrialSpec:
    return TrialSpec(number=number, candidate=0, class_path=class_path, params=params)


def result(number: int, scores: list[float], status: TrialStatus = TrialStatus.COMPLETE) -> TrialResult:
    return TrialResult(spec(number, C=number), status, scores)


def test_expanding_folds_validate_on_later_rows_newest_last():
    folds = build_folds(100, 3, FoldScheme.EXPANDING)
    assert [f.train_start for f in folds] == [0, 0, 0]
    for fold in folds:
        assert fold.train_stop == fold.valid_start  # validation right after its training rows
        assert fold.valid_rows > 0
    assert [f.valid_start for f in folds] == sorted(f.valid_start for f in folds)
    assert folds[-1].valid_stop == 100  # the newest rows of the window are the last fold
    assert folds[0].train_rows < folds[1].train_rows < folds[2].train_rows


def test_sliding_folds_train_on_the_same_span():
    folds = build_folds(100, 4, FoldScheme.SLIDING)
    assert len({f.train_rows for f in folds}) == 1
    assert all(f.train_stop == f.valid_start for f in folds)
    assert folds[-1].valid_stop == 100
    assert folds[-1].train_start > 0


def test_too_few_rows_for_the_folds_is_a_clear_error():
    with pytest.raises(SearchFailed, match=r"search\.folds=3 needs at least 8 training rows"):
        build_folds(7, 3)


def test_the_winner_is_the_best_mean_fold_score_failed_trials_last():
    results = [
        result(0, [0.70, 0.72]),
        result(1, [0.90, 0.60]),  # mean 0.75
        result(2, [0.99], TrialStatus.FAILED),
        result(3, [0.74, 0.76]),  # mean 0.75, later than trial 1: ranked after it
    ]
    ranked = rank_trials(results, "roc_auc")
    assert [(r.rank, r.result.spec.number) for r in ranked] == [(1, 1), (2, 3), (3, 0), (None, 2)]
    lower = rank_trials(results, "rmse")  # a loss: the smallest mean wins
    assert [r.result.spec.number for r in lower][:3] == [0, 1, 3]


def test_no_completed_trial_fails_the_search_naming_the_error(make_config, frame):
    config = make_config(
        search={"candidates": [{"class_path": LOGREG, "params": {"C": -1.0}}], "include_estimator": False}
    )
    split = split_by_time(frame(n=400), config)
    with pytest.raises(SearchFailed, match=r"no search trial completed.*C"):
        run_search_locally(split, config)


def test_a_small_space_is_tried_whole_once_each_the_estimator_first(make_config, frame):
    config = make_config(
        estimator={"class_path": LOGREG, "params": {"C": 1.0}},
        search={
            "trials": 10,
            "candidates": [
                {"class_path": LOGREG, "params": {"C": {"choices": [0.01, 1.0]}}},  # C=1.0 repeats the estimator
                {"class_path": "sklearn.tree.DecisionTreeClassifier", "params": {"max_depth": {"choices": [2, 4]}}},
            ],
        },
    )
    found = run_search_locally(split_by_time(frame(n=400), config), config)
    specs = sorted((r.result.spec for r in found.ranked), key=lambda s: s.number)
    assert specs[0].class_path == LOGREG and specs[0].params == {"C": 1.0}
    settings = [(s.class_path, tuple(sorted(s.params.items()))) for s in specs]
    assert len(settings) == len(set(settings)) == 4  # the repeat of trial 0 never ran
    assert found.stopped_by == "space"


def test_distributions_are_sampled_within_their_ranges_and_the_budget(make_config, frame):
    config = make_config(
        search={
            "trials": 5,
            "include_estimator": False,
            "candidates": [{"class_path": LOGREG, "params": {"C": {"low": 0.01, "high": 10.0, "log": True}}}],
        }
    )
    found = run_search_locally(split_by_time(frame(n=400), config), config)
    values = [r.result.spec.params["C"] for r in found.ranked]
    assert len(values) == 5 and len(set(values)) == 5
    assert all(0.01 <= c <= 10.0 for c in values)
    assert found.stopped_by == "trials"


def test_the_holdout_plays_no_part_in_choosing_the_winner(make_config, frame):
    """The holdout's labels are inverted: there a constant model beats the one cross-validation prefers."""
    config = make_config(
        estimator={"class_path": DUMMY, "params": {"strategy": "prior"}},
        search={"candidates": [{"class_path": LOGREG, "params": {"C": {"choices": [0.1, 1.0]}}}], "folds": 3},
    )
    df = frame(n=900)
    split = split_by_time(df, config)
    holdout_rows = df["ts"] >= split.holdout["ts"].min()
    df.loc[holdout_rows, "y"] = 1 - df.loc[holdout_rows, "y"]
    split = split_by_time(df, config)
    found = run_search_locally(split, config)
    winner = train_winner(split, config, found)
    assert found.winner.spec.class_path == LOGREG
    assert found.rank_of(0) == 3  # the constant model (the `estimator` section) is last in cross-validation
    dummy = train_winner(split, config, replace(found, ranked=found.ranked[-1:]))
    on_holdout = {
        name: score("binary", c.model, split.holdout[c.features], split.holdout["y"])["roc_auc"]
        for name, c in (("winner", winner), ("dummy", dummy))
    }
    assert on_holdout["dummy"] > on_holdout["winner"]  # the holdout would have picked the loser
    assert winner.lineage["search.winner"] == found.winner.spec.label
    assert winner.lineage["search.estimator_rank"] == "3 of 3"


def test_config_for_swaps_the_estimator_only(make_config):
    config = make_config(search={"candidates": [{"class_path": LOGREG}]})
    swapped = config_for(spec(4, DUMMY, strategy="prior"), config)
    assert swapped.estimator.class_path == DUMMY and swapped.estimator.params == {"strategy": "prior"}
    assert swapped.search is None and swapped.data == config.data
