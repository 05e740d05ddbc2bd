"""Pipelines: mixed dtypes, missing values and unseen categories must not break fit or predict."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import r2_score, roc_auc_score

from training.candidate import train_candidate
from training.pipeline import PipelineError, build_pipeline, import_estimator
from training.split import split_by_time

HGB_CLF = "sklearn.ensemble.HistGradientBoostingClassifier"
HGB_REG = "sklearn.ensemble.HistGradientBoostingRegressor"
LOGREG = "sklearn.linear_model.LogisticRegression"
RIDGE = "sklearn.linear_model.Ridge"
FEATURES = ["x1", "x2", "city", "flag"]


def with_unseen_categories(holdout: pd.DataFrame) -> pd.DataFrame:
    """Holdout where some cities never appeared in training, plus a missing one."""
    out = holdout.copy()
    out.loc[out.index[:15], "city"] = "zzz-new-city"
    out.loc[out.index[15:20], "city"] = np.nan
    return out


def fit(make_config, frame, task, class_path, params=None, n=900):
    config = make_config(task, estimator={"class_path": class_path, "params": params or {}})
    split = split_by_time(frame(task, n=n), config)
    return config, split, train_candidate(split, config)


def test_hist_gradient_boosting_uses_native_categories(make_config, frame):
    _config, split, cand = fit(make_config, frame, "binary", HGB_CLF)
    model = cand.model.named_steps["model"]
    prepare = cand.model.named_steps["prepare"]
    encoded = prepare.transform(split.holdout[cand.features])
    assert encoded.shape[1] == len(FEATURES)  # one ordinal code per categorical column, no one-hot
    assert model.is_categorical_.tolist() == [False, False, True, True]  # numeric block, then city, flag
    holdout = with_unseen_categories(split.holdout)
    proba = cand.model.predict_proba(holdout[cand.features])[:, 1]
    assert np.isfinite(proba).all()
    assert roc_auc_score(holdout["y"], proba) > 0.75


def test_logistic_regression_scales_and_one_hot_encodes(make_config, frame):
    _config, split, cand = fit(make_config, frame, "binary", LOGREG)
    prepare = cand.model.named_steps["prepare"]
    assert "scale" in prepare.named_transformers_["numeric"].named_steps
    encoder = prepare.named_transformers_["categorical"].named_steps["encode"]
    assert type(encoder).__name__ == "OneHotEncoder"
    assert encoder.handle_unknown == "ignore"
    proba = cand.model.predict_proba(with_unseen_categories(split.holdout)[cand.features])[:, 1]
    assert np.isfinite(proba).all()
    assert roc_auc_score(split.holdout["y"], proba) > 0.75


@pytest.mark.parametrize("class_path", [HGB_REG, "sklearn.ensemble.RandomForestRegressor", RIDGE])
def test_regressors_handle_mixed_dtypes(make_config, frame, class_path):
    _config, split, cand = fit(make_config, frame, "regression", class_path)
    pred = cand.model.predict(with_unseen_categories(split.holdout)[cand.features])
    assert np.isfinite(pred).all()
    assert r2_score(split.holdout["y"], cand.model.predict(split.holdout[cand.features])) > 0.5
    scaled = "scale" in cand.model.named_steps["prepare"].named_transformers_["numeric"].named_steps
    assert scaled == class_path.endswith("Ridge")


def test_fitted_pipeline_survives_pickling_and_extra_columns(make_config, frame):
    """The registry pickles the pipeline and serving may pass whole batch rows."""
    _, split, cand = fit(make_config, frame, "binary", LOGREG)
    restored = pickle.loads(pickle.dumps(cand.model))
    expected = cand.model.predict_proba(split.holdout[cand.features])
    shuffled = split.holdout[["y", "flag", "ts", "city", "x2", "x1"]]
    np.testing.assert_allclose(restored.predict_proba(shuffled), expected)


def test_string_targets_are_used_as_is(make_config, frame):
    _config, split, cand = fit(make_config, frame, "multiclass", HGB_CLF)
    assert sorted(cand.model.classes_.tolist()) == ["high", "low", "mid"]
    assert set(cand.model.predict(split.holdout[cand.features])) <= {"high", "low", "mid"}


def test_fit_is_deterministic_and_seeded(make_config, frame):
    forest = "sklearn.ensemble.RandomForestClassifier"
    runs = [fit(make_config, frame, "binary", forest, params={"n_estimators": 20}) for _ in range(2)]
    (_, split, first), (_, _, second) = runs
    X = split.holdout[first.features]
    assert first.params["random_state"] == 0
    assert first.params["n_estimators"] == 20
    np.testing.assert_array_equal(first.model.predict_proba(X), second.model.predict_proba(X))


def test_user_seed_is_kept(make_config, frame):
    _, _, cand = fit(make_config, frame, "binary", HGB_CLF, params={"random_state": 7, "max_iter": 30})
    assert cand.params["random_state"] == 7
    assert cand.params["max_iter"] == 30


def test_candidate_skips_rows_without_target(make_config, frame):
    config = make_config("binary")
    df = frame("binary", n=900)
    df.loc[df.index[:40], "y"] = np.nan
    split = split_by_time(df, config)
    cand = train_candidate(split, config)
    assert cand.train_rows == int(split.train["y"].notna().sum())
    assert cand.features == FEATURES
    assert cand.to_dict()["estimator"] == HGB_CLF


def test_configured_categorical_treats_numbers_as_categories(make_config, frame):
    df = frame("binary", n=300)
    df["month"] = df["ts"].dt.month
    config = make_config("binary", estimator={"class_path": LOGREG}, data={"categorical": ["city", "month"]})
    X = df[[*FEATURES, "month"]]
    pipe = build_pipeline(config, X).fit(X, df["y"])
    prepare = pipe.named_steps["prepare"]
    assert prepare.transformers_[1][2] == ["city", "flag", "month"]  # booleans are always categorical
    assert prepare.transformers_[0][2] == ["x1", "x2"]


def test_unusable_column_types_are_named(make_config, frame):
    df = frame("binary", n=100)
    X = df[["x1", "city"]].assign(when=df["ts"])
    with pytest.raises(PipelineError, match="when"):
        build_pipeline(make_config("binary"), X)
    with pytest.raises(PipelineError, match="not features: nope"):
        build_pipeline(make_config("binary", data={"categorical": ["nope"]}), df[["x1"]])


@pytest.mark.parametrize(
    "class_path, message",
    [
        ("sklearn.nosuchmodule.Thing", "cannot be imported"),
        ("sklearn.linear_model.NoSuchModel", "cannot be imported"),
        ("collections.OrderedDict", "not a scikit-learn estimator"),
        ("sklearn.base.clone", "not a scikit-learn estimator"),
    ],
)
def test_import_estimator_errors_name_the_path(class_path, message):
    with pytest.raises(PipelineError) as info:
        import_estimator(class_path)
    assert class_path in str(info.value)
    assert message in str(info.value)


def test_task_and_estimator_kind_must_agree(make_config, frame):
    X = frame("binary", n=50)[FEATURES]
    with pytest.raises(PipelineError, match="needs a classifier"):
        build_pipeline(make_config("binary", estimator={"class_path": HGB_REG}), X)
    with pytest.raises(PipelineError, match="do not fit"):
        build_pipeline(make_config("binary", estimator={"class_path": LOGREG, "params": {"bogus": 1}}), X)
