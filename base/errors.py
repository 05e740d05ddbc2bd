"""The one family of errors every Retrain package raises, each with a kind.

Logic packages (``training``, ``registry``, ``monitoring``) say *what* went wrong by the
kind of error they raise; only the CLI turns a kind into an exit code, through the one
table in ``base.exitcodes``. ``file`` and ``field`` say where to look, so a message
never needs a traceback to be acted on. This module imports nothing heavy: every layer,
down to the config, may use it.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """What sort of failure; ``base.exitcodes.EXIT_BY_KIND`` maps each to an exit code."""

    UNEXPECTED = "unexpected"
    CONFIG = "config"
    USAGE = "usage"
    DATA_INVALID = "data_invalid"
    UNKNOWN_MODEL = "unknown_model"
    NOTHING_TO_ROLL_BACK = "nothing_to_roll_back"
    TARGET_UNAVAILABLE = "target_unavailable"
    EXPECTATION_MISMATCH = "expectation_mismatch"
    BUSY = "busy"
    WITHHELD = "withheld"
    STORE_UNAVAILABLE = "store_unavailable"
    INSUFFICIENT_DATA = "insufficient_data"
    INTERRUPTED = "interrupted"
    NOTIFY_FAILED = "notify_failed"


class RetrainError(Exception):
    """Base of every expected failure: a message a person can act on, its kind, where to look."""

    kind: Kind = Kind.UNEXPECTED

    def __init__(self, message: str, *, kind: Kind | None = None, file: str | None = None, field: str | None = None):
        super().__init__(message)
        if kind is not None:
            self.kind = kind
        self.file = None if file is None else str(file)
        self.field = field

    @property
    def message(self) -> str:
        return str(self)

    def to_dict(self) -> dict[str, Any]:
        """The ``error`` object of the CLI's JSON output."""
        return {"kind": self.kind.value, "message": self.message, "file": self.file, "field": self.field}

    def extra(self) -> dict[str, Any]:
        """Keys a subclass adds beside ``error`` in JSON output (none by default)."""
        return {}


class UsageError(RetrainError):
    """A command line argument that cannot be used (a bad model name, a missing file)."""

    kind = Kind.USAGE


class StoreUnavailable(RetrainError):
    """A store (registry, ledger, home folder) did not answer or refused a write.

    Nothing was changed: callers translate at the point where a store is opened or first
    written, before any partial state can exist.
    """

    kind = Kind.STORE_UNAVAILABLE

    def __init__(self, store: str, location: str, problem: str, check: str):
        self.store, self.location, self.problem = store, location, problem
        super().__init__(f"{store} at {location} is unavailable: {problem}; {check}", file=location)


# Operating-system errors that mean "this store cannot take a write", not a bug of ours.
STORE_ERRNOS = {
    errno.ENOSPC,
    errno.EROFS,
    errno.EACCES,
    errno.EPERM,
    errno.ENOTDIR,
    errno.EDQUOT,
    errno.EEXIST,
    errno.EIO,
}
_DB_FAULTS = ("OperationalError", "InterfaceError", "TimeoutError")


def store_problem(exc: BaseException) -> str | None:
    """A one-line description when ``exc`` (or its cause) is a store fault, else None.

    Checked by type name for database errors so this module never imports SQLAlchemy; MLflow
    wraps them in its own exception, so the chain of causes is searched too.
    """
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, OSError) and exc.errno in STORE_ERRNOS:
            return f"{exc.strerror or exc}" + (f" ({exc.filename})" if exc.filename else "")
        if type(exc).__name__ in _DB_FAULTS and type(exc).__module__.split(".")[0] in ("sqlalchemy", "psycopg"):
            orig = getattr(exc, "orig", None) or exc
            return " ".join(str(orig).split())[:300]
        if "OperationalError" in str(exc)[:200] and type(exc).__module__.startswith("mlflow"):
            return " ".join(str(exc).split())[:300]
        nxt = exc.__cause__ or exc.__context__
        if nxt is None:
            return None
        exc, seen = nxt, seen + 1
    return None


def hide_password(location: str) -> str:
    """``scheme://user:secret@host`` shown as ``scheme://user:***@host`` (``base.secrets.redact_url``)."""
    from base.secrets import redact_url

    return redact_url(location)


@contextmanager
def store_faults(store: str, location: str, check: str, bad_url: type[BaseException] | tuple = ()) -> Iterator[None]:
    """Turn a store fault raised inside the block into :class:`StoreUnavailable`; re-raise the rest.

    ``bad_url``: exception types meaning the location itself does not parse (a config error).
    """
    shown = hide_password(location)
    try:
        yield
    except RetrainError:
        raise
    except bad_url as exc:
        raise RetrainError(f"{store} location {shown!r} does not parse: {exc}", kind=Kind.CONFIG, field=store) from None
    except Exception as exc:
        problem = store_problem(exc)
        if problem is None:
            raise
        from base.secrets import redact_text

        raise StoreUnavailable(store, shown, redact_text(problem), f"{check}; nothing was changed") from exc
