"""The prediction log: every scored row, kept so late labels can be joined to what was said.

Parquet files under ``<root>/<model>/day=YYYY-MM-DD/<batch-id>.parquet`` (``root`` is
``serving.prediction_log``, by default ``<home>/predictions``): one file per scored batch,
in the day it was scored. Scoring the same batch again replaces its file wherever it lies,
so a retried or repeated scoring never counts a row twice. Files are written through a
scratch name and renamed, so a reader never sees half a batch.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pandas as pd

from base.errors import store_faults
from base.paths import check_model_name, home_path

BATCH, SCORED_AT, DAY = "batch", "scored_at", "day"
_CHECK = "check the prediction log folder's free space and permissions"


def model_folder(root: Path, model: str) -> Path:
    return home_path(root, check_model_name(model))


def write_batch(root: Path, model: str, batch_id: str, rows: pd.DataFrame, scored_at: datetime) -> Path:
    """Append one scored batch (replacing an earlier scoring of the same batch id)."""
    folder = model_folder(root, model)
    day = scored_at.strftime("%Y-%m-%d")
    target = home_path(folder, f"day={day}", f"{batch_id}.parquet")
    stamped = rows.assign(**{BATCH: batch_id, SCORED_AT: pd.Timestamp(scored_at)})
    with store_faults("prediction log", str(root), _CHECK):
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = target.with_name(f".{target.name}.tmp")
        stamped.to_parquet(scratch, index=False)
        for earlier in folder.glob(f"day=*/{batch_id}.parquet"):
            if earlier != target:
                earlier.unlink()
        os.replace(scratch, target)
    return target


def read_log(root: Path, model: str) -> pd.DataFrame:
    """Every logged row of ``model`` with its ``day``; an empty frame before the first scoring."""
    folder = model_folder(root, model)
    files = sorted(folder.glob("day=*/*.parquet"))
    if not files:
        return pd.DataFrame(columns=[BATCH, SCORED_AT, DAY])
    frames = [pd.read_parquet(path).assign(**{DAY: path.parent.name.removeprefix("day=")}) for path in files]
    return pd.concat(frames, ignore_index=True)


def batch_files(root: Path, model: str, batch_id: str) -> list[Path]:
    """Where a batch's rows are logged (at most one file)."""
    return sorted(model_folder(root, model).glob(f"day=*/{batch_id}.parquet"))
