"""One column's drift verdict: type it, normalise it, measure it, compare it with its noise.

Why per column this way. The method is fixed by the reference (normed Wasserstein for
numbers, Jensen-Shannon for categories and numbers with at most ``LOW_CARDINALITY`` values),
so a score means the same at any size. What changes with size is how large that score gets
by chance, so a column drifted only when its distance is both

- beyond its own sampling noise at the compared sizes (``monitoring.drift_stats``): a
  verdict that holds at any size, and
- at least the effect floor of its kind (``drift.min_effect``, raised to
  ``drift.column_threshold`` when one is set): at 35,000 rows a 0.02-std move is
  significant and still not worth a retrain.

When the noise itself is above the floor, a shift of the floor's size would hide in it: the
batch is too small to tell for that column (``insufficient_data``), never "no drift", unless
the distance clears the noise anyway. Fewer than ``drift.min_rows`` values on a side gives
no verdict either.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from monitoring.drift_stats import Noise, column_rng, jensenshannon_noise, wasserstein_noise
from monitoring.drift_types import ColumnDrift, ColumnStatus

MISSING_LABEL = "__missing__"
LOW_CARDINALITY = 5


def type_columns(ref: pd.DataFrame, features: list[str], declared: list[str] | None) -> tuple[dict, list[str]]:
    """Type each column from the reference; datetime features are skipped (time always moves)."""
    types: dict[str, str] = {}
    warnings: list[str] = []
    declared_set = set(declared or [])
    for col in ref.columns:
        series = ref[col]
        if pd.api.types.is_datetime64_any_dtype(series):
            warnings.append(f"skipped datetime column {col}")
        elif col not in features:  # a prediction column
            types[col] = "numerical" if pd.api.types.is_float_dtype(series) else "categorical"
        elif col in declared_set or pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
            types[col] = "categorical"
        else:
            types[col] = "numerical"
    return types, warnings


def normalize_columns(frame: pd.DataFrame, types: dict[str, str]) -> pd.DataFrame:
    """Floats for numerical columns (inf as null), strings for categorical ones.

    Labels are written the same way on both sides (``1`` and ``1.0`` are one category), and
    nulls in a categorical column become their own category so a jump in missing values
    shows in the distance; an all-null column stays null and is judged separately.
    """
    out = {}
    for col, kind in types.items():
        series = frame[col]
        if kind == "numerical":
            out[col] = pd.to_numeric(series, errors="coerce").astype("float64").replace([np.inf, -np.inf], np.nan)
        else:
            labels = _labels(series)
            out[col] = labels if labels.isna().all() else labels.fillna(MISSING_LABEL)
    return pd.DataFrame(out)


def choose_method(reference_column: pd.Series, column_type: str) -> str:
    """The drift method for a column, fixed by the reference so it never depends on batch size."""
    if column_type == "numerical" and reference_column.nunique() > LOW_CARDINALITY:
        return "wasserstein"
    return "jensenshannon"


def _labels(series: pd.Series) -> pd.Series:
    """``_label`` of every value, computed once per distinct value (nulls stay null)."""
    codes, uniques = pd.factorize(series.astype("object"), use_na_sentinel=True)
    names = np.array([_label(v) for v in uniques] + [None], dtype=object)
    return pd.Series(names[codes], index=series.index, dtype=object)


def _label(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def judge_column(
    name: str,
    role: str,
    column_type: str,
    method: str,
    ref: pd.Series,
    cur: pd.Series,
    settings: Any,
) -> ColumnDrift:
    """The verdict for one column; ``settings`` is the model's ``drift`` config section."""
    r, c = ref.dropna(), cur.dropna()
    common: dict[str, Any] = dict(
        column=name, kind=role, column_type=column_type, reference_values=len(r), current_values=len(c)
    )
    if min(len(ref), len(cur)) < settings.min_rows:
        return ColumnDrift(
            method=method, score=None, threshold=None, drifted=False, status="insufficient_data", **common
        )
    if r.empty or c.empty:
        changed = r.empty != c.empty
        return ColumnDrift(
            method="all_null",
            score=None,
            threshold=None,
            drifted=changed,
            status="drift" if changed else "no_drift",
            **common,
        )
    if min(len(r), len(c)) < settings.min_rows:
        return ColumnDrift(
            method=method, score=None, threshold=None, drifted=False, status="insufficient_data", **common
        )
    from monitoring.drift_evidently import measure_distance

    score = measure_distance(r, c, column_type, method)
    noise = measure_noise(name, method, r, c, settings)
    floor = effect_floor(role, method, settings)
    threshold = max(float(np.nextafter(noise.critical, math.inf)), floor)
    drifted = bool(score >= threshold)
    hidden = 0.0 < floor < noise.critical  # a shift of the floor's size would hide in the noise
    status: ColumnStatus = "drift" if drifted else ("insufficient_data" if hidden else "no_drift")
    return ColumnDrift(
        method=method,
        score=score,
        threshold=threshold,
        drifted=drifted,
        status=status,
        noise=noise.critical,
        p_value=noise.p_value(score),
        floor=floor,
        **common,
    )


def effect_floor(role: str, method: str, settings: Any) -> float:
    """The smallest distance that counts for this column: its kind's floor, or the global one if higher."""
    effect = settings.min_effect
    kind = (
        effect.prediction
        if role == "prediction"
        else (effect.numerical if method == "wasserstein" else effect.categorical)
    )
    return max(float(kind), float(settings.column_threshold or 0.0))


def measure_noise(name: str, method: str, ref: pd.Series, cur: pd.Series, settings: Any) -> Noise:
    """The column's null at these sizes, seeded per column."""
    rng = column_rng(settings.seed, name)
    if method == "wasserstein":
        return wasserstein_noise(ref.to_numpy(np.float64), cur.to_numpy(np.float64), settings.alpha, rng)
    ref_counts, cur_counts = count_categories(ref, cur)
    return jensenshannon_noise(ref_counts, cur_counts, settings.alpha, rng)


def count_categories(ref: pd.Series, cur: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Counts per category on each side over the union of categories, in one order."""
    codes, uniques = pd.factorize(pd.concat([ref, cur], ignore_index=True), use_na_sentinel=True)
    size = len(uniques)
    return np.bincount(codes[: len(ref)], minlength=size), np.bincount(codes[len(ref) :], minlength=size)
