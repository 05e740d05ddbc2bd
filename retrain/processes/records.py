"""The one record format of the servers Retrain starts: a JSON file per record.

A record says which processes run and where they answer, so a later command (or ``stop``)
finds exactly what an earlier one started. It is written to a scratch file and renamed,
so a reader never sees half a record, and a record that cannot be read counts as none.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

Record = TypeVar("Record")


def read_record(path: Path, kind: type[Record]) -> Record | None:
    """The record at ``path``, or None when there is none or it cannot be read as ``kind``."""
    try:
        return kind(**json.loads(Path(path).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def write_record(path: Path, record: Any) -> None:
    """Write a dataclass record atomically (scratch file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(path.name + ".tmp")
    scratch.write_text(json.dumps(asdict(record), indent=2) + "\n")
    os.replace(scratch, path)


def drop_record(path: Path) -> None:
    Path(path).unlink(missing_ok=True)
