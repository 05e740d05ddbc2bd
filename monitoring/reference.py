"""Build the reference snapshot a model version is judged against by later drift checks.

The sample is drawn exactly as ``detect_drift`` samples a batch (same seed and size), so
comparing a batch with the stored snapshot or with the full training frame gives one
answer. The registry stores and loads it (``registry.snapshots``); drawing it is monitoring's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitoring.drift import sample_reference
from registry.snapshots import ReferenceSnapshot

if TYPE_CHECKING:
    import pandas as pd

    from base.settings import ModelConfig


def build_snapshot(train: "pd.DataFrame", features: list[str], config: "ModelConfig") -> ReferenceSnapshot:
    """Sample the training frame the way the drift check samples a batch (same seed and size)."""
    target = config.data.target_column
    columns = list(features) + ([target] if target in train.columns and target not in features else [])
    sample = sample_reference(train[columns], config).reset_index(drop=True)
    meta = {
        "source_rows": len(train),
        "sample_rows": config.drift.sample_rows,
        "seed": config.drift.seed,
        "target": target,
        "task": config.task,
        "classes": training_classes(train, target) if config.task != "regression" else None,
    }
    return ReferenceSnapshot(sample, list(features), meta)


def training_classes(train: "pd.DataFrame", target: str) -> list[str] | None:
    """Every label of the training frame (the sample may miss a rare one), as label text."""
    from training.label_text import label_text

    if target not in train.columns:
        return None
    return sorted(set(label_text(train[target].dropna().unique()).tolist()))
