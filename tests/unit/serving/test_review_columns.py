"""What a reviewer sees of a queued row: never the answer, nor what the team excluded for leaking it."""

import pandas as pd
import pytest
import yaml


def config_with(tmp_path, **serving):
    from base.settings import load_config

    raw = {
        "name": "flights",
        "task": "binary",
        "data": {
            "path": "*.csv",
            "timestamp_column": "ts",
            "target_column": "late",
            "exclude": ["arr_delay", "dep_delay"],
        },
        "validation": {"suite": "s.json"},
        "serving": serving,
    }
    path = tmp_path / "flights.yaml"
    path.write_text(yaml.safe_dump(raw))
    return load_config(path)


FRAME = pd.DataFrame(
    {"ts": ["2013-01-01"], "carrier": ["UA"], "distance": [1400], "arr_delay": [35], "dep_delay": [20], "late": [1]}
)


def test_by_default_a_reviewer_sees_every_column_but_the_target_and_the_excluded(tmp_path):
    from serving.scoring import review_columns

    assert review_columns(config_with(tmp_path), FRAME) == ["ts", "carrier", "distance"]


def test_listed_review_columns_are_shown_in_their_order_and_absent_ones_skipped(tmp_path):
    from serving.scoring import review_columns

    config = config_with(tmp_path, review_columns=["distance", "carrier", "origin"])
    assert review_columns(config, FRAME) == ["distance", "carrier"]


def test_review_columns_must_be_a_list_of_names(tmp_path):
    from base.settings import ConfigError

    with pytest.raises(ConfigError) as err:
        config_with(tmp_path, review_columns="carrier")
    assert "review_columns" in str(err.value)
