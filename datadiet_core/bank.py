"""The shared runs every claim reads: the full-data scoring runs and the score bank.

- The *scoring runs* (seeds ``0 .. scoring_seeds - 1``, full data) are the accuracy baseline of
  the training-setup chapter and the source of every trained score. Each keeps checkpoints at
  initialisation, at ``early`` (10%) and at the end, and counts forgetting events.
- A *score entry* (store kind ``scores``) holds GraNd and EL2N of every example of one split
  under one model: a fresh initialisation of a seed, or a scoring run's checkpoint.
- The *score bank* (:func:`score_bank`) is every static-pruning score of the training rows,
  averaged over the scoring runs: what C2 prunes by, C3's static selectors keep, and C1
  correlates. It only reads: the sweep computes its entries first and loads it once per stage.
- How far the scoring runs had learned where each trained score is taken
  (:func:`early_checkpoint`, read from their per-epoch history).

Because the scoring runs' checkpoints are the one thing a store can do without once their
scores are stored, this module also says how a store is slimmed and carried between hosts:
:func:`compact`, :func:`export_results` and :func:`import_results`.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd
import torch
from torch import nn

from . import DataError, ParameterError, scores, transfer
from .models import channels_last
from .profiles import Profile, first_drop, parse_variant
from .runs import CHECKPOINTS, checkpoint_state, history_frame, read_grid, run, run_config
from .stats import summarize
from .store import SUMMARY, Record, Store
from .train import device_data, init_model, load_state

SCORE_NAMES = ("grand", "el2n")  # the arrays of a score entry
CHECKPOINT_NAMES = {0.0: "init", 1.0: "end"}


def checkpoint_label(when: float) -> str:
    return CHECKPOINT_NAMES.get(when, f"{when:.0%} of training")


# --------------------------------------------------------------------------- scoring runs

def scoring_run_config(P: Profile, seed: int) -> dict[str, Any]:
    """The store configuration of :func:`scoring_run` (what trained scores are keyed on)."""
    return run_config(P, seed, checkpoints=(0.0, P.early, 1.0), forgetting=True)


def checkpoint_profile(P: Profile, when: float) -> Profile:
    """The profile whose scoring runs hold checkpoint ``when``: ``P`` itself for init, ``P.early``
    and the end; for ``P.predrop``, the second set of scoring runs (the same seeds and training,
    checkpointed at ``P.predrop`` in place of ``P.early``)."""
    if P.predrop is not None and when == P.predrop:
        return P.replace(early=P.predrop, predrop=None)
    return P


def scoring_run(P: Profile, seed: int, store: Store, force: bool = False) -> Record:
    """One full-data scoring run: checkpoints at init, ``P.early`` and the end, forgetting events."""
    return run(P, seed, store, checkpoints=(0.0, P.early, 1.0), forgetting=True, force=force)


def baseline_history(records: list[Record]) -> pd.DataFrame:
    """Per-epoch history of every run, one row per (seed, epoch)."""
    return pd.concat([history_frame(r) for r in records], ignore_index=True)


def baseline_summary(records: list[Record]) -> dict[str, Any]:
    """Headline numbers of the full-data runs: accuracy across seeds, time and throughput; where
    the recipe evaluates with test-time augmentation, also the accuracy without it
    (``test_acc_plain_*``)."""
    acc = summarize([r.metrics["test_acc"] for r in records])
    out = {"test_acc_mean": acc.mean, "test_acc_std": acc.std, "test_acc_p16": acc.p16,
           "test_acc_p84": acc.p84, "seeds": acc.n,
           "train_seconds_mean": float(np.mean([r.metrics["train_seconds"] for r in records])),
           "img_per_s_mean": float(np.mean([r.metrics["img_per_s"] for r in records])),
           "device": records[0].metrics["device"]}
    if all("test_acc_plain" in r.metrics for r in records):
        plain = summarize([r.metrics["test_acc_plain"] for r in records])
        out |= {"test_acc_plain_mean": plain.mean, "test_acc_plain_std": plain.std}
    return out


def variants_summary(P: Profile, store: Store) -> dict[str, Any]:
    """Each setup variant (``P.setup_variants``) beside the recipe, by variant: :func:`baseline_summary`
    of its runs, and ``same_seeds``: its test accuracy and the recipe's scoring run of the same
    seed (the same initialisation and batch order), seed by seed (the recipe's own evaluation).
    Two seeds give no interval: the chapter shows the runs. Empty without variants."""
    if not P.setup_variants:
        return {}
    recipe = {r.config["seed"]: r.metrics["test_acc"] for r in scoring_runs(P, store)}
    out = {}
    for v, recs in variant_runs(P, store).items():
        seeds = [r.config["seed"] for r in recs]
        same = {"seeds": seeds, "variant": [r.metrics["test_acc"] for r in recs], "recipe": [recipe[s] for s in seeds]}
        out[v] = baseline_summary(recs) | {"same_seeds": same}
    return out


# --------------------------------------------------------------------------- scores of one model

def scored_model(P: Profile, store: Store, seed: int, when: float, model_name: str | None = None) -> nn.Module:
    """The model whose scores we take, in eval mode: at ``when == 0`` the seed's fresh
    initialisation (rebuilt: identical to the scoring run's first checkpoint, and free for any
    number of seeds), else the scoring run's checkpoint at ``when``."""
    data = device_data(P)
    name = model_name or P.model
    model = init_model(name, data, seed)
    if when > 0:
        if name != P.model:
            raise ParameterError(f"parameter 'model_name' must be the profile's model {P.model!r} for "
                                 f"trained checkpoints; got {name!r}")
        Q = checkpoint_profile(P, when)
        rec = scoring_run(Q, seed, store)
        if CHECKPOINTS in rec.dropped:  # a compacted store keeps the scores, not the weights
            rec = scoring_run(Q, seed, store, force=True)
        load_state(model, checkpoint_state(rec, when))
    return channels_last(model).eval()


def split_tensors(P: Profile, split: str, images: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The normalised, un-augmented ``split`` ('train' or 'test') of the profile's data, first
    ``images`` examples (all if None)."""
    if split not in ("train", "test"):
        raise ParameterError(f"parameter 'split' must be train or test; got {split!r}")
    data = device_data(P)
    x, y = (data.x_train, data.y_train) if split == "train" else (data.x_test, data.y_test)
    n = x.shape[0] if images is None else min(images, x.shape[0])
    return x[:n], y[:n]


def score_config(dataset: str, train_size: int | None, test_size: int | None, model: str, seed: int,
                 when: float, split: str, images: int | None, run: dict[str, Any] | None) -> dict[str, Any]:
    """The store key of a score entry: what determines the model (the seed's initialisation, or
    ``run``, the scoring run's configuration, and the checkpoint ``when``) and the data scored."""
    config: dict[str, Any] = {"dataset": dataset, "train_size": train_size, "test_size": test_size,
                              "model": model, "seed": seed, "when": float(when), "split": split,
                              "images": images, "scores": list(SCORE_NAMES)}
    if run is not None:
        config["run"] = run
    return config


def model_scores(P: Profile, store: Store, seed: int, when: float, split: str,
                 model_name: str | None = None, images: int | None = None, force: bool = False) -> Record:
    """GraNd and EL2N of every example of ``split`` under one model, through the store.

    The key holds what determines the model (the seed's initialisation, or the full training
    configuration of the scoring run and the checkpoint) and the data scored.
    """
    name = model_name or P.model
    config = score_config(P.dataset, P.train_size, P.test_size, name, seed, when, split, images,
                          scoring_run_config(checkpoint_profile(P, when), seed) if when > 0 else None)

    def compute() -> tuple[dict, dict]:
        model = scored_model(P, store, seed, when, name)
        x, y = split_tensors(P, split, images)
        x = channels_last(x, model)
        t0 = time.perf_counter()
        g = scores.grand(model, x, y)
        t_grand = time.perf_counter() - t0
        e = scores.el2n(model, x, y)
        return ({"n": int(x.shape[0]), "grand_seconds": t_grand, "grand_img_s": x.shape[0] / t_grand},
                {"grand": g.float().cpu().numpy(), "el2n": e.float().cpu().numpy()})

    return store.cached("scores", config, compute, force=force)


def per_seed(P: Profile, store: Store, seeds: Iterable[int], when: float, split: str, score: str,
             model_name: str | None = None, images: int | None = None) -> np.ndarray:
    """One score under several models, read from the store: a [K, N] array, row k from seed k
    (kept per seed so the book can show how rankings settle as K grows)."""
    reader = store.reader()
    return np.stack([model_scores(P, reader, s, when, split, model_name, images).arrays[score] for s in seeds])


def input_norms(P: Profile, split: str, images: int | None = None) -> np.ndarray:
    """``||x||_2`` of every normalised example of ``split`` (float64)."""
    x, _ = split_tensors(P, split, images)
    return scores.input_norm(x).double().cpu().numpy()


# --------------------------------------------------------------------------- the sweep's shared stages

@dataclass(frozen=True)
class ScoringSpec:
    """One scoring run (stage 0 of every claim's sweep); ``when``: its checkpoint between init and
    the end (None: ``P.early``; else ``P.predrop``, see :func:`checkpoint_profile`)."""

    seed: int
    when: float | None = None
    needs_bank = False

    @property
    def label(self) -> str:
        return f"scoring run seed={self.seed}" + ("" if self.when is None else f" (checkpoint at {self.when:.0%})")


@dataclass(frozen=True)
class ScoreSpec:
    """One score entry: GraNd and EL2N of ``split`` (first ``images``, all if None) of ``dataset``
    under ``model`` with ``seed``, at ``when`` (0: fresh initialisation) of its scoring run."""

    dataset: str
    model: str
    seed: int
    when: float
    split: str = "train"
    images: int | None = None
    needs_bank = False

    @property
    def label(self) -> str:
        part = "" if self.images is None else f" (first {self.images})"
        return (f"scores {self.model} seed={self.seed} at {checkpoint_label(self.when)}, "
                f"{self.dataset} {self.split}{part}")


VARIANT_SEEDS = 2  # full-data runs per setup variant (profile field setup_variants)


@dataclass(frozen=True)
class VariantSpec:
    """A full-data run of the profile with one training field changed (``P.setup_variants``): an
    alternative the training-setup chapter sets beside the chosen recipe."""

    variant: str
    seed: int
    needs_bank = False

    @property
    def label(self) -> str:
        return f"setup variant {self.variant} seed={self.seed}"


def variant_profile(P: Profile, variant: str) -> Profile:
    """``P`` with the field of ``variant`` (``"field=value"``) changed."""
    name, value = parse_variant(variant)
    return P.replace(**{name: value})


def variant_stages(P: Profile) -> list[list[VariantSpec]]:
    """The training-setup chapter's own stage: every setup variant on :data:`VARIANT_SEEDS` seeds."""
    return [[VariantSpec(v, s) for v in P.setup_variants for s in range(VARIANT_SEEDS)]]


def variant_runs(P: Profile, store: Store) -> dict[str, list[Record]]:
    """The setup variants' runs, read from the store, by variant."""
    reader = store.reader()
    got = read_grid("setup", P, variant_stages(P)[0], lambda spec: run_spec(P, reader, spec))
    out: dict[str, list[Record]] = {}
    for spec, rec in got:
        out.setdefault(spec.variant, []).append(rec)
    return out


def stages(P: Profile) -> list[list[ScoringSpec | ScoreSpec]]:
    """The shared stages every claim's sweep starts with: the scoring runs, then GraNd/EL2N of
    the training split at initialisation, ``P.early`` and the end of each (the score bank); with
    ``P.predrop`` set, also the second set of scoring runs and their scores at ``P.predrop``."""
    seeds = range(P.scoring_seeds)
    whens = (0.0, P.early, 1.0) + (() if P.predrop is None else (P.predrop,))
    return [[ScoringSpec(s) for s in seeds] + ([] if P.predrop is None else [ScoringSpec(s, P.predrop) for s in seeds]),
            [ScoreSpec(P.dataset, P.model, s, w) for s in seeds for w in whens]]


def run_spec(P: Profile, store: Store, spec: ScoringSpec | ScoreSpec | VariantSpec, force: bool = False) -> Record:
    """Compute ``spec`` into the store (what the sweep calls)."""
    if isinstance(spec, VariantSpec):
        return run(variant_profile(P, spec.variant), spec.seed, store, force=force)
    if isinstance(spec, ScoringSpec):
        return scoring_run(P if spec.when is None else checkpoint_profile(P, spec.when), spec.seed, store, force)
    return model_scores(P.replace(dataset=spec.dataset), store, spec.seed, spec.when, spec.split, spec.model,
                        spec.images, force)


# --------------------------------------------------------------------------- reading them back

def scoring_runs(P: Profile, store: Store) -> list[Record]:
    """The full-data scoring runs, seeds ``0 .. P.scoring_seeds - 1``, read from the store
    (never computed here: a missing one raises :class:`MissingResults` with the sweep command)."""
    reader = store.reader()
    got = read_grid("setup", P, [s for s in stages(P)[0] if s.when is None], lambda spec: run_spec(P, reader, spec))
    return [rec for _, rec in got]



def score_bank(P: Profile, store: Store) -> dict[str, np.ndarray]:
    """Every static-pruning score of the training rows, averaged over the scoring runs (read only).

    ``grand_init_restore_bug`` is GraNd "at initialisation" computed the way the 2021 code did
    by accident (Kirsch 2023 §3): Flax restored the *latest* checkpoint when asked for step 0,
    so it is GraNd of each scoring run's final checkpoint.
    """
    reader = store.reader()
    got = dict(read_grid("setup", P, [spec for stage in stages(P) for spec in stage],
                         lambda spec: run_spec(P, reader, spec)))  # every entry read (and verified) once

    def mean(when: float, score: str) -> np.ndarray:
        return np.mean([rec.arrays[score] for spec, rec in got.items()
                        if isinstance(spec, ScoreSpec) and spec.when == when], axis=0)

    runs = [rec for spec, rec in got.items() if isinstance(spec, ScoringSpec) and spec.when is None]
    out = {"input_norm": input_norms(P, "train"),
           "grand_init": mean(0.0, "grand"), "grand_early": mean(P.early, "grand"),
           "el2n_early": mean(P.early, "el2n"),
           "forgetting": np.mean([r.arrays["forgetting"] for r in runs], axis=0),
           "grand_init_restore_bug": mean(1.0, "grand")}
    if P.predrop is not None:
        out |= {"grand_predrop": mean(P.predrop, "grand"), "el2n_predrop": mean(P.predrop, "el2n")}
    return out


def scoring_pass_seconds(P: Profile, store: Store, when: Iterable[float], grand: bool = True) -> float:
    """Wall-clock seconds of the training-split GraNd/EL2N passes at checkpoints ``when`` of every
    scoring run, read from the store; ``grand=False``: without their GraNd part (what EL2N alone
    costs: the model's restore and one forward pass)."""
    reader = store.reader()
    recs = [model_scores(P, reader, s, w, "train") for s in range(P.scoring_seeds) for w in when]
    return float(sum(r.manifest.get("wall_seconds", 0.0) - (0.0 if grand else r.metrics.get("grand_seconds", 0.0))
                     for r in recs))


def compact(store: Store, P: Profile | None = None,
            unread: Callable[[dict[str, Any]], tuple[str, ...]] | None = None) -> dict[str, int]:
    """Rewrite every entry of ``store`` compressed at its smallest exact dtypes, and drop the
    checkpoints of each scoring run whose training-split scores at every trained checkpoint are
    stored (what the book reads; a score asked of a dropped checkpoint recomputes the run). With
    the profile ``P``, its pre-drop scoring runs need only their scores at ``P.predrop`` (the
    bank reads nothing else of them). ``unread(config)`` names more arrays of a training run that
    no grid reads, to drop too (``dynamic.unread_arrays``). Keys, configurations, metrics and
    timings stay. Returns counts of rewritten entries and of runs whose checkpoints were dropped."""
    reads: dict[Path, tuple[float, ...]] = {}
    if P is not None and P.predrop is not None:
        Q = checkpoint_profile(P, P.predrop)
        reads = {store.path("train", scoring_run_config(Q, s)): (P.predrop,) for s in range(P.scoring_seeds)}
    done = {"rewritten": 0, "checkpoints_dropped": 0}
    for kind in sorted(p.name for p in store.root.iterdir() if p.is_dir()) if store.root.is_dir() else []:
        for rec in store.entries(kind):
            cfg, drop = rec.config, ()
            if kind == "train" and cfg.get("forgetting") and any(w > 0 for w in cfg.get("checkpoints", [])):
                scored = [store.get("scores", score_config(cfg["dataset"], cfg["train_size"], cfg["test_size"],
                                                           cfg["model"], cfg["seed"], w, "train", None, cfg))
                          for w in reads.get(rec.path, [w for w in cfg["checkpoints"] if w > 0])]
                if all(r is not None for r in scored) and CHECKPOINTS not in rec.dropped:
                    drop = (CHECKPOINTS,)
                    done["checkpoints_dropped"] += 1
            if kind == "train" and unread is not None:
                drop += unread(cfg)
            store.rewrite(rec, drop)
            done["rewritten"] += 1
    return done


def export_results(store: Store, out: str | Path, part_mb: float, P: Profile | None = None,
                   unread: Callable[[dict[str, Any]], tuple[str, ...]] | None = None) -> Path:
    """Write the entries of ``store`` (and its ``summary.json``, if any) into ``out`` in parts of
    at most ``part_mb`` MiB, compacted on the way (:func:`compact`, with ``P`` and ``unread`` if
    given: checkpoints whose scores are stored and unread arrays left out); ``store`` itself is not
    changed. Returns the parts index."""
    transfer.check_part_mb(part_mb)
    if not store.root.is_dir():
        raise ParameterError(f"parameter 'profile' has no results to export at {store.root}")
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / store.root.name
        shutil.copytree(store.root, copy)
        compact(Store(copy), P, unread)
        return transfer.export_parts(transfer.tree(copy), out, f"results-{store.root.name}", part_mb)


def import_results(index: str | Path, store: Store) -> dict[str, int]:
    """Unpack results exported by :func:`export_results` beside ``store``, verify every entry
    (checksums of manifest and arrays), and only then move into ``store`` the entries it lacks
    (and ``summary.json``, if the export has one). Returns counts of entries added and already
    present. A damaged entry stops the import with one line, and nothing is moved."""
    store.root.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=store.root.parent, prefix=".import-") as tmp:
        files = transfer.import_parts(index, tmp)
        incoming = Store(tmp)
        manifests = [f for f in files if f.name == "manifest.json"]
        entries = [rec for kind in sorted({f.parent.parent.name for f in manifests}) for rec in incoming.entries(kind)]
        if len(entries) != len(manifests):
            raise DataError(f"{len(manifests) - len(entries)} of {len(manifests)} entries in {index} fail "
                            "verification; nothing was imported")
        added = 0
        for rec in entries:
            target = store.root / rec.path.parent.name / rec.path.name
            if store.get(rec.manifest["kind"], rec.config) is None:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.rmtree(target, ignore_errors=True)
                os.rename(rec.path, target)
                added += 1
        if (Path(tmp) / SUMMARY).exists():
            os.replace(Path(tmp) / SUMMARY, store.root / SUMMARY)
    return {"added": added, "present": len(entries) - added}


def early_checkpoint(P: Profile, store: Store) -> dict[str, float | None]:
    """Where the "early" scores are taken, against how far learning had got (read from the scoring
    runs' per-epoch history): the checkpoints ``P.early`` and ``P.predrop`` in epochs, where the
    learning rate starts to fall in epochs (``profiles.first_drop``), and the mean test accuracy
    at the end of the first epoch, at ``P.early`` (:func:`accuracy_at`: a bound where it falls
    between evaluations), at the last epoch before the drop, at ``P.predrop`` (from its own
    scoring runs; None when it is not at the end of an epoch or not set) and at the end. Paul et al.'s epoch 20 of 200 comes long after
    the first epoch and before their first drop (epoch 60)."""
    acc = baseline_history(scoring_runs(P, store)).groupby("epoch").test_acc.mean()
    drop = first_drop(P) * P.epochs
    before = acc[acc.index <= drop]
    out: dict[str, float | None] = {
        "early": P.early, "early_epoch": P.early * P.epochs, "first_drop_epoch": drop,
        "test_acc_epoch_1": float(acc.iloc[0]), "last_epoch_before_drop": float(before.index[-1]) if len(before) else 0.0,
        "test_acc_before_drop": float(before.iloc[-1]) if len(before) else float("nan"),
        "test_acc_end": float(acc.iloc[-1]), "predrop": P.predrop, "predrop_epoch": None, "test_acc_predrop": None,
        "test_acc_early": accuracy_at(acc, P.early * P.epochs)}
    if P.predrop is not None:
        Q = checkpoint_profile(P, P.predrop)
        at = P.predrop * P.epochs
        acc_q = baseline_history([scoring_run(Q, s, store.reader()) for s in range(P.scoring_seeds)]
                                 ).groupby("epoch").test_acc.mean()
        out["predrop_epoch"] = at
        out["test_acc_predrop"] = float(acc_q.loc[int(at)]) if float(at).is_integer() and int(at) in acc_q.index else None
    return out


def accuracy_at(acc: pd.Series, epoch: float) -> list[float]:
    """Test accuracy (by epoch, from the per-epoch evaluations) at ``epoch``: [a, a] where an
    evaluation fell there, else the bound [lo, hi] of the evaluations either side (the end of the
    epoch before, NaN before the first, and the end of the epoch after)."""
    if float(epoch).is_integer() and epoch in acc.index:
        return [float(acc.loc[epoch])] * 2
    before, after = acc[acc.index < epoch], acc[acc.index > epoch]
    a = float(before.iloc[-1]) if len(before) else float("nan")
    b = float(after.iloc[0]) if len(after) else float("nan")
    return [min(a, b), max(a, b)] if len(before) else [float("nan"), b]
