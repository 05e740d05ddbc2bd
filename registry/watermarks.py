"""How far a model's SQL source has been taken: the watermark, kept in the ledger's database.

A SQL source grows by the hour; its batches are closed time slices. The watermark is the end
of the newest slice written out whole, so the next run knows which slices are new on any
machine of the team. It moves only after a slice is on disk in full: a run killed while
reading leaves it where it was, and the slice is read again, never skipped and never
doubled (slices are half-open ``[start, end)``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from registry.ledger import as_utc, utc_now
from registry.tables import source_marks

if TYPE_CHECKING:
    from registry.ledger import Ledger


def read_mark(ledger: "Ledger", model: str, source: str) -> datetime | None:
    """The end of the newest slice taken, or None before the first."""
    stmt = sa.select(source_marks.c.taken_until).where(source_marks.c.model == model, source_marks.c.source == source)
    with ledger.engine.begin() as conn:
        found = conn.execute(stmt).scalar_one_or_none()
    return None if found is None else as_utc(found)


def move_mark(ledger: "Ledger", model: str, source: str, taken_until: datetime) -> None:
    """Record that every slice ending at or before ``taken_until`` was taken; never moves back."""
    current = read_mark(ledger, model, source)
    if current is not None and current >= taken_until:
        return
    values = {"taken_until": taken_until, "updated_at": utc_now()}
    where = (source_marks.c.model == model) & (source_marks.c.source == source)
    with ledger.engine.begin() as conn:
        if current is None:
            conn.execute(source_marks.insert().values(model=model, source=source, **values))
        else:
            conn.execute(source_marks.update().where(where).values(**values))
