"""registry.versions helpers: the code version tag and MLflow-safe params."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from registry import packaging
from registry.packaging import code_version
from registry.tag_values import KEY_LIMIT, PARAM_LIMIT, clean_key, flatten

COMMIT = re.compile(r"^[0-9a-f]{40}(-dirty)?$")


def _git(repo, *args):
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def outside_git(tmp_path, monkeypatch):
    """Stop git from finding a repository above the temporary folder."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    return tmp_path


def _head() -> str:
    project = Path(packaging.__file__).resolve().parents[1]
    done = subprocess.run(["git", "-C", str(project), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_code_version_of_this_checkout_is_a_commit():
    before = _head()
    found = code_version()
    after = _head()  # the checkout may be committed to meanwhile

    assert COMMIT.match(found)
    assert found.removesuffix("-dirty") in {before, after}


def test_code_version_marks_uncommitted_changes(outside_git):
    repo = outside_git / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "train.py").write_text("print(1)\n")
    _git(repo, "add", "train.py")
    _git(repo, "commit", "-q", "-m", "first")

    clean = code_version(repo)
    (repo / "train.py").write_text("print(2)\n")

    assert COMMIT.match(clean) and not clean.endswith("-dirty")
    assert code_version(repo) == f"{clean}-dirty"


def test_code_version_outside_git_is_unknown(outside_git):
    assert code_version(outside_git) == "unknown"
    assert code_version(outside_git / "missing") == "unknown"


def test_flatten_joins_nested_keys_and_keeps_values_as_text():
    nested = {"estimator": {"max_iter": 100, "loss": "log_loss", "class_weight": None}, "grid": [1, 2], "empty": {}}

    flat = flatten(nested)

    assert flat == {
        "estimator.max_iter": "100",
        "estimator.loss": "log_loss",
        "estimator.class_weight": "null",
        "grid": "[1, 2]",
        "empty": "{}",
    }


def test_flatten_and_clean_key_respect_mlflow_limits():
    flat = flatten({"long": "v" * (PARAM_LIMIT * 2)})

    assert len(flat["long"]) == PARAM_LIMIT
    assert clean_key("weights[0] (a|b)") == "weights_0_ _a_b_"
    assert len(clean_key("k" * (KEY_LIMIT * 2))) == KEY_LIMIT
