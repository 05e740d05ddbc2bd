"""LightGBM and XGBoost (the `lightgbm` and `xgboost` extras) end to end: train, gate, register,
load for scoring, roll back, served by `mlflow models serve`; the XGBoost run is a search on the
default local Dask cluster (two worker processes, sized by `compute.workers`). Both split on
categories natively."""

from __future__ import annotations

import yaml
from mlflow import MlflowClient

from base.settings import load_config
from registry.promotion import rollback
from registry.versions import get_version, load_model
from serving.scoring import score_batch

LGBM = "lightgbm.LGBMClassifier"
XGB = "xgboost.XGBClassifier"


def set_sections(config_path, **sections) -> None:
    raw = yaml.safe_load(config_path.read_text())
    raw.update(sections)
    config_path.write_text(yaml.safe_dump(raw))


def test_lightgbm_and_xgboost_train_gate_register_score_roll_back_and_serve(workspace, synth, mlflow_serving, tmp_path):
    set_sections(
        workspace,
        estimator={"class_path": LGBM, "params": {"n_estimators": 40, "verbose": -1}},
        gate={"floor": 0.6, "max_regression": 1.0, "bootstrap": {"resamples": 100, "seed": 0}},
    )
    first = synth.run_flow(workspace)
    assert first["status"] == "promoted", first["message"]

    synth.make_month(4).to_csv(workspace.parent / "batches" / "m04.csv", index=False)
    set_sections(
        workspace,
        compute={"threads": 1, "workers": 2},
        search={
            "include_estimator": False,
            "folds": 2,
            "candidates": [{"class_path": XGB, "params": {"n_estimators": 40, "max_depth": {"choices": [2, 4]}}}],
        },
    )
    second = synth.run_flow(workspace)
    assert second["status"] == "promoted", second["message"]
    assert (second["search"]["completed"], second["search"]["workers"]) == (2, 2)

    config = load_config(workspace)
    client = MlflowClient(config.tracking_uri)
    lgbm = load_model(client, config.name, first["version"]).named_steps["model"]
    xgb = load_model(client, config.name, second["version"]).named_steps["model"]
    assert type(lgbm).__name__ == "LGBMClassifier" and lgbm.get_params()["categorical_feature"] == [2]
    assert type(xgb).__name__ == "XGBClassifier" and xgb.get_params()["feature_types"] == ["q", "q", "c"]
    assert get_version(client, config.name, second["version"]).tags["estimator"] == XGB

    batch = tmp_path / "m05.csv"
    synth.make_month(5).to_csv(batch, index=False)
    scored = score_batch(config, batch)
    assert (scored.version, len(scored.rows)) == (second["version"], 300)

    back = rollback(config, client, config.name, reason="boosting test")
    assert (back.from_version, back.to_version) == (second["version"], first["version"])
    assert score_batch(config, batch, scored_at=None).version == first["version"]

    rows = synth.make_month(5, rows=40, seed=2).drop(columns=["ts", "label"])
    models = {"xgboost": f"models:/{config.name}/{second['version']}", "lightgbm": f"models:/{config.name}@champion"}
    expected = {
        "xgboost": load_model(client, config.name, second["version"]),
        "lightgbm": load_model(client, config.name, "champion"),
    }
    with mlflow_serving.serve(models, config.tracking_uri, tmp_path) as ports:
        for key, port in ports.items():
            served = mlflow_serving.invoke(port, rows)
            assert served == expected[key].predict(rows).tolist(), key  # the rolled-back champion is LightGBM
