"""What the team servers are given: the PostgreSQL databases, the credentials, MLflow's auth.

``retrain server up --database-url postgresql://USER@HOST:PORT/PREFIX`` names where
PostgreSQL answers and the prefix of the three databases (``PREFIX_prefect``,
``PREFIX_mlflow``, ``PREFIX_mlflow_auth``), created here when missing. Credentials come
from the environment and are checked before anything starts. A database password never
goes on a command line or into a file (``retrain.processes.team`` hands it over as
``PGPASSWORD``).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from base.errors import Kind, RetrainError
from base.secrets import password_of, redact_url

MIN_PASSWORD_LENGTH = 12  # MLflow's auth app refuses a shorter admin password
CREDENTIAL_VARIABLES = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "PREFECT_API_AUTH_STRING")


@dataclass(frozen=True)
class Database:
    """Where PostgreSQL answers and the prefix of the databases the team servers use."""

    user: str
    password: str | None
    host: str
    port: int
    prefix: str

    def url(self, driver: str, suffix: str) -> str:
        """``postgresql+DRIVER://user@host:port/PREFIX_SUFFIX``, never with the password."""
        return f"postgresql+{driver}://{self.user}@{self.host}:{self.port}/{self.prefix}_{suffix}"

    @property
    def names(self) -> list[str]:
        return [f"{self.prefix}_{suffix}" for suffix in ("prefect", "mlflow", "mlflow_auth")]


def parse_database_url(url: str) -> Database:
    """``postgresql://USER[:PASSWORD]@HOST[:PORT]/PREFIX`` (any ``postgresql+driver`` scheme)."""
    shown = redact_url(url)
    try:
        parts = urlsplit(url)
        port = parts.port or 5432
    except ValueError as exc:
        raise RetrainError(f"--database-url {shown!r} does not parse: {exc}", kind=Kind.USAGE) from None
    prefix = parts.path.strip("/")
    if not parts.scheme.startswith("postgresql") or not parts.hostname or not prefix:
        raise RetrainError(
            f"--database-url {shown!r}: expected postgresql://USER@HOST:PORT/PREFIX",
            kind=Kind.USAGE,
            field="database_url",
        )
    if not prefix.replace("_", "").isalnum():
        raise RetrainError(
            f"--database-url {shown!r}: the database prefix may hold letters, digits and _", kind=Kind.USAGE
        )
    return Database(parts.username or "postgres", password_of(url), parts.hostname, port, prefix)


def read_credentials(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The credentials the servers enforce, from the environment; a missing one is a usage error."""
    env = os.environ if environ is None else environ
    missing = [name for name in CREDENTIAL_VARIABLES if not env.get(name)]
    if missing:
        raise RetrainError(
            f"set {', '.join(missing)} first: the servers refuse every call without these credentials",
            kind=Kind.USAGE,
        )
    if len(env["MLFLOW_TRACKING_PASSWORD"]) < MIN_PASSWORD_LENGTH:
        raise RetrainError(
            f"MLFLOW_TRACKING_PASSWORD is too short: MLflow's auth app wants at least {MIN_PASSWORD_LENGTH} characters",
            kind=Kind.USAGE,
        )
    return {name: env[name] for name in CREDENTIAL_VARIABLES}


def create_databases(db: Database) -> list[str]:
    """Create the team databases that do not exist yet; returns the names created."""
    import psycopg
    from psycopg import sql

    created = []
    try:
        with psycopg.connect(
            host=db.host, port=db.port, user=db.user, password=db.password, dbname="postgres", autocommit=True
        ) as conn:
            for name in db.names:
                if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                    created.append(name)
    except psycopg.Error as exc:
        from base.errors import StoreUnavailable
        from base.secrets import redact_text

        problem = redact_text(" ".join(str(exc).split()), [db.password] if db.password else None)
        raise StoreUnavailable(
            "PostgreSQL", f"{db.host}:{db.port}", problem, "check that it runs and that the user may create databases"
        ) from None
    return created


def flask_secret(state: Path) -> str:
    """The MLflow auth app's session key: ``MLFLOW_FLASK_SERVER_SECRET_KEY`` or one kept in the state folder."""
    given = os.environ.get("MLFLOW_FLASK_SERVER_SECRET_KEY")
    if given:
        return given
    path = state / "mlflow-flask-secret"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip()


def write_auth_config(state: Path, db: Database) -> Path:
    """MLflow's auth ini: its user database and read access for no one but granted users."""
    path = state / "mlflow-auth.ini"
    path.write_text(
        "[mlflow]\n"
        "default_permission = NO_PERMISSIONS\n"
        f"database_uri = {db.url('psycopg', 'mlflow_auth')}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        "grant_default_workspace_access = false\n"
        "auth_cache_ttl_seconds = 60\n"  # a PBKDF2 check per request would dominate every call
    )
    return path
