"""A ``champion`` moved outside Retrain (in the MLflow UI, with MLflow's client) becomes a record.

Moving the alias in the MLflow registry is one of the ways Retrain's users work, rolling back
included. Left unrecorded, the ledger and the registry disagree, and the version the person
took away is not blocked, so the next retrain may promote its twin again. Every command that
touches a model's champion therefore records such a move first, under the model's ledger
lock: an applied ledger entry from the last recorded champion to the one MLflow shows, by
the person (MLflow's own record of who is not read; the actor says where it happened). A move
to an older version is a rollback by a person: the version it replaced is blocked by its
fingerprint exactly as ``retrain rollback`` blocks it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from registry.champion import read_champion
from registry.fingerprint import fingerprint_of
from registry.ledger import LedgerStatus, champion_stack
from registry.promotion_types import ReconcileNote, UnknownModel
from registry.verdicts import add_block

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from registry.ledger import Ledger

OUTSIDE_ACTOR = "a person in the MLflow registry (outside Retrain)"
OUTSIDE_REASON = "champion moved in the MLflow registry, outside Retrain"


def record_outside_move(ledger: "Ledger", client: "MlflowClient", name: str) -> ReconcileNote | None:
    """Record the move when MLflow's champion is not the ledger's; the caller holds the model's lock.

    A model Retrain never promoted has nothing to compare with, and an alias removed outright
    is left to the warnings of ``retrain status``.
    """
    stack = champion_stack(ledger.entries(name, LedgerStatus.APPLIED))
    if not stack:
        return None
    try:
        current = read_champion(client, name)
    except UnknownModel:
        return None
    recorded = stack[-1]
    if current is None or current == recorded:
        return None
    back = _is_older(current, recorded)
    entry = ledger.write_intent(
        name, recorded, current, "rollback" if back else "manual_promote", OUTSIDE_REASON, OUTSIDE_ACTOR, None, None
    )
    ledger.mark(entry.id, LedgerStatus.APPLIED, "recorded: the alias was moved outside Retrain")
    if back:
        tags = client.get_model_version(name, recorded).tags or {}
        add_block(
            ledger, name, recorded, fingerprint_of(tags), "replaced by a rollback in the MLflow registry", OUTSIDE_ACTOR
        )
    what = "rolled back" if back else "moved"
    message = f"champion of {name!r} was {what} outside Retrain, v{recorded} → v{current}; recorded in the ledger" + (
        f", v{recorded} blocked as a rollback blocks it" if back else ""
    )
    return ReconcileNote(entry.id, name, current, LedgerStatus.APPLIED, message, from_version=recorded, outside=True)


def _is_older(current: str, recorded: str) -> bool:
    try:
        return int(current) < int(recorded)
    except ValueError:
        return False
