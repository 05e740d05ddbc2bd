"""The one batch-source seam: which batches exist, as local files the rest of Retrain reads.

``data.path`` is a plain glob (local files, as always) or a URL glob (``s3://``, ``gs://``,
``az://``/``abfs://``, ``file://``), or ``data.sql`` names a table or query whose closed time
slices are the batches (``monitoring.sql_source``). Validation, drift, training, scoring, ``suite init/check``,
backtests and dry runs all ask this module, so they work the same whatever the store: a
remote object is fetched once per identity (``training.remote``) and then is a file like any
other. Nothing here imports Prefect.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from base.paths import home_path
from base.secrets import redact_url
from base.stores import is_url
from training.data import DataError, find_batches
from training.remote import fetch, list_objects

if TYPE_CHECKING:
    from base.settings import ModelConfig

__all__ = ["cache_dir", "fetch_batch", "list_batches"]


def cache_dir(config: "ModelConfig") -> Path:
    """Where fetched objects live: under the home, one folder per model."""
    return home_path(config.home, "sources", config.name)


def list_batches(config: "ModelConfig", take: bool = True) -> list[Path]:
    """Every batch of the model in name order, remote ones fetched; set-aside objects skipped.

    ``take=False`` (a dry run) reads a SQL source without moving its watermark.
    """
    if config.data.sql is not None:
        from monitoring.sql_source import sql_batches

        return sql_batches(config, cache_dir(config), take)
    pattern = config.data_glob
    if not is_url(pattern):
        return find_batches(pattern)
    objects = list_objects(pattern, config.data.storage_options)
    if not objects:
        raise DataError(redact_url(pattern), "no batch objects match this pattern")
    paths = [p for obj in objects if (p := fetch(obj, config.data.storage_options, cache_dir(config))) is not None]
    if not paths:
        raise DataError(
            redact_url(pattern), "every object matching this pattern was set aside (retrain quarantine list)"
        )
    return paths


def fetch_batch(location: str | Path, config: "ModelConfig") -> Path:
    """One batch named on the command line: a local path as given, or exactly one object by URL."""
    if not is_url(str(location)):
        return Path(location)
    objects = list_objects(str(location), config.data.storage_options)
    if len(objects) != 1:
        found = "no object" if not objects else f"{len(objects)} objects"
        raise DataError(redact_url(str(location)), f"{found} at this URL; name exactly one batch")
    path = fetch(objects[0], config.data.storage_options, cache_dir(config))
    if path is None:
        raise DataError(redact_url(str(location)), "this object was set aside (retrain quarantine list)")
    return path
