"""How a settings file is refused: unknown keys, bounds out of order, and the error that says where.

A config error must name the file, the field and what was expected, never dump a raw
traceback: users edit these YAML files by hand and need to know where to look.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from base.errors import Kind, RetrainError


class ConfigError(RetrainError):
    """A config that cannot be used; ``str()`` says file, field and what was expected."""

    kind = Kind.CONFIG

    def __init__(self, path: str | Path, problems: list[tuple[str, str]]):
        self.path = str(path)
        self.problems = problems
        lines = [f"{self.path}: {field}: {msg}" for field, msg in problems]
        super().__init__(
            "invalid config\n" + "\n".join(lines), file=self.path, field=problems[0][0] if problems else None
        )

    def extra(self) -> dict[str, Any]:
        return {"problems": self.problems}


def ordered(bounds: tuple[float, float], rate: bool, label: str = "") -> None:
    """Bounds are [low, high]; a rate also lies within [0, 1]."""
    low, high = bounds
    if low > high:
        raise ValueError(f"{label}expected [low, high] with low <= high")
    if rate and not (low >= 0.0 and high <= 1.0):
        raise ValueError(f"{label}expected rates within [0, 1]")


class Strict(BaseModel):
    """A settings section: an unknown key is a mistake (a typo), never ignored."""

    model_config = ConfigDict(extra="forbid")


def describe_error(err: dict) -> tuple[str, str]:
    """One pydantic error as (field, message) in the words of the config file."""
    field = ".".join(str(p) for p in err["loc"]) or "(top level)"
    msg = err["msg"].removeprefix("Value error, ")
    named = re.match(r"([a-z_]+(?:\.[a-z_]+)+) ", msg)  # a check across sections names its field first
    if not err["loc"] and named:
        field = named.group(1)
    if err["type"] == "extra_forbidden":
        msg = "unknown setting (check the spelling against examples/flights-late/flights-late.yaml)"
    elif err["type"] == "missing":
        msg = "required setting is missing"
    elif "input" in err and not isinstance(err["input"], dict):
        msg = f"{msg} (got {err['input']!r})"
    return field, msg
