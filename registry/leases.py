"""One retrain per model at a time, whichever entry point starts it: a run lease in the ledger.

Prefect's deployment concurrency limit only covers deployment runs; the CLI, the demo and a
CI job bypass it. So every retrain first takes the model's row in ``retrain_run_leases``
(the ledger's database, SQLite or PostgreSQL, so every entry point and every worker sees
it). The row carries an expiry that a heartbeat thread pushes forward while the run lives:
a holder killed with SIGKILL stops renewing and the lease lapses after ``ttl`` seconds; a
holder on the same host whose process is gone is recognised at once by its pid.

Rows are read and written under the model's ledger lock, so two takers never both win.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from base.errors import Kind, RetrainError
from registry.ledger import as_utc, utc_now
from registry.tables import run_leases

if TYPE_CHECKING:
    from registry.ledger import Ledger

DEFAULT_TTL = 120.0


@dataclass(frozen=True)
class LeaseInfo:
    """Who holds a model's run lease, since when and until when (unless renewed)."""

    model: str
    owner: str
    host: str
    pid: int
    run_id: str | None
    acquired_at: datetime
    expires_at: datetime

    def describe(self) -> str:
        run = f", flow run {self.run_id}" if self.run_id else ""
        return (
            f"{self.owner} (pid {self.pid} on {self.host}{run}) since {self.acquired_at.isoformat(timespec='seconds')}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "owner": self.owner,
            "host": self.host,
            "pid": self.pid,
            "run_id": self.run_id,
            "acquired_at": self.acquired_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
        }


class RunBusy(RetrainError):
    """Another retrain of the model holds its run lease."""

    kind = Kind.BUSY

    def __init__(self, model: str, holder: LeaseInfo, waited: float):
        self.model, self.holder = model, holder
        waited_text = f" (waited {waited:.0f} s)" if waited else ""
        super().__init__(
            f"another retrain of {model!r} is running: {holder.describe()}{waited_text}; "
            f"nothing was done — try again when it ends, or pass --wait SECONDS"
        )


def _info(row: Any) -> LeaseInfo:
    return LeaseInfo(
        row.model, row.owner, row.host, row.pid, row.run_id, as_utc(row.acquired_at), as_utc(row.expires_at)
    )


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by someone else
        return False
    return False


def is_live(info: LeaseInfo, now: datetime | None = None) -> bool:
    """Unexpired, and not held by a process of this host that no longer exists."""
    if info.expires_at <= (now or utc_now()):
        return False
    return not (info.host == socket.gethostname() and _process_gone(info.pid))


def current_holder(ledger: "Ledger", model: str) -> LeaseInfo | None:
    """The live lease on ``model``, or None when nobody is retraining it."""
    with ledger.engine.begin() as conn:
        row = conn.execute(run_leases.select().where(run_leases.c.model == model)).first()
    info = _info(row) if row else None
    return info if info and is_live(info) else None


class RunLease:
    """A held lease; a daemon thread renews it every ``ttl / 3`` seconds until released."""

    def __init__(self, ledger: "Ledger", model: str, token: str, ttl: float):
        self.ledger, self.model, self.token, self.ttl = ledger, model, token, ttl
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease-{model}", daemon=True)

    def start(self) -> "RunLease":
        self._thread.start()
        return self

    def renew(self) -> bool:
        """Push the expiry forward; False (and ``lost``) when the row is no longer ours."""
        stmt = (
            run_leases.update()
            .where(run_leases.c.model == self.model, run_leases.c.token == self.token)
            .values(expires_at=utc_now() + timedelta(seconds=self.ttl))
        )
        with self.ledger.engine.begin() as conn:
            ours = conn.execute(stmt).rowcount == 1
        self.lost = self.lost or not ours
        return ours

    def _beat(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                if not self.renew():
                    return
            except sa.exc.SQLAlchemyError:  # a hiccup; the next beat tries again before expiry
                continue

    def release(self) -> None:
        """Give the lease up (only if still ours); safe to call twice."""
        self._stop.set()
        stmt = run_leases.delete().where(run_leases.c.model == self.model, run_leases.c.token == self.token)
        with self.ledger.engine.begin() as conn:
            conn.execute(stmt)

    def __enter__(self) -> "RunLease":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


def _try_take(ledger: "Ledger", model: str, token: str, owner: str, run_id: str | None, ttl: float) -> LeaseInfo | None:
    """Take the lease if it is free or lapsed; else return who holds it."""
    now = utc_now()
    with ledger.lock(model), ledger.engine.begin() as conn:
        row = conn.execute(run_leases.select().where(run_leases.c.model == model)).first()
        if row is not None and is_live(_info(row), now):
            return _info(row)
        conn.execute(run_leases.delete().where(run_leases.c.model == model))
        conn.execute(
            run_leases.insert().values(
                model=model,
                token=token,
                owner=owner,
                host=socket.gethostname(),
                pid=os.getpid(),
                run_id=run_id,
                acquired_at=now,
                expires_at=now + timedelta(seconds=ttl),
            )
        )
    return None


def acquire_run_lease(
    ledger: "Ledger",
    model: str,
    owner: str,
    run_id: str | None = None,
    ttl: float = DEFAULT_TTL,
    wait: float = 0.0,
    poll: float = 1.0,
) -> RunLease:
    """Take the model's run lease, waiting up to ``wait`` seconds; raises RunBusy after that."""
    token = uuid.uuid4().hex
    started = time.monotonic()
    while True:
        holder = _try_take(ledger, model, token, owner, run_id, ttl)
        if holder is None:
            return RunLease(ledger, model, token, ttl).start()
        waited = time.monotonic() - started
        if waited >= wait:
            raise RunBusy(model, holder, waited)
        time.sleep(min(poll, wait - waited))
