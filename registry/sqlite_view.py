"""Registry reads straight from the embedded SQLite store, for commands that mostly read.

``import mlflow`` plus a client's first look at a SQLite store cost about 3 s of CPU in a
fresh process, more than everything else ``retrain status`` does. On the embedded store the
registry is a SQLite file whose tables MLflow (pinned) defines, so the few reads these
commands need (a model's aliases, a version with its tags, a model's versions, a version's
download URI) are plain queries. Anything else, and every write, goes to a real
``MlflowClient`` created on first use; so does every read when the file does not have the
expected tables. Only a ``sqlite:`` tracking URI gets a view; servers keep their client.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlflow import MlflowClient

WORKSPACE = "default"
DELETED_STAGE = "Deleted_Internal"  # MLflow's marker for a version deleted from the registry
_NAME_FILTER = re.compile(r"^\s*name\s*=\s*'([^']*)'\s*$")


class MissingResource(LookupError):
    """What MLflow reports as RESOURCE_DOES_NOT_EXIST; callers check ``error_code`` alike."""

    error_code = "RESOURCE_DOES_NOT_EXIST"


@dataclass
class ModelRow:
    name: str
    aliases: dict[str, int]


@dataclass
class VersionRow:
    """The fields of MLflow's ModelVersion that Retrain reads."""

    name: str
    version: int
    status: str
    source: str
    run_id: str | None
    creation_timestamp: int | None
    storage_location: str | None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)


class VersionPage(list):
    token = None  # every matching version in one page


class RegistryView:
    """Reads like an ``MlflowClient`` over one SQLite file; everything else is delegated."""

    def __init__(self, tracking_uri: str):
        import sqlalchemy as sa

        self.tracking_uri = tracking_uri
        self._engine = sa.create_engine(tracking_uri)
        self._client: "MlflowClient | None" = None
        self._sql_errors = (sa.exc.OperationalError, sa.exc.ProgrammingError)

    @property
    def client(self) -> "MlflowClient":
        """The real client, for writes and for reads the view does not cover."""
        if self._client is None:
            from mlflow import MlflowClient

            self._client = MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)
        return self._client

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def _query(self, sql: str, **params: Any) -> list[Any]:
        import sqlalchemy as sa

        with self._engine.connect() as conn:
            return list(conn.execute(sa.text(sql), {"ws": WORKSPACE, **params}))

    def _read(self, fallback: str, read: Any, *args: Any, **kwargs: Any) -> Any:
        """``read(*args)`` from the file; the client's ``fallback`` method if the tables differ."""
        try:
            return read(*args, **kwargs)
        except self._sql_errors:
            return getattr(self.client, fallback)(*args, **kwargs)

    def get_registered_model(self, name: str) -> ModelRow:
        return self._read("get_registered_model", self._model, name)

    def get_model_version(self, name: str, version: str | int) -> VersionRow:
        return self._read("get_model_version", self._version, name, version)

    def get_model_version_download_uri(self, name: str, version: str | int) -> str:
        return self._read("get_model_version_download_uri", self._download_uri, name, version)

    def search_model_versions(
        self, filter_string: str | None = None, max_results: int = 1000, order_by: Any = None, page_token: Any = None
    ) -> list:
        match = _NAME_FILTER.match(filter_string or "")
        if match is None or order_by or page_token:
            return self.client.search_model_versions(filter_string, max_results, order_by, page_token)
        return self._read("search_model_versions", self._versions, match.group(1), max_results)

    def latest_run_tags(self, experiment: str) -> tuple[int, dict[str, str]] | None:
        """The newest active run of ``experiment``: its start (ms) and tags; None when it has none."""
        try:
            runs = self._query(
                "SELECT r.run_uuid, r.start_time FROM runs r JOIN experiments e ON r.experiment_id = e.experiment_id "
                "WHERE e.workspace = :ws AND e.name = :n AND r.lifecycle_stage = 'active' "
                "ORDER BY r.start_time DESC LIMIT 1",
                n=experiment,
            )
            if not runs:
                return None
            tags = self._query("SELECT key, value FROM tags WHERE run_uuid = :r", r=runs[0][0])
        except self._sql_errors:
            return None
        return int(runs[0][1]), {key: value for key, value in tags}

    def run_metrics(self, run_id: str) -> dict[str, float]:
        """The latest value of each metric of one run (a version's metrics live on its run, once)."""
        try:
            rows = self._query("SELECT key, value FROM latest_metrics WHERE run_uuid = :r", r=run_id)
        except self._sql_errors:
            return dict(self.client.get_run(run_id).data.metrics)
        return {key: float(value) for key, value in rows}

    def _model(self, name: str) -> ModelRow:
        if not self._query("SELECT 1 FROM registered_models WHERE workspace = :ws AND name = :n", n=name):
            raise MissingResource(f"Registered Model with name={name} not found")
        rows = self._query(
            "SELECT alias, version FROM registered_model_aliases WHERE workspace = :ws AND name = :n", n=name
        )
        return ModelRow(name, {alias: int(version) for alias, version in rows})

    def _version(self, name: str, version: str | int) -> VersionRow:
        found = self._rows(name, int(version))
        if not found:
            raise MissingResource(f"Model Version (name={name}, version={version}) not found")
        return found[0]

    def _download_uri(self, name: str, version: str | int) -> str:
        row = self._version(name, version)
        return row.storage_location or row.source

    def _versions(self, name: str, max_results: int) -> VersionPage:
        return VersionPage(self._rows(name, None)[:max_results])

    def _rows(self, name: str, version: int | None) -> list[VersionRow]:
        """Versions of ``name`` (one, or all newest first) with their tags and aliases."""
        only = "" if version is None else " AND version = :v"
        rows = self._query(
            "SELECT name, version, status, source, run_id, creation_time, storage_location "
            "FROM model_versions WHERE workspace = :ws AND name = :n AND current_stage != :deleted"
            f"{only} ORDER BY version DESC",
            n=name,
            v=version,
            deleted=DELETED_STAGE,
        )
        versions = {int(r[1]): VersionRow(r[0], int(r[1]), r[2], r[3], r[4], r[5], r[6]) for r in rows}
        for key, value, number in self._query(
            f"SELECT key, value, version FROM model_version_tags WHERE workspace = :ws AND name = :n{only}",
            n=name,
            v=version,
        ):
            if int(number) in versions:
                versions[int(number)].tags[key] = value
        for alias, number in self._query(
            f"SELECT alias, version FROM registered_model_aliases WHERE workspace = :ws AND name = :n{only}",
            n=name,
            v=version,
        ):
            if int(number) in versions:
                versions[int(number)].aliases.append(alias)
        return list(versions.values())


def registry_reader(tracking_uri: str) -> "RegistryView | MlflowClient":
    """A view for an embedded SQLite store whose file exists, else a real client."""
    from pathlib import Path

    prefix = "sqlite:///"
    if tracking_uri.startswith(prefix) and Path(tracking_uri[len(prefix) :]).is_file():
        return RegistryView(tracking_uri)
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
