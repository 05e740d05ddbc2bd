"""Quarantined batches a person let back in: the ledger's record of who, why and what.

A release is a verdict like a rollback: a person looked at a batch validation stopped and
decided it may be trained on. It lives in the ledger's database beside the promotions, so
``retrain history`` tells the whole story of a model in one place, and the next run (on
any machine of the team) knows the batch's content was accepted: a release is keyed by the
content hash of the batch, never by its file name, so a different file under the same name
is validated as usual.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from registry.ledger import as_utc, utc_now
from registry.tables import releases

if TYPE_CHECKING:
    from registry.ledger import Ledger


@dataclass(frozen=True)
class Release:
    """One batch released from quarantine; ``failures`` are the rules it had failed."""

    model: str
    batch: str
    data_hash: str
    reason: str
    actor: str | None
    widened: bool
    suite_version: int | None
    failures: tuple[str, ...]
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "batch": self.batch,
            "data_hash": self.data_hash,
            "reason": self.reason,
            "actor": self.actor,
            "widened": self.widened,
            "suite_version": self.suite_version,
            "failures": list(self.failures),
            "created_at": self.created_at.isoformat(),
        }


def record_release(ledger: "Ledger", release: Release) -> Release:
    with ledger.engine.begin() as conn:
        conn.execute(
            releases.insert().values(
                model=release.model,
                batch=release.batch,
                data_hash=release.data_hash,
                reason=release.reason,
                actor=release.actor,
                widened=release.widened,
                suite_version=release.suite_version,
                failures=json.dumps(list(release.failures)),
                created_at=release.created_at,
            )
        )
    return release


def list_releases(ledger: "Ledger", model: str) -> list[Release]:
    """Every release of the model, oldest first."""
    stmt = releases.select().where(releases.c.model == model).order_by(releases.c.id)
    with ledger.engine.begin() as conn:
        return [_to_release(row) for row in conn.execute(stmt)]


def find_release(ledger: "Ledger", model: str, data_hash: str) -> Release | None:
    """The newest release of exactly this content, if a person made one."""
    stmt = (
        releases.select()
        .where(releases.c.model == model, releases.c.data_hash == data_hash)
        .order_by(sa.desc(releases.c.id))
    )
    with ledger.engine.begin() as conn:
        row = conn.execute(stmt).first()
    return _to_release(row) if row is not None else None


def new_release(
    model: str, batch: str, data_hash: str, reason: str, actor: str | None, widened: bool, **extra: Any
) -> Release:
    return Release(
        model=model,
        batch=batch,
        data_hash=data_hash,
        reason=reason,
        actor=actor,
        widened=widened,
        suite_version=extra.get("suite_version"),
        failures=tuple(extra.get("failures") or ()),
        created_at=utc_now(),
    )


def _to_release(row: Any) -> Release:
    return Release(
        model=row.model,
        batch=row.batch,
        data_hash=row.data_hash,
        reason=row.reason,
        actor=row.actor,
        widened=bool(row.widened),
        suite_version=row.suite_version,
        failures=tuple(json.loads(row.failures or "[]")),
        created_at=as_utc(row.created_at),
    )
