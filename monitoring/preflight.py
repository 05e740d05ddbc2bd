"""Check everything a config points at before any work starts: suite, estimator, stores.

``load_config`` checks the YAML itself; this checks what it references, so a missing suite
or a class path that is not a classifier is a config error (exit 2, naming the file and the
field) found in a second, not a traceback after Prefect started and the data was validated.
For ``run`` it also makes sure the home takes a write and the ledger answers, so a store
fault (exit 13) is found before anything is trained or registered.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from base.errors import store_faults
from base.secrets import redact_text, redact_url
from base.settings import ConfigError

if TYPE_CHECKING:
    from base.settings import ModelConfig

TRACKING_SCHEMES = {"", "file", "sqlite", "http", "https", "databricks", "postgresql", "mysql", "mssql"}
LEDGER_CONNECT_TIMEOUT = 5
HOME_CHECK = "check free space, permissions and that it is a folder"


def check_references(config: "ModelConfig", for_run: bool = False) -> None:
    """Raise ConfigError listing every broken reference; for a run, StoreUnavailable for a store fault."""
    problems = [
        p
        for check in (_suite_problem, _estimator_problem, _tracking_problem, _ledger_problem)
        if (p := check(config)) is not None
    ]
    if problems:
        raise ConfigError(config.config_path or "(config)", problems)
    if for_run:
        check_writable(config.home, "home folder")
        check_ledger_answers(config.ledger_url)
        check_source_answers(config)


def check_source_answers(config: "ModelConfig") -> None:
    """A bucket that refuses us is one line (exit 13) before a run starts, not a failed flow."""
    from base.stores import is_remote
    from training.remote import list_objects

    if config.data.sql is not None:
        from training.sql_slices import open_source, span

        engine = open_source(config.data.sql)
        try:
            span(engine, config.data.sql, config.data.timestamp_column)
        finally:
            engine.dispose()
    elif is_remote(config.data_glob):
        list_objects(config.data_glob, config.data.storage_options)


def _suite_problem(config: "ModelConfig") -> tuple[str, str] | None:
    """The suite file exists and has the shape validation needs (no GX import)."""
    from monitoring.validation import SuiteError, read_suite

    if not config.suite_path.is_file():
        return "validation.suite", f"no suite file at {config.suite_path} (create one with `retrain suite init`)"
    try:
        read_suite(config.suite_path)
    except SuiteError as err:
        return "validation.suite", str(err)
    return None


def _estimator_problem(config: "ModelConfig") -> tuple[str, str] | None:
    """The class imports, takes the params and is an estimator of the task's kind."""
    from training.pipeline import PipelineError, make_estimator

    try:
        make_estimator(config)
    except PipelineError as err:
        field = "estimator.params" if "estimator.params" in str(err) else "estimator.class_path"
        return field, str(err)
    return _light_estimator_problem(config) or _search_problem(config)


def _search_problem(config: "ModelConfig") -> tuple[str, str] | None:
    """Every search candidate imports and is an estimator of the task's kind (its fixed params taken)."""
    if config.search is None:
        return None
    from base.settings import EstimatorConfig
    from base.settings_search import is_distribution
    from training.pipeline import PipelineError, make_estimator

    for index, candidate in enumerate(config.search.candidates):
        fixed = {k: v for k, v in candidate.params.items() if not is_distribution(v)}
        estimator = EstimatorConfig(class_path=candidate.class_path, params=fixed)
        try:
            make_estimator(config.model_copy(update={"estimator": estimator}))
        except PipelineError as err:
            where = "params" if "estimator.params" in str(err) else "class_path"
            message = str(err).replace("estimator.", f"search.candidates[{index}].")
            return f"search.candidates[{index}].{where}", message
    return None


def _light_estimator_problem(config: "ModelConfig") -> tuple[str, str] | None:
    """A cascade's light model passes the same checks as the heavy one."""
    if config.cascade is None:
        return None
    from training.cascade import make_light_estimator
    from training.pipeline import PipelineError

    try:
        make_light_estimator(config)
    except PipelineError as err:
        field = "cascade.light.params" if "cascade.light.params" in str(err) else "cascade.light.class_path"
        return field, str(err)
    return None


def _source(config: "ModelConfig", env: str, field: str) -> str:
    """Which setting a store URL came from, so the message points at the right place."""
    return env if os.environ.get(env) else f"state.{field}"


def _tracking_problem(config: "ModelConfig") -> tuple[str, str] | None:
    uri = config.tracking_uri
    scheme = uri.split(":", 1)[0].split("+", 1)[0].lower() if "://" in uri or uri.startswith("file:") else ""
    if scheme in TRACKING_SCHEMES:
        return None
    return (
        _source(config, "RETRAIN_TRACKING_URI", "tracking_uri"),
        f"{redact_url(uri)!r} is not an MLflow tracking URI; expected one of "
        f"{', '.join(sorted(s + ':' for s in TRACKING_SCHEMES if s))} or a local path",
    )


def _ledger_problem(config: "ModelConfig") -> tuple[str, str] | None:
    """The ledger URL parses and names a database SQLAlchemy has a driver for."""
    import sqlalchemy as sa

    field = _source(config, "RETRAIN_LEDGER_URL", "ledger_url")
    try:
        sa.make_url(config.ledger_url).get_dialect()
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
        return field, (
            f"{redact_url(config.ledger_url)!r} is not a usable database URL ({redact_text(str(exc))}); expected e.g. "
            "sqlite:////abs/path/ledger.db or postgresql+psycopg://user@host:5432/db"
        )
    return None


def check_writable(folder: Path, store: str) -> None:
    """Create the folder and write a small file in it, so a full or read-only disk is found now."""
    probe = folder / f".write-check-{uuid.uuid4().hex[:8]}"
    with store_faults(store, str(folder), HOME_CHECK):
        folder.mkdir(parents=True, exist_ok=True)
        try:
            with open(probe, "wb") as handle:
                handle.write(b"\0" * 65536)
                handle.flush()
                os.fsync(handle.fileno())
        finally:
            probe.unlink(missing_ok=True)


def check_ledger_answers(url: str) -> None:
    """Connect to a server ledger with a short timeout; for SQLite, its folder takes a write."""
    import sqlalchemy as sa

    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        check_writable(Path(parsed.database or ".").expanduser().resolve().parent, "promotion ledger folder")
        return
    shown = parsed.render_as_string(hide_password=True)
    args = {"connect_timeout": LEDGER_CONNECT_TIMEOUT} if parsed.get_backend_name() == "postgresql" else {}
    engine = sa.create_engine(parsed, connect_args=args)
    try:
        with (
            store_faults(
                "promotion ledger",
                shown,
                "check that the database server runs, the URL names an existing database and the user may connect",
            ),
            engine.connect(),
        ):
            pass
    finally:
        engine.dispose()
