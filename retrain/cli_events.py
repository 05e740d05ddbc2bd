"""Decision events from the command line: ``rollback``, ``promote``, ``approve`` and ``reject``.

These commands stay fast and Prefect-free, so they do not start a Prefect server, nor import
Prefect's client (whose background events worker, in a process that ends at once, drops or
delays what it has not sent). When a Prefect server is known (``PREFECT_API_URL``, or the
home's shared server while it runs), the event goes in one acknowledged HTTP request to its
``/api/events`` endpoint, the very endpoint Prefect's clients post to, with the payload the
flows of the same names emit. Without a server nothing could act on the event (automations
live there), so nothing is sent and the output says so. The decision never waits on this:
a server that does not answer within seconds costs a warning, never the command.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from base.notices import notice_for

TIMEOUT_SECONDS = 5.0


def known_api_url(home: str | Path | None) -> str | None:
    """``PREFECT_API_URL``, else the home's shared server when it is recorded and answering."""
    configured = os.environ.get("PREFECT_API_URL", "").strip()
    if configured:
        return configured.rstrip("/")
    from base.settings import resolve_home
    from retrain.processes.health import answers
    from retrain.processes.home_record import read_record
    from retrain.processes.home_server import shared_server_url

    root = resolve_home(str(home) if home else None)
    record = read_record(root)
    if record is None or not answers(record.health):
        return None
    url = shared_server_url(root)
    return url.rstrip("/") if url else None


def event_body(name: str, model: str, payload: dict[str, Any], version: str | None) -> dict[str, Any]:
    """One event as Prefect's ``Event`` schema takes it: the model is the resource, the version related."""
    resource_id = f"retrain.model.{model}"
    related = (
        []
        if version is None
        else [{"prefect.resource.id": f"{resource_id}.v{version}", "prefect.resource.role": "model-version"}]
    )
    return {
        "id": str(uuid.uuid4()),
        "occurred": datetime.now(UTC).isoformat(),
        "event": str(name),
        "resource": {"prefect.resource.id": resource_id, "prefect.resource.name": model},
        "related": related,
        "payload": {**payload, **notice_for(str(name), payload).to_payload()},
    }


def auth_headers() -> dict[str, str]:
    """Prefect's own credentials from the environment: an API key, or the server's basic auth string."""
    if os.environ.get("PREFECT_API_KEY"):
        return {"Authorization": f"Bearer {os.environ['PREFECT_API_KEY']}"}
    if os.environ.get("PREFECT_API_AUTH_STRING"):
        token = base64.b64encode(os.environ["PREFECT_API_AUTH_STRING"].encode()).decode()
        return {"Authorization": f"Basic {token}"}
    return {}


def send_event(home: str | Path | None, name: str, model: str, payload: dict[str, Any], version: str | None) -> dict:
    """Post the event; what happened, for the command's output (``sent`` or why not)."""
    api = known_api_url(home)
    if api is None:
        return {"event": str(name), "sent": False, "server": False, "why": "no Prefect server known (PREFECT_API_URL)"}
    body = json.dumps([event_body(name, model, payload, version)], default=str).encode()
    request = urllib.request.Request(
        f"{api}/events", data=body, method="POST", headers={"Content-Type": "application/json", **auth_headers()}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return {"event": str(name), "sent": 200 <= response.status < 300, "server": True}
    except OSError as exc:
        return {"event": str(name), "sent": False, "server": True, "why": f"the Prefect server did not take it: {exc}"}


def announce_outside_moves(home: str | Path | None, tracking_uri: str, notes: list[Any]) -> list[dict]:
    """``retrain.champion.moved_outside`` for each move this command recorded (``ReconcileNote.outside``)."""
    from base.notices import outside_move_payload
    from base.vocabulary import DecisionEvent

    sent = []
    for note in notes:
        if note.outside:
            payload = outside_move_payload(note.model, tracking_uri, note)
            sent.append(send_event(home, DecisionEvent.MOVED_OUTSIDE, note.model, payload, note.to_version))
    return sent
