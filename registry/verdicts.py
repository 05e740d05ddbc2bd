"""A person's verdicts that automation respects: blocked versions and holds.

A rollback (or a rejected approval) says "not this model": the version taken away is
recorded as *blocked* with the fingerprint of what made it (data, recipe, code), so a
retrain that would rebuild the very same model never promotes it again on its own.
``retrain rollback --hold`` goes further and freezes every automatic promotion of the
model until ``retrain release``. A person's own promotion (``retrain promote``) is not
automatic: it may override both, and the ledger records that it did.

Writers call these inside the model's ledger lock, so a retrain's final promotion check
and a rollback's block cannot interleave.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from registry.ledger import as_utc, utc_now
from registry.tables import blocks, holds

if TYPE_CHECKING:
    from registry.ledger import Ledger


@dataclass(frozen=True)
class Block:
    """A version a person took away; retrains with the same fingerprint are not promoted."""

    model: str
    version: str
    fingerprint: str | None
    reason: str | None
    actor: str | None
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "fingerprint": self.fingerprint,
            "reason": self.reason,
            "actor": self.actor,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class Hold:
    """Automatic promotions of the model are frozen until someone releases it."""

    model: str
    reason: str | None
    actor: str | None
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "reason": self.reason,
            "actor": self.actor,
            "created_at": self.created_at.isoformat(),
        }


def add_block(
    ledger: "Ledger", model: str, version: str, fingerprint: str | None, reason: str | None, actor: str | None
) -> None:
    with ledger.engine.begin() as conn:
        conn.execute(
            blocks.insert().values(
                model=model,
                version=str(version),
                fingerprint=fingerprint,
                reason=reason,
                actor=actor,
                created_at=utc_now(),
            )
        )


def active_blocks(ledger: "Ledger", model: str) -> list[Block]:
    stmt = blocks.select().where(blocks.c.model == model, blocks.c.lifted_at.is_(None)).order_by(blocks.c.id)
    with ledger.engine.begin() as conn:
        return [
            Block(r.model, r.version, r.fingerprint, r.reason, r.actor, as_utc(r.created_at))
            for r in conn.execute(stmt)
        ]


def lift_block(ledger: "Ledger", model: str, version: str, actor: str | None) -> int:
    """End the blocks of one version (a person promoted it again); returns how many ended."""
    stmt = (
        blocks.update()
        .where(blocks.c.model == model, blocks.c.version == str(version), blocks.c.lifted_at.is_(None))
        .values(lifted_at=utc_now(), lifted_by=actor)
    )
    with ledger.engine.begin() as conn:
        return conn.execute(stmt).rowcount


def active_hold(ledger: "Ledger", model: str) -> Hold | None:
    stmt = holds.select().where(holds.c.model == model, holds.c.released_at.is_(None)).order_by(holds.c.id)
    with ledger.engine.begin() as conn:
        row = conn.execute(stmt).first()
    return Hold(row.model, row.reason, row.actor, as_utc(row.created_at)) if row else None


def add_hold(ledger: "Ledger", model: str, reason: str | None, actor: str | None) -> Hold:
    """Freeze automatic promotions; an existing hold stays as it is (one hold per model)."""
    existing = active_hold(ledger, model)
    if existing is not None:
        return existing
    with ledger.engine.begin() as conn:
        conn.execute(holds.insert().values(model=model, reason=reason, actor=actor, created_at=utc_now()))
    return Hold(model, reason, actor, utc_now())


def release_hold(ledger: "Ledger", model: str, actor: str | None) -> Hold | None:
    """End the model's hold; returns the hold that ended, None when there was none."""
    hold = active_hold(ledger, model)
    if hold is None:
        return None
    stmt = (
        holds.update()
        .where(holds.c.model == model, holds.c.released_at.is_(None))
        .values(released_at=utc_now(), released_by=actor)
    )
    with ledger.engine.begin() as conn:
        conn.execute(stmt)
    return hold


def hold_reason(ledger: "Ledger", model: str) -> str | None:
    """Why automatic promotions of ``model`` are frozen, or None."""
    hold = active_hold(ledger, model)
    if hold is None:
        return None
    return (
        f"{model!r} is on hold since {hold.created_at.isoformat(timespec='seconds')} by {hold.actor}"
        f"{': ' + hold.reason if hold.reason else ''}; automatic promotions wait for `retrain release {model}`"
    )


def block_reason(ledger: "Ledger", model: str, fingerprint: str | None) -> str | None:
    """Why a candidate with this fingerprint must not be promoted automatically, or None."""
    if fingerprint is None:
        return None
    for block in active_blocks(ledger, model):
        if block.fingerprint == fingerprint:
            return (
                f"the candidate's fingerprint {fingerprint} equals that of v{block.version}, which "
                f"{block.actor} took away at {block.created_at.isoformat(timespec='seconds')}"
                f"{': ' + block.reason if block.reason else ''}"
            )
    return None


def withheld_reason(ledger: "Ledger", model: str, fingerprint: str | None) -> str | None:
    """Why an automatic promotion must not happen now, or None when nothing stands in its way."""
    return hold_reason(ledger, model) or block_reason(ledger, model, fingerprint)


def describe_guards(ledger: "Ledger", model: str) -> dict[str, Any]:
    """Holds, blocks and the running retrain of a model, for ``status``, ``history`` and the UI."""
    from registry.leases import current_holder

    hold, running = active_hold(ledger, model), current_holder(ledger, model)
    return {
        "hold": hold.to_dict() if hold else None,
        "blocks": [b.to_dict() for b in active_blocks(ledger, model)],
        "running": running.to_dict() if running else None,
    }
