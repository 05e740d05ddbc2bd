"""The write-ahead promotion ledger: every move of the ``champion`` alias, recorded first.

Open-source MLflow keeps no history of which version held an alias, so we keep it in our
own table (``retrain_promotions``) through SQLAlchemy: an SQLite file beside MLflow's by
default, or PostgreSQL. An intent is committed as *pending* before the registry changes, so
a crash between the two leaves a record the next command reconciles, not an unknown truth.

Writers of one model are serialised by a database lock that outlives the short
transactions in between (the pending row must be committed, hence durable, while the lock
is still held) and dies with the process that holds it:
- PostgreSQL: a session-level advisory lock on a dedicated connection;
- SQLite: ``BEGIN IMMEDIATE`` held on a small per-model lock database in
  ``<ledger>.locks/``, because any write lock on the ledger file itself would block our own
  commits (and SQLite locks whole files, not rows).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, overload

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from base.errors import Kind, RetrainError, store_faults
from registry.tables import metadata, promotions

ACTIONS = ("promote", "manual_promote", "rollback")
DEFAULT_LOCK_TIMEOUT = 60.0
LEDGER_CHECK = "check that the database answers and the URL names it, or that its folder takes writes"
# two-int advisory lock key: our namespace, then the model within this schema's ledger
_PG_LOCK_KEY = "hashtext('retrain_promotions'), hashtext(current_schema() || '/' || :m)"


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


class LedgerBusy(RetrainError, RuntimeError):
    """Another writer of the model held its lock for longer than the lock timeout."""

    kind = Kind.STORE_UNAVAILABLE


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
    status: str
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
    )
    return LedgerEntry(**values)


def _timed_out(exc: sa.exc.OperationalError) -> bool:
    """A lock wait that ran out (PostgreSQL 55P03, SQLite busy), not a broken connection."""
    return getattr(exc.orig, "sqlstate", None) == "55P03" or "database is locked" in str(exc.orig)


def _immediate_sqlite_engine(url: sa.URL, timeout: float) -> Engine:
    """An SQLite engine whose transactions start with ``BEGIN IMMEDIATE``.

    pysqlite's own transaction handling defers BEGIN, so a read-then-write transaction
    can fail with "database is locked" without waiting; SQLAlchemy's documented fix is to
    take over BEGIN through these two event hooks. ``timeout`` is the busy timeout.
    """
    engine = sa.create_engine(url, connect_args={"timeout": timeout}, poolclass=NullPool)

    @event.listens_for(engine, "connect")
    def _no_pysqlite_begin(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin_immediate(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


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
            self.engine = _immediate_sqlite_engine(self.url, lock_timeout)
            self._lock_dir = Path(f"{db}.locks").expanduser()
        else:
            self.engine = sa.create_engine(self.url, pool_pre_ping=True)
            self._pg_lock_engine = sa.create_engine(self.url, poolclass=NullPool)
        self._sqlite_lock_engines: dict[str, Engine] = {}

    def _lock_engine(self, model: str) -> Engine:
        """PostgreSQL locks per model by key; SQLite needs one lock file per model."""
        if not self.is_sqlite:
            return self._pg_lock_engine
        if model not in self._sqlite_lock_engines:
            self._lock_dir.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256(model.encode()).hexdigest()[:24]
            url = self.url.set(database=str(self._lock_dir / f"{digest}.sqlite"))
            self._sqlite_lock_engines[model] = _immediate_sqlite_engine(url, self.lock_timeout)
        return self._sqlite_lock_engines[model]

    def create_tables(self) -> None:
        """Idempotent, and safe when several processes open a fresh ledger at once."""
        with self.engine.begin() as conn:
            if not self.is_sqlite:
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('retrain_promotions'))"))
            metadata.create_all(conn)

    @contextmanager
    def lock(self, model: str) -> Iterator[None]:
        """Hold the model's writer lock; released on exit or when the process dies."""
        with self._lock_engine(model).connect() as conn:
            try:
                if self.is_sqlite:
                    conn.begin()  # BEGIN IMMEDIATE: waits up to the busy timeout
                else:
                    conn.exec_driver_sql(f"SET lock_timeout = '{int(self.lock_timeout * 1000)}ms'")
                    conn.execute(sa.text(f"SELECT pg_advisory_lock({_PG_LOCK_KEY})"), {"m": model})
                    conn.commit()  # the session-level lock outlives this transaction
            except sa.exc.OperationalError as exc:
                if not _timed_out(exc):
                    raise
                raise LedgerBusy(
                    f"another promotion of {model!r} held the ledger lock for over {self.lock_timeout:g}s"
                ) from exc
            try:
                yield
            finally:
                self._release(conn, model)

    def _release(self, conn: sa.Connection, model: str) -> None:
        """End the lock; a broken PostgreSQL session is fine, closing it releases the lock."""
        if self.is_sqlite:
            conn.rollback()
            return
        try:
            conn.execute(sa.text(f"SELECT pg_advisory_unlock({_PG_LOCK_KEY})"), {"m": model})
            conn.commit()
        except sa.exc.DBAPIError:
            conn.invalidate()

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
            status="pending",
            created_at=utc_now(),
            metrics=json.dumps(metrics or {}, sort_keys=True),
        )
        with self.engine.begin() as conn:
            inserted = conn.execute(promotions.insert().values(**values)).inserted_primary_key
            assert inserted is not None, "an insert always has a primary key"
            new_id = inserted[0]
            row = conn.execute(promotions.select().where(promotions.c.id == new_id)).one()
        return _row_to_entry(row)

    def mark(self, entry_id: int, status: str, note: str | None = None) -> bool:
        """Resolve a pending entry; False when it was no longer pending."""
        if status not in ("applied", "failed"):
            raise ValueError(f"a pending entry resolves to applied or failed, not {status!r}")
        values: dict[str, Any] = {"status": status, "note": note}
        if status == "applied":
            values["applied_at"] = utc_now()
        stmt = promotions.update().where(promotions.c.id == entry_id, promotions.c.status == "pending")
        with self.engine.begin() as conn:
            return conn.execute(stmt.values(**values)).rowcount == 1

    def entries(self, model: str, status: str | None = None) -> list[LedgerEntry]:
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

    def dispose(self) -> None:
        for engine in (self.engine, *self._sqlite_lock_engines.values(), getattr(self, "_pg_lock_engine", None)):
            if engine is not None:
                engine.dispose()


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
