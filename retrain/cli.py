"""The ``retrain`` command line: one Typer app, subcommands, heavy imports inside commands.

``retrain --help`` and ``retrain rollback`` must answer fast, so this module imports only
Typer and our light modules; Prefect, MLflow, GX, Evidently and scikit-learn are imported
by the command that needs them.

Exit codes (see ``retrain.exitcodes.Exit``): 0 ok/promoted, 1 unexpected error, 2 config or
usage error, 3 data invalid, 4 rejected by the gate, 5 unknown model, 6 nothing to roll back,
7 target version missing or not loadable, 8 --expect-current mismatch, 9 drift detected,
10 waiting for approval.
"""

from __future__ import annotations

import typer

from retrain.commands import core, monitoring_ops, registry_ops, server_ops

app = typer.Typer(
    name="retrain",
    help="Keep tabular models healthy: validate, retrain, gate, promote, roll back.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
suite_app = typer.Typer(help="Great Expectations suites for a model's batches.", no_args_is_help=True)
app.add_typer(suite_app, name="suite")


core.register(app, suite_app)
registry_ops.register(app)
monitoring_ops.register(app)
server_ops.register(app)


def main() -> None:
    """Console-script entry point; SIGTERM and Ctrl-C stop any command cleanly (exit 143/130)."""
    from retrain.stopping import install_stop_handlers

    install_stop_handlers()
    app()


if __name__ == "__main__":
    main()
