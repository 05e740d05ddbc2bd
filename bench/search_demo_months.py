"""The searched champion against the single default estimator, month by month on the demo's flights.

Setup: the demo's config (examples/flights-late: late arrival, 90 training days, the newest
30 days as the gate's holdout) on its flights. At the end of each month from March to
November both sides retrain on the window ending there: ``default`` fits the `estimator`
section, ``searched`` runs the config's search (in this process, one trial after another:
the same winner as on Dask) and refits the winner. Each side's candidate replaces its own
champion when it scores at least as well on the holdout and above the floor (the gate's
primary rule, without its bootstrap and output checks); the champion is then scored on the
next month, which no side has seen: next-month ROC AUC, April to December. Writes
``bench/results/search_demo_months.json``. A few minutes on two cores.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EXAMPLE = ROOT / "examples" / "flights-late" / "flights-late.yaml"


def configs():
    """The demo's config as it is (searched) and without its search (default)."""
    from base.settings import load_config

    searched = load_config(EXAMPLE)
    return searched.model_copy(update={"search": None}), searched


def auc(model, features, frame, target) -> float:
    from training.metrics import score

    return float(score("binary", model, frame[features], frame[target])["roc_auc"])


def main() -> None:
    from retrain.demo.workspace import load_flights
    from training.candidate import train_candidate
    from training.search import run_search_locally, train_winner
    from training.split import split_by_time

    warnings.filterwarnings("ignore")
    plain, searched = configs()
    column, target, floor = plain.data.timestamp_column, plain.data.target_column, plain.gate.floor or 0.0
    flights = load_flights()
    flights[column] = pd.to_datetime(flights[column], utc=True)
    champions: dict[str, object] = {}
    rows = []
    for month in range(3, 12):
        end = pd.Timestamp(f"2013-{month + 1:02d}-01", tz="UTC")
        split = split_by_time(flights[flights[column] < end], plain)
        found = run_search_locally(split, searched)
        candidates = {"default": train_candidate(split, plain), "searched": train_winner(split, searched, found)}
        following = flights[(flights[column] >= end) & (flights[column] < end + pd.offsets.MonthBegin(1))]
        row = {"retrained_end_of": month, "scored_on": month + 1, "winner": found.winner.spec.label}
        for side, candidate in candidates.items():
            new = auc(candidate.model, candidate.features, split.holdout, target)
            old = champions.get(side)
            old_score = auc(old.model, old.features, split.holdout, target) if old is not None else None
            promoted = new >= floor and (old_score is None or new >= old_score)
            champions[side] = candidate if promoted else old
            row[f"{side}_promoted"] = promoted
            champion = champions[side]
            row[side] = auc(champion.model, champion.features, following, target) if champion is not None else None
        rows.append(row)
        print(json.dumps(row), flush=True)
    from bench.common import write_month_comparison

    write_month_comparison("search_demo_months", rows)


if __name__ == "__main__":
    main()
