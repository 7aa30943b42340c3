"""What chapter C3's selectors pick, read from their stored runs: how often each example was
selected (Raju et al. Fig. 3), accuracy against images seen (Fig. 5), per-pass histories, the
classes in each selection, and the diagnosis of why the loss-driven selectors collapse.

Owns the read-only analyses of the dynamic runs; the grid, the comparisons and the verdicts
are :mod:`c3`'s.
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator

import numpy as np
import pandas as pd

from . import MissingResults
from .c3 import (AGGRESSIVE, CHANCE, CHANCE_FACTOR, TABLE1_PRUNE, TABLE1_SOURCE_VARIANT, Runs, grid, run_spec,
                 seconds_per_run)
from .data import load_dataset
from .dynamic import CHECK_COLUMNS, FIG5_PRUNE
from .profiles import Profile
from .runs import history_frame
from .selection import DYNAMIC_SELECTORS, STATIC_SELECTORS, TABLE1_SELECTORS, VARIANT_SELECTORS
from .stats import compare, selection_mixture, summarize
from .store import Record, Store
from .train import device_data


def selection_counts(P: Profile, store: Store, selector: str = "uncertainty_ema", prune: float = TABLE1_PRUNE,
                     variant: str = "") -> dict[str, Any]:
    """How often each sample was selected, summed over seeds (Raju et al. Fig. 3), with the
    three-component mixture fit, for ``selector`` (and ``variant``) at ``prune`` and the longest
    budget (read only)."""
    recs = _runs_of(P, store, selector, prune, variant)
    counts = np.sum([r.arrays["selection_counts"] for r in recs], axis=0)
    total = int(sum(r.metrics["checkpoints"] for r in recs))
    return {"counts": counts, "selections": total, "runs": len(recs), "mixture": selection_mixture(counts)}


def samples_seen(P: Profile, store: Store, prune: float = FIG5_PRUNE) -> pd.DataFrame:
    """Test accuracy against images seen during training at ``prune`` (Raju et al. Fig. 5): full
    data, the static and the dynamic selectors, every seed, the longest budget (read only)."""
    E = max(P.c3_epochs)
    reader = store.reader()
    keep = [s for s in grid(P) if s.epochs == E and s.imbalance == "none" and not s.period and not s.variant
            and s.budget == "epochs" and (s.selector == "full" or (s.prune == prune and s.selector in STATIC_SELECTORS + DYNAMIC_SELECTORS))]
    return pd.concat([_with_images_seen(P, history_frame(run_spec(P, reader, s))).assign(selector=s.selector)
                      for s in keep], ignore_index=True)


def _with_images_seen(P: Profile, history: pd.DataFrame) -> pd.DataFrame:
    """``history`` with images seen after each pass: as recorded, or for a run that trains on full
    batches of the whole set and records none (the full-data runs are the scoring runs), its
    steps times the batch size."""
    if "images_seen" in history and history.images_seen.notna().all():
        return history
    return history.assign(images_seen=history.step * P.batch_size)


def histories(P: Profile, store: Store, prune: float, selectors: Iterable[str]) -> pd.DataFrame:
    """The per-pass history (training loss and accuracy on the current selection, images seen)
    of every seed of ``selectors`` at ``prune`` and the longest budget, with selector and seed."""
    return pd.concat([history_frame(r).assign(selector=s, seed=i) for s in selectors
                      for i, r in enumerate(_runs_of(P, store, s, prune))], ignore_index=True)


def selected_per_class(P: Profile, store: Store, prune: float, selectors: Iterable[str]) -> pd.DataFrame:
    """Examples of each class in the selection, averaged over re-selections and seeds, for
    ``selectors`` at ``prune`` and the longest budget (a loss-driven selection can starve or flood
    classes, as score-ordered static subsets do)."""
    classes = load_dataset(P.dataset).classes
    y = device_data(P).y_train.cpu().numpy()
    out = []
    for s in selectors:
        recs = _runs_of(P, store, s, prune)
        counts = np.sum([r.arrays["selection_counts"] for r in recs], axis=0)
        per = np.bincount(y, weights=counts, minlength=len(classes)) / sum(r.metrics["checkpoints"] for r in recs)
        out += [{"selection": s, "class": classes[c], "count": int(round(n))} for c, n in enumerate(per)]
    return pd.DataFrame(out)


def _runs_of(P: Profile, store: Store, selector: str, prune: float, variant: str = "") -> list[Record]:
    """Every seed's stored run of ``selector`` at ``prune`` and the longest budget (main grid, or
    the collapse diagnosis's ``variant``), as the grid has them."""
    E = max(P.c3_epochs)
    reader = store.reader()
    return [run_spec(P, reader, s) for s in grid(P) if s.selector == selector and np.isclose(s.prune, prune)
            and s.epochs == E and s.variant == variant and s.imbalance == "none" and not s.period
            and s.budget == "epochs"]


def table1_source(P: Profile) -> str:
    """The variant of uncertainty EMA that the always/sometimes analysis reads: per class where the
    profile's grid runs it (as specified, that selector collapsed at the cpu budget), else as specified."""
    return TABLE1_SOURCE_VARIANT if TABLE1_SOURCE_VARIANT in P.c3_variants else ""


# Table 1's source runs read as slowed by something other than the method when their median
# throughput is below this share of every group of runs that selects the same way.
SLOWED_SHARE = 0.5


def table1_source_timing(runs: Runs, epochs: int, prune: float = TABLE1_PRUNE) -> dict[str, Any]:
    """Training throughput (images trained on per second of training, scoring passes included) of
    Table 1's source runs (uncertainty EMA per class) beside the runs that select the same way at
    the same rate and budget: uncertainty EMA as specified, and every other selector per class
    (``peers``, keyed by (selector, variant)); ``slowed`` when the sources' median is below
    :data:`SLOWED_SHARE` of every peer group's; and each probe's speed-up over full data as charged
    and with every source run charged at the median seconds of uncertainty EMA as specified
    (``at_plain``). Empty where the profile runs no probes or no source runs."""
    if not len(runs.variants):
        return {}
    full = runs.main[(runs.main.epochs == epochs) & (runs.main.selector == "full")]
    main, var = ([d[(d.epochs == epochs) & np.isclose(d.prune, prune)] for d in (runs.main, runs.variants)])
    var = var[var.variant == TABLE1_SOURCE_VARIANT]
    src, probes = var[var.selector == "uncertainty_ema"], main[main.selector.isin(TABLE1_SELECTORS)]
    if not len(src) or not len(probes):
        return {}
    rate = lambda d: (d.images_seen / d.train_seconds).tolist()  # noqa: E731
    plain = main[main.selector == "uncertainty_ema"]
    peers = {("uncertainty_ema", ""): rate(plain)}
    peers |= {(sel, TABLE1_SOURCE_VARIANT): rate(g) for sel, g in var[var.selector != "uncertainty_ema"].groupby("selector")}
    peers = {k: v for k, v in peers.items() if v}
    plain, full = seconds_per_run(plain.train_seconds), seconds_per_run(full.train_seconds)
    out = {}
    for sel, g in probes.groupby("selector", sort=False):
        sources = 1 if sel == "always_plus_static" else len(src)
        out[sel] = {"charged": full / seconds_per_run(g.wallclock_s),
                    "at_plain": full / (seconds_per_run(g.train_seconds) + sources * plain)}
    sources = rate(src)
    return {"sources": sources, "peers": peers, "plain_seconds": plain, "probes": out,
            "slowed": bool(peers) and all(np.median(sources) < SLOWED_SHARE * np.median(v) for v in peers.values())}


# --------------------------------------------------------------------------- the collapse diagnosis

COLLAPSE_SELECTORS = VARIANT_SELECTORS  # the loss-driven selectors diagnosed, as specified and in each variant
# Beside them, where its runs kept the classes of every selection (the airbench grid's do; the cpu
# store's older records do not): random dynamic, the even mix a re-selection keeps when no score
# steers it.
SHOWN_BESIDE = ("random_dynamic",)


def _diagnosed(P: Profile, store: Store, prune: float) -> Iterator[tuple[str, str, Record, np.ndarray | None]]:
    """Every run of the collapse diagnosis at ``prune`` and the longest budget, and of
    :data:`SHOWN_BESIDE` where its runs kept their classes: (selector, variant name, record, class
    shares of every selection: selections x classes; None for a diagnosed run stored before runs
    kept them, the cpu grid's epsilon-greedy as specified, whose accuracy is still read)."""
    runs = [(s, v, _runs_of(P, store, s, prune, v)) for s in COLLAPSE_SELECTORS for v in ("",) + tuple(P.c3_variants)]
    for s in SHOWN_BESIDE:
        try:
            runs.append((s, "", _runs_of(P, store, s, prune)))
        except MissingResults:  # not stored yet (the grid computes it later): the diagnosis does not wait
            pass
    for s, v, recs in runs:
        for rec in recs:
            per = rec.arrays.get("selection_classes")
            if per is None and s in SHOWN_BESIDE:
                continue  # shown for its classes alone, and these were not kept
            yield s, v or "as specified", rec, None if per is None else per / per.sum(1, keepdims=True)


def class_shares(P: Profile, store: Store, prune: float = AGGRESSIVE) -> pd.DataFrame:
    """The share of each class in every selection of every seed, for the top-k loss selectors
    (as Raju et al. specify them and in each variant of ``P.c3_variants``) and :data:`SHOWN_BESIDE`
    (as specified, where stored), at ``prune`` and the longest budget: one row per (selector,
    variant, seed, selection, class)."""
    classes = load_dataset(P.dataset).classes
    return pd.DataFrame([{"selector": s, "variant": v, "seed": rec.config["seed"], "selection": i + 1,
                          "class": classes[c], "share": float(share[i, c])}
                         for s, v, rec, share in _diagnosed(P, store, prune) if share is not None
                         for i in range(share.shape[0]) for c in range(share.shape[1])])


def class_turnover(share: np.ndarray) -> float:
    """How much of a selection moves to other classes from one re-selection to the next: the
    total-variation distance between consecutive selections' class shares, ½ Σ_c |s_{t+1,c} − s_{t,c}|,
    averaged over t (``share``: selections x classes, rows summing to 1). 0 when every selection
    keeps the same class mix, 1 when each swaps its classes for others; NaN for one selection."""
    if share.ndim != 2 or share.shape[0] < 2:
        return float("nan")
    return float(0.5 * np.abs(np.diff(share, axis=0)).sum(axis=1).mean())


def divergence_checks(P: Profile, store: Store, prune: float = AGGRESSIVE) -> pd.DataFrame:
    """Per run of :func:`class_shares`: final accuracy, whether every training loss of the
    history and every scoring-pass loss was finite, the largest |weight| and the range of the
    BatchNorm running variances over all selections (:func:`dynamic.model_checks`), the largest
    share of one class in the first selection, the smallest share of any class in any, and the
    :func:`class_turnover` between selections. A selection made without a scoring pass has no
    scoring loss to check (:func:`dynamic.model_checks` writes NaN, a non-finite loss inf); a run
    stored before runs kept their selections' classes and checks has NaN in those columns."""
    rows = []
    nan = float("nan")
    for s, v, rec, share in _diagnosed(P, store, prune):
        kept = rec.arrays.get("selection_checks")
        checks = pd.DataFrame(np.full((1, len(CHECK_COLUMNS)), nan) if kept is None else kept, columns=list(CHECK_COLUMNS))
        loss = history_frame(rec)["train_loss"]
        scored = checks.loss_max.dropna()  # NaN: no scoring pass at that selection (random dynamic scores none)
        rows.append({"selector": s, "variant": v, "seed": rec.config["seed"], "test_acc": rec.metrics["test_acc"],
                     "finite": bool(np.isfinite(loss).all() and np.isfinite(scored).all()),
                     "weight_abs_max": float(checks.weight_abs_max.max()),
                     "bn_var_min": float(checks.bn_var_min.min()), "bn_var_max": float(checks.bn_var_max.max()),
                     "first_max_share": nan if share is None else float(share[0].max()),
                     "min_share": nan if share is None else float(share.min()),
                     "class_turnover": nan if share is None else class_turnover(share)})
    return pd.DataFrame(rows)


# The verdict each diagnosis variant (selection.VARIANTS) writes into the collapse summary.
CAUSE = {"per_class": "class_skew_is_the_cause", "random_first": "first_selection_is_the_cause"}


def collapse_summary(P: Profile, checks: pd.DataFrame) -> dict[str, Any]:
    """The diagnosis in numbers (``summary.json`` section ``c3.collapse``), by rules fixed before
    the variant runs:

    * ``diverged``: some run of :func:`divergence_checks` had a non-finite loss;
    * ``acc`` and ``class_turnover``: per ``selector:variant``, the test accuracy [mean, std, n]
      and the mean :func:`class_turnover` over seeds;
    * ``at_chance``: per selector as specified, some seed ended at chance (below
      :data:`c3.CHANCE_FACTOR` times chance accuracy);
    * ``<selector>_<variant>_minus_as_specified``: [diff, lo, hi, direction] (Welch);
    * ``class_skew_is_the_cause`` (where the grid runs ``per_class``): for every selector at
      chance as specified, the per-class variant is above it and none of its seeds is at chance;
    * ``first_selection_is_the_cause``: the same for the variant whose first selection is random
      (``random_first``; written with the airbench grid, before its runs).
    """
    d = checks.rename(columns={"test_acc": "acc"})
    low = CHANCE_FACTOR * CHANCE
    out: dict[str, Any] = {"diverged": bool(not d.finite.all()), "prune": AGGRESSIVE, "epochs": max(P.c3_epochs)}
    acc = {f"{s}:{v}": [summarize(g.acc).mean, summarize(g.acc).std, int(len(g))] for (s, v), g in d.groupby(["selector", "variant"])}
    out["acc"] = acc
    out["class_turnover"] = {f"{s}:{v}": float(g.class_turnover.mean()) for (s, v), g in d.groupby(["selector", "variant"])
                             if g.class_turnover.notna().all()}  # not for runs stored without their classes
    out["at_chance"] = {s: bool((d[(d.selector == s) & (d.variant == "as specified")].acc < low).any())
                        for s in VARIANT_SELECTORS}
    cause: dict[str, list[bool]] = {v: [] for v in CAUSE}
    for s in VARIANT_SELECTORS:
        for v in P.c3_variants:
            c = compare(d.assign(prune=AGGRESSIVE), {"selector": s, "variant": v}, {"selector": s, "variant": "as specified"},
                        value="acc")
            if len(c):
                r = c.iloc[0]
                out[f"{s}_{v}_minus_as_specified"] = [float(r["diff"]), float(r.lo), float(r.hi), r.direction]
        if out["at_chance"][s]:
            for v in cause:
                g = d[(d.selector == s) & (d.variant == v)]
                key = f"{s}_{v}_minus_as_specified"
                cause[v].append(bool(len(g)) and key in out and out[key][3] == "above" and bool((g.acc >= low).all()))
    for v in P.c3_variants:  # a verdict on a variant only where the grid runs it
        out[CAUSE[v]] = bool(cause[v]) and all(cause[v])
    return out
