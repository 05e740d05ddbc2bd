"""What the commands share: their common options and how they load a config or find the stores.

Every command module imports these from here, so no command module needs another one's
internals. Only Typer and our light modules are imported at module level.
"""

from __future__ import annotations

from pathlib import Path

import typer

from base.exitcodes import Exit
from base.paths import check_model_name
from retrain.output import fail, report_error


def _model_argument(value: str) -> str:
    """A bare MODEL argument must be a safe name too: it names folders and registry entries."""
    return check_model_name(value) if value is not None else value


JSON = typer.Option(False, "--json", help="Machine-readable output on stdout.")
HOME = typer.Option(None, "--home", envvar="RETRAIN_HOME", help="State folder (default ./.retrain).")
TRACKING = typer.Option(None, "--tracking-uri", envvar="RETRAIN_TRACKING_URI", help="MLflow tracking URI.")
LEDGER = typer.Option(None, "--ledger-url", envvar="RETRAIN_LEDGER_URL", help="Promotion ledger database URL.")
SERVING = typer.Option(
    None,
    "--serving-url",
    envvar="RETRAIN_SERVING_URL",
    help="Database of the review queue and labels ('home': files under the home; default: a shared ledger's).",
)
CONFIG_OPT = typer.Option(None, "--config", help="Take the state location from this model config.")
MODEL = typer.Argument(..., help="Registered model name.", callback=_model_argument)
FLEET_MODEL = typer.Argument(
    None, help="Registered model name (omit to list every model: the fleet).", callback=_model_argument
)
REPORT = typer.Option(None, "--report", help="Also write a short Markdown report here (a PR comment or job summary).")


def load_or_exit(path: Path, as_json: bool):
    """Load a config or exit 2 naming the file, the field and what was expected."""
    from base.settings import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as err:
        raise typer.Exit(int(report_error(err, as_json))) from None


def load_checked(path: Path, as_json: bool, for_run: bool = False):
    """Load a config and check what it references (suite, estimator, stores) before any work."""
    cfg = load_or_exit(path, as_json)
    from monitoring.preflight import check_references

    check_references(cfg, for_run=for_run)
    return cfg


def load_with_batch(config: Path, batch: Path, as_json: bool):
    """Load and check a config and check a batch file exists, then quiet the libraries about to load.

    A wrong path is a usage error (exit 2) found before seconds go on importing GX or
    Evidently, and their analytics and loggers are silenced before they first speak.
    """
    cfg = load_checked(config, as_json)
    if not batch.is_file():
        raise fail(f"{batch}: no such batch file", Exit.USAGE, as_json)
    from base.environment import quiet_libraries

    quiet_libraries()
    return cfg


def resolve_stores(
    home: str | None, tracking_uri: str | None, ledger_url: str | None, config: Path | None, as_json: bool
):
    """Explicit URLs win, then the model config's state, then the home's defaults."""
    from base.settings import store_urls
    from registry.ledger import Stores

    if config is not None:
        cfg = load_or_exit(config, as_json)
        return Stores(tracking_uri or cfg.tracking_uri, ledger_url or cfg.ledger_url)
    return Stores(*store_urls(home, tracking_uri, ledger_url))
