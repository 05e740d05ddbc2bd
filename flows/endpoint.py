"""``endpoint_flow``: run the HTTP scoring service (``retrain endpoint``) as a long-running flow run.

Deployed as ``endpoint/<model>`` beside the other deployments, so a process work pool's
worker can start the service next to the retrain workers and the Prefect UI shows whether it
runs. The flow starts the very ``retrain endpoint`` command as a child process and waits on
it: the service itself has no Prefect in it, and the same command runs without Prefect under
systemd, a container or a load balancer's process manager. Cancelling the run stops the
service (SIGTERM, so answered rows are written first); a service that ends on its own fails
the run with its exit code.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

STOP_SECONDS = 30.0


def endpoint_command(config_path: str, host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "retrain.cli", "endpoint", config_path, "--host", host, "--port", str(port)]


def name_run() -> str:
    return f"endpoint-{Path(flow_run.parameters['config_path']).stem}-{flow_run.parameters.get('port', 8080)}"


@flow(name="endpoint", flow_run_name=name_run, log_prints=True)
def endpoint_flow(config_path: str, host: str = "127.0.0.1", port: int = 8080) -> dict[str, Any]:
    """Serve the model's champion over HTTP until the run is cancelled; the service follows ``champion``."""
    logger = get_run_logger()
    command = endpoint_command(config_path, host, port)
    logger.info("starting %s", " ".join(command))
    child = subprocess.Popen(command)
    try:
        code = child.wait()
    finally:
        if child.poll() is None:  # the run was cancelled or crashed: stop the service cleanly
            child.terminate()
            try:
                child.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                child.kill()
    if code != 0:
        raise RuntimeError(f"retrain endpoint ended with exit code {code} (see the run's output)")
    return {"config_path": config_path, "host": host, "port": port, "exit_code": code}
