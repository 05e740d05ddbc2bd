"""The CLI answers --help without paying for the heavy libraries, and maps errors to codes."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from base.exitcodes import Exit

HEAVY = ("prefect", "mlflow", "great_expectations", "evidently", "sklearn")


def test_help_imports_no_heavy_library():
    code = (
        "import sys\n"
        "from retrain.cli import app\n"
        "from typer.testing import CliRunner\n"
        "r = CliRunner().invoke(app, ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"heavy modules imported by --help: {out.stdout}"


def test_every_documented_command_is_there():
    from retrain.cli import app

    result = CliRunner().invoke(app, ["--help"])
    commands = (
        "demo",
        "run",
        "validate",
        "suite",
        "status",
        "rollback",
        "promote",
        "history",
        "drift",
        "serve",
        "approve",
        "reject",
        "ui",
        "server",
        "backtest",
    )
    for command in commands:
        assert command in result.output
        sub = ["suite", "init", "--help"] if command == "suite" else [command, "--help"]
        assert CliRunner().invoke(app, sub).exit_code == 0, command
    assert CliRunner().invoke(app, ["suite", "check", "--help"]).exit_code == 0


def test_config_error_exits_2_and_names_the_field(tmp_path):
    from retrain.cli import app

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntask: binary\n")
    result = CliRunner().invoke(app, ["run", str(bad), "--json"])
    assert result.exit_code == Exit.USAGE
    assert "data" in result.stdout and str(bad) in result.stdout


def test_a_reader_that_leaves_ends_the_command_quietly(tmp_path):
    """`retrain ... | head -1`: the pipe closes early; no traceback, no "bug" exit code 1."""
    from pathlib import Path

    retrain = str(Path(sys.executable).with_name("retrain"))
    (tmp_path / "quarantine" / "m").mkdir(parents=True)  # a model the home knows, with nothing held
    cases = [
        (["--help"], Exit.PIPE_CLOSED),
        (["quarantine", "list", "m", "--home", str(tmp_path)], Exit.PIPE_CLOSED),
        (["quarantine", "list", "m", "--json"], Exit.PIPE_CLOSED),
        (["quarantine", "show", "m", "nothing.csv", "--json"], Exit.USAGE),  # a real failure keeps its code
    ]
    for args, code in cases:
        child = subprocess.Popen(
            [retrain, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={"RETRAIN_HOME": str(tmp_path)}
        )
        assert child.stdout is not None and child.stderr is not None
        child.stdout.close()  # the reader is gone before the command writes a line
        stderr = child.stderr.read().decode()
        assert child.wait(timeout=120) == code, (args, stderr)
        assert "Traceback" not in stderr and "BrokenPipe" not in stderr and "ignored" not in stderr, stderr
    done = subprocess.run([retrain, "--help"], capture_output=True, check=False)
    assert done.returncode == 0  # a reader that stays sees everything
