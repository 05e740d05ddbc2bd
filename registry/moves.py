"""The locked sequence behind every move of ``champion``, and reconciliation after a crash.

Every move holds the model's ledger lock while it (1) reconciles entries a crash left
pending, (2) reads the champion, (3) checks the target exists and loads, (4) commits the
intent as *pending*, (5) moves the alias, (6) marks the entry *applied*. A crash between any
two steps leaves ``champion`` on a version that loaded and a row the next command resolves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from base.environment import actor as current_actor
from base.environment import failpoint
from base.vocabulary import CHALLENGER, CHAMPION
from registry.champion import make_client, read_champion, verify_target
from registry.ledger import LedgerEntry, LedgerStatus, StoreLocation, open_ledger, utc_now
from registry.outside_moves import record_outside_move
from registry.promotion_types import (
    ExpectationMismatch,
    PromotionError,
    PromotionResult,
    ReconcileNote,
    UnknownModel,
)

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from registry.ledger import Ledger


def _known_metrics(ledger: "Ledger", client: "MlflowClient", name: str, found: Any) -> dict:
    """Metrics the version was last promoted with, else those of the run that made it."""
    known = ledger.last_metrics(name, str(found.version))
    if known or not found.run_id:
        return known
    try:
        return dict(client.get_run(found.run_id).data.metrics)
    except Exception:  # the run may be deleted; metrics are informative only
        return {}


def _write_tags(client: "MlflowClient", entry: LedgerEntry) -> list[str]:
    """Mirror the move on the versions so the MLflow UI shows it; failures only warn."""
    at, to, old = utc_now().isoformat(), entry.to_version, entry.from_version
    tags = [(to, "retrain.promoted_at", at), (to, "retrain.promotion_action", entry.action)]
    if entry.action == "rollback":  # who and why stay in the ledger; each tag costs a round trip
        tags.append((to, "retrain.rolled_back_from", old or ""))
        if old:
            tags += [
                (old, "retrain.rolled_back_at", at),
                (old, "retrain.rolled_back_by", entry.actor or ""),
                (old, "retrain.rolled_back_to", to),
            ]
    warnings = []
    for version, key, value in tags:
        try:
            client.set_model_version_tag(entry.model, version, key, value)
        except Exception as exc:
            warnings.append(f"could not tag version {version} with {key}: {exc}")
    return warnings + _retire_challenger(client, entry.model, to)


def _retire_challenger(client: "MlflowClient", name: str, champion: str) -> list[str]:
    """``challenger`` names a candidate that is not the champion: drop it once it became one."""
    try:
        if str(client.get_registered_model(name).aliases.get(CHALLENGER)) == str(champion):
            client.delete_registered_model_alias(name, CHALLENGER)
    except Exception as exc:
        return [f"could not remove the challenger alias from v{champion}: {exc}"]
    return []


def _reconcile_locked(ledger: "Ledger", client: "MlflowClient", name: str) -> list[ReconcileNote]:
    """Resolve pending entries against MLflow; never re-apply a stale intent.

    Re-applying could undo a decision taken since, or turn a retried rollback into two steps
    back; an intent the registry never saw is marked failed, and the note says so.
    """
    pending = ledger.entries(name, LedgerStatus.PENDING)
    if not pending:
        moved = record_outside_move(ledger, client, name)
        return [] if moved is None else [moved]
    try:
        current = read_champion(client, name)
    except UnknownModel:
        current = None
    notes = []
    for entry in pending:
        took_effect = current == entry.to_version
        outcome = LedgerStatus.APPLIED if took_effect else LedgerStatus.FAILED
        msg = (
            f"entry {entry.id}: MLflow shows champion at {current}; the {entry.action} took effect"
            if took_effect
            else f"entry {entry.id}: champion is at {current or '(none)'}, not "
            f"{entry.to_version}; the {entry.action} never took effect and is not retried"
        )
        ledger.mark(entry.id, outcome, f"reconciled: {msg}")
        if took_effect:
            _write_tags(client, entry)
        notes.append(ReconcileNote(entry.id, name, entry.to_version, outcome, msg))
    return notes


def reconcile(config: StoreLocation, client: "MlflowClient | None", name: str) -> list[ReconcileNote]:
    """Resolve the model's pending entries, or record a champion moved outside Retrain.

    Cheap (no MLflow call) for a model the ledger has never seen.
    """
    ledger = open_ledger(config.ledger_url)
    if not ledger.entries(name):
        return []
    client = client or make_client(config)
    with ledger.lock(name):
        return _reconcile_locked(ledger, client, name)


def _set_alias(ledger: "Ledger", client: "MlflowClient", entry: LedgerEntry) -> None:
    """Move the alias; if the call fails, trust only what MLflow shows afterwards."""
    try:
        client.set_registered_model_alias(entry.model, CHAMPION, entry.to_version)
    except Exception as exc:
        if read_champion(client, entry.model) == entry.to_version:
            ledger.mark(entry.id, LedgerStatus.APPLIED, f"alias write raised but took effect: {exc}")
            return
        ledger.mark(entry.id, LedgerStatus.FAILED, f"alias write failed: {exc}")
        raise PromotionError(entry.model, f"could not move champion of {entry.model!r}: {exc}") from exc
    failpoint("after_alias")
    ledger.mark(entry.id, LedgerStatus.APPLIED)


def _is_current(expected: str, current: str | None) -> bool:
    """``none`` (any case) or an empty string expects no champion at all."""
    return expected.strip().lower() in ("none", "") if current is None else expected.strip() == current


def move_locked(
    config: StoreLocation,
    client: "MlflowClient | None",
    name: str,
    choose: Callable,
    action: str,
    reason: str | None,
    actor: str | None,
    run_id: str | None,
    metrics: dict | None,
    expect_current: str | None,
    guard: Callable | None = None,
    after: Callable | None = None,
) -> PromotionResult:
    """The locked sequence; ``choose(current, applied_entries)`` names the target inside it.

    ``guard(ledger)`` may refuse the move and ``after(ledger, client, entry)`` records what
    goes with it (blocks, holds) while the lock is still held, so no other writer sees one
    without the other; ``after`` returns warnings.
    """
    ledger = open_ledger(config.ledger_url)
    client = client or make_client(config)
    actor = actor or current_actor()
    with ledger.lock(name):
        notes = tuple(_reconcile_locked(ledger, client, name))
        current = read_champion(client, name)
        if expect_current is not None and not _is_current(str(expect_current), current):
            raise ExpectationMismatch(name, str(expect_current), current)
        target = str(choose(current, ledger.entries(name, LedgerStatus.APPLIED)))
        base: dict[str, Any] = dict(
            model=name,
            action=action,
            from_version=current,
            to_version=target,
            reason=reason,
            actor=actor,
            run_id=run_id,
            reconciled=notes,
        )
        if target == current:
            return PromotionResult(changed=False, entry_id=None, at=utc_now().isoformat(), **base)
        if guard is not None:
            guard(ledger)
        found = verify_target(config, client, name, target)
        known = metrics if metrics is not None else _known_metrics(ledger, client, name, found)
        entry = ledger.write_intent(name, current, target, action, reason, actor, run_id, known)
        failpoint("after_intent")
        _set_alias(ledger, client, entry)
        warnings = tuple(_write_tags(client, entry)) + tuple(after(ledger, client, entry) if after else ())
    return PromotionResult(changed=True, entry_id=entry.id, at=entry.created_at.isoformat(), warnings=warnings, **base)
