"""Training runs through the result store: the store key of a run, one run computed once and
then read back, and reading a stored run's history and checkpoints.

Owns :func:`run_config` (what determines a run's outcome, hence its key) and :func:`run`. The
training loop itself is :func:`train.train`; this module only stores it. Above it, ``bank``
keeps the scoring runs every claim shares, ``dynamic`` the runs that re-select their subset.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any, Callable

import numpy as np
import pandas as pd

from . import MissingResults, ParameterError
from .profiles import PROFILES, Profile, as_dict
from .scores import Forgetting
from .store import Record, Store
from .train import Hooks, device_data, record_of, train

TRAIN_FIELDS = ("dataset", "train_size", "test_size", "model", "epochs", "batch_size", "lr", "momentum",
                "nesterov", "weight_decay", "lr_milestones", "lr_gamma", "warmup", "augment", "precision")

# The airbench-class recipe's fields (profiles.Profile): in a key only where they differ from their
# defaults, so every entry stored before the recipe existed keeps its key.
RECIPE_FIELDS = ("augment_mode", "schedule", "lr_peak", "decoupled", "bias_lr_scale", "whiten_bias_epochs",
                 "lookahead", "label_smoothing", "tta")
_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Profile)}

CHECKPOINTS = "ckpt/"  # the prefix of a stored run's checkpoint arrays: ckpt/<fraction>/<parameter>

# Evaluation runs (pruned, dynamic, their full-data references) use seeds 1000, 1001, ...:
# never a scoring run's seed, so no evaluation run shares an initialisation with a score.
EVAL_SEED_OFFSET = 1000


def run_config(profile: Profile, seed: int, budget: str = "iterations", subset: str = "full",
               checkpoints: tuple[float, ...] = (), forgetting: bool = False) -> dict:
    """Everything that determines a training run's outcome: the store key's content.

    The device and the profile's name are left out on purpose, so a GPU host reuses (or
    reproduces) the same entries as a CPU host for the same configuration.
    """
    cfg = {k: getattr(profile, k) for k in TRAIN_FIELDS}
    cfg["lr_milestones"] = list(cfg["lr_milestones"])
    if profile.imbalance != "none":  # only when set, so the entries stored before it keep their keys
        cfg["imbalance"] = profile.imbalance
    cfg |= {k: getattr(profile, k) for k in RECIPE_FIELDS if getattr(profile, k) != _DEFAULTS[k]}
    return {**cfg, "seed": seed, "budget": budget, "subset": subset, "checkpoints": list(checkpoints),
            "forgetting": forgetting}


def subset_digest(rows: np.ndarray) -> str:
    """What a run's key holds of the rows it trains on: the first 16 hex digits of the sha256 of
    the indices as int64."""
    return hashlib.sha256(np.asarray(rows, dtype=np.int64).tobytes()).hexdigest()[:16]


def run(profile: Profile, seed: int, store: Store, *, subset: np.ndarray | None = None,
        subset_tag: str = "full", budget: str = "iterations", checkpoints: tuple[float, ...] = (),
        forgetting: bool = False, force: bool = False, eval_every_epoch: bool = True) -> Record:
    """A training run through the result store: computed once, then read back (a read-only
    store raises :class:`MissingResults` instead of computing).

    Stored metrics: final test accuracy and loss, steps, images seen, seconds, img/s, the device.
    Stored arrays: the per-epoch history (``history/<column>``), the requested checkpoints
    (``ckpt/<fraction>/<parameter>``) and, with ``forgetting``, the forgetting score of every
    training row (``forgetting``; ``inf`` = never learned). ``subset_tag`` must identify
    ``subset`` uniquely; the sha256 of the indices is added to the key so two subsets can never
    share an entry. ``eval_every_epoch=False`` evaluates at the end only (not part of the key: the
    final accuracy is the same, the history has NaN in its other passes).
    """
    if subset is not None:
        subset_tag = f"{subset_tag}:{subset_digest(subset)}"
    config = run_config(profile, seed, budget, subset_tag, checkpoints, forgetting)

    def compute() -> tuple[dict, dict]:
        data = device_data(profile)
        tracker = Forgetting(data.n_train, data.device) if forgetting else None
        hooks = Hooks(on_batch=tracker.on_batch) if tracker else None
        res = train(profile, data, seed, subset=subset, budget=budget, checkpoints=checkpoints, hooks=hooks,
                    eval_every_epoch=eval_every_epoch)
        metrics, arrays = record_of(res, data.device, len(subset) if subset is not None else data.n_train)
        if tracker is not None:
            arrays["forgetting"] = tracker.scores()
        return metrics, arrays

    return store.cached("train", config, compute, force=force)


def history_frame(record: Record) -> pd.DataFrame:
    """The per-epoch history of a stored run as a DataFrame (one row per epoch)."""
    cols = {k.split("/", 1)[1]: v for k, v in record.arrays.items() if k.startswith("history/")}
    return pd.DataFrame(cols).assign(seed=record.config["seed"])


def final_train_acc(record: Record) -> float:
    """A stored run's training accuracy over its last pass (on the rows it trained on then,
    augmented): near 1 when the net fits its subset, which says which regime a cell is in."""
    acc = record.arrays.get("history/train_acc")
    return float(acc[-1]) if acc is not None and len(acc) else float("nan")


def checkpoint_state(record: Record, fraction: float) -> dict[str, np.ndarray]:
    """The stored checkpoint at ``fraction`` of training, ready for :func:`train.load_state`."""
    prefix = f"{CHECKPOINTS}{fraction:g}/"
    state = {k[len(prefix):]: v for k, v in record.arrays.items() if k.startswith(prefix)}
    if not state and CHECKPOINTS in record.dropped:
        raise MissingResults(f"the checkpoints of {record.path.name} were dropped when its store was compacted "
                             "(its scores are stored); recompute the run with force=True to get them back")
    if not state:
        raise ParameterError(f"parameter 'fraction' must be one of the run's checkpoints "
                             f"{record.config['checkpoints']}; got {fraction}")
    return state


# --------------------------------------------------------------------------- reading a claim's grid

def sweep_command(claim: str, P: Profile) -> str:
    """The command that computes ``claim``'s grid for ``P`` (with ``--set`` for every field that
    differs from the named profile's)."""
    base = as_dict(PROFILES[P.name]) if P.name in PROFILES else {}
    changed = {k: v for k, v in as_dict(P).items() if k != "name" and base.get(k) != v}
    extra = f" --set '{json.dumps(changed, separators=(',', ':'))}'" if changed else ""
    return f"python -m datadiet_core sweep {claim} --profile {P.name}{extra}"


def partition(specs: list[Any], read: Callable[[Any], Record]) -> tuple[list[tuple[Any, Record]], list[Any]]:
    """The specs ``read`` finds in a read-only store, each with its record, and the specs it does
    not (:class:`MissingResults`), both in the order given."""
    out, missing = [], []
    for spec in specs:
        try:
            out.append((spec, read(spec)))
        except MissingResults:
            missing.append(spec)
    return out, missing


def read_grid(claim: str, P: Profile, specs: list[Any], read: Callable[[Any], Record]) -> list[tuple[Any, Record]]:
    """``read(spec)`` for every spec of a claim's grid from a read-only store; when any entry is
    missing, one :class:`MissingResults` line that counts them, names the first and gives the
    sweep command that computes them."""
    out, missing = partition(specs, read)
    if missing:
        first = getattr(missing[0], "label", str(missing[0]))
        raise MissingResults(f"{len(missing)} of {len(specs)} runs of {claim} are not in the store (first: "
                             f"{first}); compute them with: {sweep_command(claim, P)}")
    return out
