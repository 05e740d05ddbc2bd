"""The README's exit-code table is the one in ``base/exitcodes.py``; every error kind has a code."""

from __future__ import annotations

import re
from pathlib import Path

from base.errors import Kind
from base.exitcodes import EXIT_BY_KIND, MEANING, Exit, markdown_table

REPO = Path(__file__).resolve().parents[3]


def readme_rows() -> dict[int, str]:
    text = (REPO / "README.md").read_text()
    return {int(code): meaning for code, meaning in re.findall(r"^\| (\d+) \| (.+) \|$", text, re.M)}


def test_readme_table_matches_the_code():
    assert readme_rows() == {int(code): MEANING[code] for code in Exit}
    assert markdown_table() in (REPO / "README.md").read_text()


def test_every_kind_has_a_code_and_every_code_a_meaning():
    assert set(EXIT_BY_KIND) == set(Kind)
    assert set(MEANING) == set(Exit)


def test_store_faults_have_their_own_code():
    assert EXIT_BY_KIND[Kind.STORE_UNAVAILABLE] == 13 and Exit.BUSY == 11 and Exit.WITHHELD == 12
