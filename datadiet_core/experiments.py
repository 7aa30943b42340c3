"""The experiment grid of each chapter, as functions the notebooks (and later the sweep command)
call. Every run goes through the result store, so an interrupted chapter resumes and a second
build recomputes nothing."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .data import Dataset
from .profiles import Profile
from .stats import summarize
from .store import Record, Store
from .train import history_frame, run


def baseline_runs(P: Profile, store: Store, force: bool = False) -> list[Record]:
    """Full-data training runs of the profile's model, seeds ``0 .. P.seeds - 1``."""
    return [run(P, seed, store, force=force) for seed in range(P.seeds)]


def baseline_history(records: list[Record]) -> pd.DataFrame:
    """Per-epoch history of every run, one row per (seed, epoch)."""
    return pd.concat([history_frame(r) for r in records], ignore_index=True)


def baseline_summary(records: list[Record]) -> dict[str, Any]:
    """Headline numbers of the full-data runs: accuracy across seeds, time and throughput."""
    acc = summarize([r.metrics["test_acc"] for r in records])
    return {"test_acc_mean": acc.mean, "test_acc_std": acc.std, "test_acc_p16": acc.p16,
            "test_acc_p84": acc.p84, "seeds": acc.n,
            "train_seconds_mean": float(np.mean([r.metrics["train_seconds"] for r in records])),
            "img_per_s_mean": float(np.mean([r.metrics["img_per_s"] for r in records])),
            "device": records[0].metrics["device"]}


def class_counts(ds: Dataset, train_index: np.ndarray | None = None) -> pd.DataFrame:
    """Examples per class in the training set actually used and in the test set."""
    y_train = ds.y_train if train_index is None else ds.y_train[train_index]
    rows = []
    for split, y in (("train", y_train), ("test", ds.y_test)):
        counts = np.bincount(y, minlength=ds.num_classes)
        rows += [{"class": ds.classes[c], "split": split, "count": int(n)} for c, n in enumerate(counts)]
    return pd.DataFrame(rows)


def first_per_class(y: np.ndarray, num_classes: int, per_class: int) -> np.ndarray:
    """Indices of the first ``per_class`` examples of each class, class-major (for image grids)."""
    return np.concatenate([np.flatnonzero(y == c)[:per_class] for c in range(num_classes)])
