"""``retrain endpoint`` as a real process on 127.0.0.1: answers, refusals, the logs, shadow and following.

One trained champion (v1), a weaker challenger (v2, two features only), a copy of the champion
(v3) and a version whose files are gone (v4) share one home; one service process serves the
module, polling its aliases every half second.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from typer.testing import CliRunner

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
POLL = 0.5
BODY_LIMIT = 50_000
SWITCH_BOUND = POLL + 15  # one poll plus loading and warming a version on a busy 2-core machine


def cli(*args: str):
    from retrain.cli import app

    return CliRunner().invoke(app, [*args, "--json"])


def post(port: int, body: bytes, content_type: str = "application/json") -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/invocations", data=body, headers={"Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def split_body(frame: pd.DataFrame) -> bytes:
    return json.dumps({"dataframe_split": json.loads(frame.to_json(orient="split", index=False))}).encode()


def get(port: int, path: str) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return json.loads(response.read())


def logged(config) -> pd.DataFrame:
    from serving.prediction_log import read_log

    return read_log(config.serving.log_root(config.home), config.name)


def settled_log(service) -> pd.DataFrame:
    """The log once every row the service answered so far is written."""
    counts = lambda: get(service.port, "/health")["log"]  # noqa: E731
    wait_for("the writer to catch up", lambda: (c := counts())["rows_logged"] == c["rows_answered"])
    return logged(service.config)


def wait_for(what: str, probe, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def add_versions(config, root: Path) -> None:
    """v2: a weaker model (x2 and colour only) as challenger; v3: a copy of v1; v4: files deleted."""
    import mlflow
    from mlflow import MlflowClient

    from registry.packaging import serialization_options
    from training.pipeline import build_pipeline

    client = MlflowClient(config.tracking_uri, config.tracking_uri)
    first = client.get_model_version("synth", "1")
    tags = {k: v for k, v in first.tags.items() if k.startswith("serving.")}
    train = pd.concat([pd.read_csv(p) for p in sorted((root / "batches").glob("*.csv"))], ignore_index=True)
    weak = build_pipeline(config, train[["x2", "colour"]]).fit(train[["x2", "colour"]], train["label"])
    mlflow.sklearn.save_model(weak, str(root / "weak"), **serialization_options(weak))
    client.create_model_version("synth", str(root / "weak"), tags=tags)
    client.create_model_version("synth", first.source, run_id=first.run_id, tags=tags)
    shutil.copytree(root / "weak", root / "gone")
    client.create_model_version("synth", str(root / "gone"), tags=tags)
    shutil.rmtree(root / "gone")
    client.set_registered_model_alias("synth", "challenger", "2")


@pytest.fixture(scope="module")
def service(tmp_path_factory, migrated_mlflow_db, synth, local_net, child_env):
    from base.settings import load_config
    from monitoring.validation import propose_suite, write_suite

    root = tmp_path_factory.mktemp("endpoint")
    with pytest.MonkeyPatch.context() as patch:
        for var in ("RETRAIN_HOME", "RETRAIN_TRACKING_URI", "RETRAIN_LEDGER_URL", "MLFLOW_TRACKING_URI"):
            patch.delenv(var, raising=False)
        (root / "home").mkdir()
        shutil.copy(migrated_mlflow_db, root / "home" / "mlflow.db")
        (root / "batches").mkdir()
        for month in (1, 2, 3):
            synth.make_month(month).to_csv(root / "batches" / f"m{month:02d}.csv", index=False)
        serving = {
            "shadow": True,
            "endpoint": {"poll_seconds": POLL, "log_flush_seconds": 0.2, "max_body_bytes": BODY_LIMIT},
        }
        path = synth.write_config(root, serving=serving)
        config = load_config(path)
        reference = pd.concat([synth.make_month(m) for m in (1, 2, 3)], ignore_index=True)
        write_suite(propose_suite(reference, config), config.suite_path)
        assert synth.run_flow(path)["status"] == "promoted"
        add_versions(config, root)
        port = local_net.free_port()
        log = root / "endpoint.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "retrain.cli", "endpoint", str(path), "--port", str(port)],
            env=child_env(),
            cwd=REPO,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 120
        while not local_net.answers(f"http://127.0.0.1:{port}/health"):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"the endpoint did not come up:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        month = synth.make_month(4, rows=60).assign(x1=lambda m: m["x1"].clip(-2.5, 2.5))
        month_b = synth.make_month(5, rows=80).assign(x1=lambda m: m["x1"].clip(-2.5, 2.5))
        yield SimpleNamespace(port=port, config=config, path=path, root=root, month=month, month_b=month_b)
        proc.terminate()
        proc.wait(30)


def test_answers_every_mlflow_format_with_score_confidence_route_and_version(service):
    rows = service.month.head(20)
    status, split = post(service.port, split_body(rows))
    assert status == 200, split
    answers = split["predictions"]
    assert len(answers) == 20 and {a["version"] for a in answers} == {"1"}
    assert {"id", "prediction", "score", "confidence", "route", "version"} <= set(answers[0])
    assert all(0.0 <= a["score"] <= 1.0 and a["route"] in ("auto", "review") for a in answers)
    assert not any(key.startswith("shadow") for key in answers[0])  # the challenger is never returned
    records = json.dumps({"dataframe_records": json.loads(rows.to_json(orient="records"))}).encode()
    status, by_records = post(service.port, records)
    assert status == 200 and by_records == split
    status, by_csv = post(service.port, rows.to_csv(index=False).encode(), "text/csv")
    assert status == 200 and [a["id"] for a in by_csv["predictions"]] == [a["id"] for a in answers]
    assert get(service.port, "/version")["version"] == "1"


def test_one_row_is_checked_row_by_row(service):
    one = service.month.head(1)
    status, answer = post(service.port, split_body(one))
    assert status == 200 and len(answer["predictions"]) == 1
    status, refused = post(service.port, split_body(one.assign(x2=1000.0)))
    assert status == 422 and any("x2" in check for check in refused["failed_checks"]), refused
    status, new_colour = post(service.port, split_body(one.assign(colour="purple")))  # a share says nothing of one row
    assert status == 200 and len(new_colour["predictions"]) == 1, new_colour


def test_refused_and_malformed_requests_get_4xx_and_nothing_is_logged(service):
    before = len(settled_log(service))
    status, refused = post(service.port, split_body(service.month.head(40).assign(x2=1000.0)))
    assert status == 422 and refused["error"]["kind"] == "data_invalid"
    assert any("x2" in check for check in refused["failed_checks"])
    cases = {
        b"{not json": (400, "malformed JSON"),
        b"": (400, "empty request body"),
        b'{"inputs": [[1, 2]]}': (400, "dataframe_split"),
        split_body(service.month.head(3).assign(x9=1.0)): (422, "unknown column(s) 'x9'"),
        split_body(service.month.head(3).drop(columns=["x1"])): (422, "x1"),
        b'{"dataframe_records": [' + b'{"x1": 0.5},' * 5000 + b'{"x1": 0.5}]}': (413, "max_body_bytes"),
    }
    for body, (code, words) in cases.items():
        status, answer = post(service.port, body)
        assert status == code and words in answer["error"]["message"] + json.dumps(answer.get("failed_checks")), (
            body[:40],
            answer,
        )
    good = service.month.tail(7)
    assert post(service.port, split_body(good))[0] == 200  # still answering
    wait_for("the good rows in the log", lambda: len(logged(service.config)) >= before + 7)
    assert len(logged(service.config)) == before + 7  # written in order: nothing of the refused ones


def test_rows_land_in_the_log_and_unsure_ones_in_the_review_queue_with_the_shadow_beside(service):
    from serving.review_queue import list_queue

    status, answer = post(service.port, split_body(service.month))
    assert status == 200
    sent = pd.DataFrame(answer["predictions"])
    wait_for("the rows logged", lambda: set(sent["id"]) <= set(logged(service.config)["id"]))
    log = logged(service.config).drop_duplicates("id", keep="last").set_index("id").loc[sent["id"]]
    assert (log["version"] == "1").all() and (log["shadow_version"] == "2").all()
    assert log["shadow_score"].notna().all() and not (log["shadow_score"] == log["score"]).all()
    review = set(sent.loc[sent["route"] == "review", "id"])
    assert review, "the month should send some rows to review"
    queued = wait_for("the review rows queued", lambda: review <= set(list_queue(service.config.home, "synth")["id"]))
    assert queued


def test_batch_scoring_records_the_shadow_and_feedback_compares_both(service):
    batch = service.root / "m04.csv"
    service.month.to_csv(batch, index=False)
    done = cli("score", str(service.path), str(batch), "--out", str(service.root / "scored.csv"))
    assert done.exit_code == 0, done.output
    assert not any(c.startswith("shadow") for c in pd.read_csv(service.root / "scored.csv").columns)
    log = logged(service.config)
    ids = log.loc[log["batch"] == json.loads(done.output)["batch_id"], "id"]
    assert len(ids) == 60 and log.loc[ids.index, "shadow_version"].eq("2").all()

    labels = pd.DataFrame({"id": ids.to_numpy(), "label": service.month["label"].to_numpy()})
    labels.to_csv(service.root / "labels.csv", index=False)
    result = cli("feedback", str(service.path), str(service.root / "labels.csv"))
    assert result.exit_code in (0, 9), result.output
    shadow = json.loads(result.output)["shadow"]
    assert shadow["champion_version"] == "1" and shadow["challenger_version"] == "2"
    assert shadow["labelled_rows"] >= 60 and shadow["champion_metric"] != shadow["challenger_metric"]
    bootstrap = shadow["bootstrap"]
    assert bootstrap["low"] <= bootstrap["observed_diff"] <= bootstrap["high"]
    assert shadow["verdict"].startswith(("challenger", "no significant"))


def test_a_waiting_challenger_is_promoted_when_it_wins_live_and_discarded_when_it_loses(service):
    """Live labels decide through the approval path: the ledger's compare-and-swap, or a block."""
    import yaml
    from mlflow import MlflowClient

    from flows.feedback import feedback_flow
    from registry.approvals import request_approval
    from registry.ledger import open_ledger
    from registry.verdicts import active_blocks

    raw = yaml.safe_load(service.path.read_text())
    raw["gate"]["promote_after_shadow"] = {"batches": 1}
    gated = service.root / "synth-shadow.yaml"
    gated.write_text(yaml.safe_dump(raw))
    client = MlflowClient(service.config.tracking_uri, service.config.tracking_uri)
    deadline = datetime.now(UTC) + timedelta(hours=1)

    def wait_as_challenger(version: str, against: str) -> None:
        client.set_model_version_tag("synth", version, "gate.champion_version", against)
        client.set_registered_model_alias("synth", "challenger", version)
        request_approval(client, "synth", version, deadline)

    # v2 waits; the world turns out as v2 said: it wins on its shadow rows and is promoted
    wait_as_challenger("2", "1")
    log = settled_log(service)
    shadowed = log[log["shadow_version"] == "2"].drop_duplicates("id")
    labels = shadowed[["id"]].assign(label=shadowed["shadow_prediction"].astype(int))
    labels.to_csv(service.root / "v2-right.csv", index=False)
    won = feedback_flow(config_path=str(gated), labels_path=str(service.root / "v2-right.csv"))
    assert won["shadow_verdict"]["verdict"]["action"] == "promote", won["shadow_verdict"]
    assert "retrain.challenger.promoted_after_shadow" in won["events"]
    assert str(client.get_registered_model("synth").aliases["champion"]) == "2"
    history = json.loads(cli("history", "synth", "--config", str(gated)).output)
    newest = history["entries"][-1]
    assert (newest["to_version"], newest["actor"], newest["status"]) == ("2", "shadow evaluation", "applied")
    assert "beat the champion on live labels" in newest["reason"]

    # v3 (a copy of v1) waits against v2; the labels are v2's answers: it loses and is discarded
    wait_as_challenger("3", "2")
    wait_for("the service to shadow v3", lambda: get(service.port, "/version")["challenger"] == "3", SWITCH_BOUND)
    status, answer = post(service.port, split_body(service.month_b))
    assert status == 200 and {a["version"] for a in answer["predictions"]} == {"2"}
    settled_log(service)
    said = pd.DataFrame(answer["predictions"])
    said[["id"]].assign(label=said["prediction"].astype(int)).to_csv(service.root / "v2-again.csv", index=False)
    lost = cli("feedback", str(gated), str(service.root / "v2-again.csv"))
    verdict = json.loads(lost.output)["shadow_verdict"]
    assert verdict["verdict"]["action"] == "discard" and verdict["answer"]["verdict"] == "approval_rejected"
    assert str(client.get_registered_model("synth").aliases["champion"]) == "2"
    blocked = active_blocks(open_ledger(service.config.ledger_url), "synth")
    assert [b.version for b in blocked] == ["3"] and "did not beat the champion" in blocked[0].reason


def test_follows_promotion_and_rollback_within_the_bound_and_never_a_version_that_does_not_load(service):
    from mlflow import MlflowClient

    answers: list[tuple[float, int, list[str]]] = []
    stop = threading.Event()

    def client_loop() -> None:
        body = split_body(service.month.head(3))
        while not stop.is_set():
            started = time.monotonic()
            status, answer = post(service.port, body)
            answers.append((started, status, [a.get("version") for a in answer.get("predictions", [])]))

    def switched_to(version: str) -> float:
        moved = time.monotonic()
        wait_for(f"v{version} served", lambda: get(service.port, "/version")["version"] == version, SWITCH_BOUND)
        seen = time.monotonic()
        wait_for("requests started after the switch", lambda: [a for a in answers if a[0] > seen][:2])
        after = [v for started, _, vs in answers if started > seen for v in vs]
        assert set(after) == {version}  # once switched, every request is answered by the new champion
        return seen - moved

    first = get(service.port, "/version")["version"]
    loop = threading.Thread(target=client_loop)
    loop.start()
    try:
        promoted = cli("promote", "synth", "3", "--reason", "a copy takes over", "--config", str(service.path))
        assert promoted.exit_code == 0, promoted.output
        switched_to("3")
        rolled = cli("rollback", "synth", "--reason", "back", "--config", str(service.path))
        assert rolled.exit_code == 0, rolled.output
        switched_to(first)

        client = MlflowClient(service.config.tracking_uri, service.config.tracking_uri)
        client.set_registered_model_alias("synth", "champion", "4")  # its files were deleted
        wait_for("v4 refused", lambda: "4" in get(service.port, "/health")["not_loaded"], SWITCH_BOUND)
        polls = get(service.port, "/health")["polls"]
        wait_for("two more polls", lambda: get(service.port, "/health")["polls"] >= polls + 2)
        assert get(service.port, "/version")["version"] == first
    finally:
        stop.set()
        loop.join(60)
    assert answers and all(status == 200 for _, status, _ in answers)  # no request failed during the moves
    assert all(set(versions) <= {first, "3"} and len(set(versions)) == 1 for _, _, versions in answers)


def test_the_endpoint_flow_fails_with_the_service_exit_code(tmp_path, local_net):
    from flows.endpoint import endpoint_flow

    missing = tmp_path / "missing.yaml"
    with pytest.raises(RuntimeError, match="exit code 2"):
        endpoint_flow(config_path=str(missing), port=local_net.free_port())
