"""What every benchmark here shares: fresh child processes, CPU and wall time, medians, tables.

CPU time is the children's user + system time from ``getrusage(RUSAGE_CHILDREN)``, read
before and after each child: it counts every process the child waited for (a server it
started and stopped, worker processes), and it is what a shared machine cares about. Wall
time is reported beside it because that is what a person waits for.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def child_env(home: Path, **extra: str) -> dict[str, str]:
    """A clean environment for a child running this checkout.

    ``RETRAIN_*`` variables of the caller are dropped so the child uses what the bench
    set up. With ``PYTHONDONTWRITEBYTECODE`` set, children share a private bytecode cache,
    so each measurement is a normal start of an installed program, not a recompilation.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETRAIN_")}
    env |= {
        "PYTHONPATH": str(ROOT),
        "RETRAIN_ACTOR": "bench",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "GX_ANALYTICS_ENABLED": "false",
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    if env.pop("PYTHONDONTWRITEBYTECODE", None):
        env["PYTHONPYCACHEPREFIX"] = str(home / "pycache")
    return env | extra


def cli_command() -> list[str]:
    script = Path(sys.executable).parent / "retrain"
    return [str(script)] if script.exists() else [sys.executable, "-m", "retrain.cli"]


def measure(cmd: list[str], env: dict, ok_codes: tuple[int, ...] = (0,)) -> dict[str, float]:
    """Run one child to completion; its wall seconds and CPU seconds (user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode not in ok_codes:
        raise SystemExit(
            f"{' '.join(map(str, cmd))} failed ({out.returncode}):\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}"
        )
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": round(wall, 3), "cpu": round(cpu, 3)}


def summarise(samples: dict[str, list[dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Median and minimum of wall and CPU per mode."""
    out = {}
    for mode, runs in samples.items():
        walls, cpus = [r["wall"] for r in runs], [r["cpu"] for r in runs]
        out[mode] = {
            "cpu_median": round(statistics.median(cpus), 3),
            "cpu_min": min(cpus),
            "wall_median": round(statistics.median(walls), 3),
            "wall_min": min(walls),
            "n": len(runs),
        }
    return out


def ratio(summary: dict, mode: str, reference: str, field: str = "cpu_median") -> float:
    return round(summary[mode][field] / summary[reference][field], 2)


def machine() -> dict:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_avg_at_end": [round(x, 2) for x in os.getloadavg()],
    }


def print_table(title: str, summary: dict) -> None:
    print(f"\n{title}")
    print(f"| {'mode':<22} | CPU s (median) | CPU s (min) | wall s (median) | wall s (min) | n |")
    print(f"| {'-' * 22} | --- | --- | --- | --- | --- |")
    for mode, s in summary.items():
        print(
            f"| {mode:<22} | {s['cpu_median']:.2f} | {s['cpu_min']:.2f} | {s['wall_median']:.2f} | "
            f"{s['wall_min']:.2f} | {s['n']} |"
        )


def write_result(name: str, result: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path


def write_month_comparison(name: str, rows: list[dict]) -> dict:
    """Default vs searched, one row per month: the means, the months the search won; saved and printed."""
    import pandas as pd

    table = pd.DataFrame(rows)
    summary = {
        "mean_default": round(float(table["default"].mean()), 4),
        "mean_searched": round(float(table["searched"].mean()), 4),
        "months_searched_better": int((table["searched"] > table["default"]).sum()),
        "months": len(table),
    }
    write_result(name, {"rows": rows, "summary": summary})
    print(table.to_string(index=False))
    print(json.dumps(summary))
    return summary
