"""Who may review: accounts with hashed passwords, and the MLflow users of the team profile.

Accounts come from ``RETRAIN_REVIEWERS`` (``alice:HASH,bob:HASH``), else the file
``RETRAIN_REVIEWERS_FILE``, else ``<home>/reviewers`` (one ``name:HASH`` a line, ``#`` for
comments), which ``retrain review add-user`` writes. A hash is PBKDF2-SHA256
(``pbkdf2_sha256$ITERATIONS$SALT$DIGEST``); a plain password in either place is refused at
start, naming the account, so none is ever kept in configuration.

With an MLflow tracking server that demands credentials (the team profile's basic-auth
server), its users may sign in too: their name and password are checked by calling MLflow
with them, as any MLflow client would. A server that answers without credentials is never
used that way, since it would let anyone in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from base.errors import Kind, RetrainError

SCHEME = "pbkdf2_sha256"
ITERATIONS = 600_000  # OWASP's 2023 figure for PBKDF2-HMAC-SHA256
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-")
PROBE = "/api/2.0/mlflow/experiments/search?max_results=1"
MAX_FAILURES, LOCKOUT_SECONDS = 5, 900  # a name with five wrong passwords waits 15 minutes


class AccountsInvalid(RetrainError):
    """A reviewer account that cannot be used (a plain password, a bad line)."""

    kind = Kind.CONFIG


def hash_password(password: str, iterations: int = ITERATIONS) -> str:
    """The stored form of ``password``: scheme, iterations, salt and digest."""
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"{SCHEME}${iterations}${_b64(salt)}${_b64(digest)}"


def check_password(password: str, stored: str) -> bool:
    scheme, iterations, salt, digest = stored.split("$")
    given = hashlib.pbkdf2_hmac("sha256", password.encode(), _unb64(salt), int(iterations))
    return scheme == SCHEME and hmac.compare_digest(given, _unb64(digest))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def check_name(name: str) -> str:
    if not name or len(name) > 100 or set(name) - NAME_CHARS:
        raise AccountsInvalid(f"reviewer name {name!r}: use 1-100 letters, digits, '.', '_', '@' or '-'")
    return name


def parse_accounts(entries: list[str], where: str) -> dict[str, str]:
    """``name:HASH`` entries → {name: hash}; anything else (a plain password) is refused whole."""
    found = {}
    for entry in (e.strip() for e in entries):
        if not entry or entry.startswith("#"):
            continue
        name, _, stored = entry.partition(":")
        parts = stored.split("$")
        if len(parts) != 4 or parts[0] != SCHEME or not parts[1].isdigit():
            raise AccountsInvalid(
                f"{where}: reviewer {name.strip()!r} has no {SCHEME} hash (a plain password is never accepted); "
                "make one with `retrain review add-user NAME`",
                field="RETRAIN_REVIEWERS",
            )
        found[check_name(name.strip())] = stored
    return found


def accounts_file(home: Path) -> Path:
    return Path(os.environ.get("RETRAIN_REVIEWERS_FILE") or Path(home) / "reviewers")


def load_accounts(home: Path) -> dict[str, str]:
    """The accounts the environment names (``RETRAIN_REVIEWERS``), else those of the accounts file."""
    listed = os.environ.get("RETRAIN_REVIEWERS")
    if listed:
        return parse_accounts(listed.split(","), "RETRAIN_REVIEWERS")
    path = accounts_file(home)
    return parse_accounts(path.read_text().splitlines(), str(path)) if path.is_file() else {}


def add_account(path: Path, name: str, password: str, iterations: int = ITERATIONS) -> None:
    """Add or replace ``name`` in the accounts file (created readable by its owner only)."""
    check_name(name)
    kept = [line for line in (path.read_text().splitlines() if path.is_file() else []) if line.split(":")[0] != name]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text("\n".join([*kept, f"{name}:{hash_password(password, iterations)}"]) + "\n")


@dataclass
class Gatekeeper:
    """Checks a name and password against the accounts, then against MLflow's users."""

    accounts: dict[str, str]
    mlflow_uri: str | None = None
    _mlflow_demands_auth: bool | None = field(default=None, repr=False)
    _failures: dict[str, list[float]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def sign_in(self, name: str, password: str) -> bool:
        """Whether the password is right; after ``MAX_FAILURES`` wrong ones a name is refused a while."""
        if self.locked(name):
            return False
        if name in self.accounts:
            good = check_password(password, self.accounts[name])
        else:
            good = bool(name and password) and self._mlflow_knows(name, password)
        with self._lock:
            if good:
                self._failures.pop(name, None)
            else:
                self._failures.setdefault(name, []).append(time.monotonic())
        return good

    def locked(self, name: str) -> bool:
        with self._lock:
            recent = [t for t in self._failures.get(name, []) if time.monotonic() - t < LOCKOUT_SECONDS]
            self._failures[name] = recent
            return len(recent) >= MAX_FAILURES

    @property
    def uses_mlflow(self) -> bool:
        return bool(self.mlflow_uri and self.mlflow_uri.startswith(("http://", "https://")))

    def _mlflow_knows(self, name: str, password: str) -> bool:
        if not self.uses_mlflow:
            return False
        if self._mlflow_demands_auth is None:
            self._mlflow_demands_auth = _status(self.mlflow_uri or "", None) == 401
        return bool(self._mlflow_demands_auth) and _status(self.mlflow_uri or "", (name, password)) not in (401, None)


def _status(base: str, credentials: tuple[str, str] | None) -> int | None:
    """The HTTP status MLflow answers a harmless read with; None when it does not answer."""
    request = urllib.request.Request(base.rstrip("/") + PROBE)
    if credentials:
        token = base64.b64encode(":".join(credentials).encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return None
