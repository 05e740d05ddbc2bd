"""Drift calibration: false-alarm rate and recall of ``detect_drift`` by batch size.

For each size (rows per side) and seed, three frames of ``drift_bench.build_frame``: a
reference, an in-distribution batch (every flagged column is a false alarm) and a shifted
batch (``SHIFTED_COLUMNS``: 0.1-std mean shifts in two normal columns, a 5-point share move
in a 3- and a 33-category column). Reported per size:

- column false-alarm rate: flagged columns / columns judged, over the in-distribution pairs;
- dataset false alarms: in-distribution pairs whose dataset verdict is drift;
- recall: share of seeds in which each kind of shifted column is flagged (worst column).

    .venv/bin/python bench/drift_calibration.py --seeds 100
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = (100, 200, 2_000, 100_000, 1_000_000)
LARGE = 100_000
NUMERIC_SHIFTED, CATEGORY_SHIFTED = ("num_0", "num_4"), ("cat_0", "cat_5")


def seeds_for(size: int, seeds: int) -> int:
    """Every seed at the small sizes; at 100k and 1M rows a fifth (at least 20): frames cost."""
    return seeds if size < LARGE else max(20, seeds // 5)


def calibrate(seeds: int, sizes: tuple[int, ...] = SIZES) -> list[dict]:
    return [calibrate_size(size, seeds_for(size, seeds)) for size in sizes]


def calibrate_size(size: int, seeds: int) -> dict:
    """One size: in-distribution and shifted batches against a fresh reference per seed."""
    from drift_data import build_frame

    from monitoring.drift import detect_drift

    config = _config()
    flagged = judged = dataset_alarms = insufficient = 0
    hits = {c: 0 for c in NUMERIC_SHIFTED + CATEGORY_SHIFTED}
    times = []
    for seed in range(seeds):
        reference = build_frame(size, seed=10_000 + seed)
        started = time.process_time()
        quiet = detect_drift(reference, build_frame(size, seed=20_000 + seed), config, features=list(reference.columns))
        times.append(time.process_time() - started)
        flagged += len(quiet.drifted_columns)
        judged += len(quiet.judged_columns)
        dataset_alarms += quiet.drifted
        insufficient += quiet.status == "insufficient_data"
        moved = detect_drift(
            reference, build_frame(size, seed=30_000 + seed, shifted=True), config, features=list(reference.columns)
        )
        for column in hits:
            hits[column] += moved.column(column).drifted
    return {
        "rows": size,
        "seeds": seeds,
        "column_false_alarm_rate": round(flagged / max(judged, 1), 4),
        "columns_judged": judged,
        "dataset_false_alarms": int(dataset_alarms),
        "insufficient": int(insufficient),
        "recall_mean_shift": round(min(hits[c] for c in NUMERIC_SHIFTED) / seeds, 3),
        "recall_share_move": round(min(hits[c] for c in CATEGORY_SHIFTED) / seeds, 3),
        "recall_by_column": {c: round(h / seeds, 3) for c, h in hits.items()},
        "check_cpu_s": round(statistics.median(times), 3),
    }


def _config():
    from drift_data import bench_config

    return bench_config()


def print_calibration(table: list[dict]) -> None:
    print(
        f"\n{'rows/side':>10} {'seeds':>5} {'col FA rate':>11} {'dataset FA':>10} "
        f"{'recall 0.1sd':>12} {'recall 5pt':>10} {'CPU s':>6}"
    )
    for row in table:
        print(
            f"{row['rows']:>10,} {row['seeds']:>5} {row['column_false_alarm_rate']:>11.2%} "
            f"{row['dataset_false_alarms']:>6}/{row['seeds']:<3} {row['recall_mean_shift']:>12.0%} "
            f"{row['recall_share_move']:>10.0%} {row['check_cpu_s']:>6.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    args = parser.parse_args()
    print_calibration(calibrate(args.seeds, tuple(args.sizes)))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    main()
