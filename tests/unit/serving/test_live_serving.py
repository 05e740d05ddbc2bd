"""HTTP bodies to rows and back, the background writer, and the shadow comparison on live labels."""

import json

import numpy as np
import pandas as pd
import pytest

from base.settings import ModelConfig
from serving.invocations import (
    BodyTooLarge,
    RequestRefused,
    UnknownColumns,
    answer_bytes,
    parse_invocation,
    refuse_unknown,
)

ROWS = pd.DataFrame(
    {"ts": ["2024-04-01T06:00:00Z", "2024-04-02T07:30:00Z"], "x1": [0.5, None], "colour": ["red", "blue"]}
)


def config(tmp_path=None, **serving) -> ModelConfig:
    home = {"state": {"home": str(tmp_path)}} if tmp_path is not None else {}
    return ModelConfig.model_validate(
        {
            "name": "m",
            "task": "binary",
            "data": {"path": "b/*.csv", "timestamp_column": "ts", "target_column": "late"},
            "validation": {"suite": "s.json"},
            "gate": {"bootstrap": {"resamples": 200, "seed": 0}},
            "serving": serving,
            **home,
        }
    )


def test_the_three_mlflow_formats_give_the_same_rows_with_time_in_utc():
    split = json.dumps({"dataframe_split": json.loads(ROWS.to_json(orient="split", index=False))}).encode()
    records = json.dumps({"dataframe_records": json.loads(ROWS.to_json(orient="records"))}).encode()
    frames = [
        parse_invocation(split, "application/json", config()),
        parse_invocation(records, "application/json; charset=utf-8", config()),
        parse_invocation(ROWS.to_csv(index=False).encode(), "text/csv", config()),
    ]
    for frame in frames:
        assert list(frame.columns) == ["ts", "x1", "colour"] and len(frame) == 2
        assert str(frame["ts"].dt.tz) == "UTC" and frame["ts"].iloc[1].hour == 7
        assert np.isnan(frame["x1"].iloc[1])


def test_bodies_the_fast_parser_refuses_are_read_as_the_standard_parser_reads_them():
    """NaN literals (Python's json.dumps writes them), integers beyond 64 bits and UTF-16 still parse."""
    rows = [{"ts": "2024-04-01T06:00:00Z", "x1": float("nan"), "colour": "red"}]
    nan = parse_invocation(json.dumps({"dataframe_records": rows}).encode(), "application/json", config())
    assert np.isnan(nan["x1"].iloc[0]) and nan["colour"].iloc[0] == "red"
    big = parse_invocation(b'{"dataframe_split": {"columns": ["x1"], "data": [[18446744073709551616]]}}', "", config())
    assert int(big["x1"].iloc[0]) == 2**64
    utf16 = json.dumps({"dataframe_records": [{"colour": "rouge \u00e9"}]}).encode("utf-16")
    assert parse_invocation(utf16, "application/json", config())["colour"].iloc[0] == "rouge \u00e9"


@pytest.mark.parametrize(
    "body, words",
    [
        (b"{oops", "malformed JSON at line 1 column 2"),
        (b"  \n", "empty request body"),
        (b'{"inputs": [[1]]}', "expected exactly one of dataframe_split, dataframe_records (got 'inputs')"),
        (b'{"dataframe_split": {"columns": ["a"], "data": [], "x": 1}, "dataframe_records": []}', "exactly one"),
        (b'{"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2], [3]]}}', "must be a list of 2 values"),
        (b'{"dataframe_records": [1, 2]}', "a list of objects"),
        (b'{"dataframe_records": []}', "holds no rows"),
        (b'{"dataframe_records": [{"ts": "yesterday-ish"}]}', "request"),
    ],
)
def test_a_body_that_is_not_a_table_is_refused_naming_the_problem(body, words):
    with pytest.raises(RequestRefused) as caught:
        parse_invocation(body, "application/json", config())
    assert words in str(caught.value)


def test_a_body_over_the_limit_is_refused_before_it_is_read():
    small = config(endpoint={"max_body_bytes": 1000})
    with pytest.raises(BodyTooLarge, match="over the limit of 1000"):
        parse_invocation(b'{"dataframe_records": [' + b'{"a": 1},' * 200 + b'{"a": 1}]}', "application/json", small)


def test_unknown_columns_are_named_and_missing_values_answer_null():
    with pytest.raises(UnknownColumns, match="unknown column\\(s\\) 'x9'"):
        refuse_unknown(ROWS.assign(x9=1), {"ts", "x1", "colour"})
    refuse_unknown(ROWS, {"ts", "x1", "colour", "late"})
    missing = answer_bytes(pd.DataFrame({"id": ["a"], "score": [np.nan]}))
    assert json.loads(missing) == {"predictions": [{"id": "a", "score": None}]}
    text = pd.DataFrame({"id": ["é\u2028"], "score": [0.25]})
    assert json.loads(answer_bytes(text)) == {"predictions": [{"id": "é\u2028", "score": 0.25}]}


def shadow_log(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Labelled logged rows: the challenger's scores track the truth, the champion's are noise."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, n)
    good = np.clip(truth * 0.6 + rng.uniform(0, 0.4, n), 0, 1)
    noise = rng.uniform(0, 1, n)
    return pd.DataFrame(
        {
            "id": [str(i) for i in range(n)],
            "prediction": np.where(noise >= 0.5, "1", "0"),
            "score": noise,
            "version": "1",
            "route": "auto",
            "positive_label": "1",
            "batch": np.repeat(["b1", "b2"], n // 2),
            "scored_at": pd.Timestamp("2024-05-01", tz="UTC"),
            "day": "2024-05-01",
            "shadow_version": "2",
            "shadow_prediction": np.where(good >= 0.5, "1", "0"),
            "shadow_score": good,
            "shadow_confidence": np.abs(2 * good - 1),
            "truth": truth,
        }
    )


def test_feedback_compares_the_shadowed_challenger_with_the_champion_on_the_same_rows():
    from serving.shadow import compare_shadow

    found = compare_shadow(config(), shadow_log())
    assert found is not None and (found.champion_version, found.challenger_version) == ("1", "2")
    assert found.labelled_rows == 400 and found.batches == 2
    assert found.challenger_metric > 0.9 and abs(found.champion_metric - 0.5) < 0.1
    assert found.bootstrap.low > 0 and found.verdict == "challenger significantly better"
    reverse = shadow_log().rename(columns={"score": "shadow_score", "shadow_score": "score"})
    assert compare_shadow(config(), reverse).verdict == "challenger significantly worse"
    assert compare_shadow(config(), shadow_log().drop(columns=[c for c in shadow_log() if "shadow" in c])) is None


def test_the_writer_logs_every_submitted_answer_and_queues_the_review_rows(tmp_path):
    from serving.calibration import Calibration
    from serving.live import LiveAnswer
    from serving.log_writer import LogWriter
    from serving.prediction_log import read_log
    from serving.review_queue import list_queue
    from serving.scoring import ScoreResult

    cfg = config(tmp_path, endpoint={"log_flush_seconds": 0.05})
    writer = LogWriter(cfg).start()
    for k in range(3):
        rows = pd.DataFrame(
            {"id": [f"{k}a", f"{k}b"], "prediction": ["1", "0"], "score": [0.9, 0.55], "confidence": [0.8, 0.1]}
        ).assign(version="1", route=["auto", "review"])
        result = ScoreResult("m", "request", "x", "1", Calibration("fixed", 0.2), rows, "2024-05-01T00:00:00+00:00")
        writer.submit(LiveAnswer(result, pd.DataFrame({"x1": [float(k), -1.0]})))
    writer.close()
    log = read_log(cfg.serving.log_root(cfg.home), "m")
    assert sorted(log["id"]) == ["0a", "0b", "1a", "1b", "2a", "2b"]
    assert writer.counts.rows_logged == writer.counts.rows_answered == 6
    queue = list_queue(cfg.home, "m")
    assert sorted(queue["id"]) == ["0b", "1b", "2b"]
    assert {json.loads(f)["x1"] for f in queue["features"]} == {-1.0}  # each request's second row


def test_live_labels_promote_a_challenger_only_when_it_is_significantly_better():
    from serving.shadow import compare_shadow
    from serving.shadow_verdict import ShadowAction, decide_after_shadow

    better = compare_shadow(config(), shadow_log())
    worse = compare_shadow(config(), shadow_log().rename(columns={"score": "shadow_score", "shadow_score": "score"}))
    assert decide_after_shadow(better, "2", batches=2).action is ShadowAction.PROMOTE
    assert decide_after_shadow(worse, "2", batches=2).action is ShadowAction.DISCARD
    waiting = decide_after_shadow(better, "2", batches=3)
    assert waiting.action is ShadowAction.WAIT and "2 of 3 batch(es)" in waiting.reason
    assert decide_after_shadow(better, "5", batches=1).action is ShadowAction.WAIT  # not the one shadowed
    assert decide_after_shadow(None, None, batches=1).action is ShadowAction.WAIT


def test_a_shadow_gate_without_shadow_scoring_is_a_config_error():
    raw = {**config().model_dump(mode="json"), "gate": {"promote_after_shadow": {"batches": 2}}}
    with pytest.raises(ValueError, match=r"gate\.promote_after_shadow needs serving\.shadow: true"):
        ModelConfig.model_validate(raw)


def test_rows_behind_a_broken_null_share_go_to_review_naming_their_empty_columns():
    from serving.calibration import Calibration, scored_frame
    from serving.scoring import null_share_rows
    from training.metrics import Outputs

    frame = pd.DataFrame({"a": [None, 1.0, np.nan, 2.0], "b": ["x", "y", None, "z"], "c": [1, 2, 3, 4]})
    nulls = null_share_rows(frame, ["a", "b"])
    assert nulls is not None and nulls.note.startswith("2 row(s) with nulls in a, b sent to review")
    outputs = Outputs(values=np.array([0.9, 0.95, 0.1, 0.5]), labels=np.array([0, 1]))  # the last one unsure
    ids = pd.Series(["r0", "r1", "r2", "r3"])
    routed = scored_frame("binary", ids, outputs, Calibration("fixed", 0.2), "1", nulls.flagged, nulls.reasons)
    assert routed["route"].tolist() == ["review", "auto", "review", "review"]
    assert routed["review_reason"].str.replace(": the batch's null share breaks the suite", "").tolist() == [
        "null in a",
        "",
        "null in a, b",
        "",
    ]
    plain = scored_frame("binary", ids, outputs, Calibration("fixed", 0.2), "1")
    assert plain["route"].tolist() == ["auto", "auto", "auto", "review"] and "review_reason" not in plain
    assert routed.drop(columns=["review_reason", "route"]).equals(plain.drop(columns=["route"]))
    assert null_share_rows(frame, []) is None


def test_the_challenger_scores_the_answers_of_one_flush_in_one_call_with_each_rows_own_answer(tmp_path):
    from types import SimpleNamespace

    from sklearn.linear_model import LogisticRegression

    from serving.calibration import Calibration
    from serving.live import LiveAnswer, logged_rows
    from serving.scoring import ScoreResult
    from serving.served_model import LoadedModel
    from serving.shadow import shadow_rows

    class Counted(LogisticRegression):
        calls = 0

        def predict_proba(self, X):
            Counted.calls += 1
            return super().predict_proba(X)

    X = pd.DataFrame({"x1": np.linspace(-2, 2, 40)})
    model = Counted().fit(X, (X["x1"] + np.sin(7 * X["x1"]) > 0).astype(int))
    challenger = LoadedModel(SimpleNamespace(version="2"), model, Calibration("fixed", 0.2))  # type: ignore[arg-type]
    frames = [pd.DataFrame({"x1": [0.1 * k, -0.3 * k, 1.5]}) for k in range(4)]
    frames.append(pd.DataFrame({"x1": [1, -1]}))  # int64, not float64: scored apart, as it came
    answers = []
    for k, frame in enumerate(frames):
        ids = [f"{k}-{i}" for i in range(len(frame))]
        rows = pd.DataFrame({"id": ids, "prediction": "1", "score": 0.9, "confidence": 0.8, "version": "1"})
        result = ScoreResult("m", "request", "x", "1", Calibration("fixed", 0.2), rows.assign(route="auto"), "t")
        answers.append(LiveAnswer(result, frame, challenger))
    cfg = config(tmp_path)

    one_by_one = pd.concat([shadow_rows(cfg, challenger, a.frame, a.result.rows) for a in answers], ignore_index=True)
    Counted.calls = 0
    together = logged_rows(cfg, answers)

    assert Counted.calls == 2  # the four float requests at once, the int one apart
    pd.testing.assert_frame_equal(together, one_by_one)
    assert together["id"].tolist() == [i for a in answers for i in a.result.rows["id"]]  # in the order answered
    assert together["shadow_version"].eq("2").all() and together["shadow_score"].nunique() > 3
    without = [LiveAnswer(a.result, a.frame) for a in answers]
    assert "shadow_version" not in logged_rows(cfg, without)


def test_an_answer_the_challenger_cannot_score_leaves_the_others_of_its_flush_their_shadow_answers(tmp_path):
    from types import SimpleNamespace

    from sklearn.linear_model import LogisticRegression

    from serving.calibration import Calibration
    from serving.live import LiveAnswer, logged_rows
    from serving.scoring import ScoreResult
    from serving.served_model import LoadedModel

    X = pd.DataFrame({"x1": np.linspace(-2, 2, 40)})
    model = LogisticRegression().fit(X, (X["x1"] > 0).astype(int))
    challenger = LoadedModel(SimpleNamespace(version="2"), model, Calibration("fixed", 0.2))  # type: ignore[arg-type]
    answers = []
    for k, values in enumerate([[0.5, -0.5], [np.inf, 1.0], [1.5, 0.0]]):  # scikit-learn refuses an infinity
        rows = pd.DataFrame({"id": [f"{k}a", f"{k}b"], "prediction": "1", "score": 0.9, "version": "1"})
        result = ScoreResult("m", "request", "x", "1", Calibration("fixed", 0.2), rows.assign(route="auto"), "t")
        answers.append(LiveAnswer(result, pd.DataFrame({"x1": values}), challenger))

    logged = logged_rows(config(tmp_path), answers)

    assert logged["id"].tolist() == ["0a", "0b", "1a", "1b", "2a", "2b"]
    assert logged["shadow_score"].isna().tolist() == [False, False, True, True, False, False]
    assert set(logged["shadow_version"].dropna()) == {"2"}


def test_the_review_rows_features_of_a_flush_come_in_order_whatever_columns_each_request_sent():
    from serving.calibration import Calibration
    from serving.live import LiveAnswer, review_features
    from serving.scoring import ScoreResult

    def answer(frame: pd.DataFrame, routes: list[str]) -> LiveAnswer:
        rows = pd.DataFrame({"id": [f"r{i}" for i in range(len(frame))], "route": routes})
        return LiveAnswer(ScoreResult("m", "request", "x", "1", Calibration("fixed", 0.2), rows, "t"), frame)

    same = [answer(pd.DataFrame({"x1": [1.0, 2.0], "late": [0, 1]}), ["review", "auto"]) for _ in range(2)]
    same.append(answer(pd.DataFrame({"x1": [3.0, 4.0], "late": [0, 1]}), ["auto", "review"]))
    assert review_features(config(), same).to_dict("list") == {"x1": [1.0, 1.0, 4.0]}  # the target is never shown
    mixed = [*same, answer(pd.DataFrame({"x1": [5.0], "colour": ["red"]}), ["review"])]
    shown = review_features(config(), mixed)
    assert shown["x1"].tolist() == [1.0, 1.0, 4.0, 5.0] and shown["colour"].isna().tolist() == [True] * 3 + [False]
