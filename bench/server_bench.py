"""CPU cost of one ``retrain run`` with the home's shared Prefect server vs a temporary one.

Builds a tiny synthetic model (three months of 300 rows, logistic regression) in a temporary
folder, then runs ``retrain run`` as a fresh process, interleaved:

- ``ephemeral``: ``RETRAIN_PREFECT_SERVER=ephemeral``, Prefect's temporary per-process server
  (the behaviour before the shared server);
- ``shared``: the home's server, already running (started once before the first run).

For each run it records wall time, the CPU time of the CLI process and its children (which
includes a temporary server) and, for ``shared``, the CPU the server process spent during
the run (its whole process group, read from ``/proc``), so each mode is charged for all of
its work.
A new batch is not added between runs: every run validates (cached), trains, gates and
registers the same three months.

    .venv/bin/python bench/server_bench.py --reps 3

Writes ``bench/results/server.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "server.json"
sys.path.insert(0, str(ROOT))


def build_workspace(root: Path) -> Path:
    """Three synthetic months, a proposed suite and a config whose home is ``root/home``."""
    import pandas as pd

    from base.settings import load_config
    from monitoring.validation import propose_suite, write_suite
    from tests.integration.conftest import make_month, write_config

    (root / "batches").mkdir(parents=True)
    frames = [make_month(m) for m in (1, 2, 3)]
    for month, frame in zip((1, 2, 3), frames, strict=False):
        frame.to_csv(root / "batches" / f"m{month:02d}.csv", index=False)
    path = write_config(root)
    write_suite(propose_suite(pd.concat(frames, ignore_index=True), load_config(path)), load_config(path).suite_path)
    return path


def server_cpu(group: int) -> float:
    """User + system CPU seconds of every process in the server's group (keeper and Prefect)."""
    ticks = 0
    for name in os.listdir("/proc"):
        try:
            fields = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if name.isdigit() and int(fields[2]) == group:
            ticks += sum(int(fields[i]) for i in (11, 12, 13, 14))
    return ticks / os.sysconf("SC_CLK_TCK")


def run_once(config: Path, env: dict[str, str], server_pid: int | None) -> dict[str, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = server_cpu(server_pid) if server_pid else 0.0
    started = time.monotonic()
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "retrain"), "run", str(config), "--json"], env=env, capture_output=True, text=True
    )
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 4):
        raise SystemExit(f"retrain run failed ({done.returncode}):\n{done.stdout}\n{done.stderr[-3000:]}")
    cli = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    server = (server_cpu(server_pid) - server_before) if server_pid else 0.0
    return {
        "wall": round(wall, 2),
        "cli_cpu": round(cli, 2),
        "server_cpu": round(server, 2),
        "total_cpu": round(cli + server, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="retrain-server-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "RETRAIN_"))}
    env |= {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", "OMP_NUM_THREADS": "1"}
    try:
        config = build_workspace(scratch)
        retrain = str(ROOT / ".venv" / "bin" / "retrain")
        subprocess.run(
            [retrain, "server", "start", "--home", str(scratch / "home")], env=env, check=True, capture_output=True
        )
        from retrain.processes.home_record import read_record

        pid = read_record(scratch / "home").pid
        modes = {"ephemeral": (env | {"RETRAIN_PREFECT_SERVER": "ephemeral"}, None), "shared": (env, pid)}
        samples: dict[str, list[dict[str, float]]] = {name: [] for name in modes}
        for mode_env, server_pid in modes.values():  # warm-up, unmeasured
            run_once(config, mode_env, server_pid)
        for _ in range(args.reps):
            for name, (mode_env, server_pid) in modes.items():
                samples[name].append(run_once(config, mode_env, server_pid))
                print(name, samples[name][-1], flush=True)
        summary = {
            name: {key: statistics.median(s[key] for s in runs) for key in runs[0]} for name, runs in samples.items()
        }
        summary["ratio_total_cpu_shared_vs_ephemeral"] = round(
            summary["shared"]["total_cpu"] / summary["ephemeral"]["total_cpu"], 3
        )
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps({"reps": args.reps, "median": summary, "samples": samples}, indent=2) + "\n")
        print(json.dumps(summary, indent=2))
    finally:
        subprocess.run(
            [str(ROOT / ".venv" / "bin" / "retrain"), "server", "stop", "--home", str(scratch / "home")],
            env=env,
            capture_output=True,
        )
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
