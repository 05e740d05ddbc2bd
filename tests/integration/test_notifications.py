"""Decisions reach Slack-style and custom webhooks and an SMTP mailbox through Prefect's automations.

Everything is real: a webhook receiver and an SMTP server (aiosmtpd) on 127.0.0.1 started
here, the blocks and automations ``retrain serve`` creates on the Prefect test server, whose
trigger and action services render and send. One module fixture sets them up once; the
decisions run one after the other and each destination's messages are checked at the end.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import ClassVar

import pandas as pd
import pytest

pytestmark = pytest.mark.integration

SLACK_TOKEN = f"xoxSECRET{uuid.uuid4().hex[:12]}"
HOOK_TOKEN = f"hookSECRET{uuid.uuid4().hex[:12]}"
CHAT_EVENTS = [
    "retrain.model.promoted",
    "retrain.model.rejected",
    "retrain.model.quarantined",
    "retrain.model.rolled_back",
    "retrain.champion.moved_outside",
]
INCIDENT_EVENTS = ["retrain.model.quarantined", "retrain.model.rolled_back", "retrain.champion.moved_outside"]
MAIL_EVENTS = ["retrain.model.promoted", "retrain.model.rolled_back"]


class Receiver(BaseHTTPRequestHandler):
    """Records every POST: path and JSON body."""

    posts: ClassVar[list[tuple[str, dict]]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.posts.append((self.path, json.loads(body or b"{}")))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def start_receiver(port: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", port), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def start_smtp(port: int):
    from aiosmtpd.controller import Controller

    class Inbox:
        messages: ClassVar[list[str]] = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(envelope.content.decode("utf-8", "replace"))
            return "250 OK"

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, inbox


def notifications(smtp_port: int) -> dict:
    return {
        "destinations": [
            {"name": "chat", "kind": "slack", "url_env": "TEST_SLACK_URL", "events": CHAT_EVENTS},
            {"name": "incidents", "kind": "webhook", "url_env": "TEST_HOOK_URL", "events": INCIDENT_EVENTS},
            {
                "name": "mail",
                "kind": "email",
                "smtp_host": "127.0.0.1",
                "smtp_port": smtp_port,
                "security": "none",
                "sender": "retrain@example.com",
                "to": ["ml-team@example.com"],
                "events": MAIL_EVENTS,
            },
            {"name": "down", "kind": "webhook", "url_env": "TEST_DOWN_URL"},
        ]
    }


def start_cli(env: dict, *args: str):
    """``python -m retrain.cli ARGS`` in a child process, as a person or CI runs it."""
    import subprocess
    import sys

    return subprocess.Popen(
        [sys.executable, "-m", "retrain.cli", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@pytest.fixture(scope="module")
def told(tmp_path_factory, migrated_mlflow_db, synth, child_env):
    """Receivers up, a model configured with four destinations, ``retrain serve`` registered, decisions taken."""
    import mlflow

    from base.settings import load_config
    from monitoring.validation import propose_suite, write_suite
    from tests.integration.conftest import free_port

    root = tmp_path_factory.mktemp("notify")
    http_port, smtp_port, dead_port = free_port(), free_port(), free_port()
    receiver = start_receiver(http_port)
    controller, inbox = start_smtp(smtp_port)
    Receiver.posts = []
    with pytest.MonkeyPatch.context() as mp:
        for var in ("RETRAIN_HOME", "RETRAIN_TRACKING_URI", "RETRAIN_LEDGER_URL", "MLFLOW_TRACKING_URI"):
            mp.delenv(var, raising=False)
        mp.setenv("TEST_SLACK_URL", f"http://127.0.0.1:{http_port}/services/T000/B000/{SLACK_TOKEN}")
        mp.setenv("TEST_HOOK_URL", f"http://127.0.0.1:{http_port}/incidents/{HOOK_TOKEN}")
        mp.setenv("TEST_DOWN_URL", f"http://127.0.0.1:{dead_port}/nobody/{HOOK_TOKEN}")
        (root / "home").mkdir()
        shutil.copy(migrated_mlflow_db, root / "home" / "mlflow.db")
        (root / "batches").mkdir()
        for month in (1, 2, 3):
            synth.make_month(month).to_csv(root / "batches" / f"m{month:02d}.csv", index=False)
        model = f"synth-notify-{uuid.uuid4().hex[:6]}"
        config_path = synth.write_config(root, name=model, notifications=notifications(smtp_port))
        config = load_config(config_path)
        reference = pd.concat([synth.make_month(m) for m in (1, 2, 3)], ignore_index=True)
        write_suite(propose_suite(reference, config), config.suite_path)

        from prefect.settings import PREFECT_API_URL

        api = PREFECT_API_URL.value()
        env = child_env(PREFECT_API_URL=api)
        mp.setenv("PREFECT_API_URL", api)  # the command line's rollback announces to this server
        serving = start_cli(env, "serve", str(config_path), "--register-only", "--json")
        testing = start_cli(env, "notify", "test", str(config_path), "--json")
        served_out, served_err = serving.communicate(timeout=120)
        assert serving.returncode == 0, served_err
        tested_out, tested_err = testing.communicate(timeout=120)
        tested = SimpleNamespace(exit_code=testing.returncode, output=tested_out, stderr=tested_err)
        time.sleep(2)  # the new automations reach the server's trigger service
        outputs = [served_out, served_err, tested_out, tested_err]
        decisions = take_decisions(synth, config_path, model, config.tracking_uri, root)
        yield SimpleNamespace(
            model=model,
            config_path=config_path,
            root=root,
            served=json.loads(served_out),
            tested=tested,
            outputs=outputs,
            decisions=decisions,
            posts=Receiver.posts,
            inbox=inbox,
            api=api,
        )
    receiver.shutdown()
    controller.stop()
    mlflow.set_tracking_uri(None)
    mlflow.set_registry_uri(None)


def take_decisions(synth, config_path, model: str, tracking_uri: str, root) -> dict:
    """Promotion, rejection, quarantine, a promotion by hand, a rollback, a champion moved in MLflow."""
    import yaml
    from mlflow import MlflowClient
    from typer.testing import CliRunner

    from flows.fleet import fleet_flow
    from flows.ops import promote_flow
    from retrain.cli import app

    first = synth.run_flow(config_path)
    raw = yaml.safe_load(config_path.read_text())
    raw["estimator"] = {"class_path": "sklearn.dummy.DummyClassifier", "params": {"strategy": "prior"}}
    crippled = config_path.with_name("crippled.yaml")
    crippled.write_text(yaml.safe_dump(raw))
    rejected = synth.run_flow(crippled)
    synth.make_month(4).drop(columns=["x1"]).to_csv(root / "batches" / "m04.csv", index=False)
    quarantined = synth.run_flow(crippled)
    promote_flow(model=model, version=2, reason="try the prior", config_path=str(config_path))
    rolled = CliRunner().invoke(  # from the command line: its event goes straight to the server
        app, ["rollback", model, "--reason", "the prior predicts nothing", "--config", str(config_path), "--json"]
    )
    assert rolled.exit_code == 0, rolled.output
    mlflow_client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    mlflow_client.set_registered_model_alias(model, "champion", "2")  # as MLflow's UI moves it
    fleet = fleet_flow(home=str(root / "home"))
    rollback = json.loads(rolled.stdout)
    return {"first": first, "rejected": rejected, "quarantined": quarantined, "fleet": fleet, "rollback": rollback}


def wait_for(count, expected: int, timeout: float = 40.0) -> None:
    """Until ``count()`` reaches ``expected``, then one more second for any duplicate to show."""
    deadline = time.monotonic() + timeout
    while count() < expected and time.monotonic() < deadline:
        time.sleep(0.25)
    time.sleep(1.0)


def texts(posts, prefix: str) -> list[str]:
    found = []
    for path, body in list(posts):
        if path.startswith(prefix):
            found.append(body.get("text") or f"{body.get('subject')}\n{body.get('body')}")
    return [t for t in found if "test message" not in t]


def test_each_destination_hears_each_subscribed_decision_once(told):
    assert told.decisions["first"]["status"] == "promoted"
    assert told.decisions["rejected"]["status"] == "rejected"
    assert told.decisions["quarantined"]["status"] == "data_invalid"
    wait_for(lambda: len(texts(told.posts, "/services/")), 6)
    chat = texts(told.posts, "/services/")
    heard = sorted(line.split("\n")[0] for line in chat)
    assert len(chat) == 6, heard  # promoted v1, rejected v2, quarantined, promoted v2, rolled back, moved outside
    model = told.model
    assert all(t.startswith(f"*{model}*: ") for t in chat), heard  # Slack's bold: the model first
    assert sum("v1 promoted to champion (was none)" in t for t in chat) == 1, heard
    assert sum("v2 promoted to champion (was v1)" in t for t in chat) == 1, heard
    [rejected] = [t for t in chat if "rejected" in t.split("\n")[0]]
    assert "v2 rejected; champion v1 stays" in rejected and "why: fail: " in rejected
    assert "roc_auc 0." in rejected and " → 0.5000" in rejected  # the champion's score → the candidate's
    [rolled] = [t for t in chat if "rolled back to v1 (was v2)" in t]
    assert "why: the prior predicts nothing" in rolled  # announced by `retrain rollback`, once
    [announced] = told.decisions["rollback"]["events"]
    assert announced == {"event": "retrain.model.rolled_back", "sent": True, "server": True}
    [moved] = [t for t in chat if "moved in the MLflow registry" in t]
    assert "v1 → v2" in moved
    [promoted] = [t for t in chat if "v1 promoted" in t]
    assert "roc_auc 0." in promoted and "(no champion before)" in promoted and "trigger manual" in promoted

    incidents = texts(told.posts, "/incidents/")
    assert len(incidents) == 3, incidents  # quarantined, rolled back, moved: never a promotion it did not ask for
    assert not any("promoted" in t for t in incidents)
    assert all(t.startswith(f"{model}: ") for t in incidents)  # the subject names the model

    wait_for(lambda: len([m for m in told.inbox.messages if "test message" not in m]), 3)
    mails = [m for m in told.inbox.messages if "test message" not in m]
    assert len(mails) == 3, [m[:300] for m in mails]
    assert sum("rolled back to v1" in m for m in mails) == 1 and sum("promoted to champion" in m for m in mails) == 2
    assert all(model in m and "To: ml-team@example.com" in m for m in mails)


def test_serve_sets_up_one_block_and_automation_per_destination_and_again_in_place(told):
    from prefect import get_client

    from base.settings import load_config
    from flows.notify import all_automations, setup_notifications

    rows = told.served["notifications"]
    assert sorted(r["destination"] for r in rows) == ["chat", "down", "incidents", "mail"]
    assert all(r["action"] == "created" for r in rows)
    again = setup_notifications([load_config(told.config_path)])
    assert all(r["action"] == "updated" for r in again)
    assert {r["automation_id"] for r in again} == {r["automation_id"] for r in rows}
    with get_client(sync_client=True) as client:
        mine = [a for a in all_automations(client) if f"model:{told.model}" in a.tags]
    assert len(mine) == 4


def test_notify_test_reports_which_destination_answered(told):
    assert told.tested.exit_code == 15, told.tested.output
    data = json.loads(told.tested.output)
    assert data["error"]["kind"] == "notify_failed" and data["exit_code"] == 15
    answered = {d["destination"]: d["answered"] for d in data["destinations"]}
    assert answered == {"chat": True, "incidents": True, "mail": True, "down": False}
    assert any("test message" in (b.get("text") or b.get("subject") or "") for _, b in told.posts)
    assert any("test message" in m for m in told.inbox.messages)


def test_a_destination_that_is_down_fails_its_action_not_the_retrain(told):
    """The retrain promoted while ``down`` refused every message; the failure is in the automation history."""
    from prefect import get_client
    from prefect.events.filters import EventFilter, EventNameFilter

    assert told.decisions["first"]["status"] == "promoted"
    [down] = [r for r in told.served["notifications"] if r["destination"] == "down"]
    query = EventFilter(event=EventNameFilter(name=["prefect.automation.action.failed"]))
    deadline = time.monotonic() + 30
    failed: list = []
    while not failed and time.monotonic() < deadline:
        with get_client(sync_client=True) as client:
            events = client.read_events(filter=query, limit=50).events
        failed = [e for e in events if e.resource.id == f"prefect.automation.{down['automation_id']}"]
        time.sleep(0.5)
    assert failed, "the down destination's failed action is not in the automation history"


def test_no_secret_in_any_output_or_file_under_the_home(told):
    for text in told.outputs:
        assert SLACK_TOKEN not in text and HOOK_TOKEN not in text
    for path in (told.root / "home").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert SLACK_TOKEN.encode() not in data and HOOK_TOKEN.encode() not in data, path


def test_a_missing_secret_is_a_config_error_naming_the_variable(told, monkeypatch):
    from typer.testing import CliRunner

    from retrain.cli import app

    monkeypatch.delenv("TEST_HOOK_URL")
    done = CliRunner().invoke(app, ["notify", "test", str(told.config_path), "--json"])
    assert done.exit_code == 2, done.output
    error = json.loads(done.stdout)["error"]
    assert error["kind"] == "config" and "url_env TEST_HOOK_URL is not set" in error["message"]
    assert "incidents" in error["message"] and "Traceback" not in done.output
