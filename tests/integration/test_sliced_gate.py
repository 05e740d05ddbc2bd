"""The sliced gate through the real flow: a candidate better overall but much worse for one
region is rejected with that region named, in the outcome, the MLflow version and the dry-run
report; the same candidate passes without ``gate.slices``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from base.outcome import EXIT_BY_STATUS
from base.settings import load_config
from base.vocabulary import RunStatus

pytestmark = pytest.mark.integration


def region_month(month: int, rows: int = 1500, corrupt_north: bool = False) -> pd.DataFrame:
    """From April on the label depends on x2 too; April's delivery has the north's labels flipped."""
    rng = np.random.default_rng(900 + month)
    start = pd.Timestamp(f"2024-{month:02d}-01", tz="UTC")
    ts = start + pd.to_timedelta(rng.integers(0, 27 * 24, rows), unit="h")
    region = rng.choice(["north", "south", "east", "west"], rows, p=[0.15, 0.3, 0.3, 0.25])
    x1, x2 = rng.normal(0, 1, rows), rng.normal(0, 1, rows)
    logit = 1.5 * x1 + (2.0 * x2 if month >= 4 else 0.0)
    y = (rng.uniform(size=rows) < 1 / (1 + np.exp(-logit))).astype(int)
    if corrupt_north:
        y = np.where(region == "north", 1 - y, y)
    return pd.DataFrame(
        {"ts": ts.strftime("%Y-%m-%dT%H:%M:%SZ"), "x1": x1.round(4), "x2": x2.round(4), "region": region, "label": y}
    )


@pytest.fixture
def regions(tmp_path, monkeypatch, migrated_mlflow_db, mlflow_globals, synth):
    """A champion of the old concept (trained on February), then April (corrupted north) and May arrive."""
    import shutil

    from monitoring.validation import propose_suite, write_suite

    for var in ("RETRAIN_HOME", "RETRAIN_TRACKING_URI", "RETRAIN_LEDGER_URL"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "home").mkdir()
    shutil.copy(migrated_mlflow_db, tmp_path / "home" / "mlflow.db")
    (tmp_path / "batches").mkdir()
    for month in (1, 2, 3):
        region_month(month).to_csv(tmp_path / "batches" / f"m{month:02d}.csv", index=False)
    estimator = {
        "class_path": "sklearn.ensemble.HistGradientBoostingClassifier",
        "params": {"max_iter": 100, "random_state": 0},
    }
    config_path = synth.write_config(tmp_path, estimator=estimator, window={"train_days": 31})
    reference = pd.concat([region_month(m) for m in (1, 2, 3)], ignore_index=True)
    write_suite(propose_suite(reference, load_config(config_path)), load_config(config_path).suite_path)
    assert synth.run_flow(config_path)["status"] == "promoted"
    region_month(4, corrupt_north=True).to_csv(tmp_path / "batches" / "m04.csv", index=False)
    region_month(5).to_csv(tmp_path / "batches" / "m05.csv", index=False)
    return config_path, estimator


def test_a_candidate_worse_for_one_region_is_rejected_with_the_region_named(regions, synth, tmp_path):
    from retrain.cli import app

    config_path, estimator = regions
    plain = CliRunner().invoke(
        app, ["run", str(config_path), "--dry-run", "--json", "--report", str(tmp_path / "plain.md")]
    )
    assert plain.exit_code == 0, plain.stdout  # better on average: the plain gate would promote it
    sliced_path = synth.write_config(
        tmp_path, estimator=estimator, window={"train_days": 31}, gate={"slices": ["region"], "min_slice_rows": 150}
    )
    dry = CliRunner().invoke(
        app, ["run", str(sliced_path), "--dry-run", "--json", "--report", str(tmp_path / "sliced.md")]
    )
    assert dry.exit_code == int(EXIT_BY_STATUS[RunStatus.REJECTED]) == 4, dry.stdout
    report = (tmp_path / "sliced.md").read_text()
    assert "### Slices" in report and "| region=north |" in report and "❌ worse" in report

    outcome = synth.run_flow(sliced_path)

    assert outcome["status"] == "rejected", outcome
    reasons = outcome["decision"]["reasons"]
    assert reasons[-1].startswith("fail: slices: region=north: candidate significantly worse"), reasons
    assert [r for r in reasons if r.startswith("fail")] == [reasons[-1]]  # only the slice held it back
    slices = {s["value"]: s for s in outcome["decision"]["slices"]}
    assert slices["north"]["verdict"] == "worse" and {slices[r]["verdict"] for r in ("south", "east", "west")} == {"ok"}
    config = load_config(sliced_path)
    client = MlflowClient(tracking_uri=config.tracking_uri, registry_uri=config.tracking_uri)
    tags = client.get_model_version(config.name, outcome["version"]).tags
    assert tags["gate.failing_slice"] == "region=north"
    assert {s["value"]: s["verdict"] for s in json.loads(tags["gate.slices"])}["north"] == "worse"
    assert str(client.get_registered_model(config.name).aliases["champion"]) == "1"
