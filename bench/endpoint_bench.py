"""``retrain endpoint`` against ``mlflow models serve`` on the same champion and machine.

Takes a model config whose home already holds a champion (for example a `retrain demo`
workspace, or any model trained with `retrain run`) and a CSV of rows to send. Starts, one
after the other so they never compete for the cores:

- ``mlflow``: ``mlflow models serve -m models:/NAME@champion --env-manager local`` (bare labels,
  no checks, nothing logged, never follows the alias);
- ``endpoint``: ``retrain endpoint CONFIG`` with ``serving.shadow`` off (suite checks, the
  constraints, the review route, background logging);
- ``endpoint+shadow``: the same with ``serving.shadow`` on, when the model has a challenger
  that is not the champion (the challenger scores every row too).

Each answers ``--requests`` sequential requests of 1 row and of 100 rows (``dataframe_split``
JSON) after three warm-up requests; the table gives p50 / p99 latency and requests per second,
and the ratio of each p50 to MLflow's.

    .venv/bin/python bench/endpoint_bench.py --config WS/flights-late.yaml --rows WS/landing/flights-2013-12.csv

Writes ``bench/results/endpoint.json``. The service's home gets the rows it answered in its
prediction log, like any other traffic.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import child_env, cli_command, machine, write_result

SIZES = (1, 100)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_up(url: str, proc: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


def post(port: int, body: bytes) -> float:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/invocations", data=body, headers={"Content-Type": "application/json"}
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        response.read()
        if response.status != 200:
            raise RuntimeError(f"status {response.status}")
    return time.perf_counter() - started


def drive(port: int, bodies: dict[int, bytes], requests: int) -> dict[str, dict[str, float]]:
    out = {}
    for size, body in bodies.items():
        for _ in range(3):
            post(port, body)
        times = np.array([post(port, body) for _ in range(requests)])
        out[f"{size}_row"] = {
            "p50_s": round(float(np.percentile(times, 50)), 4),
            "p99_s": round(float(np.percentile(times, 99)), 4),
            "rps": round(float(len(times) / times.sum()), 2),
        }
    return out


def run_server(cmd: list[str], env: dict, port: int, health: str, bodies: dict, requests: int) -> dict:
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_up(f"http://127.0.0.1:{port}{health}", proc)
        return drive(port, bodies, requests)
    finally:
        proc.terminate()
        proc.wait(60)


def shadow_config(config: Path, scratch: Path, shadow: bool) -> Path:
    """A copy of the config beside the original (relative paths still resolve) with serving.shadow set."""
    raw = yaml.safe_load(config.read_text())
    raw.setdefault("serving", {})["shadow"] = shadow
    path = config.parent / f".bench-{'shadow' if shadow else 'plain'}-{scratch.name}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--rows", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()

    import pandas as pd

    from base.settings import load_config
    from registry.store import connect
    from registry.versions import get_version

    load_at_start = [round(x, 2) for x in os.getloadavg()]
    config = load_config(args.config)
    frame = pd.read_csv(args.rows).head(max(SIZES))
    bodies = {
        n: json.dumps({"dataframe_split": json.loads(frame.head(n).to_json(orient="split", index=False))}).encode()
        for n in SIZES
    }
    client = connect(config)
    champion, challenger = (get_version(client, config.name, alias) for alias in ("champion", "challenger"))
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="endpoint-bench-") as tmp:
        scratch = Path(tmp)
        env = child_env(scratch, OMP_NUM_THREADS="1")
        mlflow_env = env | {"MLFLOW_TRACKING_URI": config.tracking_uri, "MLFLOW_REGISTRY_URI": config.tracking_uri}
        mlflow_env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        port = free_port()
        mlflow_cmd = [str(Path(sys.executable).parent / "mlflow"), "models", "serve", "-m"]
        mlflow_cmd += [
            f"models:/{config.name}@champion",
            "--env-manager",
            "local",
            "-p",
            str(port),
            "--host",
            "127.0.0.1",
        ]
        results["mlflow"] = run_server(mlflow_cmd, mlflow_env, port, "/ping", bodies, args.requests)
        modes = [("endpoint", False)]
        if challenger is not None and champion is not None and challenger.version != champion.version:
            modes.append(("endpoint+shadow", True))
        for mode, shadow in modes:
            path = shadow_config(args.config, scratch, shadow)
            try:
                port = free_port()
                cmd = [*cli_command(), "endpoint", str(path), "--port", str(port)]
                results[mode] = run_server(cmd, env, port, "/health", bodies, args.requests)
            finally:
                path.unlink()
    for mode in results:
        for size in results[mode]:
            results[mode][size]["p50_vs_mlflow"] = round(
                results[mode][size]["p50_s"] / results["mlflow"][size]["p50_s"], 2
            )
    print("| server | request | p50 s | p99 s | req/s | p50 vs MLflow |")
    print("| --- | --- | --- | --- | --- | --- |")
    for mode, sizes in results.items():
        for size, m in sizes.items():
            print(f"| {mode} | {size} | {m['p50_s']} | {m['p99_s']} | {m['rps']} | {m['p50_vs_mlflow']}x |")
    write_result(
        "endpoint",
        {
            "machine": machine() | {"load_avg_at_start": load_at_start},
            "model": config.name,
            "requests": args.requests,
            "results": results,
        },
    )


if __name__ == "__main__":
    main()
