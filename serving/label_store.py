"""Late labels, kept: every label fed back is remembered by model and row id.

Outcomes arrive in pieces (this week's flights, last month's claims), so each ``retrain
feedback`` adds its labels to what came before and the live figures of earlier days stay
measured. Embedded they live in ``<home>/labels.db``; in the team profile in the shared
database (``serving.state_db``), so a feedback run on any machine sees them all. A later label
for the same row replaces the earlier one. Labels are stored as text, whole numbers as
integers, so a label column read as floats (one missing value) matches the model's classes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from serving.state_db import Part, exists, open_state, upsert

COLUMNS = ["id", "label", "received_at"]


def add_labels(home: Path, model: str, ids: pd.Series, labels: pd.Series, *, url: str | None = None) -> int:
    """Remember ``labels`` (already text) for the row ``ids`` of ``model``; returns how many."""
    now = datetime.now(UTC).isoformat()
    rows = {
        str(i): {"model": model, "id": str(i), "label": str(v), "received_at": now}
        for i, v in zip(ids, labels, strict=True)
    }
    with open_state(home, Part.LABELS, url) as (conn, t):
        upsert(conn, t.labels, list(rows.values()), ("model", "id"))
    return len(ids)


def read_labels(home: Path, model: str, *, url: str | None = None) -> pd.DataFrame:
    """Every remembered label of ``model``: id, label, received_at."""
    if not exists(home, Part.LABELS, url):
        return pd.DataFrame(columns=COLUMNS)
    with open_state(home, Part.LABELS, url) as (conn, t):
        c = t.labels.c
        rows = conn.execute(sa.select(c.id, c.label, c.received_at).where(c.model == model)).fetchall()
    return pd.DataFrame(rows, columns=COLUMNS)


def forget(home: Path, model: str, *, url: str | None = None) -> None:
    """Drop a model's labels (the demo starts its model from scratch)."""
    if exists(home, Part.LABELS, url):
        with open_state(home, Part.LABELS, url) as (conn, t):
            conn.execute(t.labels.delete().where(t.labels.c.model == model))
