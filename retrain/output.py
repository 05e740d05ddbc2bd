"""Human output with rich, or JSON for CI: every command goes through ``emit``.

Errors go through ``report_error``: one line on stderr for a person, or one JSON object on
stdout (``{"error": {kind, message, file, field}, "exit_code": N, ...}``) for CI.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import typer

from base.errors import RetrainError
from base.exitcodes import Exit, exit_for, kind_for


def console(stderr: bool = False):
    """A rich console; piped output (CI logs) gets a wide page instead of rich's 80 columns."""
    from rich.console import Console

    out = Console(stderr=stderr, highlight=False)
    if not out.is_terminal:
        out = Console(stderr=stderr, highlight=False, width=max(out.width, 140))
    return out


def scrub(data: Any) -> Any:
    """``data`` with every string passed through ``base.secrets.redact_text`` (dicts and lists deep)."""
    from base.secrets import known_secrets, redact_text

    secrets = known_secrets()

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return redact_text(value, secrets)
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return value

    return clean(data)


def emit(data: Any, as_json: bool, render: Callable[[Any], None]) -> None:
    """Print ``data`` as JSON (stdout, nothing else) or hand it to a rich renderer; never a password."""
    data = scrub(data) if isinstance(data, (dict, list)) else data
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    else:
        render(data)


def report_error(err: RetrainError, as_json: bool, **extra: Any) -> Exit:
    """Print one error the same way everywhere; returns its exit code."""
    code = exit_for(err.kind)
    if as_json:
        payload = scrub({"error": err.to_dict(), "exit_code": int(code), **err.extra(), **extra})
        sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
    else:
        from rich.markup import escape

        from base.secrets import redact_text

        console(stderr=True).print(f"[bold red]error:[/] {escape(redact_text(err.message))}", soft_wrap=True)
    return code


def fail(message: str, code: Exit, as_json: bool = False, **extra: Any) -> "typer.Exit":
    """Report an error by its exit code and return the Exit to raise (same shape as any error)."""
    report_error(RetrainError(message, kind=kind_for(code)), as_json, **extra)
    return typer.Exit(int(code))
