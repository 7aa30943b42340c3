"""Report text, tables and labels: what the book says in words and tables about the summaries
and comparisons the claim modules compute. Nothing here computes a result; every number it
writes comes from a claim module's summary or tables.

Owns the display names of scores and selectors (:data:`LABELS`), each chapter's closing
verdict paragraph, the chapters' tables, and each headline's effect and published figure in
words (``regimes`` sets them in the introduction's table).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .c2 import PUBLISHED, REGIME_PRUNE, published_differences
from .profiles import Profile, parse_variant
from .stats import FEW_SEEDS, MIN_SEEDS

LABELS = {"full": "full data", "random": "random", "input_norm": "input norm ‖x‖₂",
                "grand_init": "GraNd@init", "grand_early": "GraNd early", "el2n_early": "EL2N early",
                "forgetting": "forgetting", "grand_init_restore_bug": "GraNd@init (restore bug)",
                "grand_predrop": "GraNd@pre-drop", "el2n_predrop": "EL2N@pre-drop",
                "random_static": "random (static)", "el2n_static": "EL2N early (static)",
                "forgetting_static": "forgetting (static)", "el2n_epsilon_static": "EL2N early + ε-greedy (static)",
                "random_dynamic": "random (dynamic)", "uncertainty_ema": "uncertainty EMA", "epsilon_greedy": "ε-greedy",
                "ucb": "UCB", "infobatch": "InfoBatch", "selective_backprop": "Selective-Backprop",
                "random_backprop": "Random-Backprop", "always_plus_static": "always + static sometimes",
                "always_plus_random": "always + random sometimes"}


# The claims, by the one id used everywhere (CLI, summary.json, modules): label, statement,
# chapter.
CLAIMS = {
    "c1": ("C1", "GraNd at initialisation is in effect the input norm (Kirsch 2023).",
           "notebooks/01_input_norm_correlation"),
    "c2": ("C2", "Pruning by GraNd at initialisation does not beat random pruning, while EL2N and GraNd "
                 "early in training do (Kirsch 2023 against Paul et al. 2021).", "notebooks/02_static_pruning"),
    "c3": ("C3", "Dynamic pruning beats static pruning at aggressive rates, even with random selection "
                 "(Raju et al.).", "notebooks/03_dynamic_pruning"),
}


def show(table: pd.DataFrame) -> Any:
    """A table for the book: its index as ordinary leading columns and one header row (pandas
    draws an index's names as a second header row), numbers to at most 3 decimals with no trailing
    zeros (the Styler's default prints 6: 0.963000), or None when it is empty (a cell that ends in None shows nothing;
    an empty Markdown would print its repr)."""
    if table.empty:
        return None
    flat = table if isinstance(table.index, pd.RangeIndex) else table.reset_index()
    return flat.style.hide(axis="index").format(_number)


def _number(v: Any) -> str:
    """A table cell as text: floats to at most 3 decimals (93.33, 0.326, 1), NaN as —."""
    if isinstance(v, (float, np.floating)):
        return "—" if np.isnan(v) else f"{v:.3f}".rstrip("0").rstrip(".")
    return str(v)


# The variants of C3's collapse diagnosis (selection.VARIANTS), as a sentence names a selector run in one.
VARIANT_NAMES = {"per_class": "per class", "random_first": "with its first selection random"}
# The same variants as a column or panel heading, beside the selector as Raju et al. specify it.
VARIANT_HEADINGS = {"as specified": "as specified", "per_class": "per class", "random_first": "first selection random"}


def label(name: str) -> str:
    """The display name of a score or selector (the name itself where it has none)."""
    return LABELS.get(name, name)


def selection_label(name: str) -> str:
    """The display name of a selection "rule: score" ("keep_highest: el2n_early" → "EL2N early,
    keep highest"), or of a score or selector."""
    if ": " not in name:
        return label(name)
    rule, score = name.split(": ", 1)
    return f"{label(score)}, {rule.replace('_', ' ')}"


def comparison_labels(diffs: pd.DataFrame) -> pd.DataFrame:
    """``diffs`` (columns a, b: selector names) with a ``score`` column naming each comparison
    "label(a) − label(b)", as :func:`plots.difference_to_random` colours by."""
    return diffs.assign(score=[f"{label(a)} − {label(b)}" for a, b in zip(diffs.a, diffs.b)])


def _pp(d: float) -> str:
    return f"{d * 100:+.1f}"


def _pp_point(d: float) -> str:
    """A published point difference in points; one that rounds to zero reads "0.0", unsigned
    (an interval's bounds keep their sign: it says on which side of 0 the bound lies)."""
    return "0.0" if round(d * 100, 1) == 0 else _pp(d)


def cell(d: float, lo: float, hi: float) -> str:
    """A difference in accuracy with its interval, in percentage points: '+1.1 [+0.2, +2.0]'; a
    comparison of cells with fewer than ``stats.MIN_SEEDS`` seeds has none, and says so."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return f"{_pp(d)} ({FEW_SEEDS})"
    return f"{_pp(d)} [{_pp(lo)}, {_pp(hi)}]"


def _reading(c: list | None) -> str:
    """A stored comparison [diff, lo, hi, direction] as '+1.1 [+0.2, +2.0] above' ('not run' if absent)."""
    if not c:
        return "not run"
    return cell(*c[:3]) if c[3] == FEW_SEEDS else f"{cell(*c[:3])} {c[3]}"


def _by_fraction(by_f: dict[str, list]) -> str:
    """A three-valued comparison per fraction in words, every reading beside its interval:
    'above at 30% (+1.1 [+0.2, +2.0]), no detectable difference at 50% (…)'."""
    return ", ".join(f"{_pp(c[0])} at {float(f):.0%} ({FEW_SEEDS})" if c[3] == FEW_SEEDS else
                     f"{c[3]} at {float(f):.0%} ({cell(*c[:3])})" for f, c in by_f.items())


def effect_text(claim: str, h: dict[str, Any]) -> str:
    """A headline's effect with its interval, in the claim's unit."""
    if claim == "c1":
        return f"ρ = {h['effect']:.3f} [{h['ci'][0]:.3f}, {h['ci'][1]:.3f}]"
    return f"{cell(h['effect'], *h['ci'])} points"


def verdict_phrase(verdict: str) -> str:
    """A verdict as the predicate of "claim C… ___": "holds", "fails", "is inconclusive"."""
    return verdict if verdict in ("holds", "fails") else f"is {verdict}"


def headline_sentence(claim: str, h: dict[str, Any]) -> str:
    """One sentence stating a claim's headline verdict, its regime and its effect (plain text: a
    glued sentence is not parsed as markdown)."""
    return (f"Headline: claim {CLAIMS[claim][0]} {verdict_phrase(h['verdict'])} at {h['regime']}; "
            f"{h['effect_name'].split(' (')[0]}: {effect_text(claim, h)}.")


# --------------------------------------------------------------------------- headlines as tables of parts

def _directions(by_f: dict[str, str]) -> str:
    return "; ".join(f"{float(f):.0%}: {f'n < {MIN_SEEDS}' if d == FEW_SEEDS else d}" for f, d in by_f.items()) or "not run"


def readings_text(by_f: dict[str, str]) -> str:
    """A part's readings grouped by direction, in the order of the fractions ("above at 70% and
    80%, no detectable difference at 90%"); a cell under ``stats.MIN_SEEDS`` seeds reads "n < 3"."""
    groups: dict[str, list[str]] = {}
    for f, d in by_f.items():
        groups.setdefault(f"n < {MIN_SEEDS}" if d == FEW_SEEDS else d, []).append(f"{float(f):.0%}")
    return ", ".join(f"{d} at {' and '.join(fs) if len(fs) < 3 else ', '.join(fs[:-1]) + ' and ' + fs[-1]}"
                     for d, fs in groups.items())


def _source(source: str) -> str:
    """A published table's source, short, with its budget convention ("Kirsch's fork of the
    original code, equal iterations")."""
    budget = PUBLISHED.get(source, {}).get("budget")
    return source.split(" (")[0] + (f", {CONVENTION[budget]}" if budget else "")


def _effect(e: dict[str, Any] | None) -> str:
    return "not run" if not e else cell(e["effect"], *e["ci"])


# The parts in the order the book states them (summary.json keeps its keys sorted).
PART_ORDER = ("grand_init", "el2n_early", "grand_early", "random_dynamic_vs_el2n_static",
              "random_dynamic_vs_random_static", "random_dynamic_vs_full_at_0.8")


def ordered_parts(h: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """A headline's parts in :data:`PART_ORDER`."""
    return sorted(h.get("parts", {}).items(), key=lambda kv: PART_ORDER.index(kv[0]) if kv[0] in PART_ORDER else 99)


def part_effect(name: str, p: dict[str, Any]) -> str:
    """A part's effect where its headline states it, in points with Welch's 95% interval: C2's at
    50% pruned, C3's at 70% (its cost part at 80%)."""
    if "at_50" in p:
        return f"{_effect(p['at_50'])} at 50%"
    return f"{_effect(p['at'])} at {'80%' if name.endswith('0.8') else '70%'}"


def parts_table(claim: str, h: dict[str, Any]) -> str:
    """A C2 or C3 headline's parts as a MyST table (shown whole: a data frame would cut the long
    cells): each part's verdict, its effect with Welch's 95% interval where the headline states it
    (C2: 50% pruned; C3: 70%, its cost part 80%), the reading at every fraction the grid ran, the
    seeds, the published figure, and for C2 the per-class and pre-drop readings at 50% beside it."""
    if claim == "c2":
        def per_class(p: dict[str, Any]) -> str:
            return "not yet complete" if not p["per_class"] and "c2_per_class" in h.get("pending", {}) else _effect(p["per_class"])

        lines = ["| part | verdict | at 50% pruned, points [95% interval] | by fraction pruned | seeds | published, points "
                 "| per class, 50% | pre-drop, 50% |", "|---|---|---|---|---|---|---|---|"]
        for _, p in ordered_parts(h):
            pub = "—" if p["published"] is None else f"{_pp(p['published'])} ({_source(p['published_source'])})"
            lines.append(f"| {p['statement']} | **{p['verdict']}** | {_effect(p['at_50'])} | {_directions(p['directions'])} "
                         f"| {p['seeds']} | {pub} | {per_class(p)} | {_effect(p['predrop']) if p['predrop'] else '—'} |")
    else:
        lines = ["| part | verdict | effect, points [95% interval] | by fraction pruned | seeds | published, points |",
                 "|---|---|---|---|---|---|"]
        for name, p in ordered_parts(h):
            at = "80%" if name.endswith("0.8") else "70%"
            pub = "—" if p["published"] is None else f"about {_pp(p['published'])} ({p['published_source']})"
            lines.append(f"| {p['statement']} | **{p['verdict']}** | {_effect(p['at'])} at {at} | "
                         f"{_directions(p['directions'])} | {p['seeds']} | {pub} |")
    return "\n".join(lines) + "\n"


def parts_verdict(claim: str, h: dict[str, Any]) -> str:
    """A C2 or C3 verdict in a few sentences (at most about 80 words; the parts' numbers are in
    :func:`parts_table`): the claim's word at its regime's net and budget, its rule (fixed before the
    airbench runs, after the cpu ones: Methods says so) and each part's verdict."""
    parts = "; ".join(f"{p['statement']}: {p['verdict']}" for _, p in ordered_parts(h))
    return (f"Claim {CLAIMS[claim][0]} {verdict_phrase(h['verdict'])} at {h['regime'].split(' (')[0]}. Rule, fixed "
            f"before the airbench runs (Methods): the claim {h['rule']}. Parts: {parts}.")


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
            out.append(f"{lead} and {cell(*per[:3])} chosen within each class: the classes its whole-set subset starves "
                       "(below) may explain the gap, but a per-class cell of fewer than 3 seeds is not read.")
        else:
            most = abs(per[0]) < 0.5 * abs(whole[0])
            out.append(f"{lead}; chosen within each class, it is {cell(*per[:3])}: "
                       + ("most of the gap is the classes the whole-set subset starves (below)." if most else
                          "the gap is not mainly class starvation."))
    seeds = summary.get("seeds", {}).get("forgetting")
    if seeds:
        n = min(seeds.values())
        out.append("Forgetting, the claim's third score, is not a part: " + (
            f"its cells have {n} seeds, too few for an interval, so its differences to random (the chart below) are "
            "shown and not read." if n < MIN_SEEDS else "its differences to random are in the chart below, read as every other comparison."))
    return " ".join(out)


# The checks of chapter C2 (summary.json's c2.checks), in words.
C2_CHECKS = {"input_norm_minus_grand_init": "input norm minus GraNd@init",
             "restore_bug_minus_grand_init": "GraNd@init (restore bug) minus GraNd@init",
             "restore_bug_minus_forgetting": "GraNd@init (restore bug) minus forgetting (a score of the end of training)",
             "keep_lowest_minus_keep_highest_el2n_early": "EL2N early: keeping the easiest minus keeping the hardest",
             "stratified_minus_keep_highest_el2n_early": "EL2N early: stratified (Zheng et al.) minus keeping the hardest"}


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


CONVENTION = {"iterations": "equal iterations", "epochs": "equal epochs"}


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


def _acc_at(bound: list[float]) -> str:
    lo, hi = bound
    if lo == hi:
        return f"{lo * 100:.1f}%"
    return f"below {hi * 100:.1f}%" if not np.isfinite(lo) else f"between {lo * 100:.1f}% and {hi * 100:.1f}%"


def c2_early_text(P: Profile, early: dict[str, Any]) -> str:
    """Where the early scores are taken, against the scoring runs' test accuracy
    (:func:`c2.early_checkpoint`)."""
    text = (f"The early scores are taken at {early['early']:.0%} of training ({early['early_epoch']:g} of {P.epochs} "
            f"epochs), where the scoring runs' test accuracy was {_acc_at(early['test_acc_early'])}"
            + (" (test accuracy is measured only after whole epochs: the bound is the one after epoch 1)"
               if not np.isfinite(early["test_acc_early"][0]) else "") + "; the learning rate "
            f"starts to fall at epoch {early['first_drop_epoch']:.1f}, and the runs end at {early['test_acc_end'] * 100:.1f}%.")
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
                    + ", ".join(f"{_reading(c)} at {e} epochs" for e, c in reg.items()) + ".")
    for rule, name in (("keep_lowest", "Keeping the easiest half"), ("stratified", "Stratified selection")):
        c = summary["checks"].get(f"{rule}_minus_keep_highest_el2n_early")
        if c:
            text.append(f"{name} by EL2N early minus keeping the hardest: {_by_fraction(c)}.")
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
            "random and per-class minus whole-set selection, in percentage points with Welch's 95% interval. The C2 "
            "headline rests on whole-set selection (the papers' rule).")


def c2_per_class_table(summary: dict[str, Any]) -> pd.DataFrame:
    """At 50% pruned, per score: both rules minus random, and per-class minus whole-set (:func:`_reading`)."""
    key = f"{REGIME_PRUNE:g}"
    rows = [{"score": label(s), "whole set minus random": _reading(summary["diff_to_random"].get(s, {}).get(key)),
             "per class minus random": _reading(by_f.get(key)),
             "per class minus whole set": _reading(summary["per_class_minus_whole_set"].get(s, {}).get(key))}
            for s, by_f in summary.get("per_class_to_random", {}).items()]
    return pd.DataFrame(rows).set_index("score") if rows else pd.DataFrame()  # empty: no per-class cell ran


def c2_starvation_text(kept: pd.DataFrame) -> str:
    """Which selections keep fewer than half the per-class share of some class (computed), a
    sentence that starts "Class starvation, counted:"."""
    rows = []
    for sel, g in kept.groupby("selection", sort=False):
        share = g["count"].sum() / len(g)
        low = g[g["count"] < 0.5 * share]
        if len(low):
            rows.append(f"{selection_label(sel)} keeps less than half its even share of "
                        + ", ".join(f"{r['class']} ({r['count']:,})" for _, r in low.iterrows()))
    if not rows:
        return "No selection keeps less than half of its even share of any class."
    return "Class starvation, counted: " + "; ".join(rows) + "."


def schedule_text(P: Profile) -> str:
    """The learning-rate schedule of the profile's recipe, in one sentence."""
    if P.schedule == "triangle":
        return (f"the learning rate rises until {P.lr_peak:.0%} of training (epoch {P.lr_peak * P.epochs:.1f}) and "
                "falls linearly after it.")
    return ("the learning rate falls at " + ", ".join(f"{m:.0%}" for m in P.lr_milestones) + " of the epochs shown."
            if P.lr_milestones else "the learning rate stays constant.")


def variants_table(profile: str, setup: dict[str, Any], epochs: int) -> pd.DataFrame:
    """The recipe of a regime beside the alternatives tried (``summary.json``'s ``setup.variants``):
    full-data test accuracy (the recipe's own evaluation; without test-time augmentation beside it),
    seeds, seconds of training per run and, for an alternative, its accuracy minus the recipe's on
    the same seeds, seed by seed (:func:`bank.variants_summary`; 2 seeds: no interval)."""
    def row(name: str, s: dict[str, Any]) -> dict[str, Any]:
        plain = f"{s['test_acc_plain_mean'] * 100:.2f} ± {s['test_acc_plain_std'] * 100:.2f}" if "test_acc_plain_mean" in s else "—"
        diffs = ", ".join(f"{d * 100:+.2f}" for d in seed_diffs(s["same_seeds"])) if "same_seeds" in s else "—"
        return {"recipe": name, "test accuracy (%)": f"{s['test_acc_mean'] * 100:.2f} ± {s['test_acc_std'] * 100:.2f}",
                "without test-time augmentation (%)": plain, "seeds": s["seeds"],
                "training s per run": f"{s['train_seconds_mean']:.0f}", "minus the recipe, same seeds (points)": diffs}
    rows = [row(f"the {profile} recipe ({epochs} epochs)", setup)]
    rows += [row(f"the same with {variant_name(v)}", s) for v, s in setup.get("variants", {}).items()]
    return pd.DataFrame(rows).set_index("recipe")


def variant_name(variant: str) -> str:
    """A setup variant ("label_smoothing=0") as a reader writes it ("label smoothing = 0")."""
    field, value = parse_variant(variant)
    return f"{field.replace('_', ' ')} = {value}"


def seed_diffs(same: dict[str, Any]) -> list[float]:
    """A variant's test accuracy minus the recipe's, seed by seed (``same_seeds``)."""
    return [a - b for a, b in zip(same["variant"], same["recipe"])]


def variants_text(setup: dict[str, Any]) -> str:
    """One sentence per setup variant: its runs' accuracy beside the recipe's runs of the same
    seeds, and which is the more accurate on every seed, or that the seeds disagree (2 seeds give
    no interval, so nothing is said of a mean difference)."""
    out = []
    for v, s in setup.get("variants", {}).items():
        same = s["same_seeds"]
        diffs = seed_diffs(same)
        seeds = " and ".join(str(k) for k in same["seeds"])
        runs = " and ".join(f"{a * 100:.2f}%" for a in same["variant"])
        by = " and ".join(f"{d * 100:+.2f}" for d in diffs)
        each = "both seeds" if len(diffs) == 2 else f"all {len(diffs)} seeds"
        few = ", too few to claim a difference" if len(diffs) < MIN_SEEDS else ""
        word = (f"the recipe is the more accurate on {each}{few}" if all(d < 0 for d in diffs) else
                f"the alternative is the more accurate on {each}{few}" if all(d > 0 for d in diffs) else
                "the seeds disagree on which is the more accurate")
        out.append(f"With {variant_name(v)}, seeds {seeds} reach {runs} ({by} points against the recipe's "
                   f"runs of the same seeds): {word}.")
    return " ".join(out)


def _read(v: str | None) -> str:
    return "not run" if v is None else v


# --------------------------------------------------------------------------- the introduction

def published_text(claim: str, h: dict[str, Any]) -> str:
    """The published figure a claim's headline ``h`` is set beside, with its source."""
    if claim == "c1":
        return f"ρ = {h['published']:.3f} ({h['published_source']})" if h.get("published") is not None else "—"
    if claim == "c2":
        return "; ".join(f"{label(s)} minus random at 50% pruned: {_pp(p['published'])} points ({_source(p['published_source'])})"
                         for s, p in ordered_parts(h) if p["published"] is not None)
    e = h["effects"].get("random_dynamic_vs_full_at_0.8")
    return "—" if not e else (f"random dynamic minus full data at 80% pruned: about {_pp(e['published'])} points "
                              "(Raju et al., ResNet-18, 200 epochs)")
