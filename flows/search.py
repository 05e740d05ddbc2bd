"""Run a candidate search's trials as Prefect tasks on Dask, inside the retrain flow's run.

What to try, how to score it and who wins is ``training.search``; this module only schedules:
a ``DaskTaskRunner`` on a local cluster sized by ``compute`` (``compute.workers`` workers,
one trial each, ``compute.threads`` threads per fit) or on an existing scheduler
(``search.dask_address`` / ``RETRAIN_DASK_ADDRESS``). The training window is scattered to
the workers once and every trial receives the same Dask future, so the data crosses the
network once per worker, not once per trial. A trial is asked from the planner whenever a
worker frees up, and each worker has one more trial waiting at the scheduler (``AHEAD``), so a
worker that finishes a trial starts the next at once instead of idling while the flow asks,
serializes and submits it: Prefect's per-task work (its context serialized in the flow,
rebuilt on the worker) costs a tenth of a second or more, a sixth of a short trial. Optuna's
TPE samples at random for its first ten trials, so asking one trial early costs the sampler
nothing there. The run's lease, compare-and-swap and thread limits are unchanged: the search
runs inside the lease, before the gate, and every fit is capped by ``compute.threads``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from base.settings_search import ADDRESS_ENV
from training.search import SearchFailed, evaluate_trial, finish_search, start_search
from training.search_types import Fold, SearchResult, TrialResult, TrialSpec, TrialStatus

if TYPE_CHECKING:
    from prefect_dask import DaskTaskRunner

    from base.settings import ModelConfig
    from training.types import Split

ERROR_CHARS = 300
WORKER_WAIT = 30  # seconds a scheduler may take to get its first worker
AHEAD = 2  # trials in flight per worker: the running one and the next, queued at the scheduler
RESUBMITS = 2  # times a trial cancelled by a lost training window is sent again


@task(cache_policy=NO_CACHE, task_run_name="trial-{spec.number}")
def run_trial(spec: TrialSpec, frame: pd.DataFrame, folds: list[Fold], config: "ModelConfig") -> TrialResult:
    """One trial on a Dask worker: fit and score every fold (``frame`` arrives as the scattered window)."""
    return evaluate_trial(spec, frame, folds, config)


def search_runner(config: "ModelConfig") -> "DaskTaskRunner":
    """An existing scheduler by address, else a local cluster of ``compute.workers`` single-threaded workers."""
    from prefect_dask import DaskTaskRunner

    assert config.search is not None
    address = config.search.address
    if address:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(cluster_kwargs=local_cluster_kwargs(config))


def local_cluster_kwargs(config: "ModelConfig") -> dict[str, Any]:
    """Worker processes (a fit holds the GIL in places), one trial each, no dashboard."""
    return {
        "n_workers": config.compute.search_workers,
        "threads_per_worker": 1,
        "processes": True,
        "dashboard_address": None,
    }


@contextmanager
def shared_cluster(config: "ModelConfig") -> Iterator[str]:
    """One local cluster for many retrains in this process (the demo): its address in ``RETRAIN_DASK_ADDRESS``.

    Starting worker processes costs seconds; a retrain that finds the address connects instead.
    """
    from distributed import LocalCluster

    previous = os.environ.get(ADDRESS_ENV)
    with LocalCluster(**local_cluster_kwargs(config)) as cluster:
        os.environ[ADDRESS_ENV] = cluster.scheduler_address
        try:
            yield cluster.scheduler_address
        finally:
            if previous is None:
                os.environ.pop(ADDRESS_ENV, None)
            else:
                os.environ[ADDRESS_ENV] = previous


def search_candidates(split: "Split", config: "ModelConfig") -> SearchResult:
    """Every trial the budget allows, as many at a time as the cluster has workers; ranked."""
    from distributed import as_completed

    logger = get_run_logger()
    plan, frame, folds = start_search(split, config)
    results: list[TrialResult] = []
    with search_runner(config) as runner:
        client = runner.client
        workers = count_workers(client)
        shared = SharedWindow(client, frame)
        running: dict[Any, tuple[Any, TrialSpec, int]] = {}
        resubmitted: dict[int, int] = {}
        queue = as_completed(loop=client.loop)

        def submit(spec: TrialSpec) -> None:
            params = {"spec": spec, "frame": shared.future, "folds": folds, "config": config}
            future = runner.submit(run_trial, params)
            running[future.wrapped_future.key] = (future, spec, shared.copy)
            queue.add(future.wrapped_future)

        def start_next() -> None:
            while len(running) < AHEAD * workers and (spec := plan.ask()) is not None:
                submit(spec)

        start_next()
        logger.info("search: %d worker(s), %d fold(s), %d rows", workers, len(folds), len(frame))
        for done in queue:
            future, spec, copy = running.pop(done.key)
            result = result_of(future, spec)
            lost = result.status is TrialStatus.FAILED and shared.renew_if_lost(copy)
            if lost and resubmitted.get(spec.number, 0) < RESUBMITS:
                resubmitted[spec.number] = resubmitted.get(spec.number, 0) + 1
                logger.warning("search %s: the training window was lost with a worker; sent again", spec.label)
                submit(spec)
                continue
            results.append(result)
            plan.tell(result)
            logger.info("search %s: %s", spec.label, describe(result))
            start_next()
    return finish_search(results, folds, config, plan, workers)


class SharedWindow:
    """The training window scattered to the workers, scattered again when the cluster loses it.

    Dask's memory manager keeps one copy of scattered data unless a task on another worker
    waits for it, so a killed worker can take the only copy with it; every trial that needed
    it is then cancelled ("already forgotten"), not retried. Those trials are sent again with
    a fresh copy (``RESUBMITS`` times each), as Dask itself reruns the trial the worker was running.
    """

    def __init__(self, client: Any, frame: pd.DataFrame) -> None:
        self._client = client
        self._frame = frame
        self.future = self._scatter()
        self.copy = 1  # which scatter ``future`` is

    def _scatter(self) -> Any:
        return self._client.scatter(self._frame, broadcast=True, hash=False)

    def renew_if_lost(self, copy: int) -> bool:
        """Whether a trial given copy number ``copy`` lost its window; a lost window is scattered again.

        Asked only when a trial failed: the scheduler forgets the key before the client hears of
        it (the future still says "finished"), so the scheduler is asked who holds it.
        """
        if copy < self.copy:
            return True  # replaced already, after an earlier trial found it lost
        if self.future.status == "finished" and self._client.who_has(self.future).get(self.future.key):
            return False
        self.future = self._scatter()
        self.copy += 1
        return True


def count_workers(client: Any) -> int:
    """The cluster's workers; a scheduler without any for ``WORKER_WAIT`` seconds fails the search clearly."""
    workers = len(client.scheduler_info()["workers"])
    if workers:
        return workers
    try:
        client.wait_for_workers(1, timeout=WORKER_WAIT)
    except TimeoutError:
        address = client.scheduler.address
        raise SearchFailed(f"the Dask scheduler {address} has no worker after {WORKER_WAIT} s") from None
    return len(client.scheduler_info()["workers"])


def result_of(future: Any, spec: TrialSpec) -> TrialResult:
    """The trial's result; a lost worker or any other failure of the task ends this trial as failed."""
    try:
        return future.result()
    except Exception as exc:  # a killed worker (KilledWorker), a crashed task: the search goes on
        return TrialResult(spec, TrialStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:ERROR_CHARS])


def describe(result: TrialResult) -> str:
    if result.mean_score is None:
        return f"failed ({result.error})"
    folds = ", ".join(f"{s:.4f}" for s in result.fold_scores)
    return f"mean {result.mean_score:.4f} (folds {folds}) in {result.seconds:.1f} s"
