"""Mean and 95% Student-t interval over seeds: the only statistics the findings use."""

import dataclasses
import math

import numpy as np

MIN_SEEDS_FOR_INTERVAL = 3
CONFIDENCE = 0.95


@dataclasses.dataclass(frozen=True)
class Estimate:
    """mean of `n` seed values, with the t-interval [low, high] (nan with fewer than 3 seeds) and
    the sample standard deviation `sd` (nan with fewer than 2)."""

    mean: float
    low: float
    high: float
    n: int
    sd: float = math.nan

    @property
    def has_interval(self):
        return not math.isnan(self.low)

    def excludes_zero(self):
        return self.has_interval and (self.low > 0 or self.high < 0)

    def format(self, digits=3):
        if math.isnan(self.mean):
            return "n/a"
        text = f"{self.mean:.{digits}f}"
        if self.has_interval:
            text += f" [{self.low:.{digits}f}, {self.high:.{digits}f}]"
        return text


def t_quantile(df, confidence=CONFIDENCE):
    """Two-sided Student-t critical value (scipy ships with scikit-learn)."""
    from scipy import stats

    return float(stats.t.ppf(0.5 + confidence / 2, df))


def estimate(values):
    """Estimate of finite `values`; the interval needs at least MIN_SEEDS_FOR_INTERVAL of them."""
    values = np.asarray([v for v in np.ravel(np.asarray(values, dtype=float)) if np.isfinite(v)])
    n = len(values)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    mean = float(values.mean())
    sd = float(values.std(ddof=1)) if n > 1 else math.nan
    if n < MIN_SEEDS_FOR_INTERVAL:
        return Estimate(mean, math.nan, math.nan, n, sd)
    half = t_quantile(n - 1) * sd / math.sqrt(n)
    return Estimate(mean, mean - half, mean + half, n, sd)


def curve_estimate(rows):
    """Pointwise (mean, low, high) of equal-length curves, one row per seed."""
    rows = np.asarray(rows, dtype=float)
    points = [estimate(rows[:, j]) for j in range(rows.shape[1])]
    return (np.array([p.mean for p in points]), np.array([p.low for p in points]), np.array([p.high for p in points]))


def seeds_to_decide(values, limit=50):
    """Seeds at which a t-interval with this mean and spread would exclude zero: the smallest m with
    t(m-1) * sd / sqrt(m) < |mean|. None when it cannot be said (fewer than 3 finite values, a zero
    mean) or would take more than `limit` seeds. A planning figure: the next seeds move mean and sd."""
    values = np.asarray([v for v in np.ravel(np.asarray(values, dtype=float)) if np.isfinite(v)])
    if len(values) < MIN_SEEDS_FOR_INTERVAL:
        return None
    mean, spread = abs(float(values.mean())), float(values.std(ddof=1))
    if mean == 0:
        return None
    if spread == 0:
        return len(values)
    for seeds in range(len(values), limit + 1):
        if t_quantile(seeds - 1) * spread / math.sqrt(seeds) < mean:
            return seeds
    return None
