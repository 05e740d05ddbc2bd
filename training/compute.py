"""Cap the threads training and scoring use, around the work only.

scikit-learn's gradient boosting and the BLAS behind numpy start one OpenMP thread per
core by default. On a shared machine (CI runners, a box also running the Prefect and MLflow
servers) those threads fight other processes for the same cores: one retrain took over 13
minutes until the pool was capped. The cap comes from the config's ``compute.threads`` and
is applied with threadpoolctl around the fit and the predictions, so the process's
environment and every other library keep their own settings.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from base.settings import ModelConfig

_LOCK = threading.Lock()
_CONTROLLER: dict[str, Any] = {}


@contextmanager
def limited_threads(config: "ModelConfig") -> Iterator[int]:
    """Run the block with at most ``config.compute.threads`` OpenMP/BLAS threads; yields the cap."""
    threads = config.compute.threads
    with _controller().limit(limits=threads):
        yield threads


def _controller() -> Any:
    """threadpoolctl's view of the loaded thread pools, kept while no module was imported since.

    Finding the pools scans every loaded shared library (a few milliseconds): a cost per HTTP
    request if done per call. A pool library arrives with an import (numpy, scikit-learn), so a
    process that imported nothing new since the last scan has the same pools.
    """
    from threadpoolctl import ThreadpoolController

    with _LOCK:
        if _CONTROLLER.get("modules") != len(sys.modules):
            _CONTROLLER["controller"] = ThreadpoolController()
            _CONTROLLER["modules"] = len(sys.modules)
        return _CONTROLLER["controller"]
