"""The champion the registry shows now, and whether a target version loads.

Read by every move of ``champion`` and by ``retrain status``'s checks, so it depends on
neither: only on MLflow and the load proof of ``registry.artifacts``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from base.vocabulary import CHAMPION
from registry.artifacts import ArtifactProblem, check_digest, has_proof
from registry.promotion_types import TargetUnavailable, UnknownModel

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from registry.ledger import StoreLocation


def make_client(config: StoreLocation) -> "MlflowClient":
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=config.tracking_uri, registry_uri=config.tracking_uri)


def read_champion(client: "MlflowClient", name: str) -> str | None:
    """The version the alias points at now; raises UnknownModel for a missing model."""
    try:
        model = client.get_registered_model(name)
    except Exception as exc:
        if getattr(exc, "error_code", None) == "RESOURCE_DOES_NOT_EXIST":
            raise UnknownModel(name, f"no registered model named {name!r}") from exc
        raise
    return str(model.aliases[CHAMPION]) if CHAMPION in model.aliases else None


def verify_target(config: StoreLocation, client: "MlflowClient", name: str, version: str) -> Any:
    """Refuse a version that is missing or does not load; returns its ModelVersion.

    A version proven loadable at registration is checked by its artifact digest (no model
    import); an older one without that proof is loaded.
    """
    try:
        found = client.get_model_version(name, version)
    except Exception as exc:
        if getattr(exc, "error_code", None) in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            raise TargetUnavailable(name, f"version {version} of {name!r} does not exist") from exc
        raise
    if found.status != "READY":
        raise TargetUnavailable(name, f"version {version} of {name!r} is {found.status}, not READY")
    if has_proof(found.tags):
        try:
            check_digest(client, config.tracking_uri, name, found)
        except ArtifactProblem as exc:
            raise TargetUnavailable(name, f"version {version} of {name!r} does not load: {exc}") from exc
        return found
    _load_fully(config, client, name, version)
    return found


def _load_fully(config: StoreLocation, client: "MlflowClient", name: str, version: str) -> None:
    """The proof for versions registered without a digest: load the model (imports its libraries)."""
    import mlflow

    uri = client.get_model_version_download_uri(name, version)
    if uri.startswith("mlflow-artifacts:"):  # proxied artifacts resolve through the server
        mlflow.set_tracking_uri(config.tracking_uri)
    try:
        mlflow.pyfunc.load_model(uri)
    except Exception as exc:
        raise TargetUnavailable(name, f"version {version} of {name!r} does not load: {exc!r}") from exc
