"""Drift check: Evidently's per-column drift on the model's features and on its predictions.

Why it samples and pins methods. Left to its defaults, Evidently picks the test by the
reference's row count: up to 1000 rows a p-value test (drifted below 0.05), above that a
distance (drifted at 0.1 or more). So a score's meaning flips with the data's size, p-value
tests on large data flag differences nobody cares about (Evidently #50), and scoring full
frames is slow: 1M rows x 20 columns per side took 65-74 s and about 0.8 GB above the frames
here (``bench/drift_bench.py``). So the check

1. compares a fixed-size, seeded random sample per side (``drift.sample_rows``, default 5000):
   cost and sensitivity no longer depend on the batch size;
2. pins the method per column (normed Wasserstein for numerical columns, Jensen-Shannon for
   categorical ones and for numerical ones with at most 5 distinct reference values, as
   Evidently does above 1000 rows; threshold ``drift.column_threshold`` or 0.1), chosen from
   the reference alone, so a score means the same at any batch size and the report names
   method and threshold for every column;
3. lets the reference be sampled once per model version (``sample_reference``; the snapshot
   is stored beside the version at registration), so a run never re-reads the training frame.

Both distances between two 5000-row samples of one distribution stay under 0.06 (99th
percentile), well below 0.1. Under about 1000 rows per side the noise reaches the threshold,
so the report warns when a side is that small rather than switching methods silently.

Evidently is imported inside the functions that use it: its import costs about 5 s.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from monitoring.drift_types import ColumnDrift, DriftInputError, DriftReport

if TYPE_CHECKING:
    from base.settings import ModelConfig

PREDICTION_COLUMN = "__prediction__"
MISSING_LABEL = "__missing__"
LOW_CARDINALITY = 5
DEFAULT_THRESHOLD = 0.1
MIN_RELIABLE_ROWS = 1000
_SIDES = {"reference": 0, "current": 1}


def sample_reference(reference: pd.DataFrame, config: ModelConfig) -> pd.DataFrame:
    """The seeded fixed-size sample of the training frame that drift runs compare against.

    Stored with the model version at registration. ``detect_drift`` draws the same rows from
    the full frame, so comparing against this snapshot or the full frame gives one answer.
    """
    positions = _sample_positions(len(reference), config.drift.sample_rows, config.drift.seed, "reference")
    return reference if positions is None else reference.iloc[positions]


def select_feature_columns(df: pd.DataFrame, config: ModelConfig) -> list[str]:
    """The model's feature columns, by the same rule training uses."""
    from training.data import select_features

    return list(select_features(df, config))


def detect_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    config: ModelConfig,
    reference_predictions: Any = None,
    current_predictions: Any = None,
    features: list[str] | None = None,
) -> DriftReport:
    """Compare ``current`` with the champion's training ``reference``, feature by feature.

    Predictions (the champion's outputs on each side, aligned with the frames' rows) are
    compared as extra ``__prediction__`` columns with kind ``"prediction"`` (one per output
    column when 2-D); they count in the drifted share like any column. Either side may instead
    be a callable ``f(features_frame) -> outputs``: it is applied to the sampled rows only, so a
    1M-row batch costs 5000 predictions, not a million. Raises ``DriftInputError`` for missing feature columns,
    an empty side, or predictions that are missing on one side or misaligned.
    """
    started = time.perf_counter()
    settings = config.drift
    features = list(features) if features is not None else select_feature_columns(reference, config)
    _check_inputs(reference, current, features, reference_predictions, current_predictions)
    ref_pos = _sample_positions(len(reference), settings.sample_rows, settings.seed, "reference")
    cur_pos = _sample_positions(len(current), settings.sample_rows, settings.seed, "current")
    ref = _build_frame(reference, features, reference_predictions, ref_pos)
    cur = _build_frame(current, features, current_predictions, cur_pos)
    columns, warnings, html = _judge_columns(ref, cur, features, config)
    drifted = tuple(c.column for c in columns if c.drifted)
    share = len(drifted) / len(columns)
    return DriftReport(
        columns=columns,
        drifted_columns=drifted,
        share=share,
        threshold=settings.drift_share,
        drifted=share >= settings.drift_share,
        reference_rows=len(reference),
        current_rows=len(current),
        reference_sampled_rows=len(ref),
        current_sampled_rows=len(cur),
        sample_rows=settings.sample_rows,
        seed=settings.seed,
        elapsed_s=round(time.perf_counter() - started, 3),
        warnings=tuple(warnings),
        html=html,
    )


def _judge_columns(ref: pd.DataFrame, cur: pd.DataFrame, features: list[str], config: ModelConfig):
    """Type, normalise and score every column; all-null columns are judged without Evidently."""
    types, warnings = _column_types(ref, features, config.data.categorical)
    if not types:
        raise DriftInputError("no comparable columns: every feature is a datetime column", features)
    threshold = config.drift.column_threshold
    threshold = DEFAULT_THRESHOLD if threshold is None else threshold
    ref, cur = _normalize(ref, types), _normalize(cur, types)
    methods = {c: choose_method(ref[c], t) for c, t in types.items()}
    scored = [c for c in types if not (ref[c].isna().all() or cur[c].isna().all())]
    verdicts, html = _score_with_evidently(ref, cur, types, methods, scored, threshold) if scored else ({}, None)
    columns = tuple(
        _column_verdict(c, "feature" if c in features else "prediction", types[c], methods[c], ref, cur, verdicts, threshold)
        for c in types
    )
    return columns, warnings + _size_warnings(len(ref), len(cur)), html


def _check_inputs(reference, current, features, reference_predictions, current_predictions) -> None:
    if not features:
        raise DriftInputError("no feature columns to compare")
    for side, frame in (("reference", reference), ("current", current)):
        if len(frame) == 0:
            raise DriftInputError(f"the {side} frame has no rows")
        missing = [c for c in features if c not in frame.columns]
        if missing:
            raise DriftInputError(f"the {side} frame lacks feature columns: {', '.join(missing)}", missing)
    if (reference_predictions is None) != (current_predictions is None):
        raise DriftInputError("predictions must be given for both sides or for neither")
    for side, frame, preds in (
        ("reference", reference, reference_predictions),
        ("current", current, current_predictions),
    ):
        if preds is not None and not callable(preds) and len(preds) != len(frame):
            raise DriftInputError(f"{len(preds)} {side} predictions for {len(frame)} {side} rows")


def _sample_positions(n_rows: int, cap: int, seed: int, side: str) -> np.ndarray | None:
    """Sorted row positions of a seeded sample, or None when the frame is small enough."""
    if n_rows <= cap:
        return None
    rng = np.random.default_rng([seed, _SIDES[side]])
    return np.sort(rng.choice(n_rows, size=cap, replace=False))


def _build_frame(df: pd.DataFrame, features: list[str], predictions: Any, positions: np.ndarray | None) -> pd.DataFrame:
    """The sampled feature columns plus one column per prediction output."""
    rows = df if positions is None else df.take(positions)
    frame = rows[features].reset_index(drop=True)
    if predictions is None:
        return frame
    if callable(predictions):
        values = np.asarray(predictions(frame))
        if len(values) != len(frame):
            raise DriftInputError(f"the prediction function returned {len(values)} outputs for {len(frame)} rows")
    else:
        values = np.asarray(predictions)
        values = values if positions is None else values[positions]
    if values.ndim == 1:
        frame[PREDICTION_COLUMN] = values
    else:
        for j in range(values.shape[1]):
            frame[f"{PREDICTION_COLUMN}{j}"] = values[:, j]
    return frame


def _column_types(ref: pd.DataFrame, features: list[str], declared: list[str] | None) -> tuple[dict, list[str]]:
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


def _normalize(frame: pd.DataFrame, types: dict[str, str]) -> pd.DataFrame:
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
            labels = series.astype("object").map(_label, na_action="ignore")
            out[col] = labels if labels.isna().all() else labels.fillna(MISSING_LABEL)
    return pd.DataFrame(out)


def choose_method(reference_column: pd.Series, column_type: str) -> str:
    """The drift method for a column, fixed by the reference so it never depends on batch size."""
    if column_type == "numerical" and reference_column.nunique() > LOW_CARDINALITY:
        return "wasserstein"
    return "jensenshannon"


def _label(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _score_with_evidently(ref, cur, types: dict[str, str], methods: dict[str, str], columns: list[str], threshold: float):
    """Run one ``ValueDrift`` per column (the metrics ``DataDriftPreset`` builds) and read back
    each column's score and test status by column name; also return the HTML report."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import ValueDrift

    definition = DataDefinition(
        numerical_columns=[c for c in columns if types[c] == "numerical"],
        categorical_columns=[c for c in columns if types[c] == "categorical"],
    )
    metrics = [ValueDrift(column=c, method=methods[c], threshold=threshold) for c in columns]
    snapshot = Report(metrics, include_tests=True).run(
        current_data=Dataset.from_pandas(cur[columns], data_definition=definition),
        reference_data=Dataset.from_pandas(ref[columns], data_definition=definition),
    )
    return read_value_drift(snapshot.dict(), columns), snapshot.get_html_str(as_iframe=False)


def read_value_drift(result: dict, columns: list[str]) -> dict[str, tuple[float, bool]]:
    """``{column: (score, drifted)}`` from a snapshot's ``dict()``, matched by column name.

    The verdict is the column's test status (FAIL = drifted), never a comparison of the raw
    value, whose direction depends on the method.
    """
    scores, statuses = {}, {}
    for metric in result.get("metrics", []):
        config = metric.get("config", {})
        if str(config.get("type", "")).endswith(":ValueDrift"):
            scores[config["column"]] = float(metric["value"])
    for test in result.get("tests", []):
        params = test.get("metric_config", {}).get("params", {})
        if str(params.get("type", "")).endswith(":ValueDrift"):
            statuses[params["column"]] = str(getattr(test["status"], "value", test["status"])).upper()
    verdicts = {}
    for col in columns:
        status = statuses.get(col)
        if col not in scores or status not in ("FAIL", "SUCCESS"):
            raise RuntimeError(f"Evidently returned no usable drift result for column {col!r} (status {status})")
        verdicts[col] = (scores[col], status == "FAIL")
    return verdicts


def _column_verdict(col, role: str, kind: str, method: str, ref, cur, verdicts: dict, threshold: float) -> ColumnDrift:
    """Evidently's verdict, or for a column that is all null on a side: drifted unless both are."""
    if col in verdicts:
        score, drifted = verdicts[col]
        return ColumnDrift(col, role, kind, method, score, threshold, drifted)
    changed = bool(ref[col].isna().all()) != bool(cur[col].isna().all())
    return ColumnDrift(col, role, kind, "all_null", None, threshold, changed)


def _size_warnings(ref_rows: int, cur_rows: int) -> list[str]:
    small = [f"{side} {rows}" for side, rows in (("reference", ref_rows), ("current", cur_rows)) if rows < MIN_RELIABLE_ROWS]
    if not small:
        return []
    return [
        f"few rows compared ({', '.join(small)}); below {MIN_RELIABLE_ROWS} rows per side the sampling "
        "noise of the distances approaches the 0.1 threshold, so a flag may be a false alarm"
    ]
