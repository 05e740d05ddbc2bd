"""The team servers: Prefect and MLflow on PostgreSQL, both behind credentials, on one host.

``retrain server up --database-url postgresql://USER@HOST:PORT/PREFIX`` creates the databases
``PREFIX_prefect`` (the Prefect server), ``PREFIX_mlflow`` (MLflow's tracking store and
Retrain's promotion ledger, whose tables are all named ``retrain_*``) and
``PREFIX_mlflow_auth`` (MLflow's users) when they are missing, then starts
``prefect server start`` on ``postgresql+asyncpg`` and ``mlflow server --app-name
basic-auth`` on ``postgresql+psycopg`` with a served artifact store. Credentials come from the
environment: MLflow's admin is ``MLFLOW_TRACKING_USERNAME``/``MLFLOW_TRACKING_PASSWORD`` (what
every MLflow client sends) and Prefect's server checks ``PREFECT_API_AUTH_STRING`` (what every
Prefect client sends). A database password never goes on a command line (``ps`` shows those)
or into a file: the servers get it as ``PGPASSWORD``. The pids live in ``<state>/team.json``
so ``retrain server down`` stops exactly what ``up`` started. The servers run in their own
sessions without Retrain's owner tags: they outlive the command, like services.
The databases, credentials and MLflow's auth config are prepared in
``retrain.processes.team_config``. Only the standard library is imported here.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from base.errors import Kind, RetrainError
from retrain.processes import records
from retrain.processes.health import answers, port_free
from retrain.processes.pids import HOME_TAG, PARENT_TAG, cmdline_of, end_process, environ_of, is_alive
from retrain.processes.service import Service, wait_until_healthy
from retrain.processes.team_config import (
    Database,
    create_databases,
    flask_secret,
    parse_database_url,
    read_credentials,
    write_auth_config,
)

STATE_MARKER = "RETRAIN_TEAM_STATE"
RECORD_NAME = "team.json"
DEFAULT_PREFECT_PORT = 4200
DEFAULT_MLFLOW_PORT = 5000


@dataclass(frozen=True)
class TeamRecord:
    """What ``up`` started: pids, addresses and the settings clients export (no secrets)."""

    state: str
    prefect_pid: int
    mlflow_pid: int
    prefect_api_url: str
    tracking_uri: str
    ledger_url: str
    artifacts: str
    databases: list[str]
    started_at: str
    needs_pgpassword: bool = False
    logs: dict[str, str] = field(default_factory=dict)

    def client_env(self) -> dict[str, str]:
        """What a user (or a worker) exports to point Retrain at these servers; secrets masked."""
        env = {
            "PREFECT_API_URL": self.prefect_api_url,
            "RETRAIN_TRACKING_URI": self.tracking_uri,
            "RETRAIN_LEDGER_URL": self.ledger_url,
            "MLFLOW_TRACKING_USERNAME": "<your MLflow user>",
            "MLFLOW_TRACKING_PASSWORD": "***",
            "PREFECT_API_AUTH_STRING": "***",
        }
        if self.needs_pgpassword:
            env["PGPASSWORD"] = "***"
        return env


def record_path(state: Path) -> Path:
    return Path(state) / RECORD_NAME


def read_record(state: Path) -> TeamRecord | None:
    return records.read_record(record_path(state), TeamRecord)


def is_ours(pid: int, state: Path) -> bool:
    """The pid still runs and is a server this state folder started (not a reused pid)."""
    if not is_alive(pid):
        return False
    command = cmdline_of(pid)
    return ("prefect" in command or "mlflow" in command) and environ_of(pid).get(STATE_MARKER) == str(state)


def base_env(state: Path, db: Database) -> dict[str, str]:
    """Our environment without Prefect client settings or owner tags, plus the state marker."""
    drop = (PARENT_TAG, HOME_TAG, "PGPASSWORD")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_") and k not in drop}
    env[STATE_MARKER] = str(state)
    if db.password:
        env["PGPASSWORD"] = db.password
    return env


def build_services(
    state: Path, db: Database, creds: dict[str, str], artifacts: Path, ports: tuple[int, int], host: str
) -> list[Service]:
    """The Prefect server and the MLflow auth server, each logging under ``<state>/logs``."""
    prefect_port, mlflow_port = ports
    env = base_env(state, db)
    prefect_env = {
        **env,
        "PREFECT_HOME": str(state / "prefect"),
        "PREFECT_API_DATABASE_CONNECTION_URL": db.url("asyncpg", "prefect"),
        "PREFECT_SERVER_API_AUTH_STRING": creds["PREFECT_API_AUTH_STRING"],
        "PREFECT_API_AUTH_STRING": creds["PREFECT_API_AUTH_STRING"],
        "PREFECT_API_URL": f"http://{host}:{prefect_port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
        "DO_NOT_TRACK": "1",
    }
    mlflow_env = {
        **{k: v for k, v in env.items() if not k.startswith("MLFLOW_TRACKING_")},
        "MLFLOW_AUTH_CONFIG_PATH": str(write_auth_config(state, db)),
        "MLFLOW_AUTH_ADMIN_USERNAME": creds["MLFLOW_TRACKING_USERNAME"],
        "MLFLOW_AUTH_ADMIN_PASSWORD": creds["MLFLOW_TRACKING_PASSWORD"],
        "MLFLOW_FLASK_SERVER_SECRET_KEY": flask_secret(state),
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    }
    prefect_cmd = [sys.executable, "-m", "prefect", "server", "start", "--host", host, "--port", str(prefect_port)]
    mlflow_cmd = [
        *(sys.executable, "-m", "mlflow", "server", "--app-name", "basic-auth", "--host", host),
        *("--port", str(mlflow_port), "--workers", "1"),
        *("--backend-store-uri", db.url("psycopg", "mlflow"), "--artifacts-destination", artifacts.as_uri()),
    ]
    logs = state / "logs"
    return [
        Service("Prefect", prefect_cmd, prefect_env, f"http://{host}:{prefect_port}",
                f"http://{host}:{prefect_port}/api/health", logs / "prefect-server.log"),
        Service("MLflow", mlflow_cmd, mlflow_env, f"http://{host}:{mlflow_port}",
                f"http://{host}:{mlflow_port}/health", logs / "mlflow-server.log"),
    ]  # fmt: skip


def running_record(state: Path) -> TeamRecord | None:
    """The recorded servers when both still run and answer."""
    record = read_record(state)
    if record is None or not (is_ours(record.prefect_pid, state) and is_ours(record.mlflow_pid, state)):
        return None
    if not (answers(f"{record.prefect_api_url}/health") and answers(f"{record.tracking_uri}/health")):
        return None
    return record


def start_team(
    database_url: str,
    state: Path,
    artifacts: Path | None = None,
    ports: tuple[int, int] = (DEFAULT_PREFECT_PORT, DEFAULT_MLFLOW_PORT),
    host: str = "127.0.0.1",
    timeout: float = 180.0,
) -> tuple[TeamRecord, bool]:
    """Start both servers (or find them running); returns the record and whether they were started now."""
    state = Path(state).resolve()
    db = parse_database_url(database_url)
    creds = read_credentials()
    found = running_record(state)
    if found is not None:
        return found, False
    stop_team(state)
    busy = [str(p) for p in ports if not port_free(p, host)]
    if busy:
        raise RetrainError(
            f"port {', '.join(busy)} on {host} is in use; choose --prefect-port/--mlflow-port", kind=Kind.USAGE
        )
    state.mkdir(parents=True, exist_ok=True)
    artifacts = Path(artifacts or state / "artifacts").resolve()
    artifacts.mkdir(parents=True, exist_ok=True)
    created = create_databases(db)
    services = build_services(state, db, creds, artifacts, ports, host)
    for service in services:
        service.start()
    record = make_record(state, db, services, artifacts, created)
    write_record(state, record)
    failed = wait_until_healthy(services, timeout)
    if failed:
        stop_team(state)
        raise RetrainError(f"{', '.join(failed)} did not start; see {state / 'logs'}", kind=Kind.UNEXPECTED)
    return record, True


def make_record(state: Path, db: Database, services: list[Service], artifacts: Path, created: list[str]) -> TeamRecord:
    prefect, mlflow = services
    assert prefect.process is not None and mlflow.process is not None, "both were started"
    return TeamRecord(
        state=str(state),
        prefect_pid=prefect.process.pid,
        mlflow_pid=mlflow.process.pid,
        prefect_api_url=f"{prefect.address}/api",
        tracking_uri=mlflow.address,
        ledger_url=db.url("psycopg", "mlflow"),
        artifacts=str(artifacts),
        databases=db.names,
        started_at=datetime.now(UTC).isoformat(),
        needs_pgpassword=db.password is not None,
        logs={s.name: str(s.log) for s in services},
    )


def write_record(state: Path, record: TeamRecord) -> None:
    records.write_record(record_path(state), record)


def stop_team(state: Path) -> TeamRecord | None:
    """Stop the servers ``up`` recorded in ``state`` (their whole process groups) and drop the record."""
    state = Path(state).resolve()
    record = read_record(state)
    if record is None:
        return None
    for pid in (record.prefect_pid, record.mlflow_pid):
        if is_ours(pid, state):
            end_process(pid, group=True)
    records.drop_record(record_path(state))
    return record
