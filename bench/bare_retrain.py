"""The reference for ``retrain run``: one retrain cycle as a plain script, no Prefect, no Retrain.

The same libraries and steps a careful person would write by hand for the flights example:
read every monthly CSV, validate the new batch(es) with the same GX suite, split by time
(last 30 days holdout, 90 days before it for training), fit the same scikit-learn pipeline
(median imputation, ordinal-coded categories, HistGradientBoosting with the example's
parameters, one thread), score candidate and champion on the holdout (ROC AUC with a paired
bootstrap of 300 resamples, each side sorted once), log the run, the model (skops, pinned requirements) and a
5000-row training sample for drift checks, register the version, alias it ``challenger``
and, when it wins, ``champion``.

    python bench/bare_retrain.py WORKSPACE HOME NEW_BATCH [NEW_BATCH...]

Imports nothing from this repository, so it measures the libraries alone.
"""

from __future__ import annotations

import glob
import json
import sys
import tempfile
from importlib.metadata import version as installed
from pathlib import Path

import great_expectations as gx
import mlflow
import mlflow.sklearn
import numpy as np
import pandas as pd
import skops.io
import yaml
from great_expectations.expectations.expectation_configuration import ExpectationConfiguration
from mlflow import MlflowClient
from mlflow.models import infer_signature
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OrdinalEncoder
from threadpoolctl import threadpool_limits

TIME, TARGET = "time_hour", "late"


def read_batches(workspace: Path) -> pd.DataFrame:
    frames = [pd.read_csv(path) for path in sorted(glob.glob(str(workspace / "batches" / "*.csv")))]
    df = pd.concat(frames, ignore_index=True)
    df[TIME] = pd.to_datetime(df[TIME], utc=True)
    return df


def validate(paths: list[str], suite_file: Path) -> None:
    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_pandas("bare").add_dataframe_asset("batch").add_batch_definition_whole_dataframe("w")
    )
    items = json.loads(suite_file.read_text())["expectations"]
    expectations = [ExpectationConfiguration(type=i["type"], kwargs=i["kwargs"]).to_domain_obj() for i in items]
    suite = context.suites.add(gx.ExpectationSuite(name="bare", expectations=expectations))
    definition = context.validation_definitions.add(gx.ValidationDefinition(name="bare", data=batch, suite=suite))
    latest = {"latest_plausible_timestamp": pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=1)}  # no future rows
    for path in paths:
        frame = pd.read_csv(path)
        frame[TIME] = pd.to_datetime(frame[TIME], utc=True)
        if not definition.run(batch_parameters={"dataframe": frame}, expectation_parameters=latest).success:
            sys.exit(f"{path} failed validation")


def split(df: pd.DataFrame, train_days: int = 90, holdout_days: int = 30) -> tuple[pd.DataFrame, pd.DataFrame]:
    df = df.sort_values(TIME, kind="stable")
    cutoff = df[TIME].max() - pd.Timedelta(days=holdout_days)
    train = df[(df[TIME] <= cutoff) & (df[TIME] > cutoff - pd.Timedelta(days=train_days))]
    return train, df[df[TIME] > cutoff]


def strings(X):
    X = pd.DataFrame(X)
    return X.astype(str).where(X.notna(), np.nan).astype(object)


def build(config: dict, numeric: list[str], categorical: list[str]) -> Pipeline:
    model = HistGradientBoostingClassifier(
        **config["estimator"]["params"], categorical_features=[False] * len(numeric) + [True] * len(categorical)
    )
    encode = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan, encoded_missing_value=np.nan)
    prepare = ColumnTransformer(
        [
            ("numeric", Pipeline([("impute", SimpleImputer(strategy="median", keep_empty_features=True))]), numeric),
            (
                "categorical",
                Pipeline(
                    [("strings", FunctionTransformer(strings, feature_names_out="one-to-one")), ("encode", encode)]
                ),
                categorical,
            ),
        ]
    )
    return Pipeline([("prepare", prepare), ("model", model)])


def weighted_auc(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> float:
    """Mann-Whitney AUC with ties counted half, rows weighted; ``p`` sorted ascending."""
    group = np.concatenate([[0], np.cumsum(p[1:] != p[:-1])])
    pos, neg = np.bincount(group, weights=w * y), np.bincount(group, weights=w * (1 - y))
    return float(np.sum(pos * (np.cumsum(neg) - neg + 0.5 * neg)) / (pos.sum() * neg.sum()))


def bootstrap(y: np.ndarray, cand: np.ndarray, champ: np.ndarray, resamples: int = 300) -> tuple[float, float]:
    """Paired bootstrap of the AUC difference; each side sorted once, resamples as row weights."""
    rng = np.random.default_rng(0)
    sides = [(y[order], p[order], order) for p in (cand, champ) for order in [np.argsort(p, kind="stable")]]
    diffs = []
    for _ in range(resamples):
        w = np.bincount(rng.integers(0, len(y), len(y)), minlength=len(y)).astype(float)
        a, b = (weighted_auc(ys, ps, w[order]) for ys, ps, order in sides)
        diffs.append(a - b)
    return float(np.quantile(diffs, 0.025)), float(np.quantile(diffs, 0.975))


def champion_model(client: MlflowClient, name: str):
    try:
        version = client.get_registered_model(name).aliases.get("champion")
    except mlflow.exceptions.MlflowException:
        return None
    return None if version is None else mlflow.sklearn.load_model(f"models:/{name}/{version}")


def register(
    client: MlflowClient,
    name: str,
    model: Pipeline,
    train: pd.DataFrame,
    features: list[str],
    metrics: dict,
    params: dict,
    home: Path,
) -> str:
    experiment = client.get_experiment_by_name(f"bare/{name}")
    experiment_id = (
        experiment.experiment_id
        if experiment
        else client.create_experiment(f"bare/{name}", artifact_location=(home / "artifacts").as_uri())
    )
    sample = train[features].head(200)
    trusted = skops.io.get_untrusted_types(data=skops.io.dumps(model))
    pins = [f"{p}=={installed(p)}" for p in ("scikit-learn", "pandas", "numpy", "mlflow", "skops")]
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_params(params)
        mlflow.log_metrics(metrics)
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(sample, model.predict(sample)),
            serialization_format="skops",
            skops_trusted_types=trusted,
            pip_requirements=pins,
        )
        with tempfile.TemporaryDirectory() as tmp:
            reference = Path(tmp) / "reference.parquet"
            train[[*features, TARGET]].sample(n=min(5000, len(train)), random_state=0).to_parquet(reference)
            mlflow.log_artifact(str(reference), "reference")
    try:
        client.create_registered_model(name)
    except mlflow.exceptions.MlflowException:
        pass
    version = client.create_model_version(name, info.model_uri, run_id=run.info.run_id, model_id=info.model_id).version
    client.set_registered_model_alias(name, "challenger", version)
    return str(version)


def main(workspace: Path, home: Path, new_batches: list[str]) -> None:
    config = yaml.safe_load((workspace / "flights-late.yaml").read_text())
    uri = f"sqlite:///{home / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = MlflowClient(uri, uri)
    name = config["name"]
    df = read_batches(workspace)
    validate(new_batches, workspace / config["validation"]["suite"])
    train, holdout = split(df)
    excluded = {TIME, TARGET, *config["data"]["exclude"]}
    features = [c for c in df.columns if c not in excluded]
    categorical = config["data"]["categorical"]
    numeric = [c for c in features if c not in categorical]
    features = numeric + categorical
    with threadpool_limits(limits=1):
        model = build(config, numeric, categorical).fit(train[features], train[TARGET])
        champion = champion_model(client, name)
        y = holdout[TARGET].to_numpy()
        cand = model.predict_proba(holdout[features])[:, 1]
        metrics = {"roc_auc": roc_auc_score(y, cand)}
        wins = champion is None
        if champion is not None:
            champ = champion.predict_proba(holdout[features])[:, 1]
            low, high = bootstrap(y, cand, champ)
            metrics |= {"champion_roc_auc": roc_auc_score(y, champ), "diff_low": low, "diff_high": high}
            wins = metrics["roc_auc"] >= metrics["champion_roc_auc"]
    version = register(client, name, model, train, features, metrics, config["estimator"]["params"], home)
    if wins:
        client.set_registered_model_alias(name, "champion", version)
    print(json.dumps({"version": version, "promoted": wins, **metrics}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:])
