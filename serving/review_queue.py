"""The review queue: rows the model was not sure of, waiting for a person's label.

One SQLite file under the home (``<home>/review.db``), a table of queued rows (id, batch,
version, prediction, confidence and the row's features as JSON) and a table of answers
(the label, who gave it and when), and the labels each scored version can be told (its
classes), so an answer outside them is refused. Scoring a batch again replaces that batch's queued rows;
answers stay, keyed by model and row id, so a re-scoring never loses a person's work.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from base.errors import Kind, RetrainError
from serving.local_db import open_local_db

QUEUE_COLUMNS = ["id", "batch", "version", "prediction", "confidence", "queued_at", "features"]
_SCHEMA = """
CREATE TABLE IF NOT EXISTS queue (
    model TEXT NOT NULL, id TEXT NOT NULL, batch TEXT NOT NULL, version TEXT NOT NULL,
    prediction TEXT, confidence REAL, queued_at TEXT NOT NULL, features TEXT NOT NULL,
    PRIMARY KEY (model, id));
CREATE TABLE IF NOT EXISTS answers (
    model TEXT NOT NULL, id TEXT NOT NULL, label TEXT NOT NULL, reviewer TEXT NOT NULL,
    answered_at TEXT NOT NULL, PRIMARY KEY (model, id));
CREATE TABLE IF NOT EXISTS domains (
    model TEXT NOT NULL, version TEXT NOT NULL, classes TEXT, PRIMARY KEY (model, version));
"""


class NotQueued(RetrainError):
    """An answer for a row that is not in the model's review queue."""

    kind = Kind.USAGE


@dataclass(frozen=True)
class Answer:
    model: str
    id: str
    label: str
    reviewer: str
    answered_at: str


def queue_path(home: Path) -> Path:
    return Path(home) / "review.db"


def open_queue(home: Path) -> AbstractContextManager[sqlite3.Connection]:
    """A connection with the tables in place; commits on success, store faults become exit 13."""
    return open_local_db(queue_path(home), _SCHEMA, "review queue")


def enqueue(home: Path, model: str, batch_id: str, rows: pd.DataFrame, features: pd.DataFrame) -> int:
    """Queue ``rows`` (id, version, prediction, confidence) with their ``features`` (same order)."""
    now = datetime.now(UTC).isoformat()
    records = [
        (model, str(r.id), batch_id, str(r.version), str(r.prediction), float(r.confidence), now, feats)
        for r, feats in zip(rows.itertuples(index=False), _as_json(features), strict=True)
    ]
    with open_queue(home) as conn:
        conn.execute("DELETE FROM queue WHERE model = ? AND batch = ?", (model, batch_id))
        conn.executemany("INSERT OR REPLACE INTO queue VALUES (?, ?, ?, ?, ?, ?, ?, ?)", records)
    return len(records)


def record_domain(home: Path, model: str, version: str, classes: tuple[str, ...] | None) -> None:
    """The labels a version can be told (its classes; None = any number), for checking answers."""
    value = None if classes is None else json.dumps(list(classes))
    with open_queue(home) as conn:
        conn.execute("INSERT OR REPLACE INTO domains VALUES (?, ?, ?)", (model, str(version), value))


def read_domain(home: Path, model: str, version: str) -> tuple[bool, tuple[str, ...] | None]:
    """(known, classes) recorded for a version when its rows were queued."""
    with open_queue(home) as conn:
        row = conn.execute(
            "SELECT classes FROM domains WHERE model = ? AND version = ?", (model, str(version))
        ).fetchone()
    if row is None:
        return False, None
    return True, None if row[0] is None else tuple(json.loads(row[0]))


def _as_json(features: pd.DataFrame) -> list[str]:
    return [json.dumps(row, default=str) for row in json.loads(features.to_json(orient="records", date_format="iso"))]


def list_queue(home: Path, model: str, pending_only: bool = True) -> pd.DataFrame:
    """Queued rows, least confident first; answered rows carry their label and reviewer."""
    sql = (
        "SELECT q.id, q.batch, q.version, q.prediction, q.confidence, q.queued_at, q.features,"
        " a.label, a.reviewer, a.answered_at FROM queue q LEFT JOIN answers a ON a.model = q.model AND a.id = q.id"
        " WHERE q.model = ?" + (" AND a.label IS NULL" if pending_only else "") + " ORDER BY q.confidence, q.id"
    )
    with open_queue(home) as conn:
        return pd.read_sql_query(sql, conn, params=(model,))


def answer(home: Path, model: str, row_id: str, label: str, reviewer: str) -> Answer:
    """Record a person's label for a queued row (a later answer replaces an earlier one)."""
    found = Answer(model, str(row_id), str(label), reviewer, datetime.now(UTC).isoformat())
    with open_queue(home) as conn:
        if conn.execute("SELECT 1 FROM queue WHERE model = ? AND id = ?", (model, found.id)).fetchone() is None:
            raise NotQueued(f"row {found.id!r} is not in the review queue of {model!r} (see `retrain review list`)")
        conn.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?)", tuple(found.__dict__.values()))
    return found


def answers(home: Path, model: str) -> pd.DataFrame:
    """Every answer for ``model``: id, label, reviewer, answered_at."""
    with open_queue(home) as conn:
        return pd.read_sql_query(
            "SELECT id, label, reviewer, answered_at FROM answers WHERE model = ?", conn, params=(model,)
        )


def forget(home: Path, model: str) -> None:
    """Drop a model's queue and answers (the demo starts its model from scratch)."""
    if not queue_path(home).is_file():
        return
    with open_queue(home) as conn:
        conn.execute("DELETE FROM queue WHERE model = ?", (model,))
        conn.execute("DELETE FROM answers WHERE model = ?", (model,))
