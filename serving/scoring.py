"""Score a batch with the champion (or a chosen version): checked going in and coming out.

The order is the promise: read the batch, validate it with the model's suite (a batch that
fails is refused and nothing is written anywhere), predict, check the outputs against the
``constraints`` (outputs that fail are refused the same way), and only then append the rows
to the prediction log and queue the unsure ones for review. The review threshold is the one
recorded on the version at training (``serving.calibration.Calibration``); a version registered
before serving existed falls back to ``serving.fixed`` and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from base.vocabulary import Route
from serving.served_model import BatchRefused, LoadedModel, load_scoring_model, model_columns

__all__ = ["BatchRefused", "LoadedModel", "ScoreResult", "load_scoring_model", "model_columns", "score_batch"]

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from base.settings import ModelConfig
    from monitoring.types import ExpectationFailure, ValidationReport
    from serving.calibration import Calibration


@dataclass(frozen=True, eq=False)
class ScoreResult:
    """One scoring run: the per-row frame and where its rows went."""

    model: str
    batch: str
    batch_id: str
    version: str
    calibration: "Calibration"
    rows: "pd.DataFrame"
    scored_at: str
    log_file: str | None = None
    queued: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)
    classes: tuple[str, ...] | None = None  # the version's classes as label text; None for a regressor

    @property
    def review_rows(self) -> int:
        return int(self.review_mask().sum())

    def review_mask(self) -> "np.ndarray":
        """Which rows were routed to a person."""
        return (self.rows["route"] == Route.REVIEW).to_numpy()

    def summary(self) -> str:
        share = self.review_rows / max(len(self.rows), 1)
        return (
            f"{self.model} v{self.version} scored {len(self.rows)} rows of {self.batch}: "
            f"{self.review_rows} ({share:.1%}) to review at threshold {self.calibration.threshold:.4g} "
            f"({self.calibration.mode})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "batch": self.batch,
            "batch_id": self.batch_id,
            "version": self.version,
            "rows": len(self.rows),
            "review_rows": self.review_rows,
            "threshold": self.calibration.threshold,
            "threshold_mode": str(self.calibration.mode),
            "scored_at": self.scored_at,
            "prediction_log": self.log_file,
            "queued": self.queued,
            "notes": list(self.notes),
        }


def score_batch(
    config: "ModelConfig",
    batch_path: str | Path,
    version: str | None = None,
    scored_at: datetime | None = None,
    record: bool = True,
) -> ScoreResult:
    """Validate, predict, post-validate; with ``record``, log every row and queue the unsure ones."""
    from monitoring.sources import fetch_batch
    from serving import prediction_log, review_queue
    from training.data import frame_hash, load_batch

    path = fetch_batch(batch_path, config)
    frame = load_batch(path, config.data.timestamp_column)
    report = check_for_scoring(frame, config, path.name, str(path))
    nulls = null_share_rows(frame, [f.column for f in report.failures if f.column])
    result = predict_rows(config, frame, path.name, frame_hash(frame)[:16], version, scored_at, nulls=nulls)
    if not record:
        return result
    when = datetime.fromisoformat(result.scored_at)
    logged = result.rows
    if config.serving.shadow:
        from serving.shadow import load_challenger, shadow_rows

        logged = shadow_rows(config, load_challenger(config, result.version), frame, result.rows)
    log_file = prediction_log.write_batch(
        config.serving.log_root(config.home), config.name, result.batch_id, logged, when,
        url=config.prediction_log_url,
    )  # fmt: skip
    review = result.review_mask()
    features = features_for_review(config, frame, review)
    url = config.serving_url
    queued = review_queue.enqueue(config.home, config.name, result.batch_id, result.rows[review], features, url=url)
    review_queue.record_domain(config.home, config.name, result.version, result.classes, url=url)
    return replace(result, log_file=str(log_file), queued=queued)


def check_for_scoring(
    frame: "pd.DataFrame", config: "ModelConfig", batch: str, file: str | None = None
) -> "ValidationReport":
    """The suite minus the target; a broken batch raises ``BatchRefused`` naming each failed check.

    A rule about every row, or a column with nothing in it at all, breaks the batch; a null-share
    rule judged broken for its size only sends the rows concerned to review (``null_share_rows``).
    Other share rules (values outside a set or range, ``mostly`` < 1) are not judged on a few rows,
    so a one-row request with a new category is answered; beyond sampling noise they refuse.
    """
    from monitoring.validation import NOT_NULL

    report = validate_for_scoring(frame, config, batch)
    if any(not _sends_rows_to_review(f, NOT_NULL) for f in report.failures):
        checks = tuple(f"{f.label()}: {f.details}".rstrip(": ") for f in report.failures)
        raise BatchRefused(f"{batch} refused, nothing scored: {report.summary()}", checks=checks, file=file)
    return report


def _sends_rows_to_review(failure: "ExpectationFailure", null_rule: str) -> bool:
    """A broken null share, with some rows still filled: those rows go to a person, the rest is scored."""
    return failure.share_rule and failure.expectation == null_rule and failure.unexpected_percent != 100.0


@dataclass(frozen=True, eq=False)
class NullRows:
    """Rows behind a broken null share: routed to a person when scored, each with its reason."""

    flagged: "np.ndarray"
    reasons: list[str]
    note: str


def null_share_rows(frame: "pd.DataFrame", columns: list[str]) -> NullRows | None:
    """Which rows hold a null where the batch has more nulls than the suite allows (None: no such column)."""
    import numpy as np

    if not columns:
        return None
    missing = np.column_stack([frame[c].isna().to_numpy() for c in columns])
    flagged = np.asarray(missing.any(axis=1), dtype=bool)
    note = (
        f"{int(flagged.sum())} row(s) with nulls in {', '.join(columns)} sent to review: the batch has more nulls "
        "there than the suite allows"
    )
    return NullRows(flagged, _null_reasons(columns, missing), note)


def _null_reasons(columns: list[str], missing: "np.ndarray") -> list[str]:
    """Each row's reason, written once per combination of null columns rather than once per row."""
    import numpy as np

    combinations, which = np.unique(missing, axis=0, return_inverse=True)
    texts = []
    for combination in combinations.tolist():
        named = ", ".join(c for c, gone in zip(columns, combination, strict=True) if gone)
        texts.append(f"null in {named}: the batch's null share breaks the suite" if named else "")
    return [texts[i] for i in which.reshape(-1).tolist()]


def predict_rows(
    config: "ModelConfig",
    frame: "pd.DataFrame",
    batch: str,
    batch_id: str,
    version: str | None = None,
    scored_at: datetime | None = None,
    loaded: LoadedModel | None = None,
    nulls: NullRows | None = None,
) -> ScoreResult:
    """The per-row frame of a validated batch; raises ``BatchRefused`` when the outputs fail.

    ``loaded`` is a version already in memory (the HTTP service's); else ``version`` or the champion is loaded.
    ``nulls``: rows routed to a person whatever their confidence, with their reason.
    """
    from serving.calibration import row_ids, scored_frame
    from training.compute import limited_threads
    from training.metrics import predict_outputs
    from training.output_checks import check_predicted

    loaded = loaded or load_scoring_model(config, version)
    info, calibration, notes = loaded.info, loaded.calibration, loaded.notes
    columns = model_columns(loaded.model, frame, config)
    with limited_threads(config):
        outputs = predict_outputs(config.task, loaded.model, frame[columns])
    check = check_predicted(config.task, outputs, config.constraints)
    if not check.passed:
        raise BatchRefused(
            f"{batch}: v{info.version}'s outputs fail the constraints: {'; '.join(check.problems)}",
            checks=tuple(check.problems),
        )
    if config.serving.id_column is not None and config.serving.id_column not in frame.columns:
        raise BatchRefused(f"{batch}: no id column {config.serving.id_column!r} (serving.id_column)")
    ids = row_ids(frame, config.serving.id_column, _id_source(config, frame))
    flagged, reasons = (None, None) if nulls is None else (nulls.flagged, nulls.reasons)
    rows = scored_frame(config.task, ids, outputs, calibration, info.version, flagged, reasons)
    notes = tuple(notes) if nulls is None else (*notes, nulls.note)
    when = (scored_at or datetime.now(UTC)).astimezone(UTC).isoformat()
    classes = None if outputs.labels is None else class_text(tuple(outputs.labels))
    return ScoreResult(
        config.name, batch, batch_id, info.version, calibration, rows, when, notes=notes, classes=classes
    )


@lru_cache(maxsize=64)
def class_text(labels: tuple[Any, ...]) -> tuple[str, ...]:
    """A version's classes as label text; the same few labels on every request, spelled once."""
    from training.label_text import label_text

    return tuple(str(c) for c in label_text(list(labels)))


def _id_source(config: "ModelConfig", frame: "pd.DataFrame") -> list[str]:
    """The id column alone, else every column but the target (a label arriving later must not change the id)."""
    if config.serving.id_column is not None:
        return [config.serving.id_column]
    return [c for c in frame.columns if c != config.data.target_column]


def review_columns(config: "ModelConfig", frame: "pd.DataFrame") -> list[str]:
    """What a reviewer sees of a row: ``serving.review_columns`` (those the batch has), else every
    column but the target and ``data.exclude``, which a team excludes because they leak the answer."""
    if config.serving.review_columns is not None:
        return [c for c in config.serving.review_columns if c in frame.columns]
    hidden = {config.data.target_column, *config.data.exclude}
    return [c for c in frame.columns if c not in hidden]


def features_for_review(config: "ModelConfig", frame: "pd.DataFrame", review: "np.ndarray") -> "pd.DataFrame":
    """What a reviewer sees of the rows ``review`` marks (``review_columns``), in their order."""
    return frame.loc[review, review_columns(config, frame)].reset_index(drop=True)


def validate_for_scoring(frame: "pd.DataFrame", config: "ModelConfig", batch: str) -> "ValidationReport":
    """The model's suite without its target expectations: rows to score carry no labels yet.

    Evaluated in pandas (``monitoring.fast_check``): GX's verdicts at a fraction of GX's cost per call.
    """
    from monitoring.fast_check import validate_rows

    return validate_rows(frame, config.suite_path, batch, without_column=config.data.target_column)


def write_rows(rows: "pd.DataFrame", out: str | Path) -> Path:
    """The scored rows as Parquet (``.parquet``/``.pq``) or CSV (anything else), through a scratch file."""
    import os

    from base.errors import store_faults

    out = Path(out)
    with store_faults("output file", str(out), "check the folder exists and may be written"):
        out.parent.mkdir(parents=True, exist_ok=True)
        scratch = out.with_name(f".{out.name}.tmp")
        if out.suffix.lower() in (".parquet", ".pq"):
            rows.to_parquet(scratch, index=False)
        else:
            rows.to_csv(scratch, index=False)
        os.replace(scratch, out)
    return out
