"""Spreads across seeds and bootstrap intervals: every accuracy with its spread, every
comparison with an interval."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as st


@dataclass(frozen=True)
class Summary:
    """Mean, standard deviation (ddof=1; 0 for one value) and the 16th-84th percentile band
    (Paul et al.'s presentation) of values across seeds."""

    n: int
    mean: float
    std: float
    p16: float
    p84: float

    def text(self, scale: float = 100.0, digits: int = 1, unit: str = "%") -> str:
        """'84.1% ± 0.3 (n = 3)'."""
        return f"{self.mean * scale:.{digits}f}{unit} ± {self.std * scale:.{digits}f} (n = {self.n})"


def summarize(values: Sequence[float]) -> Summary:
    a = np.asarray(values, dtype=np.float64)
    if a.size == 0:
        raise ValueError("summarize needs at least one value")
    std = float(a.std(ddof=1)) if a.size > 1 else 0.0
    return Summary(int(a.size), float(a.mean()), std, float(np.percentile(a, 16)), float(np.percentile(a, 84)))


def bootstrap_ci(values: Sequence[float], statistic: Callable[[np.ndarray], float] = np.mean,
                 level: float = 0.95, n_boot: int = 10_000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic`` over ``values`` (resampled with replacement)."""
    a = np.asarray(values, dtype=np.float64)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, a.size, size=(n_boot, a.size))
    stats = np.apply_along_axis(statistic, 1, a[idx]) if statistic is not np.mean else a[idx].mean(1)
    lo, hi = np.percentile(stats, [50 * (1 - level), 50 * (1 + level)])
    return float(lo), float(hi)


def bootstrap_diff_ci(a: Sequence[float], b: Sequence[float], level: float = 0.95,
                      n_boot: int = 10_000, seed: int = 0) -> tuple[float, float, float]:
    """Difference of means mean(a) - mean(b) with a percentile bootstrap interval, resampling
    each group independently (the seeds of two methods are independent runs)."""
    x, y = np.asarray(a, np.float64), np.asarray(b, np.float64)
    rng = np.random.default_rng(seed)
    da = x[rng.integers(0, x.size, size=(n_boot, x.size))].mean(1)
    db = y[rng.integers(0, y.size, size=(n_boot, y.size))].mean(1)
    lo, hi = np.percentile(da - db, [50 * (1 - level), 50 * (1 + level)])
    return float(x.mean() - y.mean()), float(lo), float(hi)


def pooled_sd(groups: Sequence[Sequence[float]]) -> tuple[float, int]:
    """The within-group standard deviation pooled over groups, and its degrees of freedom
    (sum of n_i - 1). Groups of one value contribute nothing."""
    arrays = [np.asarray(g, np.float64) for g in groups]
    dof = sum(a.size - 1 for a in arrays if a.size > 1)
    if dof == 0:
        return float("nan"), 0
    ss = sum(((a - a.mean()) ** 2).sum() for a in arrays if a.size > 1)
    return float(np.sqrt(ss / dof)), int(dof)


def pooled_diff_ci(a: Sequence[float], b: Sequence[float], sd: float, dof: int,
                   level: float = 0.95) -> tuple[float, float, float]:
    """Difference of means mean(a) - mean(b) with a Student-t interval whose standard error uses a
    standard deviation ``sd`` pooled over many groups (``dof`` degrees of freedom):
    diff ± t_{dof} · sd · sqrt(1/n_a + 1/n_b).

    With two seeds per method a bootstrap interval is no more than the range of four numbers;
    pooling the seed-to-seed spread of every method trained on the same budget gives an honest
    interval, under the stated assumption that the spread does not depend on the method.
    """
    x, y = np.asarray(a, np.float64), np.asarray(b, np.float64)
    diff = float(x.mean() - y.mean())
    if dof < 1 or not np.isfinite(sd):
        return diff, float("-inf"), float("inf")
    half = float(st.t.ppf(0.5 + level / 2, dof)) * sd * np.sqrt(1 / x.size + 1 / y.size)
    return diff, diff - half, diff + half


def ranks(a: np.ndarray) -> np.ndarray:
    """Average ranks (ties share their mean rank), 0-based, as scipy.stats.rankdata - 1."""
    return st.rankdata(a) - 1.0


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's rank correlation: the Pearson correlation of the average ranks."""
    ra, rb = ranks(np.asarray(a, np.float64)), ranks(np.asarray(b, np.float64))
    return float(np.corrcoef(ra, rb)[0, 1])


def spearman_ci(a: Sequence[float], b: Sequence[float], level: float = 0.95, n_boot: int = 200,
                seed: int = 0) -> tuple[float, float, float]:
    """Spearman's rho with a percentile-bootstrap interval over examples (pairs resampled with
    replacement and re-ranked each time). Returns (rho, low, high)."""
    x, y = np.asarray(a, np.float64), np.asarray(b, np.float64)
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        i = rng.integers(0, x.size, x.size)
        boots.append(spearman(x[i], y[i]))
    lo, hi = np.percentile(boots, [50 * (1 - level), 50 * (1 + level)])
    return spearman(x, y), float(lo), float(hi)


def compare(d: pd.DataFrame, cells: Sequence[str], a: Mapping[str, object], b: Mapping[str, object],
            per: str = "prune", value: str = "test_acc", level: float = 0.95,
            pool: pd.DataFrame | None = None) -> pd.DataFrame:
    """The one comparison of two methods in this book: mean ``value`` of the rows of ``d`` that
    match ``a`` (column -> value) minus those that match ``b``, at every value of ``per`` where
    both ran, with the interval of :func:`pooled_diff_ci` whose spread is pooled over every cell
    (unique combination of ``cells``) of ``pool`` (default ``d``). Columns: ``per``, diff, lo,
    hi, pooled_sd, dof."""
    sd, dof = pooled_sd([g[value] for _, g in (d if pool is None else pool).groupby(list(cells))])

    def pick(match: Mapping[str, object]) -> pd.DataFrame:
        mask = np.ones(len(d), bool)
        for col, v in match.items():
            mask &= (d[col] == v).to_numpy()
        return d[mask]

    x, y = pick(a), pick(b)
    rows = []
    for at in sorted(set(x[per]) & set(y[per])):
        diff, lo, hi = pooled_diff_ci(x[x[per] == at][value], y[y[per] == at][value], sd, dof, level)
        rows.append({per: at, "diff": diff, "lo": lo, "hi": hi, "pooled_sd": sd, "dof": dof})
    return pd.DataFrame(rows, columns=[per, "diff", "lo", "hi", "pooled_sd", "dof"])


def per_fraction(acc: pd.DataFrame, column: str) -> dict[str, dict[str, float]]:
    """``column`` of an accuracy table (columns score, prune) as {score: {fraction pruned: value}},
    fractions written as "0.7" (the layout of ``summary.json``)."""
    return {s: {f"{r.prune:g}": float(r[column]) for _, r in g.iterrows()} for s, g in acc.groupby("score", sort=False)}
