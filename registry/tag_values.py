"""Model version tags and params as MLflow takes them: clean keys, text values, cut to its limits.

The gate's decision becomes ``gate.*`` tags here, so ``retrain status``, the approval path
and the MLflow UI read one version's verdict without opening its artifacts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from numbers import Real
from typing import Any

# MLflow's limits (mlflow.utils.validation): key length, param and tag value length.
KEY_LIMIT, PARAM_LIMIT, TAG_LIMIT = 250, 6000, 8000


def flatten(values: Mapping, prefix: str = "") -> dict[str, str]:
    """Nested params as ``a.b`` keys with text values cut to MLflow's limits."""
    flat: dict[str, str] = {}
    for key, value in values.items():
        full = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{full}."))
        else:
            flat[clean_key(full)] = text(value)[:PARAM_LIMIT]
    return flat


def clean_key(key: Any) -> str:
    """MLflow accepts letters, digits, ``_ - . / :`` and spaces in names; replace the rest."""
    return re.sub(r"[^\w\-./: ]", "_", str(key))[:KEY_LIMIT]


def text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=_plain, sort_keys=True)


def version_tags(lineage: dict, params: dict, decision: dict | None) -> dict[str, str]:
    """The version's tags: lineage, parameters and the gate's verdict; metrics stay on its run only."""
    tags = tag_values(lineage, TAG_LIMIT)
    tags["params"] = text(params)[:TAG_LIMIT]
    if decision is not None:
        tags["gate.decision"] = "promote" if decision.get("promote") else "reject"
        reasons = decision.get("reasons") or []
        tags["gate.reasons"] = (reasons if isinstance(reasons, str) else "; ".join(map(str, reasons)))[:TAG_LIMIT]
        for key in ("metric", "candidate_score", "champion_score", "champion_version"):
            if decision.get(key) is not None:
                tags[f"gate.{key}"] = text(decision[key])[:TAG_LIMIT]
        if decision.get("champion_below_floor"):
            tags["gate.champion_below_floor"] = "true"
        tags.update(_slice_tags(decision.get("slices") or []))
    return tags


def _slice_tags(slices: list[dict]) -> dict[str, str]:
    """The sliced gate's figures per slice (compact JSON) and the worst slice that failed, if any."""
    if not slices:
        return {}
    compact = [
        {k: s.get(k) for k in ("column", "value", "rows", "verdict", "diff", "low", "high") if s.get(k) is not None}
        for s in slices
    ]
    tags = {"gate.slices": json.dumps(compact, separators=(",", ":"))[:TAG_LIMIT]}
    worse = sorted((s for s in slices if s.get("verdict") == "worse"), key=lambda s: s.get("diff") or 0.0)
    if worse:
        tags["gate.failing_slice"] = f"{worse[0]['column']}={worse[0]['value']}"
    return tags


def tag_values(values: dict, limit: int) -> dict[str, str]:
    return {clean_key(k): text(v)[:limit] for k, v in values.items() if v is not None}


def numbers(metrics: dict) -> dict[str, float]:
    """Metrics that are numbers; a missing score (None) is left out rather than faked."""
    return {clean_key(k): float(v) for k, v in metrics.items() if isinstance(v, Real)}


def as_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=_plain)


def _plain(value: Any) -> Any:
    """numpy scalars, timestamps, paths and dataclasses as JSON-friendly values."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
