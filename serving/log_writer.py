"""Answered rows go to the prediction log and the review queue in the background, in batches.

A request hands its rows over (``submit`` only appends to an in-memory queue) and is answered
at once; a writer thread collects what arrived during ``serving.endpoint.log_flush_seconds``
and writes it as one batch through the same public functions batch scoring uses
(``prediction_log.write_batch``, ``review_queue.enqueue``, ``review_queue.record_domain``),
so whatever store sits behind them receives HTTP rows like any other. A write that fails is
kept and tried again at the next flush; ``close`` writes what is left before the process ends.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from base.settings import ModelConfig
    from serving.live import LiveAnswer

LOG = logging.getLogger(__name__)
_STOP = object()


@dataclass
class WriterCounts:
    """What the writer has done so far, for ``/health``."""

    rows_answered: int = 0  # handed over by requests; equal to rows_logged once everything is written
    rows_logged: int = 0
    rows_queued: int = 0
    batches: int = 0
    failed_writes: int = 0
    last_error: str = ""


class LogWriter:
    """One background thread per service; ``submit`` never blocks and never raises."""

    def __init__(self, config: "ModelConfig") -> None:
        self.config = config
        self.flush_seconds = config.serving.endpoint.log_flush_seconds
        self.counts = WriterCounts()
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._held: list[LiveAnswer] = []
        self._count_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="retrain-log-writer", daemon=True)

    def start(self) -> "LogWriter":
        self._thread.start()
        return self

    def submit(self, answer: "LiveAnswer") -> None:
        with self._count_lock:
            self.counts.rows_answered += len(answer.result.rows)
        self._queue.put(answer)

    def close(self, timeout: float = 30.0) -> None:
        """Write everything submitted so far, then stop the thread."""
        self._queue.put(_STOP)
        self._thread.join(timeout)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            stopping = first is _STOP
            items = [] if stopping else [first]
            deadline = time.monotonic() + self.flush_seconds
            while not stopping and (left := deadline - time.monotonic()) > 0:
                try:
                    item = self._queue.get(timeout=left)
                except queue.Empty:
                    break
                stopping = item is _STOP
                items += [] if stopping else [item]
            self._flush([*self._held, *items])  # type: ignore[list-item]

    def _flush(self, answers: list["LiveAnswer"]) -> None:
        self._held = []
        if not answers:
            return
        try:
            write_answers(self.config, answers, f"live-{uuid.uuid4().hex[:16]}")
        except Exception as exc:  # a store fault must not kill the writer: the rows wait for the next flush
            self._held = answers
            self.counts.failed_writes += 1
            self.counts.last_error = str(exc)[:300]
            LOG.error("prediction log write failed (%s); %d request(s) kept for the next try", exc, len(answers))
            return
        self.counts.rows_logged += sum(len(a.result.rows) for a in answers)
        self.counts.rows_queued += sum(a.result.review_rows for a in answers)
        self.counts.batches += 1


def write_answers(config: "ModelConfig", answers: list["LiveAnswer"], batch_id: str) -> None:
    """One prediction-log batch of every answered row; the unsure ones queued for review."""
    from serving import prediction_log, review_queue
    from serving.live import logged_rows, review_features

    rows = logged_rows(config, answers)  # the challenger scores here
    when = datetime.now(UTC)
    prediction_log.write_batch(
        config.serving.log_root(config.home), config.name, batch_id, rows, when, url=config.prediction_log_url
    )
    answered = pd.concat([a.result.rows for a in answers], ignore_index=True)
    review = np.concatenate([a.result.review_mask() for a in answers])
    features = review_features(config, answers)
    url = config.serving_url
    review_queue.enqueue(config.home, config.name, batch_id, answered[review], features, url=url)
    for version, classes in {(a.result.version, a.result.classes) for a in answers}:
        review_queue.record_domain(config.home, config.name, version, classes, url=url)
