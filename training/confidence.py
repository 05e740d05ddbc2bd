"""How sure a classifier is of each prediction, shared by serving and the cascade.

The serving threshold (route a row to human review) and the cascade threshold (hand a row to
the heavy model) are the same question asked of the same number, so both read it here: the
margin between the two most probable classes, in [0, 1]. A binary output is the positive-class
probability ``p``, whose margin is ``|2p - 1|``. It stays in training, below ``serving``,
because the cascade model computes it inside ``predict_proba`` and training never imports
the serving layer; ``serving.calibration`` reads the same function.
"""

from __future__ import annotations

import numpy as np

from training.types import Outputs


def margin_confidence(outputs: Outputs) -> np.ndarray:
    """Per-row margin between the top two class probabilities (0 = a coin flip, 1 = certain)."""
    values = np.asarray(outputs.values, dtype=float)
    if values.ndim == 1:
        return np.abs(2.0 * values - 1.0)
    if values.shape[1] < 2:
        return np.ones(values.shape[0])
    top_two = np.sort(values, axis=1)[:, -2:]
    return top_two[:, 1] - top_two[:, 0]
