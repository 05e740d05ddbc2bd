"""The write-ahead promotion ledger: every move of the ``champion`` alias, recorded first.

Open-source MLflow keeps no history of which version held an alias, so we keep it in our
own table (``retrain_promotions``) through SQLAlchemy: an SQLite file beside MLflow's by
default, or PostgreSQL. An intent is committed as *pending* before the registry changes, so
a crash between the two leaves a record the next command reconciles, not an unknown truth.

Writers of one model are serialised by a database lock that outlives the short
transactions in between and dies with the process that holds it (``registry.ledger_locks``).
"""

from __future__ import annotations

import json
import os
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, overload

import sqlalchemy as sa

from base.errors import store_faults
from registry.ledger_locks import ModelLocks, immediate_sqlite_engine
from registry.tables import metadata, promotions

ACTIONS = ("promote", "manual_promote", "rollback")
DEFAULT_LOCK_TIMEOUT = 60.0
LEDGER_CHECK = "check that the database answers and the URL names it, or that its folder takes writes"


class LedgerStatus(StrEnum):
    """Where an intent stands: written before the alias moves, then resolved once."""

    PENDING = "pending"
    APPLIED = "applied"
    FAILED = "failed"


class StoreLocation(Protocol):
    """Anything naming the registry and its ledger; ``ModelConfig`` and Stores both do."""

    @property
    def tracking_uri(self) -> str: ...

    @property
    def ledger_url(self) -> str: ...


@dataclass(frozen=True)
class Stores:
    """Both locations alone, for commands that name a model but load no model config."""

    tracking_uri: str
    ledger_url: str


@dataclass(frozen=True)
class LedgerEntry:
    """One recorded intent to move ``champion`` and what became of it."""

    id: int
    model: str
    from_version: str | None
    to_version: str
    action: str
    reason: str | None
    actor: str | None
    run_id: str | None
    status: LedgerStatus
    created_at: datetime
    applied_at: datetime | None
    note: str | None
    metrics: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["created_at"] = self.created_at.isoformat()
        out["applied_at"] = self.applied_at.isoformat() if self.applied_at else None
        return out


def utc_now() -> datetime:
    return datetime.now(UTC)


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes, PostgreSQL the session's zone; we store UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _row_to_entry(row: Any) -> LedgerEntry:
    values = dict(row._mapping)
    values.update(
        created_at=as_utc(values["created_at"]),
        applied_at=as_utc(values["applied_at"]),
        metrics=json.loads(values["metrics"] or "{}"),
        status=LedgerStatus(values["status"]),
    )
    return LedgerEntry(**values)


class Ledger:
    """Reads and writes ``retrain_promotions``; build it with :func:`open_ledger`."""

    def __init__(self, url: str, lock_timeout: float = DEFAULT_LOCK_TIMEOUT):
        self.url = sa.make_url(url)
        self.lock_timeout = lock_timeout
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            db = self.url.database
            if not db or db == ":memory:":
                raise ValueError("the ledger needs an SQLite file or a server database, not memory")
            Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
            self.engine = immediate_sqlite_engine(self.url, lock_timeout)
        else:
            self.engine = sa.create_engine(self.url, pool_pre_ping=True)
        self.locks = ModelLocks(self.url, lock_timeout)

    def create_tables(self) -> None:
        """Idempotent, and safe when several processes open a fresh ledger at once."""
        with self.engine.begin() as conn:
            if not self.is_sqlite:
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('retrain_promotions'))"))
            metadata.create_all(conn)

    def write_intent(
        self,
        model: str,
        from_version: str | None,
        to_version: str,
        action: str,
        reason: str | None,
        actor: str | None,
        run_id: str | None,
        metrics: dict | None,
    ) -> LedgerEntry:
        """Commit a *pending* entry; it is durable when this returns."""
        if action not in ACTIONS:
            raise ValueError(f"action must be one of {ACTIONS}, got {action!r}")
        values = dict(
            model=model,
            from_version=from_version,
            to_version=str(to_version),
            action=action,
            reason=reason,
            actor=actor,
            run_id=run_id,
            status=LedgerStatus.PENDING,
            created_at=utc_now(),
            metrics=json.dumps(metrics or {}, sort_keys=True),
        )
        with self.engine.begin() as conn:
            inserted = conn.execute(promotions.insert().values(**values)).inserted_primary_key
            assert inserted is not None, "an insert always has a primary key"
            new_id = inserted[0]
            row = conn.execute(promotions.select().where(promotions.c.id == new_id)).one()
        return _row_to_entry(row)

    def mark(self, entry_id: int, status: LedgerStatus, note: str | None = None) -> bool:
        """Resolve a pending entry; False when it was no longer pending."""
        if status not in (LedgerStatus.APPLIED, LedgerStatus.FAILED):
            raise ValueError(f"a pending entry resolves to applied or failed, not {status!r}")
        values: dict[str, Any] = {"status": status, "note": note}
        if status == LedgerStatus.APPLIED:
            values["applied_at"] = utc_now()
        stmt = promotions.update().where(promotions.c.id == entry_id, promotions.c.status == LedgerStatus.PENDING)
        with self.engine.begin() as conn:
            return conn.execute(stmt.values(**values)).rowcount == 1

    def entries(self, model: str, status: LedgerStatus | None = None) -> list[LedgerEntry]:
        """The model's entries, oldest first."""
        stmt = promotions.select().where(promotions.c.model == model)
        if status is not None:
            stmt = stmt.where(promotions.c.status == status)
        with self.engine.begin() as conn:
            return [_row_to_entry(r) for r in conn.execute(stmt.order_by(promotions.c.id))]

    def last_metrics(self, model: str, version: str) -> dict[str, float]:
        """Metrics recorded with the latest move to ``version``, so rollbacks carry them."""
        for entry in reversed(self.entries(model)):
            if entry.to_version == version and entry.metrics:
                return entry.metrics
        return {}

    def lock(self, model: str) -> AbstractContextManager[None]:
        """Hold the model's writer lock; released on exit or when the process dies."""
        return self.locks.hold(model)

    def dispose(self) -> None:
        self.engine.dispose()
        self.locks.dispose()


def champion_stack(applied: list[LedgerEntry]) -> list[str]:
    """Versions that held ``champion``, oldest first, replaying applied entries in order.

    A promotion pushes its version; a rollback to a version on the stack pops back to it
    (a rollback to one not on it pushes), so repeated rollbacks walk back, never bounce.
    """
    stack: list[str] = []
    for entry in applied:
        if entry.action == "rollback" and entry.to_version in stack:
            del stack[len(stack) - stack[::-1].index(entry.to_version) :]
        else:
            stack.append(entry.to_version)
    return stack


_OPEN: dict[tuple[str, float], Ledger] = {}


def open_ledger(url: str, lock_timeout: float | None = None) -> Ledger:
    """The ledger at ``url``, tables created on first use, one object per URL and process.
    ``lock_timeout`` (else ``RETRAIN_LOCK_TIMEOUT``, else 60 s) bounds a writer's wait."""
    env_timeout = os.environ.get("RETRAIN_LOCK_TIMEOUT")
    timeout = lock_timeout if lock_timeout is not None else float(env_timeout or DEFAULT_LOCK_TIMEOUT)
    key = (url, timeout)
    if key not in _OPEN:
        with store_faults("promotion ledger", url, LEDGER_CHECK, bad_url=sa.exc.ArgumentError):
            ledger = Ledger(url, timeout)
            ledger.create_tables()
        _OPEN[key] = ledger
    return _OPEN[key]


def forget_model(url: str, model: str) -> int:
    """Delete a model's entries, for a demo that starts its model from scratch; returns how many."""
    ledger = open_ledger(url)
    with ledger.lock(model), ledger.engine.begin() as conn:
        return conn.execute(promotions.delete().where(promotions.c.model == model)).rowcount
