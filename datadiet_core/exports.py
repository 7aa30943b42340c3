"""Scores a researcher can take away, and subsets on demand (read only: nothing is computed).

- :func:`export_scores` writes every static score of a profile's score bank, for every CIFAR-10
  training example in the dataset's own order with its label, in two open formats: a compressed
  ``scores.npz`` (numpy) and a gzipped ``scores.csv.gz`` (pandas), plus ``manifest.json``: the
  dataset's digests, the profile, net and epochs, for each score the checkpoint it comes from,
  the test accuracy the scoring nets had there and how many runs or initialisations it averages,
  and every file's sha256. Each score appears as its mean (``<score>``) and per run
  (``<score>__run<k>``, the run's seed ``k``).
- :func:`subset` gives the training rows the C2 grid keeps for a score, a fraction pruned, a
  rule and (for random) an evaluation seed: the same call :func:`c2.pruned_run` makes.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import MissingResults, ParameterError
from .bank import accuracy_at, checkpoint_label, per_seed, score_bank, scoring_runs
from .c2 import pruned_subset
from .data import CIFAR10_SHA256, load_dataset, sha256_array
from .profiles import Profile
from .runs import EVAL_SEED_OFFSET, history_frame, sweep_command
from .selection import STATIC_SCORES
from .store import Store
from .train import device_data

FILES = ("scores.npz", "scores.csv.gz", "manifest.json")
# What the book shows a reader: a C1 score-correlation row recomputed from the files alone (pandas
# and scipy, no datadiet_core); tests run these very lines against the summary.
RECOMPUTE = """import pandas as pd
from scipy.stats import spearmanr
s = pd.read_csv("scores.csv.gz")
print(spearmanr(s.grand_early, s.el2n_early).statistic)  # C1's row "GraNd early vs EL2N early"
"""
# What each exported score is (Methods gives the equations).
DEFINITIONS = {
    "input_norm": "||x||_2 of the normalised image (no augmentation)",
    "grand_init": "GraNd: ||grad of the cross-entropy over all trained parameters||_2, at initialisation",
    "grand_init_c1": "GraNd at initialisation, averaged over the C1 chapter's initialisations",
    "grand_early": "GraNd at the early checkpoint",
    "el2n_early": "EL2N: ||softmax(f(x)) - onehot(y)||_2 (not squared) at the early checkpoint",
    "forgetting": "forgetting events over the whole run (correct -> wrong per minibatch); never learned = inf",
    "grand_init_restore_bug": "GraNd at the last checkpoint: what the 2021 code computed when asked for step 0",
    "grand_predrop": "GraNd at the pre-drop checkpoint",
    "el2n_predrop": "EL2N at the pre-drop checkpoint",
}


def _bank_runs(P: Profile, store: Store) -> dict[str, tuple[np.ndarray, float | None, list[int]]]:
    """Every exported score per run: name -> ([K, N] per run, checkpoint as a fraction of training
    or None, seeds)."""
    seeds = list(range(P.scoring_seeds))
    out: dict[str, tuple[np.ndarray, float | None, list[int]]] = {
        "grand_init": (per_seed(P, store, seeds, 0.0, "train", "grand"), 0.0, seeds),
        "grand_early": (per_seed(P, store, seeds, P.early, "train", "grand"), P.early, seeds),
        "el2n_early": (per_seed(P, store, seeds, P.early, "train", "el2n"), P.early, seeds),
        "forgetting": (np.stack([r.arrays["forgetting"] for r in scoring_runs(P, store)]), None, seeds),
        "grand_init_restore_bug": (per_seed(P, store, seeds, 1.0, "train", "grand"), 1.0, seeds),
    }
    if P.predrop is not None:
        out["grand_predrop"] = (per_seed(P, store, seeds, P.predrop, "train", "grand"), P.predrop, seeds)
        out["el2n_predrop"] = (per_seed(P, store, seeds, P.predrop, "train", "el2n"), P.predrop, seeds)
    inits = list(range(P.inits))
    try:  # the C1 chapter's initialisations, where its sweep has run
        out["grand_init_c1"] = (per_seed(P, store, inits, 0.0, "train", "grand"), 0.0, inits)
    except MissingResults:
        pass
    return out


def _accuracy_there(P: Profile, store: Store, when: float | None) -> dict[str, Any]:
    """The scoring nets' test accuracy (mean over runs, without test-time augmentation: the scores
    use the plain forward pass) at checkpoint ``when``: exact where an evaluation fell there, else
    the bound the store holds."""
    if when is None:
        return {"what": "counted over the whole run: no single checkpoint"}
    if when == 0.0:
        return {"what": "untrained (chance: 10%)"}
    acc = pd.concat([history_frame(r) for r in scoring_runs(P, store)]).groupby("epoch").test_acc.mean()
    lo, hi = accuracy_at(acc, when * P.epochs)
    if np.isnan(lo):  # before the first evaluation: only the one after it is stored
        return {"test_acc_first_evaluation_after": hi, "what": "the checkpoint falls before the first evaluation "
                "(end of epoch 1); the accuracy there, later in training, is given instead"}
    return {"test_acc": lo} if lo == hi else {"test_acc_between": [lo, hi]}


def _checkpoint(P: Profile, when: float | None) -> str:
    if when is None:
        return "the whole run"
    if when == P.early:
        return f"epoch {when * P.epochs:g} of {P.epochs} ({when:.0%} of training)"
    return checkpoint_label(when)


def score_table(P: Profile, store: Store) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Every exported score as one table in CIFAR-10's order (columns ``index``, ``label``, then
    each score's mean and per-run columns), and the manifest's ``scores`` section (read only: a
    missing entry raises :class:`MissingResults` with the sweep command)."""
    reader = store.reader()
    if not (reader.root / "train").is_dir():
        raise ParameterError(f"parameter 'profile' has no results in {reader.root}; compute them with: "
                             f"{sweep_command('setup', P)}")
    bank = score_bank(P, reader)
    data = device_data(P)
    table: dict[str, np.ndarray] = {"index": data.train_index.astype(np.int64), "label": data.y_train.cpu().numpy()}
    info: dict[str, Any] = {"input_norm": {"definition": DEFINITIONS["input_norm"], "checkpoint": "none (no model)",
                                           "averaged_over": "nothing: one value per image", "runs": 0}}
    table["input_norm"] = bank["input_norm"].astype(np.float32)
    for name, (runs, when, seeds) in _bank_runs(P, reader).items():
        what = "initialisations" if name == "grand_init_c1" else "scoring runs"
        mean = bank.get(name, runs.mean(0))
        table[name] = np.asarray(mean, np.float32)
        for k, row in zip(seeds, runs):
            table[f"{name}__run{k}"] = np.asarray(row, np.float32)
        info[name] = {"definition": DEFINITIONS[name], "checkpoint": _checkpoint(P, when),
                      "accuracy_there": _accuracy_there(P, reader, when), "runs": len(seeds),
                      "averaged_over": f"{len(seeds)} {what} (seeds {seeds[0]}-{seeds[-1]})",
                      "columns": [name] + [f"{name}__run{k}" for k in seeds]}
    return pd.DataFrame(table), info


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def export_scores(P: Profile, store: Store, out: str | Path) -> Path:
    """Write :data:`FILES` for profile ``P`` into the folder ``out`` (atomically: a finished folder
    or none). Returns the manifest's path."""
    table, info = score_table(P, store)  # every check and read before anything is written
    ds = load_dataset(P.dataset)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}-"))
    try:
        np.savez_compressed(tmp / "scores.npz", **{c: table[c].to_numpy() for c in table.columns})
        with gzip.open(tmp / "scores.csv.gz", "wt", compresslevel=6) as f:
            table.to_csv(f, index=False, float_format="%.7g")
        digests = {"x_train": sha256_array(ds.x_train), "x_test": sha256_array(ds.x_test)}
        manifest = {
            "profile": P.name, "dataset": P.dataset, "net": P.model, "epochs": P.epochs, "examples": len(table),
            "order": f"{P.dataset}'s own training order: row i is training example index[i] (no class sorting)",
            "dataset_sha256": digests,
            "dataset_verified": P.dataset != "cifar10" or digests == {k: CIFAR10_SHA256[k] for k in digests},
            "scores": info,
            "files": {name: _sha256(tmp / name) for name in FILES if name != "manifest.json"},
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1, allow_nan=False) + "\n")  # valid JSON
        if out.exists():
            shutil.rmtree(out)
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out / "manifest.json"


def verify(folder: str | Path) -> bool:
    """Whether every file of an export matches the sha256 its manifest gives."""
    folder = Path(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    return all(_sha256(folder / name) == digest for name, digest in manifest["files"].items())


def subset(P: Profile, store: Store, score: str, prune: float, per_class: bool = False,
           seed: int = EVAL_SEED_OFFSET) -> np.ndarray:
    """The training rows the C2 grid keeps when pruning the fraction ``prune`` by ``score`` (whole
    set, or per class), ``seed`` the evaluation seed that draws random's subset (1000, 1001, ...):
    exactly :func:`c2.pruned_run`'s call. Sorted; rows of the profile's training set, which are
    CIFAR-10 indices where the profile trains on all of it."""
    if score not in STATIC_SCORES:
        raise ParameterError(f"parameter 'score' must be one of {', '.join(STATIC_SCORES)}; got {score!r}")
    if isinstance(prune, bool) or not isinstance(prune, (int, float)) or not 0 < prune < 1:
        raise ParameterError(f"parameter 'prune' must be a fraction in (0, 1); got {prune!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ParameterError(f"parameter 'seed' must be an integer >= 0; got {seed!r}")
    reader = store.reader()
    if not (reader.root / "train").is_dir():
        raise ParameterError(f"parameter 'profile' has no results in {reader.root}; compute them with: "
                             f"{sweep_command('setup', P)}")
    bank = score_bank(P, reader) if score != "random" else {}
    data = device_data(P)
    rule = "per_class" if per_class else "keep_highest"
    return pruned_subset(score, bank, data.n_train, prune, seed, rule, data.y_train.cpu().numpy())
