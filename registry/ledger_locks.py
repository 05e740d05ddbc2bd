"""Per-model writer locks on the ledger that outlive short transactions and die with their process.

The pending row of a move must be committed (durable) while the lock is still held, so the
lock cannot be a transaction on the ledger itself:
- PostgreSQL: a session-level advisory lock on a dedicated connection;
- SQLite: ``BEGIN IMMEDIATE`` held on a small per-model lock database in
  ``<ledger>.locks/``, because any write lock on the ledger file itself would block our own
  commits (and SQLite locks whole files, not rows).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from base.errors import Kind, RetrainError

# two-int advisory lock key: our namespace, then the model within this schema's ledger
_PG_LOCK_KEY = "hashtext('retrain_promotions'), hashtext(current_schema() || '/' || :m)"


class LedgerBusy(RetrainError, RuntimeError):
    """Another writer of the model held its lock for longer than the lock timeout."""

    kind = Kind.STORE_UNAVAILABLE


def timed_out(exc: sa.exc.OperationalError) -> bool:
    """A lock wait that ran out (PostgreSQL 55P03, SQLite busy), not a broken connection."""
    return getattr(exc.orig, "sqlstate", None) == "55P03" or "database is locked" in str(exc.orig)


def immediate_sqlite_engine(url: sa.URL, timeout: float) -> Engine:
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


class ModelLocks:
    """The writer lock of each model of one ledger; ``hold(model)`` waits up to ``timeout``."""

    def __init__(self, url: sa.URL, timeout: float):
        self.url = url
        self.lock_timeout = timeout
        self.is_sqlite = url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            self._lock_dir = Path(f"{url.database}.locks").expanduser()
        else:
            self._pg_lock_engine = sa.create_engine(url, poolclass=NullPool)
        self._sqlite_lock_engines: dict[str, Engine] = {}

    def _lock_engine(self, model: str) -> Engine:
        """PostgreSQL locks per model by key; SQLite needs one lock file per model."""
        if not self.is_sqlite:
            return self._pg_lock_engine
        if model not in self._sqlite_lock_engines:
            self._lock_dir.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256(model.encode()).hexdigest()[:24]
            url = self.url.set(database=str(self._lock_dir / f"{digest}.sqlite"))
            self._sqlite_lock_engines[model] = immediate_sqlite_engine(url, self.lock_timeout)
        return self._sqlite_lock_engines[model]

    @contextmanager
    def hold(self, model: str) -> Iterator[None]:
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
                if not timed_out(exc):
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

    def dispose(self) -> None:
        for engine in (*self._sqlite_lock_engines.values(), getattr(self, "_pg_lock_engine", None)):
            if engine is not None:
                engine.dispose()
