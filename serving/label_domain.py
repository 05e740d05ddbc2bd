"""Which labels a model can be told: its classes, or any number for a regressor.

A label outside them is not feedback, it is a typo: ``banana`` on a late/on-time model
would be counted as a reviewer overriding the model and drag the live figures. So every way
a label arrives (``review answer``, an answered review sheet, a labels file for
``feedback``) is checked against the domain of the model version that made the prediction,
all rows before any is recorded. The domain comes from the reference snapshot stored with
the version: its ``classes`` (the training frame's label set, recorded since snapshots carry
it) or, for older versions, the labels in the snapshot's sample.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from training.label_text import label_text_of

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from base.settings import ModelConfig
    from registry.snapshots import ReferenceSnapshot

SHOWN = 5  # problems listed before "and N more"
MAX_CLASSES = 50  # a target with more distinct values in an old snapshot is taken for a regression target


@dataclass(frozen=True)
class LabelDomain:
    """A classifier's classes (as label text), or ``None`` for a regressor (any finite number)."""

    classes: tuple[str, ...] | None

    def problem(self, value: Any) -> str | None:
        """Why ``value`` cannot be a label of this model, or None when it can."""
        if self.classes is None:
            try:
                number = float(value)
            except (TypeError, ValueError):
                return f"label {value!r} is not a number (the model predicts numbers)"
            return None if math.isfinite(number) else f"label {value!r} is not a finite number"
        text = label_text_of(value)
        if text in self.classes:
            return None
        return f"label {value!r} is not one of the model's classes {list(self.classes)}"


def domain_from_snapshot(snapshot: "ReferenceSnapshot") -> LabelDomain:
    """The recorded classes, else the labels seen in the stored sample."""
    meta = snapshot.meta
    if meta.get("task") == "regression":
        return LabelDomain(None)
    if meta.get("classes") is not None:
        return LabelDomain(tuple(str(c) for c in meta["classes"]))
    target = meta.get("target")
    if target is None or target not in snapshot.frame.columns:
        return LabelDomain(None)
    seen = snapshot.frame[target].dropna().unique()
    if len(seen) > MAX_CLASSES:
        return LabelDomain(None)
    return LabelDomain(tuple(sorted({label_text_of(v) for v in seen})))


def version_domains(tracking_uri: str, model: str) -> Callable[[str], LabelDomain]:
    """A lookup of the domain of each version of ``model``, loading each snapshot once.

    The registry is opened on first use, and an embedded (SQLite) one only if it exists:
    checking an answer never creates a store.
    """
    from registry.snapshots import load_snapshot

    cache: dict[str, LabelDomain] = {}
    client: list[MlflowClient] = []

    def domain(version: str) -> LabelDomain:
        if version not in cache:
            if not client:
                client.append(_open_existing(tracking_uri))
            cache[version] = domain_from_snapshot(load_snapshot(client[0], model, version))
        return cache[version]

    return domain


def _open_existing(tracking_uri: str) -> "MlflowClient":
    from pathlib import Path

    from registry.store import client_for

    if tracking_uri.startswith("sqlite:///") and not Path(tracking_uri.removeprefix("sqlite:///")).is_file():
        raise LookupError(f"no registry at {tracking_uri}")
    return client_for(tracking_uri)


def find_problems(rows: Iterable[tuple[str, Any, LabelDomain]]) -> list[str]:
    """``(where, label, domain)`` per row → one line per refused label, where first."""
    found = []
    for where, label, domain in rows:
        problem = domain.problem(label)
        if problem is not None:
            found.append(f"{where}: {problem}")
    return found


def summarise(problems: list[str], what: str) -> str:
    """One message for the error contract: how many, the first few, and that nothing was recorded."""
    shown = problems[:SHOWN]
    more = f"\n  … and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
    return f"{len(problems)} {what} refused, nothing recorded:\n  " + "\n  ".join(shown) + more


def queue_domains(
    home: Any, model: str, fallback: Callable[[str], LabelDomain], url: str | None = None
) -> Callable[[str], LabelDomain]:
    """The domain the review queue recorded for a version when scoring it; else the snapshot's.

    A version whose domain is nowhere to be found (queued before domains were recorded, its
    snapshot gone) is not checked: refusing every answer for it would strand its rows.
    """
    from serving.review_queue import read_domain

    def domain(version: str) -> LabelDomain:
        known, classes = read_domain(home, model, version, url=url)
        if known:
            return LabelDomain(classes)
        try:
            return fallback(version)
        except Exception:  # no snapshot or no such version: nothing to check against
            return UNCHECKED

    return domain


class _Unchecked(LabelDomain):
    def problem(self, value: Any) -> str | None:
        return None


UNCHECKED = _Unchecked(None)


def refused_labels(
    config: "ModelConfig", ids: pd.Series, labels: pd.Series, source: str, log: pd.DataFrame, champion: str | None
) -> str | None:
    """Why a labels file cannot be taken (every refused label, by id), or None.

    Each label is checked against the version that predicted its row (``log``, the prediction
    log), else the ``champion`` version; a regressor's labels must be numbers.
    """
    if config.task == "regression":
        domains: Callable[[str], LabelDomain] = lambda _version: LabelDomain(None)  # noqa: E731
    else:
        fallback = version_domains(config.tracking_uri, config.name)
        domains = queue_domains(config.home, config.name, fallback, config.serving_url)
    versions = dict(zip(log["id"].astype(str), log["version"].astype(str), strict=True)) if "id" in log else {}
    rows = []
    for row_id, label in zip(ids.astype(str), labels, strict=True):
        version = versions.get(row_id, champion)
        rows.append((f"{source} (id {row_id})", label, UNCHECKED if version is None else domains(version)))
    problems = find_problems(rows)
    return summarise(problems, "label(s)") if problems else None
