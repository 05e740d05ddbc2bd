"""The ``retrain`` command line: one Typer app, subcommands, heavy imports inside commands.

``retrain --help`` and ``retrain rollback`` must answer fast, so this module imports only
Typer and our light modules; Prefect, MLflow, GX, Evidently and scikit-learn are imported
by the command that needs them.

Errors are caught once, in ``RetrainGroup.invoke``: a ``RetrainError`` is reported by its
kind and exits with the code ``base.exitcodes`` assigns to that kind (the table of
codes lives there and in the README, generated from it). Expected failures print one line,
never a traceback; ``--debug`` or ``RETRAIN_DEBUG=1`` adds one.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any

import typer
from typer.core import TyperGroup

from base.errors import Kind, RetrainError, StoreUnavailable, store_problem
from retrain.commands import (
    backtest,
    core,
    endpoint_ops,
    monitoring_ops,
    notify_ops,
    quarantine_ops,
    registry_ops,
    server_ops,
    serving_ops,
    team_ops,
)
from retrain.output import report_error

DEBUG_ENV = "RETRAIN_DEBUG"


class RetrainGroup(TyperGroup):
    """The top-level group: runs a command and answers every failure the same way."""

    def invoke(self, ctx: Any) -> Any:  # Typer types its vendored click Context apart from click's
        rest = [*getattr(ctx, "_protected_args", []), *ctx.args]
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):  # help, usage errors, explicit exits
            raise
        except BrokenPipeError:  # `retrain history m | head -1`: the reader left, which is no error
            raise typer.Exit(int(quiet_broken_pipe())) from None
        except KeyboardInterrupt:
            err = RetrainError("interrupted; nothing more was started", kind=Kind.INTERRUPTED)
            raise typer.Exit(int(report_error(err, "--json" in rest))) from None
        except Exception as exc:
            debug = bool(ctx.params.get("debug")) or os.environ.get(DEBUG_ENV, "") not in ("", "0")
            raise typer.Exit(answer(exc, "--json" in rest, debug)) from None


def quiet_broken_pipe() -> int:
    """Point stdout at /dev/null so the interpreter's last flush does not fail again, loudly."""
    from base.exitcodes import Exit

    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
    except OSError:  # stdout already closed: nothing left to flush
        pass
    return Exit.PIPE_CLOSED


def answer(exc: Exception, as_json: bool, debug: bool) -> int:
    """Report ``exc`` and return the exit code; only a bug (or ``debug``) shows a traceback."""
    err = exc if isinstance(exc, RetrainError) else as_store_fault(exc)
    if err is None:
        err = RetrainError(
            f"unexpected {type(exc).__name__}: {exc} (a bug: please report it with the traceback printed on stderr)",
            kind=Kind.UNEXPECTED,
        )
        debug = True
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    return int(report_error(err, as_json))


def as_store_fault(exc: Exception) -> StoreUnavailable | None:
    """A store fault no boundary translated (a write deep inside a library) still gets exit 13."""
    problem = store_problem(exc)
    if problem is None:
        return None
    where = getattr(exc, "filename", None) or "the home folder or a database"
    return StoreUnavailable(
        "a store",
        str(where),
        problem,
        "check free space, permissions and that the database answers; nothing was changed",
    )


app = typer.Typer(
    name="retrain",
    cls=RetrainGroup,
    help="Keep tabular models healthy: validate, retrain, gate, promote, roll back.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
suite_app = typer.Typer(help="Great Expectations suites for a model's batches.", no_args_is_help=True)
app.add_typer(suite_app, name="suite")


@app.callback()
def options(
    debug: bool = typer.Option(False, "--debug", help=f"Show tracebacks of failures too (or {DEBUG_ENV}=1)."),
) -> None:
    """Keep tabular models healthy: validate, retrain, gate, promote, roll back.

    Exit codes: see the README's table (generated from base/exitcodes.py).
    """


core.register(app, suite_app)
registry_ops.register(app)
monitoring_ops.register(app)
backtest.register(app)
server_ops.register(app)
serving_ops.register(app)
endpoint_ops.register(app)
team_ops.register(app)
quarantine_ops.register(app)
notify_ops.register(app)


def main() -> None:
    """Console-script entry point; SIGTERM and Ctrl-C stop any command cleanly (exit 143/130)."""
    from retrain.stopping import install_stop_handlers

    install_stop_handlers()
    quiet_before = writes_to_devnull()
    try:
        app()
    except SystemExit as exc:
        # Click and rich answer a closed pipe (`| head`) with exit 1, the code of a bug here; the
        # reader that left is no error. Any other code (a real failure) is kept, and the
        # interpreter's last flush into the closed pipe is silenced either way.
        if quiet_before or not (writes_to_devnull() or pipe_closed()):
            raise
        code = quiet_broken_pipe()
        sys.exit(int(code) if exc.code in (0, 1, None) else exc.code)


def pipe_closed() -> bool:
    """Whether stdout's reader went away (Click wraps stdout then; a flush fails otherwise)."""
    if type(sys.stdout).__name__ == "PacifyFlushWrapper":  # Click's wrapper after a closed pipe
        return True
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        return True
    except (OSError, ValueError):
        return False
    return False


def writes_to_devnull() -> bool:
    """Whether stdout (fd 1) is /dev/null: what Click and rich leave behind after a closed pipe."""
    import stat

    try:
        out, null = os.fstat(1), os.stat(os.devnull)
    except OSError:
        return False
    return stat.S_ISCHR(out.st_mode) and out.st_rdev == null.st_rdev


if __name__ == "__main__":
    main()
