"""Every command docs/production.md tells a user to type is run by the team service test.

The test does not run the commands itself (the integration module does, against real
servers); it checks that each command's subcommand, options and exported variables appear
among that module's invocations, so the page cannot drift from what is tested.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
DOC = REPO / "docs" / "production.md"
TEST = REPO / "tests" / "integration" / "team" / "test_team_service.py"


def doc_commands() -> list[list[str]]:
    blocks = re.findall(r"```bash\n(.*?)```", DOC.read_text(), flags=re.S)
    return [shlex.split(line) for block in blocks for line in block.splitlines() if line.strip()]


def needed_words(words: list[str]) -> list[str]:
    """The parts of a command the test must use: subcommand words, options, exported names."""
    program, *rest = words
    if program == "export":
        return [rest[0].split("=", 1)[0]]
    depth = {"retrain": 2 if rest[0] == "server" else 1, "prefect": 2}[program]
    return [f'"{w}"' for w in rest[:depth]] + [f'"{w}"' for w in rest if w.startswith("--")]


def test_every_documented_command_is_exercised():
    commands = doc_commands()
    assert len(commands) >= 12 and {c[0] for c in commands} == {"export", "retrain", "prefect"}
    source = TEST.read_text()
    missing = [(" ".join(c), w) for c in commands for w in needed_words(c) if w not in source]
    assert not missing, f"documented but not exercised by {TEST.name}: {missing}"
