"""A candidate search through the real retrain flow on a two-worker Dask cluster.

Trials run as Prefect tasks on the cluster (by address, as a team's cluster would be
reached); the winner is the trial with the best mean fold score, every trial is an MLflow
child run of the candidate's run, and the gate judges the refitted winner. A worker lost in
the middle of the search leaves a clear outcome and the champion where it was.
"""

from __future__ import annotations

import threading
import time

import pytest
import yaml
from mlflow import MlflowClient

from base.settings import load_config
from registry.search_runs import trial_runs
from registry.versions import get_version, load_model
from retrain.report import run_markdown

LOGREG = "sklearn.linear_model.LogisticRegression"
TREE = "sklearn.tree.DecisionTreeClassifier"
SEARCH = {
    "trials": 8,
    "folds": 3,
    "candidates": [
        {"class_path": LOGREG, "params": {"max_iter": 200, "C": {"choices": [0.001, 0.1, 10.0]}}},
        {"class_path": TREE, "params": {"max_depth": {"choices": [1, 3, 6]}}},
    ],
}  # with the `estimator` section: 7 distinct settings


@pytest.fixture(scope="module")
def cluster():
    """Two single-threaded workers in this process: started once for the module."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as local:
        yield local


@pytest.fixture
def searching(workspace, cluster, monkeypatch):
    """The workspace's config with a search, its trials sent to the module's cluster."""
    monkeypatch.setenv("RETRAIN_DASK_ADDRESS", cluster.scheduler_address)
    raw = yaml.safe_load(workspace.read_text())
    raw["search"] = SEARCH
    workspace.write_text(yaml.safe_dump(raw))
    return workspace


def test_the_search_winner_is_refitted_gated_and_a_lost_worker_leaves_a_clear_outcome(searching, synth, cluster):
    outcome = synth.run_flow(searching)
    config = load_config(searching)
    search = outcome["search"]
    assert outcome["status"] == "promoted", outcome["message"]
    assert (search["trials"], search["completed"], search["workers"], search["stopped_by"]) == (7, 7, 2, "space")

    client = MlflowClient(config.tracking_uri)
    version = get_version(client, config.name, outcome["version"])
    runs = [client.get_run(run_id) for run_id in trial_runs(client, config, version.run_id)]
    assert len(runs) == 7
    for run in runs:
        assert {"cv_roc_auc", "cv_roc_auc_fold0", "cv_roc_auc_fold2", "seconds"} <= set(run.data.metrics)
        assert run.data.tags["mlflow.parentRunId"] == version.run_id
    best = max(runs, key=lambda r: r.data.metrics["cv_roc_auc"])
    assert best.data.tags["trial.rank"] == "1"
    assert version.tags["search.winner"] == best.data.tags["trial.label"] == search["top"][0]["label"]
    assert version.tags["search.rank"] == "1 of 7"

    # the gate judged the refitted winner: the registered model is that estimator with those parameters
    model = load_model(client, config.name, outcome["version"]).named_steps["model"]
    assert f"{type(model).__module__}.{type(model).__name__}".startswith(best.data.tags["estimator"].rsplit(".", 1)[0])
    assert type(model).__name__ == best.data.tags["estimator"].rsplit(".", 1)[1]
    for name, value in best.data.params.items():
        assert str(model.get_params()[name]) == value
    assert outcome["decision"]["candidate_score"] == pytest.approx(version.metrics["roc_auc"])

    report = run_markdown(outcome)  # the gate report lists the top trials, the winner first
    table = report.split("### Search", 1)[1]
    assert table.index(search["top"][0]["label"]) < table.index(search["top"][1]["label"])
    lose_a_worker_mid_search(searching, synth, cluster, outcome)


def lose_a_worker_mid_search(searching, synth, cluster, first: dict) -> None:
    """A worker closed while it runs a trial: the next retrain still ends clearly; the champion moves only by it."""
    synth.make_month(4).to_csv(searching.parent / "batches" / "m04.csv", index=False)
    lost = threading.Event()

    def lose_a_worker() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            busy = [w for w in cluster.workers.values() if w.state.executing_count]
            if busy:
                cluster.sync(busy[0].close)
                lost.set()
                return
            time.sleep(0.02)

    thread = threading.Thread(target=lose_a_worker, daemon=True)
    thread.start()
    try:
        outcome = synth.run_flow(searching)
    except Exception as err:  # a clear failure is an acceptable end too: then nothing may have moved
        outcome = {"status": "failed", "message": str(err), "champion_version": first["version"]}
    thread.join()
    assert lost.is_set()
    config = load_config(searching)
    champion = get_version(MlflowClient(config.tracking_uri), config.name, "champion")
    if outcome["status"] == "failed":
        assert champion.version == first["version"]
    else:
        search = outcome["search"]  # the lost worker's trial ran again on the other one
        assert (search["trials"], search["workers"]) == (7, 2) and search["completed"] >= 1
        assert outcome["status"] in {"promoted", "rejected"}
        assert champion.version == (outcome["version"] if outcome["status"] == "promoted" else first["version"])


def test_a_scheduler_without_workers_fails_the_search_clearly(monkeypatch):
    from distributed import Client, LocalCluster

    import flows.search
    from training.search import SearchFailed

    monkeypatch.setattr(flows.search, "WORKER_WAIT", 1)
    empty = LocalCluster(n_workers=0, processes=False, dashboard_address=None)
    with empty, Client(empty) as client, pytest.raises(SearchFailed, match="has no worker after 1 s"):
        flows.search.count_workers(client)


FOREST = "sklearn.ensemble.RandomForestClassifier"
SLOW_SEARCH = {  # trials of about a second each, so a worker can be killed while one runs
    "trials": 4,
    "folds": 2,
    "include_estimator": False,
    "candidates": [
        {
            "class_path": FOREST,
            "params": {"n_estimators": {"choices": [120, 160]}, "max_depth": {"choices": [4, 8]}},
        }
    ],
}


def test_a_worker_process_killed_mid_search_leaves_the_other_to_finish_and_nothing_half_registered(
    workspace, synth, monkeypatch
):
    """SIGKILL of the worker holding the only copy of the training window while it runs a trial.

    Dask's memory manager (here every 0.1 s) keeps one copy of scattered data, so the kill loses
    the window too: the killed trial and those waiting on the window are sent again with a new copy.
    """
    import os
    import signal

    import dask
    from distributed import Client, LocalCluster

    raw = yaml.safe_load(workspace.read_text())
    raw["search"] = SLOW_SEARCH
    workspace.write_text(yaml.safe_dump(raw))
    with (
        dask.config.set({"distributed.scheduler.active-memory-manager.interval": "100ms"}),
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as local,
        Client(local) as client,
    ):
        monkeypatch.setenv("RETRAIN_DASK_ADDRESS", local.scheduler_address)
        pids = client.run(os.getpid)
        killed: list[int] = []

        def kill_the_busy_holder() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                holders = [w for key, ws in client.who_has().items() if key.startswith("DataFrame-") for w in ws]
                busy = [address for address, keys in client.processing().items() if keys]
                if len(holders) == 1 and holders[0] in busy:
                    time.sleep(0.3)  # inside the trial's fit, not its start
                    os.kill(pids[holders[0]], signal.SIGKILL)
                    killed.append(pids[holders[0]])
                    return
                time.sleep(0.02)

        thread = threading.Thread(target=kill_the_busy_holder, daemon=True)
        thread.start()
        outcome = synth.run_flow(workspace)
        thread.join()
    assert killed, "no trial was seen running"
    search = outcome["search"]
    assert outcome["status"] == "promoted", outcome["message"]
    assert (search["trials"], search["completed"]) == (4, 4)  # the killed worker's trial ran again

    config = load_config(workspace)
    client = MlflowClient(config.tracking_uri)
    versions = client.search_model_versions(f"name='{config.name}'")
    assert [str(v.version) for v in versions] == [str(outcome["version"])]
    assert str(get_version(client, config.name, "champion").version) == str(outcome["version"])
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert runs and all(run.info.status == "FINISHED" for run in runs)  # no child run left running
    trials = trial_runs(client, config, versions[0].run_id)
    assert len(trials) == 4
