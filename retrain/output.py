"""Human output with rich, or JSON for CI: every command goes through ``emit``."""

from __future__ import annotations

import json
import sys
from typing import Any, Callable

import typer

from retrain.exitcodes import Exit


def console(stderr: bool = False):
    """A rich console; piped output (CI logs) gets a wide page instead of rich's 80 columns."""
    from rich.console import Console

    out = Console(stderr=stderr, highlight=False)
    if not out.is_terminal:
        out = Console(stderr=stderr, highlight=False, width=max(out.width, 140))
    return out


def emit(data: Any, as_json: bool, render: Callable[[Any], None]) -> None:
    """Print ``data`` as JSON (stdout, nothing else) or hand it to a rich renderer."""
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    else:
        render(data)


def fail(message: str, code: Exit, as_json: bool = False, **extra: Any) -> "typer.Exit":
    """Report an error the same way everywhere and return the Exit to raise."""
    if as_json:
        payload = {"error": message, "exit_code": int(code), **extra}
        sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
    else:
        console(stderr=True).print(f"[bold red]error:[/] {message}")
    return typer.Exit(int(code))
