"""Dynamic-selection runs (chapter C3): training that re-selects its subset as it goes.

Owns :func:`dynamic_run`, one store entry per (selector, fraction pruned, seed, budget,
period): static selectors train on one subset throughout, re-selecting ones (Raju et al.
Algorithm 1) pick a new subset every ``period`` passes from what they have seen, InfoBatch
re-draws every pass and Selective/Random-Backprop filter every batch. The selectors themselves
live in ``selection``; the grid of runs and what is concluded from them in ``c3``. Also what a
static selector's scores and Table 1's probes' source runs cost, charged to their runs
(:func:`charged_seconds`), and the fixed rows those probes train on, read from stored runs.
"""
from __future__ import annotations

import functools
import time
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import ParameterError
from .bank import scoring_pass_seconds, scoring_run_config, scoring_runs
from .devices import autocast_dtype
from .profiles import BUDGETS, Profile, side_seeds
from .runs import EVAL_SEED_OFFSET, run_config
from .selection import (PARAMS, SELECTORS, TABLE1_SELECTORS, InfoBatch, Selector, SelectiveBackprop,
                        UncertaintyEMA, make_selector, n_keep, top_k)
from .stats import selection_mixture
from .store import Record, Store
from .train import DeviceData, Hooks, device_data, logits_of, record_of, train

# The store key's hyperparameters: the selectors' (selection.PARAMS) and the re-selection period
# as a share of training (Raju et al.: T_p = 10 of 200 epochs).
RUN_PARAMS = {**PARAMS, "period": 0.05}
SCORED_SELECTORS = ("el2n_static", "forgetting_static", "el2n_epsilon_static")  # read the score bank
FIG5_PRUNE = 0.8  # Raju et al. Fig. 5: the runs at this fraction pruned evaluate after every pass
# The selectors whose last EMA score (``final_score``, one float64 per training row) a grid reads:
# C3's Table 1 probes are built from uncertainty-EMA runs. The other loss-driven selectors' final
# scores are read by nothing, so they are not stored (they were a third of the cpu store).
FINAL_SCORE_SELECTORS = ("uncertainty_ema",)
TABLE1_PRUNE = 0.7  # Raju et al. Table 1


def period_passes(epochs: int, keep: float = 1.0, budget: str = "epochs") -> int:
    """Passes over the kept subset between re-selections: 5% of training, at least one pass.
    Under equal iterations a run makes ``epochs / keep`` passes over a subset of ``keep``."""
    passes = epochs if budget == "epochs" else epochs / keep
    return max(1, round(RUN_PARAMS["period"] * passes))


def all_losses(model: nn.Module, P: Profile) -> np.ndarray:
    """Per-sample cross-entropy of the current model on every training row (eval mode, no
    augmentation): Raju et al. eq. 1, the scoring pass of the loss-driven selectors."""
    data = device_data(P)
    logits = logits_of(model, data.x_train, P.eval_batch_size, autocast_dtype(data.device, P.precision))
    return F.cross_entropy(logits, data.y_train, reduction="none").double().cpu().numpy()


def model_checks(model: nn.Module, losses: np.ndarray | None) -> np.ndarray:
    """What a divergence would show, at one re-selection: the largest loss of the scoring pass
    (inf if any was not finite; NaN where the selector ran no scoring pass), the largest |weight|,
    and the smallest and largest running variance of the BatchNorm layers (NaN when the net has none)."""
    weights = [p.detach().abs().max().item() for p in model.parameters()]
    bn = [m.running_var.detach() for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)
          and m.running_var is not None]
    loss_max = float("nan") if losses is None else float(np.max(losses)) if np.isfinite(losses).all() else float("inf")
    return np.array([loss_max, max(weights),
                     min(v.min().item() for v in bn) if bn else float("nan"),
                     max(v.max().item() for v in bn) if bn else float("nan")], np.float64)


CHECK_COLUMNS = ("loss_max", "weight_abs_max", "bn_var_min", "bn_var_max")  # columns of model_checks


def check_run(selector: object, prune: object, period: object) -> None:
    """One line naming the parameter unless selector, fraction pruned and period are valid."""
    if selector not in SELECTORS + TABLE1_SELECTORS:
        raise ParameterError(f"parameter 'selector' must be one of {', '.join(SELECTORS)}; got {selector!r}")
    if isinstance(prune, bool) or not isinstance(prune, (int, float)) or not 0 < prune < 1:
        raise ParameterError(f"parameter 'prune' must be a fraction in (0, 1); got {prune!r}")
    if period is not None and (isinstance(period, bool) or not isinstance(period, int) or period < 1):
        raise ParameterError(f"parameter 'period' must be None or an integer >= 1 (passes); got {period!r}")


def dynamic_config(P: Profile, selector: str, prune: float, eval_index: int, epochs: int | None = None,
                   fixed_tag: str = "", period: int | None = None, variant: str = "", budget: str = "epochs") -> dict:
    """The store key of :func:`dynamic_run` (the subset tag keeps its historical ``rate=``)."""
    Pe = P.replace(epochs=epochs or P.epochs)
    config = {**run_config(Pe, EVAL_SEED_OFFSET + eval_index, budget=budget,
                           subset=f"c3:{selector}:rate={prune:g}"),
              "c3": {**RUN_PARAMS, "selector": selector, "fixed": fixed_tag}}
    if selector in SCORED_SELECTORS:
        config["c3"]["scores_from"] = scoring_run_config(P, 0)
    if period is not None:  # only when given, so the entries of the main grid keep their keys
        config["c3"]["period_passes"] = period
    if variant:  # likewise
        config["c3"]["variant"] = variant
    return config


def dynamic_run(P: Profile, store: Store, selector: str, prune: float, eval_index: int, epochs: int | None = None,
                fixed: np.ndarray | None = None, fixed_tag: str = "", force: bool = False,
                period: int | None = None, bank: dict[str, np.ndarray] | None = None, variant: str = "",
                budget: str = "epochs") -> Record:
    """One run of chapter C3: ``selector`` prunes the fraction ``prune`` of the training set, for
    ``epochs`` passes over the kept subset (cost falls with the fraction), from a fresh seed;
    ``budget="iterations"``: as many steps as ``epochs`` passes over the full set.

    Re-selecting selectors pick a subset every ``period`` passes (default :func:`period_passes`,
    5% of training). ``fixed`` (named by ``fixed_tag``) is the always set of Raju et al.
    Table 1's probes; ``bank`` the score bank the static EL2N and forgetting selectors keep by;
    ``variant`` one of :data:`selection.VARIANTS` (the diagnosis of the loss-driven selectors).

    Stored: test accuracy, ``train_seconds`` (end to end, scoring passes included, evaluation
    excluded), ``scoring_seconds``, the per-pass history (with images seen) and how often each
    row was selected (``selection_counts`` over ``checkpoints`` selections: the stored name of
    the number of re-selections); for re-selecting selectors, the examples of each class in
    every selection (``selection_classes``, selections x classes) and :func:`model_checks` at
    every selection (``selection_checks``, columns :data:`CHECK_COLUMNS`); for
    :data:`FINAL_SCORE_SELECTORS`, the last EMA score of every row (``final_score``).
    """
    check_run(selector, prune, period)
    E = epochs or P.epochs
    Pe = P.replace(epochs=E)
    seed = EVAL_SEED_OFFSET + eval_index
    keep = 1.0 - prune
    if budget not in BUDGETS:
        raise ParameterError(f"parameter 'budget' must be one of {', '.join(BUDGETS)}; got {budget!r}")
    if budget == "iterations" and selector in ("infobatch", "selective_backprop", "random_backprop"):
        raise ParameterError(f"parameter 'selector' must re-select or keep a static subset under equal iterations; "
                             f"got {selector!r}")
    config = dynamic_config(P, selector, prune, eval_index, epochs, fixed_tag, period, variant, budget)

    def compute() -> tuple[dict, dict]:
        if selector in SCORED_SELECTORS and bank is None:
            raise ParameterError(f"parameter 'bank' must hold the score bank for selector {selector}")
        data = device_data(Pe)
        state = {"scoring": 0.0, "selections": 0, "last": None, "counts": np.zeros(data.n_train, np.int32),
                 "classes": [], "checks": [], "labels": data.y_train.cpu().numpy(), "num_classes": data.num_classes}
        if selector == "infobatch":
            hooks = _infobatch_hooks(Pe, data, prune, seed, state)
        elif selector in ("selective_backprop", "random_backprop"):
            hooks = _backprop_hooks(Pe, data, selector, keep, seed, state)
        else:
            chooser = make_selector(selector, data.n_train, keep, seed, bank, fixed, variant, state["labels"])
            hooks = Hooks(select=_reselect(chooser, Pe, period or period_passes(E, keep, budget), state))
        res = train(Pe, data, seed, budget=budget, checkpoints=(), hooks=hooks,
                    eval_every_epoch=abs(prune - FIG5_PRUNE) < 1e-9 and budget == "epochs")
        metrics, arrays = record_of(res, data.device, data.n_train)
        metrics.update(scoring_seconds=state["scoring"], checkpoints=state["selections"])
        arrays["selection_counts"] = state["counts"]
        if state["classes"]:
            arrays["selection_classes"] = np.stack(state["classes"]).astype(np.int32)
            arrays["selection_checks"] = np.stack(state["checks"])
        if state["last"] is not None and selector in FINAL_SCORE_SELECTORS:
            arrays["final_score"] = np.asarray(state["last"], np.float64)
        return metrics, arrays

    return store.cached("train", config, compute, force=force)


def unread_arrays(config: dict[str, Any]) -> tuple[str, ...]:
    """The arrays of the stored run with ``config`` that no grid reads (what ``store compact``
    drops): the final score of a selector outside :data:`FINAL_SCORE_SELECTORS`."""
    selector = config.get("c3", {}).get("selector")
    return ("final_score",) if selector is not None and selector not in FINAL_SCORE_SELECTORS else ()


def _reselect(chooser: Selector, P: Profile, every: int, state: dict[str, Any]
              ) -> Callable[[int, nn.Module], np.ndarray | None]:
    """The ``select`` hook of a re-selecting selector: every ``every`` passes, a scoring pass
    (timed as scoring) if the selector wants losses, then the new subset."""
    def select(pass_no: int, model: nn.Module) -> np.ndarray | None:
        if pass_no % every:
            return None
        losses = None
        if chooser.needs_losses:
            t = time.perf_counter()
            losses = all_losses(model, P)
            state["scoring"] += time.perf_counter() - t
        rows = chooser.select(losses)
        state["classes"].append(np.bincount(state["labels"][rows], minlength=state["num_classes"]))
        state["checks"].append(model_checks(model, losses))
        state["counts"][rows] += 1
        state["selections"] += 1
        if isinstance(chooser, UncertaintyEMA):
            state["last"] = chooser.score()
        return rows
    return select


def _infobatch_hooks(P: Profile, data: DeviceData, prune: float, seed: int, state: dict[str, Any]) -> Hooks:
    """InfoBatch (Qin et al.): re-draw every pass, rescale the kept low-loss rows' loss."""
    ib = InfoBatch(data.n_train, prune, RUN_PARAMS["delta"], P.epochs, seed)
    weight = torch.ones(data.n_train, device=data.device)

    def select(pass_no: int, model: nn.Module) -> np.ndarray:
        rows = ib.select(pass_no)
        weight.copy_(torch.as_tensor(ib.weight, dtype=torch.float32))
        state["counts"][rows] += 1
        state["selections"] += 1
        return rows
    return Hooks(select=select, loss_weight=lambda idx: weight[idx],
                 on_batch=lambda info: ib.record(info.indices.cpu().numpy(), info.loss.double().cpu().numpy()))


def _backprop_hooks(P: Profile, data: DeviceData, selector: str, keep: float, seed: int,
                    state: dict[str, Any]) -> Hooks:
    """Selective-Backprop (Jiang et al.) and its random control: filter every batch."""
    sb = SelectiveBackprop(keep, seed, random=selector == "random_backprop", history=RUN_PARAMS["sb_history"])
    amp = autocast_dtype(data.device, P.precision)

    def filt(idx: torch.Tensor, model: nn.Module) -> torch.Tensor:
        losses = None
        if not sb.random:  # a no-grad forward of the candidate batch, as the scoring pass does
            t = time.perf_counter()
            out = logits_of(model, data.x_train[idx], len(idx), amp)
            losses = F.cross_entropy(out, data.y_train[idx], reduction="none").cpu().numpy()
            state["scoring"] += time.perf_counter() - t
        mask = torch.as_tensor(sb.choose(losses, len(idx)), device=idx.device)
        kept = idx[mask]
        state["counts"][kept.cpu().numpy()] += 1
        return kept
    return Hooks(filter=filt, keep_fraction=keep)


def charged_seconds(P: Profile, store: Store) -> Callable[[str, int], float]:
    """What a run of a selector on evaluation seed ``i`` is charged, beside its own seconds, for
    what it needs before it can train (Raju et al. Fig. 2b): static EL2N@10% the first 10% of
    every scoring run plus its EL2N passes (the stored passes less their GraNd part, which EL2N
    does not need), static forgetting every scoring run; Table 1's always + static its seed's
    source run (:func:`table1_sources`), always + random every source run; 0 for the others.
    Each part is read from the store once, when first asked for."""
    @functools.cache
    def static() -> dict[str, float]:
        runs = scoring_runs(P, store)
        early = sum(P.early * r.metrics["train_seconds"] for r in runs) + scoring_pass_seconds(
            P, store, (P.early,), grand=False)
        return {"el2n_static": early, "el2n_epsilon_static": early,
                "forgetting_static": sum(r.metrics["train_seconds"] for r in runs)}

    @functools.cache
    def sources() -> tuple[float, ...]:
        return tuple(r.metrics["train_seconds"] for r in table1_sources(P, store))

    def charge(selector: str, eval_index: int) -> float:
        if selector == "always_plus_static":
            return sources()[eval_index]
        if selector == "always_plus_random":
            return float(sum(sources()))
        return static()[selector] if selector in SCORED_SELECTORS else 0.0
    return charge


# How table1_fixed tags an always + random probe whose "always" group overflowed half the kept
# budget, so that the most selected half-budget stands in for it (the chapter reads the tag).
HALF_BUDGET_TAG = "half-budget"

# Table 1's probes are built from uncertainty-EMA runs. As Raju et al. specify it, that selector
# ends at chance here (the chapter's diagnosis: class skew), and nothing may rest on a run at
# chance, so the probes are built from its per-class variant, which does not collapse.
TABLE1_SOURCE_VARIANT = "per_class"


def table1_sources(P: Profile, store: Store) -> list[Record]:
    """The stored per-class uncertainty-EMA runs at 70% pruned and the longest budget, one a side
    seed, that Table 1's fixed rows come from (:data:`TABLE1_SOURCE_VARIANT`); never computed."""
    reader = store.reader()
    return [dynamic_run(P, reader, "uncertainty_ema", TABLE1_PRUNE, i, max(P.c3_epochs), variant=TABLE1_SOURCE_VARIANT)
            for i in range(side_seeds(P))]


def table1_fixed(P: Profile, store: Store, selector: str, eval_index: int) -> tuple[np.ndarray, str]:
    """The fixed rows of Table 1's two runs, from :func:`table1_sources` (same budget)."""
    ref = table1_sources(P, store)
    if selector == "always_plus_static":  # top 30% by that seed's final EMA score: one static subset
        score = ref[eval_index].arrays["final_score"]
        return (top_k(score, n_keep(len(score), 1 - TABLE1_PRUNE)),
                f"top-k final EMA score of per-class seed {eval_index}")
    counts = np.sum([r.arrays["selection_counts"] for r in ref], axis=0)
    always = np.flatnonzero(selection_mixture(counts)["group"] == 2)
    k = n_keep(len(counts), 1 - TABLE1_PRUNE)
    if len(always) > k // 2:  # too few checkpoints to separate the groups: the most selected half-budget
        final = np.mean([r.arrays["final_score"] for r in ref], axis=0)
        always = np.sort(np.lexsort((final, counts))[::-1][: k // 2])
        return always, f"{HALF_BUDGET_TAG} of most selected rows of {len(ref)} per-class uncertainty-EMA runs"
    return always, f"always set of {len(ref)} per-class uncertainty-EMA runs"
