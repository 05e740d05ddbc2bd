"""MLflow setup: one tracking/registry store per home, one experiment per model.

MLflow's defaults write ``mlflow.db`` and ``./mlruns`` into whatever directory the
process happens to start in, so a retrain started from cron and one started from a
shell would see different registries. Everything here is made explicit instead:
absolute URIs from the config and experiments created with an artifact location
under the home. MLflow is imported inside functions because the CLI imports this
module on paths that never touch the registry.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

from base.environment import quiet_libraries
from base.settings import ModelConfig

if TYPE_CHECKING:
    from mlflow import MlflowClient

EXPERIMENT_PREFIX = "retrain/"
MONITORING_SUFFIX = "/monitoring"
_LOCAL_SCHEMES = ("sqlite", "file", "")


def experiment_name(model_name: str) -> str:
    """Name of the experiment holding a model's training runs."""
    return f"{EXPERIMENT_PREFIX}{model_name}"


def artifact_root(config: ModelConfig) -> Path:
    """Folder under the home where a model's run and model artifacts live."""
    return config.artifact_dir


def connect(config: ModelConfig) -> "MlflowClient":
    """Point MLflow at the config's store, make sure the model's experiment exists.

    Sets the process-wide tracking and registry URIs too, because
    ``mlflow.start_run`` and ``log_model`` only use the global ones.
    """
    quiet_libraries()
    from mlflow import MlflowClient

    from base.errors import store_faults

    uri = config.tracking_uri
    with store_faults(
        "MLflow registry", uri, "check the home folder's free space and permissions and that the tracking store answers"
    ):
        config.home.mkdir(parents=True, exist_ok=True)
        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        use_client(client)
        _ensure_experiment(client, experiment_name(config.name), _location(uri, artifact_root(config)))
    return client


def client_for(tracking_uri: str) -> "MlflowClient":
    """A client for commands that mostly read (``retrain status``): no experiment, no global URIs.

    On the embedded SQLite store its reads skip importing MLflow (``registry.sqlite_view``);
    writes and other stores go through a real ``MlflowClient``.
    """
    from registry.sqlite_view import registry_reader

    quiet_libraries()
    return cast("MlflowClient", registry_reader(tracking_uri))  # the view reads like a client


def use_client(client: "MlflowClient") -> None:
    """Make MLflow's fluent API write to the same store as ``client``."""
    import mlflow

    mlflow.set_tracking_uri(client.tracking_uri)
    mlflow.set_registry_uri(client.tracking_uri)


def experiment_id(client: "MlflowClient", name: str) -> str:
    """Id of the training experiment of model ``name``; ``connect`` must have run."""
    experiment = client.get_experiment_by_name(experiment_name(name))
    if experiment is None:
        raise LookupError(f"no experiment {experiment_name(name)!r}: call registry.store.connect first")
    return experiment.experiment_id


def monitoring_experiment(client: "MlflowClient", config: ModelConfig) -> str:
    """Id of the experiment for drift checks, kept apart so training runs stay easy to compare."""
    name = experiment_name(config.name) + MONITORING_SUFFIX
    location = _location(client.tracking_uri, artifact_root(config) / "monitoring")
    return _ensure_experiment(client, name, location)


def _ensure_experiment(client: "MlflowClient", name: str, location: str | None) -> str:
    """Create the experiment once; restore it if someone deleted it in the UI."""
    from mlflow.exceptions import MlflowException

    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        try:
            return client.create_experiment(name, artifact_location=location)
        except MlflowException as exc:  # another process created it in between
            experiment = client.get_experiment_by_name(name)
            if experiment is None:
                raise exc
    if experiment.lifecycle_stage == "deleted":
        client.restore_experiment(experiment.experiment_id)
    return experiment.experiment_id


def _location(tracking_uri: str, folder: Path) -> str | None:
    """File URI for local stores; a server decides its own artifact location."""
    scheme = tracking_uri.split(":", 1)[0] if ":" in tracking_uri else ""
    if scheme not in _LOCAL_SCHEMES:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    return folder.resolve().as_uri()
