"""Lineage tags for a candidate: enough to rebuild its training set and name its code.

Only the batches that contributed rows to the training window or the holdout are listed, so
a version trained on the last 90 days does not claim every file ever delivered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from base.settings import ModelConfig


@dataclass(frozen=True)
class BatchRef:
    """One accepted batch: file name, content hash and its frame."""

    name: str
    data_hash: str
    frame: "pd.DataFrame"


def used_batches(batches: list[BatchRef], split: Any, timestamp_column: str) -> list[BatchRef]:
    """Batches with at least one row inside [train start, holdout end]."""
    import pandas as pd

    start, end = pd.Timestamp(split.train_start), pd.Timestamp(split.holdout_end)
    used = []
    for batch in batches:
        ts = batch.frame[timestamp_column]
        if len(ts) and ts.max() >= start and ts.min() <= end:
            used.append(batch)
    return used


def build_lineage(batches: list[BatchRef], split: Any, config: "ModelConfig", run_id: str = "") -> dict[str, Any]:
    """The tags every registered version carries (see README: Registry)."""
    from registry.packaging import code_version
    from training.data import frame_hash

    used = used_batches(batches, split, config.data.timestamp_column)
    return {
        "data_hash": frame_hash(split.train),
        "train_rows": len(split.train),
        "holdout_rows": len(split.holdout),
        "train_window": f"{split.train_start}..{split.train_end}",
        "holdout_window": f"{split.holdout_start}..{split.holdout_end}",
        "batch_files": ",".join(b.name for b in used),
        "batch_hashes": ",".join(b.data_hash[:12] for b in used),
        "code_version": code_version(),
        "validation": f"{len(batches)} batches passed {config.suite_path.name}",
        "estimator": config.estimator.class_path,
        "flow_run_id": run_id,
    }
