"""``retrain ui``: the Prefect server, the MLflow UI and the review page on 127.0.0.1.

Both run as child servers (``retrain.processes.service``) in their own process groups, with
their logs in ``<home>/logs``, so Ctrl-C in the terminal reaches only this process, which then
stops both groups and waits for them: no orphaned server keeps a port or the SQLite files
busy. Both carry this process's tag (``retrain.processes.pids``), so if it is killed outright
the next command of the home ends them. When the home's shared Prefect server
(``retrain.processes.home_server``) already runs, it is reused instead of starting a second
server on the same database; otherwise the one started here is recorded as the home's
server while it lives, so ``retrain run`` in another terminal uses it and shows in this UI.
The review page (``retrain review serve``) starts beside them when a reviewer could sign in
(accounts exist, see ``retrain.review_web.accounts``); otherwise the UI says how to add one.
Only the standard library is imported here; the servers import their own frameworks.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from retrain.processes.health import HOST, port_free
from retrain.processes.home_record import ServerRecord, forget_record, write_record
from retrain.processes.home_server import healthy_record
from retrain.processes.pids import owner_tags
from retrain.processes.service import Service, stop_all, wait_until_healthy
from retrain.processes.usage import mark_in_use

DEFAULT_PREFECT_PORT = 4200
DEFAULT_MLFLOW_PORT = 5000
DEFAULT_REVIEW_PORT = 4300


def prefect_api_url(port: int = DEFAULT_PREFECT_PORT, host: str = HOST) -> str:
    return f"http://{host}:{port}/api"


def build_services(home: Path, tracking_uri: str, prefect_port: int, mlflow_port: int) -> list[Service]:
    """The two servers with state under ``home``: Prefect's SQLite in home/prefect, MLflow's store."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")} | owner_tags(home)
    prefect_env = {
        **base,
        "PREFECT_HOME": str(home / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_API_URL": prefect_api_url(prefect_port),
        "DO_NOT_TRACK": "1",
    }
    for key in ("PREFECT_API_DATABASE_CONNECTION_URL", "PREFECT_LOGGING_LEVEL"):
        if key in os.environ:
            prefect_env[key] = os.environ[key]
    mlflow_env = {**os.environ, **owner_tags(home), "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    logs = home / "logs"
    return [
        Service(
            "Prefect",
            [sys.executable, "-m", "prefect", "server", "start", "--host", HOST, "--port", str(prefect_port)],
            prefect_env,
            f"http://{HOST}:{prefect_port}",
            f"{prefect_api_url(prefect_port)}/health",
            logs / "prefect-server.log",
        ),
        Service(
            "MLflow",
            [
                sys.executable,
                "-m",
                "mlflow",
                "server",
                "--host",
                HOST,
                "--port",
                str(mlflow_port),
                "--backend-store-uri",
                tracking_uri,
                "--artifacts-destination",
                (home / "mlartifacts").as_uri(),
                "--workers",
                "1",
            ],
            mlflow_env,
            f"http://{HOST}:{mlflow_port}",
            f"http://{HOST}:{mlflow_port}/health",
            logs / "mlflow-server.log",
        ),
    ]


def review_service(home: Path, tracking_uri: str, port: int) -> Service:
    """The review page as a child server, reading the same stores as the UI."""
    command = [sys.executable, "-m", "retrain.cli", "review", "serve", "--port", str(port), "--host", HOST]
    command += ["--home", str(home), "--tracking-uri", tracking_uri]
    return Service(
        "Review",
        command,
        {**os.environ, **owner_tags(home)},
        f"http://{HOST}:{port}",
        f"http://{HOST}:{port}/health",
        home / "logs" / "review-page.log",
    )


def reviewers_exist(home: Path) -> bool:
    from retrain.review_web.accounts import load_accounts

    try:
        return bool(load_accounts(home))
    except Exception:  # a bad accounts entry: the page itself says what is wrong when started alone
        return False


class Shutdown(Exception):
    """SIGTERM turned into an exception, so Ctrl-C and a service manager stop us the same way."""


def _raise_shutdown(signum, frame) -> None:
    raise Shutdown(signal.Signals(signum).name)


def run_ui(
    home: Path,
    tracking_uri: str,
    prefect_port: int = DEFAULT_PREFECT_PORT,
    mlflow_port: int = DEFAULT_MLFLOW_PORT,
    say: Callable[[str], None] = print,
    startup_timeout: float = 180.0,
    review_port: int = DEFAULT_REVIEW_PORT,
) -> int:
    """Start both (or reuse the home's Prefect server), print the addresses, block until
    Ctrl-C/SIGTERM or a child dies, stop what was started here."""
    shared = healthy_record(home, 5.0)
    if shared:
        mark_in_use(home, startup_timeout)  # it must not stop for idleness while the UI is open
    review = reviewers_exist(home)
    wanted = ((mlflow_port,) if shared else (prefect_port, mlflow_port)) + ((review_port,) if review else ())
    busy = [str(p) for p in wanted if not port_free(p)]
    if busy:
        say(f"port {', '.join(busy)} on {HOST} is in use; pick others with --prefect-port/--mlflow-port/--review-port")
        return 2
    services = build_services(home, tracking_uri, prefect_port, mlflow_port)
    if shared:
        services = services[1:]
    if review:
        services.append(review_service(home, tracking_uri, review_port))
    previous = signal.signal(signal.SIGTERM, _raise_shutdown)
    try:
        for service in services:
            service.start()
        say(f"starting {' and '.join(s.name for s in services)} (logs in {home / 'logs'}) ...")
        failed = wait_until_healthy(services, startup_timeout)
        if failed:
            say(f"{', '.join(failed)} did not start; see {home / 'logs'}")
            return 1
        api = shared.url if shared else record_prefect(home, services[0], prefect_port)
        note = "   (the home's shared server, reused)" if shared else ""
        say(f"Prefect UI: {api.removesuffix('/api')}   (API: {api}){note}")
        mlflow = next(s for s in services if s.name == "MLflow")
        say(f"MLflow UI:  {mlflow.address}   (store: {tracking_uri})")
        say(
            f"Review:     http://{HOST}:{review_port}"
            if review
            else "Review:     not started: no reviewer account (`retrain review add-user NAME`)"
        )
        say(f"serve models against it: PREFECT_API_URL={api} retrain serve CONFIG")
        say("press Ctrl-C to stop")
        while all(s.running() for s in services):
            time.sleep(0.5)
        say(f"{', '.join(s.name for s in services if not s.running())} exited; stopping")
        return 1
    except (KeyboardInterrupt, Shutdown, SystemExit):
        say("stopping ...")
        return 0
    finally:
        stop_all(services)
        forget_prefect(home, services)
        signal.signal(signal.SIGTERM, previous)


def record_prefect(home: Path, service: Service, port: int) -> str:
    """Record the Prefect server started here as the home's, so other commands use it."""
    url = prefect_api_url(port)
    assert service.process is not None, "the server process was started above"
    write_record(home, ServerRecord(url, service.process.pid, port, "ui", datetime.now(UTC).isoformat()))
    return url


def forget_prefect(home: Path, services: list[Service]) -> None:
    for service in services:
        if service.name == "Prefect" and service.process is not None:
            forget_record(home, service.process.pid)
