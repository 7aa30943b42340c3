"""Chapter C3's text and tables: what the book says in words and tables about the summary and
comparisons :mod:`c3`, :mod:`c3_settings` and :mod:`c3_picks` compute (nothing here computes a
result). Labels, cells and the parts tables are :mod:`report`'s.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

from . import ParameterError, c3
from .c3_picks import SHOWN_BESIDE
from .c3_settings import ITERATION_COMPARISONS
from .dynamic import HALF_BUDGET_TAG, period_passes
from .profiles import Profile, side_seeds
from .report import VARIANT_NAMES, _pp, _read, cell, label, parts_verdict
from .selection import SELECTORS, VARIANT_SELECTORS
from .stats import FEW_SEEDS, summarize


def table1(runs: pd.DataFrame, variants: pd.DataFrame, epochs: int) -> pd.DataFrame:
    """Raju et al. Table 1 at 70% pruned: uncertainty EMA as specified and per class (the probes'
    source, :data:`c3.TABLE1_SOURCE_VARIANT`), always + static sometimes, always + random
    sometimes (mean ± std across seeds, %), beside the published numbers."""
    d = runs[(runs.epochs == epochs) & np.isclose(runs.prune, c3.TABLE1_PRUNE)]
    v = variants[(variants.epochs == epochs) & np.isclose(variants.prune, c3.TABLE1_PRUNE)
                 & (variants.variant == c3.TABLE1_SOURCE_VARIANT)] if len(variants) else variants
    cells = [("uncertainty EMA, as specified", d[d.selector == "uncertainty_ema"].test_acc, c3.RAJU_TABLE1["uncertainty_ema"]),
             ("uncertainty EMA, per class (the runs the two probes are built from)",
              v[v.selector == "uncertainty_ema"].test_acc if len(v) else v, None)]
    source = ", from the per-class runs" if len(v) and (v.selector == "uncertainty_ema").any() else ""
    cells += [(label(s) + source, d[d.selector == s].test_acc, c3.RAJU_TABLE1[s])
              for s in ("always_plus_static", "always_plus_random")]
    rows = []
    for name, g, pub in cells:
        if len(g):
            s = summarize(g)
            rows.append({"selection": name, "ours (%)": f"{s.mean * 100:.1f} ± {s.std * 100:.1f}", "seeds": s.n,
                         "Raju et al. (%, ResNet-18, 200 epochs)": "—" if pub is None else pub})
    return pd.DataFrame(rows).set_index("selection")


def table1_note(runs: pd.DataFrame, epochs: int, prune: float = c3.TABLE1_PRUNE) -> str:
    """How our two Table 1 probes were built, read from their runs' tags (:func:`dynamic.table1_fixed`):
    Raju et al. fix the "always" group, which a short run's few re-selections may make larger than
    half the kept budget; then the most selected half-budget stands in for it."""
    d = runs[(runs.epochs == epochs) & np.isclose(runs.prune, prune)]
    tags = lambda s: set(d[d.selector == s].fixed)  # noqa: E731
    out = []
    if tags("always_plus_static"):
        out.append(f"Ours: always + static sometimes trains on the top {1 - prune:.0%} of its seed's source run by "
                   "final EMA score, one fixed subset")
    rnd = tags("always_plus_random")
    if rnd:
        fixed = ("the most selected rows of the source runs, half the kept budget (our always group is larger "
                 "than half)" if any(t.startswith(HALF_BUDGET_TAG) for t in rnd) else "the always group of the source runs")
        out.append(f"always + random sometimes fixes {fixed} and re-draws the rest at random every pass")
    return ("; ".join(out) + ".") if out else ""


def table1_cost_note(t: dict[str, Any]) -> str:
    """What the timing of Table 1's source runs says of the probes' charges
    (:func:`c3_picks.table1_source_timing`): their throughput beside the runs that select the same
    way, and, where the sources read as slowed, the probes' speed-ups with every source run charged
    at uncertainty EMA's median seconds instead."""
    if not t:
        return ""
    rates = lambda v: " and ".join(f"{x:,.0f}" for x in sorted(v))  # noqa: E731
    peers = ", ".join(f"{rates(v)} for {label(sel)} {VARIANT_NAMES.get(var, 'as specified')}"
                      for (sel, var), v in t["peers"].items())
    text = (f"Table 1's source runs trained at {rates(t['sources'])} img/s (scoring passes included), against "
            f"{peers}, at the same rate and budget")
    if not t["slowed"]:
        return text + "; the probes are charged them as timed."
    at = "; ".join(f"{label(sel)} {times(p['at_plain'])} (as charged, {times(p['charged'])})" for sel, p in t["probes"].items())
    saves = {(p["charged"] >= 1, p["at_plain"] >= 1) for p in t["probes"].values()}
    verdict = ("neither saves time either way" if saves == {(False, False)} else
               "both save time either way" if saves == {(True, True)} else "the charge decides whether they save time")
    return (text + ": something other than the method slowed them, most likely other work on the cores while they "
            "were timed, and the probes' charges carry it. Charged at the median seconds of uncertainty EMA as "
            f"specified ({t['plain_seconds']:.0f} s a run) instead, the probes' speed-ups over full data would be {at}: "
            f"{verdict}.")


def selection_counts_title(variant: str) -> str:
    """The title of the selection-count histogram: the variant of uncertainty EMA it reads."""
    return f"Selection counts, uncertainty EMA {VARIANT_NAMES.get(variant, 'as specified')}, 70% pruned"


def prune_table(runs: pd.DataFrame, epochs: int, prune: float = c3.AGGRESSIVE) -> pd.DataFrame:
    """Every selector run at ``rate`` and budget ``epochs``: accuracy (mean ± std across seeds, %),
    the seeds, seconds per run (the median across seeds, :func:`c3.seconds_per_run`; scoring passes
    included; scores and Table 1's sources charged separately), speed-up over full data, and the
    difference to random dynamic with its 95% interval (percentage points), and the training
    throughput (:func:`training_throughput`), which tells runs timed on a faster host."""
    acc = c3.accuracy(runs, epochs)
    acc = acc[np.isclose(acc.prune, prune)]
    full = runs[(runs.epochs == epochs) & (runs.selector == "full")]
    full_s = c3.seconds_per_run(full.train_seconds)
    speed = training_throughput(runs, epochs, prune)
    rows = []
    for _, r in acc.iterrows():
        name = label(r.score)
        if r.score == "infobatch":  # it prunes less than the rate says: say how much it skipped
            ib = runs[(runs.epochs == epochs) & (runs.selector == "infobatch") & np.isclose(runs.prune, prune)]
            name += f" (skipped {1 - ib.images_seen.mean() / full.images_seen.mean():.0%} of the images)"
        row = {"selector": name, "accuracy (%)": f"{r['mean'] * 100:.1f} ± {r['std'] * 100:.1f}", "seeds": int(r.seeds),
               "seconds per run": f"{r.train_seconds:.0f}", "with scores charged (s)": f"{r.wallclock_s:.0f}",
               "speed-up, scores charged": f"{full_s / r.wallclock_s:.2f}×", "training img/s": f"{speed[r.score]:.0f}"}
        c = c3.difference(runs, r.score, "random_dynamic", epochs) if r.score != "random_dynamic" else None
        c = None if c is None else c[np.isclose(c.prune, prune)]
        row["minus random dynamic (pp) [95% CI]"] = ("(reference)" if c is None else
                                                    cell(*c[["diff", "lo", "hi"]].iloc[0]) if len(c) else "")
        rows.append(row)
    f = summarize(full.test_acc)
    rows.append({"selector": "full data", "accuracy (%)": f"{f.mean * 100:.1f} ± {f.std * 100:.1f}", "seeds": f.n,
                 "seconds per run": f"{full_s:.0f}", "with scores charged (s)": f"{full_s:.0f}",
                 "speed-up, scores charged": "1.00×", "training img/s": f"{speed['full']:.0f}",
                 "minus random dynamic (pp) [95% CI]": ""})
    return pd.DataFrame(rows).set_index("selector")


def training_throughput(runs: pd.DataFrame, epochs: int, prune: float = c3.AGGRESSIVE) -> pd.Series:
    """Per selector at ``prune`` and budget ``epochs``, and for full data: images trained on per
    second of training, scoring passes left out (the median across seeds). The same net at the same
    batch size trains at about one rate on one host, so a selector far from full data's rate was
    timed on another host, or beside other work."""
    d = runs[(runs.epochs == epochs) & (np.isclose(runs.prune, prune) | (runs.selector == "full"))]
    return (d.images_seen / (d.train_seconds - d.scoring_seconds)).groupby(d.selector).median()


def throughput_drift_text(runs: pd.DataFrame, epochs: int, prune: float = c3.AGGRESSIVE, tolerance: float = 0.25) -> str:
    """The selectors of :func:`prune_table` whose training throughput is more than ``tolerance``
    away from full data's, in words (empty when none): their seconds and speed-ups there compare
    timings as well as methods. Selective-Backprop and Random-Backprop are left out: they run a
    forward pass on every image of a batch and train on some, so their rate differs by design."""
    speed = training_throughput(runs, epochs, prune)
    ratio = (speed / speed["full"]).drop(["full", "selective_backprop", "random_backprop"], errors="ignore")
    off = ratio[(ratio > 1 + tolerance) | (ratio < 1 / (1 + tolerance))]
    if not len(off):
        return ""
    names = "; ".join(f"{label(s)} {speed[s]:.0f} ({r:.2f}× full data's)" for s, r in off.items())
    return (f"Training throughput, scoring left out: full data {speed['full']:.0f} img/s; {_opening(names)}. The same "
            "net at the same batch size trains at about one rate on one machine, and runs timed apart can differ "
            "(another host, or other work on the cores), so for these rows the seconds and speed-ups compare timings "
            "as well as methods. \"What it costs\" below compares random dynamic and UCB at matched throughput.")


def runs_text(P: Profile) -> str:
    """What the chapter's grid runs at profile ``P``, in a few sentences (computed from its fields)."""
    E, short = max(P.c3_epochs), sorted(P.c3_epochs)[:-1]
    side = [s for s in (P.c3_side_selectors if P.c3_side_selectors is not None else
                        [x for x in SELECTORS if x not in P.c3_core])]
    text = (f"The main comparison takes {E} epochs over the kept subset of the {P.model} network (equal epochs, so "
            f"a run's cost falls with the rate). {_opening(', '.join(label(s) for s in P.c3_core))} run at every rate "
            f"({', '.join(f'{r:.0%}' for r in P.c3_rates)})")
    text += (f"; {', '.join(label(s) for s in side)} at {', '.join(f'{r:.0%}' for r in P.c3_side_rates)} only. "
             if side else ". ")
    text += (f"Every cell gets {P.eval_seeds} seeds" if side_seeds(P) == P.eval_seeds else
             f"Random dynamic and the static selectors get {P.eval_seeds} seeds at the aggressive rates (the "
             f"cells the headline rests on), every other cell {side_seeds(P)}")
    text += f"; full data is the scoring runs ({P.scoring_seeds} seeds), every chapter's one baseline."
    if short:
        text += (f" A shorter budget ({', '.join(str(e) for e in short)} epoch{'s' * (short != [1])}) repeats the core "
                 "at 70% and up.")
    if P.c3_iterations:
        text += (f" Under equal iterations (as many steps as full data, so a 30% subset is passed over 1/0.3 times "
                 f"as often), {', '.join(label(s) for s in P.c3_iterations)} run at 70%, {P.eval_seeds} seeds each.")
    grid = c3.grid(P)
    shared = sum(s.scoring_run for s in grid)
    return text + (f" That makes {len(grid) - shared} runs of its own" + (
        f", besides the {shared} full-data scoring runs it shares with the other chapters (the Reproduce page counts "
        "those under setup)." if shared else "."))


def fit_table(summary: dict[str, Any]) -> pd.DataFrame:
    """Per selector: the training accuracy of its last pass, on the rows it trained on then, at
    every rate (equal epochs) and, where run, at 70% under equal iterations: near 100% when the
    net fits its subset, which says which regime a cell is in."""
    rows = {label(sel): {f"{float(r):.0%}, equal epochs": f"{v * 100:.1f}%" for r, v in by_r.items()}
            for sel, by_r in summary["train_acc_end"].items()}
    for sel, v in summary.get("iterations", {}).get("train_acc_end", {}).items():
        rows.setdefault(label(sel), {})["70%, equal iterations"] = f"{v * 100:.1f}%"
    return pd.DataFrame.from_dict(rows, orient="index").fillna("").rename_axis("selector")


def iterations_table(summary: dict[str, Any]) -> pd.DataFrame:
    """Equal iterations at 70% pruned (``summary.json``'s ``c3.iterations``): accuracy per selector
    (mean ± std, %, seeds) beside full data, and each run's accuracy in seed order where the summary
    keeps them; empty where the profile ran none."""
    if "iterations" not in summary:
        return pd.DataFrame()
    it = summary["iterations"]
    keys = [s for s, by_r in it["acc_mean"].items() if by_r.get("0.7") is not None]
    rows = [{"selector": label(s), "accuracy (%)": f"{it['acc_mean'][s]['0.7'] * 100:.1f} ± "
             f"{it['acc_std'][s]['0.7'] * 100:.1f}", "seeds": it["seeds"].get(s, "")} for s in keys]
    full = it["full"]
    rows.append({"selector": "full data", "accuracy (%)": f"{full[0] * 100:.1f} ± {full[1] * 100:.1f}", "seeds": full[2]})
    table = pd.DataFrame(rows).set_index("selector")
    if "runs" in it:  # summaries written before the per-run column lack it
        table["each run (%, by seed)"] = [", ".join(f"{a * 100:.1f}" for a in it["runs"].get(s, []))
                                         for s in [*keys, "full"]]
    return table


def iterations_period_text(P: Profile) -> str:
    """How often the dynamic selectors re-select under equal iterations at 70% pruned
    (:func:`dynamic.period_passes`: 5% of the passes a run makes, at least one); empty where the
    profile runs no equal-iterations cells."""
    if not P.c3_iterations:
        return ""
    E, keep = max(P.c3_epochs), 1 - c3.AGGRESSIVE
    T = period_passes(E, keep, "iterations")
    return (f"A run then makes {E / keep:.0f} passes over its kept {keep:.0%}, and the dynamic selectors re-select "
            f"every {'pass' if T == 1 else f'{T} passes'} (5% of training, the rule of the main grid). Each run's "
            "accuracy is listed, so a spread that comes from one seed shows:")


def iterations_text(summary: dict[str, Any], planned: bool = False) -> str:
    """The equal-iterations comparisons in words (computed; :func:`_read_with_numbers`), or that the
    profile runs none, or (``planned``: its ``c3_iterations`` names some) that they are still to run."""
    it = summary.get("iterations")
    if not it:
        return ("This profile's equal-iterations cells are still to run." if planned else
                "This profile runs no equal-iterations cells (the papermill parameter c3_iterations adds them).")
    return "At 70% pruned under equal iterations: " + "; ".join(
        f"{label(a)} minus {label(b)}: {_read_with_numbers(it, f'{a}_vs_{b}')}"
        for a, b in ITERATION_COMPARISONS if f"{a}_vs_{b}" in it["comparisons"]) + "."


def collapse_table(checks: pd.DataFrame) -> pd.DataFrame:
    """Per selector and variant of the collapse diagnosis (:func:`c3_picks.divergence_checks`):
    test accuracy across seeds, whether every loss stayed finite, the largest |weight| and the
    BatchNorm running-variance range over all selections, the class shares of the selections and
    their mean turnover (:func:`c3_picks.class_turnover`)."""
    rows = []
    for (sel, var), g in checks.groupby(["selector", "variant"], sort=False):
        a = summarize(g.test_acc)
        rows.append({"selector": label(sel), "variant": var.replace("_", " "),
                     "accuracy (%)": f"{a.mean * 100:.1f} ± {a.std * 100:.1f}", "seeds": a.n,
                     "losses finite": "yes" if g.finite.all() else "no",
                     "max |weight|": _kept(g.weight_abs_max, lambda x: f"{x.max():.1f}"),
                     "BN running var.": _kept(g.bn_var_min, lambda x: f"{x.min():.2g} to {g.bn_var_max.max():.3g}"),
                     "max class share, 1st selection": _kept(g.first_max_share, lambda x: f"{x.max():.0%}"),
                     "min class share, any selection": _kept(g.min_share, lambda x: f"{x.min():.1%}"),
                     "class turnover between selections": _kept(g.class_turnover, lambda x: f"{x.mean():.0%}")})
    return pd.DataFrame(rows).set_index(["selector", "variant"])


def _kept(x: pd.Series, cell: Callable[[pd.Series], str]) -> str:
    """A column of :func:`collapse_table` as ``cell`` writes it; "not stored" where a run was stored
    before runs kept their selections' checks and classes (NaN there)."""
    return "not stored" if x.isna().any() else cell(x)


def _turnover_text(c: dict[str, Any]) -> str:
    """The mean class turnover between consecutive selections (:func:`c3_picks.class_turnover`),
    per selector as specified and in each variant, from the collapse summary (empty where an
    older summary lacks it)."""
    t = c.get("class_turnover") or {}
    names = {"as specified": "as specified", **VARIANT_NAMES}
    parts = [f"{label(s)} {name} {t[f'{s}:{v}']:.0%}" for s in VARIANT_SELECTORS
             for v, name in names.items() if np.isfinite(t.get(f"{s}:{v}", np.nan))]
    parts += [f"{label(s)} {t[f'{s}:as specified']:.0%}" for s in SHOWN_BESIDE
              if np.isfinite(t.get(f"{s}:as specified", np.nan))]
    return ("Share of a selection that moves to other classes at the next re-selection (mean over passes and "
            "seeds): " + "; ".join(parts) + ". ") if parts else ""


def collapse_text(c: dict[str, Any]) -> str:
    """The diagnosis in words, from ``summary.json``'s ``c3.collapse`` (computed readings only)."""
    text = ("No run diverged: every training and scoring loss stayed finite. " if not c["diverged"] else
            "Some run diverged: a loss was not finite. ")
    parts = []
    for s in VARIANT_SELECTORS:
        for v in ("per_class", "random_first"):
            r = c.get(f"{s}_{v}_minus_as_specified")
            if r:
                parts.append(f"{label(s)} {VARIANT_NAMES[v]} minus as specified: "
                             + (f"{r[0] * 100:+.1f} points ({FEW_SEEDS})" if r[3] == FEW_SEEDS else
                                f"{cell(*r[:3])} points, {r[3]}"))
    joined = "; ".join(parts)
    text += _opening(joined) + ". " if parts else ""
    text += _turnover_text(c)
    chance = [label(s) for s, v in c["at_chance"].items() if v]
    if not chance:
        return text + "No selector ended at chance as specified."
    who = _opening(" and ".join(chance))
    if not parts:
        return text + (f"{who} ended at chance as specified. This profile's grid runs no variant of "
                       "the selectors, so the cause is not tested here.")
    setting = f"({c['epochs']} epochs, {c['prune']:.0%} pruned, re-selection after every pass)"
    if c.get("first_selection_is_the_cause"):
        return text + (f"{who} ended at chance as specified; making the first selection at random, "
                       "with everything else unchanged, lifts every such run above chance and above the selector as "
                       "specified. The collapse starts at the first selection: a freshly initialised net scores the "
                       "examples of the few classes it does not predict highest, the next pass trains on those, and "
                       f"the selections flip between classes from then on {setting}.")
    if c.get("class_skew_is_the_cause"):
        return text + (f"{who} ended at chance as specified; selecting per class, with the same "
                       "scores, lifts every such run above chance and above the selector as specified. The collapse "
                       "is class skew: each selection is drawn from a few classes, the network then predicts those, "
                       "and the next selection flips to the others. That is a property of whole-set top-k selection "
                       f"at this setting {setting}, not a bug." + _first_selection_also(c))
    if any(r[3] == FEW_SEEDS for k, r in c.items() if k.endswith("_minus_as_specified")):
        return text + (f"{who} ended at chance as specified. The variants' runs have fewer than 3 "
                       "seeds, so their differences have no interval and the rules cannot name a cause: it is not "
                       "established at this regime.")
    return text + (f"{who} ended at chance as specified, and no variant the grid runs lifts every "
                   "such run above chance and above the selector as specified: the cause stays open.")


def _first_selection_also(c: dict[str, Any]) -> str:
    """Where class skew is the named cause: the selectors that a random first selection also lifts
    above their runs as specified (an interval above zero), so that the untrained net's first
    selection adds to the skew for them (empty when none)."""
    lifted = [label(s) for s in VARIANT_SELECTORS
              if (c.get(f"{s}_random_first_minus_as_specified") or [None] * 4)[3] == "above"]
    if not lifted:
        return ""
    return (f" A random first selection also lifts {' and '.join(lifted)} above {'its' if len(lifted) == 1 else 'their'} "
            "runs as specified, so for them the untrained net's first selection adds to the skew.")


def _opening(text: str) -> str:
    """``text`` as it opens a sentence: its first letter a capital, the rest as written ("UCB"
    stays "UCB", where ``str.capitalize`` would write "Ucb"); a symbol stays as it is written
    ("ε-greedy", never "Ε-greedy")."""
    return (text[:1].upper() if text[:1].isascii() else text[:1]) + text[1:]


def times(x: float) -> str:
    """A speed as a multiple of full data's, "1.46×": two decimals, three where two would round a
    speed on either side of 1 to "1.00×" (slower or faster would then read as equal)."""
    return f"{x:.3f}×" if round(x, 2) == 1.0 and x != 1.0 else f"{x:.2f}×"


def throughput_note(name: str, parts: dict[str, float]) -> str:
    """How the training throughput of a selector's runs compares with the full-data runs'
    (:func:`c3.speedup`): a large gap means the two were timed on hosts of different speeds."""
    ratio = parts["train_img_s"] / parts["full_img_s"]
    text = (f"{_opening(name)}'s runs trained at {parts['train_img_s']:,.0f} images per second against "
            f"{parts['full_img_s']:,.0f} for the full-data runs ({ratio:.0%}).")
    if ratio < 0.8:
        text += (f" Timed apart, {name}'s runs ran slower than the full-data runs, so its measured speed-up "
                 f"understates what the method gives; at matched throughput it is {times(parts['matched'])}.")
    elif ratio > 1.25:
        text += (f" Timed apart, {name}'s runs ran faster than the full-data runs, so its measured speed-up "
                 f"overstates what the method gives; at matched throughput it is {times(parts['matched'])}.")
    return text


def mixture_text(mixture: dict[str, Any], selections: int) -> str:
    """The selection-count groups (:func:`stats.selection_mixture`) with the counts each covers and
    its share of the samples: the names are the components' ranks, so "never" may hold samples
    picked a few times, and the reader sees how many."""
    def span(r: list[int]) -> str:
        return "none" if not r else str(r[0]) if r[0] == r[1] else f"{r[0]}-{r[1]}"
    parts = [f"{n} ({span(r)}{f' of {selections} selections' if i == 0 else ''}) {f:.0%}"
             for i, (n, r, f) in enumerate(zip(mixture["names"], mixture["ranges"], mixture["fractions"]))]
    return ", ".join(parts)


RAJU_SELECTIONS = 20  # selections per run in Raju et al. (every 10 of 200 epochs)


def selections_per_run_text(selections: int, runs: int) -> str:
    """How coarse the selection counts are: selections a run made, against Raju et al.'s
    :data:`RAJU_SELECTIONS`, summed over ``runs`` seeds."""
    if not runs:
        return ""
    n = selections / runs
    per = ("once" if n == 1 else f"{n:.0f} times") if n == round(n) else f"{n:.1f} times"
    coarse = (", so the three groups are coarser than theirs, and \"never\" holds samples picked a few times"
              if n < RAJU_SELECTIONS else "")
    if runs == 1:
        return f"The one run selected {per} (Raju et al.'s runs: {RAJU_SELECTIONS}){coarse}."
    return (f"Each run selected {per} (Raju et al.'s runs: {RAJU_SELECTIONS}), {selections} selections over {runs} "
            f"seeds{coarse}.")


def throughput_notes(parts: dict[str, dict[str, float]]) -> str:
    """:func:`throughput_note` of every selector whose speed-up parts the summary holds."""
    return " ".join(throughput_note(label(s), p) for s, p in parts.items() if p)


# The two tables of the speed-up at 70% pruned: column -> (field of c3.speedup's parts, format).
SPEEDUP_COLUMNS = {"speed-ups": {c: (k, "{:.2f}×") for c, k in (
    ("measured speed-up", "measured"), ("at matched throughput", "matched"), ("re-selecting every pass", "period_1"),
    ("every 10 passes", "period_10"), ("ideal", "ideal"))}, "parts": {
    "full data (s/pass)": ("full_s_per_pass", "{:.1f}"), "training on 30% (s/pass)": ("train_s_per_pass", "{:.1f}"),
    "scoring pass (s)": ("scoring_s_per_pass", "{:.1f}"), "full data (img/s)": ("full_img_s", "{:.0f}"),
    "training on 30% (img/s)": ("train_img_s", "{:.0f}")}}


def speedup_table(summary: dict[str, Any], part: str = "speed-ups") -> pd.DataFrame:
    """Per budget, the speed-ups at 70% pruned, measured and re-selecting every T passes (``part``
    "speed-ups"), or their measured parts (:func:`c3.speedup`; "parts"): two tables to fit a page."""
    if part not in SPEEDUP_COLUMNS:
        raise ParameterError(f"parameter 'part' must be speed-ups or parts; got {part!r}")
    rows = [{"budget (epochs)": int(E), "selector": label(sel),
             **{col: fmt.format(parts[key]) + _selections(key, int(E)) for col, (key, fmt) in SPEEDUP_COLUMNS[part].items()}}
            for E, s in summary["by_budget"].items() for sel, parts in s["speedup_parts_at_0.7"].items() if parts]
    return pd.DataFrame(rows).set_index(["budget (epochs)", "selector"])


def _selections(key: str, epochs: int) -> str:
    """After a projected speed-up at period T (``period_T``), how many selections a run of
    ``epochs`` passes makes (:func:`c3.selections_at`); one is the untrained net's, static pruning."""
    if not key.startswith("period_") or key == "period_1":
        return ""
    n = c3.selections_at(epochs, int(key.removeprefix("period_")))
    return " (1 selection, at the start)" if n == 1 else f" ({n} selections)"


def period_plan(P: Profile) -> str:
    """What the chapter's period sweep runs at profile ``P``, in one or two sentences."""
    E = max(P.c3_epochs)
    main = period_passes(E)
    longer = sorted(set(P.c3_periods) - {main})
    every = "one pass" if main == 1 else f"{main} passes"
    if not longer:
        return (f"This regime runs no such sweep: its loss-driven selectors re-select every {every.replace('one ', '')} "
                "only, so there is no table here. The papermill parameter c3_periods (the periods in passes, "
                "for instance 2 and 4) adds the sweep; to join the runs already stored, it must run at their "
                "precision, which the sweep command checks.")
    return (f"We repeat that sweep at 70% pruned and {E} epochs: uncertainty EMA and UCB re-selecting every "
            f"{' or '.join(str(T) for T in longer)} passes, {side_seeds(P)} seeds each, against the main grid's {every}.")


def period_table(summary: dict[str, Any]) -> pd.DataFrame:
    """The period sweep (:func:`c3_settings.period_sweep`) as a table: accuracy, re-selections, seconds
    and speed-ups per selector and period, and the difference to the main period; empty when the
    profile ran no other period."""
    sw = summary["period_sweep"]
    if not any(r["period"] != sw["main_period"] for r in sw["rows"]):
        return pd.DataFrame()  # no longer period ran: nothing to set beside the main grid
    rows = []
    for r in sw["rows"]:
        main = r["period"] == sw["main_period"]
        rows.append({"selector": label(r["selector"]), "re-select every (passes)": r["period"],
                     "re-selections": f"{r['selections']:.0f}",
                     "accuracy (%)": f"{r['acc_mean'] * 100:.1f} ± {r['acc_std'] * 100:.1f}",
                     "minus every pass (pp) [95% CI]": "(main grid)" if main else cell(r["diff"], r["lo"], r["hi"]),
                     "scoring (s)": f"{r['scoring_seconds']:.0f}", "seconds per run": f"{r['train_seconds']:.0f}",
                     "speed-up, measured": f"{r['speedup_measured']:.2f}×",
                     "at matched throughput": f"{r['speedup_matched']:.2f}×"})
    return pd.DataFrame(rows).set_index(["selector", "re-select every (passes)"])


def verdict_text(summary: dict[str, Any]) -> str:
    """The chapter's verdict paragraph: :func:`report.parts_verdict` of its headline."""
    return parts_verdict("c3", summary["headline"])


# The comparisons the chapter's comparison table shows, a minus b (summary.json's c3.comparisons).
C3_SHOWN = ("random_dynamic_vs_el2n_static", "random_dynamic_vs_forgetting_static", "random_dynamic_vs_random_static",
            "ucb_vs_random_dynamic", "ucb_vs_uncertainty_ema", "epsilon_greedy_vs_uncertainty_ema",
            "always_plus_random_vs_always_plus_static", "infobatch_vs_random_dynamic_at_equal_cost")


def comparisons_table(summary: dict[str, Any]) -> pd.DataFrame:
    """Per budget, every comparison of :data:`C3_SHOWN` that ran: its reading over the fractions of
    70% or more (above, below, no detectable difference, mixed, at chance: a run compared ended
    below 1.5 times chance and is not read) and the difference at each fraction (points, Welch's
    95% interval; InfoBatch in the column of its own rate, against random dynamic at the rate
    nearest the share of images it skipped, which the row names)."""
    rows = []
    for E, s in summary["by_budget"].items():
        for name in C3_SHOWN:
            if name not in s["comparisons"]:
                continue
            a, b = name.replace("_at_equal_cost", "").split("_vs_")
            equal = ""
            if name.endswith("_at_equal_cost"):  # paired by images seen, not by the nominal rate
                skipped = s.get("infobatch_skipped", {})
                equal = " at the rate nearest the images InfoBatch skipped (" + "; ".join(
                    f"InfoBatch at {float(f):.0%}, {skipped[f]:.0%} skipped, against random (dynamic) at {q:.0%}"
                    + (f": InfoBatch trained on {1 - skipped[f]:.0%} of the images, random (dynamic) on {1 - q:.0%}, "
                       "not an equal cost" if abs(skipped[f] - q) > 0.1 else "")
                    for f, q in s.get("infobatch_paired_prune", {}).items() if f in skipped) + ")"
            row = {"budget (epochs)": int(E), "comparison": f"{label(a)} minus {label(b)}{equal}",
                   "reading": _reading_by_fraction(s["verdict"].get(name), s["comparisons"][name])}
            row |= {f"{float(f):.0%}": cell(*c[:3]) for f, c in s["comparisons"][name].items()
                    if name.startswith("infobatch") or float(f) >= c3.AGGRESSIVE - 1e-9}
            rows.append(row)
    out = pd.DataFrame(rows).set_index(["budget (epochs)", "comparison"]).fillna("")
    return out[["reading"] + sorted((c for c in out.columns if c != "reading"), key=lambda c: float(c.rstrip("%")))]


def _reading_by_fraction(verdict: str | None, cells: dict[str, list[Any]]) -> str:
    """A comparison's one reading (:func:`c3.reading`), and where it is "mixed" or "at chance" while
    the fractions of 70% or more read differently, what each reads: "at chance (70%, 80%: below;
    90%: at chance)" (a cell is at chance when a run compared ended there, and is then not read)."""
    at = {f: c for f, c in cells.items() if float(f) >= c3.AGGRESSIVE - 1e-9}
    words = {f: "at chance" if len(c) > 4 and c[4] else c[3] for f, c in at.items()}
    if verdict not in ("mixed", "at chance") or len(set(words.values())) < 2:
        return _read(verdict)
    groups = {w: [f"{float(f):.0%}" for f in words if words[f] == w] for w in dict.fromkeys(words.values())}
    return f"{verdict} (" + "; ".join(f"{', '.join(fs)}: {w.replace(': ', ', ')}" for w, fs in groups.items()) + ")"


def speed_text(summary: dict[str, Any]) -> str:
    """The wall-clock reading at 70% pruned (computed; empty where random dynamic or UCB did not run)."""
    sp, sparts, v = summary["speedup_at_0.7"], summary["speedup_parts_at_0.7"], summary["verdict"]
    text = ""
    if "random_dynamic" in sp and "ucb" in sp:
        def speed(s: str) -> str:  # one direction throughout: the speed of full data's multiple (< 1: slower)
            x, m = sp[s], sparts[s]["matched"]
            return (f"{label(s)} {times(x)} as measured{' (slower than full data)' if x < 1 else ''} and "
                    f"{times(m)} at matched throughput{' (slower)' if m < 1 else ''}")
        text += (f"At 70% pruned, end to end with scoring, each run's speed as a multiple of full data's: "
                 f"{speed('random_dynamic')}; {speed('ucb')}. At matched throughput "
                 + ("both save time" if v["wallclock_saving_real"] else "at least one does not save time") + ". ")
    if "el2n_static" in sp:
        text += (f"Static EL2N with its scores charged runs at {times(sp['el2n_static'])} the speed of full data"
                 + (", a saving." if v["static_el2n_saves_wallclock"] else ", no saving."))
    return text.strip()


# The comparisons the chapter's difference chart draws (a minus b): the parts', and the
# loss-driven selectors against random dynamic.
PLOTTED = (("random_dynamic", "el2n_static"), ("random_dynamic", "random_static"), ("ucb", "random_dynamic"),
           ("uncertainty_ema", "random_dynamic"))


def _read_with_numbers(s: dict[str, Any], name: str) -> str:
    """A comparison's reading over the fractions of 70% or more, with its difference at each (points;
    a cell of fewer than 3 seeds gives its difference alone, the reading says there is no interval)."""
    reading = _read(s["verdict"].get(name))
    at = {f: c for f, c in s.get("comparisons", {}).get(name, {}).items() if float(f) >= c3.AGGRESSIVE - 1e-9}
    if not at:
        return reading
    few = reading == FEW_SEEDS
    return f"{reading} (" + "; ".join(f"{float(f):.0%}: {_pp(c[0]) if few else cell(*c[:3])}" for f, c in at.items()) + ")"


def other_settings_text(P: Profile, summary: dict[str, Any]) -> str:
    """What the shorter budget and the class-imbalanced setting show (computed, with the differences
    the readings rest on), or that the profile runs neither."""
    text = []
    for E, s in summary["by_budget"].items():
        if int(E) != max(P.c3_epochs):
            text.append(f"At {E} epochs: " + "; ".join(
                f"{label(a)} minus {label(b)}: {_read_with_numbers(s, f'{a}_vs_{b}')}" for a, b in PLOTTED[:2]) + ".")
    imb = summary.get("imbalanced")
    if imb:
        text.append(f"On class-imbalanced CIFAR-10 ({imb['n_train']:,} training images, {imb['epochs']} epochs, full "
                    f"data {imb['acc_mean']['full'] * 100:.1f}%): " + "; ".join(
                        f"{label(a)} minus {label(b)}: {_read_with_numbers(imb, f'{a}_vs_{b}')}"
                        for a, b in c3.IMBALANCED_COMPARISONS) + ".")
    return " ".join(text) or "This profile runs neither a shorter budget nor the class-imbalanced setting."
