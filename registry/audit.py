"""Does the champion the registry shows match the ledger, and does it load?

MLflow's UI can move the ``champion`` alias with a click, and a version's artifacts can be
deleted under it; neither goes through the promotion ledger. ``retrain status`` asks these
questions so such a champion is never shown as normal, and each warning says what to run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from base.errors import RetrainError
from registry.champion import read_champion, verify_target
from registry.ledger import LedgerStatus, champion_stack, open_ledger

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from registry.ledger import StoreLocation


def ledger_champion(stores: "StoreLocation", model: str) -> str | None:
    """The version the ledger's applied entries leave as champion (None: no record)."""
    stack = champion_stack(open_ledger(stores.ledger_url).entries(model, LedgerStatus.APPLIED))
    return stack[-1] if stack else None


def champion_warnings(
    stores: "StoreLocation", client: "MlflowClient", model: str, registry_champion: str | None
) -> list[str]:
    """Warnings about the champion, each naming the command that fixes it; empty when all is well."""
    warnings = []
    recorded = ledger_champion(stores, model)
    if recorded != registry_champion:
        warnings.append(_disagreement(model, registry_champion, recorded))
    if registry_champion is not None:
        problem = load_problem(stores, client, model, registry_champion)
        if problem:
            warnings.append(
                f"champion v{registry_champion} of {model!r} does not load ({problem}); "
                f"serve a loadable version: `retrain rollback {model} --to V` "
                f"or `retrain promote {model} V --reason ...`"
            )
    return warnings


def floor_warning(client: "MlflowClient", model: str, champion: str | None, latest: str | None) -> list[str]:
    """Warn when the newest gate found the champion itself below the configured floor.

    The gate records that on the candidate it judged; only a verdict about the version
    that still is champion counts, so a later promotion or rollback silences it.
    """
    from registry.versions import get_version

    if champion is None or latest is None:
        return []
    newest = get_version(client, model, latest)
    tags = newest.tags if newest is not None else {}
    if tags.get("gate.champion_below_floor") != "true" or tags.get("gate.champion_version") != champion:
        return []
    return [
        f"champion v{champion} of {model!r} scored {tags.get('gate.champion_score', '?')} on the holdout of "
        f"v{latest}'s run, below the gate's floor: retrain on fresher data, lower `gate.floor` if it is too "
        f"strict, or roll back with `retrain rollback {model}`"
    ]


def _disagreement(model: str, registry_champion: str | None, recorded: str | None) -> str:
    """Say how alias and ledger differ and how to make them agree again."""
    shown = f"v{registry_champion}" if registry_champion else "no champion"
    if recorded is None:
        return (
            f"MLflow's champion alias of {model!r} points at {shown} but the promotion ledger records no "
            f"champion: the alias was moved outside Retrain; record it with "
            f"`retrain promote {model} {registry_champion} --reason ...`"
        )
    return (
        f"MLflow shows {shown} as champion of {model!r} but the promotion ledger's last champion is "
        f"v{recorded}: the alias was moved outside Retrain; keep it with `retrain promote {model} "
        f"{registry_champion or 'V'} --reason ...` or restore it with `retrain rollback {model} --to {recorded}`"
    )


def load_problem(stores: "StoreLocation", client: "MlflowClient", model: str, version: str) -> str | None:
    """Why ``version`` does not load, or None when it does."""
    try:
        verify_target(stores, client, model, version)
    except RetrainError as err:
        return str(err)
    return None


def next_loadable_hint(stores: "StoreLocation", client: "MlflowClient", model: str) -> str:
    """When rollback's default target is gone, name the newest older champion that still loads."""
    stack = champion_stack(open_ledger(stores.ledger_url).entries(model, LedgerStatus.APPLIED))
    current = read_champion(client, model)
    older = stack[:-1] if stack and stack[-1] == current else stack
    for version in reversed(older[:-1]):
        if load_problem(stores, client, model, version) is None:
            return f"the newest older champion that loads is {version}: `retrain rollback {model} --to {version}`"
    return f"no older champion loads; choose a version with `retrain rollback {model} --to V`"
