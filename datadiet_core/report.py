"""Report text, tables and labels: what the book says in words and tables about the summaries
and comparisons the claim modules compute. Nothing here computes a result; every number it
writes comes from a claim module's summary or tables.

Owns the display names of scores and selectors (:data:`LABELS`), the cells and readings every
chapter writes differences in, a claim's verdict as a table of its parts and its paragraph,
the class-starvation sentence of C2 and C3, the setup chapter's schedule and variants, a profile's
fields as a reader writes them (:func:`value_text`, :func:`profile_table`), and each
headline's effect and published figure in words (``regimes`` sets them in the introduction's
table). Each claim's own chapter text is in ``report_c1``, ``report_c2`` and ``report_c3`` (its cost in
``report_c3_cost``).
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from .c2 import PUBLISHED
from .profiles import FIELDS, Profile, parse_variant
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
# The budget conventions of a pruned run (profile field c2_budget), as the chapters name them.
CONVENTION = {"iterations": "equal iterations", "epochs": "equal epochs"}


VARIANT_NAMES = {"per_class": "per class", "random_first": "with its first selection random"}
# The same variants as a column or panel heading, beside the selector as Raju et al. specify it.
VARIANT_HEADINGS = {"as specified": "as specified", "per_class": "per class", "random_first": "first selection random"}


def label(name: str) -> str:
    """The display name of a score or selector (the name itself where it has none)."""
    return LABELS.get(name, name)


def plural(n: int | str, noun: str) -> str:
    """A count and its noun, in the plural unless the count is one: "1 seed", "3 seeds"."""
    return f"{n} {noun}{'' if str(n) == '1' else 's'}"


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
    """A point difference in points (ours or published); one that rounds to zero reads "0.0", unsigned
    (an interval's bounds keep their sign: it says on which side of 0 the bound lies)."""
    return "0.0" if round(d * 100, 1) == 0 else _pp(d)


def cell(d: float, lo: float, hi: float) -> str:
    """A difference in accuracy with its interval, in percentage points: '+1.1 [+0.2, +2.0]' (a
    point that rounds to zero reads '0.0', as :func:`_pp_point`); a comparison of cells with fewer
    than ``stats.MIN_SEEDS`` seeds has none, and says so."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return f"{_pp_point(d)} ({FEW_SEEDS})"
    return f"{_pp_point(d)} [{_pp(lo)}, {_pp(hi)}]"  # a point that rounds to zero has no sign


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

def _directions(by_f: dict[str, str], published: dict[str, float] | None = None) -> str:
    """A part's reading at each fraction pruned, with the published difference there in brackets
    where the part's source ran that fraction."""
    pub = published or {}
    return "; ".join(f"{float(f):.0%}: {f'n < {MIN_SEEDS}' if d == FEW_SEEDS else d}"
                     + (f" (published {_pp_point(pub[f])})" if f in pub else "") for f, d in by_f.items()) or "not run"


def and_list(words: list[str]) -> str:
    """Words as a sentence lists them: "a", "a and b", "a, b and c"."""
    return " and ".join(words) if len(words) < 3 else ", ".join(words[:-1]) + " and " + words[-1]


def readings_text(by_f: dict[str, str]) -> str:
    """A part's readings grouped by direction, in the order of the fractions ("above at 70% and
    80%, no detectable difference at 90%"); a cell under ``stats.MIN_SEEDS`` seeds reads "n < 3"."""
    groups: dict[str, list[str]] = {}
    for f, d in by_f.items():
        groups.setdefault(f"n < {MIN_SEEDS}" if d == FEW_SEEDS else d, []).append(f"{float(f):.0%}")
    return ", ".join(f"{d} at {and_list(fs)}" for d, fs in groups.items())


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
    50% pruned (saying so where the grid ran no other fraction for it: the rule then reads one), C3's
    at 70% (its cost part at 80%)."""
    if "at_50" in p:
        only = " (the only fraction run)" if len(p.get("directions") or {}) == 1 else ""
        return f"{_effect(p['at_50'])} at 50%{only}"
    return f"{_effect(p['at'])} at {'80%' if name.endswith('0.8') else '70%'}"


def parts_table(claim: str, h: dict[str, Any]) -> str:
    """A C2 or C3 headline's parts as a MyST table (shown whole: a data frame would cut the long
    cells): each part's verdict, its effect with Welch's 95% interval where the headline states it
    (C2: 50% pruned; C3: 70%, its cost part 80%), the reading at every fraction the grid ran (C2: with
    the published difference there, where the part's source ran it), the seeds, the published
    figure, and for C2 the per-class and pre-drop readings at 50% beside it."""
    if claim == "c2":
        def per_class(score: str, p: dict[str, Any]) -> str:
            pending = h.get("pending", {})
            if p["per_class"] or not pending:
                return _effect(p["per_class"])
            if score in pending.get("stored", {}).get("c2_per_class", []):
                return "stored, read once the grid is complete"
            return "not yet complete" if score in pending.get("c2_per_class", []) else _effect(None)

        lines = ["| part | verdict | at 50% pruned, points [95% interval] | by fraction pruned (published, points) | seeds "
                 "| published, points "
                 "| per class, 50% | pre-drop, 50% |", "|---|---|---|---|---|---|---|---|"]
        for score, p in ordered_parts(h):
            pub = "—" if p["published"] is None else f"{_pp_point(p['published'])} ({_source(p['published_source'])})"
            readings = _directions(p["directions"], p.get("published_by_fraction"))
            lines.append(f"| {p['statement']} | **{p['verdict']}** | {_effect(p['at_50'])} | {readings} "
                         f"| {p['seeds']} | {pub} | {per_class(score, p)} | {_effect(p['predrop']) if p['predrop'] else '—'} |")
    else:
        lines = ["| part | verdict | effect, points [95% interval] | by fraction pruned | seeds | published, points |",
                 "|---|---|---|---|---|---|"]
        for name, p in ordered_parts(h):
            at = "80%" if name.endswith("0.8") else "70%"
            pub = "—" if p["published"] is None else f"about {_pp(p['published'])} ({p['published_source']})"
            lines.append(f"| {p['statement']} | **{p['verdict']}** | {_effect(p['at'])} at {at} | "
                         f"{_directions(p['directions'])} | {p['seeds']} | {pub} |")
    return "\n".join(lines) + "\n"


def regime_brief(regime: str) -> str:
    """A headline's regime (``c2.regime_text``, ``c3.summary``) as a verdict sentence names it: net
    and epochs, the budget convention where the net's clause leaves it out, and full-data accuracy
    ("fastnet, 8 epochs, equal iterations, full data 83.3%")."""
    head = regime.split(" (")[0]
    convention = re.search(r"equal (epochs|iterations)", regime)
    full = re.search(r"\d+\.\d%(?= ± )", regime)
    return (head + (f", {convention.group(0)}" if convention and "kept subset" not in head else "")
            + (f", full data {full.group(0)}" if full else ""))


def parts_verdict(claim: str, h: dict[str, Any]) -> str:
    """A C2 or C3 verdict in a few sentences (at most about 80 words; the parts' numbers are in
    :func:`parts_table`): the claim's word at its regime (:func:`regime_brief`), its rule (fixed
    before the airbench runs, after the cpu ones: Methods says so) and each part's verdict."""
    parts = "; ".join(f"{p['statement']}: {p['verdict']}" for _, p in ordered_parts(h))
    return (f"Claim {CLAIMS[claim][0]} {verdict_phrase(h['verdict'])} at {regime_brief(h['regime'])}. Rule, fixed "
            f"before the airbench runs: the claim {h['rule']}. Parts: {parts}.")


def starvation_text(kept: pd.DataFrame) -> str:
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
        seeds = ("seed " if len(diffs) == 1 else "seeds ") + " and ".join(str(k) for k in same["seeds"])
        runs = " and ".join(f"{a * 100:.2f}%" for a in same["variant"])
        by = " and ".join(f"{d * 100:+.2f}" for d in diffs)
        each = {1: "its one seed", 2: "both seeds"}.get(len(diffs), f"all {len(diffs)} seeds")
        few = ", too few to claim a difference" if len(diffs) < MIN_SEEDS else ""
        word = (f"the recipe is the more accurate on {each}{few}" if all(d < 0 for d in diffs) else
                f"the alternative is the more accurate on {each}{few}" if all(d > 0 for d in diffs) else
                f"the two tie on {each}" if all(d == 0 for d in diffs) else
                "the seeds disagree on which is the more accurate" if min(diffs) < 0 < max(diffs) else
                "neither is the more accurate on every seed")  # ties beside one direction
        out.append(f"With {variant_name(v)}, {seeds} reach{'es' * (len(diffs) == 1)} {runs} ({by} points against the "
                   f"recipe's runs of the same seeds): {word}.")
    return " ".join(out)


def _opening(text: str) -> str:
    """``text`` as it opens a sentence: its first letter a capital, the rest as written ("UCB"
    stays "UCB", where ``str.capitalize`` would write "Ucb"); a symbol stays as it is written
    ("ε-greedy", never "Ε-greedy")."""
    return (text[:1].upper() if text[:1].isascii() else text[:1]) + text[1:]


def _read(v: str | None) -> str:
    return "not run" if v is None else v


# --------------------------------------------------------------------------- the introduction

def published_text(claim: str, h: dict[str, Any]) -> str:
    """The published figure a claim's headline ``h`` is set beside, with its source."""
    if claim == "c1":
        return f"ρ = {h['published']:g} ({h['published_source']})" if h.get("published") is not None else "—"
    if claim == "c2":
        return "; ".join(f"{label(s)} minus random at 50% pruned: {_pp(p['published'])} points ({_source(p['published_source'])})"
                         for s, p in ordered_parts(h) if p["published"] is not None)
    e = h["effects"].get("random_dynamic_vs_full_at_0.8")
    return "—" if not e else (f"random dynamic minus full data at 80% pruned: about {_pp(e['published'])} points "
                              "(Raju et al., ResNet-18, 200 epochs); their text gives none for the two parts that "
                              "decide the claim")


def train_loss_title(label_smoothing: float) -> str:
    """The y-axis title of a training-loss curve: the loss the recipe trains on, label-smoothed
    where it smooths."""
    smoothed = f" with label smoothing {label_smoothing:g}" if label_smoothing else ""
    return f"training loss (cross-entropy{smoothed}, nats)"


UNSET = {"train_size": "all", "test_size": "all", "c1_images": "all", "predrop": "none",  # what None means
         "side_seeds": "as eval_seeds", "c3_side_selectors": "all not in c3_core"}


def value_text(v: Any, field: str = "") -> str:
    """A field's value as a reader writes it (MyST): lists without brackets or quotes, nothing as
    what it means for ``field`` (:data:`UNSET`, else "—"), booleans as yes and no, fractions such
    as 1/7 rounded, and names (of scores, selectors, variants: what a papermill parameter takes;
    every name in a list) as code."""
    if isinstance(v, (tuple, list)):
        return ", ".join(f"`{x}`" if isinstance(x, str) else value_text(x) for x in v) if v else "(none)"
    if v is None:
        return UNSET.get(field, "—")
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.6g}"
    return f"`{v}`" if isinstance(v, str) and ("_" in v or "=" in v) else str(v)


def profile_table(p: Profile) -> str:
    """The profile as a two-column MyST table (field, value) for display (:func:`value_text`)."""
    return "| field | value |\n|---|---|\n" + "".join(f"| `{k}` | {value_text(getattr(p, k), k)} |\n" for k in FIELDS)
