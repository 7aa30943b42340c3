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
from .bank import (PREDROP_SCORES, STATIC_SCORES, baseline_history, checkpoint_profile, per_seed, score_bank, scoring_pass_seconds,
                   scoring_run, scoring_runs)
from .data import class_counts, load_dataset
from .profiles import Profile, side_seeds
from .runs import EVAL_SEED_OFFSET, read_grid, run
from .stats import ABOVE, BELOW, MIN_SEEDS, compare, per_fraction, ranks, spearman, summarize
from .store import Record, Store
from .train import device_data

RULES = ("keep_highest", "keep_lowest", "stratified", "per_class")
# The cells C2's headline rests on (keep-highest at the profile's budget, every fraction): they
# get P.eval_seeds; every other cell gets profiles.side_seeds(P).
HEADLINE_SCORES = ("random", "grand_init", "grand_early", "el2n_early")
REGIME_SCORES = ("random", "input_norm", "grand_init", "grand_early", "el2n_early")
RULE_SCORES = ("el2n_early", "grand_init")  # evaluated with keep_lowest and stratified at REGIME_PRUNE
# Evaluated with per-class selection (keep the highest within each class) at REGIME_PRUNE:
# every score (random is class-balanced in expectation already, so it is its own baseline).
PER_CLASS_SCORES = STATIC_SCORES[1:]
REGIME_PRUNE = 0.5
# Evaluated under equal epochs too, at every fraction, where the profile lists that budget: the
# scores of Kirsch's PyTorch reproduction's table (his EL2N is taken at epoch 1 of about 12.6).
BUDGET_SCORES = ("random", "el2n_early", "grand_init", "input_norm")


# --------------------------------------------------------------------------- the grid

def pruned_subset(score_name: str, bank: dict[str, np.ndarray], n: int, prune: float,
                  seed: int, rule: str = "keep_highest", labels: np.ndarray | None = None) -> np.ndarray:
    """The training rows kept when pruning the fraction ``prune`` by ``score_name`` of the bank
    (``labels``: the training labels, which rule ``per_class`` needs)."""
    if not 0.0 <= prune < 1.0:
        raise ParameterError(f"parameter 'prune' must be a fraction in [0, 1); got {prune!r}")
    keep = 1.0 - prune
    if score_name == "random":
        return selection.keep_random(n, keep, seed)
    if score_name not in bank:
        raise ParameterError(f"parameter 'score' must be one of {', '.join(STATIC_SCORES)}; got {score_name!r}")
    if rule == "per_class":
        if labels is None:
            raise ParameterError("parameter 'labels' must be given for rule per_class")
        return selection.keep_per_class(bank[score_name], labels, keep)
    rules = {"keep_highest": selection.keep_highest, "keep_lowest": selection.keep_lowest,
             "stratified": selection.keep_stratified}
    if rule not in rules:
        raise ParameterError(f"parameter 'rule' must be one of {', '.join(RULES)}; got {rule!r}")
    return rules[rule](bank[score_name], keep)


def pruned_run(P: Profile, store: Store, score_name: str, bank: dict[str, np.ndarray],
               prune: float, eval_index: int, rule: str = "keep_highest", force: bool = False,
               budget: str = "iterations") -> Record:
    """One evaluation run of static pruning (Paul et al. App. B): a fresh seed, the kept subset,
    and the same number of iterations and schedule as full-data training (``budget="epochs"``:
    the same number of passes over the subset instead, Kirsch's PyTorch reproduction)."""
    seed = EVAL_SEED_OFFSET + eval_index
    data = device_data(P)
    labels = data.y_train.cpu().numpy() if rule == "per_class" else None
    subset = pruned_subset(score_name, bank, data.n_train, prune, seed, rule, labels)
    return run(P, seed, store, subset=subset, subset_tag=f"{rule}:{score_name}:prune={prune:g}",
               budget=budget, force=force)


@dataclass(frozen=True)
class PrunedSpec:
    """One evaluation run of the static-pruning grid."""

    score: str
    prune: float
    eval_index: int
    rule: str = "keep_highest"
    epochs: int | None = None  # None: the profile's own budget
    budget: str = "iterations"  # or "epochs" (profiles.BUDGETS)
    needs_bank = True

    @property
    def label(self) -> str:
        epochs = "" if self.epochs is None else f", {self.epochs} epochs"
        budget = "" if self.budget == "iterations" else ", equal epochs"
        return f"{self.rule}:{self.score} prune={self.prune:g} seed={EVAL_SEED_OFFSET + self.eval_index}{epochs}{budget}"


def grid(P: Profile) -> list[PrunedSpec]:
    """Every evaluation run of chapter C2, in the order a sweep runs them.

    1. Keep-highest for every score of :data:`bank.STATIC_SCORES`, every fraction of
       ``P.prune_fractions`` (Paul et al. Fig. 1; random is the baseline): ``P.eval_seeds`` fresh
       seeds for :data:`HEADLINE_SCORES`, ``profiles.side_seeds(P)`` for the others.
    2. Per-class selection (keep the highest within each class) at 50% pruned for
       :data:`PER_CLASS_SCORES`, which separates class balance from what a score says about examples.
    3. The opposite rule (keep the easiest) and coverage-centric stratified selection (Zheng et
       al.) for :data:`RULE_SCORES` at 50% pruned.
    4. The regime map: :data:`REGIME_SCORES` at 50% pruned for every budget of
       ``P.regime_epochs`` other than the profile's own (that one is part 1).
    5. With ``P.predrop`` set, keep-highest by :data:`bank.PREDROP_SCORES` (GraNd and EL2N early
       in the papers' sense) at 50% pruned.
    6. With ``"epochs"`` in ``P.c2_budgets``, keep-highest by :data:`BUDGET_SCORES` at every
       fraction under equal epochs (Kirsch's PyTorch reproduction's convention).

    Parts 2-6 get ``profiles.side_seeds(P)`` seeds.
    """
    head, side = range(P.eval_seeds), range(side_seeds(P))
    out = [PrunedSpec(s, f, i) for f in P.prune_fractions for s in STATIC_SCORES
           for i in (head if s in HEADLINE_SCORES else side)]
    out += [PrunedSpec(s, REGIME_PRUNE, i, "per_class") for s in PER_CLASS_SCORES for i in side]
    out += [PrunedSpec(s, REGIME_PRUNE, i, rule) for rule in ("keep_lowest", "stratified") for s in RULE_SCORES
            for i in side]
    out += [PrunedSpec(s, REGIME_PRUNE, i, epochs=e) for e in sorted(P.regime_epochs) if e != P.epochs
            for s in REGIME_SCORES for i in side]
    out += [PrunedSpec(s, REGIME_PRUNE, i) for s in (PREDROP_SCORES if P.predrop is not None else ()) for i in side]
    out += [PrunedSpec(s, f, i, budget="epochs") for b in P.c2_budgets if b == "epochs" for f in P.prune_fractions
            for s in BUDGET_SCORES for i in side]
    return out


def stages(P: Profile) -> list[list[PrunedSpec]]:
    """The chapter's grid after the shared stages (scoring runs, score bank): one stage."""
    return [grid(P)]


def run_spec(P: Profile, store: Store, spec: PrunedSpec, bank: dict[str, np.ndarray], force: bool = False) -> Record:
    """The evaluation run ``spec`` (scores from the profile's scoring runs whatever the budget)."""
    Pe = P if spec.epochs is None else P.replace(epochs=spec.epochs)
    return pruned_run(Pe, store, spec.score, bank, spec.prune, spec.eval_index, spec.rule, force, spec.budget)


def load(P: Profile, store: Store, budget: str = "iterations") -> pd.DataFrame:
    """Every evaluation run of :func:`grid` under ``budget``, read from the store (never computed
    here), one row per run, plus the full-data baseline (the scoring runs, rule ``full``)."""
    reader = store.reader()
    bank = score_bank(P, reader)
    specs = [spec for spec in grid(P) if spec.budget == budget]
    got = read_grid("c2", P, specs, lambda spec: run_spec(P, reader, spec, bank))
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
    """Accuracy minus random's at the same fraction and budget, for every evaluated cell, with
    Welch's interval from the seeds of the two cells compared (:func:`stats.compare`)."""
    d = runs[runs.rule != "full"]
    frames = []
    for epochs, de in d.groupby("epochs"):
        for (score, rule), _ in de[de.score != "random"].groupby(["score", "rule"], sort=False):
            c = compare(de, {"score": score, "rule": rule}, {"score": "random"}, level=level)
            frames.append(c.assign(score=score, rule=rule, epochs=int(epochs)))
    return pd.concat(frames, ignore_index=True)[["score", "rule", "prune", "epochs", "diff", "lo", "hi",
                                                  "direction", "n_a", "n_b", "dof"]]


def pair_difference(runs: pd.DataFrame, a: str, b: str, epochs: int, rule: str = "keep_highest",
                    other: str | None = None, level: float = 0.95) -> pd.DataFrame:
    """Score ``a`` by ``rule`` minus score ``b`` by ``other`` (default the same rule) per fraction
    at budget ``epochs``, with Welch's interval (:func:`stats.compare`)."""
    d = runs[runs.epochs == epochs]
    return compare(d, {"score": a, "rule": rule}, {"score": b, "rule": other or rule}, level=level)


def budget_conventions(P: Profile, store: Store, runs: pd.DataFrame) -> dict[str, Any]:
    """Keep-highest by each of :data:`BUDGET_SCORES` minus random, per fraction, under every budget
    convention of ``P.c2_budgets`` (``summary.json``'s ``c2.budget_conventions``): equal
    iterations from ``runs`` (:func:`load`), equal epochs from the store where the profile lists
    it. Each is set beside the published table of its own convention (:data:`PUBLISHED`)."""
    out: dict[str, Any] = {"budgets": list(P.c2_budgets), "diff_to_random": {}}
    for budget in P.c2_budgets:
        d = differences(runs if budget == "iterations" else load(P, store, budget))
        d = d[(d.rule == "keep_highest") & (d.epochs == P.epochs) & d.score.isin(BUDGET_SCORES)]
        out["diff_to_random"][budget] = {s: _cells(g) for s, g in d.groupby("score", sort=False)}
    return out


def _cells(c: pd.DataFrame) -> dict[str, list]:
    """A comparison as {fraction: [diff, lo, hi, direction]} (the layout of ``summary.json``)."""
    return {f"{r.prune:g}": [r["diff"], r["lo"], r["hi"], r["direction"]] for _, r in c.iterrows()}


# Published accuracies (%) beside which the book sets ours, read from the reproductions'
# committed result files (see the C2 chapter): Kirsch's fork of the original JAX code (ResNet-18,
# 200 epochs, equal iterations; random 4 seeds, scores 2) and his PyTorch reproduction
# (hlb-CIFAR10 net, about 12.6 epochs, equal epochs; 10 seeds a cell, full data 93.97).
PUBLISHED = {
    "Kirsch's fork of the original code (ResNet-18, 200 epochs, equal iterations)": {
        "budget": "iterations", "full": None,
        "acc": {"random": {0.1: 94.96, 0.3: 94.27, 0.5: 93.54, 0.6: 92.50},
                "el2n_early": {0.1: 95.09, 0.3: 95.30, 0.5: 95.22, 0.6: 94.66},
                "grand_early": {0.1: 95.14, 0.3: 95.45, 0.5: 95.07, 0.6: 94.07},
                "grand_init": {0.1: 95.06, 0.3: 93.91, 0.5: 92.19, 0.6: 90.77},
                "input_norm": {0.1: 95.09, 0.3: 94.11, 0.5: 92.41, 0.6: 90.81}}},
    "Kirsch's PyTorch reproduction (hlb-CIFAR10 net, about 12.6 epochs, equal epochs)": {
        "budget": "epochs", "full": 93.97,
        "acc": {"random": {0.1: 93.72, 0.3: 92.78, 0.5: 91.39, 0.6: 90.09},
                "el2n_early": {0.1: 93.97, 0.3: 93.68, 0.5: 92.56, 0.6: 89.75},
                "grand_init": {0.1: 93.65, 0.3: 92.40, 0.5: 89.97, 0.6: 87.71},
                "input_norm": {0.1: 93.67, 0.3: 92.44, 0.5: 90.16, 0.6: 88.27}}},
}
FORK = next(iter(PUBLISHED))


def published_differences() -> pd.DataFrame:
    """The published accuracies of :data:`PUBLISHED` as differences to random (points), one row
    per (source, budget convention, score, fraction pruned)."""
    rows = []
    for source, p in PUBLISHED.items():
        rnd = p["acc"]["random"]
        rows += [{"source": source, "budget": p["budget"], "score": s, "prune": f, "diff": (a - rnd[f]) / 100}
                 for s, by_f in p["acc"].items() if s != "random" for f, a in by_f.items()]
    return pd.DataFrame(rows)


def _claim_part(dirs: list[str]) -> str:
    """A score "beats random" (holds) when it is above random at one fraction or more and below at
    none; it fails when it is below at one or more and above at none; otherwise inconclusive."""
    if ABOVE in dirs and BELOW not in dirs:
        return "holds"
    if BELOW in dirs and ABOVE not in dirs:
        return "fails"
    return "inconclusive"


def headline(P: Profile, runs: pd.DataFrame, diffs: pd.DataFrame) -> dict[str, Any]:
    """Claim C2's headline at the profile's regime, by a rule fixed before the third-seed runs.

    Whole-set keep-highest selection (the papers' rule), the profile's budget, every fraction
    of ``P.prune_fractions``; each comparison is three-valued per fraction (:func:`stats.direction`).

    * Part 1, "GraNd@init does not beat random": holds when GraNd@init is above random at no
      fraction, fails when it is above at one or more.
    * Part 2, "EL2N and GraNd early do": for each of EL2N@early and GraNd@early, by
      :func:`_claim_part`; the part holds when both hold, fails when either fails, else
      inconclusive.
    * The claim holds when both parts hold, fails when either fails, and is inconclusive
      otherwise, or when any cell compared has fewer than :data:`MIN_SEEDS` seeds.

    The effect reported is EL2N@early minus random at 50% pruned, beside the published
    difference of Kirsch's fork of the original code.
    """
    E = P.epochs
    main = diffs[(diffs.rule == "keep_highest") & (diffs.epochs == E)]
    dirs = {s: list(main[main.score == s].direction) for s in HEADLINE_SCORES[1:]}
    seeds = int(min(main[main.score.isin(HEADLINE_SCORES[1:])][["n_a", "n_b"]].min())) if len(main) else 0
    init = "fails" if ABOVE in dirs["grand_init"] else "holds"
    early = [_claim_part(dirs[s]) for s in ("el2n_early", "grand_early")]
    early_part = "fails" if "fails" in early else "holds" if early == ["holds", "holds"] else "inconclusive"
    verdict = ("inconclusive" if seeds < MIN_SEEDS or not all(dirs.values()) else
               "fails" if "fails" in (init, early_part) else "holds" if init == early_part == "holds" else "inconclusive")
    full = summarize(runs[runs.rule == "full"].test_acc)

    def at(score: str) -> pd.Series:
        return main[(main.score == score) & np.isclose(main.prune, REGIME_PRUNE)].iloc[0]

    fork = PUBLISHED[FORK]["acc"]
    effects = {s: {"effect": float(at(s)["diff"]), "ci": [float(at(s).lo), float(at(s).hi)],
                   "direction": at(s).direction,
                   "published": (fork[s][REGIME_PRUNE] - fork["random"][REGIME_PRUNE]) / 100}
               for s in HEADLINE_SCORES[1:] if len(main[main.score == s])}
    regime = (f"{P.model}, {E} epochs' worth of full-data iterations (full data {full.mean * 100:.1f}% ± "
              f"{full.std * 100:.1f}, n = {full.n}), whole-set keep-highest, "
              + ", ".join(f"{f:.0%}" for f in P.prune_fractions) + " pruned")
    return {"verdict": verdict, "effect": effects["el2n_early"]["effect"], "ci": effects["el2n_early"]["ci"],
            "effect_name": "EL2N@10% minus random at 50% pruned (accuracy, fraction)",
            "published": effects["el2n_early"]["published"], "published_source": FORK,
            "regime": regime, "seeds": seeds, "parts": {"grand_init_not_above_random": init, "early_scores_beat_random": early_part},
            "directions": dirs, "effects": effects}


def summary(P: Profile, runs: pd.DataFrame, diffs: pd.DataFrame) -> dict[str, Any]:
    """Headline numbers and computed verdicts of chapter C2 (``summary.json`` section ``c2``).

    Every comparison is three-valued per fraction pruned (``above``, ``below``, ``no detectable
    difference``: :func:`stats.direction` of Welch's 95% interval), stored as [diff, lo, hi,
    direction] per fraction:

    * ``diff_to_random``: keep-highest by each score minus random, at the profile's budget;
    * ``per_class_to_random`` and ``per_class_minus_whole_set``: per-class selection at 50%
      pruned, minus random and minus the whole-set rule;
    * ``checks``: input norm minus GraNd@init; the restore-bug variant minus GraNd@init and minus
      forgetting (it behaves like a late score where it differs from GraNd@init and not from
      forgetting); the other rules minus keep-highest for EL2N@early;
    * ``regime``: minus random at 50% pruned for each budget of the regime map.

    ``headline`` is :func:`headline`.
    """
    E = P.epochs
    acc = accuracy(runs, E)
    main = diffs[(diffs.rule == "keep_highest") & (diffs.epochs == E)]
    out: dict[str, Any] = {
        "acc_mean": per_fraction(acc, "mean"), "acc_std": per_fraction(acc, "std"),
        "seeds": {s: {f"{r.prune:g}": int(r.seeds) for _, r in g.iterrows()} for s, g in acc.groupby("score", sort=False)},
        "diff_to_random": {s: _cells(g) for s, g in main.groupby("score", sort=False)},
    }
    full = summarize(runs[runs.rule == "full"].test_acc)
    out["acc_mean"]["full"], out["acc_std"]["full"] = full.mean, full.std
    per_class = diffs[(diffs.rule == "per_class") & (diffs.epochs == E)]
    out["per_class_to_random"] = {s: _cells(g) for s, g in per_class.groupby("score", sort=False)}
    out["per_class_minus_whole_set"] = {s: _cells(pair_difference(runs, s, s, E, "per_class", "keep_highest"))
                                        for s in per_class.score.unique()}
    regime = diffs[(diffs.rule == "keep_highest") & np.isclose(diffs.prune, REGIME_PRUNE)]
    out["regime"] = {s: {str(int(r.epochs)): [r["diff"], r["lo"], r["hi"], r["direction"]]
                         for _, r in g.sort_values("epochs").iterrows()} for s, g in regime.groupby("score", sort=False)}
    checks = {"input_norm_minus_grand_init": pair_difference(runs, "input_norm", "grand_init", E),
              "restore_bug_minus_grand_init": pair_difference(runs, "grand_init_restore_bug", "grand_init", E),
              "restore_bug_minus_forgetting": pair_difference(runs, "grand_init_restore_bug", "forgetting", E)}
    for rule in ("keep_lowest", "stratified"):
        c = pair_difference(runs, "el2n_early", "el2n_early", E, rule, "keep_highest")
        if len(c):
            checks[f"{rule}_minus_keep_highest_el2n_early"] = c
    out["checks"] = {name: _cells(c) for name, c in checks.items()}
    out["rules"] = {f"{r.rule}:{r.score}": [r["diff"], r["lo"], r["hi"], r["direction"]]
                    for _, r in diffs[(diffs.epochs == E) & np.isclose(diffs.prune, REGIME_PRUNE)].iterrows()}
    out["headline"] = headline(P, runs, diffs)
    out["scale"] = (f"{P.model}, {E} epochs of full-data iterations, scores averaged over {P.scoring_seeds} runs, "
                    f"{P.eval_seeds} evaluation seeds in the headline cells, {side_seeds(P)} elsewhere")
    out.update({"epochs": E, "model": P.model, "eval_seeds": P.eval_seeds, "side_seeds": side_seeds(P),
                "scoring_seeds": P.scoring_seeds, "regime_prune": REGIME_PRUNE})
    return out


# --------------------------------------------------------------------------- what the subsets are

def kept_per_class(P: Profile, bank: dict[str, np.ndarray], prune: float = REGIME_PRUNE) -> pd.DataFrame:
    """Examples of each class kept at ``prune`` by random, every score's keep-highest and per-class
    subsets, the other rules for :data:`RULE_SCORES` and the pre-drop scores' keep-highest subsets
    (score-ordered subsets can starve whole classes)."""
    classes = load_dataset(P.dataset).classes
    data = device_data(P)
    y = data.y_train.cpu().numpy()
    picks = ([("keep_highest", s) for s in STATIC_SCORES] + [("per_class", s) for s in STATIC_SCORES[1:]]
             + [(r, s) for r in ("keep_lowest", "stratified") for s in RULE_SCORES]
             + [("keep_highest", s) for s in PREDROP_SCORES if s in bank])
    out = []
    for rule, score in picks:
        kept = pruned_subset(score, bank, data.n_train, prune, EVAL_SEED_OFFSET, rule, y)
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

def early_checkpoint(P: Profile, store: Store) -> dict[str, float | None]:
    """Where the "early" scores are taken, against how far learning had got (read from the scoring
    runs' per-epoch history): the checkpoints ``P.early`` and ``P.predrop`` in epochs, the first
    learning-rate drop in epochs, and the mean test accuracy at the end of the first epoch, at the
    last epoch before the drop, at ``P.predrop`` (from its own scoring runs; None when it is not at
    the end of an epoch or not set) and at the end. Paul et al.'s epoch 20 of 200 comes long after
    the first epoch and before their first drop (epoch 60)."""
    acc = baseline_history(scoring_runs(P, store)).groupby("epoch").test_acc.mean()
    drop = P.lr_milestones[0] * P.epochs if P.lr_milestones else float(P.epochs)
    before = acc[acc.index <= drop]
    out: dict[str, float | None] = {
        "early": P.early, "early_epoch": P.early * P.epochs, "first_drop_epoch": drop,
        "test_acc_epoch_1": float(acc.iloc[0]), "last_epoch_before_drop": float(before.index[-1]) if len(before) else 0.0,
        "test_acc_before_drop": float(before.iloc[-1]) if len(before) else float("nan"),
        "test_acc_end": float(acc.iloc[-1]), "predrop": P.predrop, "predrop_epoch": None, "test_acc_predrop": None}
    if P.predrop is not None:
        Q = checkpoint_profile(P, P.predrop)
        at = P.predrop * P.epochs
        acc_q = baseline_history([scoring_run(Q, s, store.reader()) for s in range(P.scoring_seeds)]
                                 ).groupby("epoch").test_acc.mean()
        out["predrop_epoch"] = at
        out["test_acc_predrop"] = float(acc_q.loc[int(at)]) if float(at).is_integer() and int(at) in acc_q.index else None
    return out


def compute_seconds(P: Profile, store: Store, runs: pd.DataFrame) -> float:
    """Wall-clock seconds this chapter's results took to compute, read from the store: the scoring
    runs (both sets with ``P.predrop``), the GraNd/EL2N scoring passes it uses, and every
    evaluation run."""
    whens = (0.0, P.early, 1.0) + (() if P.predrop is None else (P.predrop,))
    second = 0.0 if P.predrop is None else sum(
        scoring_run(checkpoint_profile(P, P.predrop), s, store.reader()).manifest.get("wall_seconds", 0.0)
        for s in range(P.scoring_seeds))
    return float(runs.wall_seconds.sum() + second + scoring_pass_seconds(P, store, whens))


def median_run_seconds(runs: pd.DataFrame, epochs: int) -> float:
    """Median wall-clock of the evaluation runs at budget ``epochs`` (less sensitive than the sum to
    runs that shared the machine with other work)."""
    return float(runs[(runs.epochs == epochs) & (runs.rule != "full")].wall_seconds.median())


def training_epochs(P: Profile) -> int:
    """Full-data-equivalent epochs of training in the grid for profile ``P``: the scoring runs (two
    sets with ``P.predrop``) plus every evaluation run (:func:`run_epochs`)."""
    sets = 1 if P.predrop is None else 2
    return round(sets * P.scoring_seeds * P.epochs + sum(run_epochs(P, spec) for spec in grid(P)))


def run_epochs(P: Profile, spec: PrunedSpec) -> float:
    """Full-data-equivalent epochs of one evaluation run: its budget's epochs, times the kept
    fraction under equal epochs."""
    return (spec.epochs or P.epochs) * (1.0 - spec.prune if spec.budget == "epochs" else 1.0)


def regime_share(P: Profile) -> float:
    """The share of :func:`training_epochs` spent on the regime map's budgets other than the
    profile's own."""
    return sum(g.epochs for g in grid(P) if g.epochs is not None) / training_epochs(P)
