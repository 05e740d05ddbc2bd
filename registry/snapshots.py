"""Reference snapshots: the sample of training data each model version is judged against.

Drift must be measured against what the serving model learned from, not against whatever
files happen to sit in the batch folder today (they move, get quarantined, or grow). So at
registration a seeded, fixed-size sample of the candidate's training frame (features and
target) is stored as Parquet in the version's own MLflow run, with the feature list beside
it. It follows the version through promotions and rollbacks for free.
MLflow and pandas are imported inside functions: the CLI imports this module.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from base.errors import RetrainError

if TYPE_CHECKING:
    import pandas as pd
    from mlflow import MlflowClient


SNAPSHOT_DIR = "reference"
FRAME_FILE = "reference.parquet"
META_FILE = "reference.json"


class SnapshotMissing(RetrainError, LookupError):
    """The version has no stored reference (registered before snapshots, or the run is gone)."""

    def __init__(self, name: str, version: str, detail: str = ""):
        self.name, self.version = name, str(version)
        message = f"version {version} of {name!r} has no reference snapshot"
        super().__init__(f"{message}: {detail}" if detail else message)


@dataclass(frozen=True, eq=False)
class ReferenceSnapshot:
    """The stored sample, the model's feature columns and how the sample was drawn."""

    frame: "pd.DataFrame"
    features: list[str]
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"features": list(self.features), "rows": len(self.frame), **self.meta}


def save_reference(client: "MlflowClient", run_id: str, snapshot: ReferenceSnapshot) -> str:
    """Log the snapshot into ``run_id`` under ``reference/``; returns the artifact path."""
    with tempfile.TemporaryDirectory(prefix="retrain-reference-") as tmp:
        folder = Path(tmp)
        snapshot.frame.to_parquet(folder / FRAME_FILE, index=False)
        (folder / META_FILE).write_text(json.dumps(snapshot.to_dict(), indent=2, default=str))
        client.log_artifact(run_id, str(folder / FRAME_FILE), SNAPSHOT_DIR)
        client.log_artifact(run_id, str(folder / META_FILE), SNAPSHOT_DIR)
    return f"{SNAPSHOT_DIR}/{FRAME_FILE}"


def load_snapshot(client: "MlflowClient", name: str, version: str | int) -> ReferenceSnapshot:
    """The snapshot stored with ``version``; raises ``SnapshotMissing`` when there is none."""
    import pandas as pd
    from mlflow.artifacts import download_artifacts

    run_id = client.get_model_version(name, str(version)).run_id
    if not run_id:
        raise SnapshotMissing(name, str(version), "the version has no run")
    with tempfile.TemporaryDirectory(prefix="retrain-reference-") as tmp:
        try:
            local = Path(
                download_artifacts(
                    run_id=run_id, artifact_path=SNAPSHOT_DIR, dst_path=tmp, tracking_uri=client.tracking_uri
                )
            )
        except Exception as exc:  # MLflow raises several types for a missing artifact
            raise SnapshotMissing(name, str(version), str(exc).splitlines()[0]) from exc
        if not (local / FRAME_FILE).is_file():
            raise SnapshotMissing(name, str(version), f"no {SNAPSHOT_DIR}/{FRAME_FILE} in run {run_id}")
        frame = pd.read_parquet(local / FRAME_FILE)
        meta = json.loads((local / META_FILE).read_text()) if (local / META_FILE).is_file() else {}
    features = list(meta.pop("features", None) or [c for c in frame.columns if c != meta.get("target")])
    meta.pop("rows", None)
    return ReferenceSnapshot(frame, features, meta)
