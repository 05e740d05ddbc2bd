"""The review queue: rows the model was not sure of, waiting for a person's label.

A table of queued rows (id, batch, version, prediction, confidence and the row's features as
JSON), a table of answers (the label, who gave it and when), and the labels each scored version
can be told (its classes), so an answer outside them is refused. Embedded they live in
``<home>/review.db``; in the team profile in the shared database (``serving.state_db``), where
a worker's scoring and a reviewer's page meet. Scoring a batch again replaces that batch's
queued rows; answers stay, keyed by model and row id, so a re-scoring never loses a person's work.

Every function takes ``url`` (``state.serving_url``; None = what the environment names).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from base.errors import Kind, RetrainError
from serving.state_db import Part, Tables, exists, open_state, upsert

QUEUE_COLUMNS = ["id", "batch", "version", "prediction", "confidence", "queued_at", "features"]
LIST_COLUMNS = [*QUEUE_COLUMNS, "label", "reviewer", "answered_at"]


class NotQueued(RetrainError):
    """An answer for a row that is not in the model's review queue."""

    kind = Kind.USAGE


class AnswerChanged(RetrainError):
    """The row's answer is no longer the one the reviewer saw (answered twice, or by someone else)."""

    kind = Kind.USAGE


@dataclass(frozen=True)
class Answer:
    model: str
    id: str
    label: str
    reviewer: str
    answered_at: str


@dataclass(frozen=True)
class Reply:
    """One answer from a reviewer who saw the row's answer as ``seen`` (None: unanswered)."""

    id: str
    label: str
    seen: str | None = None


def enqueue(
    home: Path, model: str, batch_id: str, rows: pd.DataFrame, features: pd.DataFrame, *, url: str | None = None
) -> int:
    """Queue ``rows`` (id, version, prediction, confidence) with their ``features`` (same order)."""
    now = datetime.now(UTC).isoformat()
    records = {
        str(r.id): {
            "model": model, "id": str(r.id), "batch": batch_id, "version": str(r.version),
            "prediction": str(r.prediction), "confidence": float(r.confidence), "queued_at": now, "features": feats,
        }
        for r, feats in zip(rows.itertuples(index=False), _as_json(features), strict=True)
    }  # fmt: skip
    with open_state(home, Part.REVIEW, url) as (conn, t):
        conn.execute(t.queue.delete().where(t.queue.c.model == model, t.queue.c.batch == batch_id))
        upsert(conn, t.queue, list(records.values()), ("model", "id"))
    return len(records)


def record_domain(
    home: Path, model: str, version: str, classes: tuple[str, ...] | None, *, url: str | None = None
) -> None:
    """The labels a version can be told (its classes; None = any number), for checking answers."""
    value = None if classes is None else json.dumps(list(classes))
    with open_state(home, Part.REVIEW, url) as (conn, t):
        upsert(conn, t.domains, [{"model": model, "version": str(version), "classes": value}], ("model", "version"))


def read_domain(home: Path, model: str, version: str, *, url: str | None = None) -> tuple[bool, tuple[str, ...] | None]:
    """(known, classes) recorded for a version when its rows were queued."""
    if not exists(home, Part.REVIEW, url):
        return False, None
    with open_state(home, Part.REVIEW, url) as (conn, t):
        d = t.domains.c
        row = conn.execute(sa.select(d.classes).where(d.model == model, d.version == str(version))).fetchone()
    if row is None:
        return False, None
    return True, None if row[0] is None else tuple(json.loads(row[0]))


def _as_json(features: pd.DataFrame) -> list[str]:
    """One JSON object per row, written by pandas at once (parsing it back to write each row again
    cost four times as much: it held the endpoint's log writer for 100 ms and more per flush)."""
    if features.empty:
        return [] if len(features) == 0 else ["{}"] * len(features)
    text = features.to_json(orient="records", date_format="iso", lines=True)
    return text.rstrip("\n").split("\n")  # a newline inside a value is written as \n: one line per row


def list_queue(home: Path, model: str, pending_only: bool = True, *, url: str | None = None) -> pd.DataFrame:
    """Queued rows, least confident first; answered rows carry their label and reviewer."""
    if not exists(home, Part.REVIEW, url):
        return pd.DataFrame(columns=LIST_COLUMNS)
    with open_state(home, Part.REVIEW, url) as (conn, t):
        q, a = t.queue.c, t.answers.c
        joined = t.queue.outerjoin(t.answers, sa.and_(a.model == q.model, a.id == q.id))
        query = sa.select(*(q[c] for c in QUEUE_COLUMNS), a.label, a.reviewer, a.answered_at).select_from(joined)
        query = query.where(q.model == model).order_by(q.confidence, q.id)
        if pending_only:
            query = query.where(a.label.is_(None))
        return pd.DataFrame(conn.execute(query).fetchall(), columns=LIST_COLUMNS)


def answer(home: Path, model: str, row_id: str, label: str, reviewer: str, *, url: str | None = None) -> Answer:
    """Record a person's label for a queued row (a later answer replaces an earlier one)."""
    found = Answer(model, str(row_id), str(label), reviewer, datetime.now(UTC).isoformat())
    with open_state(home, Part.REVIEW, url) as (conn, t):
        if not _queued(conn, t, model, [found.id]):
            raise NotQueued(f"row {found.id!r} is not in the review queue of {model!r} (see `retrain review list`)")
        upsert(conn, t.answers, [found.__dict__], ("model", "id"))
    return found


def reply(home: Path, model: str, replies: Sequence[Reply], reviewer: str, *, url: str | None = None) -> list[Answer]:
    """Record several answers at once, all or none, each only if the row still holds the answer
    the reviewer saw: a form sent twice, or a row someone else answered meanwhile, changes nothing."""
    now = datetime.now(UTC).isoformat()
    done = [Answer(model, str(r.id), str(r.label), reviewer, now) for r in replies]
    with open_state(home, Part.REVIEW, url) as (conn, t):
        ids = [a.id for a in done]
        missing = sorted(set(ids) - _queued(conn, t, model, ids, lock=True))
        if missing:
            raise NotQueued(f"row {', '.join(map(repr, missing[:5]))} is not in the review queue of {model!r}")
        current = _current(conn, t, model, ids)
        for r in replies:
            now_held = current.get(str(r.id))
            if (now_held[0] if now_held else None) != (r.seen or None):
                raise AnswerChanged(_changed(str(r.id), now_held, r.seen))
        upsert(conn, t.answers, [a.__dict__ for a in done], ("model", "id"))
    return done


def _changed(row_id: str, held: tuple[str, str, str] | None, seen: str | None) -> str:
    was = f"answered {seen!r}" if seen else "unanswered"
    now = f"{held[0]!r} by {held[1]} at {held[2][:19]}" if held else "no answer"
    return f"row {row_id!r} is no longer {was} (it now holds {now}); nothing recorded, reload to see it"


def _queued(conn: sa.Connection, t: Tables, model: str, ids: list[str], lock: bool = False) -> set[str]:
    query = sa.select(t.queue.c.id).where(t.queue.c.model == model, t.queue.c.id.in_(ids))
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()  # concurrent replies to one row take turns
    return {row[0] for row in conn.execute(query)}


def _current(conn: sa.Connection, t: Tables, model: str, ids: list[str]) -> dict[str, tuple[str, str, str]]:
    a = t.answers.c
    rows = conn.execute(sa.select(a.id, a.label, a.reviewer, a.answered_at).where(a.model == model, a.id.in_(ids)))
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


def answers(home: Path, model: str, *, url: str | None = None) -> pd.DataFrame:
    """Every answer for ``model``: id, label, reviewer, answered_at."""
    columns = ["id", "label", "reviewer", "answered_at"]
    if not exists(home, Part.REVIEW, url):
        return pd.DataFrame(columns=columns)
    with open_state(home, Part.REVIEW, url) as (conn, t):
        a = t.answers.c
        rows = conn.execute(sa.select(*(a[c] for c in columns)).where(a.model == model)).fetchall()
    return pd.DataFrame(rows, columns=columns)


def queue_sizes(home: Path, *, url: str | None = None) -> dict[str, tuple[int, int]]:
    """(pending, answered) rows per model, for the overview a reviewer starts from."""
    if not exists(home, Part.REVIEW, url):
        return {}
    with open_state(home, Part.REVIEW, url) as (conn, t):
        q, a = t.queue.c, t.answers.c
        joined = t.queue.outerjoin(t.answers, sa.and_(a.model == q.model, a.id == q.id))
        query = sa.select(q.model, sa.func.count(), sa.func.count(a.label)).select_from(joined).group_by(q.model)
        return {row[0]: (int(row[1]) - int(row[2]), int(row[2])) for row in conn.execute(query)}


def forget(home: Path, model: str, *, url: str | None = None) -> None:
    """Drop a model's queue and answers (the demo starts its model from scratch)."""
    if not exists(home, Part.REVIEW, url):
        return
    with open_state(home, Part.REVIEW, url) as (conn, t):
        conn.execute(t.queue.delete().where(t.queue.c.model == model))
        conn.execute(t.answers.delete().where(t.answers.c.model == model))
