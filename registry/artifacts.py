"""Prove a version loads without importing its model code: a digest of its artifact files.

Loading a scikit-learn model saved with skops imports scikit-learn and skops (seconds of
CPU in a fresh process), which is most of what ``retrain rollback`` and ``retrain status``
would cost. So the load is done once, at registration, in the process that already has them
imported; the version is tagged with the result and a SHA-256 digest of its artifact files.
Later checks recompute the digest (hashing files, no model import): same digest, same files,
and those files loaded. A version without the tags (registered before) is loaded for real.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

if TYPE_CHECKING:
    from mlflow import MlflowClient

LOADED_TAG = "retrain.loaded"
DIGEST_TAG = "retrain.artifact_digest"
LOADED_OK = "ok"
_CHUNK = 1 << 20
# written by MLflow into the download folder of a ``models:/`` URI, not stored with the model
DOWNLOAD_ONLY = frozenset({"registered_model_meta"})


class ArtifactProblem(Exception):
    """The version's artifacts are missing or differ from the ones that loaded at registration."""


def digest_directory(root: Path) -> str:
    """SHA-256 over every file under ``root``, in sorted order, each with its relative path.

    The path is part of the digest, so a renamed or removed file changes it as surely as
    changed bytes do.
    """
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.relative_to(root).as_posix() not in DOWNLOAD_ONLY)
    if not files:
        raise ArtifactProblem(f"no artifact files under {root}")
    total = hashlib.sha256()
    for path in files:
        total.update(path.relative_to(root).as_posix().encode() + b"\0")
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                total.update(chunk)
        total.update(b"\0")
    return total.hexdigest()


def local_path(uri: str) -> Path | None:
    """The folder a ``file:`` URI or plain path names; None for remote or proxied stores."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme == "":
        return Path(uri)
    return None


def digest_of_uri(uri: str, tracking_uri: str) -> str:
    """Digest of the artifacts at ``uri``; remote ones are downloaded to a temporary folder."""
    path = local_path(uri)
    if path is not None:
        if not path.is_dir():
            raise ArtifactProblem(f"artifact folder {path} is missing")
        return digest_directory(path)
    from mlflow.artifacts import download_artifacts

    with tempfile.TemporaryDirectory(prefix="retrain-digest-") as tmp:
        local = download_artifacts(artifact_uri=uri, dst_path=tmp, tracking_uri=tracking_uri)
        return digest_directory(Path(local))


def prove_loadable(client: "MlflowClient", model_id: str) -> dict[str, str]:
    """Load the logged model once and return the tags that let later checks skip the load.

    Called right after logging, where scikit-learn and skops are imported anyway; a model
    that does not load raises here, before it ever becomes a version. The digest is taken
    of the files where they are stored, the place later checks read them from.
    """
    import mlflow.sklearn

    location = client.get_logged_model(model_id).artifact_location
    mlflow.sklearn.load_model(location)
    return {LOADED_TAG: LOADED_OK, DIGEST_TAG: digest_of_uri(location, client.tracking_uri)}


def has_proof(tags: dict[str, str] | None) -> bool:
    """Whether the version was loaded at registration and its digest recorded."""
    tags = tags or {}
    return tags.get(LOADED_TAG) == LOADED_OK and bool(tags.get(DIGEST_TAG))


def check_digest(client: "MlflowClient", tracking_uri: str, name: str, version: Any) -> None:
    """Raise ArtifactProblem unless the version's files still have their registered digest."""
    uri = client.get_model_version_download_uri(name, str(version.version))
    try:
        actual = digest_of_uri(uri, tracking_uri)
    except ArtifactProblem:
        raise
    except Exception as exc:  # unreadable files or a failed download: not provably the same artifacts
        raise ArtifactProblem(f"artifacts at {uri} cannot be read: {exc!r}") from exc
    expected = version.tags[DIGEST_TAG]
    if actual != expected:
        raise ArtifactProblem(
            f"artifacts at {uri} changed since registration (digest {actual[:12]}, registered {expected[:12]})"
        )
