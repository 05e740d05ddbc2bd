"""The demo workspace: real flights, honest labels, a broken delivery, a config that loads."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from base.settings import load_config
from retrain.demo.workspace import (
    AFTER_DEPARTURE,
    CONFIG_NAME,
    EXAMPLE_DIR,
    SUITE_NAME,
    WEATHER_COLUMNS,
    build_workspace,
    deliver_batch,
    describe_months,
    find_data_dir,
    make_broken_batch,
    plan_months,
)
from training.data import select_features

MONTHS = (1, 2, 3, 7)
INITIAL = (1, 2)
BROKEN = 7
EXAMPLE = EXAMPLE_DIR / CONFIG_NAME


@pytest.fixture(scope="module")
def workspace(flights, tmp_path_factory):
    """Four months: January and February first, then March, then July broken and corrected."""
    root = tmp_path_factory.mktemp("home") / "demo"
    return build_workspace(root, months=MONTHS, initial_months=INITIAL, broken_month=BROKEN, flights=flights)


@pytest.fixture()
def example_copy(tmp_path):
    """An example folder of our own, so a test can add a suite or edit the config."""
    folder = tmp_path / "example"
    folder.mkdir()
    shutil.copyfile(EXAMPLE, folder / CONFIG_NAME)
    return folder


def test_late_is_arrival_delay_over_15_minutes(flights):
    assert flights["late"].tolist() == (flights["arr_delay"] > 15).astype(int).tolist()
    assert set(flights["late"].unique()) == {0, 1}


def test_cancelled_flights_are_dropped_and_counted(flights):
    raw = pd.read_csv(find_data_dir() / "flights.csv.zip", usecols=["arr_delay"])["arr_delay"]
    assert flights["arr_delay"].notna().all()
    assert len(flights) == raw.notna().sum()
    assert flights.attrs["dropped_cancelled"] == raw.isna().sum() > 0


def test_weather_is_joined_on_origin_and_hour(flights):
    weather = pd.read_csv(find_data_dir() / "weather.csv").set_index(["origin", "time_hour"])
    sample = flights.dropna(subset=["temp"]).sample(40, random_state=1)
    for _, row in sample.iterrows():
        expected = weather.loc[(row["origin"], row["time_hour"])]
        for column in WEATHER_COLUMNS:
            assert row[column] == pytest.approx(expected[column], nan_ok=True), column


def test_timestamp_stays_an_iso_utc_string(flights):
    assert flights["time_hour"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:00:00Z").all()


def test_month_table_counts_every_row(flights):
    table = describe_months(flights)
    assert table["rows"].sum() == len(flights)
    assert table["late_share"].between(0, 1).all()
    assert table["late_share"].nunique() > 1


def test_workspace_writes_months_in_arrival_order(workspace):
    names = lambda paths: [p.name for p in paths]  # noqa: E731
    assert names(workspace.initial) == ["flights-2013-01.csv", "flights-2013-02.csv"]
    assert names(workspace.later) == ["flights-2013-03.csv", "flights-2013-07-broken.csv", "flights-2013-07.csv"]
    assert workspace.broken_batch == workspace.landing_dir / "flights-2013-07-broken.csv"
    assert sorted(p.name for p in workspace.landing_dir.iterdir()) == sorted(names(workspace.landing_files))
    assert list(workspace.batches_dir.iterdir()) == []


def test_batch_files_hold_one_month_each_with_labels(workspace, flights):
    for path in workspace.landing_files:
        if path == workspace.broken_batch:
            continue
        batch = pd.read_csv(path)
        month = int(re.search(r"-(\d\d)\.csv$", path.name).group(1))
        assert set(batch["month"]) == {month}
        assert len(batch) == workspace.rows[path.name] == (flights["month"] == month).sum()
        assert batch["late"].tolist() == (batch["arr_delay"] > 15).astype(int).tolist()
        assert set(AFTER_DEPARTURE) <= set(batch.columns)


def test_workspace_config_reads_its_own_batches(workspace):
    config = load_config(workspace.config_path)
    assert config.config_path == workspace.root / CONFIG_NAME
    assert Path(config.data_glob) == workspace.batches_dir / "*.csv"
    assert workspace.config_path.read_text().count("#") == EXAMPLE.read_text().count("#")


def test_suite_is_copied_only_when_it_exists(example_copy, flights, tmp_path):
    without = build_workspace(
        tmp_path / "a", months=(1, 4), initial_months=(1,), broken_month=None, flights=flights, example_dir=example_copy
    )
    assert without.suite_path is None and not (without.root / SUITE_NAME).exists()
    (example_copy / SUITE_NAME).write_text('{"name": "flights-late", "expectations": []}')
    with_suite = build_workspace(
        tmp_path / "b", months=(1, 4), initial_months=(1,), broken_month=None, flights=flights, example_dir=example_copy
    )
    assert with_suite.suite_path.read_text() == (example_copy / SUITE_NAME).read_text()
    assert load_config(with_suite.config_path).suite_path == with_suite.suite_path
    assert with_suite.broken_batch is None


def test_config_copy_points_at_batches_and_pins_home(example_copy, flights, tmp_path):
    text = (example_copy / CONFIG_NAME).read_text()
    (example_copy / CONFIG_NAME).write_text(text.replace("path: batches/*.csv", "path: elsewhere/*.parquet"))
    built = build_workspace(
        tmp_path / "demo",
        months=(1, 4),
        initial_months=(1,),
        broken_month=None,
        flights=flights,
        home=tmp_path / "state",
        example_dir=example_copy,
    )
    config = load_config(built.config_path)
    assert config.data.path == "batches/*.csv"
    assert config.state.home == str((tmp_path / "state").resolve())


def test_rebuild_starts_from_a_clean_root(flights, tmp_path):
    root = tmp_path / "demo"
    first = build_workspace(root, months=(1, 4), initial_months=(1,), broken_month=None, flights=flights)
    deliver_batch(first.initial[0], first.batches_dir)
    (root / "stale.txt").write_text("left over")
    again = build_workspace(root, months=(2, 5), initial_months=(2,), broken_month=None, flights=flights)
    assert not (root / "stale.txt").exists()
    assert list(again.batches_dir.iterdir()) == []
    assert sorted(p.name for p in again.landing_dir.iterdir()) == ["flights-2013-02.csv", "flights-2013-05.csv"]


def test_refuses_to_replace_a_folder_it_did_not_build(flights, tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        build_workspace(tmp_path, months=(1, 4), initial_months=(1,), broken_month=None, flights=flights)
    assert (tmp_path / "precious.txt").read_text() == "keep me"


@pytest.mark.parametrize(
    "months, initial, broken",
    [
        ((1, 2, 13), (1,), None),  # no such month
        (0, (1,), None),  # nothing to play
        ((1, 2), (), None),  # no first champion
        ((1, 2), (3,), None),  # initial month not played
        ((1, 2, 7), (1, 7), 7),  # broken delivery among the initial months
        ((1, 2), (1,), 7),  # broken month not played
    ],
)
def test_impossible_month_plans_are_rejected(months, initial, broken):
    with pytest.raises(ValueError):
        plan_months(months, initial, broken)


@pytest.mark.parametrize(
    "months, broken, expected",
    [
        (12, "auto", (list(range(1, 13)), 7)),
        (5, "auto", ([1, 2, 3, 4, 5], 5)),
        (3, "auto", ([1, 2, 3], None)),
        ((9, 4, 1, 2, 3), "auto", ([1, 2, 3, 4, 9], 9)),
        (12, None, (list(range(1, 13)), None)),
        (8, 4, (list(range(1, 9)), 4)),
    ],
)
def test_month_plans_resolve_counts_and_the_broken_delivery(months, broken, expected):
    assert plan_months(months, (1, 2, 3), broken) == expected


def test_deliver_moves_a_landing_file_into_batches(workspace, tmp_path):
    source = tmp_path / "landing" / "flights-2013-09.csv"
    source.parent.mkdir()
    source.write_text(workspace.landing_files[0].read_text())
    moved = deliver_batch(source, tmp_path / "batches")
    assert moved == tmp_path / "batches" / source.name
    assert moved.is_file() and not source.exists()


def test_broken_batch_has_the_intended_defects(workspace, flights):
    good = flights.loc[flights["month"] == BROKEN]
    broken = pd.read_csv(workspace.broken_batch)
    assert "sched_dep_time" not in broken.columns and "scheduled_departure" in broken.columns
    assert (broken["distance"] < 0).sum() > 0 and (good["distance"] > 0).all()
    assert (broken["humid"] > 100).sum() > 0 and (good["humid"].dropna() <= 100).all()
    assert len(broken) == len(good)


def test_breaking_a_batch_leaves_the_original_alone_and_is_repeatable(flights):
    good = flights.loc[flights["month"] == 3]
    before = good.copy()
    first, second = make_broken_batch(good, seed=3), make_broken_batch(good, seed=3)
    pd.testing.assert_frame_equal(good, before)
    pd.testing.assert_frame_equal(first, second)
    untouched = first["distance"].gt(0) & first["humid"].fillna(0).le(100)
    assert 0 < untouched.mean() < 1


def test_example_config_loads_and_never_uses_leaking_columns(flights):
    config = load_config(EXAMPLE)
    assert (config.name, config.task) == ("flights-late", "binary")
    assert (config.data.timestamp_column, config.data.target_column) == ("time_hour", "late")
    features = select_features(flights.head(100), config)
    assert not set(features) & {*AFTER_DEPARTURE, "late", "time_hour", "tailnum", "flight"}
    assert set(config.data.categorical or []) <= set(features)
    assert {"carrier", "origin", "dest", "distance", *WEATHER_COLUMNS} <= set(features)
    low, high = config.constraints.positive_rate
    assert low < describe_months(flights)["late_share"].min() and high > describe_months(flights)["late_share"].max()


def test_example_config_spells_out_every_setting():
    """Every field of ModelConfig is written out in the example, so it serves as the reference."""
    import yaml

    from base.settings import ModelConfig

    def missing(model, raw: dict, prefix: str = "") -> list[str]:
        gaps = []
        for name, field in model.model_fields.items():
            if field.exclude:
                continue
            if name not in raw:
                gaps.append(prefix + name)
            elif isinstance(field.annotation, type) and hasattr(field.annotation, "model_fields"):
                gaps += missing(field.annotation, raw[name], prefix + name + ".")
        return gaps

    assert missing(ModelConfig, yaml.safe_load(EXAMPLE.read_text())) == []
