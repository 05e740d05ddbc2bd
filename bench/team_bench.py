"""The team service at fleet scale: N demo-model copies retrained once each, three ways.

- ``sequential``: ``retrain run CONFIG`` for each model, one after another, against the team
  servers (the baseline);
- ``pool-1``: the same retrains as deployments on a ``process`` work pool with one worker
  (``--limit 1``: one flow process at a time, like the baseline);
- ``pool-2``: two such workers.

Every mode gets its own model names (``seq-00``, ``p1-00``, ...), so no retrain finds an
earlier identical one. Each model is the demo's flights-late model on its own slice of the
demo's first months (a seeded half of the rows). Measured: wall from the first run created
to the last finished; CPU of the clients (the CLI processes, or the workers and the flow
processes they started); CPU the Prefect and MLflow servers spent during the mode (their
process trees, from /proc) per run; the servers' resident memory (RSS and peak) at the end.

Run: ``.venv/bin/python bench/team_bench.py [--models 20]`` (PostgreSQL at 127.0.0.1:5432,
trust auth). Results go to bench/results/team.json. Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import child_env, cli_command, machine, write_result

MLFLOW_PASSWORD = f"bench-{uuid.uuid4().hex[:12]}"
PREFECT_AUTH = f"bench:{uuid.uuid4().hex[:12]}"
TICKS = os.sysconf("SC_CLK_TCK")


def tree(pid: int) -> list[int]:
    """``pid`` and every descendant, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def tree_cpu(pid: int) -> float:
    """User + system seconds of a process tree, including its reaped children."""
    total = 0
    for p in tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
    return total / TICKS


def tree_memory(pid: int) -> dict[str, float]:
    """Resident and peak resident MB of a process tree."""
    rss = hwm = 0
    for p in tree(pid):
        try:
            status = Path(f"/proc/{p}/status").read_text().splitlines()
        except OSError:
            continue
        values = {line.split(":")[0]: int(line.split()[1]) for line in status if line.startswith(("VmRSS", "VmHWM"))}
        rss, hwm = rss + values.get("VmRSS", 0), hwm + values.get("VmHWM", 0)
    return {"rss_mb": round(rss / 1024, 1), "peak_mb": round(hwm / 1024, 1), "processes": len(tree(pid))}


def make_models(root: Path, prefix: str, count: int) -> list[Path]:
    """``count`` copies of the demo model, each on its own seeded half of the first months."""
    import pandas as pd

    from retrain.demo.workspace import build_workspace

    demo = build_workspace(root / "demo", months=[1, 2, 3, 4], initial_months=[1, 2, 3, 4], broken_month=None)
    base = yaml.safe_load(demo.config_path.read_text())
    configs = []
    for i in range(count):
        folder = root / f"{prefix}-{i:02d}"
        (folder / "batches").mkdir(parents=True)
        for landing in demo.initial:
            frame = pd.read_csv(landing)
            frame.sample(frac=0.5, random_state=i).to_csv(folder / "batches" / landing.name, index=False)
        config = {**base, "name": f"{prefix}-{i:02d}", "validation": {"suite": str(demo.suite_path)}}
        config["state"] = {"home": str(root / "home")}
        path = folder / "model.yaml"
        path.write_text(yaml.safe_dump(config))
        configs.append(path)
    return configs


def run_sequential(configs: list[Path], env: dict) -> dict[str, float]:
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    for config in configs:
        done = subprocess.run([*cli_command(), "run", str(config), "--json"], env=env, capture_output=True, text=True)
        if done.returncode not in (0, 3, 4):
            raise SystemExit(f"retrain run {config} failed ({done.returncode}): {done.stderr[-2000:]}")
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall": wall, "client_cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)}


def run_pool(configs: list[Path], env: dict, workers: int, pool: str, root: Path) -> dict[str, float]:
    """Deploy, start ``workers`` workers, create every retrain run at once, wait, stop the workers."""
    import resource

    done = subprocess.run([*cli_command(), "deploy", *map(str, configs), "--pool", pool, "--json"], env=env,
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"retrain deploy failed: {done.stderr[-2000:]}")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker_env = env | {"PREFECT_WORKER_QUERY_SECONDS": "1"}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "prefect",
                "worker",
                "start",
                "--pool",
                pool,
                "--limit",
                "1",
                "--name",
                f"{pool}-{n}",
            ],
            env=worker_env,
            stdout=(root / f"{pool}-{n}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for n in range(workers)
    ]
    started = time.perf_counter()
    names = [f"retrain/{yaml.safe_load(c.read_text())['name']}" for c in configs]
    finished = wait_all(create_runs(names))
    wall = time.perf_counter() - started
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(timeout=60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall": wall, "client_cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
            "completed": finished}  # fmt: skip


def create_runs(names: list[str]) -> list:
    from prefect.deployments import run_deployment

    return [run_deployment(name, timeout=0).id for name in names]


def wait_all(ids: list) -> int:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        while True:
            states = [client.read_flow_run(i).state for i in ids]
            if all(s is not None and s.is_final() for s in states):
                return sum(1 for s in states if s is not None and s.is_completed())
            time.sleep(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=20)
    parser.add_argument("--root", type=Path, default=Path("/tmp/retrain-team-bench"))
    args = parser.parse_args()
    root = args.root.resolve()
    if root.exists():
        import shutil

        shutil.rmtree(root)
    root.mkdir(parents=True)
    prefix = f"rt_bench_{uuid.uuid4().hex[:8]}"
    env = child_env(root, MLFLOW_TRACKING_USERNAME="admin", MLFLOW_TRACKING_PASSWORD=MLFLOW_PASSWORD,
                    PREFECT_API_AUTH_STRING=PREFECT_AUTH, OMP_NUM_THREADS="1")  # fmt: skip
    env = {k: v for k, v in env.items() if not k.startswith("PREFECT_API_URL")}
    up = subprocess.run([*cli_command(), "server", "up", "--database-url", f"postgresql://postgres@127.0.0.1:5432/{prefix}",
                         "--state", str(root / "state"), "--prefect-port", "14300", "--mlflow-port", "15300", "--json"],
                        env=env, capture_output=True, text=True)  # fmt: skip
    if up.returncode != 0:
        raise SystemExit(f"server up failed: {up.stdout}\n{up.stderr}")
    exported = json.loads(up.stdout)["env"]
    env |= {k: exported[k] for k in ("PREFECT_API_URL", "RETRAIN_TRACKING_URI", "RETRAIN_LEDGER_URL")}
    os.environ.update({k: v for k, v in env.items() if k.startswith(("PREFECT_", "MLFLOW_", "RETRAIN_"))})
    record = json.loads((root / "state" / "team.json").read_text())
    servers = {"prefect": record["prefect_pid"], "mlflow": record["mlflow_pid"]}
    results: dict = {"models": args.models, "modes": {}}
    try:
        modes = [("sequential", "seq", 0), ("pool-1", "p1", 1), ("pool-2", "p2", 2)]
        for mode, short, workers in modes:
            configs = make_models(root / short, short, args.models)
            server_before = {name: tree_cpu(pid) for name, pid in servers.items()}
            measured = (
                run_sequential(configs, env)
                if workers == 0
                else run_pool(configs, env, workers, f"bench-{short}", root)
            )
            server_cpu = {name: tree_cpu(pid) - server_before[name] for name, pid in servers.items()}
            results["modes"][mode] = {
                "wall_s": round(measured["wall"], 1),
                "client_cpu_s": round(measured["client_cpu"], 1),
                "wall_per_run_s": round(measured["wall"] / args.models, 2),
                "client_cpu_per_run_s": round(measured["client_cpu"] / args.models, 2),
                "server_cpu_per_run_s": {k: round(v / args.models, 2) for k, v in server_cpu.items()},
                "completed": measured.get("completed", args.models),
            }
            print(mode, json.dumps(results["modes"][mode]), flush=True)
        results["server_memory"] = {name: tree_memory(pid) for name, pid in servers.items()}
    finally:
        subprocess.run([*cli_command(), "server", "down", "--state", str(root / "state")], env=env, capture_output=True)
        drop_databases(prefix)
    results["machine"] = machine()
    print(f"results: {write_result('team', results)}")
    print_table(results)


def drop_databases(prefix: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True) as conn:
        for suffix in ("prefect", "mlflow", "mlflow_auth"):
            name = sql.Identifier(f"{prefix}_{suffix}")
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


def print_table(results: dict) -> None:
    print(f"\n{results['models']} models, one retrain each")
    print("| mode | wall s | wall s/run | client CPU s/run | Prefect server CPU s/run | MLflow server CPU s/run |")
    print("| --- | --- | --- | --- | --- | --- |")
    for mode, r in results["modes"].items():
        s = r["server_cpu_per_run_s"]
        print(f"| {mode} | {r['wall_s']} | {r['wall_per_run_s']} | {r['client_cpu_per_run_s']} | "
              f"{s['prefect']} | {s['mlflow']} |")  # fmt: skip
    for name, m in results.get("server_memory", {}).items():
        print(f"{name} server: RSS {m['rss_mb']} MB (peak {m['peak_mb']} MB) in {m['processes']} processes")


if __name__ == "__main__":
    main()
