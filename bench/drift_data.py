"""The synthetic frames and the config the drift bench and its calibration share.

Twenty columns of the kinds a drift check meets: normal, skewed, wide and narrow integer
numeric columns, and string categories from 3 to 45 values with Zipf shares (shared string
objects, as a CSV reader produces).
"""

from __future__ import annotations

N_NUMERIC, N_CATEGORICAL = 12, 8
MEAN_SHIFT_SD, SHARE_MOVE = 0.1, 0.05
SHIFTED_COLUMNS = ("num_0", "num_4", "cat_0", "cat_5")  # normal sd 1 and 1.4; 3 and 33 categories


def build_frame(rows: int, seed: int, shifted: bool = False):
    """20 columns: numeric (normal, skewed, wide and narrow integers) and string categories.

    ``shifted`` moves ``SHIFTED_COLUMNS``: the normal columns' means by 0.1 of their standard
    deviation, and 5 percentage points of share from each shifted category column's most
    common category to the others (in proportion to their shares).
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    cols = {}
    for i in range(N_NUMERIC):
        kind = i % 4
        if kind == 0:
            sd = 1.0 + i / 10
            shift = MEAN_SHIFT_SD * sd if shifted and f"num_{i}" in SHIFTED_COLUMNS else 0.0
            cols[f"num_{i}"] = rng.normal(i + shift, sd, rows)
        elif kind == 1:
            cols[f"num_{i}"] = rng.lognormal(0.0, 0.7, rows)
        elif kind == 2:
            cols[f"num_{i}"] = rng.integers(0, 500, rows)
        else:
            cols[f"num_{i}"] = rng.integers(0, 4, rows)
    for i in range(N_CATEGORICAL):
        labels = np.array([f"c{i}_{k}" for k in range(3 + 6 * i)], dtype=object)  # shared str objects
        shares = _shares(len(labels), shifted and f"cat_{i}" in SHIFTED_COLUMNS)
        cols[f"cat_{i}"] = labels[rng.choice(len(labels), size=rows, p=shares)]
    return pd.DataFrame(cols)


def _shares(k: int, moved: bool = False):
    """Zipf shares; ``moved`` takes ``SHARE_MOVE`` from the first category to the others."""
    import numpy as np

    shares = 1.0 / np.arange(1, k + 1)
    shares /= shares.sum()
    if moved:
        rest = shares[1:].sum()
        shares[1:] *= (rest + SHARE_MOVE) / rest
        shares[0] -= SHARE_MOVE
    return shares


def bench_config():
    from base.settings import ModelConfig

    return ModelConfig.model_validate(
        {
            "name": "bench",
            "task": "binary",
            "data": {"path": "-", "timestamp_column": "ts", "target_column": "y"},
            "validation": {"suite": "-"},
        }
    )
