"""A model version ready to score, and the refusal every scoring path raises.

Batch scoring loads one per batch; the HTTP service (``retrain endpoint``) keeps one loaded
and swaps it whole when ``champion`` moves, so the version, the model and the review
threshold recorded with it always travel together: a row is never scored by one version and
routed by another's threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from base.errors import Kind, RetrainError
from base.vocabulary import CHAMPION

if TYPE_CHECKING:
    import pandas as pd

    from base.settings import ModelConfig
    from registry.types import VersionInfo
    from serving.calibration import Calibration


class BatchRefused(RetrainError):
    """The batch (or the model's outputs on it) failed a check; nothing was logged or queued."""

    kind = Kind.DATA_INVALID

    def __init__(self, message: str, *, checks: tuple[str, ...] = (), file: str | None = None):
        super().__init__(message, file=file)
        self.checks = tuple(checks)

    def extra(self) -> dict[str, Any]:
        """The failed checks one by one, beside the error object of the JSON output."""
        return {"failed_checks": list(self.checks)}


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """One registered version with its fitted model and the review threshold recorded on it."""

    info: "VersionInfo"
    model: Any
    calibration: "Calibration"
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def version(self) -> str:
        return str(self.info.version)


def load_scoring_model(config: "ModelConfig", version: str | None, alias: str = CHAMPION) -> LoadedModel:
    """``version``, else the version behind ``alias``, with its calibration (else ``serving.fixed``)."""
    from base.serving_config import ThresholdMode
    from registry.store import connect
    from registry.types import VersionNotFound
    from registry.versions import get_version, load_model
    from serving.calibration import Calibration

    client = connect(config)
    info = get_version(client, config.name, version or alias)
    if info is None and version:
        raise VersionNotFound(config.name, version)
    if info is None:
        raise RetrainError(
            f"model {config.name!r} has no {alias} in {config.tracking_uri}; run `retrain run` first",
            kind=Kind.UNKNOWN_MODEL,
        )
    calibration = Calibration.from_tags(info.tags)
    notes = []
    if calibration is None:
        calibration = Calibration(ThresholdMode.FIXED, config.serving.fixed)
        notes.append(f"v{info.version} records no serving threshold; using serving.fixed = {config.serving.fixed:g}")
    return LoadedModel(info, load_model(client, config.name, info.version), calibration, tuple(notes))


def model_columns(model: Any, frame: "pd.DataFrame", config: "ModelConfig") -> list[str]:
    """The columns the model was fitted on; a batch without one of them is refused."""
    from training.data import select_features

    names = getattr(model, "feature_names_in_", None)
    columns = [str(c) for c in names] if names is not None else select_features(frame, config)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise BatchRefused(
            f"the batch lacks the model's feature columns: {', '.join(missing)}",
            checks=tuple(f"missing column {c}" for c in missing),
        )
    return columns
