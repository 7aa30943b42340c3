"""Spreads across seeds and intervals: every accuracy with its spread, every
comparison with an interval (:func:`compare`, the one comparison routine), the mixture
fit that groups examples by how often they were selected, and the one rule that turns a claim's
parts into its word (:func:`claim_verdict`)."""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as st
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture


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


def welch_diff_ci(a: Sequence[float], b: Sequence[float], level: float = 0.95
                  ) -> tuple[float, float, float, float]:
    """Difference of means mean(a) - mean(b) with Welch's interval, from the two groups' own
    spreads: diff ± t_nu · sqrt(s_a²/n_a + s_b²/n_b), nu by Welch-Satterthwaite. Returns
    (diff, lo, hi, nu). With fewer than two values in a group there is no spread to use: the
    interval is (-inf, inf) and nu is 0. When both groups have zero spread the interval is the
    point itself (nu = inf)."""
    x, y = np.asarray(a, np.float64), np.asarray(b, np.float64)
    diff = float(x.mean() - y.mean())
    if x.size < 2 or y.size < 2:
        return diff, float("-inf"), float("inf"), 0.0
    va, vb = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    se = float(np.sqrt(va + vb))
    if se == 0.0:
        return diff, diff, diff, float("inf")
    nu = float((va + vb) ** 2 / (va ** 2 / (x.size - 1) + vb ** 2 / (y.size - 1)))
    half = float(st.t.ppf(0.5 + level / 2, nu)) * se
    return diff, diff - half, diff + half, nu


ABOVE, BELOW, NO_DIFFERENCE = "above", "below", "no detectable difference"
MIN_SEEDS = 3  # a comparison needs at least this many seeds in each cell to have an interval at all
FEW_SEEDS = f"fewer than {MIN_SEEDS} seeds: no interval"  # the reading of a comparison that has none


def direction(lo: float, hi: float) -> str:
    """Three-valued reading of an interval of a difference a - b: ``above`` when it lies above
    zero, ``below`` when below, else ``no detectable difference``. A flag read from an interval
    this way can never contradict it."""
    return ABOVE if lo > 0 else BELOW if hi < 0 else NO_DIFFERENCE


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


def compare(d: pd.DataFrame, a: Mapping[str, object], b: Mapping[str, object], per: str = "prune",
            value: str = "test_acc", level: float = 0.95) -> pd.DataFrame:
    """The one comparison of two methods in this book: mean ``value`` of the rows of ``d`` that
    match ``a`` (column -> value) minus those that match ``b``, at every value of ``per`` where
    both ran, with Welch's interval from those two cells' seeds alone (:func:`welch_diff_ci`)
    and its three-valued reading (:func:`direction`). A cell with fewer than :data:`MIN_SEEDS`
    seeds on either side gets no interval (NaN) and the reading :data:`FEW_SEEDS`. Columns:
    ``per``, diff, lo, hi, direction, n_a, n_b, dof."""
    def pick(match: Mapping[str, object]) -> pd.DataFrame:
        mask = np.ones(len(d), bool)
        for col, v in match.items():
            mask &= (d[col] == v).to_numpy()
        return d[mask]

    x, y = pick(a), pick(b)
    cols = [per, "diff", "lo", "hi", "direction", "n_a", "n_b", "dof"]
    rows = []
    for at in sorted(set(x[per]) & set(y[per])):
        xa, ya = x[x[per] == at][value], y[y[per] == at][value]
        diff, lo, hi, nu = welch_diff_ci(xa, ya, level)
        few = min(len(xa), len(ya)) < MIN_SEEDS  # two seeds give an interval too wide to be a result
        rows.append({per: at, "diff": diff, "lo": float("nan") if few else lo, "hi": float("nan") if few else hi,
                     "direction": FEW_SEEDS if few else direction(lo, hi), "n_a": len(xa), "n_b": len(ya), "dof": nu})
    return pd.DataFrame(rows, columns=cols)


def per_fraction(acc: pd.DataFrame, column: str) -> dict[str, dict[str, float]]:
    """``column`` of an accuracy table (columns score, prune) as {score: {fraction pruned: value}},
    fractions written as "0.7" (the layout of ``summary.json``)."""
    return {s: {f"{r.prune:g}": float(r[column]) for _, r in g.iterrows()} for s, g in acc.groupby("score", sort=False)}


def selection_mixture(counts: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """A three-component Gaussian mixture over how often each sample was selected (Raju et al.
    Fig. 3 fit truncated normals by MCMC; a maximum-likelihood fit is enough to mark the groups).
    Returns the component means, weights and the group of every sample: never / sometimes / always,
    the names of the components by rank (the lowest is "never" even where its samples were picked a
    few times), so ``ranges`` gives each group's fewest and most selections ([] for an empty one)."""
    x = np.asarray(counts, np.float64).reshape(-1, 1)
    with warnings.catch_warnings():  # fewer than three distinct counts: fewer groups, still a fit
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm = GaussianMixture(3, random_state=seed, n_init=3).fit(x)
    order = np.argsort(gm.means_.ravel())
    rank = np.empty(3, int)
    rank[order] = np.arange(3)
    group = rank[gm.predict(x)]
    return {"means": gm.means_.ravel()[order].tolist(), "stds": np.sqrt(gm.covariances_.ravel()[order]).tolist(),
            "weights": gm.weights_[order].tolist(), "group": group,
            "fractions": [float((group == g).mean()) for g in range(3)], "names": ["never", "sometimes", "always"],
            "ranges": [[int(x[group == g].min()), int(x[group == g].max())] if (group == g).any() else [] for g in range(3)]}


def claim_verdict(parts: list[str]) -> str:
    """The claim's one word from its parts: holds when every part holds, fails when any part fails,
    inconclusive otherwise."""
    return "fails" if "fails" in parts else "holds" if parts and all(p == "holds" for p in parts) else "inconclusive"
