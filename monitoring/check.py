"""One drift check of one batch against the champion, with no orchestration in it.

``retrain drift`` (a CI gate), the demo and ``drift_check_flow`` all run these same steps:
validate the batch with the model's suite first (drift on a broken batch means nothing),
load the champion and the reference snapshot stored with its version, compare features and
the champion's outputs, score the champion when the batch carries labels, and turn the
findings into signals allowed by ``drift.triggers``. The check only reads: an invalid batch
is reported, not quarantined, so a CI gate never moves files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from base.errors import Kind, RetrainError
from base.secrets import redact_url

if TYPE_CHECKING:
    import pandas as pd

    from base.settings import ModelConfig
    from monitoring.drift_types import DecayReport, DriftReport
    from monitoring.intake import Intake
    from monitoring.types import ValidationReport
    from registry.snapshots import ReferenceSnapshot

CheckStatus = Literal["ok", "signal", "data_invalid", "insufficient_data"]


class NoChampion(RetrainError, LookupError):
    """The model has no champion yet, so there is nothing to measure drift against."""

    kind = Kind.UNKNOWN_MODEL


@dataclass(frozen=True, eq=False)
class Champion:
    """What a check needs from the registry: the serving model and what it learned from."""

    version: str
    run_id: str | None
    model: Any
    snapshot: "ReferenceSnapshot"
    baseline: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class DriftCheckResult:
    """The verdict on one batch; ``signals`` are the findings that should start a retrain."""

    model: str
    batch: str
    status: CheckStatus
    validation: "ValidationReport"
    champion_version: str | None = None
    drift: "DriftReport | None" = None
    decay: "DecayReport | None" = None
    signals: tuple[str, ...] = ()
    triggers: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def figures(self) -> dict[str, Any]:
        """The few numbers worth a chart or an event payload."""
        out: dict[str, Any] = {}
        if self.drift is not None:
            out.update(
                drift_share=self.drift.share,
                drift_threshold=self.drift.threshold,
                drifted_columns=len(self.drift.drifted_columns),
                columns=len(self.drift.columns),
                prediction_drifted=self.drift.prediction_drifted,
            )
            out.update({f"score.{c.column}": c.score for c in self.drift.columns if c.score is not None})
        if self.decay is not None and self.decay.current is not None:
            out.update(
                {
                    f"{self.decay.metric}.current": self.decay.current,
                    f"{self.decay.metric}.baseline": self.decay.baseline,
                    f"{self.decay.metric}.drop": self.decay.drop,
                    "labelled_rows": self.decay.rows,
                }
            )
        return out

    def summary(self) -> str:
        if self.status == "data_invalid":
            lines = [f"{self.batch}: batch failed validation and is set aside: {self.validation.summary()}"]
            lines += [f"drift of the columns that passed: {self.drift.summary()}"] if self.drift is not None else []
            return "\n".join(lines + [f"note: {n}" for n in self.notes])
        lines = [
            f"{self.model} v{self.champion_version} on {self.batch}: "
            + (f"signals {', '.join(self.signals)}" if self.signals else "no retrain signal")
        ]
        lines += [self.drift.summary()] if self.drift is not None else []
        lines += [self.decay.summary()] if self.decay is not None else []
        lines += [f"shift reported by validation: {describe(w)}" for w in self.validation.warnings]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "batch": self.batch,
            "status": self.status,
            "champion_version": self.champion_version,
            "signals": list(self.signals),
            "triggers": list(self.triggers),
            "notes": list(self.notes),
            "validation": self.validation.to_dict(),
            "drift": self.drift.to_dict() if self.drift is not None else None,
            "decay": self.decay.to_dict() if self.decay is not None else None,
            "figures": self.figures(),
        }


def describe(item: "Any") -> str:
    """A failed rule with the share of rows it concerns, e.g. ``x2: expect_..._between (27.5 % of rows)``."""
    share = f" ({item.unexpected_percent:.1f} % of rows)" if item.unexpected_percent is not None else ""
    return f"{item.column or 'table'}: {item.expectation}{share}"


def run_drift_check(config: "ModelConfig", batch_path: str | Path) -> DriftCheckResult:
    """Validate, compare with the champion's reference, check decay, decide the signals.

    A batch that fails validation is reported as such, with the drift of the columns that
    are fine beside it when a champion exists to compare with.
    """
    intake = validate_batch_file(config, batch_path)
    if not intake.accepted:
        try:
            champion = load_champion(config)
        except NoChampion:
            return invalid_result(config, intake)
        return invalid_result(config, intake, champion)
    return judge_batch(config, intake, load_champion(config))


def validate_batch_file(config: "ModelConfig", batch_path: str | Path) -> "Intake":
    from monitoring.intake import check_batch
    from monitoring.sources import fetch_batch

    return check_batch(fetch_batch(batch_path, config), config)


def invalid_result(config: "ModelConfig", intake: "Intake", champion: "Champion | None" = None) -> DriftCheckResult:
    """``data_invalid``, never a signal; with a champion, the drift of the columns that passed."""
    drift, notes = (None, []) if champion is None else partial_drift(config, intake, champion)
    return DriftCheckResult(
        config.name,
        intake.path.name,
        "data_invalid",
        intake.report,
        champion.version if champion is not None else None,
        drift,
        triggers=tuple(config.drift.triggers),
        notes=tuple(notes),
    )


def partial_drift(
    config: "ModelConfig", intake: "Intake", champion: Champion
) -> tuple["DriftReport | None", list[str]]:
    """Drift of the champion's features that the failed rules did not name; no predictions,
    since the champion needs every feature. None when nothing is left to compare."""
    from monitoring.drift import detect_drift
    from monitoring.drift_types import DriftInputError

    frame, failures = intake.frame, intake.report.failures
    if frame is None or len(frame) == 0 or any(f.column is None for f in failures):
        return None, ["no drift measured: the batch could not be read as a table"]
    bad = {f.column for f in failures}
    features = [c for c in champion.snapshot.features if c in frame.columns and c not in bad]
    excluded = [c for c in champion.snapshot.features if c not in features]
    if not features:
        return None, ["no drift measured: every feature column failed validation"]
    try:
        drift = detect_drift(champion.snapshot.frame, frame, config, features=features)
    except DriftInputError as err:
        return None, [f"no drift measured: {err}"]
    return drift, [
        f"drift measured on the {len(features)} feature column(s) that passed; left out: {', '.join(excluded)}"
    ]


def load_champion(config: "ModelConfig") -> Champion:
    """The champion's model, reference snapshot and the metrics it was promoted with."""
    from registry.ledger import open_ledger
    from registry.snapshots import load_snapshot
    from registry.store import connect
    from registry.versions import get_version, load_model

    client = connect(config)
    info = get_version(client, config.name, "champion")
    if info is None:
        raise NoChampion(
            f"model {config.name!r} has no champion in {redact_url(config.tracking_uri)}; "
            "run `retrain run` first, drift is measured against the champion"
        )
    snapshot = load_snapshot(client, config.name, info.version)
    baseline = open_ledger(config.ledger_url).last_metrics(config.name, info.version) or dict(info.metrics)
    return Champion(info.version, info.run_id, load_model(client, config.name, info.version), snapshot, baseline)


def judge_batch(config: "ModelConfig", intake: "Intake", champion: Champion) -> DriftCheckResult:
    """Drift of features and outputs, decay on labelled rows, then the policy's signals."""
    from monitoring.decay import decide_signals
    from training.compute import limited_threads

    frame = intake.frame
    with limited_threads(config):  # the champion predicts in both
        drift = measure_drift(config, frame, champion)
        decay, notes = measure_decay(config, frame, champion)
    signals = tuple(decide_signals(drift, decay, list(config.drift.triggers)))
    return DriftCheckResult(
        config.name,
        intake.path.name,
        decide_status(signals, drift),
        intake.report,
        champion.version,
        drift,
        decay,
        signals,
        tuple(config.drift.triggers),
        tuple(notes),
    )


def decide_status(signals: tuple[str, ...], drift: "DriftReport") -> CheckStatus:
    """A signal wins; otherwise a batch too small for a drift verdict says so rather than "ok"."""
    if signals:
        return "signal"
    return "insufficient_data" if drift.status == "insufficient_data" else "ok"


def measure_drift(config: "ModelConfig", frame: "pd.DataFrame", champion: Champion) -> "DriftReport":
    """Compare the batch with the snapshot on the champion's own features and outputs.

    The champion predicts only the sampled rows, not the whole batch.
    """
    from monitoring.drift import detect_drift
    from training.metrics import predict_outputs

    def predict(X: "pd.DataFrame") -> Any:
        return predict_outputs(config.task, champion.model, X).values

    snapshot = champion.snapshot
    return detect_drift(snapshot.frame, frame, config, predict, predict, features=snapshot.features)


def measure_decay(
    config: "ModelConfig", frame: "pd.DataFrame", champion: Champion
) -> tuple["DecayReport | None", list[str]]:
    """Score the champion on labelled rows against its promotion score; None without labels."""
    from monitoring.decay import check_decay

    target, metric = config.data.target_column, config.primary_metric
    if target not in frame.columns or not frame[target].notna().any():
        return None, [f"no labels in {target!r}: performance not checked"]
    baseline = champion.baseline.get(metric)
    if baseline is None:
        return None, [f"v{champion.version} has no recorded {metric}: performance not checked"]
    report = check_decay(
        config.task,
        champion.model,
        frame,
        champion.snapshot.features,
        target,
        float(baseline),
        metric,
        config.drift.performance_tolerance,
    )
    return report, []
