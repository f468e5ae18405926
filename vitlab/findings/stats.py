"""Mean and 95% Student-t interval over seeds: the only statistics the findings use."""

import dataclasses
import math

import numpy as np

MIN_SEEDS_FOR_INTERVAL = 3
CONFIDENCE = 0.95


@dataclasses.dataclass(frozen=True)
class Estimate:
    """mean of `n` seed values, with the t-interval [low, high] (nan with fewer than 3 seeds)."""

    mean: float
    low: float
    high: float
    n: int

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
    if n < MIN_SEEDS_FOR_INTERVAL:
        return Estimate(mean, math.nan, math.nan, n)
    half = t_quantile(n - 1) * float(values.std(ddof=1)) / math.sqrt(n)
    return Estimate(mean, mean - half, mean + half, n)


def curve_estimate(rows):
    """Pointwise (mean, low, high) of equal-length curves, one row per seed."""
    rows = np.asarray(rows, dtype=float)
    points = [estimate(rows[:, j]) for j in range(rows.shape[1])]
    return (np.array([p.mean for p in points]), np.array([p.low for p in points]),
            np.array([p.high for p in points]))
