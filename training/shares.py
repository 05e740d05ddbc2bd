"""Rules about shares and rates, judged only as far as the batch's size allows.

"At most 27 % of rows may lack ``pressure``" and "between 1 % and 60 % of rows predicted
positive" are statements about a population; a batch is a sample of it. One row cannot have
a positive rate of 1 %, and in 20 rows six nulls (30 %) are what a 27 % process gives half
the time. So a share rule fails only when the observed count is beyond what sampling noise
allows at this size (a one-sided exact binomial test at ``SHARE_ALPHA``: a batch from a
process that meets the rule is refused at most once in a thousand), and below
``MIN_SHARE_ROWS`` rows it is not judged at all, and the report says so. At the sizes of a
training window or a holdout (thousands of rows) the bound is within a point or two of the
rule itself, so the gate's checks are as strict as before.
"""

from __future__ import annotations

from dataclasses import dataclass

from scipy.stats import binom

SHARE_ALPHA = 0.001  # chance of refusing a batch drawn from a process that meets the rule
MIN_SHARE_ROWS = 30  # below this many rows a share is not judged


@dataclass(frozen=True)
class ShareVerdict:
    """``judged`` False below the minimum; ``failed`` only beyond sampling noise."""

    judged: bool
    failed: bool
    note: str


def judge_at_most(count: int, rows: int, share: float, what: str) -> ShareVerdict:
    """At most ``share`` of ``rows`` may be ``what``; ``count`` are."""
    if rows < MIN_SHARE_ROWS:
        return ShareVerdict(False, False, f"{what}: not judged on {rows} row(s) (fewer than {MIN_SHARE_ROWS})")
    p_value = float(binom.sf(count - 1, rows, share)) if count > 0 else 1.0
    failed = count > share * rows and p_value < SHARE_ALPHA
    seen = f"{count} of {rows} rows ({count / rows:.1%}) vs at most {share:.1%}"
    return ShareVerdict(True, failed, f"{what}: {seen}" + ("" if failed else " (within sampling noise)"))


def judge_between(count: int, rows: int, low: float, high: float, what: str) -> ShareVerdict:
    """The share ``count / rows`` must lie in [low, high], up to sampling noise."""
    if rows < MIN_SHARE_ROWS:
        return ShareVerdict(False, False, f"{what}: not judged on {rows} row(s) (fewer than {MIN_SHARE_ROWS})")
    rate = count / rows
    too_low = rate < low and float(binom.cdf(count, rows, low)) < SHARE_ALPHA
    too_high = rate > high and float(binom.sf(count - 1, rows, high)) < SHARE_ALPHA
    failed = too_low or too_high
    seen = f"{what} is {rate:.4f}, outside the allowed [{low:g}, {high:g}]"
    if not failed and low <= rate <= high:
        return ShareVerdict(True, False, f"{what} is {rate:.4f}, within [{low:g}, {high:g}]")
    return ShareVerdict(True, failed, seen + ("" if failed else f" but within sampling noise on {rows} rows"))
