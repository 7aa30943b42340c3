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

from . import ParameterError, c3
from .c2 import BUDGET_SCORES, REGIME_PRUNE, RULE_SCORES, published_differences
from .dynamic import period_passes
from .profiles import Profile, side_seeds
from .stats import summarize

LABELS = {"full": "full data", "random": "random", "input_norm": "input norm ‖x‖₂",
                "grand_init": "GraNd@init", "grand_early": "GraNd@10%", "el2n_early": "EL2N@10%",
                "forgetting": "forgetting", "grand_init_restore_bug": "GraNd@init (restore bug)",
                "grand_predrop": "GraNd@pre-drop", "el2n_predrop": "EL2N@pre-drop",
                "random_static": "random (static)", "el2n_static": "EL2N@10% (static)",
                "forgetting_static": "forgetting (static)", "el2n_epsilon_static": "EL2N@10% + ε-greedy (static)",
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


def label(name: str) -> str:
    """The display name of a score or selector (the name itself where it has none)."""
    return LABELS.get(name, name)


def selection_label(name: str) -> str:
    """The display name of a selection "rule: score" ("keep_highest: el2n_early" → "EL2N@10%,
    keep highest"), or of a score or selector."""
    if ": " not in name:
        return label(name)
    rule, score = name.split(": ", 1)
    return f"{label(score)}, {rule.replace('_', ' ')}"


def comparison_labels(diffs: pd.DataFrame) -> pd.DataFrame:
    """``diffs`` (columns a, b: selector names) with a ``score`` column naming each comparison
    "label(a) − label(b)", as :func:`plots.difference_to_random` colours by."""
    return diffs.assign(score=[f"{label(a)} − {label(b)}" for a, b in zip(diffs.a, diffs.b)])


def c1_verdict_text(summary: dict[str, Any]) -> str:
    """The chapter's closing paragraph, built from the computed verdicts and numbers."""
    v, t = summary["verdict"], summary["strong_threshold"]

    def one(m: str) -> str:
        lo, hi = summary["spearman_by_model_ci"][m]
        yes = v[f"holds_for_{m}"]
        return (f"{m} ({summary['images_by_model'][m]:,} training images): ρ = {summary['spearman_by_model'][m]:.3f} "
                f"[{lo:.3f}, {hi:.3f}], {'holds' if yes else 'does not hold'}")

    models = list(summary["spearman_by_model"])
    held = [m for m in models if v[f"holds_for_{m}"]]
    head = (f"Claim C1 holds where the 95% interval of Spearman's ρ between GraNd at initialisation (averaged over "
            f"{summary['k_inits']} initialisations) and the input norm lies above {t}. On CIFAR-10: "
            + "; ".join(one(m) for m in models) + ". ")
    if len(held) == len(models):
        scope = "It holds for every architecture tested. "
    elif held:
        scope = (f"So it holds for {', '.join(held)} but not for {', '.join(m for m in models if m not in held)}: "
                 "whether GraNd at initialisation reduces to the input norm depends on the architecture. ")
    else:
        scope = "It holds for none of the architectures tested. "
    fashion = "On Fashion-MNIST: " + "; ".join(
        f"{m} ρ = {r:.3f}, {'holds' if v[f'holds_on_fashion_mnist_for_{m}'] else 'does not hold'}"
        for m, r in summary["spearman_fashion_mnist"].items()) + ". "
    fade = (f"For the {summary['model']} network the correlation "
            f"{'falls' if v['fades_with_training'] else 'does not fall clearly'} with training "
            f"(ρ = {summary['spearman_end']:.3f} at the end, {summary['k_trained']} runs averaged), "
            f"{'as expected of an effect of random initialisation' if v['fades_with_training'] else 'so the link is not only an effect of initialisation'}.")
    return headline_sentence("c1", summary["headline"]) + " " + head + scope + fashion + fade


def c1_published_table(summary: dict[str, Any]) -> pd.DataFrame:
    """Per architecture: our Spearman rho(GraNd@init, input norm) with its 95% interval, the
    images it is computed on, its reading against the threshold, and the published figure."""
    rows = [{"net": m, "images (training split)": f"{e['images']:,}",
             "ρ (ours) [95% interval]": f"{e['effect']:.3f} [{e['ci'][0]:.3f}, {e['ci'][1]:.3f}]",
             f"≥ {summary['strong_threshold']}?": e["verdict"],
             "ρ published": "—" if e["published"] is None else f"{e['published']:.3f}",
             "published by": e["published_source"] or "—"} for m, e in summary["headline"]["effects"].items()]
    return pd.DataFrame(rows).set_index("net")


def _pp(d: float) -> str:
    return f"{d * 100:+.1f}"


def cell(d: float, lo: float, hi: float) -> str:
    """A difference in accuracy with its interval, in percentage points: '+1.1 [+0.2, +2.0]'."""
    return f"{_pp(d)} [{_pp(lo)}, {_pp(hi)}]"


def _reading(c: list | None) -> str:
    """A stored comparison [diff, lo, hi, direction] as '+1.1 [+0.2, +2.0] above' ('not run' if absent)."""
    return f"{cell(*c[:3])} {c[3]}" if c else "not run"


def _by_fraction(by_f: dict[str, list]) -> str:
    """A three-valued comparison per fraction in words, every reading beside its interval:
    'above at 30% (+1.1 [+0.2, +2.0]), no detectable difference at 50% (…)'."""
    return ", ".join(f"{c[3]} at {float(f):.0%} ({cell(*c[:3])})" for f, c in by_f.items())


def effect_text(claim: str, h: dict[str, Any]) -> str:
    """A headline's effect with its interval, in the claim's unit."""
    if claim == "c1":
        return f"ρ = {h['effect']:.3f} [{h['ci'][0]:.3f}, {h['ci'][1]:.3f}]"
    return f"{cell(h['effect'], *h['ci'])} points"


def headline_sentence(claim: str, h: dict[str, Any]) -> str:
    """One sentence stating a claim's headline verdict, its regime and its effect (plain text: a
    glued sentence is not parsed as markdown)."""
    return (f"Headline: claim {CLAIMS[claim][0]} {h['verdict'].upper()} at {h['regime']}; "
            f"{h['effect_name'].split(' (')[0]}: {effect_text(claim, h)}.")


def c2_verdict_text(summary: dict[str, Any]) -> str:
    """The chapter's closing paragraph, built from the computed comparisons: every reading per
    fraction is the three-valued direction of the interval printed beside it."""
    h, E = summary["headline"], summary["epochs"]
    text = headline_sentence("c2", h) + " "
    parts = h["parts"]
    text += (f"GraNd@init not above random: {parts['grand_init_not_above_random']}; EL2N and GraNd early above "
             f"random: {parts['early_scores_beat_random']} (the rule is in the Methods chapter). ")
    text += ("Keeping the highest-scoring examples of the whole set, accuracy minus random in percentage points "
             "with Welch's 95% interval: " + "; ".join(f"{label(s)}: {_by_fraction(by_f)}"
                                                       for s, by_f in summary["diff_to_random"].items()) + ". ")
    pc = summary.get("per_class_to_random", {})
    if pc:
        text += ("Selecting the same fraction within each class instead, at 50% pruned, minus random: "
                 + "; ".join(f"{label(s)} {_by_fraction(by_f)}" for s, by_f in pc.items()) + ". ")
    ck = summary["checks"]
    text += (f"Input norm minus GraNd@init: {_by_fraction(ck['input_norm_minus_grand_init'])}. "
             f"The restore-bug variant minus GraNd@init: {_by_fraction(ck['restore_bug_minus_grand_init'])}; "
             f"minus forgetting, a score of the end of training: {_by_fraction(ck['restore_bug_minus_forgetting'])}. ")
    reg = summary["regime"].get("el2n_early", {})
    if reg:
        text += ("In the regime map at 50% pruned, EL2N@10% minus random: "
                 + ", ".join(f"{c[3]} at {e} epochs ({cell(*c[:3])})" for e, c in reg.items()) + ". ")
    for rule, name in (("keep_lowest", "keeping the easiest half"), ("stratified", "coverage-centric stratified selection")):
        c = ck.get(f"{rule}_minus_keep_highest_el2n_early")
        if c:
            text += f"At {E} epochs, {name} by EL2N@10% minus keeping the hardest: {_by_fraction(c)}. "
    return text.strip()


def c2_accuracy_table(acc: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std of test accuracy (%) per score (rows) and fraction pruned (columns)."""
    cell = acc.assign(text=[f"{m * 100:.1f} ± {s * 100:.1f}" for m, s in zip(acc["mean"], acc["std"])],
                      score=acc.score.map(lambda s: label(s)),
                      pruned=acc.prune.map(lambda f: f"{f:.0%} pruned"))
    return cell.pivot(index="score", columns="pruned", values="text").reindex(list(dict.fromkeys(cell.score)))


def c2_rules_table(diffs: pd.DataFrame, epochs: int) -> pd.DataFrame:
    """Accuracy minus random (percentage points, 95% interval) at 50% pruned for every selection
    rule evaluated at ``epochs``."""
    d = diffs[(diffs.epochs == epochs) & (diffs.prune == REGIME_PRUNE) & diffs.score.isin(RULE_SCORES)]
    return pd.DataFrame({"rule": d.rule.str.replace("_", " "), "score": d.score.map(label), "minus random (points)": [
        cell(a, lo, hi) for a, lo, hi in zip(d["diff"], d.lo, d.hi)]}).set_index(["score", "rule"]).sort_index()


def c2_published_table(main: pd.DataFrame, model: str, equal_epochs: dict[str, Any] | None = None) -> pd.DataFrame:
    """Accuracy minus random (percentage points) per score and fraction pruned: ours (keep-highest
    by ``model`` at the profile's budget, equal iterations, with Welch's 95% interval; and, where
    the profile ran it, under equal epochs: ``summary.json``'s ``c2.budget_conventions``
    ``diff_to_random.epochs``) beside the published differences of :data:`c2.PUBLISHED`, each row
    naming its budget convention."""
    pub = published_differences()
    rows = [{"score": label(r.score), "source": f"ours ({model}, equal iterations)", "prune": r.prune,
             "text": cell(r["diff"], r.lo, r.hi)} for _, r in main.iterrows() if r.score in pub.score.unique()]
    rows += [{"score": label(s), "source": f"ours ({model}, equal epochs)", "prune": float(f), "text": cell(*c[:3])}
             for s, by_f in (equal_epochs or {}).items() for f, c in by_f.items()]
    rows += [{"score": label(r.score), "source": f"{r.source.split(' (')[0]} ({r.source.split(' (')[1].rstrip(')')})",
              "prune": r.prune, "text": _pp(r["diff"])} for _, r in pub.iterrows()]
    d = pd.DataFrame(rows).assign(pruned=lambda x: x.prune.map(lambda f: f"{f:.0%} pruned"))
    order = sorted(d.pruned.unique(), key=lambda t: float(t.split("%")[0]))
    return d.pivot(index=["score", "source"], columns="pruned", values="text")[order].fillna("")


def c2_budget_note(profile: str, conventions: dict[str, Any]) -> str:
    """Which budget conventions this profile's C2 grid ran, in one sentence."""
    if "epochs" in conventions["budgets"]:
        return ("This profile also ran the equal-epochs convention for " + ", ".join(
            label(s) for s in BUDGET_SCORES[1:]) + " and random at every fraction, so each published row has ours "
                "under its own convention beside it.")
    return (f"The {profile} profile runs equal iterations only (its field c2_budgets), so the rows of the "
            "PyTorch reproduction compare two conventions; the gpu profile adds equal epochs.")


def c2_early_text(epochs: int, early: dict[str, Any]) -> str:
    """Where the early scores are taken, against the scoring runs' test accuracy
    (:func:`c2.early_checkpoint`)."""
    text = (f"The early scores are taken at {early['early']:.0%} of training, {early['early_epoch']:.1f} epochs "
            f"into {epochs}. The scoring runs reached {early['test_acc_epoch_1'] * 100:.1f}% test accuracy at the "
            f"end of the first epoch (so less at the checkpoint), {early['test_acc_before_drop'] * 100:.1f}% at epoch "
            f"{early['last_epoch_before_drop']:.0f}, the last before the first learning-rate drop (at "
            f"{early['first_drop_epoch']:.1f} epochs), and {early['test_acc_end'] * 100:.1f}% at the end.")
    if early.get("test_acc_predrop") is not None:
        text += (f" A second checkpoint, at {early['predrop']:.0%} (epoch {early['predrop_epoch']:g}, "
                 f"{early['test_acc_predrop'] * 100:.1f}% test accuracy), is early in the papers' sense.")
    return text


def c2_checkpoint_table(summary: dict[str, Any]) -> pd.DataFrame:
    """GraNd and EL2N by the checkpoint they are taken at: its epoch, the scoring runs' test
    accuracy there, and keep-highest minus random at 50% pruned (points, Welch's 95% interval)."""
    e, key = summary["early_checkpoint"], f"{REGIME_PRUNE:g}"
    acc = {0.0: "untrained", e["early"]: f"below {e['test_acc_epoch_1'] * 100:.1f}% (epoch 1)", 1.0: f"{e['test_acc_end'] * 100:.1f}%"}
    if e.get("predrop") is not None:
        acc[e["predrop"]] = "" if e["test_acc_predrop"] is None else f"{e['test_acc_predrop'] * 100:.1f}%"
    picks = [(0.0, "grand_init"), (e["early"], "grand_early"), (e.get("predrop"), "grand_predrop"),
             (1.0, "grand_init_restore_bug"), (e["early"], "el2n_early"), (e.get("predrop"), "el2n_predrop")]
    return pd.DataFrame([{"score": label(s), "checkpoint": f"{when:.0%} (epoch {when * summary['epochs']:g})",
                          "test accuracy there": acc[when], "minus random at 50% pruned": _reading(c)}
                         for when, s in picks if when is not None and (c := summary["diff_to_random"].get(s, {}).get(key))]
                        ).set_index("score")


def c2_per_class_text(summary: dict[str, Any]) -> str:
    """What per-class selection at 50% pruned does, score by score, in words (computed)."""
    key, pc = f"{REGIME_PRUNE:g}", summary.get("per_class_to_random", {})
    by = {d: [label(s) for s, c in pc.items() if c[key][3] == d] for d in ("above", "below", "no detectable difference")}
    return ("To separate class balance from what a score says about examples, every score was also evaluated at 50% "
            "pruned keeping the same fraction within each class (DeepCore's rule). Minus random, per class: "
            + "; ".join(f"{d}: {', '.join(v)}" for d, v in by.items() if v) + ". The table gives both rules minus "
            "random and per-class minus whole-set selection, in percentage points with Welch's 95% interval. The C2 "
            "headline rests on whole-set selection (the papers' rule).")


def c2_per_class_table(summary: dict[str, Any]) -> pd.DataFrame:
    """At 50% pruned, per score: both rules minus random, and per-class minus whole-set (:func:`_reading`)."""
    key = f"{REGIME_PRUNE:g}"
    return pd.DataFrame([{"score": label(s), "whole set minus random": _reading(summary["diff_to_random"].get(s, {}).get(key)),
                          "per class minus random": _reading(by_f.get(key)),
                          "per class minus whole set": _reading(summary["per_class_minus_whole_set"].get(s, {}).get(key))}
                         for s, by_f in summary.get("per_class_to_random", {}).items()]).set_index("score")


def c2_starvation_text(kept: pd.DataFrame) -> str:
    """Which selections keep fewer than half the per-class share of some class (computed)."""
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


def c3_table1(runs: pd.DataFrame, variants: pd.DataFrame, epochs: int) -> pd.DataFrame:
    """Raju et al. Table 1 at 70% pruned: uncertainty EMA as specified and per class (the probes'
    source, :data:`c3.TABLE1_SOURCE_VARIANT`), always + static sometimes, always + random
    sometimes (mean ± std across seeds, %), beside the published numbers."""
    d = runs[(runs.epochs == epochs) & np.isclose(runs.prune, c3.TABLE1_PRUNE)]
    v = variants[(variants.epochs == epochs) & np.isclose(variants.prune, c3.TABLE1_PRUNE)
                 & (variants.variant == c3.TABLE1_SOURCE_VARIANT)] if len(variants) else variants
    cells = [("uncertainty EMA, as specified", d[d.selector == "uncertainty_ema"].test_acc, c3.RAJU_TABLE1["uncertainty_ema"]),
             ("uncertainty EMA, per class (the probes' source)",
              v[v.selector == "uncertainty_ema"].test_acc if len(v) else v, None)]
    cells += [(label(s), d[d.selector == s].test_acc, c3.RAJU_TABLE1[s]) for s in ("always_plus_static", "always_plus_random")]
    rows = []
    for name, g, pub in cells:
        if len(g):
            s = summarize(g)
            rows.append({"selection": name, "ours (%)": f"{s.mean * 100:.2f} ± {s.std * 100:.2f}", "seeds": s.n,
                         "Raju et al. (%, ResNet-18, 200 epochs)": "—" if pub is None else pub})
    return pd.DataFrame(rows).set_index("selection")


def c3_prune_table(runs: pd.DataFrame, epochs: int, prune: float = c3.AGGRESSIVE) -> pd.DataFrame:
    """Every selector run at ``rate`` and budget ``epochs``: accuracy (mean ± std across seeds, %),
    seconds per run (scoring passes included; static scores charged separately), speed-up over
    full data, and the difference to random dynamic with its 95% interval (percentage points)."""
    acc = c3.accuracy(runs, epochs)
    acc = acc[np.isclose(acc.prune, prune)]
    full = runs[(runs.epochs == epochs) & (runs.selector == "full")]
    full_s = float(full.train_seconds.mean())
    rows = []
    for _, r in acc.iterrows():
        row = {"selector": label(r.score), "accuracy (%)": f"{r['mean'] * 100:.1f} ± {r['std'] * 100:.1f}",
               "seconds per run": f"{r.train_seconds:.0f}", "with scores charged (s)": f"{r.wallclock_s:.0f}",
               "speed-up, scores charged": f"{full_s / r.wallclock_s:.2f}×"}
        c = c3.difference(runs, r.score, "random_dynamic", epochs) if r.score != "random_dynamic" else None
        c = None if c is None else c[np.isclose(c.prune, prune)]
        row["minus random dynamic (pp) [95% CI]"] = ("(reference)" if c is None else
                                                    cell(*c[["diff", "lo", "hi"]].iloc[0]) if len(c) else "")
        rows.append(row)
    f = summarize(full.test_acc)
    rows.append({"selector": "full data", "accuracy (%)": f"{f.mean * 100:.1f} ± {f.std * 100:.1f}",
                 "seconds per run": f"{full_s:.0f}", "with scores charged (s)": f"{full_s:.0f}",
                 "speed-up, scores charged": "1.00×", "minus random dynamic (pp) [95% CI]": ""})
    return pd.DataFrame(rows).set_index("selector")


def c3_collapse_table(checks: pd.DataFrame) -> pd.DataFrame:
    """Per selector and variant of the collapse diagnosis (:func:`c3_picks.divergence_checks`):
    test accuracy across seeds, whether every loss stayed finite, the largest |weight| and the
    BatchNorm running-variance range over all selections, and the class shares of the selections."""
    rows = []
    for (sel, var), g in checks.groupby(["selector", "variant"], sort=False):
        a = summarize(g.test_acc)
        rows.append({"selector": label(sel), "variant": var.replace("_", " "),
                     "accuracy (%)": f"{a.mean * 100:.1f} ± {a.std * 100:.1f}", "seeds": a.n,
                     "losses finite": "yes" if g.finite.all() else "no", "max |weight|": f"{g.weight_abs_max.max():.1f}",
                     "BN running var.": f"{g.bn_var_min.min():.2g} to {g.bn_var_max.max():.3g}",
                     "max class share, 1st selection": f"{g.first_max_share.max():.0%}",
                     "min class share, any selection": f"{g.min_share.min():.1%}"})
    return pd.DataFrame(rows).set_index(["selector", "variant"])


def c3_collapse_text(c: dict[str, Any]) -> str:
    """The diagnosis in words, from ``summary.json``'s ``c3.collapse`` (computed readings only)."""
    text = ("No run diverged: every training and scoring loss stayed finite. " if not c["diverged"] else
            "Some run diverged: a loss was not finite. ")
    parts = []
    for s in ("uncertainty_ema", "ucb"):
        for v in ("per_class", "random_first"):
            r = c.get(f"{s}_{v}_minus_as_specified")
            if r:
                parts.append(f"{label(s)} {v.replace('_', ' ')} minus as specified: {cell(*r[:3])} points, {r[3]}")
    text += "; ".join(parts) + ". " if parts else ""
    chance = [label(s) for s, v in c["at_chance"].items() if v]
    if not chance:
        return text + "No selector ended at chance as specified."
    if c["class_skew_is_the_cause"]:
        return text + (f"{' and '.join(chance)} ended at chance as specified; selecting per class, with the same "
                       "scores, lifts every such run above chance and above the selector as specified. The collapse "
                       "is class skew: each selection is drawn from a few classes, the network then predicts those, "
                       "and the next selection flips to the others. That is a property of whole-set top-k selection "
                       f"at this setting ({c['epochs']} epochs, {c['prune']:.0%} pruned, re-selection after every "
                       "pass), not a bug.")
    return text + (f"{' and '.join(chance)} ended at chance as specified, and selecting per class does not lift every "
                   "such run above it: class skew does not explain the collapse by this test, whose cause stays open.")


def c3_throughput_note(name: str, parts: dict[str, float]) -> str:
    """How the training throughput of a selector's runs compares with the full-data runs'
    (:func:`c3.speedup`): a large gap means the two were timed on hosts of different speeds."""
    ratio = parts["train_img_s"] / parts["full_img_s"]
    text = (f"{name}'s runs trained at {parts['train_img_s']:,.0f} images per second against {parts['full_img_s']:,.0f} "
            f"for the full-data runs ({ratio:.0%}).")
    if ratio < 0.8:
        text += (f" They were timed on a slower host (they were re-run for the collapse diagnosis), so the measured "
                 f"speed-up understates what the method costs; at matched throughput it is {parts['matched']:.2f}×.")
    return text


# The two tables of the speed-up at 70% pruned: column -> (field of c3.speedup's parts, format).
SPEEDUP_COLUMNS = {"speed-ups": {c: (k, "{:.2f}×") for c, k in (
    ("measured speed-up", "measured"), ("at matched throughput", "matched"), ("T = 1 passes", "period_1"),
    ("T = 10 passes", "period_10"), ("ideal", "ideal"))}, "parts": {
    "full data (s/pass)": ("full_s_per_pass", "{:.1f}"), "training on 30% (s/pass)": ("train_s_per_pass", "{:.1f}"),
    "scoring pass (s)": ("scoring_s_per_pass", "{:.1f}"), "full data (img/s)": ("full_img_s", "{:.0f}"),
    "training on 30% (img/s)": ("train_img_s", "{:.0f}")}}


def c3_speedup_table(summary: dict[str, Any], part: str = "speed-ups") -> pd.DataFrame:
    """Per budget, the speed-ups at 70% pruned, measured and re-selecting every T passes (``part``
    "speed-ups"), or their measured parts (:func:`c3.speedup`; "parts"): two tables to fit a page."""
    if part not in SPEEDUP_COLUMNS:
        raise ParameterError(f"parameter 'part' must be speed-ups or parts; got {part!r}")
    rows = [{"budget (epochs)": int(E), "selector": label(sel),
             **{col: fmt.format(parts[key]) for col, (key, fmt) in SPEEDUP_COLUMNS[part].items()}}
            for E, s in summary["by_budget"].items() for sel, parts in s["speedup_parts_at_0.7"].items() if parts]
    return pd.DataFrame(rows).set_index(["budget (epochs)", "selector"])


def c3_period_plan(P: Profile) -> str:
    """What the chapter's period sweep runs at profile ``P``, in one or two sentences."""
    E = max(P.c3_epochs)
    main = period_passes(E)
    longer = sorted(set(P.c3_periods) - {main})
    every = "one pass" if main == 1 else f"{main} passes"
    if not longer:
        return (f"This profile runs no such sweep (its field c3_periods adds no period to the main grid's {every}), "
                "so the table holds the main grid's loss-driven runs only; the papermill parameter "
                "c3_periods = [2, 4] adds the sweep. The cpu profile leaves it out because its grid was computed "
                "in bf16 on an AVX-512 host: runs added on a host without native bf16 run in fp32 at a fraction "
                "of the speed, and neither their accuracy nor their seconds would compare with the rest.")
    return (f"We repeat that sweep at 70% pruned and {E} epochs: uncertainty EMA and UCB re-selecting every "
            f"{' or '.join(str(T) for T in longer)} passes, {side_seeds(P)} seeds each, against the main grid's {every}.")


def c3_period_table(summary: dict[str, Any]) -> pd.DataFrame:
    """The period sweep (:func:`c3.period_sweep`) as a table: accuracy, re-selections, seconds
    and speed-ups per selector and period, and the difference to the main period."""
    sw = summary["period_sweep"]
    rows = []
    for r in sw["rows"]:
        main = r["period"] == sw["main_period"]
        rows.append({"selector": label(r["selector"]), "re-select every (passes)": r["period"],
                     "re-selections": f"{r['selections']:.0f}",
                     "accuracy (%)": f"{r['acc_mean'] * 100:.1f} ± {r['acc_std'] * 100:.1f}",
                     "minus every pass (pp) [95% CI]": "(main grid)" if main else
                     f"{r['diff'] * 100:+.1f} [{r['lo'] * 100:+.1f}, {r['hi'] * 100:+.1f}]",
                     "scoring (s)": f"{r['scoring_seconds']:.0f}", "seconds per run": f"{r['train_seconds']:.0f}",
                     "speed-up, measured": f"{r['speedup_measured']:.2f}×",
                     "at matched throughput": f"{r['speedup_matched']:.2f}×"})
    return pd.DataFrame(rows).set_index(["selector", "re-select every (passes)"])


def _read(v: str | None) -> str:
    return "not run" if v is None else v


def c3_verdict_text(summary: dict[str, Any]) -> str:
    """The chapter's closing paragraph from the computed comparisons, per budget: each is read
    over the fractions of 70% or more (above, below, no detectable difference, mixed, or at
    chance: a run compared ended below 1.5 times chance accuracy and is not read)."""
    parts = [headline_sentence("c3", summary["headline"])]
    for E, s in summary["by_budget"].items():
        v, cmp = s["verdict"], s["comparisons"]
        shown = ("random_dynamic_vs_el2n_static", "random_dynamic_vs_forgetting_static",
                 "random_dynamic_vs_random_static", "ucb_vs_uncertainty_ema", "ucb_vs_random_dynamic",
                 "epsilon_greedy_vs_uncertainty_ema", "always_plus_random_vs_always_plus_static",
                 "infobatch_vs_random_dynamic_at_equal_cost")
        items = []
        for name in shown:
            if name in cmp:
                a, b = name.replace("_at_equal_cost", "").split("_vs_")
                cells = ", ".join(f"{cell(*c[:3])} at {float(f):.0%}" for f, c in cmp[name].items()
                                  if name.startswith("infobatch") or float(f) >= c3.AGGRESSIVE - 1e-9)
                items.append(f"{label(a)} minus {label(b)}: {_read(v[name])} ({cells})")
        text = f"At {E} epochs over the kept subset, read over the fractions of 70% or more: " + "; ".join(items) + "."
        sp, sparts = s["speedup_at_0.7"], s["speedup_parts_at_0.7"]
        if "random_dynamic" in sp and "ucb" in sp:
            text += (f" At 70% pruned, end to end with scoring, random dynamic runs at {sp['random_dynamic']:.2f}× "
                     f"the speed of full data ({sparts['random_dynamic']['matched']:.2f}× at matched throughput) and "
                     f"UCB at {sp['ucb']:.2f}× ({sparts['ucb']['matched']:.2f}×): "
                     + ("a saving" if v["wallclock_saving_real"] else "no saving for both") + " at matched throughput, "
                     + ("and the 2.5× goal is met." if v["speedup_goal_met"] else "short of the 2.5× goal."))
        if "el2n_static" in sp:
            text += (f" Static EL2N with its scores charged runs at {sp['el2n_static']:.2f}× the speed of full data"
                     + (", a saving." if v["static_el2n_saves_wallclock"] else ", slower than full data."))
        parts.append(text)
    sw = summary.get("period_sweep")
    longer = sorted({r["period"] for r in sw["rows"]} - {sw["main_period"]}) if sw else []
    if longer:
        v, main = sw["verdict"], sw["main_period"]
        parts.append(f"In the period sweep at 70% pruned ({sw['epochs']} epochs), re-selecting less often minus every "
                     f"{'pass' if main == 1 else f'{main} passes'}: " + "; ".join(
                         f"{label(s)} every {T}: {_read(v.get(f'{s}_every_{T}_vs_every_{main}'))}"
                         for s in c3.PERIOD_SELECTORS for T in longer) + ".")
    imb = summary.get("imbalanced")
    if imb:
        parts.append(f"On class-imbalanced CIFAR-10 ({imb['epochs']} epochs): " + "; ".join(
            f"{label(a)} minus {label(b)} {_read(imb['verdict'][f'{a}_vs_{b}'])}" for a, b in c3.IMBALANCED_COMPARISONS) + ".")
    return " ".join(parts)


# --------------------------------------------------------------------------- the introduction

def published_text(claim: str, h: dict[str, Any]) -> str:
    """The published figure a claim's headline ``h`` is set beside, with its source."""
    if claim == "c1":
        return f"ρ = {h['published']:.3f} ({h['published_source']})" if h.get("published") is not None else "—"
    if claim == "c2":
        g = h["effects"].get("grand_init", {}).get("published")
        return (f"EL2N@20 minus random at 50% pruned: {_pp(h['published'])} points"
                + (f"; GraNd@init minus random: {_pp(g)} points" if g is not None else "")
                + f" ({h['published_source']})")
    e = h["effects"].get("random_dynamic_vs_full_at_0.8")
    return "—" if not e else (f"random dynamic minus full data at 80% pruned: about {_pp(e['published'])} points "
                              "(Raju et al., ResNet-18, 200 epochs)")
