"""Small typed results of the registry, free of MLflow objects.

Callers (flows, the CLI, the promotion ledger) get plain frozen dataclasses so
they can print, compare and serialise them without importing MLflow, whose
entity classes change between releases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from base.errors import Kind, RetrainError


class VersionNotFound(RetrainError, LookupError):
    """A model, version or alias that the registry does not hold."""

    kind = Kind.TARGET_UNAVAILABLE

    def __init__(self, name: str, ref: str | int):
        self.name = name
        self.ref = str(ref)
        super().__init__(f"registered model {name!r} has no version or alias {self.ref!r}")


@dataclass(frozen=True)
class VersionInfo:
    """One registered model version with its lineage tags and logged metrics."""

    name: str
    version: str
    run_id: str | None
    source: str
    aliases: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    created_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "run_id": self.run_id,
            "source": self.source,
            "aliases": list(self.aliases),
            "tags": dict(self.tags),
            "metrics": dict(self.metrics),
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class ModelStatus:
    """Where a model's aliases point, for `retrain status` and the flows' branching."""

    name: str
    champion: VersionInfo | None
    challenger: VersionInfo | None
    versions: int
    latest_version: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "champion": self.champion.to_dict() if self.champion else None,
            "challenger": self.challenger.to_dict() if self.challenger else None,
            "versions": self.versions,
            "latest_version": self.latest_version,
        }
