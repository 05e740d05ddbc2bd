"""Reading batches: every way a file can be unusable must become a DataError naming it."""

from __future__ import annotations

import pandas as pd
import pytest

from training.data import DataError, find_batches, frame_hash, load_batch, load_frames, select_features

GOOD_CSV = "ts,x,city,y\n2026-01-01T00:00:00Z,1.5,ams,0\n2026-01-02T06:30:00Z,2.5,ber,1\n2026-01-03 12:00:00,,ams,1\n"


def write(path, text: str | bytes):
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def test_data_error_names_file_and_reason(tmp_path):
    err = DataError(tmp_path / "a.csv", "broken")
    assert err.path == str(tmp_path / "a.csv")
    assert err.reason == "broken"
    assert str(err) == f"{tmp_path / 'a.csv'}: broken"


def test_find_batches_sorted(tmp_path):
    for name in ["2026-03.csv", "2026-01.csv", "2026-02.csv"]:
        write(tmp_path / name, GOOD_CSV)
    write(tmp_path / "notes.txt", "x")
    found = find_batches(str(tmp_path / "*.csv"))
    assert [p.name for p in found] == ["2026-01.csv", "2026-02.csv", "2026-03.csv"]


def test_find_batches_no_match_names_glob(tmp_path):
    pattern = str(tmp_path / "missing-*.csv")
    with pytest.raises(DataError) as info:
        find_batches(pattern)
    assert info.value.path == pattern
    assert pattern in str(info.value)


def test_load_csv_parses_timestamps_to_utc(tmp_path):
    df = load_batch(write(tmp_path / "b.csv", GOOD_CSV), "ts")
    assert len(df) == 3
    assert str(df["ts"].dt.tz) == "UTC"
    assert df["ts"].iloc[1] == pd.Timestamp("2026-01-02 06:30", tz="UTC")
    assert df["ts"].iloc[2] == pd.Timestamp("2026-01-03 12:00", tz="UTC")
    assert df["x"].isna().sum() == 1


def test_load_csv_converts_offsets_to_utc(tmp_path):
    text = "ts,y\n2026-01-01T10:00:00+02:00,1\n2026-01-01T10:00:00-05:00,0\n"
    df = load_batch(write(tmp_path / "tz.csv", text), "ts")
    assert df["ts"].tolist() == [pd.Timestamp("2026-01-01 08:00", tz="UTC"), pd.Timestamp("2026-01-01 15:00", tz="UTC")]


def test_load_parquet_localises_naive_timestamps(tmp_path):
    src = pd.DataFrame({"ts": pd.to_datetime(["2026-01-01 05:00", "2026-01-02 05:00"]), "y": [0, 1]})
    path = tmp_path / "b.parquet"
    src.to_parquet(path)
    df = load_batch(path, "ts")
    assert str(df["ts"].dt.tz) == "UTC"
    assert df["ts"].iloc[0] == pd.Timestamp("2026-01-01 05:00", tz="UTC")


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("empty.csv", b"", "empty file"),
        ("header.csv", "ts,x,y\n", "no data rows"),
        ("toomany.csv", "ts,x,y\n2026-01-01,1,0\n2026-01-02,2,1,9\n2026-01-03,3,1\n", "Expected 3 fields"),
        ("openquote.csv", 'ts,x,y\n2026-01-01,1,0\n2026-01-02,"unterminated,1\n', "corrupt or truncated"),
        ("cut.csv", "ts,x,city,y\n2026-01-01,1,ams,0\n2026-01-02,2", "last row has 2 of 4 fields"),
        ("nul.csv", b"ts,x\x00\x00\x01\x02garbage\n\x00\x00", "binary content"),
        ("latin.csv", b"\xff\xfe\xfa\xfb\x80\x81,\n\x90\x91", "not a UTF-8"),
        ("broken.parquet", b"PAR1 this is not really parquet", "corrupt or unreadable Parquet"),
        ("batch.json", '{"ts": 1}', "unsupported file type"),
    ],
)
def test_unusable_files_raise_data_error(tmp_path, name, content, expected):
    path = write(tmp_path / name, content)
    with pytest.raises(DataError) as info:
        load_batch(path, "ts")
    assert info.value.path == str(path)
    assert expected in info.value.reason
    assert str(info.value).startswith(str(path))


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        load_batch(tmp_path / "gone.csv", "ts")


def test_missing_timestamp_column_lists_columns(tmp_path):
    path = write(tmp_path / "b.csv", "time,x,y\n2026-01-01,1,0\n")
    with pytest.raises(DataError) as info:
        load_batch(path, "ts")
    assert "missing timestamp column 'ts'" in info.value.reason
    assert "time, x, y" in info.value.reason


def test_unparseable_timestamps_counts_rows(tmp_path):
    text = "ts,y\n2026-01-01,0\nyesterday,1\n2026-01-03,0\nnot a date,1\n,0\n"
    with pytest.raises(DataError) as info:
        load_batch(write(tmp_path / "b.csv", text), "ts")
    assert "3 of 5 rows" in info.value.reason
    assert "yesterday" in info.value.reason


def test_empty_timestamp_column_counts_every_row(tmp_path):
    with pytest.raises(DataError, match="2 of 2 rows have a missing"):
        load_batch(write(tmp_path / "b.csv", "ts,y\n,0\n,1\n"), "ts")


def test_numeric_timestamps_rejected(tmp_path):
    with pytest.raises(DataError, match="numeric"):
        load_batch(write(tmp_path / "b.csv", "ts,y\n1700000000,0\n1700003600,1\n"), "ts")


def test_short_last_value_is_not_truncation(tmp_path):
    df = load_batch(write(tmp_path / "b.csv", "ts,x,y\n2026-01-01,1,\n2026-01-02,2,"), "ts")
    assert len(df) == 2
    assert df["y"].isna().all()


def test_load_frames_concatenates_in_order(tmp_path):
    a = write(tmp_path / "a.csv", "ts,y\n2026-01-01,0\n")
    b = write(tmp_path / "b.csv", "ts,y\n2026-02-01,1\n2026-02-02,1\n")
    df = load_frames([a, b], "ts")
    assert df["y"].tolist() == [0, 1, 1]
    assert list(df.index) == [0, 1, 2]
    with pytest.raises(DataError):
        load_frames([], "ts")


def test_frame_hash_tracks_content_not_index():
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", None]})
    same = df.copy()
    same.index = [10, 11, 12]
    assert frame_hash(df) == frame_hash(same)
    assert len(frame_hash(df)) == 64
    changed = df.copy()
    changed.loc[1, "a"] = 5
    assert frame_hash(changed) != frame_hash(df)
    assert frame_hash(df.rename(columns={"a": "c"})) != frame_hash(df)
    assert frame_hash(df.iloc[::-1]) != frame_hash(df)


def test_select_features_default_excludes_reserved(make_config):
    df = pd.DataFrame(columns=["ts", "x1", "x2", "row_id", "y"])
    config = make_config(data={"exclude": ["row_id"]})
    assert select_features(df, config) == ["x1", "x2"]


def test_select_features_configured_and_missing(make_config):
    df = pd.DataFrame(columns=["ts", "x1", "x2", "y"])
    assert select_features(df, make_config(data={"features": ["x2"]})) == ["x2"]
    with pytest.raises(DataError) as info:
        select_features(df, make_config(data={"features": ["x1", "wind", "gust"]}))
    assert "wind, gust" in info.value.reason
    with pytest.raises(DataError, match="target"):
        select_features(df, make_config(data={"features": ["x1", "y"]}))
