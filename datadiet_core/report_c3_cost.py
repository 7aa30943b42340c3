"""Chapter C3's cost in words and tables: wall-clock per run, speed-ups over full data (measured,
at matched throughput, and projected for sparser re-selection), training throughput, and the
period sweep (Raju et al. Fig. 2b, Fig. 23). It reads the summary and runs :mod:`c3` and
:mod:`c3_settings` compute; nothing here computes a result.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from . import ParameterError, c3
from .dynamic import period_passes
from .profiles import Profile, side_seeds
from .report import VARIANT_NAMES, _opening, cell, label
from .stats import summarize


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


def prune_table(runs: pd.DataFrame, epochs: int, prune: float = c3.AGGRESSIVE) -> pd.DataFrame:
    """Every selector run at ``rate`` and budget ``epochs``: accuracy (mean ± std across seeds, %),
    the seeds, seconds per run (the median across seeds, :func:`c3.seconds_per_run`; scoring passes
    included; scores and Table 1's sources charged separately), speed-up over full data, and the
    difference to random dynamic with its 95% interval (percentage points), and the training
    throughput (:func:`c3.training_throughput`), which tells runs timed on a faster host."""
    acc = c3.accuracy(runs, epochs)
    acc = acc[np.isclose(acc.prune, prune)]
    full = runs[(runs.epochs == epochs) & (runs.selector == "full")]
    full_s = c3.seconds_per_run(full.train_seconds)
    speed = c3.training_throughput(runs, epochs, prune)
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


# A selector's training rate more than this factor from full data's, either way, was timed apart
# from it (another host, or other work on the cores): its measured seconds compare timings too.
RATE_GAP = 1.25


def _rate_apart(ratio: float | pd.Series) -> bool | pd.Series:
    """Whether a training rate, as a multiple of full data's, is :data:`RATE_GAP` or more away."""
    return (ratio > RATE_GAP) | (ratio < 1 / RATE_GAP)


def throughput_drift_text(runs: pd.DataFrame, epochs: int, prune: float = c3.AGGRESSIVE) -> str:
    """The selectors of :func:`prune_table` whose training throughput is :data:`RATE_GAP` or more
    away from full data's, in words (empty when none): their seconds and speed-ups there compare
    timings as well as methods. Selective-Backprop and Random-Backprop are left out: they run a
    forward pass on every image of a batch and train on some, so their rate differs by design."""
    speed = c3.training_throughput(runs, epochs, prune)
    ratio = (speed / speed["full"]).drop(["full", "selective_backprop", "random_backprop"], errors="ignore")
    off = ratio[_rate_apart(ratio)]
    if not len(off):
        return ""
    names = "; ".join(f"{label(s)} {speed[s]:.0f} ({r:.2f}× full data's)" for s, r in off.items())
    return (f"Training throughput, scoring left out: full data {speed['full']:.0f} img/s; {_opening(names)}. The same "
            "net at the same batch size trains at about one rate on one machine, and runs timed apart can differ "
            "(another host, or other work on the cores), so for these rows the seconds and speed-ups compare timings "
            "as well as methods. \"What it costs\" below compares random dynamic and UCB at matched throughput.")


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
    if _rate_apart(ratio) and ratio < 1:
        text += (f" Timed apart, {name}'s runs ran slower than the full-data runs, so its measured speed-up "
                 f"understates what the method gives; at matched throughput it is {times(parts['matched'])}.")
    elif _rate_apart(ratio):
        text += (f" Timed apart, {name}'s runs ran faster than the full-data runs, so its measured speed-up "
                 f"overstates what the method gives; at matched throughput it is {times(parts['matched'])}.")
    return text


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
