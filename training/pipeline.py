"""Build and fit the scikit-learn pipeline for one model.

Preprocessing lives inside the pipeline so the registered model takes raw batch columns
and applies exactly the transformations it was trained with. Encoding follows the
estimator: HistGradientBoosting, LightGBM and XGBoost get ordinal codes and their native
categorical support, other tree models ordinal codes, everything else one-hot columns (scaled numerics too,
because linear models, SVMs and neighbours are sensitive to scale).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from base.errors import Kind, RetrainError
from training.data import is_categorical, is_number

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

    from base.settings import ModelConfig

__all__ = ["PipelineError", "build_pipeline", "import_estimator"]

TREE_NAME_PARTS = ("Forest", "Boost", "Tree", "XGB", "LGBM", "CatBoost")
NATIVE_CATEGORICAL = ("HistGradientBoosting", "LGBM", "XGB")  # estimators that split on categories themselves
DEFAULT_SEED = 0
ONEHOT_MIN_FREQUENCY = 20  # categories seen fewer times share one "infrequent" column
ONEHOT_MAX_CATEGORIES = 40  # keeps dense one-hot output bounded for high-cardinality columns


class PipelineError(RetrainError, ValueError):
    """The configured estimator or the feature columns cannot make a pipeline."""

    kind = Kind.CONFIG


def import_estimator(class_path: str) -> type:
    """Import ``package.module.Class`` and check it is a scikit-learn style estimator."""
    module_name, _, class_name = class_path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise PipelineError(f"estimator.class_path {class_path!r} cannot be imported: {exc}") from None
    from sklearn.base import BaseEstimator

    if not (isinstance(cls, type) and issubclass(cls, BaseEstimator) and hasattr(cls, "fit")):
        raise PipelineError(f"estimator.class_path {class_path!r} is not a scikit-learn estimator class")
    return cls


def make_estimator(config: "ModelConfig") -> Any:
    """Instantiate with the configured params; seed it (0) unless the config chose a seed."""
    from sklearn.base import is_classifier, is_regressor

    cls = import_estimator(config.estimator.class_path)
    try:
        estimator = cls(**config.estimator.params)
    except TypeError as exc:
        raise PipelineError(f"estimator.params do not fit {config.estimator.class_path}: {exc}") from None
    if "random_state" in estimator.get_params(deep=False) and "random_state" not in config.estimator.params:
        estimator.set_params(random_state=DEFAULT_SEED)
    wanted = is_regressor if config.task == "regression" else is_classifier
    if not wanted(estimator):
        kind = "regressor" if config.task == "regression" else "classifier"
        raise PipelineError(f"task {config.task!r} needs a {kind}; {config.estimator.class_path} is not one")
    return estimator


def split_columns(config: "ModelConfig", X: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(numeric, categorical) feature columns; anything else is a clear error.

    Booleans are always categorical: they have no median and no scale.
    """
    if config.data.categorical is not None:
        stray = [c for c in config.data.categorical if c not in X.columns]
        if stray:
            raise PipelineError(f"data.categorical lists columns that are not features: {', '.join(stray)}")
        listed = set(config.data.categorical)
        categorical = [c for c in X.columns if c in listed or pd.api.types.is_bool_dtype(X[c].dtype)]
    else:
        categorical = [c for c in X.columns if is_categorical(X[c])]
    numeric = [c for c in X.columns if c not in categorical]
    unusable = [f"{c} ({X[c].dtype})" for c in numeric if not is_number(X[c])]
    if unusable:
        raise PipelineError(
            f"columns are neither numeric nor categorical: {', '.join(unusable)}; "
            "list them in data.categorical or data.exclude"
        )
    return numeric, categorical


def as_strings(X: pd.DataFrame) -> pd.DataFrame:
    """Categories as plain strings, missing as NaN: encoders reject mixed types and pd.NA."""
    X = pd.DataFrame(X)
    return X.astype(str).where(X.notna(), np.nan).astype(object)


def build_pipeline(config: "ModelConfig", X: pd.DataFrame) -> "Pipeline":
    """Unfitted ``Pipeline(prepare → model)`` for the feature frame ``X``."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    estimator = make_estimator(config)
    numeric, categorical = split_columns(config, X)
    name = type(estimator).__name__
    native = name.startswith(NATIVE_CATEGORICAL)
    tree = native or any(part in name for part in TREE_NAME_PARTS)
    parts = []
    if numeric:
        parts.append(("numeric", _numeric_steps(scale=not tree), numeric))
    if categorical:
        parts.append(("categorical", _categorical_steps(estimator, native, tree), categorical))
    if native and categorical:
        # ColumnTransformer emits the numeric block first, then one code per categorical column
        mark_categorical(estimator, len(numeric), len(categorical))
    prepare = ColumnTransformer(parts, remainder="drop")
    return Pipeline([("prepare", prepare), ("model", estimator)])


def mark_categorical(estimator: Any, numeric: int, categorical: int) -> None:
    """Tell a library with native categorical support which encoded columns are categories.

    HistGradientBoosting takes a mask, LightGBM the column indices (``categorical_feature``)
    and XGBoost a type per column with ``enable_categorical``; a choice the config made is kept.
    """
    mask = [False] * numeric + [True] * categorical
    name = type(estimator).__name__
    given = estimator.get_params(deep=False)
    if name.startswith("HistGradientBoosting"):
        estimator.set_params(categorical_features=mask)
    elif name.startswith("LGBM") and given.get("categorical_feature") is None:
        estimator.set_params(categorical_feature=[i for i, is_cat in enumerate(mask) if is_cat])
    elif name.startswith("XGB") and given.get("feature_types") is None:
        estimator.set_params(enable_categorical=True, feature_types=["c" if c else "q" for c in mask])


def _numeric_steps(scale: bool):
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    steps = [("impute", SimpleImputer(strategy="median", keep_empty_features=True))]
    if scale:
        steps.append(("scale", StandardScaler()))
    return Pipeline(steps)


def _categorical_steps(estimator: Any, native: bool, tree: bool):
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder

    strings = ("strings", FunctionTransformer(as_strings, feature_names_out="one-to-one"))
    if native:
        # NaN codes are HistGradientBoosting's own "missing" bin; cardinality must fit max_bins
        max_bins = estimator.get_params().get("max_bins", 255)
        encode = OrdinalEncoder(
            handle_unknown="use_encoded_value",
            unknown_value=np.nan,
            encoded_missing_value=np.nan,
            max_categories=max_bins,
        )
        return Pipeline([strings, ("encode", encode)])
    if tree:
        encode = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1)
        return Pipeline([strings, ("encode", encode)])
    encode = OneHotEncoder(
        handle_unknown="ignore",
        min_frequency=ONEHOT_MIN_FREQUENCY,
        max_categories=ONEHOT_MAX_CATEGORIES,
        sparse_output=False,
    )
    impute = ("impute", SimpleImputer(strategy="most_frequent", keep_empty_features=True))
    return Pipeline([strings, impute, ("encode", encode)])


def describe_params(estimator: Any) -> dict[str, Any]:
    """The estimator's effective parameters as loggable scalars (objects as text)."""
    out = {}
    for key, value in sorted(estimator.get_params(deep=False).items()):
        if value is None or isinstance(value, (bool, int, float, str)):
            out[key] = value
        elif isinstance(value, (list, tuple)) and len(value) > 20:
            out[key] = f"<{len(value)} values>"
        else:
            out[key] = str(value)
    return out
