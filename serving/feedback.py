"""Labels that come back: the verdict on the champion from the rows it actually scored.

A labels file is read and refused whole when a label is not one the model can have; the
labels are remembered (``serving.label_store``), so outcomes that arrive in pieces add up,
and joined with reviewers' answers to the prediction log (``serving.live_figures``). The
champion's most recent day with at least ``drift.min_rows`` labelled rows is judged against
the metric it was promoted with, exactly like a labelled batch in a drift check
(``monitoring.decay``): a drop past ``drift.performance_tolerance`` is the performance signal
that starts a retrain. The review-override rate counts answers that disagree with the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from base.errors import Kind, RetrainError
from base.vocabulary import Route, Signal
from monitoring.decay import decide_signals, metric_higher_is_better
from monitoring.drift_types import DecayReport
from serving.label_domain import refused_labels
from serving.live_figures import TRUTH, DayFigures, day_figures, hit_rate, join_truth
from serving.shadow import ShadowComparison, compare_shadow
from training.label_text import label_text

if TYPE_CHECKING:
    from base.settings import ModelConfig


class LabelsUnusable(RetrainError):
    """A labels file that cannot be joined: unreadable, or without an id or label column."""

    kind = Kind.USAGE


@dataclass(frozen=True)
class FeedbackResult:
    """The live figures and the verdict on the champion; ``signals`` start a retrain."""

    model: str
    champion_version: str | None
    metric: str
    labelled_rows: int
    review_answers: int
    review_override_rate: float | None
    auto_accuracy: float | None
    days: tuple[DayFigures, ...]
    decay: DecayReport | None
    signals: tuple[Signal, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
    shadow: ShadowComparison | None = None  # the challenger beside the champion on the same labelled rows

    @property
    def degraded(self) -> bool:
        return self.decay is not None and self.decay.degraded

    def figures(self) -> dict[str, float]:
        """The numbers worth a chart: overall figures and the judged day's metric."""
        out = {"labelled_rows": float(self.labelled_rows), "review_answers": float(self.review_answers)}
        if self.review_override_rate is not None:
            out["review_override_rate"] = self.review_override_rate
        if self.auto_accuracy is not None:
            out["auto_accuracy"] = self.auto_accuracy
        if self.decay is not None and self.decay.current is not None:
            out[f"{self.metric}.live"] = self.decay.current
            out[f"{self.metric}.baseline"] = self.decay.baseline
            out[f"{self.metric}.drop"] = float(self.decay.drop or 0.0)
        if self.shadow is not None and self.shadow.challenger_metric is not None:
            out[f"shadow.{self.metric}.challenger"] = self.shadow.challenger_metric
            out[f"shadow.{self.metric}.champion"] = float(self.shadow.champion_metric or float("nan"))
        return out

    def summary(self) -> str:
        head = f"{self.model} v{self.champion_version}: {self.labelled_rows} labelled rows, " + (
            f"signals {', '.join(self.signals)}" if self.signals else "no retrain signal"
        )
        lines = [head] + ([self.decay.summary()] if self.decay is not None else [])
        lines += [self.shadow.summary()] if self.shadow is not None else []
        if self.review_override_rate is not None:
            lines.append(f"reviewers changed {self.review_override_rate:.1%} of {self.review_answers} answered rows")
        return "\n".join(lines + [f"note: {n}" for n in self.notes])

    def to_dict(self) -> dict[str, Any]:
        from training.types import to_jsonable

        return to_jsonable(
            {
                "model": self.model,
                "champion_version": self.champion_version,
                "metric": self.metric,
                "labelled_rows": self.labelled_rows,
                "review_answers": self.review_answers,
                "review_override_rate": self.review_override_rate,
                "auto_accuracy": self.auto_accuracy,
                "degraded": self.degraded,
                "signals": list(self.signals),
                "decay": self.decay.to_dict() if self.decay is not None else None,
                "days": [d.__dict__ for d in self.days],
                "notes": list(self.notes),
                "shadow": None if self.shadow is None else self.shadow.to_dict(),
            }
        )


def read_labels(path: Path, config: "ModelConfig") -> pd.DataFrame:
    """``id`` (or ``serving.id_column``) and ``label`` (or the target column) from CSV or Parquet."""
    path = Path(path)
    try:
        raw = pd.read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise LabelsUnusable(f"{path}: cannot read the labels file: {exc}", file=str(path)) from None
    id_col = _first(raw, ["id", config.serving.id_column], path, "id")
    label_col = _first(raw, ["label", config.data.target_column], path, "label")
    labels = pd.DataFrame({"id": raw[id_col].astype(str), TRUTH: raw[label_col]})
    return labels[labels[TRUTH].notna()].drop_duplicates("id", keep="last")


def _first(frame: pd.DataFrame, names: list[str | None], path: Path, what: str) -> str:
    for name in names:
        if name is not None and name in frame.columns:
            return name
    wanted = " or ".join(repr(n) for n in names if n)
    raise LabelsUnusable(f"{path}: no {what} column (expected {wanted})", file=str(path))


def judge_feedback(
    config: "ModelConfig",
    log: pd.DataFrame,
    labels: pd.DataFrame,
    answers: pd.DataFrame,
    champion_version: str | None,
    baseline: float | None,
) -> FeedbackResult:
    """Join, compute the live figures, and judge the champion's most recent well-labelled day."""
    metric = config.primary_metric
    if log.empty:
        return FeedbackResult(
            config.name, champion_version, metric, 0, 0, None, None, (), None, (), ("no predictions logged yet",)
        )
    joined = join_truth(log, labels, answers)
    days = day_figures(config.task, metric, joined)
    known = joined[joined[TRUTH].notna()]
    reviewed = joined[(joined["route"] == Route.REVIEW) & joined["answer"].notna()]
    changed = label_text(reviewed["answer"]) != label_text(reviewed["prediction"])
    override = None if reviewed.empty else float(changed.mean())
    decay, notes = judge_champion(config, days, champion_version, baseline)
    unmatched = int((~labels["id"].astype(str).isin(joined["id"])).sum()) if len(labels) else 0
    if unmatched:
        notes.append(f"{unmatched} label(s) match no logged prediction (scored elsewhere, or not yet)")
    signals = tuple(decide_signals(None, decay, list(config.drift.triggers)))
    return FeedbackResult(
        config.name,
        champion_version,
        metric,
        len(known),
        len(reviewed),
        override,
        hit_rate(config.task, known[known["route"] == Route.AUTO]),
        tuple(days),
        decay,
        signals,
        tuple(notes),
        compare_shadow(config, joined),
    )


def judge_champion(
    config: "ModelConfig", days: list[DayFigures], version: str | None, baseline: float | None
) -> tuple[DecayReport | None, list[str]]:
    """The champion's latest day with ``drift.min_rows`` labelled rows against its promotion score."""
    metric = config.primary_metric
    if version is None or baseline is None:
        return None, [f"no champion with a recorded {metric}: performance not judged"]
    usable = [d for d in days if d.version == version and d.labelled >= config.drift.min_rows and d.metric is not None]
    if not usable:
        return None, [f"no day with {config.drift.min_rows} labelled rows of v{version} yet: performance not judged"]
    day = usable[-1]
    assert day.metric is not None
    higher = metric_higher_is_better(metric)
    drop = baseline - day.metric if higher else day.metric - baseline
    tolerance = config.drift.performance_tolerance
    report = DecayReport(metric, baseline, day.metric, drop, tolerance, drop > tolerance, day.labelled, higher)
    return report, [f"judged on the rows scored on {day.day}"]


def run_feedback(config: "ModelConfig", labels_path: Path) -> FeedbackResult:
    """Read the labels file, refuse it whole if a label is not one the model can have, then judge.

    The prediction log and the champion are read once, for the check and for the verdict.
    """
    from serving import prediction_log

    labels = read_labels(labels_path, config)
    log = prediction_log.read_log(config.serving.log_root(config.home), config.name, url=config.prediction_log_url)
    champion = champion_baseline(config)
    refused = refused_labels(config, labels["id"], labels[TRUTH], str(labels_path), log, champion[0])
    if refused:
        raise LabelsUnusable(refused, file=str(labels_path))
    return judge_labels(config, labels, log, champion)


def judge_labels(
    config: "ModelConfig",
    labels: pd.DataFrame,
    log: pd.DataFrame | None = None,
    champion: tuple[str | None, float | None] | None = None,
) -> FeedbackResult:
    """Remember the labels in hand (``id``, ``truth``), then judge with every label so far.

    ``log`` and ``champion`` (version, baseline) are read here when the caller has not.
    """
    from serving import label_store, prediction_log, review_queue

    home, url = config.home, config.serving_url
    label_store.add_labels(home, config.name, labels["id"], label_text(labels[TRUTH]), url=url)
    labels = label_store.read_labels(home, config.name, url=url).rename(columns={"label": TRUTH})[["id", TRUTH]]
    if log is None:
        log = prediction_log.read_log(config.serving.log_root(home), config.name, url=config.prediction_log_url)
    version, baseline = champion if champion is not None else champion_baseline(config)
    return judge_feedback(config, log, labels, review_queue.answers(home, config.name, url=url), version, baseline)


def champion_baseline(config: "ModelConfig") -> tuple[str | None, float | None]:
    """The champion's version and the primary metric it was promoted with (ledger, else its tags)."""
    from registry.ledger import open_ledger
    from registry.store import connect
    from registry.versions import get_version

    info = get_version(connect(config), config.name, "champion")
    if info is None:
        return None, None
    recorded = open_ledger(config.ledger_url).last_metrics(config.name, info.version) or dict(info.metrics)
    value = recorded.get(config.primary_metric)
    return info.version, None if value is None else float(value)
