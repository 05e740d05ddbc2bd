"""The only writer of the ``champion`` alias: promote, roll back, release, history.

Each public move runs the locked sequence of ``registry.moves`` (reconcile, read, check,
intent, alias, applied) with its own target, guard and follow-up, so a crash between any
two steps leaves a row the next command resolves. Results are typed and errors carry their
kind (``registry.promotion_types``), so the CLI and Prefect flows share this code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from base.environment import actor as current_actor
from registry.audit import next_loadable_hint
from registry.champion import make_client
from registry.fingerprint import fingerprint_of
from registry.ledger import LedgerEntry, StoreLocation, champion_stack, open_ledger
from registry.moves import move_locked
from registry.promotion_types import NothingToRollBack, PromotionResult, PromotionWithheld, TargetUnavailable
from registry.verdicts import active_blocks, active_hold, add_block, add_hold, lift_block, release_hold, withheld_reason

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from registry.ledger import Ledger


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

    return move_locked(
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

    return move_locked(
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
        return move_locked(
            config, client, name, choose, "rollback", reason, actor, run_id, None, expect_current, after=after
        )
    except TargetUnavailable as err:
        if to is not None:
            raise
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
