"""``retrain review export`` hands a reviewer a sheet; ``answer --file`` reads it back as labels."""

import json

import pandas as pd
from typer.testing import CliRunner

from retrain.cli import app
from serving import review_queue


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


def queue_three(home, classes):
    rows = pd.DataFrame({"id": ["a", "b", "c"], "version": "3", "prediction": "1", "confidence": [0.3, 0.1, 0.2]})
    review_queue.enqueue(home, "m", "b1", rows, pd.DataFrame({"distance": [100, 200, 300]}))
    review_queue.record_domain(home, "m", "3", classes)


def test_a_label_outside_the_models_classes_is_refused_and_nothing_is_recorded(tmp_path):
    queue_three(tmp_path, ("0", "1"))

    def answer(*args):
        return CliRunner().invoke(app, ["review", "answer", "m", *args, "--home", str(tmp_path), "--json"])

    banana = answer("a", "banana")
    assert banana.exit_code == 2, banana.output
    message = json.loads(banana.output)["error"]["message"]
    assert "row a: label 'banana' is not one of the model's classes ['0', '1']" in message
    assert "nothing recorded" in message and "Traceback" not in banana.output
    sheet = tmp_path / "answers.csv"
    pd.DataFrame({"id": ["a", "b", "c"], "label": ["1", "2", "0.0"]}).to_csv(sheet, index=False)
    mixed = answer("--file", str(sheet))
    assert mixed.exit_code == 2 and f"{sheet} line 3 (id b): label '2'" in json.loads(mixed.output)["error"]["message"]
    assert review_queue.answers(tmp_path, "m").empty  # all or nothing
    assert answer("a", "1.0").exit_code == 0  # 1.0 is the label 1
    assert review_queue.answers(tmp_path, "m")["label"].tolist() == ["1.0"]


def test_a_regressors_answer_must_be_a_number(tmp_path):
    queue_three(tmp_path, None)
    refused = CliRunner().invoke(app, ["review", "answer", "m", "a", "tall", "--home", str(tmp_path), "--json"])
    assert refused.exit_code == 2 and "is not a number" in refused.output
    taken = CliRunner().invoke(app, ["review", "answer", "m", "a", "12.5", "--home", str(tmp_path), "--json"])
    assert taken.exit_code == 0, taken.output
