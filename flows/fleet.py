"""``fleet_flow``: the fleet table as a Prefect artifact, so the UI shows every model at once.

``retrain status`` (no model) prints the same rows; this flow publishes them under the key
``retrain-fleet`` each time it runs (hourly when registered by ``serve`` or ``deploy``), so
the artifact's history in the UI shows how the fleet changed.
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from base.settings import store_urls
from registry.fleet import fleet_markdown, fleet_table
from registry.ledger import Stores
from registry.store import client_for

FLEET_KEY = "retrain-fleet"


@flow(name="fleet")
def fleet_flow(home: str | None = None, tracking_uri: str | None = None, ledger_url: str | None = None) -> list[dict]:
    """Read every model's row from the registry and the ledger; publish the table."""
    stores = Stores(*store_urls(home, tracking_uri, ledger_url))
    rows = fleet_table(stores, client_for(stores.tracking_uri))
    create_markdown_artifact(
        markdown="# Retrain fleet\n\n" + fleet_markdown(rows), key=FLEET_KEY, description=f"{len(rows)} model(s)"
    )
    get_run_logger().info("fleet: %d model(s)", len(rows))
    return [r.to_dict() for r in rows]
