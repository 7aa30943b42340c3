"""Claim C2: pruning by GraNd at initialisation does not beat random pruning, while EL2N and
GraNd taken early in training do (Kirsch 2023 against Paul et al. 2021), and the suspected
cause, a 2021 checkpoint-restore bug.

Owns the static-pruning grid (:func:`grid`: every score of the bank x fraction pruned x seed,
two other selection rules, a budget map), one evaluation run (:func:`pruned_run`), a read-only
loader (:func:`load`), and the comparisons and the summary with its verdict rules
(:func:`summary`; the restore-bug explanation's, :func:`restore_bug_reading`). What the kept
subsets are (class counts, rank correlations, how rankings settle) is :mod:`c2_picks`'s.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from . import ParameterError, selection
from .bank import checkpoint_profile, score_bank, scoring_pass_seconds, scoring_run, scoring_runs
from .profiles import BUDGETS, Profile, side_seeds
from .runs import EVAL_SEED_OFFSET, read_grid, run
from .selection import PREDROP_SCORES, STATIC_SCORES
from .stats import ABOVE, BELOW, FEW_SEEDS, NO_DIFFERENCE, claim_verdict, compare, per_fraction, summarize
from .store import Record, Store
from .train import device_data

RULES = ("keep_highest", "keep_lowest", "stratified", "per_class")
# The cells C2's headline rests on (keep-highest at the profile's budget, every fraction): they
# get P.eval_seeds; every other cell gets profiles.side_seeds(P).
HEADLINE_SCORES = ("random", "grand_init", "grand_early", "el2n_early")
REGIME_SCORES = ("random", "input_norm", "grand_init", "grand_early", "el2n_early")
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
               budget=budget, force=force, eval_every_epoch=False)


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
    """Every evaluation run of chapter C2, in the order a sweep runs them; every budget convention
    is ``P.c2_budget``'s unless said otherwise.

    1. Keep-highest by each score of ``P.c2_scores`` at every fraction of ``P.prune_fractions``
       (Paul et al. Fig. 1; random is the baseline), then by ``P.c2_side_scores`` at 50% pruned:
       ``P.eval_seeds`` fresh seeds for :data:`HEADLINE_SCORES`, ``profiles.side_seeds(P)`` for
       the others.
    2. Per-class selection (keep the highest within each class) at 50% pruned for
       ``P.c2_per_class``, which separates class balance from what a score says about examples.
    3. The opposite rule (keep the easiest) and coverage-centric stratified selection (Zheng et
       al.) for ``P.c2_rule_scores`` at 50% pruned.
    4. The regime map: :data:`REGIME_SCORES` at 50% pruned for every budget of
       ``P.regime_epochs`` other than the profile's own (that one is part 1).
    5. With ``P.predrop`` set, keep-highest by :data:`selection.PREDROP_SCORES` (GraNd and EL2N early
       in the papers' sense) at 50% pruned.
    6. For every other convention of ``P.c2_budgets``, keep-highest by :data:`BUDGET_SCORES` at
       every fraction under it, and ``P.c2_cross_scores`` at 50% pruned under the convention that
       is not ``P.c2_budget`` (so that each published table is set beside ours in its own).

    Parts 2-6 get ``profiles.side_seeds(P)`` seeds, except headline scores in part 6's cross cells.
    """
    head, side = range(P.eval_seeds), range(side_seeds(P))
    B = P.c2_budget
    other = next(b for b in BUDGETS if b != B)

    def seeds(score: str) -> range:
        return head if score in HEADLINE_SCORES else side

    out = [PrunedSpec(s, f, i, budget=B) for f in P.prune_fractions for s in P.c2_scores for i in seeds(s)]
    out += [PrunedSpec(s, REGIME_PRUNE, i, budget=B) for s in P.c2_side_scores for i in seeds(s)]
    out += [PrunedSpec(s, REGIME_PRUNE, i, "per_class", budget=B) for s in P.c2_per_class for i in side]
    out += [PrunedSpec(s, REGIME_PRUNE, i, rule, budget=B) for rule in ("keep_lowest", "stratified")
            for s in P.c2_rule_scores for i in side]
    out += [PrunedSpec(s, REGIME_PRUNE, i, epochs=e, budget=B) for e in sorted(P.regime_epochs) if e != P.epochs
            for s in REGIME_SCORES for i in side]
    out += [PrunedSpec(s, REGIME_PRUNE, i, budget=B) for s in (PREDROP_SCORES if P.predrop is not None else ())
            for i in side]
    out += [PrunedSpec(s, f, i, budget=b) for b in P.c2_budgets if b != B for f in P.prune_fractions
            for s in BUDGET_SCORES for i in side]
    out += [PrunedSpec(s, REGIME_PRUNE, i, budget=other) for s in P.c2_cross_scores for i in seeds(s)]
    return list(dict.fromkeys(out))


def stages(P: Profile) -> list[list[PrunedSpec]]:
    """The chapter's grid after the shared stages (scoring runs, score bank): one stage."""
    return [grid(P)]


def run_spec(P: Profile, store: Store, spec: PrunedSpec, bank: dict[str, np.ndarray], force: bool = False) -> Record:
    """The evaluation run ``spec`` (scores from the profile's scoring runs whatever the budget)."""
    Pe = P if spec.epochs is None else P.replace(epochs=spec.epochs)
    return pruned_run(Pe, store, spec.score, bank, spec.prune, spec.eval_index, spec.rule, force, spec.budget)


def read_spec(P: Profile, store: Store) -> Callable[[PrunedSpec], Record]:
    """A reader of :func:`grid`'s runs from a read-only view of ``store`` (never computing; a
    missing run raises :class:`MissingResults`): what :func:`load` and ``headlines`` both read by."""
    reader = store.reader()
    bank = score_bank(P, reader)
    return lambda spec: run_spec(P, reader, spec, bank)


def load(P: Profile, store: Store, budget: str | None = None) -> pd.DataFrame:
    """Every evaluation run of :func:`grid` under ``budget`` (default ``P.c2_budget``), read from the
    store (never computed here), one row per run, plus the full-data baseline (the scoring runs,
    rule ``full``)."""
    budget = budget or P.c2_budget
    specs = [spec for spec in grid(P) if spec.budget == budget]
    got = read_grid("c2", P, specs, read_spec(P, store))
    rows = [{"score": spec.score, "rule": spec.rule, "prune": spec.prune, "epochs": spec.epochs or P.epochs,
             "seed": rec.config["seed"], "test_acc": rec.metrics["test_acc"], "n_train": rec.metrics["n_train"],
             "wall_seconds": rec.manifest.get("wall_seconds", float("nan"))} for spec, rec in got]
    rows += [{"score": "full", "rule": "full", "prune": 0.0, "epochs": P.epochs, "seed": r.config["seed"],
              "test_acc": r.metrics["test_acc"], "n_train": r.metrics["n_train"],
              "wall_seconds": r.manifest.get("wall_seconds", float("nan"))} for r in scoring_runs(P, store.reader())]
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
    Welch's interval from the seeds of the two cells compared (:func:`stats.compare`); no rows
    where only random's cells (or none) are stored."""
    d = runs[runs.rule != "full"]
    cols = ["score", "rule", "prune", "epochs", "diff", "lo", "hi", "direction", "n_a", "n_b", "dof"]
    frames = []
    for epochs, de in d.groupby("epochs"):
        for (score, rule), _ in de[de.score != "random"].groupby(["score", "rule"], sort=False):
            c = compare(de, {"score": score, "rule": rule}, {"score": "random"}, level=level)
            frames.append(c.assign(score=score, rule=rule, epochs=int(epochs)))
    if not frames:  # no cell but random's stored yet (a grid still computing): no rows
        return pd.DataFrame(columns=cols)
    return pd.concat(frames, ignore_index=True)[cols]


def pair_difference(runs: pd.DataFrame, a: str, b: str, epochs: int, rule: str = "keep_highest",
                    other: str | None = None, level: float = 0.95) -> pd.DataFrame:
    """Score ``a`` by ``rule`` minus score ``b`` by ``other`` (default the same rule) per fraction
    at budget ``epochs``, with Welch's interval (:func:`stats.compare`)."""
    d = runs[runs.epochs == epochs]
    return compare(d, {"score": a, "rule": rule}, {"score": b, "rule": other or rule}, level=level)


def budget_conventions(P: Profile, store: Store, runs: pd.DataFrame) -> dict[str, Any]:
    """Keep-highest by each of :data:`BUDGET_SCORES` minus random, per fraction, under every budget
    convention the grid ran (``summary.json``'s ``c2.budget_conventions``): the headline's from
    ``runs`` (:func:`load`), the other from the store where the profile ran cells under it
    (``P.c2_budgets``, ``P.c2_cross_scores``). Each is set beside the published table of its own
    convention (:data:`PUBLISHED`)."""
    out: dict[str, Any] = {"budgets": [], "diff_to_random": {}}
    ran = {spec.budget for spec in grid(P)}
    for budget in [P.c2_budget] + [b for b in BUDGETS if b != P.c2_budget and b in ran]:
        d = differences(runs if budget == P.c2_budget else load(P, store, budget))
        d = d[(d.rule == "keep_highest") & (d.epochs == P.epochs) & d.score.isin(BUDGET_SCORES)]
        out["budgets"].append(budget)
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


# The parts of claim C2 (Kirsch 2023 against Paul et al. 2021), each a comparison of one score's
# whole-set keep-highest subset with random at the headline budget, every fraction the grid ran it.
PARTS = {"grand_init": "GraNd at initialisation does not beat random",
         "el2n_early": "EL2N early in training beats random",
         "grand_early": "GraNd early in training beats random"}
PREDROP_OF = {"el2n_early": "el2n_predrop", "grand_early": "grand_predrop"}


def part_verdict(score: str, dirs: list[str]) -> str:
    """One part's verdict from its directions, one per fraction pruned (rules fixed in issue 27,
    before the airbench grid ran): inconclusive when a cell lacks ``stats.MIN_SEEDS`` seeds or
    none ran; "GraNd@init does not beat random" holds when it is above random at no fraction and
    fails when above at one or more; "EL2N / GraNd early beat random" by :func:`_claim_part`."""
    if not dirs or FEW_SEEDS in dirs:
        return "inconclusive"
    if score == "grand_init":
        return "fails" if ABOVE in dirs else "holds"
    return _claim_part(dirs)


def published_for(P: Profile, score: str, fractions: tuple[float, ...] = (REGIME_PRUNE,)
                  ) -> tuple[dict[str, float], str]:
    """The published differences to random (fraction of accuracy) beside a part, at each of
    ``fractions`` the source ran, keyed like the part's directions (``"0.5"``): from the
    reproduction run under the headline's budget convention where it has the score, else from the
    other; ({}, "") where neither has it."""
    sources = sorted(PUBLISHED, key=lambda k: PUBLISHED[k]["budget"] != P.c2_budget)
    for source in sources:
        acc = PUBLISHED[source]["acc"]
        if score in acc:
            at = [round(f, 6) for f in fractions]  # 0.30000000000000004 is the table's 0.3
            return {f"{f:g}": (acc[score][f] - acc["random"][f]) / 100 for f in at if f in acc[score]}, source
    return {}, ""


def regime_text(P: Profile, full: Any, n_train: int) -> str:
    """The budget a C2 headline is stated at: net, epochs, optimiser steps, full-data accuracy."""
    steps = P.epochs * max(1, n_train // P.batch_size)
    convention = ("equal epochs (a pruned run takes fewer steps)" if P.c2_budget == "epochs"
                  else "equal iterations (every pruned run takes the full-data run's steps)")
    return (f"{P.model}, {P.epochs} epochs ({steps:,} steps of {P.batch_size}) for full data at "
            f"{full.mean * 100:.1f}% ± {full.std * 100:.1f} (n = {full.n}), {convention}, whole-set keep-highest, "
            + ", ".join(f"{f:.0%}" for f in P.prune_fractions) + " pruned")


def headline(P: Profile, runs: pd.DataFrame, diffs: pd.DataFrame) -> dict[str, Any]:
    """Claim C2's headline at the profile's regime as a table of its parts (:data:`PARTS`), by
    rules fixed in issue 27 before the airbench grid ran (:func:`part_verdict`,
    :func:`claim_verdict`). Each part: its verdict, the directions per fraction, the effect at 50%
    pruned with its interval and seeds, the published difference there and at every fraction the
    part ran that the same source has (:func:`published_for`), and
    beside it the per-class and (where the profile has it) pre-drop readings at 50% pruned.

    The headline effect is EL2N@early minus random at 50% pruned."""
    E = P.epochs
    main = diffs[(diffs.rule == "keep_highest") & (diffs.epochs == E)]

    def at(score: str, rule: str = "keep_highest") -> dict[str, Any] | None:
        d = diffs[(diffs.score == score) & (diffs.rule == rule) & (diffs.epochs == E) & np.isclose(diffs.prune, REGIME_PRUNE)]
        if not len(d):
            return None
        r = d.iloc[0]
        return {"effect": float(r["diff"]), "ci": [float(r.lo), float(r.hi)], "direction": r.direction,
                "seeds": int(min(r.n_a, r.n_b))}

    parts = {}
    for score, statement in PARTS.items():
        g = main[main.score == score].sort_values("prune")
        dirs = list(g.direction)
        directions = {f"{r.prune:g}": r.direction for _, r in g.iterrows()}
        by_f, source = published_for(P, score, (REGIME_PRUNE, *g.prune))
        parts[score] = {"statement": statement, "verdict": part_verdict(score, dirs), "directions": directions,
                        "published_by_fraction": {f: d for f, d in by_f.items() if f in directions},
                        "seeds": int(g[["n_a", "n_b"]].min().min()) if len(g) else 0,
                        "at_50": at(score), "published": by_f.get(f"{REGIME_PRUNE:g}"), "published_source": source,
                        "per_class": at(score, "per_class"),
                        "predrop": at(PREDROP_OF[score]) if score in PREDROP_OF else None}
    verdict = claim_verdict([p["verdict"] for p in parts.values()])
    full = summarize(runs[runs.rule == "full"].test_acc)
    el2n = parts["el2n_early"]["at_50"] or {"effect": float("nan"), "ci": [float("nan")] * 2, "direction": ""}
    effects = {s: {**p["at_50"], "published": p["published"]} for s, p in parts.items() if p["at_50"]}
    return {"verdict": verdict, "effect": el2n["effect"], "ci": el2n["ci"],
            "effect_name": f"EL2N early ({checkpoint_text(P)}) minus random at 50% pruned (accuracy, fraction)",
            "published": parts["el2n_early"]["published"], "published_source": parts["el2n_early"]["published_source"],
            "regime": regime_text(P, full, int(runs[runs.rule == "full"].n_train.iloc[0])), "seeds": min(p["seeds"] for p in parts.values()),
            "parts": parts, "rule": "holds when every part holds, fails when any part fails, else inconclusive",
            "directions": {s: list(p["directions"].values()) for s, p in parts.items()}, "effects": effects}


def checkpoint_text(P: Profile) -> str:
    """How the book names the "early" checkpoint: a whole epoch when it falls on one, else the
    share of training (``10%`` for the cpu profile's 0.8 epoch)."""
    at = P.early * P.epochs
    return f"epoch {round(at)}" if abs(at - round(at)) < 1e-9 and round(at) >= 1 else f"{P.early:.0%}"


# The restore-bug explanation's readings (:func:`restore_bug_reading`).
FITS, DOES_NOT_FIT, MIXED = "fits", "does not fit", "mixed"


def restore_bug_checks(checks: dict[str, dict[str, list]]) -> tuple[dict[str, list], dict[str, list]]:
    """A summary's two restore-bug checks, restore bug minus GraNd@init and minus forgetting, by
    fraction ({} where one did not run)."""
    return checks.get("restore_bug_minus_grand_init") or {}, checks.get("restore_bug_minus_forgetting") or {}


def restore_bug_reading(checks: dict[str, dict[str, list]]) -> str | None:
    """Whether the restore-bug explanation (Kirsch 2023, §3) fits a summary's ``checks``, by the
    expectation chapter C2 states before its checks: if the 2021 "GraNd at initialisation" was GraNd
    of a trained network, its subsets behave unlike GraNd@init's and like a late score's
    (forgetting). At every fraction both checks ran, GraNd@init (restore bug) minus GraNd@init
    reads above and minus forgetting reads no detectable difference: :data:`FITS`; minus
    GraNd@init is above at none of them (the buggy scores prune no better than the true ones, so
    the bug cannot explain the gap): :data:`DOES_NOT_FIT`; else :data:`MIXED`. None where a check
    did not run or a cell has fewer than 3 seeds (no interval to read)."""
    init, late = restore_bug_checks(checks)
    fractions = [f for f in init if f in late]
    if not fractions or any(c[f][3] == FEW_SEEDS for c in (init, late) for f in fractions):
        return None
    if all(init[f][3] == ABOVE and late[f][3] == NO_DIFFERENCE for f in fractions):
        return FITS
    return DOES_NOT_FIT if all(init[f][3] != ABOVE for f in fractions) else MIXED


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
    budget = "full-data iterations" if P.c2_budget == "iterations" else "training over the kept subset (equal epochs)"
    out["scale"] = (f"{P.model}, {E} epochs of {budget}, scores averaged over {P.scoring_seeds} runs, "
                    f"{P.eval_seeds} evaluation seeds in the headline cells, {side_seeds(P)} elsewhere")
    out.update({"epochs": E, "model": P.model, "eval_seeds": P.eval_seeds, "side_seeds": side_seeds(P),
                "scoring_seeds": P.scoring_seeds, "regime_prune": REGIME_PRUNE})
    return out


# --------------------------------------------------------------------------- cost

def compute_seconds(P: Profile, store: Store, runs: pd.DataFrame) -> float:
    """Wall-clock seconds this chapter's results took to compute, read from the store: the scoring
    runs (both sets with ``P.predrop``), the GraNd/EL2N scoring passes it uses, and every
    evaluation run, ``runs`` (:func:`load`, the profile's budget convention) and those of the other
    conventions of ``P.c2_budgets``."""
    whens = (0.0, P.early, 1.0) + (() if P.predrop is None else (P.predrop,))
    second = 0.0 if P.predrop is None else sum(
        scoring_run(checkpoint_profile(P, P.predrop), s, store.reader()).manifest.get("wall_seconds", 0.0)
        for s in range(P.scoring_seeds))
    others = {spec.budget for spec in grid(P)} - {P.c2_budget}
    other = sum(float(d[d.rule != "full"].wall_seconds.sum()) for d in (load(P, store, b) for b in sorted(others)))
    return float(runs.wall_seconds.sum() + other + second + scoring_pass_seconds(P, store, whens))


def median_run_seconds(runs: pd.DataFrame, epochs: int) -> float:
    """Median wall-clock of the evaluation runs at budget ``epochs`` (less sensitive than the sum to
    runs that shared the machine with other work)."""
    return float(runs[(runs.epochs == epochs) & (runs.rule != "full")].wall_seconds.median())


def run_epochs(P: Profile, spec: PrunedSpec) -> float:
    """Full-data-equivalent epochs of one evaluation run: its budget's epochs, times the kept
    fraction under equal epochs."""
    return (spec.epochs or P.epochs) * (1.0 - spec.prune if spec.budget == "epochs" else 1.0)
