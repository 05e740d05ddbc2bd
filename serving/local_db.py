"""Small SQLite files under the home (review queue, kept labels): one way to open them.

Each opens its file with its tables in place, commits on success and turns a full disk or a
read-only folder into the store-unavailable error (exit 13) naming the file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from base.errors import store_faults


@contextmanager
def open_local_db(path: Path, schema: str, what: str) -> Iterator[sqlite3.Connection]:
    """A connection to ``path`` with ``schema`` applied; ``what`` names the store in errors."""
    with store_faults(what, str(path), "check the home folder's free space and permissions"):
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=30)
        try:
            conn.executescript(schema)
            with conn:
                yield conn
        finally:
            conn.close()
