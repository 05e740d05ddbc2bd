"""Where the serving state lives: SQLite files under the home, or one shared database.

The review queue, the kept labels and (in a shared database) the prediction log are tables
behind one interface, so every caller runs unchanged on both backends:

- ``LOCAL_STATE`` (embedded profile): the files ``<home>/review.db`` (queue, answers, domains)
  and ``<home>/labels.db`` (labels), with the table names they always had;
- a SQLAlchemy URL (the team profile's PostgreSQL, by default the ledger's database): every
  table in that database, named ``retrain_*`` like the ledger's, so rows scored by a worker on
  one machine are what a reviewer or a feedback run on another reads.

``open_state`` hands out a connection in a transaction with the tables in place; a database
that does not answer, a full disk or a read-only folder becomes the store-unavailable error
(exit 13) naming the store, and nothing of the transaction is kept.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from base.errors import store_faults
from base.settings_state import LOCAL_STATE, serving_state_url

_CHECK = "check that the database answers, or the home folder's free space and permissions"


class Part(StrEnum):
    """The stores of the serving state; embedded, each is a file of its own."""

    REVIEW = "review queue"
    LABELS = "label store"
    PREDICTIONS = "prediction log"


@dataclass(frozen=True)
class Tables:
    """The serving tables of one naming scheme."""

    metadata: sa.MetaData
    queue: sa.Table
    answers: sa.Table
    domains: sa.Table
    labels: sa.Table
    predictions: sa.Table


def _build_tables(prefix: str) -> Tables:
    md = sa.MetaData()
    text, key = sa.Text, sa.String(256)
    queue = sa.Table(
        f"{prefix}queue", md,
        sa.Column("model", key, primary_key=True), sa.Column("id", key, primary_key=True),
        sa.Column("batch", text, nullable=False), sa.Column("version", text, nullable=False),
        sa.Column("prediction", text), sa.Column("confidence", sa.Float),
        sa.Column("queued_at", text, nullable=False), sa.Column("features", text, nullable=False),
    )  # fmt: skip
    answers = sa.Table(
        f"{prefix}answers", md,
        sa.Column("model", key, primary_key=True), sa.Column("id", key, primary_key=True),
        sa.Column("label", text, nullable=False), sa.Column("reviewer", text, nullable=False),
        sa.Column("answered_at", text, nullable=False),
    )  # fmt: skip
    domains = sa.Table(
        f"{prefix}domains", md,
        sa.Column("model", key, primary_key=True), sa.Column("version", key, primary_key=True),
        sa.Column("classes", text),
    )  # fmt: skip
    labels = sa.Table(
        "retrain_labels" if prefix else "labels", md,
        sa.Column("model", key, primary_key=True), sa.Column("id", key, primary_key=True),
        sa.Column("label", text, nullable=False), sa.Column("received_at", text, nullable=False),
    )  # fmt: skip
    predictions = sa.Table(
        "retrain_prediction_batches", md,
        sa.Column("model", key, primary_key=True), sa.Column("batch", key, primary_key=True),
        sa.Column("day", sa.String(10), nullable=False), sa.Column("scored_at", text, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False), sa.Column("data", sa.LargeBinary, nullable=False),
    )  # fmt: skip
    return Tables(md, queue, answers, domains, labels, predictions)


LOCAL_TABLES = _build_tables("")
SHARED_TABLES = _build_tables("retrain_review_")
_LOCAL_FILES = {Part.REVIEW: "review.db", Part.LABELS: "labels.db"}
_engines: dict[str, Engine] = {}
_ready: set[str] = set()
_lock = threading.Lock()


def resolve(url: str | None) -> str:
    """An explicit location, else the one the environment names (``serving_state_url``)."""
    return url or serving_state_url()


def is_local(url: str | None) -> bool:
    return resolve(url) == LOCAL_STATE


def local_file(home: Path, part: Part) -> Path:
    return Path(home) / _LOCAL_FILES[part]


def tables_for(url: str | None) -> Tables:
    return LOCAL_TABLES if is_local(url) else SHARED_TABLES


def exists(home: Path, part: Part, url: str | None) -> bool:
    """Whether there can be anything to read (a missing home file is not created by a read)."""
    return not is_local(url) or local_file(home, part).is_file()


@contextmanager
def open_state(home: Path, part: Part, url: str | None = None) -> Iterator[tuple[Connection, Tables]]:
    """A connection in one transaction (committed on success) and the tables it holds."""
    chosen = resolve(url)
    location = str(local_file(home, part)) if chosen == LOCAL_STATE else chosen
    with store_faults(str(part), location, _CHECK, bad_url=sa.exc.ArgumentError):
        engine = _engine(home, part, chosen)
        tables = tables_for(chosen)
        _ensure_tables(engine, tables, location)
        with engine.begin() as conn:
            yield conn, tables


def _engine(home: Path, part: Part, url: str) -> Engine:
    """SQLite: a fresh engine per use whose transactions take the write lock at BEGIN, so a
    read-then-write never deadlocks another process; a server database: one pooled engine."""
    from registry.ledger_locks import immediate_sqlite_engine

    if url == LOCAL_STATE:
        path = local_file(home, part)
        path.parent.mkdir(parents=True, exist_ok=True)
        return immediate_sqlite_engine(sa.make_url(f"sqlite:///{path}"), 30.0)
    if sa.make_url(url).get_backend_name() == "sqlite":
        return immediate_sqlite_engine(sa.make_url(url), 30.0)
    with _lock:
        if url not in _engines:
            _engines[url] = sa.create_engine(url, pool_pre_ping=True, connect_args=_connect_args(url))
        return _engines[url]


def _connect_args(url: str) -> dict[str, int]:
    return {"connect_timeout": 10} if sa.make_url(url).get_backend_name() == "postgresql" else {}


def _ensure_tables(engine: Engine, tables: Tables, location: str) -> None:
    """Create missing tables once per process and location (files: every time, they may be new).

    Two processes creating them at once on PostgreSQL may collide; the loser finds them made.
    """
    if location in _ready and engine.dialect.name != "sqlite":
        return
    try:
        tables.metadata.create_all(engine)
    except (sa.exc.IntegrityError, sa.exc.ProgrammingError):
        tables.metadata.create_all(engine)
    if engine.dialect.name != "sqlite":
        _ready.add(location)


def upsert(conn: Connection, table: sa.Table, rows: list[dict], keys: tuple[str, ...]) -> None:
    """Insert ``rows``, replacing those with the same ``keys`` (SQLite and PostgreSQL alike)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    statement = insert(table)
    updates = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys}
    conn.execute(statement.on_conflict_do_update(index_elements=list(keys), set_=updates), rows)


def close(url: str) -> None:
    """Close the pooled connections to ``url`` (a server that stops, a test schema dropped)."""
    with _lock:
        engine = _engines.pop(url, None)
        _ready.discard(url)
    if engine is not None:
        engine.dispose()
