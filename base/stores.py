"""Object-store vocabulary every layer may use: which paths are URLs, which extra reads them.

Batches may live in S3, GCS or Azure Blob (``data.path: s3://bucket/batches/*.csv``). The
store clients are optional extras, so a missing one must be named with the command that
installs it. Credentials come only from each store's standard environment and profiles: a
config file is committed, copied and shown, so ``data.storage_options`` refuses secrets.
Only the standard library is imported here.
"""

from __future__ import annotations

import re
from typing import Any

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")
# scheme -> the extra that installs its fsspec client
EXTRA_BY_SCHEME = {
    "s3": "s3",
    "s3a": "s3",
    "gs": "gcs",
    "gcs": "gcs",
    "az": "azure",
    "abfs": "azure",
    "abfss": "azure",
}
SECRET_OPTION_WORDS = ("secret", "password", "token", "credential", "key", "sas", "connection_string")
HARMLESS_OPTIONS = {"key_prefix"}


def scheme_of(path: str) -> str | None:
    """``s3`` for ``s3://bucket/x``; None for a plain path (a Windows drive letter is not a scheme)."""
    found = _SCHEME.match(path)
    return found.group(1).lower() if found else None


def is_url(path: str) -> bool:
    """Whether ``data.path`` names a store by URL (``file://`` included) rather than a plain path."""
    return scheme_of(path) is not None


def is_remote(path: str) -> bool:
    """A URL whose objects are fetched over the network (anything but ``file://``)."""
    scheme = scheme_of(path)
    return scheme is not None and scheme not in ("file", "local")


def install_hint(path: str) -> str:
    """The command that installs the client of ``path``'s store."""
    extra = EXTRA_BY_SCHEME.get(scheme_of(path) or "")
    return f"pip install 'retrain[{extra}]'" if extra else "install the fsspec implementation of this URL scheme"


def refuse_secrets(options: dict[str, Any]) -> dict[str, Any]:
    """``data.storage_options`` takes endpoint, region, profile; credentials stay in the environment."""
    for name in _flatten_keys(options):
        lowered = name.lower()
        if lowered not in HARMLESS_OPTIONS and any(word in lowered for word in SECRET_OPTION_WORDS):
            raise ValueError(
                f"{name!r} looks like a credential: storage_options must not hold secrets; set the store's "
                "standard environment instead (for S3 AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE; "
                "GOOGLE_APPLICATION_CREDENTIALS; AZURE_STORAGE_* variables)"
            )
    return options


def _flatten_keys(options: dict[str, Any]) -> list[str]:
    keys = []
    for name, value in options.items():
        keys.append(str(name))
        if isinstance(value, dict):
            keys.extend(_flatten_keys(value))
    return keys
