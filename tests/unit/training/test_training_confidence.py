import numpy as np

from training.confidence import margin_confidence
from training.types import Outputs


def test_binary_margin_is_distance_from_a_coin_flip():
    got = margin_confidence(Outputs(values=np.array([0.5, 0.9, 0.1, 0.75]), labels=np.array([0, 1])))
    assert np.allclose(got, [0.0, 0.8, 0.8, 0.5])


def test_multiclass_margin_is_gap_between_top_two():
    proba = np.array([[0.6, 0.3, 0.1], [0.34, 0.33, 0.33], [0.0, 0.0, 1.0]])
    got = margin_confidence(Outputs(values=proba, labels=np.array(["a", "b", "c"])))
    assert np.allclose(got, [0.3, 0.01, 1.0])
