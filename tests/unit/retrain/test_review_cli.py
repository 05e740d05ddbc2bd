"""``retrain review export`` hands a reviewer a sheet; ``answer --file`` reads it back as labels."""

import json

import pandas as pd
from typer.testing import CliRunner

from registry import review_queue
from retrain.cli import app


def test_an_exported_sheet_with_labels_filled_in_becomes_answers(tmp_path, monkeypatch):
    monkeypatch.setenv("RETRAIN_ACTOR", "ann@desk")
    rows = pd.DataFrame({"id": ["a", "b", "c"], "version": "3", "prediction": "1", "confidence": [0.3, 0.1, 0.2]})
    review_queue.enqueue(tmp_path, "m", "b1", rows, pd.DataFrame({"distance": [100, 200, 300]}))
    sheet = tmp_path / "todo.csv"

    done = CliRunner().invoke(app, ["review", "export", "m", "--out", str(sheet), "--home", str(tmp_path), "--json"])
    assert done.exit_code == 0, done.output
    todo = pd.read_csv(sheet, dtype=str)
    assert todo.columns.tolist() == ["id", "prediction", "confidence", "distance", "label"]
    assert todo["id"].tolist() == ["b", "c", "a"]  # least confident first

    todo.loc[todo["id"] == "c", "label"] = "0"
    todo.to_csv(sheet, index=False)
    answered = CliRunner().invoke(
        app, ["review", "answer", "m", "--file", str(sheet), "--home", str(tmp_path), "--json"]
    )
    assert answered.exit_code == 0, answered.output
    assert [(a["id"], a["label"], a["reviewer"]) for a in json.loads(answered.output)["answers"]] == [
        ("c", "0", "ann@desk")
    ]
    pending = json.loads(CliRunner().invoke(app, ["review", "list", "m", "--home", str(tmp_path), "--json"]).output)
    assert [p["id"] for p in pending] == ["b", "a"]
    unknown = CliRunner().invoke(app, ["review", "answer", "m", "zz", "1", "--home", str(tmp_path), "--json"])
    assert unknown.exit_code == 2 and "not in the review queue" in unknown.output
