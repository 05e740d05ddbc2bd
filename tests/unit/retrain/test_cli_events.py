"""Events from the command line: one request when a server is known, nothing (and no wait) when none is."""

from __future__ import annotations

import socket

from retrain.cli_events import event_body, send_event


def test_an_event_names_the_model_as_resource_and_carries_its_notice():
    body = event_body("retrain.model.rolled_back", "m", {"version": "1", "from_version": "2", "reason": "worse"}, "1")
    assert body["resource"] == {"prefect.resource.id": "retrain.model.m", "prefect.resource.name": "m"}
    assert body["related"] == [{"prefect.resource.id": "retrain.model.m.v1", "prefect.resource.role": "model-version"}]
    assert body["payload"]["headline"] == "rolled back to v1 (was v2)" and body["payload"]["why"] == "worse"


def test_without_a_server_nothing_is_sent_and_a_server_that_is_down_is_said(tmp_path, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    assert send_event(tmp_path / "home", "retrain.model.promoted", "m", {"version": "2"}, "2") == {
        "event": "retrain.model.promoted",
        "sent": False,
        "server": False,
        "why": "no Prefect server known (PREFECT_API_URL)",
    }
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nobody listens once the socket closes
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{port}/api")
    said = send_event(tmp_path / "home", "retrain.model.promoted", "m", {"version": "2"}, "2")
    assert said["sent"] is False and said["server"] is True and "did not take it" in said["why"]
