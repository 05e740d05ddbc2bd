"""How much faster is a candidate search on a two-worker Dask cluster than one trial after another?

Setup: the demo's config (examples/flights-late) and its flights up to June (the window of
June's retrain), its search widened to 8 trials (4 LogisticRegression C, 4 HistGradientBoosting
learning rates, 2 expanding folds). Every mode runs inside a Prefect flow run, as a retrain
does, and is timed around the search call only: the flow run's own start and end are paid by
every retrain, searched or not (and a sync flow run's end waits for its heartbeat thread,
which sleeps in whole seconds: that rounds any flow call up to a whole number of seconds).

- ``sequential``: every trial in the flow's process (``training.search.run_search_locally``,
  what `--dry-run` does);
- ``dask``: the same plan as Prefect tasks on prefect-dask's ``DaskTaskRunner``
  (``flows.search.search_candidates``) on one local cluster started before and warmed, as the
  demo and the backtest share one;
- ``dask+start``: the same on a local cluster of its own, started and stopped by the search,
  as a lone retrain does;
- ``processes``: the floor of this machine, no Prefect and no Dask: the same 8 trials on two
  warm plain worker processes that already hold the window.

Modes alternate within each repetition so the machine's load hits them alike. Every fit
uses ``compute.threads`` (1) thread, so two workers can use the two cores. Writes
``bench/results/search.json`` (``search-<iterations>.json`` with ``--iterations``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings
from functools import partial
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


_FRAME = None  # the window, held by each plain worker process of the `processes` mode


def _hold(frame) -> None:
    global _FRAME
    _FRAME = frame


def _trial(spec, folds, config):
    from training.search import evaluate_trial

    return evaluate_trial(spec, _FRAME, folds, config)


def on_processes(pool, split, config):
    """The `processes` floor: the plan's trials on warm plain processes, two in flight per worker."""
    from concurrent.futures import FIRST_COMPLETED, wait

    from training.search import finish_search, start_search

    plan, _, folds = start_search(split, config)
    results, running = [], {}
    while True:
        while len(running) < 4 and (spec := plan.ask()) is not None:
            running[pool.submit(_trial, spec, folds, config)] = spec
        if not running:
            return finish_search(results, folds, config, plan, workers=2)
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in done:
            running.pop(future)
            results.append(future.result())
            plan.tell(results[-1])


MODES: dict = {}  # mode -> the search it runs, set by main()


def search_in_flow(mode: str):
    """The search of ``mode`` inside a flow run: its seconds and its result.

    Prefect sends the flow and its parameters with every task to the workers: this function
    reaches the window through ``sys.modules`` at call time, so pickling it carries no data.
    """
    return timed(sys.modules["__main__"].MODES[mode])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=None, help="HistGradientBoosting max_iter (demo: 100)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from concurrent.futures import ProcessPoolExecutor

    from prefect import flow
    from prefect.testing.utilities import prefect_test_harness

    from flows.search import search_candidates, shared_cluster
    from training.search import run_search_locally, search_frame

    config = bench_config(args.iterations)
    split = window(config)
    modes = {
        "sequential": lambda: run_search_locally(split, config),
        "dask": lambda: search_candidates(split, config),
        "processes": lambda: on_processes(pool, split, config),
    }

    MODES.update(modes)
    in_flow = flow(name="search-bench")(search_in_flow)
    times: dict[str, list[float]] = {"sequential": [], "dask": [], "processes": [], "dask+start": []}
    flow_calls: list[float] = []
    winners = {}
    load_before = os.getloadavg()[0]
    with prefect_test_harness(server_startup_timeout=120):
        in_flow("sequential")  # warm: this process's imports, the flow's first run
        held = search_frame(split, config)
        # one cluster for many retrains, as the demo and the backtest run
        with ProcessPoolExecutor(2, initializer=_hold, initargs=(held,)) as pool, shared_cluster(config):
            in_flow("dask")  # the workers' first imports
            in_flow("processes")
            for _ in range(args.reps):
                for mode in ("sequential", "dask", "processes"):
                    called, (seconds, found) = timed(partial(in_flow, mode))
                    times[mode].append(seconds)
                    winners[mode] = found.winner.spec.label
                    if mode == "dask":
                        flow_calls.append(called)
                print(json.dumps({k: round(v[-1], 2) for k, v in times.items() if v}), flush=True)
        for _ in range(args.reps):  # a cluster of its own, started and stopped by each search
            seconds, found = in_flow("dask")
            times["dask+start"].append(seconds)
            winners["dask+start"] = found.winner.spec.label
            print(json.dumps({"dask+start": round(seconds, 2)}), flush=True)
    median = {k: statistics.median(v) for k, v in times.items()}
    summary = {
        "rows": split.train_rows,
        "trials": config.search.trials,
        "folds": config.search.folds,
        "median_seconds": {k: round(v, 2) for k, v in median.items()},
        "speedup_dask": round(median["sequential"] / median["dask"], 2),
        "speedup_dask_with_start": round(median["sequential"] / median["dask+start"], 2),
        "speedup_processes": round(median["sequential"] / median["processes"], 2),
        "dask_flow_call_seconds": [round(v, 3) for v in flow_calls],
        "same_winner": len(set(winners.values())) == 1,
        "winners": winners,
        "cpus": os.cpu_count(),
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }
    summary["iterations"] = args.iterations or "demo"
    out = ROOT / "bench" / "results" / f"search{'-' + str(args.iterations) if args.iterations else ''}.json"
    out.write_text(json.dumps({"times": times, "summary": summary}, indent=2))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
