"""``retrain status`` without a model: the fleet, one row per model, human or ``--json``.

The rows come from ``registry.fleet``; the next scheduled run of each model is read from
Prefect only when ``PREFECT_API_URL`` names a server that answers, so the view works (and
stays fast) without one.
"""

from __future__ import annotations

import os
from typing import Any

from retrain.output import console, emit


def next_runs(api_url: str | None = None) -> dict[str, str]:
    """Earliest scheduled retrain per model on the configured Prefect server; empty without one."""
    url = (api_url or os.environ.get("PREFECT_API_URL", "")).rstrip("/")
    from retrain.processes.health import answers

    if not url or not answers(f"{url}/health"):
        return {}
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
        FlowRunFilterTags,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort
    from prefect.exceptions import PrefectException

    runs_filter = FlowRunFilter(
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])),
        tags=FlowRunFilterTags(all_=["retrain"]),
    )
    try:
        with get_client(sync_client=True) as client:
            runs = client.read_flow_runs(
                flow_run_filter=runs_filter, sort=FlowRunSort.EXPECTED_START_TIME_ASC, limit=200
            )
    except (PrefectException, OSError):  # the next run is a nicety: the table stands without it
        return {}
    found: dict[str, str] = {}
    for run in runs:
        model = next((t.removeprefix("model:") for t in run.tags if t.startswith("model:")), None)
        if model and model not in found and run.expected_start_time is not None:
            found[model] = run.expected_start_time.isoformat(timespec="seconds")
    return found


def show_fleet(stores: Any, as_json: bool) -> None:
    """Every model's row from the registry and the ledger."""
    from base.errors import store_faults
    from registry.fleet import fleet_table
    from registry.store import client_for

    client = client_for(stores.tracking_uri)
    upcoming = next_runs()
    with store_faults("MLflow registry", stores.tracking_uri, "check that the tracking store exists and answers"):
        rows = fleet_table(stores, client, upcoming)
    emit({"models": [r.to_dict() for r in rows]}, as_json, render_fleet)


def render_fleet(data: dict) -> None:
    from rich.markup import escape
    from rich.table import Table

    rows = data["models"]
    if not rows:
        console().print("no models registered yet")
        return
    table = Table(
        "model", "champion", "challenger", "metric", "last retrain", "last drift", "next run", "holds", title="fleet"
    )
    for r in rows:
        score = f"{r['metric']}={r['champion_score']:.4g}" if r["champion_score"] is not None else (r["metric"] or "-")
        lr = r["last_retrain"]
        retrain = (
            f"v{lr['version']} {(lr['when'] or '')[:16]} {lr['trigger'] or ''} {lr['outcome'] or ''}" if lr else "-"
        )
        drift = f"{r['last_drift']['verdict']} {(r['last_drift']['when'] or '')[:16]}" if r["last_drift"] else "-"
        holds = ", ".join(n for n, on in (("on hold", r["hold"]), ("running", r["running"])) if on) or "-"
        table.add_row(
            r["model"],
            r["champion"] or "-",
            r["challenger"] or "-",
            score,
            retrain,
            drift,
            (r["next_run"] or "-")[:16],
            holds,
        )
    console().print(table)
    for r in rows:
        for warning in r["warnings"]:
            console(stderr=True).print(f"[yellow]warning:[/] {r['model']}: {escape(warning)}", soft_wrap=True)
