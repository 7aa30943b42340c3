"""C3's other settings, each beside the main grid: the period sweep (Raju et al. App., Fig. 23),
equal iterations (every run as many steps as full data) and class-imbalanced CIFAR-10 (their
§4.5). Each reads its own part of :class:`c3.Runs`; :func:`add_settings` puts them into the
chapter's summary with their verdicts.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .c3 import (AGGRESSIVE, IMBALANCE, IMBALANCED_COMPARISONS, PERIOD_SELECTORS, Runs, accuracy, difference,
                 goal_met, reading, seconds_per_run, speedup)
from .dynamic import period_passes
from .profiles import Profile
from .stats import per_fraction, summarize
from .train import device_data


def add_settings(P: Profile, runs: Runs, summary: dict[str, Any]) -> dict[str, Any]:
    """``summary`` (:func:`c3.summary`) with a section per other setting that ran: ``iterations``,
    ``imbalanced`` (and its verdict ``imbalanced_ucb_vs_random_dynamic``) and ``period_sweep``
    (main-period rows only without a sweep; its verdicts)."""
    out = dict(summary)
    if len(runs.iterations):
        out["iterations"] = iterations_summary(P, runs.iterations)
    if len(runs.imbalanced):
        out["imbalanced"] = imbalanced_summary(P, runs.imbalanced)
        out["verdict"] = {**out["verdict"],
                          "imbalanced_ucb_vs_random_dynamic": out["imbalanced"]["verdict"]["ucb_vs_random_dynamic"]}
    out["period_sweep"] = period_sweep(P, runs.main, runs.periods)
    out["verdict"] = {**out["verdict"], **out["period_sweep"]["verdict"]}
    return out


def period_sweep(P: Profile, runs: pd.DataFrame, sweep: pd.DataFrame) -> dict[str, Any]:
    """Raju et al.'s period sweep (App., Fig. 23) at 70% pruned and the longest budget: for each
    of :data:`PERIOD_SELECTORS` and each period T (passes between re-selections; the main grid's
    :func:`dynamic.period_passes` first), accuracy (mean, std), the measured and the throughput-matched
    speed-up over full data with scoring included, and the difference to the same selector at
    the main period with Welch's 95% interval.

    Verdicts, fixed before the runs: ``<selector>_every_<T>_vs_every_<main>``: the direction
    of that difference (or ``at chance``); ``speedup_goal_met_every_<T>``: UCB
    re-selecting every T passes is at least 2.5x faster than full data, measured and matched.
    """
    E = max(P.c3_epochs)
    main = period_passes(E)
    d = runs[runs.epochs == E]
    sw = sweep[(sweep.epochs == E) & np.isclose(sweep.prune, AGGRESSIVE)] if len(sweep) else d.iloc[:0].assign(period=0)
    tagged = pd.concat([d, sw.assign(selector=sw.selector + "@" + sw.period.astype(str))], ignore_index=True)
    rows, verdict = [], {}
    for s in PERIOD_SELECTORS:
        for T in [main] + sorted(set(sw.period) - {main}):
            name = s if T == main else f"{s}@{T}"
            g = tagged[(tagged.selector == name) & np.isclose(tagged.prune, AGGRESSIVE)]
            if not len(g):
                continue
            acc = summarize(g.test_acc)
            speed = speedup(tagged, E, name)
            row = {"selector": s, "period": int(T), "acc_mean": acc.mean, "acc_std": acc.std,
                   "selections": float(g.selections.mean()), "train_seconds": seconds_per_run(g.train_seconds),
                   "scoring_seconds": seconds_per_run(g.scoring_seconds),
                   "speedup_measured": speed["measured"], "speedup_matched": speed["matched"],
                   "diff": None, "lo": None, "hi": None}  # the reference row: no difference to itself
            if T != main:
                c = difference(tagged, name, s, E)
                c = c[np.isclose(c.prune, AGGRESSIVE)]
                row.update(diff=float(c["diff"].iloc[0]), lo=float(c.lo.iloc[0]), hi=float(c.hi.iloc[0]))
                verdict[f"{s}_every_{T}_vs_every_{main}"] = reading(c)
                if s == "ucb":
                    verdict[f"speedup_goal_met_every_{T}"] = goal_met([row["speedup_measured"], row["speedup_matched"]])
            rows.append(row)
    return {"epochs": E, "prune": AGGRESSIVE, "main_period": main, "rows": rows, "verdict": verdict}


ITERATION_COMPARISONS = (("random_dynamic", "random_static"), ("random_dynamic", "el2n_static"),
                         ("ucb", "random_dynamic"))


def iterations_summary(P: Profile, results: pd.DataFrame) -> dict[str, Any]:
    """C3 under equal iterations (``c3.iterations`` in ``summary.json``): at 70% pruned, every run
    takes as many steps as a full-data run, so a static subset is passed over ``1 / 0.3`` times as
    often as under equal epochs (as in Raju et al.'s 200 epochs). Accuracy and final training
    accuracy on the kept subset per selector, each run's accuracy in seed order (``runs``, so a cell
    whose spread comes from one seed shows it), and :data:`ITERATION_COMPARISONS` (a minus b, Welch's
    95% interval, read by :func:`reading`)."""
    E = max(P.c3_epochs)
    acc = accuracy(results, E)
    full = summarize(results[results.selector == "full"].test_acc)
    fit = results[results.selector != "full"].groupby("selector").train_acc_end.mean()
    cmp = {f"{a}_vs_{b}": difference(results, a, b, E) for a, b in ITERATION_COMPARISONS}
    return {"epochs": E, "prune": AGGRESSIVE, "acc_mean": per_fraction(acc, "mean"), "acc_std": per_fraction(acc, "std"),
            "seeds": {r.score: int(r.seeds) for _, r in acc.iterrows()}, "full": [full.mean, full.std, full.n],
            "train_acc_end": {k: float(v) for k, v in fit.items()},
            "runs": {k: [float(a) for a in g.sort_values("seed").test_acc] for k, g in
                     results[(results.epochs == E) | (results.selector == "full")].groupby("selector")},
            "comparisons": {n: {f"{r.prune:g}": [r["diff"], r["lo"], r["hi"], r["direction"], bool(r["chance"])]
                                for _, r in c.iterrows()} for n, c in cmp.items() if len(c)},
            "verdict": {n: reading(c) for n, c in cmp.items()}}


def imbalanced_summary(P: Profile, results: pd.DataFrame) -> dict[str, Any]:
    """C3's second setting (``c3.imbalanced`` in ``summary.json``): accuracy per selector and fraction
    on class-imbalanced CIFAR-10 at the longest budget, full data, and ``<a>_beats_<b>`` verdicts
    by the rule of :func:`summary` (above zero at some fraction >= 0.7, below at none). Raju et al.
    (Fig. 8a) report UCB above random dynamic there at fractions above 50%."""
    E = max(P.c3_epochs)
    acc = accuracy(results, E)
    full = summarize(results[(results.epochs == E) & (results.selector == "full")].test_acc)
    out: dict[str, Any] = {
        "acc_mean": per_fraction(acc, "mean"), "acc_std": per_fraction(acc, "std"), "imbalance": IMBALANCE, "epochs": E,
        "n_train": device_data(P.replace(imbalance=IMBALANCE)).n_train}
    out["acc_mean"]["full"], out["acc_std"]["full"] = full.mean, full.std
    out["verdict"] = {f"{a}_vs_{b}": reading(difference(results, a, b, E)) for a, b in IMBALANCED_COMPARISONS}
    return out
