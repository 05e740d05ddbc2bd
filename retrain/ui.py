"""``retrain ui``: the Prefect server and the MLflow UI on 127.0.0.1, against the embedded stores.

Both run as child processes in their own process groups, with their logs in
``<home>/logs``, so Ctrl-C in the terminal reaches only this process, which then stops both
groups (SIGTERM, then SIGKILL after a grace period) and waits for them: no orphaned server
keeps a port or the SQLite files busy. Both carry this process's tag (``retrain.processes``),
so if it is killed outright the next command of the home ends them. When the home's shared
Prefect server (``retrain.server``) already runs, it is reused instead of starting a second
server on the same database; otherwise the one started here is recorded as the home's
server while it lives, so ``retrain run`` in another terminal uses it and shows in this UI.
Only the standard library is imported here; the servers import their own frameworks.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

HOST = "127.0.0.1"
DEFAULT_PREFECT_PORT = 4200
DEFAULT_MLFLOW_PORT = 5000
STOP_GRACE_SECONDS = 15


def prefect_api_url(port: int = DEFAULT_PREFECT_PORT, host: str = HOST) -> str:
    return f"http://{host}:{port}/api"


def is_healthy(url: str, timeout: float = 2.0) -> bool:
    """True when ``url`` answers 200; any network error means not (yet) healthy."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (OSError, ValueError):
        return False


def port_free(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((host, port)) != 0


@dataclass
class Service:
    """One child server: how to start it, where it answers, where it logs."""

    name: str
    command: list[str]
    env: dict[str, str]
    address: str
    health: str
    log: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> int | None:
        """SIGTERM the whole group, SIGKILL it if it lingers; returns the exit code."""
        if self.process is None:
            return None
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            if self.process.poll() is not None:
                break
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
        return self.process.poll()


def build_services(home: Path, tracking_uri: str, prefect_port: int, mlflow_port: int) -> list[Service]:
    """The two servers with state under ``home``: Prefect's SQLite in home/prefect, MLflow's store."""
    from retrain.processes import owner_tags

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


def wait_until_healthy(services: list[Service], timeout: float) -> list[str]:
    """Names of the services that died or did not answer within ``timeout``."""
    deadline = time.monotonic() + timeout
    pending = list(services)
    while pending and time.monotonic() < deadline:
        pending = [s for s in pending if s.running() and not is_healthy(s.health)]
        if any(not s.running() for s in pending):
            break
        time.sleep(0.5)
    return [s.name for s in services if not s.running() or s in pending]


def stop_all(services: list[Service]) -> dict[str, int | None]:
    return {s.name: s.stop() for s in services}


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
) -> int:
    """Start both (or reuse the home's Prefect server), print the addresses, block until
    Ctrl-C/SIGTERM or a child dies, stop what was started here."""
    from retrain.server import healthy_record, mark_in_use

    shared = healthy_record(home, 5.0)
    if shared:
        mark_in_use(home, startup_timeout)  # it must not stop for idleness while the UI is open
    wanted = (mlflow_port,) if shared else (prefect_port, mlflow_port)
    busy = [str(p) for p in wanted if not port_free(p)]
    if busy:
        say(f"port {', '.join(busy)} on {HOST} is in use; pick others with --prefect-port/--mlflow-port")
        return 2
    services = build_services(home, tracking_uri, prefect_port, mlflow_port)
    if shared:
        services = services[1:]
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
        say(f"MLflow UI:  {services[-1].address}   (store: {tracking_uri})")
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
    from datetime import datetime

    from retrain.server import ServerRecord, write_record

    url = prefect_api_url(port)
    assert service.process is not None, "the server process was started above"
    write_record(home, ServerRecord(url, service.process.pid, port, "ui", datetime.now(UTC).isoformat()))
    return url


def forget_prefect(home: Path, services: list[Service]) -> None:
    from retrain.server import forget_record

    for service in services:
        if service.name == "Prefect" and service.process is not None:
            forget_record(home, service.process.pid)
