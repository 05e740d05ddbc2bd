"""The review page against a team-profile state: PostgreSQL behind it, three homes around it.

Once per module: a champion is trained, a batch is scored in this process (the "worker",
home ``worker``) with the serving state in a PostgreSQL schema of its own, and ``retrain
review serve`` runs as a separate process with another home (``page``) on the same database
and registry. Reviewers' accounts come from ``RETRAIN_REVIEWERS`` (hashes only). The browser
is Debian's headless Chromium through Playwright, as in ``tests/integration/server/browser``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from types import SimpleNamespace

import pandas as pd
import pytest

PASSWORDS = {"alice": "correct horse battery", "bob": "tr0ub4dor&3"}
WAIT_MS = 30_000


@pytest.fixture(scope="module")
def team(tmp_path_factory, pg_module_url, migrated_mlflow_db, synth, local_net, child_env):
    """The scored batch, the state's addresses and the running page (``base``)."""
    from base.settings import load_config
    from monitoring.validation import propose_suite, write_suite
    from retrain.review_web.accounts import hash_password
    from serving.scoring import score_batch

    root = tmp_path_factory.mktemp("review")
    worker = root / "worker"
    worker.mkdir()
    shutil.copy(migrated_mlflow_db, worker / "mlflow.db")
    (root / "batches").mkdir()
    for month in (1, 2, 3):
        synth.make_month(month).to_csv(root / "batches" / f"m{month:02d}.csv", index=False)
    config_path = synth.write_config(root, state={"home": str(worker)})
    tracking = f"sqlite:///{worker / 'mlflow.db'}"
    env = {"RETRAIN_SERVING_URL": pg_module_url, "RETRAIN_LEDGER_URL": pg_module_url, "RETRAIN_TRACKING_URI": tracking}
    with pytest.MonkeyPatch.context() as mp:
        for key in ("RETRAIN_HOME", "MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
            mp.delenv(key, raising=False)
        for key, value in env.items():
            mp.setenv(key, value)
        config = load_config(config_path)
        reference = pd.concat([synth.make_month(m) for m in (1, 2, 3)], ignore_index=True)
        write_suite(propose_suite(reference, config), config.suite_path)
        assert synth.run_flow(config_path)["status"] == "promoted"
        month = synth.make_month(4, rows=300)
        month["x1"] = month["x1"].clip(-2.5, 2.5)
        month.to_csv(root / "m04.csv", index=False)
        scored = score_batch(config, root / "m04.csv")
    assert scored.queued >= 8 and not (worker / "review.db").exists()  # the queue is in PostgreSQL

    accounts = ",".join(f"{name}:{hash_password(pw, 20_000)}" for name, pw in PASSWORDS.items())
    port = local_net.free_port()
    page_env = child_env(**env, RETRAIN_REVIEWERS=accounts, RETRAIN_REVIEW_SECRET="test-secret")
    command = [
        sys.executable,
        "-m",
        "retrain.cli",
        "review",
        "serve",
        "--port",
        str(port),
        "--home",
        str(root / "page"),
    ]
    log = (root / "page.log").open("wb")
    server = subprocess.Popen(command, env=page_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while not local_net.answers(f"{base}/health"):
        assert server.poll() is None, (root / "page.log").read_text()
        assert time.monotonic() < deadline, "the review page did not answer within 60 s"
        time.sleep(0.2)
    try:
        yield SimpleNamespace(
            base=base, root=root, config_path=config_path, rows=scored.rows, env=env, url=pg_module_url,
            worker=worker, month=month, child_env=child_env,
        )  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()
        from serving import state_db

        state_db.close(pg_module_url)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(WAIT_MS)
    yield context.new_page()
    context.close()


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


@pytest.fixture
def signed_in(team):
    """``signed_in(name)``: an HTTP client holding that reviewer's session."""
    import httpx

    clients = []

    def sign_in(name: str):
        client = httpx.Client(base_url=team.base, follow_redirects=False, timeout=30)
        clients.append(client)
        token = csrf_of(client.get("/login").text)
        done = client.post("/login", data={"name": name, "password": PASSWORDS[name], "csrf": token})
        assert done.status_code == 303, done.text
        return client

    yield sign_in
    for client in clients:
        client.close()
