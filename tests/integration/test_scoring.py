"""Serving end to end on real GX, MLflow and a Prefect server: score, refuse, review, feed labels
back, and let a degraded champion start a retrain through the deployment's event trigger."""

from __future__ import annotations

import json
import time

import pandas as pd
import pytest
from typer.testing import CliRunner

from base.exitcodes import Exit
from base.settings import load_config

pytestmark = pytest.mark.integration


def cli(*args: str):
    from retrain.cli import app

    return CliRunner().invoke(app, [*args, "--json"])


def logged_files(home, model="synth") -> list:
    return sorted((home / "predictions" / model).glob("day=*/*.parquet"))


def performance_runs(deployment_id) -> list:
    from prefect import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
            sort=FlowRunSort.START_TIME_DESC,
            limit=10,
        )
    return [r for r in runs if r.parameters.get("trigger") == "performance"]


def wait_for(what: str, probe, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}")


def test_score_review_and_feedback_that_starts_a_retrain(workspace, synth, tmp_path, monkeypatch):
    from mlflow import MlflowClient
    from prefect.flow_engine import run_flow

    from flows.deploy import retrain_deployment
    from flows.feedback import feedback_flow
    from flows.retrain import retrain_flow

    monkeypatch.setenv("RETRAIN_ACTOR", "reviewer@test")
    assert synth.run_flow(workspace)["status"] == "promoted"
    config = load_config(workspace)
    home = config.home
    tags = MlflowClient(config.tracking_uri).get_model_version("synth", "1").tags
    assert tags["serving.mode"] == '"review_rate"' and float(tags["serving.holdout_review_rate"]) <= 0.15

    # scoring writes one row per input row, logs them under the day, queues the unsure ones
    month = synth.make_month(4, rows=400)
    month["x1"] = month["x1"].clip(-2.5, 2.5)
    batch = tmp_path / "m04.csv"
    month.to_csv(batch, index=False)
    out = tmp_path / "scored.parquet"
    done = cli("score", str(workspace), str(batch), "--out", str(out))
    assert done.exit_code == 0, done.output
    summary = json.loads(done.output)
    rows = pd.read_parquet(out)
    assert list(rows.columns[:6]) == ["id", "prediction", "score", "confidence", "version", "route"]
    assert len(rows) == 400 and rows["id"].is_unique and set(rows["version"]) == {"1"}
    review = rows[rows["route"] == "review"]
    assert summary["review_rows"] == summary["queued"] == len(review) and 0 < len(review) < 120
    assert review["confidence"].max() < rows.loc[rows["route"] == "auto", "confidence"].min()
    assert cli("score", str(workspace), str(batch), "--out", str(out)).exit_code == 0  # same batch again
    (logged,) = logged_files(home)
    assert logged.name == f"{summary['batch_id']}.parquet" and len(pd.read_parquet(logged)) == 400

    # an invalid batch is refused: exit 3, no output file, nothing logged or queued
    broken = month.assign(x2=1000.0)
    broken.to_csv(tmp_path / "broken.csv", index=False)
    refused = cli("score", str(workspace), str(tmp_path / "broken.csv"), "--out", str(tmp_path / "no.csv"))
    assert refused.exit_code == Exit.DATA_INVALID, refused.output
    assert "refused" in json.loads(refused.output)["error"]["message"]
    assert not (tmp_path / "no.csv").exists() and logged_files(home) == [logged]

    # a reviewer's answer becomes a label, stored with who gave it
    queue = json.loads(cli("review", "list", "synth", "--home", str(home)).output)
    assert {q["id"] for q in queue} == set(review["id"])
    first = queue[0]
    other = "0" if first["prediction"] == "1" else "1"
    banana = cli("review", "answer", "synth", first["id"], "banana", "--home", str(home))
    assert banana.exit_code == Exit.USAGE and "not one of the model's classes ['0', '1']" in banana.output
    assert cli("review", "answer", "synth", first["id"], other, "--home", str(home)).exit_code == 0
    pending = json.loads(cli("review", "list", "synth", "--home", str(home)).output)
    assert first["id"] not in {q["id"] for q in pending} and len(pending) == len(queue) - 1
    answered = json.loads(cli("review", "list", "synth", "--all", "--home", str(home)).output)
    assert {(a["label"], a["reviewer"]) for a in answered if a["id"] == first["id"]} == {(other, "reviewer@test")}

    # late labels: the true outcomes flipped make a degraded champion; feedback exits 9
    labels = pd.DataFrame({"id": rows["id"], "label": 1 - month["label"]})
    labels = labels[labels["id"] != first["id"]]  # that row's label comes from the reviewer
    typo = labels.astype({"label": object}).copy()
    typo.iloc[5, 1] = "late"  # one label the model cannot have: the whole file is refused
    typo.to_csv(tmp_path / "typo.csv", index=False)
    refused = cli("feedback", str(workspace), str(tmp_path / "typo.csv"))
    assert refused.exit_code == Exit.USAGE, refused.output
    assert f"(id {typo.iloc[5, 0]}): label 'late' is not one of the model's classes" in refused.output
    from serving import label_store

    assert label_store.read_labels(home, "synth").empty  # nothing of the refused file was kept
    labels.to_csv(tmp_path / "labels.csv", index=False)
    judged = cli("feedback", str(workspace), str(tmp_path / "labels.csv"))
    assert judged.exit_code == Exit.DRIFT, judged.output
    verdict = json.loads(judged.output)
    assert verdict["signals"] == ["performance"] and verdict["decay"]["degraded"] is True
    assert verdict["labelled_rows"] == 400 and verdict["review_answers"] == 1
    assert verdict["review_override_rate"] == 1.0
    (day,) = verdict["days"]
    assert day["labelled"] == 400 and day["review_rate"] == pytest.approx(len(review) / 400)

    # the feedback flow emits the performance event; the retrain deployment's trigger starts a run
    deployment_id = retrain_deployment(config).apply()
    time.sleep(2)  # the trigger's automation reaches the server's trigger service
    flow_result = feedback_flow(config_path=str(workspace), labels_path=str(tmp_path / "labels.csv"))
    assert flow_result["events"] == ["retrain.performance.degraded"]
    (run,) = wait_for("a retrain run started by the performance event", lambda: performance_runs(deployment_id))
    assert run.parameters["config_path"] == str(workspace)
    assert run.parameters["reason"].startswith("live labels: DEGRADED")
    outcome = run_flow(retrain_flow, flow_run=run, parameters=run.parameters)  # what a worker does with it
    assert outcome.trigger == "performance" and outcome.status == "unchanged"  # same data: nothing new to train

    # rows to score carry no labels yet: the suite's target expectations do not apply; CSV by suffix
    unlabelled = synth.make_month(5, rows=100).drop(columns="label")
    unlabelled["x1"] = unlabelled["x1"].clip(-2.5, 2.5)
    unlabelled.to_csv(tmp_path / "m05.csv", index=False)
    assert (
        cli("score", str(workspace), str(tmp_path / "m05.csv"), "--out", str(tmp_path / "m05.out.csv")).exit_code == 0
    )
    assert len(pd.read_csv(tmp_path / "m05.out.csv")) == 100 and len(logged_files(home)) == 2


def test_small_batches_are_scored_and_rows_behind_a_broken_share_rule_go_to_review(workspace, synth, tmp_path):
    assert synth.run_flow(workspace)["status"] == "promoted"
    config = load_config(workspace)
    suite = json.loads(config.suite_path.read_text())
    for item in suite["expectations"]:  # x2 may be null in up to 10 % of rows, as a sparse column may
        if item["type"] == "expect_column_values_to_not_be_null" and item["kwargs"]["column"] == "x2":
            item["kwargs"]["mostly"] = 0.9
    config.suite_path.write_text(json.dumps(suite))
    month = synth.make_month(4, rows=100)
    month["x1"] = month["x1"].clip(-2.5, 2.5)

    month.head(1).to_csv(tmp_path / "one.csv", index=False)
    one = cli("score", str(workspace), str(tmp_path / "one.csv"), "--out", str(tmp_path / "one-scored.csv"))
    assert one.exit_code == 0, one.output  # its positive rate is not judged on one row
    assert len(pd.read_csv(tmp_path / "one-scored.csv")) == 1

    sparse = month.copy()
    sparse.loc[sparse.index[:40], "x2"] = None  # 40 % where 10 % are allowed: beyond noise at 100 rows
    sparse.to_csv(tmp_path / "sparse.csv", index=False)
    done = cli("score", str(workspace), str(tmp_path / "sparse.csv"), "--out", str(tmp_path / "sparse.parquet"))
    assert done.exit_code == 0, done.output
    rows = pd.read_parquet(tmp_path / "sparse.parquet")
    nulls = sparse["x2"].isna().to_numpy()
    assert (rows.loc[nulls, "route"] == "review").all() and len(rows) == 100
    assert rows.loc[nulls, "review_reason"].str.startswith("null in x2").all()
    assert (rows.loc[~nulls, "review_reason"] == "").all()
    assert any("sent to review" in note for note in json.loads(done.output)["notes"])

    for name, broken in (("typed", month.assign(x1="abc")), ("empty", month.assign(x2=None))):
        broken.to_csv(tmp_path / f"{name}.csv", index=False)  # a wrong type, or a column with nothing in it
        refused = cli("score", str(workspace), str(tmp_path / f"{name}.csv"), "--out", str(tmp_path / "no.csv"))
        assert refused.exit_code == Exit.DATA_INVALID, (name, refused.output)
        assert not (tmp_path / "no.csv").exists()
