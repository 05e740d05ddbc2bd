"""Replay a model's history through the real policy and compare it with two simple policies.

Before going live a user wants to know whether the drift thresholds, windows and gate rules
would have served them: ``run_backtest`` delivers the model's batches in time order into a
scratch home (a temporary folder, never the real home), runs for each the same drift check
and retrain flows as ``retrain drift`` and ``retrain run`` (validate → drift → retrain when
triggered → gate → promote), and scores the champion each step leaves on the *next* batch,
next to two baselines: never retrain (the first champion forever) and always retrain and
promote. Prefect is only reached through the flows, imported when the replay starts.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from base.settings import ModelConfig

STORE_ENV = ("RETRAIN_HOME", "RETRAIN_TRACKING_URI", "RETRAIN_LEDGER_URL")  # would point the replay at real stores


@dataclass
class Arrival:
    """One batch file of the history, in the order it arrived."""

    path: Path
    start: Any  # first timestamp, the clock of the replay
    frame: "pd.DataFrame | None"  # None when the file cannot be read


@dataclass
class BacktestResult:
    """Steps of the replay, the totals per policy, and where the plot went."""

    model: str
    metric: str
    scratch: str
    steps: list[dict[str, Any]] = field(default_factory=list)
    plot: str | None = None

    def totals(self) -> dict[str, dict[str, Any]]:
        """Retrains, promotions and mean next-batch metric of the policy and both baselines."""

        def mean(key: str) -> float | None:  # a quarantined delivery repeats its predecessor's score
            values = [s[key] for s in self.steps if s.get(key) is not None and s["decision"] != "data_invalid"]
            return round(sum(values) / len(values), 4) if values else None

        trained = [s for s in self.steps if s["decision"] not in ("no retrain", "data_invalid")]
        return {
            "policy": {
                "retrains": len(trained),
                "promotions": sum(s["decision"] == "promoted" for s in self.steps),
                "mean_next": mean("policy_next"),
            },
            "never_retrain": {"retrains": 0, "promotions": 0, "mean_next": mean("never_next")},
            "always_retrain": {
                "retrains": sum(s["always_trained"] for s in self.steps),
                "promotions": sum(s["always_trained"] for s in self.steps),
                "mean_next": mean("always_next"),
            },
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "metric": self.metric,
            "scratch": self.scratch,
            "steps": self.steps,
            "totals": self.totals(),
            "plot": self.plot,
        }


def run_backtest(
    config: "ModelConfig",
    initial: int = 3,
    schedule_days: float | None = None,
    quarantined: bool = True,
    scratch: Path | None = None,
    out: Any = None,
) -> BacktestResult:
    """Replay every batch of ``config`` in a scratch home; the real home is never opened.

    ``initial`` batches train the first champion together; each later one is checked for
    drift and retrained on when the check signals, or when ``schedule_days`` (default: the
    config's ``schedule.interval_hours``) passed since the last retrain.
    """
    from retrain.demo.play import check_step, choose_trigger, label_of, run_step, search_cluster, skipped_row

    arrivals = order_arrivals(config, quarantined)
    if len(arrivals) <= initial:
        from base.errors import Kind, RetrainError

        raise RetrainError(
            f"{config.data_glob}: {len(arrivals)} batch(es); a backtest needs more than the "
            f"{initial} that train the first champion",
            kind=Kind.DATA_INVALID,
        )
    days = schedule_days if schedule_days is not None else config.schedule.interval_hours / 24
    root = Path(scratch or tempfile.mkdtemp(prefix="retrain-backtest-"))
    replay = scratch_config(config, root)
    out = out or _Silent()
    result = BacktestResult(model=config.name, metric=config.primary_metric, scratch=str(root))
    scorer = Scorer(replay)
    with search_cluster(replay, out):  # one Dask cluster for every searched retrain of the replay
        first = [deliver(a, root) for a in arrivals[:initial]]
        row = run_step(replay, first, "schedule", out)
        last_retrain = arrivals[initial - 1].start
        result.steps.append(scorer.step(row, arrivals[:initial], arrivals[initial:]))
        for index in range(initial, len(arrivals)):
            arrival = arrivals[index]
            batch = deliver(arrival, root)
            check = check_step(replay, batch, out)
            since = (arrival.start - last_retrain).days if arrival.start is not None else 0
            trigger = choose_trigger(check, since / 30, days)
            if trigger is None:
                row = skipped_row(label_of([batch]), check)
            else:
                row = run_step(replay, [batch], trigger, out, check)
                if row["decision"] != "data_invalid" and arrival.start is not None:
                    last_retrain = arrival.start
            result.steps.append(scorer.step(row, arrivals[: index + 1], arrivals[index + 1 :]))
    return result


def order_arrivals(config: "ModelConfig", quarantined: bool) -> list[Arrival]:
    """Batches by first timestamp, then name (a broken delivery sorts before its correction)."""
    from monitoring.suite_check import existing_batches
    from training.data import DataError, load_batch

    arrivals = []
    for path, _ in existing_batches(config, quarantined):
        try:
            frame = load_batch(path, config.data.timestamp_column)
        except DataError:
            frame = None
        start = frame[config.data.timestamp_column].min() if frame is not None else None
        arrivals.append(Arrival(path, start, frame))
    known = [a.start for a in arrivals if a.start is not None]
    fallback = min(known) if known else None
    return sorted(arrivals, key=lambda a: (a.start if a.start is not None else fallback, a.path.name))


def scratch_config(config: "ModelConfig", root: Path) -> "ModelConfig":
    """A copy of the config whose data, suite and every store live under ``root``."""
    import yaml

    from base.errors import Kind, RetrainError
    from base.settings import load_config

    if config.config_path is None:
        raise RetrainError("a backtest needs a config read from a file", kind=Kind.USAGE)
    source = Path(config.config_path)
    raw = yaml.safe_load(source.read_text())
    suite = root / Path(config.suite_path).name
    shutil.copyfile(config.suite_path, suite)
    raw["data"]["path"] = str(root / "batches" / "*")
    raw["data"].pop("sql", None)  # the history was read from the source already: replayed from files
    raw["validation"] = {**(raw.get("validation") or {}), "suite": str(suite)}
    raw["state"] = {"home": str(root / "home")}
    path = root / source.name
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    for name in STORE_ENV:  # an exported store would win over the scratch config
        os.environ.pop(name, None)
    return load_config(path)


def deliver(arrival: Arrival, root: Path) -> Path:
    """Copy a batch into the scratch batch folder: it has arrived."""
    (root / "batches").mkdir(parents=True, exist_ok=True)
    return Path(shutil.copyfile(arrival.path, root / "batches" / arrival.path.name))


class Scorer:
    """Scores the policy's champion and both baselines on the next readable batch."""

    def __init__(self, config: "ModelConfig"):
        self.config = config
        self.models: dict[str, Any] = {}
        self.never: Any = None
        self.always: Any = None
        self.valid: dict[Path, bool] = {}

    def step(self, row: dict[str, Any], seen: list[Arrival], ahead: list[Arrival]) -> dict[str, Any]:
        """Add the next-batch metrics to a timeline row; train the always-retrain baseline."""
        champion = row.get("champion_version")
        nxt = next((a for a in ahead if self.usable(a)), None)
        trained = False
        if row["decision"] != "data_invalid" and champion is not None:
            self.never = self.never or self.load(champion)
            trained = self.train_always(seen)
        scores = {
            key: None if model is None or nxt is None else self.score(model, nxt.frame)
            for key, model in (
                ("policy_next", self.load(champion) if champion else None),
                ("never_next", self.never),
                ("always_next", self.always),
            )
        }
        return {**row, "next_batch": nxt.path.name if nxt else None, "always_trained": trained, **scores}

    def load(self, version: str) -> Any:
        from registry.store import connect
        from registry.versions import load_model

        if version not in self.models:
            self.models[version] = load_model(connect(self.config), self.config.name, version)
        return self.models[version]

    def train_always(self, seen: list[Arrival]) -> bool:
        """Retrain on every batch that would pass validation so far, and always promote."""
        import pandas as pd

        from training.candidate import train_candidate
        from training.data import DataError
        from training.split import split_by_time

        frames = [a.frame for a in seen if self.usable(a)]
        try:
            split = split_by_time(pd.concat(frames, ignore_index=True), self.config)
            self.always = train_candidate(split, self.config).model
        except (DataError, ValueError):  # too few rows yet: the baseline keeps its model
            return False
        return True

    def usable(self, arrival: Arrival) -> bool:
        """Whether the suite lets the batch in: a quarantined batch is never trained or scored on."""
        from monitoring.validation import validate_batch

        if arrival.path not in self.valid:
            self.valid[arrival.path] = (
                arrival.frame is not None
                and validate_batch(arrival.frame, self.config.suite_path, arrival.path.name).success
            )
        return self.valid[arrival.path]

    def score(self, model: Any, frame: "pd.DataFrame") -> float | None:
        """The primary metric on a batch's labelled rows, with the columns the model was trained on."""
        from training.metrics import encode, predict_outputs, weighted_metric

        target, task = self.config.data.target_column, self.config.task
        rows = frame[frame[target].notna()] if target in frame else frame.iloc[:0]
        columns = [str(c) for c in getattr(model, "feature_names_in_", [])]
        if rows.empty or not set(columns) <= set(rows.columns):
            return None
        y, (out,) = encode(task, rows[target].to_numpy(), [predict_outputs(task, model, rows[columns])])
        return round(float(weighted_metric(task, self.config.primary_metric, y, out)), 4)


class _Silent:
    """A console that prints nothing, for callers that only want the result."""

    def print(self, *args: Any, **kwargs: Any) -> None:
        return None

    def status(self, *args: Any, **kwargs: Any) -> Any:
        from contextlib import nullcontext

        return nullcontext()
