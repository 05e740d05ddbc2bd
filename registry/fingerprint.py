"""What made a model, as one short digest: the same data, recipe and code give the same model.

Two uses: a retrain whose fingerprint equals the champion's would register a copy of it
(so it registers nothing and ends ``unchanged``), and a version a person rolled back is
blocked by its fingerprint, so a retrain on the same data cannot quietly bring it back.
The recipe is what the config asks for (estimator, its parameters, the columns used, the
windows), not what scikit-learn reports after fitting, so it is known before training.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from base.settings import ModelConfig

FINGERPRINT_TAG = "fingerprint"


def recipe_of(config: "ModelConfig", code: str) -> dict[str, Any]:
    """Everything in the config that changes the fitted model, plus the code version."""
    data = config.data
    cascade = {"cascade": config.cascade.model_dump()} if config.cascade is not None else {}
    search = {"search": config.search.recipe()} if config.search is not None else {}
    return {
        **cascade,
        **search,
        "task": config.task,
        "estimator": config.estimator.class_path,
        "params": config.estimator.params,
        "target": data.target_column,
        "features": data.features,
        "exclude": sorted(data.exclude),
        "categorical": data.categorical,
        "code": code,
    }


def compute_fingerprint(data_hash: str, recipe: dict[str, Any]) -> str:
    """A 20-hex-digit digest of the training data's hash and the recipe."""
    payload = json.dumps({"data": data_hash, **recipe}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def fingerprint_of(tags: dict[str, str]) -> str | None:
    """A version's recorded fingerprint; versions registered before it existed have none."""
    return tags.get(FINGERPRINT_TAG) or None
