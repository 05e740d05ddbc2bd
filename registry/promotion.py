"""The only writer of the ``champion`` alias: promote, roll back, reconcile, history.

Every move holds the model's ledger lock while it (1) reconciles entries a crash left
pending, (2) reads the champion, (3) checks the target exists and loads, (4) commits the
intent as *pending*, (5) moves the alias, (6) marks the entry *applied*. A crash between any
two steps leaves ``champion`` on a version that loaded and a row the next command resolves.
Results are typed and errors carry their kind, so the CLI and Prefect flows share this code.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from base.environment import actor as current_actor
from base.errors import Kind, RetrainError
from base.vocabulary import CHALLENGER, CHAMPION
from registry.artifacts import ArtifactProblem, check_digest, has_proof
from registry.fingerprint import fingerprint_of
from registry.ledger import LedgerEntry, StoreLocation, champion_stack, open_ledger, utc_now
from registry.verdicts import active_blocks, active_hold, add_block, add_hold, lift_block, release_hold, withheld_reason

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from registry.ledger import Ledger

FAILPOINT_ENV = "RETRAIN_FAILPOINT"  # test hook: after_intent | after_alias -> SIGKILL self


class PromotionError(RetrainError):
    """A move of ``champion`` that was refused or failed; its ``kind`` tells the CLI which."""

    kind = Kind.UNEXPECTED

    def __init__(self, model: str, message: str):
        self.model = model
        super().__init__(message)


class UnknownModel(PromotionError):
    kind = Kind.UNKNOWN_MODEL


class NothingToRollBack(PromotionError):
    kind = Kind.NOTHING_TO_ROLL_BACK


class TargetUnavailable(PromotionError):
    """The target version is missing, not READY, or does not load."""

    kind = Kind.TARGET_UNAVAILABLE


class PromotionWithheld(PromotionError):
    """An automatic promotion that a hold or a blocked fingerprint stopped."""

    kind = Kind.WITHHELD


class ExpectationMismatch(PromotionError):
    """``expect_current`` no longer matches: someone moved the champion meanwhile."""

    kind = Kind.EXPECTATION_MISMATCH

    def __init__(self, model: str, expected: str, actual: str | None):
        self.expected, self.actual = expected, actual
        super().__init__(
            model, f"champion of {model!r} is {actual or 'none'}, not {expected} as expected; nothing changed"
        )


@dataclass(frozen=True)
class ReconcileNote:
    """What reconciliation decided about one pending entry, and why."""

    entry_id: int
    model: str
    to_version: str
    outcome: str  # applied | failed
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PromotionResult:
    """One call's outcome; ``changed`` is False when the target already was champion."""

    model: str
    action: str
    from_version: str | None
    to_version: str
    changed: bool
    entry_id: int | None
    reason: str | None
    actor: str
    run_id: str | None
    at: str
    warnings: tuple[str, ...] = ()
    reconciled: tuple[ReconcileNote, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["warnings"] = list(self.warnings)
        out["reconciled"] = [n.to_dict() for n in self.reconciled]
        return out


def make_client(config: StoreLocation) -> "MlflowClient":
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=config.tracking_uri, registry_uri=config.tracking_uri)


def failpoint(point: str) -> None:
    """Die at a named step when ``RETRAIN_FAILPOINT`` names it: crash tests need no timing."""
    if os.environ.get(FAILPOINT_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)


def read_champion(client: "MlflowClient", name: str) -> str | None:
    """The version the alias points at now; raises UnknownModel for a missing model."""
    try:
        model = client.get_registered_model(name)
    except Exception as exc:
        if getattr(exc, "error_code", None) == "RESOURCE_DOES_NOT_EXIST":
            raise UnknownModel(name, f"no registered model named {name!r}") from exc
        raise
    return str(model.aliases[CHAMPION]) if CHAMPION in model.aliases else None


def verify_target(config: StoreLocation, client: "MlflowClient", name: str, version: str) -> Any:
    """Refuse a version that is missing or does not load; returns its ModelVersion.

    A version proven loadable at registration is checked by its artifact digest (no model
    import); an older one without that proof is loaded.
    """
    try:
        found = client.get_model_version(name, version)
    except Exception as exc:
        if getattr(exc, "error_code", None) in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            raise TargetUnavailable(name, f"version {version} of {name!r} does not exist") from exc
        raise
    if found.status != "READY":
        raise TargetUnavailable(name, f"version {version} of {name!r} is {found.status}, not READY")
    if has_proof(found.tags):
        try:
            check_digest(client, config.tracking_uri, name, found)
        except ArtifactProblem as exc:
            raise TargetUnavailable(name, f"version {version} of {name!r} does not load: {exc}") from exc
        return found
    _load_fully(config, client, name, version)
    return found


def _load_fully(config: StoreLocation, client: "MlflowClient", name: str, version: str) -> None:
    """The proof for versions registered without a digest: load the model (imports its libraries)."""
    import mlflow

    uri = client.get_model_version_download_uri(name, version)
    if uri.startswith("mlflow-artifacts:"):  # proxied artifacts resolve through the server
        mlflow.set_tracking_uri(config.tracking_uri)
    try:
        mlflow.pyfunc.load_model(uri)
    except Exception as exc:
        raise TargetUnavailable(name, f"version {version} of {name!r} does not load: {exc!r}") from exc


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
    pending = ledger.entries(name, "pending")
    if not pending:
        return []
    try:
        current = read_champion(client, name)
    except UnknownModel:
        current = None
    notes = []
    for entry in pending:
        took_effect = current == entry.to_version
        outcome = "applied" if took_effect else "failed"
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
    """Resolve the model's pending entries; cheap (no MLflow call) when there are none."""
    ledger = open_ledger(config.ledger_url)
    if not ledger.entries(name, "pending"):
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
            ledger.mark(entry.id, "applied", f"alias write raised but took effect: {exc}")
            return
        ledger.mark(entry.id, "failed", f"alias write failed: {exc}")
        raise PromotionError(entry.model, f"could not move champion of {entry.model!r}: {exc}") from exc
    failpoint("after_alias")
    ledger.mark(entry.id, "applied")


def _is_current(expected: str, current: str | None) -> bool:
    """``none`` (any case) or an empty string expects no champion at all."""
    return expected.strip().lower() in ("none", "") if current is None else expected.strip() == current


def _move(
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
        target = str(choose(current, ledger.entries(name, "applied")))
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


def move_champion(
    config: StoreLocation,
    client: "MlflowClient | None",
    name: str,
    to_version: str | int,
    action: str,
    reason: str | None,
    actor: str | None = None,
    run_id: str | None = None,
    metrics: dict | None = None,
    expect_current: str | None = None,
    fingerprint: str | None = None,
    automatic: bool = False,
) -> PromotionResult:
    """Point ``champion`` at ``to_version`` through the ledger (the gate calls this).

    The gate passes ``expect_current`` (the champion it compared against: compare-and-swap)
    and ``automatic=True`` with the candidate's fingerprint, so a hold or a block set by a
    person refuses the move (``PromotionWithheld``) inside the same lock as the move.
    """

    def guard(ledger: "Ledger") -> None:
        why = withheld_reason(ledger, name, fingerprint)
        if why is not None:
            raise PromotionWithheld(name, f"v{to_version} not promoted: {why}")

    return _move(
        config,
        client,
        name,
        lambda _cur, _applied: str(to_version),
        action,
        reason,
        actor,
        run_id,
        metrics,
        expect_current,
        guard=guard if automatic else None,
    )


def promote(
    config: StoreLocation,
    client: "MlflowClient | None",
    name: str,
    version: str | int,
    reason: str,
    actor: str | None = None,
    expect_current: str | None = None,
    run_id: str | None = None,
) -> PromotionResult:
    """A person's promotion of a chosen version, recorded as ``manual_promote``.

    A person may promote a blocked version (the block ends) or during a hold (it stays,
    and the result says so): the ledger records who overrode what, and why.
    """

    def after(ledger: "Ledger", _client: "MlflowClient", entry: LedgerEntry) -> list[str]:
        notes = []
        if lift_block(ledger, name, entry.to_version, entry.actor):
            notes.append(f"v{entry.to_version} was blocked; this promotion lifted the block")
        if active_hold(ledger, name) is not None:
            notes.append(f"{name!r} stays on hold for automatic promotions; `retrain release {name}` ends it")
        return notes

    return _move(
        config,
        client,
        name,
        lambda _cur, _applied: str(version),
        "manual_promote",
        reason,
        actor,
        run_id,
        None,
        expect_current,
        after=after,
    )


def previous_champion(name: str, current: str | None, applied: list[LedgerEntry]) -> str:
    """The version that held ``champion`` before ``current``, as the ledger records it."""
    stack = champion_stack(applied)
    if not stack:
        raise NothingToRollBack(name, f"the ledger records no champion of {name!r} to go back to")
    if current != stack[-1]:  # moved outside the ledger: the last recorded champion came before
        return stack[-1]
    if len(stack) < 2:
        raise NothingToRollBack(name, f"version {current} is the first champion of {name!r}; nothing before it")
    return stack[-2]


def rollback(
    config: StoreLocation,
    client: "MlflowClient | None",
    name: str,
    to: str | int | None = None,
    reason: str | None = None,
    actor: str | None = None,
    expect_current: str | None = None,
    run_id: str | None = None,
    hold: bool = False,
) -> PromotionResult:
    """Put back the version that held ``champion`` before the current one (or ``to``).

    The version taken away is blocked by its fingerprint; ``hold`` also freezes automatic
    promotions of the model until ``release``.
    """

    def choose(current: str | None, applied: list[LedgerEntry]) -> str:
        return str(to) if to is not None else previous_champion(name, current, applied)

    def after(ledger: "Ledger", client: "MlflowClient", entry: LedgerEntry) -> list[str]:
        if entry.from_version:
            tags = client.get_model_version(name, entry.from_version).tags or {}
            add_block(
                ledger, name, entry.from_version, fingerprint_of(tags), entry.reason or "rolled back", entry.actor
            )
        if hold:
            add_hold(ledger, name, entry.reason or "held at rollback", entry.actor)
        return []

    try:
        return _move(config, client, name, choose, "rollback", reason, actor, run_id, None, expect_current, after=after)
    except TargetUnavailable as err:
        if to is not None:
            raise
        from registry.audit import next_loadable_hint

        raise TargetUnavailable(
            name, f"{err}; {next_loadable_hint(config, client or make_client(config), name)}"
        ) from err


def release(config: StoreLocation, name: str, actor: str | None = None) -> dict[str, Any]:
    """End the model's hold; automatic promotions resume with the next retrain."""
    ledger = open_ledger(config.ledger_url)
    with ledger.lock(name):
        ended = release_hold(ledger, name, actor or current_actor())
    return {
        "model": name,
        "released": ended is not None,
        "hold": ended.to_dict() if ended else None,
        "blocks": [b.to_dict() for b in active_blocks(ledger, name)],
    }


def history(config: StoreLocation, name: str) -> list[LedgerEntry]:
    """Every ledger entry of the model, oldest first (call :func:`reconcile` before)."""
    return open_ledger(config.ledger_url).entries(name)
