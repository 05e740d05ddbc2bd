"""Light commands cold: ``retrain status`` and ``retrain rollback`` vs the bare MLflow calls.

Sets up a temporary home (MLflow SQLite store, one model with three versions registered the
way ``retrain run`` registers them, three promotions in the ledger), then runs every mode
as a fresh process, interleaved so machine noise hits all of them alike:

- ``cli_status``: ``retrain status MODEL --json`` (registry, ledger, guards, the champion's
  loadability check);
- ``bare_status``: ``MlflowClient.get_registered_model`` + ``get_model_version`` of the
  champion, nothing else;
- ``cli_rollback``: ``retrain rollback MODEL --to V`` (alternating 2/3: every run moves the
  alias): reconcile, lock, check the target loads (by artifact digest), pending entry, alias
  write, applied mark, version tags, block;
- ``bare_alias_write``: ``MlflowClient.set_registered_model_alias`` and nothing else;
- ``import_mlflow``: only ``import mlflow``, the floor of every MLflow client process.

    .venv/bin/python bench/light_bench.py            # 7 runs per mode after one warm-up
    .venv/bin/python bench/light_bench.py --reps 3

Writes ``bench/results/light.json``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, child_env, cli_command, machine, measure, print_table, ratio, summarise, write_result

MODEL = "bench-model"
BARE_STATUS = """
import sys
from mlflow import MlflowClient
uri, name = sys.argv[1:3]
client = MlflowClient(tracking_uri=uri, registry_uri=uri)
model = client.get_registered_model(name)
print(client.get_model_version(name, model.aliases["champion"]).tags.get("metric.roc_auc"))
"""
BARE_ALIAS = """
import sys
from mlflow import MlflowClient
uri, name, version = sys.argv[1:4]
MlflowClient(tracking_uri=uri, registry_uri=uri).set_registered_model_alias(name, "champion", version)
"""


def seed_home(home: Path) -> str:
    """Three versions registered by ``register_candidate`` and promoted in turn through the ledger."""
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from base.settings import ModelConfig
    from registry.promotion import move_champion
    from registry.store import connect
    from registry.versions import register_candidate

    config = ModelConfig.model_validate(
        {
            "name": MODEL,
            "task": "binary",
            "validation": {"suite": "suite.json"},
            "state": {"home": str(home)},
            "data": {"path": "b/*.csv", "timestamp_column": "ts", "target_column": "y"},
        }
    )
    client = connect(config)
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(200, 5)), columns=[f"x{i}" for i in range(5)])
    for k in (1, 2, 3):
        y = (X["x0"] + k * X["x1"] > 0).astype(int)
        version = register_candidate(
            client, config, LogisticRegression().fit(X, y), X, {"data_hash": str(k)}, {"roc_auc": 0.8 + k / 100}
        )
        move_champion(config, client, MODEL, version.version, "promote", "bench setup", actor="bench")
    return config.tracking_uri


def modes(home: Path, uri: str) -> dict:
    targets = ["2", "3"]  # alternate, so every CLI run really moves the alias
    home_args = ["--home", str(home)]
    return {
        "cli_status": lambda i: [*cli_command(), "status", MODEL, *home_args, "--json"],
        "bare_status": lambda i: [sys.executable, "-c", BARE_STATUS, uri, MODEL],
        "cli_rollback": lambda i: [
            *cli_command(),
            "rollback",
            MODEL,
            *home_args,
            "--to",
            targets[i % 2],
            "--reason",
            "bench",
        ],
        "bare_alias_write": lambda i: [sys.executable, "-c", BARE_ALIAS, uri, MODEL, targets[i % 2]],
        "import_mlflow": lambda i: [sys.executable, "-c", "import mlflow"],
    }


def run(reps: int, home: Path) -> dict:
    uri = seed_home(home)
    env = child_env(home)
    commands = modes(home, uri)
    for command in commands.values():  # warm-up: file cache and bytecode
        measure(command(0), env)
    samples: dict[str, list] = {mode: [] for mode in commands}
    for i in range(1, reps + 1):
        for mode, command in commands.items():
            samples[mode].append(measure(command(i), env))
    summary = summarise(samples)
    return {
        "reps": reps,
        **machine(),
        "summary": summary,
        "samples": samples,
        "ratios_cpu": {
            "status / bare_status": ratio(summary, "cli_status", "bare_status"),
            "rollback / bare_alias_write": ratio(summary, "cli_rollback", "bare_alias_write"),
        },
        "ratios_wall": {
            "status / bare_status": ratio(summary, "cli_status", "bare_status", "wall_median"),
            "rollback / bare_alias_write": ratio(summary, "cli_rollback", "bare_alias_write", "wall_median"),
        },
        "targets": {"status_cpu_s_max": 1.0, "rollback_over_bare_alias_max": 1.2},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the temporary home")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="retrain-light-bench-"))
    try:
        result = run(args.reps, home)
    finally:
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)
    path = write_result("light", result)
    print_table(f"Light commands, cold processes ({args.reps} interleaved runs per mode)", result["summary"])
    status_cpu = result["summary"]["cli_status"]["cpu_median"]
    print(
        f"\nstatus: {status_cpu:.2f} s CPU (target <= 1.0 s); {result['ratios_cpu']['status / bare_status']}x "
        f"the bare MLflow read (CPU)"
    )
    print(
        f"rollback / bare alias write: {result['ratios_cpu']['rollback / bare_alias_write']}x CPU, "
        f"{result['ratios_wall']['rollback / bare_alias_write']}x wall (target <= 1.2x)"
    )
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
