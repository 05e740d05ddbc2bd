"""Labels as text, one spelling for a label wherever it is compared.

``1``, ``1.0`` and ``"1"`` are one label: a label column read with a missing value arrives
as floats while the model's classes say ``1``. The function lives in training, below the
packages that use it, because the reference snapshot records a model's classes in this
spelling at training time (``monitoring.reference``), and serving checks every label that
comes back against those recorded classes (``serving.label_domain``, ``serving.feedback``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def label_text(values: Any) -> pd.Series:
    """Labels as text, with whole numbers written as integers: a label column read with a
    missing value arrives as floats (1.0) while the model's classes say 1."""
    series = pd.Series(values).reset_index(drop=True)
    numbers = pd.to_numeric(series, errors="coerce")
    whole = numbers.notna() & np.isfinite(numbers) & (numbers == numbers.round())
    text = series.astype(str)
    text[whole] = numbers[whole].astype("int64").astype(str)
    return text


def label_text_of(value: Any) -> str:
    """``1``, ``1.0`` and ``"1"`` are one label; text stays text."""
    return str(label_text([value])[0])
