"""The prediction log: every scored row, kept so late labels can be joined to what was said.

Embedded (and whenever ``serving.prediction_log`` names a folder): Parquet files under
``<root>/<model>/day=YYYY-MM-DD/<batch-id>.parquet`` (``root`` is by default
``<home>/predictions``), one file per scored batch, in the day it was scored. Files are written
through a scratch name and renamed, so a reader never sees half a batch. In the team profile
each batch is one row of the shared database (``serving.state_db``), the same Parquet bytes, so
a worker's scoring is in the log a feedback run on another machine reads. Either way, scoring
the same batch again replaces it wherever it lies, so a retried scoring never counts a row twice.
"""

from __future__ import annotations

import io
import os
from datetime import datetime
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from base.errors import store_faults
from base.paths import check_model_name, home_path
from base.secrets import redact_url
from serving.state_db import Part, is_local, open_state, resolve, upsert

BATCH, SCORED_AT, DAY = "batch", "scored_at", "day"
_CHECK = "check the prediction log folder's free space and permissions"


def model_folder(root: Path, model: str) -> Path:
    return home_path(root, check_model_name(model))


def write_batch(
    root: Path, model: str, batch_id: str, rows: pd.DataFrame, scored_at: datetime, *, url: str | None = None
) -> Path | str:
    """Append one scored batch (replacing an earlier scoring of the same batch id); returns where."""
    stamped = rows.assign(**{BATCH: batch_id, SCORED_AT: pd.Timestamp(scored_at)})
    day = scored_at.strftime("%Y-%m-%d")
    if not is_local(url):
        return _write_shared(root, model, batch_id, stamped, day, url)
    folder = model_folder(root, model)
    target = home_path(folder, f"day={day}", f"{batch_id}.parquet")
    with store_faults("prediction log", str(root), _CHECK):
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = target.with_name(f".{target.name}.tmp")
        stamped.to_parquet(scratch, index=False)
        for earlier in folder.glob(f"day=*/{batch_id}.parquet"):
            if earlier != target:
                earlier.unlink()
        os.replace(scratch, target)
    return target


def _write_shared(root: Path, model: str, batch_id: str, stamped: pd.DataFrame, day: str, url: str | None) -> str:
    buffer = io.BytesIO()
    stamped.to_parquet(buffer, index=False)
    record = {
        "model": check_model_name(model), "batch": batch_id, "day": day,
        "scored_at": str(stamped[SCORED_AT].iloc[0]) if len(stamped) else day,
        "rows": len(stamped), "data": buffer.getvalue(),
    }  # fmt: skip
    with open_state(root, Part.PREDICTIONS, url) as (conn, t):
        upsert(conn, t.predictions, [record], ("model", "batch"))
    return f"{redact_url(resolve(url))}#{t.predictions.name}/{model}/{batch_id}"


def read_log(root: Path, model: str, *, url: str | None = None) -> pd.DataFrame:
    """Every logged row of ``model`` with its ``day``; an empty frame before the first scoring."""
    if not is_local(url):
        return _read_shared(root, model, url)
    folder = model_folder(root, model)
    files = sorted(folder.glob("day=*/*.parquet"))
    if not files:
        return pd.DataFrame(columns=[BATCH, SCORED_AT, DAY])
    frames = [pd.read_parquet(path).assign(**{DAY: path.parent.name.removeprefix("day=")}) for path in files]
    return pd.concat(frames, ignore_index=True)


def _read_shared(root: Path, model: str, url: str | None) -> pd.DataFrame:
    with open_state(root, Part.PREDICTIONS, url) as (conn, t):
        p = t.predictions.c
        found = conn.execute(sa.select(p.day, p.data).where(p.model == model).order_by(p.day, p.batch)).fetchall()
    if not found:
        return pd.DataFrame(columns=[BATCH, SCORED_AT, DAY])
    frames = [pd.read_parquet(io.BytesIO(data)).assign(**{DAY: day}) for day, data in found]
    return pd.concat(frames, ignore_index=True)


def read_batches(root: Path, model: str, batch_ids: list[str], *, url: str | None = None) -> pd.DataFrame:
    """The logged rows of some batches only (the review page shows their scores)."""
    if not is_local(url):
        with open_state(root, Part.PREDICTIONS, url) as (conn, t):
            p = t.predictions.c
            query = sa.select(p.day, p.data).where(p.model == model, p.batch.in_(batch_ids))
            found = conn.execute(query).fetchall()
        frames = [pd.read_parquet(io.BytesIO(data)).assign(**{DAY: day}) for day, data in found]
    else:
        paths = [path for batch in batch_ids for path in batch_files(root, model, batch)]
        frames = [pd.read_parquet(path).assign(**{DAY: path.parent.name.removeprefix("day=")}) for path in paths]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[BATCH, SCORED_AT, DAY])


def batch_files(root: Path, model: str, batch_id: str) -> list[Path]:
    """Where a batch's rows are logged as files (at most one; none in a shared database)."""
    return sorted(model_folder(root, model).glob(f"day=*/{batch_id}.parquet"))


def forget(root: Path, model: str, *, url: str | None = None) -> None:
    """Drop a model's logged batches (the demo starts its model from scratch)."""
    import shutil

    if is_local(url):
        shutil.rmtree(model_folder(root, model), ignore_errors=True)
        return
    with open_state(root, Part.PREDICTIONS, url) as (conn, t):
        conn.execute(t.predictions.delete().where(t.predictions.c.model == model))
