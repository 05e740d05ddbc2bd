"""How a model version is stored: its code commit, serialization, signature and pinned requirements.

Computed from what the run already knows, so registration skips MLflow's slow inference
of requirements and its scan of the repository.
"""

from __future__ import annotations

import subprocess
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

PINNED_PACKAGES = ("scikit-learn", "pandas", "numpy", "mlflow")
_PROJECT_DIR = Path(__file__).resolve().parents[1]


def code_version(path: Path | None = None) -> str:
    """Git commit of the code, ``-dirty`` when the tree has changes, ``unknown`` outside git."""
    where = str(path or _PROJECT_DIR)
    try:
        head = _git(where, "rev-parse", "HEAD")
        changes = _git(where, "status", "--porcelain")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}-dirty" if changes else head


def pinned_requirements(extra: tuple[str, ...] = ()) -> list[str]:
    """Exact pins of what the model needs; MLflow's inference costs seconds per call."""
    return [f"{package}=={installed_version(package)}" for package in (*PINNED_PACKAGES, *extra)]


def serialization_options(model: Any) -> dict[str, Any]:
    """skops (no pickle) when the model allows it, trusting exactly its own types.

    skops refuses to load types outside its default allow-list (tree predictors,
    numpy dtypes), so the list is computed from the model; custom objects skops
    cannot store fall back to cloudpickle.
    """
    import skops.io

    try:
        trusted = skops.io.get_untrusted_types(data=skops.io.dumps(model))
    except Exception:  # skops raises assorted errors on objects it cannot store
        return {"serialization_format": "cloudpickle", "pip_requirements": pinned_requirements(("cloudpickle",))}
    return {
        "serialization_format": "skops",
        "skops_trusted_types": trusted or None,
        "pip_requirements": pinned_requirements(("skops",)),
    }


def model_signature(model: Any, sample: "pd.DataFrame") -> Any:
    """Integer inputs are declared as doubles: a later batch with one missing value
    arrives as floats and would otherwise break schema enforcement when serving."""
    from mlflow.models import infer_signature

    ints = sample.select_dtypes(include="integer").columns
    return infer_signature(sample.astype({c: "float64" for c in ints}), model.predict(sample))


def source_tags(code: str) -> dict[str, str]:
    """The source tags MLflow's run context would add, from what the run already knows.

    Creating the run with them (instead of letting ``start_run`` resolve its context) skips
    MLflow's GitPython scan of the repository, a second of CPU per retrain; the commit is
    the one ``code_version`` read.
    """
    import getpass
    import sys

    tags = {"mlflow.source.name": Path(sys.argv[0]).name or "retrain", "mlflow.source.type": "JOB"}
    try:
        tags["mlflow.user"] = getpass.getuser()
    except (KeyError, OSError):
        pass
    if code != "unknown":
        tags["mlflow.source.git.commit"] = code.removesuffix("-dirty")
    return tags


def _git(where: str, *args: str) -> str:
    done = subprocess.run(["git", "-C", where, *args], capture_output=True, text=True, timeout=10, check=True)
    return done.stdout.strip()
