"""Which training examples to keep, given a score per example (static pruning).

All functions return **sorted** indices into the scored array, so a kept subset never reorders
the data. Ties are broken by index (a stable sort): deterministic, and the same on any machine.

- :func:`keep_highest`: Paul et al.'s rule, keep the highest-scoring fraction (prune the lowest);
- :func:`keep_per_class`: the same rule within each class (DeepCore's default; the original
  data-diet code selects over the whole set);
- :func:`keep_lowest`: the opposite rule (keep the easiest), which Sorscher et al. (2022)
  predict wins when the model cannot fit the data;
- :func:`keep_random`: the random baseline;
- :func:`keep_offset`: Paul et al. Fig. 2, drop the lowest ``offset`` fraction, keep the next ones;
- :func:`keep_stratified`: coverage-centric selection (Zheng et al. 2023): drop the hardest
  ``beta`` fraction, then sample evenly across score bins.

Dynamic selection (Raju et al., Algorithm 1) re-selects every pruning period from what the
selector has seen so far: :class:`Selector` and its subclasses (random dynamic, uncertainty with
EMA, epsilon-greedy, UCB, static subsets and static EL2N with epsilon-greedy), plus the per-epoch
:class:`InfoBatch` and the per-batch :class:`SelectiveBackprop` (random or loss-driven).
"""
from __future__ import annotations

import numpy as np

from . import ParameterError

# The static-pruning scores of the score bank (bank.score_bank), by the papers' names, with random
# (no score) first; and GraNd and EL2N at a profile's ``predrop`` checkpoint, where it sets one.
STATIC_SCORES = ("random", "input_norm", "grand_init", "grand_early", "el2n_early", "forgetting",
                 "grand_init_restore_bug")
PREDROP_SCORES = ("grand_predrop", "el2n_predrop")

# Chapter C3's selectors by name (Raju et al. Fig. 2 and App. B, then three later methods).
STATIC_SELECTORS = ("random_static", "el2n_static", "forgetting_static", "el2n_epsilon_static")
DYNAMIC_SELECTORS = ("random_dynamic", "uncertainty_ema", "epsilon_greedy", "ucb")
OTHER_SELECTORS = ("infobatch", "selective_backprop", "random_backprop")
SELECTORS = STATIC_SELECTORS + DYNAMIC_SELECTORS + OTHER_SELECTORS
# Raju et al. Table 1's two probes: a fixed "always" set plus a static or a re-drawn random rest.
TABLE1_SELECTORS = ("always_plus_static", "always_plus_random")

# Hyperparameters of the selectors. alpha is Raju et al.'s (0.8). The paper does not state
# epsilon or c and reports (App. F) that neither changes accuracy much: 0.1 and 1.0 are our
# choice. InfoBatch's delta is Qin et al.'s default; Selective-Backprop keeps a loss history of
# 1024 (Jiang et al.). They are part of every dynamic run's store key.
PARAMS = {"alpha": 0.8, "epsilon": 0.1, "c": 1.0, "delta": 0.875, "sb_history": 1024}


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


def keep_per_class(score: np.ndarray, labels: np.ndarray, keep: float) -> np.ndarray:
    """Per-class selection (DeepCore's ``--balance``): within each class, the ``keep`` fraction
    with the highest scores, so a score that depends on the class cannot delete a class."""
    y = np.asarray(labels)
    if y.shape != np.shape(score):
        raise ParameterError(f"parameter 'labels' must have one label per score; got {y.shape} for {np.shape(score)}")
    rows = [np.flatnonzero(y == c) for c in np.unique(y)]
    return np.sort(np.concatenate([r[keep_highest(np.asarray(score)[r], keep)] for r in rows]))


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


# --------------------------------------------------------------------------- dynamic selection

def ema(loss: np.ndarray, previous: np.ndarray | None, alpha: float) -> np.ndarray:
    """Raju et al. eq. 2: s_ema = alpha * s + (1 - alpha) * s_prev (s_prev = s at the first checkpoint)."""
    return loss.copy() if previous is None else alpha * loss + (1 - alpha) * previous


def ucb_variance(loss: np.ndarray, previous_ema: np.ndarray | None, previous_var: np.ndarray | None,
                 alpha: float) -> np.ndarray:
    """Raju et al. eq. 3: var = (1 - alpha) var_prev + alpha (s - s_prev_ema)^2, starting from 0."""
    if previous_ema is None or previous_var is None:
        return np.zeros_like(loss)
    return (1 - alpha) * previous_var + alpha * (loss - previous_ema) ** 2


def top_k(score: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` highest scores, as sorted indices."""
    return np.sort(np.argsort(np.asarray(score, np.float64), kind="stable")[len(score) - k:])


def epsilon_greedy(score: np.ndarray, k: int, epsilon: float, rng: np.random.Generator) -> np.ndarray:
    """Raju et al. §3.2.2: (1 - epsilon) k by the score, epsilon k uniformly from the rest."""
    _check_fraction("epsilon", epsilon, allow_zero=True)
    greedy = int(round((1 - epsilon) * k))
    best = top_k(score, greedy) if greedy else np.empty(0, np.int64)
    rest = np.setdiff1d(np.arange(len(score)), best)
    return np.sort(np.concatenate([best, rng.choice(rest, k - greedy, replace=False)]))


class Selector:
    """A dynamic selector: at every pruning checkpoint it returns the rows to train on until the
    next one. ``needs_losses``: whether it wants the current model's loss on every sample (a
    scoring pass over the whole training set, timed as scoring)."""

    needs_losses = False

    def __init__(self, n: int, keep: float, seed: int):
        self.n, self.k = n, n_keep(n, keep)
        self.rng = np.random.default_rng(seed)

    def select(self, losses: np.ndarray | None) -> np.ndarray:
        raise NotImplementedError


class StaticSubset(Selector):
    """The same rows at every checkpoint (static pruning in the dynamic loop)."""

    def __init__(self, n: int, keep: float, seed: int, rows: np.ndarray):
        super().__init__(n, keep, seed)
        self.rows = np.sort(np.asarray(rows))

    def select(self, losses: np.ndarray | None) -> np.ndarray:
        return self.rows


class RandomDynamic(Selector):
    """k rows uniformly at random, re-drawn at every checkpoint."""

    def select(self, losses: np.ndarray | None) -> np.ndarray:
        return np.sort(self.rng.choice(self.n, self.k, replace=False))


class StaticEpsilonGreedy(Selector):
    """Raju et al. App. B: (1 - epsilon) k by a fixed score (EL2N), epsilon k re-drawn at random."""

    def __init__(self, n: int, keep: float, seed: int, score: np.ndarray, epsilon: float):
        super().__init__(n, keep, seed)
        self.score, self.epsilon = np.asarray(score, np.float64), epsilon

    def select(self, losses: np.ndarray | None) -> np.ndarray:
        return epsilon_greedy(self.score, self.k, self.epsilon, self.rng)


class UncertaintyEMA(Selector):
    """Raju et al. §3.2.1: keep the k rows with the highest EMA of the loss (eqs. 1-2).

    Two variants, for the diagnosis of chapter C3 (not Raju et al.'s method): ``labels`` given,
    keep the top of each class in proportion (:func:`keep_per_class`); ``random_first``, the
    first selection is uniformly random (its losses still start the EMA)."""

    needs_losses = True

    def __init__(self, n: int, keep: float, seed: int, alpha: float, labels: np.ndarray | None = None,
                 random_first: bool = False):
        super().__init__(n, keep, seed)
        self.alpha, self.ema, self.var = alpha, None, None
        self.labels, self.random_first, self.selections = labels, random_first, 0

    def pick(self, score: np.ndarray) -> np.ndarray:
        """The k rows to keep: by ``score`` (:meth:`keep_rows`), or (first selection of ``random_first``)
        uniformly at random."""
        self.selections += 1
        if self.random_first and self.selections == 1:
            return np.sort(self.rng.choice(self.n, self.k, replace=False))
        return self.keep_rows(score)

    def keep_rows(self, score: np.ndarray) -> np.ndarray:
        """The k rows with the highest ``score``: over the whole set, or per class."""
        if self.labels is not None:
            return keep_per_class(score, self.labels, self.k / self.n)
        return top_k(score, self.k)

    def update(self, losses: np.ndarray) -> None:
        var = ucb_variance(losses, self.ema, self.var, self.alpha)
        self.ema, self.var = ema(losses, self.ema, self.alpha), var

    def score(self) -> np.ndarray:
        return self.ema

    def select(self, losses: np.ndarray | None) -> np.ndarray:
        self.update(np.asarray(losses, np.float64))
        return self.pick(self.score())


class EpsilonGreedy(UncertaintyEMA):
    """Raju et al. §3.2.2: epsilon-greedy on the EMA of the loss. In the diagnosis's variants, the
    greedy (1 - epsilon) k are kept per class in proportion (``labels`` given), or the first
    selection is uniformly random (``random_first``); the epsilon k stay uniform over the rest."""

    def __init__(self, n: int, keep: float, seed: int, alpha: float, epsilon: float,
                 labels: np.ndarray | None = None, random_first: bool = False):
        super().__init__(n, keep, seed, alpha, labels, random_first)
        self.epsilon = epsilon

    def keep_rows(self, score: np.ndarray) -> np.ndarray:
        """(1 - epsilon) k rows by ``score`` (over the whole set, or per class), epsilon k uniformly
        from the rest."""
        if self.labels is None:
            return epsilon_greedy(score, self.k, self.epsilon, self.rng)
        _check_fraction("epsilon", self.epsilon, allow_zero=True)
        greedy = (1 - self.epsilon) * self.k / self.n  # the greedy share, kept within each class
        best = keep_per_class(score, self.labels, greedy) if greedy > 0 else np.empty(0, np.int64)
        rest = np.setdiff1d(np.arange(self.n), best)
        return np.sort(np.concatenate([best, self.rng.choice(rest, max(0, self.k - len(best)), replace=False)]))


class UCB(UncertaintyEMA):
    """Raju et al. §3.2.3: keep the k highest s_ema + c var (eqs. 3-4)."""

    def __init__(self, n: int, keep: float, seed: int, alpha: float, c: float, labels: np.ndarray | None = None,
                 random_first: bool = False):
        super().__init__(n, keep, seed, alpha, labels, random_first)
        self.c = c

    def score(self) -> np.ndarray:
        return self.ema + self.c * self.var


class InfoBatch:
    """InfoBatch (Qin et al., ICLR 2024): before every epoch, each sample whose last training loss
    is below the mean is dropped with probability ``r``; the kept ones get loss weight
    1 / (1 - r), which keeps the gradient unbiased. From the fraction ``delta`` of the epochs
    onwards, the full data is used with weight 1. Samples not yet seen have loss +inf (kept)."""

    def __init__(self, n: int, r: float, delta: float, epochs: int, seed: int):
        _check_fraction("r", r, allow_zero=True)
        _check_fraction("delta", delta)
        if r >= 1:
            raise ParameterError(f"parameter 'r' must be a fraction in [0, 1); got {r!r}")
        self.n, self.r, self.delta, self.epochs = n, r, delta, epochs
        self.loss = np.full(n, np.inf)
        self.weight = np.ones(n)
        self.rng = np.random.default_rng(seed)

    def record(self, rows: np.ndarray, losses: np.ndarray) -> None:
        self.loss[rows] = losses

    def select(self, epoch: int) -> np.ndarray:
        self.weight[:] = 1.0
        if epoch >= self.delta * self.epochs:
            return np.arange(self.n)
        seen = np.isfinite(self.loss)
        low = seen & (self.loss < self.loss[seen].mean()) if seen.any() else seen
        drop = low & (self.rng.random(self.n) < self.r)
        self.weight[low & ~drop] = 1.0 / (1.0 - self.r)
        return np.flatnonzero(~drop)


class SelectiveBackprop:
    """Per-batch choice of which samples to back-propagate (Jiang et al. 2019, the poster's SB).

    ``random=False``: keep a sample with probability q^beta, q its loss's percentile among the
    last ``history`` losses; beta = 1/keep - 1 makes the expected kept fraction ``keep``
    (E[U^beta] = 1/(1+beta) for a uniform percentile U). ``random=True`` (Random-Backprop): keep
    each sample with probability ``keep``, no forward pass needed.
    """

    def __init__(self, keep: float, seed: int, random: bool, history: int = 1024):
        _check_fraction("keep", keep)
        self.keep, self.random, self.history = keep, random, history
        self.beta = 1.0 / keep - 1.0
        self.past = np.empty(0)
        self.rng = np.random.default_rng(seed)

    def choose(self, losses: np.ndarray | None, size: int) -> np.ndarray:
        """A boolean mask over the candidate batch."""
        if self.random:
            return self.rng.random(size) < self.keep
        losses = np.asarray(losses, np.float64)
        self.past = np.concatenate([self.past, losses])[-self.history:]
        q = np.searchsorted(np.sort(self.past), losses, side="right") / len(self.past)
        return self.rng.random(size) < q ** self.beta


class AlwaysPlusRandom(Selector):
    """Raju et al. Table 1: a fixed "always" set, the rest of the budget re-drawn uniformly at
    random from the other rows at every checkpoint."""

    def __init__(self, n: int, keep: float, seed: int, always: np.ndarray | None):
        super().__init__(n, keep, seed)
        if always is None:
            raise ParameterError("parameter 'fixed' must give the always set for selector always_plus_random")
        self.always = np.sort(np.asarray(always))
        if len(self.always) > self.k:
            raise ParameterError(f"parameter 'fixed' must hold at most {self.k} rows; got {len(self.always)}")
        self.rest = np.setdiff1d(np.arange(n), self.always)

    def select(self, losses: np.ndarray | None) -> np.ndarray:
        extra = self.rng.choice(self.rest, self.k - len(self.always), replace=False)
        return np.sort(np.concatenate([self.always, extra]))


# Variants of the top-k loss selectors, for the diagnosis of C3's collapse (not Raju et al.'s).
VARIANTS = ("per_class", "random_first")
VARIANT_SELECTORS = ("uncertainty_ema", "epsilon_greedy", "ucb")


def make_selector(name: str, n: int, keep: float, seed: int, scores: dict[str, np.ndarray] | None = None,
                  fixed: np.ndarray | None = None, variant: str = "", labels: np.ndarray | None = None) -> Selector:
    """The registry of re-selecting selectors: ``name`` built for ``n`` rows keeping the fraction
    ``keep``, from ``seed``. The static EL2N and forgetting selectors read ``scores`` (the score
    bank: ``el2n_early``, ``forgetting``); Table 1's probes read ``fixed``: the always set, and for
    ``always_plus_static`` the whole static subset. ``variant`` (one of :data:`VARIANTS`, for
    :data:`VARIANT_SELECTORS` only) selects per class (``labels``: the training labels) or makes
    the first selection random. InfoBatch and Selective-Backprop are not re-selecting
    selectors: they are built by :func:`dynamic.dynamic_run` around the batches."""
    a, e, c = PARAMS["alpha"], PARAMS["epsilon"], PARAMS["c"]
    if variant and (variant not in VARIANTS or name not in VARIANT_SELECTORS):
        raise ParameterError(f"parameter 'variant' must be empty or one of {', '.join(VARIANTS)} with selector "
                             f"{' or '.join(VARIANT_SELECTORS)}; got {variant!r} with {name!r}")
    if variant == "per_class" and (labels is None or len(labels) != n):
        raise ParameterError(f"parameter 'labels' must give the {n} training labels for variant per_class")
    per_class = labels if variant == "per_class" else None
    first = variant == "random_first"
    bank = scores or {}
    makers = {
        "random_static": lambda: StaticSubset(n, keep, seed, keep_random(n, keep, seed)),
        "el2n_static": lambda: StaticSubset(n, keep, seed, keep_highest(bank["el2n_early"], keep)),
        "forgetting_static": lambda: StaticSubset(n, keep, seed, keep_highest(bank["forgetting"], keep)),
        "el2n_epsilon_static": lambda: StaticEpsilonGreedy(n, keep, seed, bank["el2n_early"], e),
        "random_dynamic": lambda: RandomDynamic(n, keep, seed),
        "uncertainty_ema": lambda: UncertaintyEMA(n, keep, seed, a, per_class, first),
        "epsilon_greedy": lambda: EpsilonGreedy(n, keep, seed, a, e, per_class, first),
        "ucb": lambda: UCB(n, keep, seed, a, c, per_class, first),
        "always_plus_static": lambda: AlwaysPlusRandom(n, keep, seed, fixed),  # fixed fills the budget
        "always_plus_random": lambda: AlwaysPlusRandom(n, keep, seed, fixed),
    }
    if name not in makers:
        raise ParameterError(f"parameter 'selector' must be one of {', '.join(makers)}; got {name!r}")
    return makers[name]()
