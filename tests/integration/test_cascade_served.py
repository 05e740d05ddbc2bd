"""A cascade is retrained, registered as one model, loaded, gated and served over HTTP.

Both champions in one home, a plain one and a cascade, are served by ``mlflow models serve``
(the local environment, nothing installed or downloaded) and must answer a scoring request
with the labels the locally loaded models predict.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytestmark = pytest.mark.integration

HEAVY = {"class_path": "sklearn.ensemble.HistGradientBoostingClassifier", "params": {"max_iter": 40}}
CASCADE = {"light": {"class_path": "sklearn.linear_model.LogisticRegression", "features": ["x1"]}}


def test_plain_and_cascade_champions_are_registered_gated_and_served(workspace, synth, mlflow_serving, tmp_path):
    import mlflow
    from mlflow import MlflowClient

    from base.settings import load_config
    from registry.versions import load_model
    from training.cascade import CascadeModel
    from training.gate import decide_promotion

    root = workspace.parent
    (root / "cascade").mkdir()
    cascade_path = synth.write_config(
        root / "cascade",
        name="synth-cascade",
        data={"path": str(root / "batches" / "*.csv")},
        validation={"suite": str(root / "synth.suite.json")},
        state={"home": str(root / "home")},
        estimator=HEAVY,
        cascade=CASCADE,
    )
    assert synth.run_flow(workspace)["status"] == "promoted"
    outcome = synth.run_flow(cascade_path)
    assert outcome["status"] == "promoted", outcome
    assert outcome["decision"]["candidate_score"] >= 0.6  # gated on the holdout like any candidate

    config = load_config(cascade_path)
    client = MlflowClient(config.tracking_uri, config.tracking_uri)
    versions = client.search_model_versions("name = 'synth-cascade'")
    assert [str(v.version) for v in versions] == ["1"]  # one MLflow model, not two
    tags = client.get_model_version("synth-cascade", "1").tags
    assert tags["gate.decision"] == "promote"
    assert tags["cascade.light"] == "sklearn.linear_model.LogisticRegression"
    assert tags["cascade.heavy"] == HEAVY["class_path"]
    assert json.loads(tags["cascade.heavy_params"])["max_iter"] == 40
    assert tags["cascade.light_features"] == "x1"
    light_share, heavy_share = float(tags["cascade.light_share"]), float(tags["cascade.heavy_share"])
    assert 0.0 <= light_share <= 1.0 and light_share + heavy_share == pytest.approx(1.0)
    assert int(tags["cascade.validation_rows"]) > 0
    # the validation slice ends before the holdout starts
    assert tags["cascade.validation_window"].split("..")[1] <= outcome["lineage"]["holdout_window"].split("..")[0]

    cascade = load_model(config, "synth-cascade", "champion")
    assert isinstance(cascade, CascadeModel)
    assert cascade.threshold == float(tags["cascade.threshold"])
    plain = load_model(config, "synth", "champion")
    # the loaded cascade against the plain champion on the same holdout: a paired comparison
    holdout = synth.make_month(3)
    judged = decide_promotion(config.task, config, cascade, plain, holdout, ["x1", "x2", "colour"], "1")
    assert judged.champion_score is not None and judged.bootstrap is not None
    assert judged.candidate_metrics["roc_auc"] == pytest.approx(outcome["decision"]["candidate_score"], abs=0.1)

    batch = synth.make_month(4, rows=60, seed=3).drop(columns=["ts", "label"])
    expected = {"synth": plain.predict(batch), "synth-cascade": cascade.predict(batch)}
    mlflow.set_tracking_uri(config.tracking_uri)
    mlflow.set_registry_uri(config.tracking_uri)
    pyfunc = mlflow.pyfunc.load_model("models:/synth-cascade@champion")
    assert np.array_equal(pyfunc.predict(batch), expected["synth-cascade"])

    models = {name: f"models:/{name}@champion" for name in expected}
    with mlflow_serving.serve(models, config.tracking_uri, tmp_path) as ports:
        for name, port in ports.items():
            served = mlflow_serving.invoke(port, batch)
            assert served == expected[name].tolist(), name
            assert set(served) <= {0, 1}
