"""Both regimes side by side: the headlines of every profile whose results the book sets together
(:data:`REGIMES`: the cpu profile's fast net for a few epochs, the airbench profile at the papers'
accuracy, both on 2 CPU cores), read from each ``results/<profile>/summary.json`` (never computed
here).

Owns the introduction's verdict table, one column per regime (:func:`verdict_table`), and, per
claim, the table of its headline in each regime (:func:`claim_table`) with the sentence that
says whether the regimes agree or the regime changes the answer (:func:`agreement`), and for a
regime whose headline rests on its headline's cells alone so far, what is still to run
(:func:`pending_text`); and C3's loss-driven selectors with the cause of their collapse in
every regime (:func:`collapse_table`). Every verdict comes from its chapter's own rule; nothing here re-judges a
result.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from .c2 import REGIME_PRUNE, restore_bug_checks, restore_bug_reading
from .c3 import CHANCE, CHANCE_FACTOR
from .c3_picks import SHOWN_BESIDE
from .models import NET_NAMES
from .profiles import PROFILES
from .report import (CLAIMS, CONVENTION, VARIANT_HEADINGS, VARIANT_NAMES, and_list, effect_text, label, ordered_parts, part_effect, parts_table, plural, _reading,
                     published_text, readings_text, variants_table, variants_text, verdict_phrase)
from .selection import VARIANT_SELECTORS
from .stats import FEW_SEEDS
from .store import read_summary

# The profiles whose committed results are set side by side: the short regime (the fast net for a
# few epochs) and the papers' accuracy (the airbench-class recipe), both computed on 2 CPU cores.
REGIMES = ("cpu", "airbench")


def regime_profiles(build: str) -> list[str]:
    """The profiles a book built with profile ``build`` shows: its own first, then :data:`REGIMES`."""
    return [build] + [p for p in REGIMES if p != build]


def read_summaries(profiles: list[str]) -> dict[str, dict[str, Any]]:
    """Each profile's ``summary.json`` (empty where none is committed), in the order given."""
    return {p: read_summary(p) for p in profiles}


def _headline(summaries: dict[str, dict[str, Any]], profile: str, claim: str) -> dict[str, Any] | None:
    return summaries.get(profile, {}).get(claim, {}).get("headline")


def _not_yet(summaries: dict[str, dict[str, Any]], profile: str, claim: str) -> str:
    """A regime without ``claim``'s headline: "not computed yet", with how many of the headline's runs
    are stored where ``summarize`` counted them (the summary's ``progress``), and the command for the rest."""
    p = summaries.get(profile, {}).get("progress", {}).get(claim)
    if not p:
        return "not computed yet"
    return (f"not computed yet: {p['stored']} of its headline's {p['runs']} runs are stored "
            f"({p['runs'] - p['stored']} to run: `{p['command']}`)")


# A part's name in the introduction's table, by claim and part.
SHORT_PARTS = {"grand_init": "GraNd@init not above random", "el2n_early": "EL2N early above random",
               "grand_early": "GraNd early above random",
               "random_dynamic_vs_el2n_static": "random dynamic above static EL2N",
               "random_dynamic_vs_random_static": "random dynamic above static random",
               "random_dynamic_vs_full_at_0.8": "random dynamic within 3.5 points of full data at 80%"}


def regime_name(profile: str, summaries: dict[str, dict[str, Any]]) -> str:
    """A regime as the introduction names it: profile, net, epochs and full-data accuracy."""
    setup = summaries.get(profile, {}).get("setup")
    if not setup:
        return f"`{profile}` (not computed yet)"
    net = f"{PROFILES[profile].model}, {PROFILES[profile].epochs} epochs, " if profile in PROFILES else ""
    return f"`{profile}`: {net}full data {setup['test_acc_mean'] * 100:.1f}%"


def _regime_cell(claim: str, h: dict[str, Any] | None, published: str, profile: str = "") -> str:
    """A regime's cell of the introduction's table; where its headline's published figure is not
    the row's ``published`` one (C1 on another net), the cell states the nearest published figure
    it is set beside. A C1 headline measured on another net than the regime's own (ResNet-18 for
    the fast-net regime) states the regime's own net beside it."""
    if not h:
        return "not computed yet"
    own = published_text(claim, h)
    if own != published:
        return _regime_cell(claim, h, own, profile) + f"<br>Nearest published figure: {own}."
    if "parts" in h:  # each part with its verdict and effect (points, 95% interval)
        parts = "".join(f"<br>{SHORT_PARTS.get(n, n)}: {_part_verdict(p)}, {part_effect(n, p)}" for n, p in ordered_parts(h))
        partial = (f"<br>*Stated from the headline's cells alone while the rest of its grid computes "
                   f"({plural(h['pending']['runs'], 'run')} to go).*" if h.get("pending") else "")
        return f"**{h['verdict']}**{parts}.<br>*Regime: {h['regime']}.*{partial}"
    text = f"**{h['verdict']}**<br>{h['effect_name'].split(' (')[0]}: {effect_text(claim, h)}. *Regime: {h['regime']}.*"
    mine = _own_net(profile, h) if claim == "c1" else None
    if mine:
        net, e = mine
        text += f"<br>This regime's own net, {net}: {e['verdict']}, {effect_text('c1', e)} ({e['images']:,} images)."
    return text


def _own_net(profile: str, h: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The regime's own net and its C1 effect, where the C1 headline ``h`` names another net
    (ResNet-18 for the fast-net regime); None where it names the regime's own or has no such effect."""
    net = PROFILES[profile].model if profile in PROFILES else h["model"]
    e = h.get("effects", {}).get(net)
    return None if net == h["model"] or not e else (net, e)


def _part_verdict(p: dict[str, Any]) -> str:
    """A part's verdict, and where its readings differ between fractions (what makes a part
    inconclusive, or fail at one fraction only), the reading at each; an inconclusive part read
    alike at every fraction says so (no detectable difference at any)."""
    readings = set(p["directions"].values())
    if len(readings) > 1:
        return f"{p['verdict']} ({readings_text(p['directions'])})"
    if p["verdict"] == "inconclusive" and len(p["directions"]) > 1:
        return f"inconclusive ({next(iter(readings))} at every fraction)"
    return p["verdict"]


def verdict_table(summaries: dict[str, dict[str, Any]]) -> str:
    """The introduction's verdict table (MyST markdown): one row per claim, the published figure,
    then one column per regime (profile, in the order of ``summaries``) with the headline its
    chapter computed (verdict; each part's verdict and effect with its 95% interval, or C1's effect;
    regime); a regime whose chapter has not run says so."""
    profiles = list(summaries)
    lines = ["| claim | published | " + " | ".join(regime_name(p, summaries) for p in profiles) + " |",
             "|---" * (2 + len(profiles)) + "|"]
    for key, (name, statement, doc) in CLAIMS.items():
        heads = [_headline(summaries, p, key) for p in profiles]
        # the claim's own published figure: that of a headline on the papers' net (C1: Kirsch's 0.963 for
        # ResNet-18) wherever one is computed, so that it does not change with the build's profile
        published = next((published_text(key, h) for h in heads if h and h.get("model") == PAPERS_NET), None) or \
            next((published_text(key, h) for h in heads if h), "—")
        lines.append(f"| [{name}](../{doc}.ipynb): {statement} | {published} | "
                     + " | ".join(_regime_cell(key, h, published, p) if h else _not_yet(summaries, p, key)
                                  for p, h in zip(profiles, heads)) + " |")
    return "\n".join(lines) + "\n"


def claim_table(claim: str, summaries: dict[str, dict[str, Any]], above: str | None = None) -> str:
    """The claim's headline in every regime (MyST markdown, shown whole: a data frame would cut
    the long cells): per regime its verdict and budget, then its parts (``report.parts_table``;
    C1: its effect). ``above``: the profile whose parts table the chapter has already shown, which
    is referred to, not repeated."""
    out = []
    for p in summaries:
        h = _headline(summaries, p, claim)
        if not h:
            out.append(f"**{regime_name(p, summaries)}**: {_not_yet(summaries, p, claim)}.\n")
            continue
        shown = p == above and "parts" in h
        v = h["verdict"]
        out.append(f"**`{p}`**: claim {CLAIMS[claim][0]} {verdict_phrase(v).replace(v, f'**{v}**')} at {h['regime']}"
                   + (" (its parts: the table above).\n" if shown else ".\n"))
        if shown:
            continue
        out.append(parts_table(claim, h) if "parts" in h else
                   f"{h['effect_name'].split(' (')[0]}: {effect_text(claim, h)}; published: {published_text(claim, h)}.\n")
        if h.get("pending"):
            out.append(pending_text(h) + "\n")
    return "\n".join(out)


PAPERS_NET = "resnet18"  # the papers' architecture
PAPERS_ACCURACY = 0.93  # a regime at or above this full-data accuracy is near the papers' (their nets: about 94-95%)


def build_note(claim: str, summaries: dict[str, dict[str, Any]], build: str) -> str:
    """Where the regime a chapter is built with stands beside the papers', and which regimes its
    last section sets beside it (computed: true whichever profile the book is built with)."""
    setup = summaries.get(build, {}).get("setup")
    acc = setup["test_acc_mean"] if setup else None
    where = ("not yet computed" if acc is None else f"{'near' if acc >= PAPERS_ACCURACY else 'short of'} the papers' "
             f"accuracy ({acc * 100:.1f}% on full data; their networks reach about 94-95%)")

    def other(p: str) -> str:
        c = summaries.get(p, {}).get("progress", {}).get(claim)
        return f"the {p} regime's" + ("" if _headline(summaries, p, claim) else " once its headline's runs are all "
                                      "committed" + (f" ({c['stored']} of {c['runs']} are)" if c else ""))
    others = [other(p) for p in summaries if p != build]
    return (f"This build's regime, {build}, is {where}" + (f"; the last section sets its verdict beside "
            f"{' and '.join(others)}." if others else "."))


def agreement(claim: str, summaries: dict[str, dict[str, Any]]) -> str:
    """Where the regimes that have a headline for ``claim`` agree and where the regime changes the
    answer, part by part, in plain text (a glued sentence is not parsed as markdown); regimes not
    computed yet are named as such."""
    name = CLAIMS[claim][0]
    have = {p: _headline(summaries, p, claim) for p in summaries}
    done = {p: h for p, h in have.items() if h}
    missing = [p for p, h in have.items() if not h]
    counts = {p: summaries.get(p, {}).get("progress", {}).get(claim) for p in missing}
    later = "".join(f" The {p} regime has no verdict on claim {name} yet: its headline's runs are not all committed"
                    + (f" ({c['stored']} of {c['runs']} stored)." if c else ".") for p, c in counts.items())
    if len(done) < 2:
        only = next(iter(done), None)
        return ((f"Only the {only} regime has a verdict on claim {name} so far, so this book cannot yet say "
                 "whether the regime changes the answer." if only else f"No regime has a verdict on claim {name} yet.")
                + later)
    nets = {h.get("model") for h in done.values()}
    if len(nets) > 1:  # C1: at initialisation no budget plays a part; the headlines differ by net
        return _net_agreement(name, done) + later
    text = (_agree(name, done) or f"The regime changes the answer on claim {name}: "
            + ", ".join(f"{h['verdict']} in {p}" for p, h in done.items())) + "."
    parts = [n for n, _ in ordered_parts(next(iter(done.values()))) if all(n in h.get("parts", {}) for h in done.values())]
    # a part agrees when its verdict and the set of its readings are the same in every regime (the
    # fractions themselves may differ between grids)
    same = [n for n in parts if len({(h["parts"][n]["verdict"], frozenset(h["parts"][n]["directions"].values()))
                                     for h in done.values()}) == 1]
    readings = [n for n in parts if n not in same and len({h["parts"][n]["verdict"] for h in done.values()}) == 1]
    differ = [n for n in parts if n not in same and n not in readings]
    if same:
        text += " Parts on which they agree: " + "; ".join(
            f"{SHORT_PARTS.get(n, n)} ({next(iter(done.values()))['parts'][n]['verdict']})" for n in same) + "."
    if readings:
        text += " Parts with one verdict but readings the regime changes: " + "; ".join(
            f"{SHORT_PARTS.get(n, n)}, {next(iter(done.values()))['parts'][n]['verdict']} (" + "; ".join(
                f"{p}: {readings_text(h['parts'][n]['directions'])}" for p, h in done.items()) + ")"
            for n in readings) + "."
    if differ:
        text += " Parts the regime changes: " + "; ".join(
            f"{SHORT_PARTS.get(n, n)} (" + ", ".join(f"{p}: {h['parts'][n]['verdict']}" for p, h in done.items()) + ")"
            for n in differ) + "."
    partial = [p for p, h in done.items() if h.get("pending")]
    if partial:
        text += (f" In {' and '.join(partial)}, the verdict rests on the headline cells alone so far, while the rest "
                 "of its grid computes.")
    return text + later


def _agree(name: str, done: dict[str, dict[str, Any]]) -> str:
    """The lead "The regimes agree: claim C… <verdict> in each" where every regime reached one
    verdict; empty where they differ."""
    words = {h["verdict"] for h in done.values()}
    return f"The regimes agree: claim {name} {verdict_phrase(words.pop())} in each" if len(words) == 1 else ""


def _net_agreement(name: str, done: dict[str, dict[str, Any]]) -> str:
    """Agreement where each regime's headline rests on another net at initialisation (C1): no
    training budget plays a part there, so what differs is the net, and the sentence says so."""
    def own(p: str, h: dict[str, Any]) -> str:  # the regime's own net, where the headline names another
        mine = _own_net(p, h)
        if not mine:
            return ""
        net, e = mine
        return f", and {e['verdict']} for {_net(net)}, the regime's own ({effect_text('c1', e)})"

    each = "; ".join(f"{h['verdict']} for {_net(h['model'])} in {p} ({effect_text('c1', h)}; "
                     f"published {_read_number(h.get('published'))}){own(p, h)}"
                     for p, h in done.items())
    lead = _agree(name, done) or f"The net, not the training budget, changes the answer on claim {name}"
    return (f"{lead}. Its headline is measured at initialisation, where no training budget plays a part, "
            f"on the net each regime's headline names: {each}.")


def _net(model: str) -> str:
    """A net as a sentence names it: "ResNet-18", "the airbench network" (as the chapters do)."""
    return NET_NAMES.get(model, f"the {model} network")


def _labels(names: list[str]) -> str:
    return and_list([label(n) for n in names])


def _epochs(v: list[int]) -> str:
    return f"{_labels([str(e) for e in v])} epoch{'s' * (v != [1])}"


def pending_text(h: dict[str, Any]) -> str:
    """What a C2 or C3 headline stated from its cells alone leaves to run (its ``pending``:
    :func:`headlines.pending`, read from the store), in a sentence with the number of runs and the
    command that computes them, after the side cells already stored but not yet read (its
    ``stored``, with the context of its own); "" for a whole grid."""
    p = h.get("pending")
    if not p:
        return ""
    other = next((c for b, c in CONVENTION.items() if b != p.get("c2_budget")), "")

    def rates(v: list[float]) -> str:
        return _labels([f"{r:.0%}" for r in v])

    def variants(v: list[str]) -> str:
        return "the diagnosis of the loss-driven selectors (each run " + " and ".join(VARIANT_NAMES[n] for n in v) + ")"

    def pieces(q: dict[str, Any]) -> dict[str, Callable[[Any], str]]:  # q: the values' own context (pending or stored)
        return {"c2_side_scores": lambda v: f"{_labels(v)} at 50% pruned",
                "c2_per_class": lambda v: f"per-class selection by {_labels(v)}",
                "c2_rule_scores": lambda v: f"the other selection rules for {_labels(v)}",
                "regime_epochs": lambda v: f"the regime map at {_epochs(v)}",
                "c2_budgets": lambda v: "every fraction under " + " and ".join(CONVENTION[b] for b in v),
                "c2_cross_scores": lambda v: f"{_labels(v)} at 50% pruned under {other}",
                "c3_core": lambda v: f"{_labels(v)} at {rates(q.get('c3_core_rates', []))} pruned",
                "c3_side_selectors": lambda v: f"{_labels(v)} at {rates(p.get('c3_side_rates', []))} pruned",
                "c3_iterations": lambda v: f"{_labels(v)} under equal iterations at 70% pruned",
                "c3_variants": variants,
                "table1_probes": lambda v: "Raju et al.'s Table 1 probes" + (
                    "" if p.get("c3_variants") else " (the diagnosis of the loss-driven selectors is stored: see its table)"),
                "c3_imbalanced_rates": lambda v: f"class-imbalanced CIFAR-10 at {rates(v)} pruned",
                "c3_periods": lambda v: f"the period sweep (re-selecting every {_labels([str(t) for t in v])} passes)",
                "c3_epochs": lambda v: f"the shorter budget{'s' * (len(v) > 1)} ({_epochs(v)})"}

    def sentences(q: dict[str, Any]) -> list[str]:
        return [f(q[k]) for k, f in pieces(q).items() if q.get(k)]

    todo, done = sentences(p), sentences(p.get("stored", {}))
    read = f"stored, compared once the rest is in: {'; '.join(done)}; " if done else ""
    runs = f"{plural(p['runs'], 'run')}: " if "runs" in p else ""
    return f"Stated from the headline's cells alone; {read}not yet complete: {'; '.join(todo)} ({runs}`{p['command']}`)."


# What each rule of c3_picks.collapse_summary found, as the cause sentence names it.
COLLAPSE_CAUSES = {"class_skew_is_the_cause": "class skew (selecting per class lifts every run at chance above chance)",
                   "first_selection_is_the_cause": "the first selection (making it at random lifts every run at chance "
                                                   "above chance)"}


def restore_bug_table(summaries: dict[str, dict[str, Any]]) -> str:
    """The restore-bug checks of chapter C2 at 50% pruned in every regime (MyST markdown), each
    beside the explanation's reading over every fraction the regime ran (:func:`c2.restore_bug_reading`)."""
    key = f"{REGIME_PRUNE:g}"
    lines = ["| regime | GraNd@init (restore bug) minus GraNd@init, 50% pruned | GraNd@init (restore bug) minus "
             "forgetting, 50% pruned | the restore-bug explanation |", "|---|---|---|---|"]
    for p in summaries:
        s = summaries[p].get("c2") or {}
        init, late = restore_bug_checks(s.get("checks") or {})
        if not (init and late):
            why = ("stored or computing, read once the grid is complete" if (s.get("headline") or {}).get("pending")
                   else "not computed yet" if not s else "not in this regime's grid")
            lines.append(f"| {regime_name(p, summaries)} | {why} | | |")
            continue
        reading = restore_bug_reading(s["checks"])
        lines.append(f"| {regime_name(p, summaries)} | {_reading(init.get(key))} | {_reading(late.get(key))} | "
                     + ("not read (fewer than 3 seeds)" if reading is None else reading) + " |")
    return "\n".join(lines) + "\n"


def _acc_cell(v: list[float] | None) -> str:
    """A test accuracy [mean, std, n] as "mean ± std % (n seeds)"; "not run" where the regime's grid
    has no such run."""
    return "not run" if not v else f"{v[0] * 100:.1f} ± {v[1] * 100:.1f}% ({plural(v[2], 'seed')})"


def _turnover_cell(c: dict[str, Any], selector: str) -> str:
    """A selector's class turnover as specified (:func:`c3_picks.class_turnover`) from a regime's
    collapse summary ``c``: "not run" where it has no such run, "not stored" where its runs were
    stored before runs kept their selections' classes."""
    if f"{selector}:as specified" not in c["acc"]:
        return "not run"
    t = (c.get("class_turnover") or {}).get(f"{selector}:as specified")
    return "not stored" if t is None else f"{t:.0%}"


def collapse_table(summaries: dict[str, dict[str, Any]]) -> str:
    """The loss-driven selectors at 70% pruned in every regime (MyST markdown), from each
    regime's ``c3.collapse`` (:func:`c3_picks.collapse_summary`): test accuracy as specified and
    in each diagnosis variant, the class turnover as specified (with :data:`c3_picks.SHOWN_BESIDE`
    as specified, where the regime's runs kept their classes), then per regime which cause its
    rules found, or that none did."""
    have = {p: summaries[p].get("c3", {}).get("collapse") for p in summaries}
    variants = [v for v in VARIANT_HEADINGS if any(k.split(":", 1)[1] == v for c in have.values() if c for k in c["acc"])]
    lines = ["| regime | selector | " + " | ".join(VARIANT_HEADINGS[v] for v in variants)
             + " | class turnover, as specified |", "|---" * (len(variants) + 3) + "|"]
    causes = []
    for p, c in have.items():
        name = regime_name(p, summaries)
        if not c:
            lines.append(f"| {name} | not computed yet |" + " |" * (len(variants) + 1))
            continue
        for sel in VARIANT_SELECTORS + tuple(s for s in SHOWN_BESIDE if f"{s}:as specified" in c["acc"]):
            lines.append(f"| {name} | {label(sel)} | " + " | ".join(_acc_cell(c["acc"].get(f"{sel}:{v}")) for v in variants)
                         + f" | {_turnover_cell(c, sel)} |")
        chance = [label(s) for s, at in c["at_chance"].items() if at]
        found = [why for key, why in COLLAPSE_CAUSES.items() if c.get(key)]
        few = any(r[3] == FEW_SEEDS for k, r in c.items() if k.endswith("_minus_as_specified"))
        causes.append(f"`{p}`: " + ("no selector ended at chance as specified" if not chance else
                                    f"{' and '.join(chance)} at chance as specified; cause: "
                                    + ("; ".join(found) if found else
                                       "not established (the variants' runs have fewer than 3 seeds: no interval)"
                                       if few else "not found by the variants run so far")))
    low = f"At chance means below {CHANCE_FACTOR * CHANCE:.0%} for some seed. "
    return "\n".join(lines) + "\n\n" + (low + ". ".join(causes) + ".\n" if causes else "")


def _read_number(v: float | None) -> str:
    return "none for this net" if v is None else f"{v:g}"


def recipe_variants(summaries: dict[str, dict[str, Any]], profile: str = "airbench") -> pd.DataFrame:
    """The recipe of regime ``profile`` beside the alternatives tried (:func:`report.variants_table`),
    from its committed setup summary; empty where that is not committed yet."""
    setup = summaries.get(profile, {}).get("setup")
    return variants_table(profile, setup, PROFILES[profile].epochs) if setup else pd.DataFrame()


def recipe_variants_text(summaries: dict[str, dict[str, Any]], profile: str = "airbench") -> str:
    """What the alternatives tried say of the recipe of regime ``profile`` (:func:`report.variants_text`),
    from its committed setup summary; a note where that is not committed yet."""
    setup = summaries.get(profile, {}).get("setup")
    return variants_text(setup) if setup else f"The {profile} regime's setup runs are not committed yet."


def setup_table(summaries: dict[str, dict[str, Any]]) -> str:
    """The full-data baseline of every regime (MyST markdown): net, epochs, accuracy (mean ± std
    across the scoring runs, with and without test-time augmentation where the recipe uses it),
    seconds and images per second of training, the machine."""
    lines = ["| regime | full-data test accuracy | without test-time augmentation | seeds | training s per run | "
             "img/s | machine |", "|---|---|---|---|---|---|---|"]
    for p in summaries:
        s = summaries[p].get("setup")
        if not s:
            lines.append(f"| {regime_name(p, summaries)} | | | | | | |")
            continue
        plain = (f"{s['test_acc_plain_mean'] * 100:.2f}% ± {s['test_acc_plain_std'] * 100:.2f}"
                 if "test_acc_plain_mean" in s else "(no test-time augmentation)")
        lines.append(f"| {regime_name(p, summaries)} | {s['test_acc_mean'] * 100:.2f}% ± {s['test_acc_std'] * 100:.2f} | "
                     f"{plain} | {s['seeds']} | {s['train_seconds_mean']:.0f} | {s['img_per_s_mean']:,.0f} | {s['device']} |")
    return "\n".join(lines) + "\n"

