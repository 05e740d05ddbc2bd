"""Log, register, look up and load model versions.

Every candidate becomes a registered version, promoted or not, so the registry is
the audit trail: its tags say which data, code and gate decision produced it. Only
the ``challenger`` alias is moved here; ``champion`` belongs to the promotion ledger.
MLflow is imported inside functions because the CLI imports this module.
"""

from __future__ import annotations

import math
import tempfile
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from base.settings import ModelConfig
from base.vocabulary import CHALLENGER, CHAMPION
from registry.artifacts import prove_loadable
from registry.packaging import code_version, model_signature, serialization_options, source_tags
from registry.snapshots import ReferenceSnapshot, save_reference
from registry.store import experiment_id, use_client
from registry.tag_values import TAG_LIMIT, as_json, flatten, numbers, tag_values, version_tags
from registry.types import ModelStatus, VersionInfo, VersionNotFound

if TYPE_CHECKING:
    import pandas as pd
    from mlflow import MlflowClient

MODEL_ARTIFACT = "model"
SIGNATURE_ROWS = 200
_MISSING_CODES = {"RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"}


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
    signature = model_signature(model, sample_input.head(SIGNATURE_ROWS))
    created_run = client.create_run(
        experiment_id(client, config.name), run_name="candidate", tags=source_tags(lineage["code_version"])
    )
    with mlflow.start_run(run_id=created_run.info.run_id) as run:
        mlflow.set_tags({"retrain.kind": "candidate", **tag_values(lineage, TAG_LIMIT)})
        mlflow.log_params(params)
        mlflow.log_metrics(numbers(metrics))
        mlflow.log_text(as_json(lineage), "lineage.json")
        if decision is not None:
            mlflow.log_text(as_json(decision), "decision.json")
        if reference is not None:
            save_reference(client, run.info.run_id, reference)
        info = mlflow.sklearn.log_model(model, name=MODEL_ARTIFACT, signature=signature, **serialization_options(model))
        tags = version_tags(lineage, params, decision)
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
        return _to_info(client, client.get_model_version(name, number)) if number is not None else None
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


def _to_info(client: "MlflowClient", mv: Any) -> VersionInfo:
    tags = dict(mv.tags or {})
    metrics = _metrics_of(client, mv.run_id, tags)
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


def _metrics_of(client: "MlflowClient", run_id: str | None, tags: dict[str, str]) -> dict[str, float]:
    """A version's metrics from its run, where they are stored once.

    Versions registered before carry them as ``metric.*`` tags too; those are read as they are.
    """
    legacy = {k.removeprefix("metric."): _float(v) for k, v in tags.items() if k.startswith("metric.")}
    if legacy or not run_id:
        return legacy
    read = getattr(client, "run_metrics", None)
    if read is not None:  # the SQLite view: no MLflow import on the fast paths (rollback, status)
        return dict(read(run_id))
    from mlflow.exceptions import MlflowException

    try:
        return dict(client.get_run(run_id).data.metrics)
    except MlflowException:  # a run deleted by hand must not break `retrain status`
        return {}


def _float(value: str) -> float:
    try:
        return float(value)
    except ValueError:  # a hand-edited tag must not break `retrain status`
        return math.nan


def _is_number(ref: str | int) -> bool:
    return isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit())
