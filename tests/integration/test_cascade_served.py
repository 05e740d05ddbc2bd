"""A cascade is retrained, registered as one model, loaded, gated and served over HTTP.

Both champions in one home, a plain one and a cascade, are served by ``mlflow models serve``
(the local environment, nothing installed or downloaded) and must answer a scoring request
with the labels the locally loaded models predict.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.integration

HEAVY = {"class_path": "sklearn.ensemble.HistGradientBoostingClassifier", "params": {"max_iter": 40}}
CASCADE = {"light": {"class_path": "sklearn.linear_model.LogisticRegression", "features": ["x1"]}}
SERVE_WAIT_SECONDS = 120
MLFLOW = Path(sys.executable).parent / "mlflow"


def start_server(name: str, tracking_uri: str, port: int, log: Path) -> subprocess.Popen:
    """``mlflow models serve`` of ``name@champion`` from this environment, in its own process group.

    The local environment manager runs ``uvicorn`` through the shell, so this environment's
    ``bin`` folder must be on ``PATH``, as it is in an activated virtual environment.
    """
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri, "MLFLOW_REGISTRY_URI": tracking_uri}
    env["PATH"] = f"{MLFLOW.parent}{os.pathsep}{env.get('PATH', '')}"  # it execs ``uvicorn`` by name
    cmd = [str(MLFLOW), "models", "serve", "-m", f"models:/{name}@champion", "--env-manager", "local"]
    cmd += ["--host", "127.0.0.1", "-p", str(port)]
    return subprocess.Popen(cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)


def wait_until_up(proc: subprocess.Popen, port: int, log: Path, local_net) -> None:
    deadline = time.monotonic() + SERVE_WAIT_SECONDS
    while not local_net.answers(f"http://127.0.0.1:{port}/ping"):
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"model server on port {port} did not come up:\n{log.read_text()[-3000:]}")
        time.sleep(0.3)


def invoke(port: int, frame) -> list:
    """POST the frame as ``dataframe_split`` JSON; the server's ``predictions``."""
    body = json.dumps({"dataframe_split": json.loads(frame.to_json(orient="split", index=False))}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/invocations", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())["predictions"]


def test_plain_and_cascade_champions_are_registered_gated_and_served(workspace, synth, local_net, tmp_path):
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

    servers = {}
    try:
        for name in expected:  # both start before either is awaited: their start-ups overlap
            port, log = local_net.free_port(), tmp_path / f"serve-{name}.log"
            while port in {p for _, p, _ in servers.values()}:  # not yet bound by the first server
                port = local_net.free_port()
            servers[name] = (start_server(name, config.tracking_uri, port, log), port, log)
        for name, (proc, port, log) in servers.items():
            wait_until_up(proc, port, log, local_net)
            served = invoke(port, batch)
            assert served == expected[name].tolist(), name
            assert set(served) <= {0, 1}
    finally:
        for proc, _, _ in servers.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=30)
