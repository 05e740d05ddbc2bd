"""One spelling per label: the snapshot's recorded classes and every label check compare alike."""

import numpy as np

from training.label_text import label_text, label_text_of


def test_whole_numbers_read_as_floats_are_the_integer_label_and_text_stays_text():
    got = label_text([1.0, 1, "1", "late", 2.5, np.nan]).tolist()
    assert got == ["1", "1", "1", "late", "2.5", "nan"]
    assert label_text_of(0.0) == label_text_of("0") == "0"
