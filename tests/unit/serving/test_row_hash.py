"""Row ids must never change: ``hash_rows`` gives pandas' ``hash_pandas_object`` values on every dtype."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from retrain.demo.workspace import load_flights
from serving.calibration import row_ids
from serving.row_hash import hash_rows
from training.data import parse_timestamps


def pandas_hashes(frame: pd.DataFrame) -> np.ndarray:
    return pd.util.hash_pandas_object(frame.reset_index(drop=True), index=False).to_numpy()


def zoo() -> pd.DataFrame:
    """Every dtype a batch or a request can bring, with missing values in each."""
    five = ["2013-01-01", None, "2013-01-02", "2013-01-03", "2013-01-04"]
    return pd.DataFrame(
        {
            "text": ["a", None, "b", np.nan, "a"],
            "mixed": [1, "1", 1.0, None, True],  # pandas puts 1, 1.0 and True in one category
            "all_null": [None] * 5,
            "pd_na": ["a", pd.NA, "b", "c", "d"],
            "bytes": [b"a", b"b", None, b"a", b"c"],
            "int": [1, 2, 3, 4, 5],
            "float": [1.0, np.nan, -0.0, 0.0, np.inf],
            "bool": [True, False, True, True, False],
            "int32": np.arange(5, dtype="int32"),
            "float32": np.array([1.5, -0.0, 0.0, np.nan, 2], dtype="float32"),
            "uint8": np.arange(5, dtype="uint8"),
            "complex": np.array([1 + 2j, 0, 1, 2, 3]),
            "Int64": pd.array([1, None, 3, 4, 5], dtype="Int64"),
            "string": pd.array(["a", None, "c", "d", "e"], dtype="string"),
            "utc": pd.to_datetime(five, utc=True),
            "naive": pd.to_datetime(five),
            "timedelta": pd.to_timedelta([1, 2, None, 4, 5], unit="s"),
            "category": pd.Categorical(["x", "y", None, "x", "y"]),
        }
    )


@pytest.mark.parametrize("column", list(zoo().columns))
def test_each_dtype_hashes_as_pandas_does(column):
    frame = zoo()[[column]]
    assert hash_rows(frame).tolist() == pandas_hashes(frame).tolist()


def test_a_frame_of_every_dtype_and_its_slices_hash_as_pandas_does():
    frame = zoo()
    for rows in (frame, frame.iloc[:0], frame.iloc[1:2], frame.iloc[::-1], frame[frame.columns[::-1]]):
        assert hash_rows(rows).tolist() == pandas_hashes(rows).tolist()


def test_a_choice_of_columns_hashes_as_that_sub_frame():
    frame = zoo()
    chosen = ["float", "text", "utc"]
    assert hash_rows(frame, chosen).tolist() == pandas_hashes(frame[chosen]).tolist()
    twice = pd.concat([frame[["int"]], frame[["text", "int"]]], axis=1)  # a request may repeat a column name
    assert hash_rows(twice, ["int", "text"]).tolist() == pandas_hashes(twice[["int", "text"]]).tolist()


def test_real_flights_batches_and_requests_keep_their_ids():
    """A month as a batch file reads it, and rows as an HTTP request parses them (JSON round trip)."""
    from serving.invocations import read_json

    flights = load_flights()
    flights["time_hour"] = parse_timestamps(flights["time_hour"], "flights")
    month = flights[flights["time_hour"].dt.month == 7].reset_index(drop=True)
    month.loc[::7, "tailnum"] = None  # text with missing values
    for rows in (month, month.head(1), month.sample(100, random_state=3)):
        assert hash_rows(rows).tolist() == pandas_hashes(rows).tolist()
        body = json.dumps({"dataframe_split": json.loads(rows.to_json(orient="split", index=False, date_format="iso"))})
        request = read_json(body.encode())
        assert hash_rows(request).tolist() == pandas_hashes(request).tolist()
        assert row_ids(rows, None).tolist() == [f"{v:016x}" for v in pandas_hashes(rows).tolist()]


def test_a_scikit_learn_table_hashes_as_pandas_does():
    from sklearn.datasets import load_wine

    wine = load_wine(as_frame=True).frame
    wine["label"] = wine["target"].map({0: "a", 1: "b", 2: None})
    assert hash_rows(wine).tolist() == pandas_hashes(wine).tolist()
