"""How much faster is a candidate search on a two-worker Dask cluster than one trial after another?

Setup: the demo's config (examples/flights-late) and its flights up to June (the window of
June's retrain), its search widened to 8 trials (4 LogisticRegression C, 4 HistGradientBoosting
learning rates, 2 expanding folds). ``sequential`` runs every trial in this process
(``training.search.run_search_locally``, what `--dry-run` does); ``dask`` runs the same plan as
Prefect tasks on prefect-dask's ``DaskTaskRunner`` (``flows.search.search_candidates``), once
starting its own local cluster as a retrain does (``dask+start``, alternating with
``sequential``) and then ``--reps`` times on one cluster started before and warmed (``dask``: the
demo and the backtest share one, so its start and the workers' imports are paid once). Every
fit uses ``compute.threads`` (1) thread, so the two workers can use the two cores. Writes
``bench/results/search.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
EXAMPLE = ROOT / "examples" / "flights-late" / "flights-late.yaml"
LAST_MONTH = 6


def bench_config(iterations: int | None = None):
    """The demo's config with its search widened to 8 trials on two workers (heavier boosting with ``iterations``)."""
    import yaml

    from base.settings import ModelConfig

    raw = yaml.safe_load(EXAMPLE.read_text())
    wide = {
        "sklearn.linear_model.LogisticRegression": {"C": {"choices": [0.02, 0.05, 0.2, 1.0]}},
        "sklearn.ensemble.HistGradientBoostingClassifier": {"learning_rate": {"choices": [0.05, 0.1, 0.2, 0.3]}},
    }
    for candidate in raw["search"]["candidates"]:
        candidate["params"].update(wide.get(candidate["class_path"], {}))
        if iterations and "max_iter" in candidate["params"] and "HistGradient" in candidate["class_path"]:
            candidate["params"]["max_iter"] = iterations
    raw["search"].update({"trials": 8, "include_estimator": False, "dask_address": None})
    raw["compute"].update({"workers": 2, "threads": 1})
    config = ModelConfig.model_validate(raw)
    config.config_path = EXAMPLE.resolve()
    return config


def window(config):
    from retrain.demo.workspace import load_flights
    from training.split import split_by_time

    flights = load_flights()
    flights[config.data.timestamp_column] = pd.to_datetime(flights[config.data.timestamp_column], utc=True)
    end = pd.Timestamp(f"2013-{LAST_MONTH + 1:02d}-01", tz="UTC")
    return split_by_time(flights[flights[config.data.timestamp_column] < end], config)


def timed(run) -> tuple[float, object]:
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--iterations", type=int, default=None, help="HistGradientBoosting max_iter (demo: 100)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect import flow
    from prefect.testing.utilities import prefect_test_harness

    from flows.search import search_candidates, shared_cluster
    from training.search import run_search_locally

    config = bench_config(args.iterations)
    split = window(config)

    @flow(name="search-bench")
    def on_dask(config):
        return search_candidates(split, config)

    times: dict[str, list[float]] = {"sequential": [], "dask+start": [], "dask": []}
    winners = {}
    with prefect_test_harness(server_startup_timeout=120):
        on_dask(config)  # warm: this process's imports, the flow's first run
        for _ in range(args.reps):
            seconds, found = timed(lambda: run_search_locally(split, config))
            times["sequential"].append(seconds)
            winners["sequential"] = found.winner.spec.label
            seconds, found = timed(lambda: on_dask(config))  # a cluster of its own, started and stopped
            times["dask+start"].append(seconds)
            winners["dask+start"] = found.winner.spec.label
            print(json.dumps({k: round(v[-1], 2) for k, v in times.items() if v}), flush=True)
        with shared_cluster(config):  # one cluster for many retrains, as the demo and the backtest run
            on_dask(config)  # the workers' first imports
            for _ in range(args.reps):
                seconds, found = timed(lambda: on_dask(config))
                times["dask"].append(seconds)
                winners["dask"] = found.winner.spec.label
                print(json.dumps({"dask": round(seconds, 2)}), flush=True)
    median = {k: statistics.median(v) for k, v in times.items()}
    summary = {
        "rows": split.train_rows,
        "trials": config.search.trials,
        "folds": config.search.folds,
        "median_seconds": {k: round(v, 2) for k, v in median.items()},
        "speedup_dask": round(median["sequential"] / median["dask"], 2),
        "speedup_dask_with_start": round(median["sequential"] / median["dask+start"], 2),
        "same_winner": len(set(winners.values())) == 1,
        "winners": winners,
        "cpus": os.cpu_count(),
        "load_before": os.getloadavg()[0],
    }
    summary["iterations"] = args.iterations or "demo"
    out = ROOT / "bench" / "results" / f"search{'-' + str(args.iterations) if args.iterations else ''}.json"
    out.write_text(json.dumps({"times": times, "summary": summary}, indent=2))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
