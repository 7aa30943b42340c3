"""What C2's subsets are: the examples of each class a subset keeps, the rank correlations
between the scores of the bank, and how the rankings settle as scoring runs are averaged (read
only). The grid, its runs and the verdicts are :mod:`c2`'s.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import c3, scores
from .bank import per_seed
from .c2 import REGIME_PRUNE, pruned_subset
from .data import class_counts, load_dataset
from .profiles import Profile
from .runs import EVAL_SEED_OFFSET
from .selection import PREDROP_SCORES, STATIC_SCORES
from .stats import ranks, spearman
from .store import Store
from .train import device_data


# The static subsets chapter C3 sets beside its dynamic selectors: its selector -> the selection
# as kept_per_class names it.
C3_STATIC = {"el2n_static": "keep_highest: el2n_early", "forgetting_static": "keep_highest: forgetting",
             "random_static": "random"}


def c3_static(P: Profile) -> tuple[str, ...]:
    """The selections of :data:`C3_STATIC` whose selector chapter C3's grid trains at its highest
    rate (on the balanced set), for :func:`kept_per_class`'s ``only``."""
    rate = max(P.c3_rates)
    trained = {s.selector for s in c3.grid(P) if np.isclose(s.prune, rate) and s.imbalance == "none"}
    return tuple(v for k, v in C3_STATIC.items() if k in trained)


def kept_per_class(P: Profile, bank: dict[str, np.ndarray], prune: float = REGIME_PRUNE,
                   only: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Examples of each class kept at ``prune`` by random, every score's keep-highest and per-class
    subsets, the other rules for ``P.c2_rule_scores`` and the pre-drop scores' keep-highest subsets
    (score-ordered subsets can starve whole classes); ``only``: just these selections (e.g.
    :func:`c3_static`)."""
    classes = load_dataset(P.dataset).classes
    data = device_data(P)
    y = data.y_train.cpu().numpy()
    picks = ([("keep_highest", s) for s in STATIC_SCORES] + [("per_class", s) for s in STATIC_SCORES[1:]]
             + [(r, s) for r in ("keep_lowest", "stratified") for s in P.c2_rule_scores]
             + [("keep_highest", s) for s in PREDROP_SCORES if s in bank])
    out = []
    for rule, score in picks:
        name = "random" if score == "random" else f"{rule}: {score}"
        if only is not None and name not in only:
            continue
        kept = pruned_subset(score, bank, data.n_train, prune, EVAL_SEED_OFFSET, rule, y)
        out += [{"selection": name, "class": classes[c], "count": int(n)}
                for c, n in enumerate(class_counts(y[kept], len(classes)))]
    return pd.DataFrame(out)


def spearman_matrix(bank: dict[str, np.ndarray]) -> pd.DataFrame:
    """Spearman rho between every pair of static-pruning scores (long format: a, b, rho)."""
    names = [s for s in STATIC_SCORES if s in bank]
    r = {s: ranks(np.where(np.isfinite(bank[s]), bank[s], np.inf)) for s in names}
    return pd.DataFrame([{"a": a, "b": b, "rho": float(np.corrcoef(r[a], r[b])[0, 1])} for a in names for b in names])


def rank_reliability(P: Profile, store: Store) -> pd.DataFrame:
    """How the EL2N@10% and GraNd@10% rankings settle as scoring runs are averaged (Paul et al.
    Fig. 10 left): rho between the mean of the first k runs and the mean of all K, and, free of
    that overlap, rho between the means of two disjoint groups of k runs (k <= K/2)."""
    seeds = range(P.scoring_seeds)
    out = []
    for score, name in (("el2n", "el2n_early"), ("grand", "grand_early")):
        per = per_seed(P, store, seeds, P.early, "train", score)
        full = per.mean(0)
        for k, mean in enumerate(scores.running_means(per), start=1):
            out.append({"score": name, "comparison": f"mean of all {len(per)} runs", "K": k,
                        "rho": spearman(mean, full)})
        for k in range(1, len(per) // 2 + 1):
            out.append({"score": name, "comparison": "mean of k other runs", "K": k,
                        "rho": spearman(per[:k].mean(0), per[k:2 * k].mean(0))})
    return pd.DataFrame(out)
