"""Drift check: per-column drift of the model's features and of its predictions.

How a verdict is reached, and why it holds at any batch size.

1. Each side is a seeded random sample of at most ``drift.sample_rows`` rows (default 20,000):
   cost is bounded at any batch size, and the cap sets the smallest drift the check can tell
   from noise (about 0.04 standard deviations of a mean at the default).
2. Each column has one method fixed by the reference (``monitoring.drift_columns``): normed
   Wasserstein for numbers, Jensen-Shannon for categories; Evidently measures the distance
   (``monitoring.drift_evidently``), without building its charts.
3. A column drifted when its distance exceeds the distance sampling alone reaches with
   probability ``drift.alpha`` at the compared sizes (its permutation null,
   ``monitoring.drift_stats``) *and* the effect floor of its kind (``drift.min_effect``,
   0.1 by default, or ``drift.column_threshold`` when higher). A fixed threshold flagged half
   of 100-row batches drawn from the training rows themselves; significance alone flagged
   most columns of a 35,000-row batch with no designed drift. Both together keep false
   alarms near ``alpha`` at any size and ignore shifts too small to matter.
4. Fewer than ``drift.min_rows`` values on a side, or a noise level above the floor (a shift
   that matters would hide in it): ``insufficient_data`` for that column, not "no drift".
5. The dataset drifted when the share of judged columns that drifted reaches
   ``drift.drift_share``. It shows no drift only when even the undecided columns could not
   reach that share; otherwise, and when no column could be judged, it is too small to tell
   (``insufficient_data``, exit 14).

The reference may be sampled once per model version (``sample_reference``; the snapshot is
stored beside the version at registration), so a run never re-reads the training frame.
Evidently is imported inside the functions that use it: its import costs about 5 s.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from monitoring.drift_columns import choose_method, judge_column, normalize_columns, type_columns
from monitoring.drift_evidently import read_value_drift, render_report_html
from monitoring.drift_types import DriftInputError, DriftReport

if TYPE_CHECKING:
    from base.settings import ModelConfig

__all__ = [
    "PREDICTION_COLUMN",
    "detect_drift",
    "read_value_drift",
    "render_report_html",
    "sample_reference",
    "select_feature_columns",
]

PREDICTION_COLUMN = "__prediction__"
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
    1M-row batch costs ``sample_rows`` predictions, not a million. Raises ``DriftInputError`` for missing
    feature columns,
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
    columns, warnings, compared = _judge_columns(ref, cur, features, config)
    judged = [c for c in columns if c.status != "insufficient_data"]
    drifted = tuple(c.column for c in judged if c.drifted)
    share = len(drifted) / len(judged) if judged else 0.0
    return DriftReport(
        columns=columns,
        drifted_columns=drifted,
        share=share,
        threshold=settings.drift_share,
        drifted=bool(judged) and share >= settings.drift_share,
        reference_rows=len(reference),
        current_rows=len(current),
        reference_sampled_rows=len(ref),
        current_sampled_rows=len(cur),
        sample_rows=settings.sample_rows,
        seed=settings.seed,
        elapsed_s=round(time.perf_counter() - started, 3),
        warnings=tuple(warnings),
        alpha=settings.alpha,
        min_rows=settings.min_rows,
        compared=compared,
    )


def _judge_columns(ref: pd.DataFrame, cur: pd.DataFrame, features: list[str], config: ModelConfig):
    """Type, normalise and judge every column; also return the two frames compared."""
    types, warnings = type_columns(ref, features, config.data.categorical)
    if not types:
        raise DriftInputError("no comparable columns: every feature is a datetime column", features)
    ref, cur = normalize_columns(ref, types), normalize_columns(cur, types)
    settings = config.drift
    columns = tuple(
        judge_column(
            c,
            "feature" if c in features else "prediction",
            t,
            choose_method(ref[c], t),
            ref[c],
            cur[c],
            settings,
        )
        for c, t in types.items()
    )
    short = [c.column for c in columns if c.status == "insufficient_data" and c.score is None]
    if short:
        warnings.append(f"insufficient data (fewer than {settings.min_rows} values on a side) for: {', '.join(short)}")
    hidden = [c.column for c in columns if c.status == "insufficient_data" and c.score is not None]
    if hidden:
        warnings.append(
            f"too small to tell for {', '.join(hidden)}: at this size sampling noise exceeds the smallest "
            "shift that counts (drift.min_effect)"
        )
    return columns, warnings, (ref, cur)


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
