"""Sampling noise of the drift distances: their permutation null at the compared sizes.

Why. A distance between two samples of one distribution is not zero: it shrinks like
``sqrt(1/n + 1/m)``. A fixed threshold is therefore too strict for small batches (100 rows
of the training data itself measured 0.1 half the time) and too lax for large ones (a
0.1-std mean shift measures about 0.1). So each column's distance is compared with the
distances the same two samples give when their rows are shuffled between the sides (the
permutation null): if reference and batch come from one distribution, the observed distance
is just one more draw of that null, so flagging it only above the null's ``1 - alpha``
quantile keeps the false-alarm rate at ``alpha`` whatever the sizes.

How it stays cheap.

- Categories: shuffling rows only changes how many of each category land on the current
  side, which is multivariate hypergeometric. Sampling it directly is exact and costs
  ``permutations x categories``, at any row count.
- Numbers: the normed Wasserstein distance needs the shuffled rows themselves, so it is
  computed exactly for up to ``EXACT_ROWS`` rows per side. Above that, the null is computed
  on a random subsample of that size per side and scaled by ``sqrt(1/n + 1/m)`` (the rate at
  which the two-sample Wasserstein distance shrinks), which measured within a few percent of
  the exact null (and on the safe side for skewed and integer data).

The observed distance itself is Evidently's (``monitoring.drift_evidently``); the functions
here reproduce its formulas only for the shuffled samples.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np

EXACT_ROWS = 2000
MIN_PERMUTATIONS = 299
_CHUNK = 50


@dataclass(frozen=True)
class Noise:
    """A column's null: the critical distance at ``alpha`` and the null draws (for a p-value)."""

    critical: float
    draws: np.ndarray

    def p_value(self, score: float) -> float:
        """Share of null draws at least as large as ``score`` (counting the observed one)."""
        return float((1 + np.count_nonzero(self.draws >= score)) / (len(self.draws) + 1))


def count_permutations(alpha: float) -> int:
    """Enough shuffles that ``alpha * (permutations + 1)`` allows at least three exceedances."""
    return max(MIN_PERMUTATIONS, math.ceil(3 / alpha) - 1)


def column_rng(seed: int, column: str) -> np.random.Generator:
    """One seeded stream per column, so a verdict never depends on the order of the columns."""
    return np.random.default_rng([seed, zlib.crc32(column.encode())])


def critical_value(draws: np.ndarray, alpha: float) -> float:
    """The distance a column must exceed: at most ``alpha (B + 1) - 1`` null draws reach it."""
    allowed = math.floor(alpha * (len(draws) + 1) + 1e-9) - 1
    if allowed < 0:
        return math.inf
    return float(np.sort(draws)[::-1][allowed])


def wasserstein_noise(ref: np.ndarray, cur: np.ndarray, alpha: float, rng: np.random.Generator) -> Noise:
    """Null of Evidently's normed Wasserstein distance (W1 / std of the reference) at these sizes."""
    n, m = len(ref), len(cur)
    norm = max(float(np.std(ref)), 0.001)
    pooled = np.concatenate([ref, cur])
    n0, m0 = min(n, EXACT_ROWS), min(m, EXACT_ROWS)
    if (n0, m0) != (n, m):
        pooled = pooled[rng.choice(len(pooled), size=n0 + m0, replace=False)]
    scale = math.sqrt((1 / n + 1 / m) / (1 / n0 + 1 / m0))
    draws = _shuffled_wasserstein(np.sort(pooled), m0, count_permutations(alpha), rng) * scale / norm
    return Noise(critical_value(draws, alpha), draws)


def _shuffled_wasserstein(sorted_pooled: np.ndarray, m: int, permutations: int, rng: np.random.Generator) -> np.ndarray:
    """W1 between the two sides for random splits of the sorted pooled values.

    W1 is the area between the two empirical CDFs: the sum over gaps between consecutive
    pooled values of gap x |F_ref - F_cur|, and a split only changes the running count of
    current rows, so no split needs sorting again.
    """
    total = len(sorted_pooled)
    n = total - m
    gaps = np.diff(sorted_pooled)
    seen_share = np.arange(1, total) / n  # F_ref - F_cur = seen/n - current * (1/n + 1/m)
    per_current = 1 / n + 1 / m
    labels = np.zeros(total, dtype=np.int8)
    labels[:m] = 1
    out = []
    for start in range(0, permutations, _CHUNK):
        size = min(_CHUNK, permutations - start)
        shuffled = rng.permuted(np.broadcast_to(labels, (size, total)), axis=1)
        current = np.cumsum(shuffled[:, :-1], axis=1, dtype=np.int32)
        out.append(np.abs(seen_share - current * per_current) @ gaps)
    return np.concatenate(out)


def jensenshannon_noise(
    ref_counts: np.ndarray, cur_counts: np.ndarray, alpha: float, rng: np.random.Generator
) -> Noise:
    """Null of the Jensen-Shannon distance of category shares, exact at any row count."""
    pooled = (ref_counts + cur_counts).astype(np.int64)
    m = int(cur_counts.sum())
    current = rng.multivariate_hypergeometric(pooled, m, size=count_permutations(alpha))
    draws = jensenshannon_of_counts(pooled - current, current)
    return Noise(critical_value(draws, alpha), draws)


def jensenshannon_of_counts(ref_counts: np.ndarray, cur_counts: np.ndarray) -> np.ndarray:
    """Row-wise Jensen-Shannon distance (natural log), the formula scipy and Evidently use."""
    p = ref_counts / ref_counts.sum(axis=-1, keepdims=True)
    q = cur_counts / cur_counts.sum(axis=-1, keepdims=True)
    mid = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.where(p > 0, p * np.log(p / mid), 0.0).sum(axis=-1)
        kl_q = np.where(q > 0, q * np.log(q / mid), 0.0).sum(axis=-1)
    return np.sqrt(np.maximum((kl_p + kl_q) / 2, 0.0))
