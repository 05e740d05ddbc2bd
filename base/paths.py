"""Model names and the paths made from them: the one way a name becomes a folder.

A model name is an MLflow registered-model name and a folder name under the home, so it
may hold only characters safe in both, and can never be "." or "..". ``home_path`` is the
only function that joins a name to the home; it refuses any result outside the home, so a
hostile or mistyped name cannot move files elsewhere.
"""

from __future__ import annotations

import re
from pathlib import Path

from base.errors import UsageError

# A model name is an MLflow registered-model name and a folder name under the home, so it
# may hold only characters that are safe in both, and cannot be "." or "..".
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
NAME_RULE = "1-100 letters, digits, '.', '_' or '-', starting with a letter or digit"


def check_model_name(name: str) -> str:
    """Refuse a model name that is unsafe as a registry name or a path segment."""
    if not re.fullmatch(NAME_PATTERN, name):
        raise UsageError(f"model name {name!r} is not allowed: expected {NAME_RULE}", field="name")
    return name


def home_path(home: Path, *parts: str) -> Path:
    """A path under the home; the one place names become paths, so none can leave the home."""
    root = Path(home).resolve()
    path = root.joinpath(*parts).resolve()
    if not path.is_relative_to(root) or (parts and path == root):
        raise UsageError(f"{'/'.join(parts)!r} would leave the home folder {root}", file=str(root))
    return path
