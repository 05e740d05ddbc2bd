"""Batches in an object store (S3, GCS, Azure Blob, or ``file://``), read through fsspec.

A remote object becomes one local file under ``<home>/sources/<model>/<identity>/`` and the
rest of Retrain (intake records, the kept-frame cache, quarantine, fingerprints) works on
that file exactly as on a local batch. The identity is the URL plus the store's ETag,
version id and size, so an object overwritten in place is a new batch with its own folder,
and a folder whose file was set aside (quarantined) tells later runs to skip that object
without touching the store: Retrain never deletes or moves a user's remote data.

A partition folder (``…/day=2024-01-01/`` holding Parquet parts) is one batch, fetched as one
Parquet file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from base.errors import Kind, RetrainError, StoreUnavailable
from base.secrets import redact_url
from base.stores import install_hint, scheme_of

ORIGIN = "origin.json"
PARQUET_PARTS = (".parquet", ".pq")
_DENIED = ("NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError", "ClientAuthenticationError")
_UNREACHABLE = ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "ClientConnectorError")
CREDENTIALS_HINT = (
    "check the store's credentials in its standard environment (for S3 AWS_ACCESS_KEY_ID/"
    "AWS_SECRET_ACCESS_KEY or AWS_PROFILE, AWS_ENDPOINT_URL for MinIO and other S3-compatible stores; "
    "GOOGLE_APPLICATION_CREDENTIALS; AZURE_STORAGE_* variables)"
)


@dataclass(frozen=True)
class RemoteObject:
    """One batch in a store: an object, or a partition folder of Parquet parts."""

    url: str
    size: int
    etag: str
    version: str
    parts: tuple[str, ...] = ()

    @property
    def identity(self) -> str:
        """Stable across runs, new when the object is overwritten (its ETag or size changes)."""
        raw = "\x1f".join((self.url, self.etag, self.version, str(self.size), *self.parts))
        return hashlib.sha256(raw.encode()).hexdigest()[:20]

    @property
    def name(self) -> str:
        """The batch's file name under the cache (a partition folder becomes ``<folder>.parquet``)."""
        base = self.url.rstrip("/").rsplit("/", 1)[-1]
        return f"{base}.parquet" if self.parts else base


def list_objects(pattern: str, options: dict[str, Any]) -> list[RemoteObject]:
    """Every object (or partition folder) matching the URL glob, in URL order."""
    with store_errors(pattern):
        fs, path = _filesystem(pattern, options)
        found = []
        for match in sorted(fs.glob(path)):
            info = fs.info(match)
            if info.get("type") == "directory":
                parts = _parts_of(fs, match)
                if parts:
                    found.append(_folder(fs, match, parts))
            else:
                found.append(_object(fs, match, info))
    return found


def fetch(obj: RemoteObject, options: dict[str, Any], cache: Path) -> Path | None:
    """The local copy of ``obj`` (fetched once per identity); None when it was set aside."""
    folder = cache / obj.identity
    target = folder / obj.name
    if (folder / ORIGIN).is_file():
        return target if target.is_file() else None  # set aside (quarantined): not taken again
    folder.mkdir(parents=True, exist_ok=True)
    with store_errors(obj.url):
        fs, _ = _filesystem(obj.url, options)
        _download(fs, obj, target)
    (folder / ORIGIN).write_text(json.dumps(asdict(obj), indent=2))
    return target


def _filesystem(url: str, options: dict[str, Any]) -> tuple[Any, str]:
    try:
        import fsspec
    except ImportError:  # pragma: no cover - a base dependency
        raise RetrainError(f"{url}: reading batches by URL needs fsspec", kind=Kind.CONFIG) from None
    try:
        # a fresh client each time: credentials and endpoints are read from the environment now
        return fsspec.core.url_to_fs(url, skip_instance_cache=True, **options)
    except (ImportError, ValueError) as exc:
        if scheme_of(url) in ("file", "local"):
            raise
        raise RetrainError(
            f"{redact_url(url)}: the client of {scheme_of(url)}:// is not installed ({install_hint(url)}): {exc}",
            kind=Kind.CONFIG,
            field="data.path",
        ) from None


def _parts_of(fs: Any, folder: str) -> tuple[str, ...]:
    return tuple(sorted(p for p in fs.find(folder) if p.lower().endswith(PARQUET_PARTS)))


def _object(fs: Any, path: str, info: dict[str, Any]) -> RemoteObject:
    etag = str(info.get("ETag") or info.get("etag") or info.get("md5Hash") or info.get("mtime") or "")
    version = str(info.get("VersionId") or info.get("version_id") or info.get("generation") or "")
    return RemoteObject(fs.unstrip_protocol(path), int(info.get("size") or 0), etag.strip('"'), version)


def _folder(fs: Any, folder: str, parts: tuple[str, ...]) -> RemoteObject:
    members = [_object(fs, p, fs.info(p)) for p in parts]
    etag = hashlib.sha256("\x1f".join(f"{m.url}={m.etag}" for m in members).encode()).hexdigest()[:32]
    url = fs.unstrip_protocol(folder).rstrip("/") + "/"
    return RemoteObject(url, sum(m.size for m in members), etag, "", tuple(m.url for m in members))


def _download(fs: Any, obj: RemoteObject, target: Path) -> None:
    """Fetch into a temporary file, check the object did not change meanwhile, then rename."""
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=".fetch-")
    os.close(handle)
    try:
        if obj.parts:
            _join_parts(fs, obj.parts, Path(temp))
        else:
            fs.get_file(fs._strip_protocol(obj.url), temp)
            _refuse_changed(fs, obj)
        os.replace(temp, target)
    finally:
        Path(temp).unlink(missing_ok=True)


def _join_parts(fs: Any, parts: tuple[str, ...], temp: Path) -> None:
    import pandas as pd

    frames = []
    for url in parts:
        with fs.open(fs._strip_protocol(url), "rb") as handle:
            frames.append(pd.read_parquet(handle))
    pd.concat(frames, ignore_index=True).to_parquet(temp, index=False)


def _refuse_changed(fs: Any, obj: RemoteObject) -> None:
    path = fs._strip_protocol(obj.url)
    fs.invalidate_cache(path)
    now = _object(fs, path, fs.info(path))
    if (now.etag, now.size, now.version) != (obj.etag, obj.size, obj.version):
        raise StoreUnavailable(
            "object store",
            redact_url(obj.url),
            "the object changed while it was read",
            "run again once its writer is done",
        )


@contextmanager
def store_errors(url: str) -> Iterator[None]:
    """Store faults as one line naming the URL and what to do (exit 13); other errors unchanged."""
    shown = redact_url(url)
    try:
        yield
    except RetrainError:
        raise
    except PermissionError as exc:
        raise StoreUnavailable("object store", shown, f"access denied ({_first_line(exc)})", CREDENTIALS_HINT) from None
    except Exception as exc:
        name = type(exc).__name__
        if name in _DENIED:
            raise StoreUnavailable(
                "object store", shown, f"no usable credentials ({_first_line(exc)})", CREDENTIALS_HINT
            ) from None
        if name in _UNREACHABLE or isinstance(exc, (ConnectionError, TimeoutError)):
            check = "check that the store is up and its endpoint (AWS_ENDPOINT_URL or data.storage_options) is right"
            raise StoreUnavailable("object store", shown, f"unreachable ({_first_line(exc)})", check) from None
        raise


def _first_line(exc: BaseException) -> str:
    from base.secrets import redact_text

    text = " ".join(str(exc).split()) or type(exc).__name__
    return redact_text(text)[:240]
