"""Suite-wide settings (no analytics, one OpenMP thread) and fixtures unit and integration share.

The machines are 2 shared cores; gradient boosting's default thread pool competing with the
Prefect test server made small fits 20-100x slower. One thread keeps tests predictable.
"""

import os
import shutil
import uuid
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import sqlalchemy as sa

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

REPO = Path(__file__).resolve().parents[1]
PG_USERS = ("postgres", "root")


@pytest.fixture(scope="session")
def migrated_mlflow_db(tmp_path_factory) -> Path:
    """An empty MLflow database with every migration applied, copied into each test's home.

    Migrating a fresh sqlite file takes 6-10 s on two cores; copying one takes milliseconds.
    """
    from mlflow import MlflowClient

    from base.environment import quiet_libraries

    quiet_libraries()
    path = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}", registry_uri=f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture(scope="session")
def migrated_prefect_db(tmp_path_factory):
    """``seed(prefect_home)``: an empty Prefect server database with every migration applied,
    copied into a Prefect home before its server first starts.

    A server migrating a fresh sqlite file spends 4-8 s on two cores before it answers; every
    test that starts a server of its own but is not about that first migration starts from a
    copy. Built in a child process so this process's Prefect settings stay untouched.
    """
    import subprocess
    import sys

    template = tmp_path_factory.mktemp("prefect-template")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(template), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    script = (
        "import asyncio; from prefect.server.database import provide_database_interface as db; "
        "asyncio.run(db().create_db())"
    )
    subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True, timeout=300)

    def seed(prefect_home: Path) -> None:
        prefect_home.mkdir(parents=True, exist_ok=True)
        shutil.copy(template / "prefect.db", prefect_home / "prefect.db")

    return seed


@pytest.fixture
def mlflow_globals(monkeypatch):
    """Put back MLflow's process-wide URIs (also environment variables) after a test."""
    import mlflow

    for var in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
        monkeypatch.setenv(var, "")  # makes monkeypatch remember the original value
        monkeypatch.delenv(var)
    yield
    mlflow.set_tracking_uri(None)
    mlflow.set_registry_uri(None)


@pytest.fixture(scope="module")
def model_store(tmp_path_factory, migrated_mlflow_db):
    """One MLflow home per test module, and ``add_model(versions)`` registering a new model.

    Version k of every model is a constant regressor predicting k, so a loaded champion's
    prediction names the version behind the alias. Each test adds its own model, so tests in
    a module share the store without seeing each other's versions.
    """
    from mlflow import MlflowClient

    home = tmp_path_factory.mktemp("model-store")
    shutil.copy(migrated_mlflow_db, home / "mlflow.db")
    uri = f"sqlite:///{home / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)

    def add_model(versions: int) -> str:
        import mlflow
        from sklearn.dummy import DummyRegressor

        name = f"model-{uuid.uuid4().hex[:8]}"
        client.create_registered_model(name)
        X = np.zeros((2, 1))
        for k in range(1, versions + 1):
            path = home / "models" / name / f"v{k}"
            model = DummyRegressor(strategy="constant", constant=float(k)).fit(X, np.zeros(2))
            mlflow.sklearn.save_model(model, str(path), pip_requirements=["scikit-learn"])
            client.create_model_version(name, str(path))
        return name

    return SimpleNamespace(home=home, uri=uri, client=client, add_model=add_model)


def pg_address() -> str:
    """host:port of the test PostgreSQL: the throwaway cluster `make test` starts (RETRAIN_TEST_PG)."""
    return os.environ.get("RETRAIN_TEST_PG") or "127.0.0.1:5432"


def _pg_base_url() -> str:
    """The first trust-auth user that connects to the test server's database `test`, or a clear failure."""
    errors = []
    for user in PG_USERS:
        url = f"postgresql+psycopg://{user}@{pg_address()}/test"
        engine = sa.create_engine(url, connect_args={"connect_timeout": 5})
        try:
            with engine.connect():
                return url
        except sa.exc.OperationalError as exc:
            errors.append(f"{user}: {exc.orig}")
        finally:
            engine.dispose()
    pytest.fail(
        f"PostgreSQL at {pg_address()} (database 'test', trust auth) is required; `make test` starts a "
        "throwaway one (.ci/with-test-services): " + "; ".join(errors)
    )


@pytest.fixture(scope="session")
def pg_base_url() -> str:
    """The test PostgreSQL's database ``test``, for module fixtures that make a schema of their own."""
    return _pg_base_url()


def _pg_schema_url():
    """A URL into a fresh schema of the test database; the schema is dropped when the generator ends."""
    base = _pg_base_url()
    schema = f"retrain_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    yield f"{base}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()


@pytest.fixture
def pg_ledger_url():
    """A PostgreSQL ledger URL in a schema of its own, dropped afterwards.

    These cases must run in CI: an unreachable server fails them with a message instead of
    skipping them.
    """
    yield from _pg_schema_url()


@pytest.fixture(scope="module")
def pg_module_url():
    """The same, shared by a module's tests (one team database behind a module's servers)."""
    yield from _pg_schema_url()


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request, tmp_path):
    """The same test once with the ledger on SQLite (in a folder not yet created), once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'home' / 'ledger.db'}"
    return request.getfixturevalue("pg_ledger_url")


@pytest.fixture(params=["home", "postgresql"])
def serving_url(request):
    """The serving state once in files under the home (``LOCAL_STATE``), once in PostgreSQL."""
    from base.settings_state import LOCAL_STATE
    from serving import state_db

    if request.param == "home":
        yield LOCAL_STATE
        return
    url = request.getfixturevalue("pg_ledger_url")
    yield url
    state_db.close(url)


@pytest.fixture(scope="session")
def child_env(tmp_path_factory):
    """``build(**extra)``: the environment for a fresh Python process running this repository.

    The suite runs with PYTHONDONTWRITEBYTECODE; children share one bytecode cache instead, so
    only the first pays for compiling MLflow. A failpoint set in this process never reaches a
    child unless the test passes one in ``extra``.
    """
    pycache = tmp_path_factory.mktemp("pycache")

    def build(**extra: str) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if key != "RETRAIN_FAILPOINT"}
        env["PYTHONPATH"] = str(REPO)
        if env.pop("PYTHONDONTWRITEBYTECODE", None):
            env.setdefault("PYTHONPYCACHEPREFIX", str(pycache))
        env.update(extra)
        return env

    return build
