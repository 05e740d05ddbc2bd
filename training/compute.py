"""Cap the threads training and scoring use, around the work only.

scikit-learn's gradient boosting and the BLAS behind numpy start one OpenMP thread per
core by default. On a shared machine (CI runners, a box also running the Prefect and MLflow
servers) those threads fight other processes for the same cores: one retrain took over 13
minutes until the pool was capped. The cap comes from the config's ``compute.threads`` and
is applied with threadpoolctl around the fit and the predictions, so the process's
environment and every other library keep their own settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from base.settings import ModelConfig


@contextmanager
def limited_threads(config: "ModelConfig") -> Iterator[int]:
    """Run the block with at most ``config.compute.threads`` OpenMP/BLAS threads; yields the cap."""
    from threadpoolctl import threadpool_limits

    threads = config.compute.threads
    with threadpool_limits(limits=threads):
        yield threads
