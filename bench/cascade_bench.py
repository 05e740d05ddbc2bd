"""Cascade vs heavy model alone vs light model alone, on the demo's flights, in quality and latency.

Trains on January-April 2013 as the flights-late config does (90 training days, April as the
gate's holdout; the cascade's threshold is picked on the last 20 % of the training window),
then judges every model on May, a month none of them saw:

- quality: accuracy (most probable class) and ROC AUC, and the share of rows each cascade
  hands to its light model;
- batch latency: ``mlflow.pyfunc`` ``predict`` of 10,000 May rows in this process (one thread),
  repeated and interleaved across models;
- request latency: single-row ``dataframe_split`` requests to ``mlflow models serve`` of each
  saved model (local environment, one worker, one thread), round-robin across the servers;
- review: for the margin thresholds of the serving side, the share of rows that would go to
  review and the accuracy of the rows that would not.

The models are saved exactly as registration saves them (skops, pinned requirements).

    .venv/bin/python bench/cascade_bench.py                  # 7 batch repeats, 200 requests
    .venv/bin/python bench/cascade_bench.py --requests 50    # quicker

Writes ``bench/results/cascade.json`` and prints the Markdown table of bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "cascade.json"
sys.path.insert(0, str(ROOT))

TRAIN_MONTHS, EVAL_MONTH = (1, 2, 3, 4), 5
BATCH_ROWS = 10_000
# three depth-2 trees on the numeric columns: no category encoding, a few comparisons per row
LIGHT = {
    "class_path": "sklearn.ensemble.HistGradientBoostingClassifier",
    "params": {"max_iter": 3, "max_leaf_nodes": 4, "learning_rate": 0.5, "early_stopping": False},
    "features": [
        "sched_dep_time",
        "sched_arr_time",
        "distance",
        "temp",
        "dewp",
        "humid",
        "wind_dir",
        "wind_speed",
        "wind_gust",
        "precip",
        "pressure",
        "visib",
    ],
}
BUDGETS = {"cascade": "accuracy", "cascade_auc": "roc_auc"}  # both at the default budget, 0.005
REVIEW_THRESHOLDS = (0.2, 0.4, 0.6)
SERVE_WAIT_SECONDS = 180


def train_models() -> tuple[dict, "object", "object"]:
    """Both cascades on January-April; the heavy and light models are the first cascade's parts."""
    import pandas as pd

    from base.cascade_config import CascadeConfig
    from base.settings import load_config
    from retrain.demo.workspace import load_flights
    from training.candidate import train_candidate
    from training.split import split_by_time

    flights = load_flights()
    flights["time_hour"] = pd.to_datetime(flights["time_hour"], utc=True)
    base = load_config(ROOT / "examples" / "flights-late" / "flights-late.yaml")
    split = split_by_time(flights[flights["month"].isin(TRAIN_MONTHS)], base)
    candidates = {}
    for mode, metric in BUDGETS.items():
        cascade = CascadeConfig.model_validate({"light": LIGHT, "budget_metric": metric})
        candidates[mode] = train_candidate(split, base.model_copy(update={"cascade": cascade}))
    first = candidates["cascade"]
    models = {"heavy": first.model.heavy, "light": first.model.light} | {m: c.model for m, c in candidates.items()}
    later = flights[flights["month"] == EVAL_MONTH].reset_index(drop=True)
    X = later[first.features]
    # the registered signature declares integer columns as doubles (see registry.versions)
    X = X.astype({c: "float64" for c in X.select_dtypes(include="integer").columns})
    return models, candidates, (X, later[base.data.target_column])


def quality(models: dict, candidates: dict, X, y) -> dict:
    import numpy as np

    from training.cascade import task_score
    from training.metrics import predict_outputs

    out = {}
    for mode, model in models.items():
        outputs = predict_outputs("binary", model, X)
        row = {m: task_score("binary", m, y, outputs) for m in ("accuracy", "roc_auc")}
        if mode in candidates:
            row["light_share"] = model.shares(X)["light"]
            row["threshold"] = model.threshold
            row["validation_light_share"] = candidates[mode].lineage["cascade.light_share"]
        out[mode] = row
        out[mode]["review"] = review(outputs, np.asarray(y))
    return out


def review(outputs, y) -> list[dict]:
    """At each margin threshold: share of rows sent to review, accuracy of the auto-routed rest."""
    import numpy as np

    from training.confidence import margin_confidence

    margins = margin_confidence(outputs)
    predicted = np.asarray(outputs.labels)[(np.asarray(outputs.values) >= 0.5).astype(int)]
    rows = []
    for threshold in REVIEW_THRESHOLDS:
        auto = margins >= threshold
        accuracy = float(np.mean(predicted[auto] == y[auto])) if auto.any() else float("nan")
        rows.append({"threshold": threshold, "review_rate": float(np.mean(~auto)), "auto_accuracy": accuracy})
    return rows


def save_models(models: dict, sample, folder: Path) -> dict[str, Path]:
    """Each model as an MLflow model folder, serialised the way registration does it."""
    import mlflow.sklearn

    from registry.packaging import model_signature, serialization_options

    paths = {}
    for mode, model in models.items():
        paths[mode] = folder / mode
        mlflow.sklearn.save_model(
            model, str(paths[mode]), signature=model_signature(model, sample), **serialization_options(model)
        )
    return paths


def batch_latency(paths: dict[str, Path], X, reps: int) -> dict:
    """Milliseconds per ``pyfunc.predict`` of ``BATCH_ROWS`` rows, interleaved, after one warm-up."""
    import mlflow.pyfunc
    from threadpoolctl import threadpool_limits

    batch = X.head(BATCH_ROWS)
    loaded = {mode: mlflow.pyfunc.load_model(str(path)) for mode, path in paths.items()}
    times: dict[str, list[float]] = {mode: [] for mode in loaded}
    with threadpool_limits(limits=1):
        for model in loaded.values():
            model.predict(batch)
        for _ in range(reps):
            for mode, model in loaded.items():
                started = time.perf_counter()
                model.predict(batch)
                times[mode].append((time.perf_counter() - started) * 1000)
    return {mode: _stats(ms) for mode, ms in times.items()}


def request_latency(paths: dict[str, Path], X, requests: int, scratch: Path) -> dict:
    """Milliseconds per single-row request to each model's scoring server, round-robin."""
    mlflow_cli = Path(sys.executable).parent / "mlflow"
    env = {**os.environ, "PATH": f"{mlflow_cli.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    servers = {}
    try:
        for mode, path in paths.items():
            port = _free_port()
            log = (scratch / f"serve-{mode}.log").open("wb")
            cmd = [str(mlflow_cli), "models", "serve", "-m", str(path), "--env-manager", "local"]
            cmd += ["--host", "127.0.0.1", "-p", str(port)]
            proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            servers[mode] = (proc, port)
        for mode, (proc, port) in servers.items():
            _wait_up(proc, port, scratch / f"serve-{mode}.log")
        bodies = [_body(X.iloc[[i % len(X)]]) for i in range(requests + 10)]
        times: dict[str, list[float]] = {mode: [] for mode in servers}
        for i, body in enumerate(bodies):
            for mode, (_, port) in servers.items():
                started = time.perf_counter()
                _post(port, body)
                if i >= 10:  # the first ten warm each server up
                    times[mode].append((time.perf_counter() - started) * 1000)
        return {mode: _stats(ms) for mode, ms in times.items()}
    finally:
        for proc, _ in servers.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=30)


def _stats(ms: list[float]) -> dict:
    ordered = sorted(ms)
    return {
        "median_ms": round(statistics.median(ms), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 3),
        "n": len(ms),
    }


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_up(proc: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + SERVE_WAIT_SECONDS
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2):
                return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"model server did not start:\n{log.read_text()[-3000:]}") from None
            time.sleep(0.3)


def _body(frame) -> bytes:
    return json.dumps({"dataframe_split": json.loads(frame.to_json(orient="split", index=False))}).encode()


def _post(port: int, body: bytes) -> list:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/invocations", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())["predictions"]


def table(results: dict) -> str:
    """The Markdown table of bench/README.md: quality on May, latency, change against heavy."""
    heavy_batch = results["batch"]["heavy"]["mean_ms"]
    heavy_request = results["request"]["heavy"]["mean_ms"]
    heavy_accuracy = results["quality"]["heavy"]["accuracy"]
    lines = [
        "| model | accuracy (May) | Δ accuracy vs heavy | ROC AUC (May) | rows to light (May) | "
        "10k-row batch, mean ms | vs heavy | 1-row request, mean ms (median) | vs heavy |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for mode, q in results["quality"].items():
        batch, request = results["batch"][mode], results["request"][mode]
        share = q.get("light_share", 1.0 if mode == "light" else 0.0)
        lines.append(
            f"| {mode} | {q['accuracy']:.4f} | {100 * (q['accuracy'] - heavy_accuracy):+.2f} pt | "
            f"{q['roc_auc']:.4f} | {100 * share:.0f} % | {batch['mean_ms']:.1f} | "
            f"{100 * (batch['mean_ms'] / heavy_batch - 1):+.0f} % | {request['mean_ms']:.2f} "
            f"({request['median_ms']:.2f}) | {100 * (request['mean_ms'] / heavy_request - 1):+.0f} % |"
        )
    return "\n".join(lines)


def review_table(results: dict) -> str:
    lines = ["| model | margin threshold | review rate | auto-routed accuracy |", "| --- | --- | --- | --- |"]
    for mode in ("heavy", "cascade"):
        for row in results["quality"][mode]["review"]:
            lines.append(
                f"| {mode} | {row['threshold']} | {100 * row['review_rate']:.1f} % | {row['auto_accuracy']:.4f} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7, help="batch predictions per model")
    parser.add_argument("--requests", type=int, default=200, help="single-row requests per model")
    args = parser.parse_args()
    from base.environment import quiet_libraries

    quiet_libraries()
    models, candidates, (X, y) = train_models()
    results = {"train_months": TRAIN_MONTHS, "eval_month": EVAL_MONTH, "light": LIGHT, "budgets": BUDGETS}
    results["quality"] = quality(models, candidates, X, y)
    with tempfile.TemporaryDirectory(prefix="retrain-cascade-bench-") as tmp:
        paths = save_models(models, X.head(200), Path(tmp))
        results["batch"] = batch_latency(paths, X, args.reps)
        results["request"] = request_latency(paths, X, args.requests, Path(tmp))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(table(results))
    print()
    print(review_table(results))


if __name__ == "__main__":
    main()
