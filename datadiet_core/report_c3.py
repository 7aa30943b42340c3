"""Chapter C3's text and tables: what the book says in words and tables about the summary and
comparisons :mod:`c3`, :mod:`c3_settings` and :mod:`c3_picks` compute (nothing here computes a
result). Labels, cells and the parts tables are :mod:`report`'s.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

from . import c3
from .c3_picks import SHOWN_BESIDE
from .c3_settings import ITERATION_COMPARISONS
from .dynamic import HALF_BUDGET_TAG, period_passes
from .profiles import Profile, side_seeds
from .report import VARIANT_NAMES, _opening, _pp, _read, cell, label, parts_verdict
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


def selection_counts_title(variant: str) -> str:
    """The title of the selection-count histogram: the variant of uncertainty EMA it reads."""
    return f"Selection counts, uncertainty EMA {VARIANT_NAMES.get(variant, 'as specified')}, 70% pruned"


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


def _aggressive(cells: dict[str, Any]) -> dict[str, Any]:
    """A comparison's cells (fraction -> cell) at the aggressive fractions, 70% or more, that its
    reading covers (:func:`c3.reading`)."""
    return {f: c for f, c in cells.items() if float(f) >= c3.AGGRESSIVE - 1e-9}


def _reading_by_fraction(verdict: str | None, cells: dict[str, list[Any]]) -> str:
    """A comparison's one reading (:func:`c3.reading`), and where it is "mixed" or "at chance" while
    the fractions of 70% or more read differently, what each reads: "at chance (70%, 80%: below;
    90%: at chance)" (a cell is at chance when a run compared ended there, and is then not read)."""
    at = _aggressive(cells)
    words = {f: "at chance" if len(c) > 4 and c[4] else c[3] for f, c in at.items()}
    if verdict not in ("mixed", "at chance") or len(set(words.values())) < 2:
        return _read(verdict)
    groups = {w: [f"{float(f):.0%}" for f in words if words[f] == w] for w in dict.fromkeys(words.values())}
    return f"{verdict} (" + "; ".join(f"{', '.join(fs)}: {w.replace(': ', ', ')}" for w, fs in groups.items()) + ")"


# The comparisons the chapter's difference chart draws (a minus b): the parts', and the
# loss-driven selectors against random dynamic.
PLOTTED = (("random_dynamic", "el2n_static"), ("random_dynamic", "random_static"), ("ucb", "random_dynamic"),
           ("uncertainty_ema", "random_dynamic"))


def _read_with_numbers(s: dict[str, Any], name: str) -> str:
    """A comparison's reading over the fractions of 70% or more, with its difference at each (points;
    a cell of fewer than 3 seeds gives its difference alone, the reading says there is no interval)."""
    reading = _read(s["verdict"].get(name))
    at = _aggressive(s.get("comparisons", {}).get(name, {}))
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
