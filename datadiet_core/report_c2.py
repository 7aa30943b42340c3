"""Chapter C2's text and tables: the verdict paragraph and what its parts table leaves out, the
accuracy, per-class, checkpoint, rules and checks tables, the published differences beside ours,
and the early checkpoint and budget map in words, from the summary and tables :mod:`c2` computes
(nothing here computes a result). Labels and cells are :mod:`report`'s.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .c2 import DOES_NOT_FIT, FITS, MIXED, REGIME_PRUNE, published_differences, restore_bug_checks, restore_bug_reading
from .profiles import Profile
from .report import CONVENTION, _by_fraction, _pp, _pp_point, _reading, and_list, cell, label, parts_verdict, plural
from .stats import FEW_SEEDS, MIN_SEEDS


def c2_verdict_text(summary: dict[str, Any]) -> str:
    """The chapter's verdict paragraph: :func:`parts_verdict` of its headline."""
    return parts_verdict("c2", summary["headline"])


def c2_parts_notes(summary: dict[str, Any]) -> str:
    """What the parts table leaves out, computed: GraNd@init against random at 50% pruned over the
    whole set and within each class (the gap between them: the classes it starves), and whether
    forgetting, the claim's score that is not a part, has the seeds to be read."""
    out, key = [], f"{REGIME_PRUNE:g}"
    whole, per = (summary.get(k, {}).get("grand_init", {}).get(key) for k in ("diff_to_random", "per_class_to_random"))
    if whole and per:
        lead = f"GraNd@init's difference to random at {REGIME_PRUNE:.0%} pruned is {cell(*whole[:3])} over the whole set"
        if per[3] == FEW_SEEDS:  # a 2-seed cell is shown, never read
            gap = (": the classes its whole-set subset starves (below) may explain the gap, but" if whole[3] == "below"
                   else ";")
            out.append(f"{lead} and {cell(*per[:3])} chosen within each class{gap} a per-class cell of fewer than 3 "
                       "seeds is not read.")
        elif whole[3] != "below":  # no gap below random to explain
            out.append(f"{lead}; chosen within each class, it is {cell(*per[:3])}.")
        else:
            most = abs(per[0]) < 0.5 * abs(whole[0])
            out.append(f"{lead}; chosen within each class, it is {cell(*per[:3])}: "
                       + ("most of the gap is the classes the whole-set subset starves (below)." if most else
                          "the gap is not mainly class starvation."))
    seeds = summary.get("seeds", {}).get("forgetting")
    if seeds:
        n = min(seeds.values())
        out.append("Forgetting, Paul et al.'s third score, is not a part of the claim: " + (
            f"its cells have {plural(n, 'seed')}, too few for an interval, so its differences to random (the chart below) are "
            "shown and not read." if n < MIN_SEEDS else "its differences to random are in the chart below, read as every other comparison."))
    return " ".join(out)


# The checks of chapter C2 (summary.json's c2.checks), in words.
C2_CHECKS = {"input_norm_minus_grand_init": "input norm minus GraNd@init",
             "restore_bug_minus_grand_init": "GraNd@init (restore bug) minus GraNd@init",
             "restore_bug_minus_forgetting": "GraNd@init (restore bug) minus forgetting (a score of the end of training)",
             "keep_lowest_minus_keep_highest_el2n_early": "EL2N early: keeping the easiest minus keeping the hardest",
             "stratified_minus_keep_highest_el2n_early": "EL2N early: stratified (Zheng et al.) minus keeping the hardest"}


# What the restore-bug explanation's reading (c2.restore_bug_reading) says, as a sentence puts it.
RESTORE_BUG_WORDS = {FITS: "fits the runs", DOES_NOT_FIT: "does not fit the runs", MIXED: "fits the runs only in part"}
RESTORE_BUG_RULE = ("It fits where, at every fraction both checks ran, GraNd@init (restore bug) is above GraNd@init "
                    "and shows no detectable difference to forgetting; it does not fit where it is above GraNd@init "
                    "at none (this rule restates the expectation that opens the section).")


def restore_bug_text(summary: dict[str, Any]) -> str:
    """The restore-bug explanation read from the chapter's checks (:func:`c2.restore_bug_reading`),
    beside the readings it rests on (computed)."""
    checks = summary.get("checks", {})
    init, late = restore_bug_checks(checks)
    fractions = [f for f in init if f in late]
    if not fractions:
        return "This profile's grid does not run both restore-bug checks, so the explanation is not read here."
    reading = restore_bug_reading(checks)
    if reading is None:
        return ("The restore-bug explanation is not read at this regime: its checks have fewer than 3 seeds, so no "
                "interval (the table gives their differences).")
    at = "; ".join(f"at {float(f):.0%} pruned, GraNd@init (restore bug) minus GraNd@init is {_reading(init[f])}, and "
                   f"minus forgetting {_reading(late[f])}" for f in fractions)
    return f"The restore-bug explanation {RESTORE_BUG_WORDS[reading]} at this regime: {at}. {RESTORE_BUG_RULE}"


def c2_checks_table(summary: dict[str, Any]) -> pd.DataFrame:
    """Every check of the chapter (:data:`C2_CHECKS`) that ran, per fraction pruned: the difference
    in points with Welch's 95% interval and its reading (:func:`_reading`)."""
    rows = [{"comparison": text, **{f"{float(f):.0%} pruned": _reading(c) for f, c in summary["checks"][name].items()}}
            for name, text in C2_CHECKS.items() if summary["checks"].get(name)]
    return pd.DataFrame(rows).set_index("comparison").fillna("") if rows else pd.DataFrame()


def c2_accuracy_table(acc: pd.DataFrame) -> pd.DataFrame:
    """Mean ± standard deviation of test accuracy (%) across seeds per score (rows) and fraction
    pruned (columns); a cell with fewer seeds than the most any cell has names its count."""
    most = int(acc.seeds.max()) if len(acc) else 0
    cell = acc.assign(text=[f"{m * 100:.1f} ± {s * 100:.1f}" + (f" (n = {n})" if n < most else "")
                            for m, s, n in zip(acc["mean"], acc["std"], acc.seeds)],
                      score=acc.score.map(lambda s: label(s)),
                      pruned=acc.prune.map(lambda f: f"{f:.0%} pruned"))
    return (cell.pivot(index="score", columns="pruned", values="text").reindex(list(dict.fromkeys(cell.score)))
            .rename_axis(columns=None))  # one header row: the columns' name would add a second


def c2_rules_table(diffs: pd.DataFrame, epochs: int) -> pd.DataFrame:
    """Accuracy minus random (percentage points, 95% interval) at 50% pruned for every selection
    rule evaluated at ``epochs``."""
    d = diffs[(diffs.epochs == epochs) & (diffs.prune == REGIME_PRUNE) & diffs.rule.isin(["keep_lowest", "stratified"])]
    d = diffs[(diffs.epochs == epochs) & (diffs.prune == REGIME_PRUNE) & diffs.score.isin(d.score.unique())
              & (diffs.rule != "per_class")]
    return pd.DataFrame({"rule": d.rule.str.replace("_", " "), "score": d.score.map(label), "minus random (points)": [
        cell(a, lo, hi) for a, lo, hi in zip(d["diff"], d.lo, d.hi)]}).set_index(["score", "rule"]).sort_index()


def c2_published_table(conventions: dict[str, Any], model: str, headline: dict[str, Any] | None = None) -> pd.DataFrame:
    """Accuracy minus random (percentage points) per score and fraction pruned: ours under every
    budget convention the grid ran (``summary.json``'s ``c2.budget_conventions``; keep-highest by
    ``model``, Welch's 95% interval) beside the published differences of :data:`c2.PUBLISHED`,
    each row naming its budget convention. ``headline`` (``c2.diff_to_random``, the headline's
    convention) adds the published scores that convention's table leaves out (GraNd early)."""
    pub = published_differences()
    ours = {b: dict(by_s) for b, by_s in conventions["diff_to_random"].items()}
    if headline and conventions["budgets"]:
        first = ours.setdefault(conventions["budgets"][0], {})
        first.update({sc: by_f for sc, by_f in headline.items() if sc in set(pub.score) and sc not in first})
    rows = [{"score": label(sc), "source": f"ours ({model}, {CONVENTION[b]})", "prune": float(f), "text": cell(*c[:3])}
            for b, by_s in ours.items() for sc, by_f in by_s.items()
            if sc in set(pub.score) for f, c in by_f.items()]
    rows += [{"score": label(r.score), "source": f"{r.source.split(' (')[0]} ({r.source.split(' (')[1].rstrip(')')})",
              "prune": r.prune, "text": _pp_point(r["diff"])} for _, r in pub.iterrows()]
    d = pd.DataFrame(rows).assign(pruned=lambda x: x.prune.map(lambda f: f"{f:.0%} pruned"))
    order = sorted(d.pruned.unique(), key=lambda t: float(t.split("%")[0]))
    return d.pivot(index=["score", "source"], columns="pruned", values="text")[order].fillna("").rename_axis(columns=None)


def c2_budget_note(profile: str, conventions: dict[str, Any]) -> str:
    """Which budget conventions this profile's C2 grid ran, in one sentence."""
    ran = [CONVENTION[b] for b in conventions["budgets"]]
    if len(ran) > 1:
        return (f"The {profile} profile ran {ran[0]} (its headline) and {ran[1]} for "
                + ", ".join(label(s) for s in conventions["diff_to_random"][conventions["budgets"][1]])
                + ", so each published row has ours under its own convention beside it.")
    return (f"The {profile} profile runs {ran[0]} only, so a published row under the other convention sits beside ours "
            "under another budget: the difference between those rows is partly the convention's (a notebook run with "
            "the papermill parameter c2_budget set to the other one computes that convention).")


def c2_protocol_budget(P: Profile) -> str:
    """How the chapter's evaluation runs are budgeted, in one or two sentences."""
    if P.c2_budget == "epochs":
        return (f"Every run makes {P.epochs} passes over its kept subset with the same learning-rate schedule (equal "
                "epochs, Kirsch's PyTorch convention), so a run on half the data takes half the steps.")
    return (f"Every run takes the same number of SGD steps with the same learning-rate schedule as {P.epochs} epochs "
            "of full-data training (equal iterations, Paul et al. App. B), so a run on half the data makes twice as "
            "many passes over it.")


def c2_cells_text(P: Profile) -> str:
    """Which scores the chapter's keep-highest protocol runs, and at which fractions pruned
    (:func:`c2.grid`'s first part): ``P.c2_scores`` at every fraction, ``P.c2_side_scores`` at
    50% only."""
    main = (and_list([label(s) for s in P.c2_scores]) + " at " + and_list([f"{f:.0%}" for f in P.prune_fractions])
            + " pruned")
    side = [label(s) for s in P.c2_side_scores if s not in P.c2_scores]
    return main + (f"; {and_list(side)} at {REGIME_PRUNE:.0%} only" if side else "")


def _acc_at(bound: list[float]) -> str:
    lo, hi = bound
    if lo == hi:
        return f"{lo * 100:.1f}%"
    return f"below {hi * 100:.1f}%" if not np.isfinite(lo) else f"between {lo * 100:.1f}% and {hi * 100:.1f}%"


def c2_early_text(P: Profile, early: dict[str, Any]) -> str:
    """Where the early scores are taken, against the scoring runs' test accuracy
    (:func:`bank.early_checkpoint`)."""
    text = (f"The early scores are taken at {early['early']:.0%} of training ({early['early_epoch']:g} of {P.epochs} "
            f"epochs), where the scoring runs' test accuracy was {_acc_at(early['test_acc_early'])}"
            + (" (test accuracy is measured only after whole epochs: the bound is the one after epoch 1)"
               if not np.isfinite(early["test_acc_early"][0]) else "") + "; the learning rate "
            f"starts to fall at epoch {early['first_drop_epoch']:.1f}, and the runs end at {early['test_acc_end'] * 100:.1f}%"
            + (" (these accuracies without test-time augmentation)." if P.tta else "."))
    if early.get("test_acc_predrop") is not None:
        text += (f" A second set of scoring runs, checkpointed at {early['predrop']:.0%} (epoch {early['predrop_epoch']:g}, "
                 f"{early['test_acc_predrop'] * 100:.1f}% test accuracy), matches the papers' other sense of early: "
                 f"the network well past chance, before the learning rate falls. The headline keeps the papers' "
                 f"fraction ({early['early']:.0%}) and sets the reading at {early['predrop']:.0%} beside each part.")
    return text


def c2_budget_text(summary: dict[str, Any]) -> str:
    """The budget map and the other rules at 50% pruned in words (computed), or that the profile ran none."""
    text = []
    reg = summary["regime"].get("el2n_early", {})
    if len(reg) > 1:
        text.append("EL2N early minus random at 50% pruned, by training budget: "
                    + ", ".join(f"{_reading(c)} at {plural(e, 'epoch')}" for e, c in reg.items()) + ".")
    rules = [f"{name} by EL2N early minus keeping the hardest: {_by_fraction(c)}."
             for rule, name in (("keep_lowest", "Keeping the easiest half"), ("stratified", "Stratified selection"))
             if (c := summary["checks"].get(f"{rule}_minus_keep_highest_el2n_early"))]
    text += rules
    if rules:  # the grid runs the other rules at the profile's own budget only (c2.grid)
        text.append(f"The other rules ran at {summary['epochs']} epochs only, so the budget analogue of Sorscher et "
                    "al.'s prediction (keep the easy examples where the model cannot fit the data) is not tested "
                    "across budgets here.")
    return " ".join(text) or "This profile's grid has neither a budget map nor other rules."


def c2_checkpoint_table(summary: dict[str, Any]) -> pd.DataFrame:
    """GraNd and EL2N by the checkpoint they are taken at: its epoch, the scoring runs' test
    accuracy there, and keep-highest minus random at 50% pruned (points, Welch's 95% interval)."""
    e, key = summary["early_checkpoint"], f"{REGIME_PRUNE:g}"
    acc = {0.0: "untrained", e["early"]: _acc_at(e["test_acc_early"]), 1.0: f"{e['test_acc_end'] * 100:.1f}%"}
    if e.get("predrop") is not None:
        acc[e["predrop"]] = "" if e["test_acc_predrop"] is None else f"{e['test_acc_predrop'] * 100:.1f}%"
    picks = [(0.0, "grand_init"), (e["early"], "grand_early"), (e.get("predrop"), "grand_predrop"),
             (1.0, "grand_init_restore_bug"), (e["early"], "el2n_early"), (e.get("predrop"), "el2n_predrop")]
    rows = [{"score": label(s), "checkpoint": f"{when:.0%} (epoch {when * summary['epochs']:g})",
             "test accuracy there": acc[when], "minus random at 50% pruned": _reading(c)}
            for when, s in picks if when is not None and (c := summary["diff_to_random"].get(s, {}).get(key))]
    return pd.DataFrame(rows).set_index("score") if rows else pd.DataFrame()  # empty: no such cell ran


def c2_per_class_text(summary: dict[str, Any]) -> str:
    """What per-class selection at 50% pruned does, score by score, in words (computed)."""
    key, pc = f"{REGIME_PRUNE:g}", summary.get("per_class_to_random", {})
    if not pc:
        pend = summary.get("headline", {}).get("pending", {})
        waiting = [*pend.get("stored", {}).get("c2_per_class", []), *pend.get("c2_per_class", [])]
        if waiting:  # a summary stated from the headline's cells alone: the per-class cells are in the grid
            return (f"Per-class selection at 50% pruned ({', '.join(label(s) for s in waiting)}) is in this profile's "
                    "grid and is read once the grid is complete.")
        return "This profile's grid runs no per-class selection (the papermill parameter c2_per_class adds it)."
    by = {d: [label(s) for s, c in pc.items() if c[key][3] == d] for d in ("above", "below", "no detectable difference")}
    few = [f"{label(s)} {_pp(c[key][0])}" for s, c in pc.items() if c[key][3] == FEW_SEEDS]
    read = [f"{d}: {', '.join(v)}" for d, v in by.items() if v]
    if few:  # differences without an interval are given, not read
        read.append(f"{', '.join(few)} points (fewer than 3 seeds: no interval, so not read)")
    return ("To separate class balance from what a score says about examples, every score was also evaluated at 50% "
            "pruned keeping the same fraction within each class (DeepCore's rule). Minus random, per class: "
            + "; ".join(read)
            + ". The table gives both rules minus "
            "random and per-class minus whole-set selection, in percentage points, with Welch's 95% interval where "
            "both cells have 3 seeds or more. The C2 headline rests on whole-set selection (the papers' rule).")


def c2_per_class_table(summary: dict[str, Any]) -> pd.DataFrame:
    """At 50% pruned, per score: both rules minus random, and per-class minus whole-set (:func:`_reading`)."""
    key = f"{REGIME_PRUNE:g}"
    rows = [{"score": label(s), "whole set minus random": _reading(summary["diff_to_random"].get(s, {}).get(key)),
             "per class minus random": _reading(by_f.get(key)),
             "per class minus whole set": _reading(summary["per_class_minus_whole_set"].get(s, {}).get(key))}
            for s, by_f in summary.get("per_class_to_random", {}).items()]
    return pd.DataFrame(rows).set_index("score") if rows else pd.DataFrame()  # empty: no per-class cell ran
