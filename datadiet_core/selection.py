"""Which training examples to keep, given a score per example (static pruning).

All functions return **sorted** indices into the scored array, so a kept subset never reorders
the data. Ties are broken by index (a stable sort): deterministic, and the same on any machine.

- :func:`keep_highest`: Paul et al.'s rule, keep the highest-scoring fraction (prune the lowest);
- :func:`keep_lowest`: the opposite rule (keep the easiest), which Sorscher et al. (2022)
  predict wins when the model cannot fit the data;
- :func:`keep_random`: the random baseline;
- :func:`keep_offset`: Paul et al. Fig. 2, drop the lowest ``offset`` fraction, keep the next ones;
- :func:`keep_stratified`: coverage-centric selection (Zheng et al. 2023): drop the hardest
  ``beta`` fraction, then sample evenly across score bins.
"""
from __future__ import annotations

import numpy as np

from . import ParameterError


def _check_fraction(name: str, value: float, allow_zero: bool = False) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and \
        (0.0 <= value <= 1.0 if allow_zero else 0.0 < value <= 1.0)
    if not ok:
        raise ParameterError(f"parameter {name!r} must be a fraction in {'[0' if allow_zero else '(0'}, 1]; got {value!r}")


def n_keep(n: int, keep: float) -> int:
    """How many of ``n`` examples a kept fraction ``keep`` means (rounded, at least one)."""
    _check_fraction("keep", keep)
    return max(1, int(round(keep * n)))


def _order(score: np.ndarray) -> np.ndarray:
    s = np.asarray(score, dtype=np.float64)
    if s.ndim != 1 or np.isnan(s).any():
        raise ParameterError("parameter 'score' must be a 1-D array without NaN")
    return np.argsort(s, kind="stable")  # ascending; inf (never learned) last


def keep_highest(score: np.ndarray, keep: float) -> np.ndarray:
    """The ``keep`` fraction with the highest scores (Paul et al.: prune the lowest)."""
    order = _order(score)
    return np.sort(order[len(order) - n_keep(len(order), keep):])


def keep_lowest(score: np.ndarray, keep: float) -> np.ndarray:
    """The ``keep`` fraction with the lowest scores (keep the easiest examples)."""
    order = _order(score)
    return np.sort(order[:n_keep(len(order), keep)])


def keep_random(n: int, keep: float, seed: int) -> np.ndarray:
    """A uniformly random ``keep`` fraction of ``n`` examples."""
    return np.sort(np.random.default_rng(seed).choice(n, n_keep(n, keep), replace=False))


def keep_offset(score: np.ndarray, offset: float, keep: float) -> np.ndarray:
    """Drop the lowest-scoring ``offset`` fraction, keep the next ``keep`` fraction (Paul et al. Fig. 2)."""
    _check_fraction("offset", offset, allow_zero=True)
    order = _order(score)
    start = int(round(offset * len(order)))
    stop = start + n_keep(len(order), keep)
    if stop > len(order):
        raise ParameterError(f"parameter 'offset' plus 'keep' must be at most 1; got {offset} + {keep}")
    return np.sort(order[start:stop])


def keep_stratified(score: np.ndarray, keep: float, beta: float = 0.1, bins: int = 50) -> np.ndarray:
    """Coverage-centric coreset selection (Zheng et al. 2023, Algorithm 1).

    Drop the ``beta`` fraction with the highest (hardest) scores, split the rest into ``bins``
    equal-width score bins, and fill the budget bin by bin from the least populated, giving each
    bin an equal share of what is left (a bin with fewer examples than its share gives all of
    them). Within a bin, examples are taken in random order (seeded by the bin index).
    """
    _check_fraction("beta", beta, allow_zero=True)
    if not isinstance(bins, int) or bins < 1:
        raise ParameterError(f"parameter 'bins' must be an integer >= 1; got {bins!r}")
    s = np.asarray(score, dtype=np.float64)
    order = _order(s)
    budget = n_keep(len(s), keep)
    pool = order[: len(order) - int(round(beta * len(order)))]
    if budget > len(pool):
        raise ParameterError(f"parameter 'keep' must leave room for the dropped beta fraction: keep {keep} + beta {beta} > 1")
    vals = np.where(np.isfinite(s[pool]), s[pool], np.nanmax(np.where(np.isfinite(s), s, np.nan)))
    edges = np.linspace(vals.min(), vals.max(), bins + 1)
    which = np.clip(np.searchsorted(edges, vals, side="right") - 1, 0, bins - 1)
    members = [pool[which == b] for b in range(bins)]
    chosen = []
    remaining = budget
    for rank, b in enumerate(np.argsort([len(m) for m in members], kind="stable")):
        share = remaining // (bins - rank)
        take = min(share, len(members[b]))
        chosen.append(np.random.default_rng(int(b)).permutation(members[b])[:take])
        remaining -= take
    picked = np.concatenate(chosen)
    if remaining > 0:  # rounding leftovers: the next unpicked examples of the pool, easiest first
        rest = pool[~np.isin(pool, picked)]
        picked = np.concatenate([picked, rest[:remaining]])
    return np.sort(picked)


def class_counts(kept: np.ndarray, y: np.ndarray, num_classes: int) -> np.ndarray:
    """How many examples of each class a kept subset holds (score-ordered subsets can starve classes)."""
    return np.bincount(np.asarray(y)[kept], minlength=num_classes)
