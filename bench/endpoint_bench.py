"""``retrain endpoint`` against ``mlflow models serve`` on the same champion and machine.

Takes a model config whose home already holds a champion (for example a `retrain demo`
workspace, or any model trained with `retrain run`) and a CSV of rows to send. Starts:

- ``mlflow``: ``mlflow models serve -m models:/NAME@champion --env-manager local`` (bare labels,
  no checks, nothing logged, never follows the alias);
- ``endpoint``: ``retrain endpoint CONFIG`` with ``serving.shadow`` off (suite checks, the
  constraints, the review route, background logging);
- ``endpoint+shadow``: the same with ``serving.shadow`` on, when the model has a challenger
  that is not the champion (the challenger scores every row too).

Each service runs beside MLflow (one service at a time, so a service's background logging and
shadow scoring weigh on its own numbers only) and the two take turns of ``--block`` requests
(20) in a rotating order, so a slow minute of this shared machine falls on both alike (run one
after the other, the same server measured 10 % apart between runs); the first request of each
turn, which finds the server's caches taken by the other server, is sent but not counted. Each
ratio is to the MLflow measured in the same turns; the MLflow rows are from the first pair. Each answers
``--requests`` sequential requests of 1 row and of 100 rows (``dataframe_split`` JSON) after
three warm-up requests; the table gives p50 / p99 latency and requests per second, and the
ratio of each p50 to MLflow's.

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


def drive(
    ports: dict[str, int], bodies: dict[int, bytes], requests: int, block: int
) -> dict[str, dict[str, dict[str, float]]]:
    """Every server answers each size's requests in turns of ``block`` (rotating who goes first)."""
    out: dict[str, dict[str, dict[str, float]]] = {name: {} for name in ports}
    names = list(ports)
    for size, body in bodies.items():
        for name in names:
            for _ in range(3):
                post(ports[name], body)
        times: dict[str, list[float]] = {name: [] for name in names}
        for turn, start in enumerate(range(0, requests, block)):
            for name in names[turn % len(names) :] + names[: turn % len(names)]:
                post(ports[name], body)  # its caches back after the other server's turn: not counted
                times[name] += [post(ports[name], body) for _ in range(min(block, requests - start))]
        for name in names:
            measured = np.array(times[name])
            out[name][f"{size}_row"] = {
                "p50_s": round(float(np.percentile(measured, 50)), 4),
                "p99_s": round(float(np.percentile(measured, 99)), 4),
                "rps": round(float(len(measured) / measured.sum()), 2),
            }
    return out


def start_server(cmd: list[str], env: dict, port: int, health: str) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_up(f"http://127.0.0.1:{port}{health}", proc)
    except Exception:
        proc.terminate()
        raise
    return proc


def shadow_config(config: Path, scratch: Path, shadow: bool, mode: str) -> Path:
    """A copy of the config beside the original (relative paths still resolve) with serving.shadow set."""
    raw = yaml.safe_load(config.read_text())
    raw.setdefault("serving", {})["shadow"] = shadow
    path = config.parent / f".bench-{mode.replace('+', '-')}-{scratch.name}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--rows", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--block", type=int, default=20, help="requests per server per turn")
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
        modes = [("endpoint", False)]
        if challenger is not None and champion is not None and challenger.version != champion.version:
            modes.append(("endpoint+shadow", True))
        mlflow = start_server(mlflow_cmd, mlflow_env, port, "/ping")
        results: dict[str, dict] = {}
        try:
            for mode, shadow in modes:  # one service at a time beside MLflow: a service's background work stays its own
                path = shadow_config(args.config, scratch, shadow, mode)
                ours = free_port()
                cmd = [*cli_command(), "endpoint", str(path), "--port", str(ours)]
                proc = start_server(cmd, env, ours, "/health")
                try:
                    pair = drive({"mlflow": port, mode: ours}, bodies, args.requests, args.block)
                finally:
                    proc.terminate()
                    proc.wait(60)
                    path.unlink(missing_ok=True)
                for size, measured in pair[mode].items():
                    measured["p50_vs_mlflow"] = round(measured["p50_s"] / pair["mlflow"][size]["p50_s"], 2)
                    measured["mlflow_p50_s"] = pair["mlflow"][size]["p50_s"]
                results.setdefault("mlflow", pair["mlflow"])
                results[mode] = pair[mode]
        finally:
            mlflow.terminate()
            mlflow.wait(60)
    for size in results["mlflow"]:
        results["mlflow"][size]["p50_vs_mlflow"] = 1.0
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
