"""What the review page shows and records, apart from HTTP: the queue as a reviewer reads it.

Rows come from the review queue (``serving.review_queue``) with their scores from the
prediction log, sorted and filtered as a reviewer works: least confident first (or newest
first), one batch, pending or answered. The labels offered for a row are its model version's
classes, as ``retrain review answer`` checks them. Answers go through the same check
(``serving.review_answers``) and are recorded all or none, each only over the answer the
reviewer saw (``review_queue.reply``): a form sent twice records nothing the second time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from base.errors import Kind, RetrainError

PAGE_ROWS = 100  # rows per page; a submit carries at most this many answers


class Show(StrEnum):
    PENDING = "pending"
    ANSWERED = "answered"
    ALL = "all"


class Order(StrEnum):
    LEAST_CONFIDENT = "confidence"
    NEWEST = "newest"


class AnswersRefused(RetrainError):
    """A submit the queue cannot take: an unknown row, a label outside the classes."""

    kind = Kind.USAGE


@dataclass(frozen=True)
class ReviewSite:
    """Where the page reads and writes: the home, the registry, the serving state."""

    home: Path
    tracking_uri: str
    serving_url: str
    log_root: Path
    log_url: str  # the prediction log's store: ``serving_url``, or files when a folder is configured


@dataclass(frozen=True)
class RowView:
    id: str
    batch: str
    version: str
    prediction: str
    score: float | None
    confidence: float
    queued_at: str
    features: list[tuple[str, Any]]
    label: str | None
    reviewer: str | None
    answered_at: str | None
    classes: tuple[str, ...] | None


@dataclass(frozen=True)
class QueueView:
    model: str
    rows: list[RowView]
    batches: list[str]
    pending: int
    answered: int
    shown_from: int = 0  # the rows' place among all that match the filters
    matching: int = 0

    @property
    def previous_start(self) -> int | None:
        return max(0, self.shown_from - PAGE_ROWS) if self.shown_from > 0 else None

    @property
    def next_start(self) -> int | None:
        end = self.shown_from + len(self.rows)
        return end if end < self.matching else None


def overview(site: ReviewSite) -> dict[str, tuple[int, int]]:
    """(pending, answered) per model, models in name order."""
    from serving.review_queue import queue_sizes

    return dict(sorted(queue_sizes(site.home, url=site.serving_url).items()))


def queue_view(site: ReviewSite, model: str, batch: str | None, show: Show, order: Order, start: int = 0) -> QueueView:
    """``PAGE_ROWS`` of the model's queued rows from ``start``, filtered and sorted, with scores
    and the labels each may take: a page a person works through, not the whole backlog."""
    from serving.review_queue import list_queue

    rows = list_queue(site.home, model, pending_only=False, url=site.serving_url)
    batches = sorted(rows["batch"].astype(str).unique().tolist())
    answered = int(rows["label"].notna().sum())
    pending = len(rows) - answered
    if batch:
        rows = rows[rows["batch"] == batch]
    if show is not Show.ALL:
        rows = rows[rows["label"].notna() == (show is Show.ANSWERED)]
    if order is Order.NEWEST:
        rows = rows.sort_values(["queued_at", "confidence"], ascending=[False, True], kind="mergesort")
    matching, start = len(rows), max(0, min(start, max(len(rows) - 1, 0)))
    rows = rows.iloc[start : start + PAGE_ROWS]
    scores = _scores(site, model, sorted(rows["batch"].astype(str).unique().tolist()))
    domain = _domains(site, model)
    views = [_row_view(r, scores, domain) for r in rows.to_dict(orient="records")]
    return QueueView(model, views, batches, pending, answered, start, matching)


def _row_view(r: dict[str, Any], scores: dict[tuple[str, str], float], domain: Any) -> RowView:
    def text(value: Any) -> str | None:
        return None if value is None or value != value else str(value)  # NaN from the outer join

    def when(value: Any) -> str | None:
        return None if text(value) is None else str(value)[:19].replace("T", " ")

    return RowView(
        id=str(r["id"]), batch=str(r["batch"]), version=str(r["version"]), prediction=str(r["prediction"]),
        score=scores.get((str(r["batch"]), str(r["id"]))), confidence=float(r["confidence"]),
        queued_at=str(when(r["queued_at"])), features=list(json.loads(r["features"]).items()),
        label=text(r["label"]), reviewer=text(r["reviewer"]), answered_at=when(r["answered_at"]),
        classes=domain(str(r["version"])).classes,
    )  # fmt: skip


def _scores(site: ReviewSite, model: str, batches: list[str]) -> dict[tuple[str, str], float]:
    from serving.prediction_log import read_batches

    log = read_batches(site.log_root, model, batches, url=site.log_url)
    if "score" not in log.columns:
        return {}
    return {(str(b), str(i)): float(s) for b, i, s in zip(log["batch"], log["id"], log["score"], strict=True)}


def _domains(site: ReviewSite, model: str) -> Any:
    from serving.label_domain import queue_domains, version_domains

    cache: dict[str, Any] = {}
    lookup = queue_domains(site.home, model, version_domains(site.tracking_uri, model), site.serving_url)

    def domain(version: str) -> Any:
        if version not in cache:
            cache[version] = lookup(version)
        return cache[version]

    return domain


def record(site: ReviewSite, model: str, replies: list[Any], reviewer: str) -> list[Any]:
    """Check every answer as ``retrain review answer`` does, then record them all or none."""
    from serving.review_answers import check_answers
    from serving.review_queue import reply

    if not replies:
        raise AnswersRefused("no answer chosen: pick a label for at least one row (keys 1-9), then send")
    problem = check_answers(
        site.home, model, [(r.id, r.label) for r in replies], site.tracking_uri, url=site.serving_url
    )
    if problem:
        raise AnswersRefused(problem)
    return reply(site.home, model, replies, reviewer, url=site.serving_url)
