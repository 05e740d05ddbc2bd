"""Rollback cost: the cold ``retrain rollback`` process vs a bare MLflow alias write.

Sets up a temporary home (MLflow SQLite store, one model with three versions, ledger
history of three promotions), then runs, interleaved so machine noise hits every mode:

- ``cli_rollback``: ``retrain rollback MODEL --to V`` in a fresh process (reconcile, lock,
  load-check the target, pending entry, alias write, applied mark, version tags);
- ``bare_alias_write``: a fresh Python process doing only
  ``MlflowClient(...).set_registered_model_alias(...)`` on the same store;
- ``bare_load_and_write``: the bare write preceded by ``mlflow.pyfunc.load_model`` of the
  target, i.e. the registry work of a checked rollback without the ledger and the CLI;
- ``import_mlflow``: a fresh process that only imports MLflow (the floor all pay).

Every mode gets one unmeasured warm-up. When ``PYTHONDONTWRITEBYTECODE`` is set, children
get a private ``PYTHONPYCACHEPREFIX`` instead, so each measures a normal installed start,
not a recompilation of MLflow.

    .venv/bin/python bench/rollback_bench.py            # 7 runs per mode
    .venv/bin/python bench/rollback_bench.py --reps 3

Writes ``bench/results/rollback.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "rollback.json"
MODEL = "bench-model"
BARE = """
import sys
from mlflow import MlflowClient
uri, name, version = sys.argv[1:4]
MlflowClient(tracking_uri=uri, registry_uri=uri).set_registered_model_alias(name, "champion", version)
"""
BARE_LOADED = """
import sys
import mlflow
from mlflow import MlflowClient
uri, name, version = sys.argv[1:4]
client = MlflowClient(tracking_uri=uri, registry_uri=uri)
mlflow.pyfunc.load_model(client.get_model_version_download_uri(name, version))
client.set_registered_model_alias(name, "champion", version)
"""


def seed_home(home: Path) -> str:
    """Three real sklearn versions of one model, promoted in turn through the ledger."""
    import mlflow
    import numpy as np
    from mlflow import MlflowClient
    from sklearn.linear_model import LogisticRegression

    from registry.ledger import Stores
    from registry.promotion import move_champion

    uri = f"sqlite:///{home / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.create_registered_model(MODEL)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    stores = Stores(uri, f"sqlite:///{home / 'ledger.db'}")
    for k in (1, 2, 3):
        y = (X[:, 0] + k * X[:, 1] > 0).astype(int)
        path = home / "models" / f"v{k}"
        mlflow.sklearn.save_model(LogisticRegression().fit(X, y), str(path), pip_requirements=["scikit-learn"])
        client.create_model_version(MODEL, str(path))
        move_champion(stores, client, MODEL, str(k), "promote", "bench setup", actor="bench",
                      metrics={"roc_auc": round(0.8 + k / 100, 4)})
    return uri


def child_env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETRAIN_")}
    env |= {"PYTHONPATH": str(ROOT), "RETRAIN_ACTOR": "bench"}
    if env.pop("PYTHONDONTWRITEBYTECODE", None):
        env["PYTHONPYCACHEPREFIX"] = str(home / "pycache")
    return env


def cli_command() -> list[str]:
    script = Path(sys.executable).parent / "retrain"
    return [str(script)] if script.exists() else [sys.executable, "-m", "retrain.cli"]


def timed(cmd: list[str], env: dict) -> float:
    started = time.perf_counter()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - started
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return elapsed


def run(reps: int, home: Path) -> dict:
    uri = seed_home(home)
    env = child_env(home)
    targets = ["2", "3"]  # alternate, so every CLI run really moves the alias
    commands = {
        "cli_rollback": lambda i: [*cli_command(), "rollback", MODEL, "--home", str(home), "--to", targets[i % 2],
                                   "--reason", "bench"],
        "bare_alias_write": lambda i: [sys.executable, "-c", BARE, uri, MODEL, targets[i % 2]],
        "bare_load_and_write": lambda i: [sys.executable, "-c", BARE_LOADED, uri, MODEL, targets[i % 2]],
        "import_mlflow": lambda i: [sys.executable, "-c", "import mlflow"],
    }
    for mode, command in commands.items():  # warm-up: file cache and bytecode
        timed(command(0), env)
    samples: dict[str, list[float]] = {mode: [] for mode in commands}
    for i in range(1, reps + 1):
        for mode, command in commands.items():
            samples[mode].append(round(timed(command(i), env), 3))
    from registry.ledger import open_ledger

    entries = open_ledger(f"sqlite:///{home / 'ledger.db'}").entries(MODEL)
    assert all(e.status == "applied" for e in entries) and len(entries) == 3 + reps + 1, entries
    return summarise(samples, reps)


def summarise(samples: dict[str, list[float]], reps: int) -> dict:
    medians = {mode: round(statistics.median(values), 3) for mode, values in samples.items()}
    return {
        "reps": reps,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "bytecode_prefix": bool(os.environ.get("PYTHONDONTWRITEBYTECODE")),
        "median_s": medians,
        "min_s": {mode: min(values) for mode, values in samples.items()},
        "samples_s": samples,
        "ratio_cli_to_bare": round(medians["cli_rollback"] / medians["bare_alias_write"], 2),
        "cli_extra_over_bare_s": round(medians["cli_rollback"] - medians["bare_alias_write"], 3),
        "ratio_cli_to_bare_with_load": round(medians["cli_rollback"] / medians["bare_load_and_write"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the temporary home")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    home = Path(tempfile.mkdtemp(prefix="retrain-rollback-bench-"))
    try:
        result = run(args.reps, home)
    finally:
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'mode':<20} {'median s':>9} {'min s':>7}")
    for mode, median in result["median_s"].items():
        print(f"{mode:<20} {median:>9.3f} {result['min_s'][mode]:>7.3f}")
    print(f"retrain rollback / bare alias write: {result['ratio_cli_to_bare']}x "
          f"(+{result['cli_extra_over_bare_s']:.3f} s); / bare load + write: "
          f"{result['ratio_cli_to_bare_with_load']}x; wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
