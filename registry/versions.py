"""Log, register, look up and load model versions.

Every candidate becomes a registered version, promoted or not, so the registry is
the audit trail: its tags say which data, code and gate decision produced it. Only
the ``challenger`` alias is moved here; ``champion`` belongs to the promotion ledger.
MLflow is imported inside functions because the CLI imports this module.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib.metadata import version as installed_version
from numbers import Real
from pathlib import Path
from typing import TYPE_CHECKING, Any

from base.settings import ModelConfig
from base.vocabulary import CHALLENGER, CHAMPION
from registry.artifacts import prove_loadable
from registry.snapshots import ReferenceSnapshot, save_reference
from registry.store import experiment_id, use_client
from registry.types import ModelStatus, VersionInfo, VersionNotFound

if TYPE_CHECKING:
    import pandas as pd
    from mlflow import MlflowClient

MODEL_ARTIFACT = "model"
SIGNATURE_ROWS = 200
PINNED_PACKAGES = ("scikit-learn", "pandas", "numpy", "mlflow")
# MLflow's limits (mlflow.utils.validation): key length, param and tag value length.
KEY_LIMIT, PARAM_LIMIT, TAG_LIMIT = 250, 6000, 8000
_MISSING_CODES = {"RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"}
_PROJECT_DIR = Path(__file__).resolve().parents[1]


def register_candidate(
    client: "MlflowClient",
    config: ModelConfig,
    model: Any,
    sample_input: "pd.DataFrame",
    lineage: dict,
    metrics: dict,
    *,
    params: dict | None = None,
    decision: dict | None = None,
    reference: "ReferenceSnapshot | None" = None,
) -> VersionInfo:
    """Log ``model`` (and its drift ``reference``) in one run, register a version, alias it ``challenger``.

    The logged model is loaded once before it becomes a version, and the version is tagged
    with that fact and its artifact digest, so promotion and ``status`` can check it cheaply.
    ``sample_input`` holds feature columns only; its first rows give the signature.
    A ``validation`` summary, if the caller has one, belongs in ``lineage``. Idempotent per
    flow run: a retried call finds the version its run already registered.
    """
    import mlflow.sklearn

    use_client(client)
    done = registered_by_run(client, config.name, lineage.get("flow_run_id"))
    if done is not None:
        return done
    if "code_version" not in lineage:
        lineage = {**lineage, "code_version": code_version()}
    params = flatten(params or {})
    signature = _signature(model, sample_input.head(SIGNATURE_ROWS))
    created_run = client.create_run(
        experiment_id(client, config.name), run_name="candidate", tags=_run_tags(lineage["code_version"])
    )
    with mlflow.start_run(run_id=created_run.info.run_id) as run:
        mlflow.set_tags({"retrain.kind": "candidate", **_tag_values(lineage, TAG_LIMIT)})
        mlflow.log_params(params)
        mlflow.log_metrics(_numbers(metrics))
        mlflow.log_text(_json(lineage), "lineage.json")
        if decision is not None:
            mlflow.log_text(_json(decision), "decision.json")
        if reference is not None:
            save_reference(client, run.info.run_id, reference)
        info = mlflow.sklearn.log_model(model, name=MODEL_ARTIFACT, signature=signature, **_serialization(model))
        tags = _version_tags(lineage, metrics, params, decision)
        tags.update(prove_loadable(client, info.model_id))
        _ensure_registered_model(client, config.name)
        created = client.create_model_version(
            config.name, info.model_uri, run_id=run.info.run_id, tags=tags, model_id=info.model_id
        )
        client.set_registered_model_alias(config.name, CHALLENGER, created.version)
    registered = get_version(client, config.name, created.version)
    if registered is None:
        raise VersionNotFound(config.name, created.version)
    return registered


def registered_by_run(client: "MlflowClient", name: str, flow_run_id: str | None) -> VersionInfo | None:
    """The version a flow run already registered (its ``flow_run_id`` tag), if any."""
    if not flow_run_id or not model_exists(client, name):
        return None
    for mv in client.search_model_versions(f"name = '{name}'", max_results=1000):
        if (mv.tags or {}).get("flow_run_id") == flow_run_id:
            return get_version(client, name, mv.version)
    return None


def get_version(client: "MlflowClient", name: str, ref: str | int) -> VersionInfo | None:
    """The version with number or alias ``ref``; None when the model, version or alias is missing.

    Aliases are read from the registered model rather than ``get_model_version_by_alias``,
    which reports a missing alias as an invalid parameter, not as a missing resource.
    """
    try:
        number = str(ref) if _is_number(ref) else client.get_registered_model(name).aliases.get(str(ref))
        return _to_info(client.get_model_version(name, number)) if number is not None else None
    except Exception as exc:  # MlflowException, or the SQLite view's MissingResource: both carry the code
        if getattr(exc, "error_code", None) in _MISSING_CODES:
            return None
        raise


def model_exists(client: "MlflowClient", name: str) -> bool:
    try:
        client.get_registered_model(name)
    except Exception as exc:  # see get_version
        if getattr(exc, "error_code", None) in _MISSING_CODES:
            return False
        raise
    return True


def load_model(target: "MlflowClient | ModelConfig | str", name: str, ref: str | int) -> Any:
    """Load a version as the plain sklearn object (the gate needs ``predict_proba``).

    ``target`` is a client, a config or a tracking URI. The alias is resolved first so
    a concurrent move cannot mix two versions, and the files are fetched through this
    store, not MLflow's global one. Raises ``VersionNotFound`` when nothing matches.
    """
    import mlflow.sklearn
    from mlflow import MlflowClient
    from mlflow.artifacts import download_artifacts

    uri = target if isinstance(target, str) else target.tracking_uri
    client = target if isinstance(target, MlflowClient) else MlflowClient(uri, uri)
    found = get_version(client, name, ref)
    if found is None:
        raise VersionNotFound(name, ref)
    location = client.get_model_version_download_uri(name, found.version)
    with tempfile.TemporaryDirectory(prefix="retrain-model-") as tmp:
        local = download_artifacts(artifact_uri=location, dst_path=tmp, tracking_uri=uri)
        return mlflow.sklearn.load_model(local)


def model_status(client: "MlflowClient", name: str) -> ModelStatus:
    """Champion, challenger and version count; an unregistered model has zero versions."""
    numbers = _version_numbers(client, name) if model_exists(client, name) else []
    return ModelStatus(
        name=name,
        champion=get_version(client, name, CHAMPION) if numbers else None,
        challenger=_challenger(client, name) if numbers else None,
        versions=len(numbers),
        latest_version=str(max(numbers)) if numbers else None,
    )


def _challenger(client: "MlflowClient", name: str) -> VersionInfo | None:
    """The challenger only when it is not the champion: one version never shows in both roles."""
    found = get_version(client, name, CHALLENGER)
    return None if found is None or CHAMPION in found.aliases else found


def code_version(path: Path | None = None) -> str:
    """Git commit of the code, ``-dirty`` when the tree has changes, ``unknown`` outside git."""
    where = str(path or _PROJECT_DIR)
    try:
        head = _git(where, "rev-parse", "HEAD")
        changes = _git(where, "status", "--porcelain")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}-dirty" if changes else head


def flatten(values: Mapping, prefix: str = "") -> dict[str, str]:
    """Nested params as ``a.b`` keys with text values cut to MLflow's limits."""
    flat: dict[str, str] = {}
    for key, value in values.items():
        full = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{full}."))
        else:
            flat[clean_key(full)] = text(value)[:PARAM_LIMIT]
    return flat


def clean_key(key: Any) -> str:
    """MLflow accepts letters, digits, ``_ - . / :`` and spaces in names; replace the rest."""
    return re.sub(r"[^\w\-./: ]", "_", str(key))[:KEY_LIMIT]


def text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=_plain, sort_keys=True)


def pinned_requirements(extra: tuple[str, ...] = ()) -> list[str]:
    """Exact pins of what the model needs; MLflow's inference costs seconds per call."""
    return [f"{package}=={installed_version(package)}" for package in (*PINNED_PACKAGES, *extra)]


def _serialization(model: Any) -> dict[str, Any]:
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


def _signature(model: Any, sample: "pd.DataFrame") -> Any:
    """Integer inputs are declared as doubles: a later batch with one missing value
    arrives as floats and would otherwise break schema enforcement when serving."""
    from mlflow.models import infer_signature

    ints = sample.select_dtypes(include="integer").columns
    return infer_signature(sample.astype({c: "float64" for c in ints}), model.predict(sample))


def _run_tags(code: str) -> dict[str, str]:
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


def _version_tags(lineage: dict, metrics: dict, params: dict, decision: dict | None) -> dict[str, str]:
    tags = _tag_values(lineage, TAG_LIMIT)
    tags.update({clean_key(f"metric.{k}"): repr(v) for k, v in _numbers(metrics).items()})
    tags["params"] = text(params)[:TAG_LIMIT]
    if decision is not None:
        tags["gate.decision"] = "promote" if decision.get("promote") else "reject"
        reasons = decision.get("reasons") or []
        tags["gate.reasons"] = (reasons if isinstance(reasons, str) else "; ".join(map(str, reasons)))[:TAG_LIMIT]
        for key in ("metric", "candidate_score", "champion_score", "champion_version"):
            if decision.get(key) is not None:
                tags[f"gate.{key}"] = text(decision[key])[:TAG_LIMIT]
        if decision.get("champion_below_floor"):
            tags["gate.champion_below_floor"] = "true"
        tags.update(_slice_tags(decision.get("slices") or []))
    return tags


def _slice_tags(slices: list[dict]) -> dict[str, str]:
    """The sliced gate's figures per slice (compact JSON) and the worst slice that failed, if any."""
    if not slices:
        return {}
    compact = [
        {k: s.get(k) for k in ("column", "value", "rows", "verdict", "diff", "low", "high") if s.get(k) is not None}
        for s in slices
    ]
    tags = {"gate.slices": json.dumps(compact, separators=(",", ":"))[:TAG_LIMIT]}
    worse = sorted((s for s in slices if s.get("verdict") == "worse"), key=lambda s: s.get("diff") or 0.0)
    if worse:
        tags["gate.failing_slice"] = f"{worse[0]['column']}={worse[0]['value']}"
    return tags


def _tag_values(values: dict, limit: int) -> dict[str, str]:
    return {clean_key(k): text(v)[:limit] for k, v in values.items() if v is not None}


def _numbers(metrics: dict) -> dict[str, float]:
    """Metrics that are numbers; a missing score (None) is left out rather than faked."""
    return {clean_key(k): float(v) for k, v in metrics.items() if isinstance(v, Real)}


def _ensure_registered_model(client: "MlflowClient", name: str) -> None:
    from mlflow.exceptions import MlflowException

    try:
        client.create_registered_model(name)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise


def _version_numbers(client: "MlflowClient", name: str) -> list[int]:
    """All version numbers, following pages; the search API returns no aliases, only numbers."""
    numbers: list[int] = []
    token = None
    while True:
        page = client.search_model_versions(f"name = '{name}'", max_results=1000, page_token=token)
        numbers.extend(int(mv.version) for mv in page)
        token = page.token
        if not token:
            return numbers


def _to_info(mv: Any) -> VersionInfo:
    tags = dict(mv.tags or {})
    metrics = {k.removeprefix("metric."): _float(v) for k, v in tags.items() if k.startswith("metric.")}
    created = datetime.fromtimestamp((mv.creation_timestamp or 0) / 1000, tz=UTC)
    return VersionInfo(
        name=mv.name,
        version=str(mv.version),
        run_id=mv.run_id,
        source=mv.source,
        aliases=tuple(sorted(mv.aliases or ())),
        tags=tags,
        metrics=metrics,
        created_at=created.isoformat(),
    )


def _float(value: str) -> float:
    try:
        return float(value)
    except ValueError:  # a hand-edited tag must not break `retrain status`
        return math.nan


def _is_number(ref: str | int) -> bool:
    return isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit())


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=_plain)


def _plain(value: Any) -> Any:
    """numpy scalars, timestamps, paths and dataclasses as JSON-friendly values."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _git(where: str, *args: str) -> str:
    done = subprocess.run(["git", "-C", where, *args], capture_output=True, text=True, timeout=10, check=True)
    return done.stdout.strip()
