"""Claim C2: pruning by GraNd at initialisation does not beat random pruning, while EL2N and
GraNd taken early in training do (Kirsch 2023 against Paul et al. 2021), and the suspected
cause, a 2021 checkpoint-restore bug.

Owns the static-pruning grid (:func:`grid`: every score of the bank x fraction pruned x seed,
two other selection rules, a budget map), one evaluation run (:func:`pruned_run`), a read-only
loader (:func:`load`), the comparisons and the summary with its verdict rules
(:func:`summary`), and the analyses of what the kept subsets are (class counts, rank
correlations, how rankings settle).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import ParameterError, scores, selection
from .bank import STATIC_SCORES, per_seed, score_bank, scoring_pass_seconds, scoring_runs
from .data import class_counts, load_dataset
from .profiles import Profile
from .runs import EVAL_SEED_OFFSET, read_grid, run
from .stats import compare, per_fraction, ranks, spearman, summarize
from .store import Record, Store
from .train import device_data

RULES = ("keep_highest", "keep_lowest", "stratified")
REGIME_SCORES = ("random", "input_norm", "grand_init", "grand_early", "el2n_early")
RULE_SCORES = ("el2n_early", "grand_init")  # evaluated with the other two rules at REGIME_PRUNE
REGIME_PRUNE = 0.5
CELLS = ("score", "rule", "prune")  # one cell of the grid at one budget: its seeds are the spread


# --------------------------------------------------------------------------- the grid

def pruned_subset(score_name: str, bank: dict[str, np.ndarray], n: int, prune: float,
                  seed: int, rule: str = "keep_highest") -> np.ndarray:
    """The training rows kept when pruning the fraction ``prune`` by ``score_name`` of the bank."""
    if not 0.0 <= prune < 1.0:
        raise ParameterError(f"parameter 'prune' must be a fraction in [0, 1); got {prune!r}")
    keep = 1.0 - prune
    if score_name == "random":
        return selection.keep_random(n, keep, seed)
    if score_name not in bank:
        raise ParameterError(f"parameter 'score' must be one of {', '.join(STATIC_SCORES)}; got {score_name!r}")
    rules = {"keep_highest": selection.keep_highest, "keep_lowest": selection.keep_lowest,
             "stratified": selection.keep_stratified}
    if rule not in rules:
        raise ParameterError(f"parameter 'rule' must be one of {', '.join(rules)}; got {rule!r}")
    return rules[rule](bank[score_name], keep)


def pruned_run(P: Profile, store: Store, score_name: str, bank: dict[str, np.ndarray],
               prune: float, eval_index: int, rule: str = "keep_highest", force: bool = False) -> Record:
    """One evaluation run of static pruning (Paul et al. App. B): a fresh seed, the kept subset,
    and the same number of iterations and schedule as full-data training."""
    seed = EVAL_SEED_OFFSET + eval_index
    subset = pruned_subset(score_name, bank, device_data(P).n_train, prune, seed, rule)
    return run(P, seed, store, subset=subset, subset_tag=f"{rule}:{score_name}:prune={prune:g}",
               budget="iterations", force=force)


@dataclass(frozen=True)
class PrunedSpec:
    """One evaluation run of the static-pruning grid."""

    score: str
    prune: float
    eval_index: int
    rule: str = "keep_highest"
    epochs: int | None = None  # None: the profile's own budget
    needs_bank = True

    @property
    def label(self) -> str:
        epochs = "" if self.epochs is None else f", {self.epochs} epochs"
        return f"{self.rule}:{self.score} prune={self.prune:g} seed={EVAL_SEED_OFFSET + self.eval_index}{epochs}"


def grid(P: Profile) -> list[PrunedSpec]:
    """Every evaluation run of chapter C2, in the order a sweep runs them.

    1. Keep-highest for every score of :data:`bank.STATIC_SCORES`, every fraction of
       ``P.prune_fractions`` and ``P.eval_seeds`` fresh seeds (Paul et al. Fig. 1; random is the
       baseline).
    2. The opposite rule (keep the easiest) and coverage-centric stratified selection (Zheng et
       al.) for :data:`RULE_SCORES` at 50% pruned.
    3. The regime map: :data:`REGIME_SCORES` at 50% pruned for every budget of
       ``P.regime_epochs`` other than the profile's own (that one is part 1).
    """
    seeds = range(P.eval_seeds)
    out = [PrunedSpec(s, f, i) for f in P.prune_fractions for s in STATIC_SCORES for i in seeds]
    out += [PrunedSpec(s, REGIME_PRUNE, i, rule) for rule in RULES[1:] for s in RULE_SCORES for i in seeds]
    out += [PrunedSpec(s, REGIME_PRUNE, i, epochs=e) for e in sorted(P.regime_epochs) if e != P.epochs
            for s in REGIME_SCORES for i in seeds]
    return out


def stages(P: Profile) -> list[list[PrunedSpec]]:
    """The chapter's grid after the shared stages (scoring runs, score bank): one stage."""
    return [grid(P)]


def run_spec(P: Profile, store: Store, spec: PrunedSpec, bank: dict[str, np.ndarray], force: bool = False) -> Record:
    """The evaluation run ``spec`` (scores from the profile's scoring runs whatever the budget)."""
    Pe = P if spec.epochs is None else P.replace(epochs=spec.epochs)
    return pruned_run(Pe, store, spec.score, bank, spec.prune, spec.eval_index, spec.rule, force)


def load(P: Profile, store: Store) -> pd.DataFrame:
    """Every evaluation run of :func:`grid`, read from the store (never computed here), one row
    per run, plus the full-data baseline (the scoring runs, rule ``full``)."""
    reader = store.reader()
    bank = score_bank(P, reader)
    got = read_grid("c2", P, grid(P), lambda spec: run_spec(P, reader, spec, bank))
    rows = [{"score": spec.score, "rule": spec.rule, "prune": spec.prune, "epochs": spec.epochs or P.epochs,
             "seed": rec.config["seed"], "test_acc": rec.metrics["test_acc"], "n_train": rec.metrics["n_train"],
             "wall_seconds": rec.manifest.get("wall_seconds", float("nan"))} for spec, rec in got]
    rows += [{"score": "full", "rule": "full", "prune": 0.0, "epochs": P.epochs, "seed": r.config["seed"],
              "test_acc": r.metrics["test_acc"], "n_train": r.metrics["n_train"],
              "wall_seconds": r.manifest.get("wall_seconds", float("nan"))} for r in scoring_runs(P, reader)]
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- comparisons

def accuracy(runs: pd.DataFrame, epochs: int, rule: str = "keep_highest") -> pd.DataFrame:
    """Mean, std and the 16th-84th percentile band of test accuracy per (score, fraction pruned)."""
    d = runs[(runs.rule == rule) & (runs.epochs == epochs)]
    out = []
    for (score, prune), g in d.groupby(["score", "prune"], sort=False):
        s = summarize(g.test_acc)
        out.append({"score": score, "prune": prune, "mean": s.mean, "std": s.std, "p16": s.p16, "p84": s.p84,
                    "seeds": s.n})
    return pd.DataFrame(out)


def differences(runs: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Accuracy minus random's at the same fraction and budget, for every evaluated cell, with a
    Student-t interval on the seed-to-seed spread pooled over all cells of the same budget
    (:func:`stats.compare`)."""
    d = runs[runs.rule != "full"]
    frames = []
    for epochs, de in d.groupby("epochs"):
        for (score, rule), _ in de[de.score != "random"].groupby(["score", "rule"], sort=False):
            c = compare(de, CELLS, {"score": score, "rule": rule}, {"score": "random"}, level=level)
            frames.append(c.assign(score=score, rule=rule, epochs=int(epochs)))
    return pd.concat(frames, ignore_index=True)[["score", "rule", "prune", "epochs", "diff", "lo", "hi",
                                                  "pooled_sd", "dof"]]


def pair_difference(runs: pd.DataFrame, a: str, b: str, epochs: int, level: float = 0.95) -> pd.DataFrame:
    """Keep-highest accuracy of score ``a`` minus score ``b`` per fraction, the spread pooled over
    the keep-highest cells of the budget."""
    d = runs[(runs.rule == "keep_highest") & (runs.epochs == epochs)]
    return compare(d, CELLS, {"score": a}, {"score": b}, level=level)


def rule_difference(runs: pd.DataFrame, score: str, rule: str, other: str, epochs: int) -> pd.Series:
    """``rule`` minus ``other`` for ``score`` at 50% pruned, the spread pooled over every cell of
    the budget."""
    d = runs[(runs.epochs == epochs) & (runs.rule != "full")]
    c = compare(d, CELLS, {"score": score, "rule": rule}, {"score": score, "rule": other})
    return c[np.isclose(c.prune, REGIME_PRUNE)].iloc[0]


def direction(lo: float, hi: float) -> int:
    """+1 when an interval lies above zero, -1 below, 0 when it contains zero."""
    return 1 if lo > 0 else -1 if hi < 0 else 0


def summary(P: Profile, runs: pd.DataFrame, diffs: pd.DataFrame) -> dict[str, Any]:
    """Headline numbers and computed verdicts of chapter C2 (``summary.json`` section ``c2``).

    Verdict rules, written before the grid was run beyond the 50%-pruned pilot:

    * ``<score>_beats_random``: at the profile's budget, keep-highest by the score is above random
      (interval above zero) at one fraction or more and below it (interval below zero) at none.
    * ``<score>_below_random``: below random at one fraction or more.
    * ``input_norm_like_grand_init``: at every fraction the interval of their difference holds zero.
    * ``restore_bug_like_late_score``: the restore-bug variant differs from GraNd@init (interval
      excludes zero) at one fraction or more and is closer to forgetting (an end-of-training
      score) than to GraNd@init at every fraction.
    * ``hard_beats_random_at_some_budget``: EL2N@10% keeping 50% beats random at some budget of
      the regime map; ``keep_easiest_beats_keep_hardest``: EL2N@10% keeping the easiest half
      beats keeping the hardest at the profile's budget; ``stratified_beats_keep_hardest`` likewise.
    """
    E = P.epochs
    acc = accuracy(runs, E)
    main = diffs[(diffs.rule == "keep_highest") & (diffs.epochs == E)]
    out: dict[str, Any] = {
        "acc_mean": per_fraction(acc, "mean"), "acc_std": per_fraction(acc, "std"),
        "diff_to_random": {s: {f"{r.prune:g}": [r["diff"], r["lo"], r["hi"]] for _, r in g.iterrows()}
                           for s, g in main.groupby("score", sort=False)},
    }
    full = summarize(runs[runs.rule == "full"].test_acc)
    out["acc_mean"]["full"], out["acc_std"]["full"] = full.mean, full.std
    regime = diffs[(diffs.rule == "keep_highest") & (diffs.prune == REGIME_PRUNE)]
    out["regime"] = {s: {str(int(r.epochs)): r["diff"] for _, r in g.sort_values("epochs").iterrows()}
                     for s, g in regime.groupby("score", sort=False)}
    out["regime_ci"] = {s: {str(int(r.epochs)): [r["lo"], r["hi"]] for _, r in g.sort_values("epochs").iterrows()}
                        for s, g in regime.groupby("score", sort=False)}

    verdict: dict[str, bool] = {}
    for s in STATIC_SCORES[1:]:
        dirs = [direction(r.lo, r.hi) for _, r in main[main.score == s].iterrows()]
        verdict[f"{s}_beats_random"] = bool(dirs) and max(dirs) == 1 and min(dirs) >= 0
        verdict[f"{s}_below_random"] = bool(dirs) and min(dirs) == -1
    pair = pair_difference(runs, "input_norm", "grand_init", E)
    verdict["input_norm_like_grand_init"] = bool(len(pair)) and all(direction(r.lo, r.hi) == 0 for _, r in pair.iterrows())
    bug_init = pair_difference(runs, "grand_init_restore_bug", "grand_init", E)
    bug_late = pair_difference(runs, "grand_init_restore_bug", "forgetting", E)
    verdict["restore_bug_like_late_score"] = (
        bool(len(bug_init)) and any(direction(r.lo, r.hi) != 0 for _, r in bug_init.iterrows())
        and all(abs(a) < abs(b) for a, b in zip(bug_late["diff"], bug_init["diff"])))
    el2n_regime = regime[regime.score == "el2n_early"]
    verdict["hard_beats_random_at_some_budget"] = bool((el2n_regime.lo > 0).any())
    rule_d = diffs[(diffs.epochs == E) & (diffs.prune == REGIME_PRUNE) & (diffs.score == "el2n_early")]
    rules_run = set(rule_d.rule)
    for rule, name in (("keep_lowest", "keep_easiest_beats_keep_hardest"), ("stratified", "stratified_beats_keep_hardest")):
        if rule in rules_run and "keep_highest" in rules_run:
            verdict[name] = bool(rule_difference(runs, "el2n_early", rule, "keep_highest", E).lo > 0)
    out["rules"] = {f"{r.rule}:{r.score}": [r["diff"], r["lo"], r["hi"]]
                    for _, r in diffs[(diffs.epochs == E) & (diffs.prune == REGIME_PRUNE)].iterrows()}
    out["scale"] = (f"{P.model}, {E} epochs of full-data iterations, scores averaged over {P.scoring_seeds} runs, "
                    f"{P.eval_seeds} evaluation seeds per point")
    out.update({"verdict": verdict, "epochs": E, "model": P.model, "eval_seeds": P.eval_seeds,
                "scoring_seeds": P.scoring_seeds, "regime_prune": REGIME_PRUNE})
    return out


# --------------------------------------------------------------------------- what the subsets are

def kept_per_class(P: Profile, bank: dict[str, np.ndarray], prune: float = REGIME_PRUNE) -> pd.DataFrame:
    """Examples of each class kept at ``prune`` by random, every score's keep-highest subset, and
    the other rules for :data:`RULE_SCORES` (score-ordered subsets can starve whole classes)."""
    classes = load_dataset(P.dataset).classes
    data = device_data(P)
    y = data.y_train.cpu().numpy()
    picks = [("keep_highest", s) for s in STATIC_SCORES] + [(r, s) for r in RULES[1:] for s in RULE_SCORES]
    out = []
    for rule, score in picks:
        kept = pruned_subset(score, bank, data.n_train, prune, EVAL_SEED_OFFSET, rule)
        name = "random" if score == "random" else f"{rule}: {score}"
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


# --------------------------------------------------------------------------- cost

def compute_seconds(P: Profile, store: Store, runs: pd.DataFrame) -> float:
    """Wall-clock seconds this chapter's results took to compute, read from the store: the scoring
    runs, the GraNd/EL2N scoring passes it uses, and every evaluation run."""
    return float(runs.wall_seconds.sum() + scoring_pass_seconds(P, store, (0.0, P.early, 1.0)))


def median_run_seconds(runs: pd.DataFrame, epochs: int) -> float:
    """Median wall-clock of the evaluation runs at budget ``epochs`` (less sensitive than the sum to
    runs that shared the machine with other work)."""
    return float(runs[(runs.epochs == epochs) & (runs.rule != "full")].wall_seconds.median())


def training_epochs(P: Profile) -> int:
    """Full-data-equivalent epochs of training in the grid for profile ``P``: the scoring runs
    plus every evaluation run (each takes the iterations of its budget's full-data epochs)."""
    return P.scoring_seeds * P.epochs + sum(spec.epochs or P.epochs for spec in grid(P))


def regime_share(P: Profile) -> float:
    """The share of :func:`training_epochs` spent on the regime map's budgets other than the
    profile's own."""
    return sum(g.epochs for g in grid(P) if g.epochs is not None) / training_epochs(P)
