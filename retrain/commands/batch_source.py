"""The batch argument of ``validate``, ``drift`` and ``score``: a local file or one object by URL.

Typer's ``Path`` would fold ``s3://bucket/x.csv`` into ``s3:/bucket/x.csv``, so these commands
take the argument as text and resolve it here: a plain path must exist (exit 2 before any
heavy import), a URL is fetched once per identity into the home (``monitoring.sources``), and
a store fault is one line with its exit code (13).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from base.exitcodes import Exit
from base.stores import is_url
from retrain.commands.options import load_checked, load_with_batch
from retrain.output import fail, report_error

BATCH_HELP = "Batch file (CSV or Parquet), or one object by URL (s3://…, gs://…, az://…)."


def load_with_source(config: Path, batch: str, as_json: bool) -> tuple[Any, Path]:
    """The checked config and the batch as a local file, or an exit with the error contract."""
    if not is_url(batch):
        return load_with_batch(config, Path(batch), as_json), Path(batch)
    cfg = load_checked(config, as_json)
    from base.environment import quiet_libraries
    from base.errors import RetrainError
    from monitoring.sources import fetch_batch
    from training.data import DataError

    quiet_libraries()
    try:
        return cfg, fetch_batch(batch, cfg)
    except DataError as err:
        raise fail(str(err), Exit.USAGE, as_json) from None
    except RetrainError as err:
        raise typer.Exit(int(report_error(err, as_json))) from None
