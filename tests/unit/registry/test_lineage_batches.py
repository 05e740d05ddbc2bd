"""Lineage lists only the batches whose rows the candidate trained or was judged on."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from registry.lineage import BatchRef, used_batches


def month(m: int) -> BatchRef:
    ts = pd.date_range(f"2024-{m:02d}-01", periods=10, freq="D", tz="UTC")
    return BatchRef(f"m{m:02d}.csv", f"{m:064d}", pd.DataFrame({"ts": ts}))


def test_batches_outside_the_window_are_not_claimed():
    batches = [month(m) for m in (1, 2, 3, 4, 5)]
    split = SimpleNamespace(train_start="2024-03-05T00:00:00+00:00", holdout_end="2024-04-30T00:00:00+00:00")
    names = [b.name for b in used_batches(batches, split, "ts")]
    assert names == ["m03.csv", "m04.csv"]


def test_a_batch_touching_the_window_edge_counts():
    split = SimpleNamespace(train_start="2024-01-10T00:00:00+00:00", holdout_end="2024-02-01T00:00:00+00:00")
    names = [b.name for b in used_batches([month(1), month(2), month(3)], split, "ts")]
    assert names == ["m01.csv", "m02.csv"]
