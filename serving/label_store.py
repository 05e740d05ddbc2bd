"""Late labels, kept: every label fed back is remembered by model and row id.

Outcomes arrive in pieces (this week's flights, last month's claims), so each ``retrain
feedback`` adds its labels to what came before and the live figures of earlier days stay
measured. One SQLite file under the home (``<home>/labels.db``); a later label for the same
row replaces the earlier one. Labels are stored as text, whole numbers as integers, so a
label column read as floats (one missing value) matches the model's classes.
"""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from serving.local_db import open_local_db

_SCHEMA = """
CREATE TABLE IF NOT EXISTS labels (
    model TEXT NOT NULL, id TEXT NOT NULL, label TEXT NOT NULL, received_at TEXT NOT NULL,
    PRIMARY KEY (model, id));
"""


def store_path(home: Path) -> Path:
    return Path(home) / "labels.db"


def open_store(home: Path) -> AbstractContextManager[sqlite3.Connection]:
    return open_local_db(store_path(home), _SCHEMA, "label store")


def add_labels(home: Path, model: str, ids: pd.Series, labels: pd.Series) -> int:
    """Remember ``labels`` (already text) for the row ``ids`` of ``model``; returns how many."""
    now = datetime.now(UTC).isoformat()
    rows = [(model, str(i), str(label), now) for i, label in zip(ids, labels, strict=True)]
    with open_store(home) as conn:
        conn.executemany("INSERT OR REPLACE INTO labels VALUES (?, ?, ?, ?)", rows)
    return len(rows)


def read_labels(home: Path, model: str) -> pd.DataFrame:
    """Every remembered label of ``model``: id, label, received_at."""
    if not store_path(home).is_file():
        return pd.DataFrame(columns=["id", "label", "received_at"])
    with open_store(home) as conn:
        return pd.read_sql_query("SELECT id, label, received_at FROM labels WHERE model = ?", conn, params=(model,))


def forget(home: Path, model: str) -> None:
    """Drop a model's labels (the demo starts its model from scratch)."""
    if store_path(home).is_file():
        with open_store(home) as conn:
            conn.execute("DELETE FROM labels WHERE model = ?", (model,))
