"""Report text, tables and labels: what the book says in words and tables about the summaries
and comparisons the claim modules compute. Nothing here computes a result; every number it
writes comes from a claim module's summary or tables.

Owns the display names of scores and selectors (:data:`LABELS`), each chapter's closing
verdict paragraph, the chapters' tables and the introduction's verdict table.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from . import c3
from .c2 import REGIME_PRUNE, RULE_SCORES
from .data import Dataset, class_counts
from .dynamic import period_passes
from .profiles import FIELDS, PROFILES, Profile
from .stats import summarize

LABELS = {"full": "full data", "random": "random", "input_norm": "input norm ‖x‖₂",
                "grand_init": "GraNd@init", "grand_early": "GraNd@10%", "el2n_early": "EL2N@10%",
                "forgetting": "forgetting", "grand_init_restore_bug": "GraNd@init (restore bug)",
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


def comparison_labels(diffs: pd.DataFrame) -> pd.DataFrame:
    """``diffs`` (columns a, b: selector names) with a ``score`` column naming each comparison
    "label(a) − label(b)", as :func:`plots.difference_to_random` colours by."""
    return diffs.assign(score=[f"{label(a)} − {label(b)}" for a, b in zip(diffs.a, diffs.b)])


def class_count_frame(ds: Dataset, train_index: np.ndarray | None = None) -> pd.DataFrame:
    """Examples per class in the training set actually used and in the test set (long format)."""
    y_train = ds.y_train if train_index is None else ds.y_train[train_index]
    rows = []
    for split, y in (("train", y_train), ("test", ds.y_test)):
        rows += [{"class": ds.classes[c], "split": split, "count": int(n)}
                 for c, n in enumerate(class_counts(y, ds.num_classes))]
    return pd.DataFrame(rows)


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
    return head + scope + fashion + fade


def _pp(d: float) -> str:
    return f"{d * 100:+.1f}"


def c2_verdict_text(summary: dict[str, Any]) -> str:
    """The chapter's closing paragraph, built from the computed differences and verdicts."""
    v, E = summary["verdict"], summary["epochs"]
    head = (f"At a budget of {E} epochs of the {summary['model']} network (full data: "
            f"{summary['acc_mean']['full'] * 100:.1f}%), keeping the highest-scoring examples, "
            f"accuracy minus random in percentage points with its 95% interval: ")
    parts = []
    for s, by_f in summary["diff_to_random"].items():
        cells = ", ".join(f"{_pp(d)} [{_pp(lo)}, {_pp(hi)}] at {float(f):.0%} pruned" for f, (d, lo, hi) in by_f.items())
        state = ("beats random" if v.get(f"{s}_beats_random") else
                 "is below random" if v.get(f"{s}_below_random") else "is indistinguishable from random")
        parts.append(f"{label(s)} {state} ({cells})")
    text = head + "; ".join(parts) + ". "
    text += ("Input norm and GraNd@init are indistinguishable at every fraction. " if v["input_norm_like_grand_init"]
             else "Input norm and GraNd@init give different accuracies at one fraction or more. ")
    text += ("The restore-bug variant behaves like a late-training score: it differs from GraNd@init and stays "
             "closer to forgetting. " if v["restore_bug_like_late_score"] else
             "The restore-bug variant does not behave like a late-training score by the rule above. ")
    reg = summary["regime"].get("el2n_early", {})
    if reg:
        cis = summary["regime_ci"]["el2n_early"]
        cells = ", ".join(f"{_pp(d)} [{_pp(cis[e][0])}, {_pp(cis[e][1])}] at {e} epochs" for e, d in reg.items()).replace(' 1 epochs', ' 1 epoch')
        text += (f"In the regime map (50% pruned), EL2N@10% minus random is {cells}: keeping the hardest examples "
                 + ("beats random at some budget tested. " if v["hard_beats_random_at_some_budget"]
                    else "beats random at none of the budgets tested on this CPU. "))
    if "keep_easiest_beats_keep_hardest" in v:
        text += (f"At {E} epochs, keeping the easiest half by EL2N@10% "
                 + ("beats" if v["keep_easiest_beats_keep_hardest"] else "does not beat")
                 + " keeping the hardest half, and coverage-centric stratified selection "
                 + ("beats" if v.get("stratified_beats_keep_hardest") else "does not beat") + " it.")
    return text


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
    return pd.DataFrame({"rule": d.rule, "score": d.score,
                         "minus random (points)": [f"{_pp(a)} [{_pp(lo)}, {_pp(hi)}]"
                                                   for a, lo, hi in zip(d["diff"], d.lo, d.hi)]}
                        ).set_index(["score", "rule"]).sort_index()


def c2_starvation_text(kept: pd.DataFrame) -> str:
    """Which selections keep fewer than half the per-class share of some class (computed)."""
    rows = []
    for sel, g in kept.groupby("selection", sort=False):
        share = g["count"].sum() / len(g)
        low = g[g["count"] < 0.5 * share]
        if len(low):
            rows.append(f"{sel} keeps less than half its even share of "
                        + ", ".join(f"{r['class']} ({r['count']:,})" for _, r in low.iterrows()))
    if not rows:
        return "No selection keeps less than half of its even share of any class."
    return "Class starvation, counted: " + "; ".join(rows) + "."


def c3_table1(runs: pd.DataFrame, epochs: int) -> pd.DataFrame:
    """Raju et al. Table 1 at 70% pruned: uncertainty EMA, always + static sometimes, always +
    random sometimes (mean ± std across seeds, %), beside the published numbers."""
    published = {"uncertainty_ema": 93.33, "always_plus_static": 89.52, "always_plus_random": 92.50}
    d = runs[(runs.epochs == epochs) & (runs.prune == c3.TABLE1_PRUNE)]
    rows = []
    for sel, pub in published.items():
        g = d[d.selector == sel].test_acc
        if len(g):
            s = summarize(g)
            rows.append({"selection": label(sel), "ours (%)": f"{s.mean * 100:.2f} ± {s.std * 100:.2f}",
                         "Raju et al. (%, ResNet-18, 200 epochs)": pub})
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
        if r.score != "random_dynamic":
            c = c3.difference(runs, r.score, "random_dynamic", epochs)
            c = c[np.isclose(c.prune, prune)]
            row["minus random dynamic (pp) [95% CI]"] = (f"{c['diff'].iloc[0] * 100:+.1f} [{c.lo.iloc[0] * 100:+.1f}, "
                                                        f"{c.hi.iloc[0] * 100:+.1f}]") if len(c) else ""
        else:
            row["minus random dynamic (pp) [95% CI]"] = "(reference)"
        rows.append(row)
    f = summarize(full.test_acc)
    rows.append({"selector": "full data", "accuracy (%)": f"{f.mean * 100:.1f} ± {f.std * 100:.1f}",
                 "seconds per run": f"{full_s:.0f}", "with scores charged (s)": f"{full_s:.0f}",
                 "speed-up, scores charged": "1.00×", "minus random dynamic (pp) [95% CI]": ""})
    return pd.DataFrame(rows).set_index("selector")


def c3_speedup_table(summary: dict[str, Any]) -> pd.DataFrame:
    """The measured end-to-end speed-up at 70% pruned, its parts, and the speed-up the same parts
    give when re-selecting every T passes (:func:`c3.speedup`), per budget."""
    rows = []
    for E, s in summary["by_budget"].items():
        for sel, parts in s["speedup_parts_at_0.7"].items():
            if parts:
                rows.append({"budget (epochs)": int(E), "selector": label(sel),
                             "measured speed-up": f"{parts['measured']:.2f}×",
                             "at matched throughput": f"{parts['matched']:.2f}×",
                             "full data (s/pass)": f"{parts['full_s_per_pass']:.1f}",
                             "training on 30% (s/pass)": f"{parts['train_s_per_pass']:.1f}",
                             "scoring pass (s)": f"{parts['scoring_s_per_pass']:.1f}",
                             "full data (img/s)": f"{parts['full_img_s']:.0f}",
                             "training on 30% (img/s)": f"{parts['train_img_s']:.0f}",
                             **{f"T = {T} passes": f"{parts[f'period_{T}']:.2f}×" for T in (1, 2, 5, 10)},
                             "ideal": f"{parts['ideal']:.2f}×"})
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
            f"{' or '.join(str(T) for T in longer)} passes, {P.eval_seeds} seeds each, against the main grid's {every}.")


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


def _verb(v: bool | None) -> str:
    return {True: "beats", False: "does not beat", None: "was not run against"}[v]


def c3_verdict_text(summary: dict[str, Any]) -> str:
    """The chapter's closing paragraph from the computed verdicts, per budget."""
    parts = []
    for E, s in summary["by_budget"].items():
        v = s["verdict"]
        sp = s["speedup_at_0.7"]
        text = (f"At {E} epochs over the kept subset, random dynamic {_verb(v['random_dynamic_beats_static'])} "
                "static EL2N and forgetting at every rate of 70% or more, and "
                f"{_verb(v['random_dynamic_beats_random_static'])} a static random subset; "
                f"UCB {_verb(v['ucb_beats_uncertainty_ema'])} uncertainty EMA and "
                f"{_verb(v['ucb_beats_random_dynamic'])} random dynamic; ε-greedy "
                f"{_verb(v['epsilon_greedy_beats_uncertainty_ema'])} uncertainty EMA; InfoBatch "
                f"{_verb(v['infobatch_beats_random_dynamic_at_equal_cost'])} random dynamic at equal cost.")
        if v["always_plus_random_beats_always_plus_static"] is not None:
            text += (" In Table 1's test, the always set plus a re-drawn random rest "
                     f"{_verb(v['always_plus_random_beats_always_plus_static'])} the always set plus a fixed rest.")
        if "random_dynamic" in sp and "ucb" in sp:
            text += (f" At 70% pruned, end to end with scoring, random dynamic runs {sp['random_dynamic']:.2f}× and "
                     f"UCB {sp['ucb']:.2f}× faster than full data "
                     + ("(the 2.5× goal is met)" if v["speedup_goal_met"] else "(short of the 2.5× goal)") + ".")
        if "el2n_static" in sp:
            text += (f" Static EL2N with its scores charged runs at {sp['el2n_static']:.2f}× the speed of full data"
                     + (", a saving." if v["static_el2n_saves_wallclock"] else ", slower than full data."))
        parts.append(text)
    sw = summary.get("period_sweep")
    longer = sorted({r["period"] for r in sw["rows"]} - {sw["main_period"]}) if sw else []
    if longer:
        v, main = sw["verdict"], sw["main_period"]
        helps = [f"every {T} passes {'beats' if v.get(f'{s}_every_{T}_beats_every_{main}') else 'does not beat'} "
                 f"every {'pass' if main == 1 else f'{main} passes'} for {label(s)}"
                 for s in c3.PERIOD_SELECTORS for T in longer if f"{s}_every_{T}_beats_every_{main}" in v]
        met = [T for T in longer if v.get(f"speedup_goal_met_every_{T}")]
        parts.append(f"In the period sweep at 70% pruned ({sw['epochs']} epochs), re-selecting " + "; ".join(helps)
                     + ". UCB reaches the 2.5× goal, measured and at matched throughput, "
                     + (f"re-selecting every {' or '.join(str(T) for T in met)} passes." if met else
                        "at none of the periods run."))
    imb = summary.get("imbalanced")
    if imb:
        v = imb["verdict"]
        parts.append(f"On class-imbalanced CIFAR-10 ({imb['epochs']} epochs), UCB {_verb(v['ucb_beats_random_dynamic'])} "
                     f"random dynamic, ε-greedy {_verb(v['epsilon_greedy_beats_random_dynamic'])} it and uncertainty "
                     f"EMA {_verb(v['uncertainty_ema_beats_random_dynamic'])} it.")
    return " ".join(parts)


# --------------------------------------------------------------------------- the introduction and the reproduce page

def verdict_table(summaries: dict[str, Any]) -> str:
    """The introduction's verdict table (MyST markdown) from ``summary.json``.

    Every verdict shown is one a chapter computed and stored under ``<claim>.verdict``; a claim
    whose chapter has not run yet says so.
    """
    lines = ["| claim | statement | verdict computed at this profile |", "|---|---|---|"]
    for key, (label, statement, doc) in CLAIMS.items():
        verdicts = summaries.get(key, {}).get("verdict")
        if verdicts:
            text = "; ".join(f"{name.replace('_', ' ')}: **{'yes' if v else 'no'}**" if isinstance(v, bool)
                             else f"{name.replace('_', ' ')}: not run" if v is None
                             else f"{name.replace('_', ' ')}: {v}" for name, v in verdicts.items())
            label = f"[{label}](../{doc}.ipynb)"
            scale = summaries[key].get("scale")
            if scale:
                text = f"at {scale}: {text}"
        else:
            text = "not computed yet: its chapter is still to be written"
        lines.append(f"| {label} | {statement} | {text} |")
    return "\n".join(lines) + "\n"


def profiles_table() -> str:
    """Every field of every shipped profile, as a MyST table."""
    names = list(PROFILES)
    lines = ["| field | " + " | ".join(f"`{n}`" for n in names) + " |", "|---" * (len(names) + 1) + "|"]
    for f in FIELDS[1:]:
        lines.append(f"| `{f}` | " + " | ".join(str(getattr(PROFILES[n], f)) for n in names) + " |")
    return "\n".join(lines) + "\n"
