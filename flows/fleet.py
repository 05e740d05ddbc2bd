"""``fleet_flow``: the fleet table as a Prefect artifact, and a champion moved in MLflow noticed within the hour.

``retrain status`` (no model) prints the same rows; this flow publishes them under the key
``retrain-fleet`` each time it runs (hourly when registered by ``serve`` or ``deploy``), so
the artifact's history in the UI shows how the fleet changed. Before reading the rows it
reconciles every model: a ``champion`` moved in MLflow's UI since the last command is recorded
in the ledger (a move back blocks the version it replaced) and announced once as
``retrain.champion.moved_outside``, so the people told of decisions hear of it without
waiting for the next retrain.
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from base.settings import store_urls
from flows.decision_events import announce_moves_of
from registry.fleet import fleet_markdown, fleet_models, fleet_table
from registry.ledger import Stores
from registry.moves import reconcile
from registry.store import client_for

FLEET_KEY = "retrain-fleet"


@flow(name="fleet")
def fleet_flow(home: str | None = None, tracking_uri: str | None = None, ledger_url: str | None = None) -> list[dict]:
    """Record champions moved outside Retrain, then read every model's row and publish the table."""
    stores = Stores(*store_urls(home, tracking_uri, ledger_url))
    client = client_for(stores.tracking_uri)
    logger = get_run_logger()
    for name in fleet_models(client, stores):
        notes = reconcile(stores, client, name)
        for note in notes:
            logger.warning("%s", note.message)
        announce_moves_of(name, stores.tracking_uri, notes)
    rows = fleet_table(stores, client)
    create_markdown_artifact(
        markdown="# Retrain fleet\n\n" + fleet_markdown(rows), key=FLEET_KEY, description=f"{len(rows)} model(s)"
    )
    logger.info("fleet: %d model(s)", len(rows))
    return [r.to_dict() for r in rows]
