"""Score one HTTP request exactly as a batch is scored, with models already in memory.

The same steps as ``serving.scoring.score_batch`` in the same order: unknown columns refused,
the suite without its target (share rules judged by the request's size, so a one-row request
is checked row by row and never refused by a share rule), predict, post-validation against
``constraints``, the review route from the version's recorded threshold. Nothing is written
here: the answer carries the rows to log and the review rows' features, and the caller hands
them to a background writer (``serving.log_writer``) so logging never holds a request up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from serving.calibration import VERSION
from serving.invocations import refuse_unknown
from serving.scoring import ScoreResult, check_for_scoring, features_for_review, null_share_rows, predict_rows
from serving.served_model import LoadedModel
from serving.shadow import SHADOW, shadow_rows

if TYPE_CHECKING:
    from base.settings import ModelConfig

REQUEST = "request"


@dataclass(frozen=True, eq=False)
class Serving:
    """What a request is scored with, swapped whole when an alias moves: a request keeps the one it took."""

    champion: LoadedModel
    challenger: LoadedModel | None = None
    known_columns: frozenset[str] = frozenset()
    since: str = ""


@dataclass(frozen=True, eq=False)
class LiveAnswer:
    """The champion's rows (returned and logged) and the request's rows; the rest is done by the writer.

    What is no part of the response is not computed on the request's time: the log writer asks
    for the review rows' features and, with a challenger, its answer beside each row when it writes.
    """

    result: ScoreResult
    frame: pd.DataFrame  # the request's rows: review features and the challenger's input
    challenger: LoadedModel | None = None

    def review_features(self, config: "ModelConfig") -> pd.DataFrame:
        """What a reviewer sees of each row routed to review (``serving.review_columns``)."""
        return features_for_review(config, self.frame, self.result.review_mask())


def review_features(config: "ModelConfig", answers: list[LiveAnswer]) -> pd.DataFrame:
    """The review rows' features of every answer, in order: cut out of all the requests' rows at
    once when the requests have the same columns (a cut per request costs more than the request)."""
    import numpy as np

    if len({tuple(a.frame.columns) for a in answers}) != 1:
        return pd.concat([a.review_features(config) for a in answers], ignore_index=True)
    frame = pd.concat([a.frame for a in answers], ignore_index=True)
    return features_for_review(config, frame, np.concatenate([a.result.review_mask() for a in answers]))


def logged_rows(config: "ModelConfig", answers: list[LiveAnswer]) -> pd.DataFrame:
    """The answers' rows as the prediction log holds them, with the challenger's answer when there is one.

    The challenger scores the answers that share it and their columns' types in one call: a
    model's fixed cost per call is most of a small request's cost, and each row's answer does not
    depend on the rows beside it. Answers with other column types are scored apart, as they came;
    when the challenger fails on a group, each answer is scored alone so that only the one that
    broke it goes without the challenger's answer.
    """
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, answer in enumerate(answers):
        key = (id(answer.challenger), tuple(answer.frame.columns), tuple(answer.frame.dtypes.tolist()))
        groups.setdefault(key, []).append(i)
    parts: list[pd.DataFrame] = [answer.result.rows for answer in answers]
    for members in groups.values():
        challenger = answers[members[0]].challenger
        if challenger is None:
            continue
        frame = pd.concat([answers[i].frame for i in members], ignore_index=True)
        rows = pd.concat([answers[i].result.rows for i in members], ignore_index=True)
        logged, start = shadow_rows(config, challenger, frame, rows), 0
        if SHADOW + VERSION not in logged.columns and len(members) > 1:
            # one answer's rows broke the challenger: scored alone, the others keep its answers
            for i in members:
                parts[i] = shadow_rows(config, challenger, answers[i].frame, answers[i].result.rows)
            continue
        for i in members:
            size = len(answers[i].result.rows)
            parts[i], start = logged.iloc[start : start + size], start + size
    return pd.concat(parts, ignore_index=True)


def score_request(config: "ModelConfig", serving: Serving, frame: pd.DataFrame) -> LiveAnswer:
    """Check, predict, post-validate one request; raises ``BatchRefused``/``UnknownColumns``, logs nothing.

    The challenger (``serving.shadow``) scores the rows in the log writer, after the answer is sent.
    """
    import uuid

    if not isinstance(frame.index, pd.RangeIndex) or frame.index.start != 0 or frame.index.step != 1:
        frame = frame.reset_index(drop=True)
    refuse_unknown(frame, set(serving.known_columns))
    report = check_for_scoring(frame, config, REQUEST)
    # a request is its own batch: an id, not a content hash (the rows' ids already hash their values)
    nulls = null_share_rows(frame, [f.column for f in report.failures if f.column])
    result = predict_rows(config, frame, REQUEST, uuid.uuid4().hex[:16], loaded=serving.champion, nulls=nulls)
    return LiveAnswer(result, frame, serving.challenger)


def known_columns(config: "ModelConfig", loaded: LoadedModel) -> frozenset[str]:
    """Columns a request may carry: the suite's reference columns, the model's, the id, time and target."""
    from monitoring.validation import read_suite

    _, items, _ = read_suite(config.suite_path)
    named: set[str] = set()
    for item in items:
        kwargs = item.get("kwargs", {})
        named.update(str(c) for c in kwargs.get("column_set", []) or [])
        named.update(str(kwargs[k]) for k in ("column", "column_A", "column_B") if k in kwargs)
    fitted = getattr(loaded.model, "feature_names_in_", None)
    if fitted is not None:
        named.update(str(c) for c in fitted)
    extra = {config.data.timestamp_column, config.data.target_column, config.serving.id_column}
    return frozenset(named | {c for c in extra if c})


def warm(config: "ModelConfig", loaded: LoadedModel, rows: int) -> str:
    """Predict on a few of the version's reference rows before it takes traffic; raises when it cannot."""
    from registry.snapshots import load_snapshot
    from registry.store import connect
    from serving.served_model import model_columns
    from training.metrics import predict_outputs

    try:
        sample = load_snapshot(connect(config), config.name, loaded.version).frame.head(rows)
    except Exception as exc:  # no snapshot stored with an old version: nothing to warm on, not a broken model
        return f"v{loaded.version} not warmed: no reference rows ({type(exc).__name__})"
    predict_outputs(config.task, loaded.model, sample[model_columns(loaded.model, sample, config)])
    return f"v{loaded.version} warmed on {len(sample)} reference rows"


def now_text() -> str:
    return datetime.now(UTC).isoformat()
