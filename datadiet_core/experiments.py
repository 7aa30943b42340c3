"""The experiment grid of each chapter, as functions the notebooks (and later the sweep command)
call. Every run goes through the result store, so an interrupted chapter resumes and a second
build recomputes nothing."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd
import torch
from torch import nn

from . import ParameterError, scores
from .data import Dataset
from .models import is_convolutional
from .profiles import Profile
from .selection import DYNAMIC_SELECTORS as C3_DYNAMIC
from .selection import OTHER_SELECTORS as C3_OTHER
from .selection import SELECTORS as C3_SELECTORS
from .selection import STATIC_SELECTORS as C3_STATIC
from .stats import spearman_ci, summarize
from .store import Record, Store
from .train import checkpoint_state, device_data, history_frame, init_model, load_state, run, run_config


def scoring_run(P: Profile, seed: int, store: Store, force: bool = False) -> Record:
    """One full-data scoring run: checkpoints at init, ``P.early`` and the end, forgetting events."""
    return run(P, seed, store, checkpoints=(0.0, P.early, 1.0), forgetting=True, force=force)


def scoring_run_config(P: Profile, seed: int) -> dict[str, Any]:
    """The store configuration of :func:`scoring_run` (what trained scores are keyed on)."""
    return run_config(P, seed, checkpoints=(0.0, P.early, 1.0), forgetting=True)


def scoring_runs(P: Profile, store: Store, force: bool = False) -> list[Record]:
    """The full-data training runs, seeds ``0 .. P.scoring_seeds - 1``: the accuracy baseline
    and the source of every trained score."""
    return [scoring_run(P, seed, store, force) for seed in range(P.scoring_seeds)]


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


# --------------------------------------------------------------------------- scores of models

SCORE_NAMES = ("grand", "el2n")
CHECKPOINT_NAMES = {0.0: "init", 1.0: "end"}


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
        load_state(model, checkpoint_state(scoring_run(P, seed, store), when))
    if is_convolutional(model):
        model = model.to(memory_format=torch.channels_last)
    return model.eval()


def split_tensors(P: Profile, split: str, images: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The normalised, un-augmented ``split`` ('train' or 'test') of the profile's data, first
    ``images`` examples (all if None)."""
    if split not in ("train", "test"):
        raise ParameterError(f"parameter 'split' must be train or test; got {split!r}")
    data = device_data(P)
    x, y = (data.x_train, data.y_train) if split == "train" else (data.x_test, data.y_test)
    n = x.shape[0] if images is None else min(images, x.shape[0])
    return x[:n], y[:n]


def model_scores(P: Profile, store: Store, seed: int, when: float, split: str,
                 model_name: str | None = None, images: int | None = None, force: bool = False) -> Record:
    """GraNd and EL2N of every example of ``split`` under one model, through the store.

    The key holds what determines the model (the seed's initialisation, or the full training
    configuration of the scoring run and the checkpoint) and the data scored.
    """
    name = model_name or P.model
    config: dict[str, Any] = {"dataset": P.dataset, "train_size": P.train_size, "test_size": P.test_size,
                              "model": name, "seed": seed, "when": float(when), "split": split,
                              "images": images, "scores": list(SCORE_NAMES)}
    if when > 0:
        config["run"] = scoring_run_config(P, seed)

    def compute() -> tuple[dict, dict]:
        model = scored_model(P, store, seed, when, name)
        x, y = split_tensors(P, split, images)
        if is_convolutional(model):
            x = x.contiguous(memory_format=torch.channels_last)
        t0 = time.perf_counter()
        g = scores.grand(model, x, y)
        t_grand = time.perf_counter() - t0
        e = scores.el2n(model, x, y)
        return ({"n": int(x.shape[0]), "grand_seconds": t_grand, "grand_img_s": x.shape[0] / t_grand},
                {"grand": g.float().cpu().numpy(), "el2n": e.float().cpu().numpy()})

    return store.cached("scores", config, compute, force=force)


def per_seed(P: Profile, store: Store, seeds: Iterable[int], when: float, split: str, score: str,
             model_name: str | None = None, images: int | None = None, force: bool = False) -> np.ndarray:
    """One score under several models: a [K, N] array, row k from seed k (kept per seed so the
    book can show how rankings settle as K grows)."""
    return np.stack([model_scores(P, store, s, when, split, model_name, images, force).arrays[score]
                     for s in seeds])


def input_norms(P: Profile, split: str, images: int | None = None) -> np.ndarray:
    x, _ = split_tensors(P, split, images)
    return scores.input_norm(x).double().cpu().numpy()


def rho_vs_k(per_model: np.ndarray, reference: np.ndarray, n_boot: int = 200) -> pd.DataFrame:
    """Spearman rho (with a bootstrap interval over examples) between the mean of the first k
    models' scores and ``reference``, for k = 1 .. K."""
    rows = []
    for k, mean in enumerate(scores.running_means(per_model), start=1):
        rho, lo, hi = spearman_ci(mean, reference, n_boot=n_boot, seed=k)
        rows.append({"K": k, "rho": rho, "lo": lo, "hi": hi})
    return pd.DataFrame(rows)


def extremes_per_class(score: np.ndarray, y: np.ndarray, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the lowest- and highest-scoring example of every class."""
    lo = np.array([np.flatnonzero(y == c)[np.argmin(score[y == c])] for c in range(num_classes)])
    hi = np.array([np.flatnonzero(y == c)[np.argmax(score[y == c])] for c in range(num_classes)])
    return lo, hi


def lognormal_fit(ratio: np.ndarray) -> dict[str, float]:
    """Fit a log-normal to positive ``ratio`` values (location fixed at 0): mu and sigma of
    log(ratio), and the Kolmogorov-Smirnov distance of the fit."""
    from scipy import stats as st

    sigma, _, scale = st.lognorm.fit(ratio, floc=0)
    ks = st.kstest(ratio, "lognorm", args=(sigma, 0, scale)).statistic
    return {"mu": float(np.log(scale)), "sigma": float(sigma), "ks": float(ks)}


# --------------------------------------------------------------------------- chapter C1

# "Strongly rank-correlated", fixed before any result was seen: the lower end of the 95%
# bootstrap interval of Spearman's rho must reach this.
C1_STRONG = 0.8
# Published Spearman correlations (Kirsch 2023, his fork of the original code, ResNet-18, CIFAR-10).
KIRSCH_SPEARMAN = {
    ("grand_init", "input_norm"): 0.963,
    ("grand_init", "grand_early"): -0.024,
    ("grand_init", "forgetting"): -0.023,
    ("grand_early", "el2n_early"): 0.985,
    ("forgetting", "el2n_early"): 0.894,
    ("grand_early", "forgetting"): 0.868,
}


def c1_settings(P: Profile) -> list[dict[str, Any]]:
    """The (dataset, model, split, checkpoint) combinations of chapter C1, with their seeds and
    sizes. The profile's own model on its own dataset is scored on every example (chapter C2
    prunes with the same scores); the other settings on the first ``P.c1_images`` examples,
    ResNet-18 (when it is not the profile's model) on the first ``P.c1_resnet_images`` of each split."""
    out = []
    for model in dict.fromkeys(["linear", P.model, "resnet18"]):
        if model == P.model:
            out += [{"dataset": P.dataset, "model": model, "split": split, "when": 0.0, "seeds": P.inits,
                     "images": None} for split in ("train", "test")]
        elif model == "resnet18":
            out += [{"dataset": P.dataset, "model": model, "split": split, "when": 0.0, "seeds": P.inits,
                     "images": P.c1_resnet_images} for split in ("train", "test")]
        else:
            out += [{"dataset": P.dataset, "model": model, "split": split, "when": 0.0, "seeds": P.inits,
                     "images": P.c1_images} for split in ("train", "test")]
    for when in (P.early, 1.0):
        out += [{"dataset": P.dataset, "model": P.model, "split": split, "when": when,
                 "seeds": P.scoring_seeds, "images": None} for split in ("train", "test")]
    for model in ("linear", P.model):
        out += [{"dataset": "fashion_mnist", "model": model, "split": split, "when": 0.0,
                 "seeds": P.inits, "images": P.c1_images} for split in ("train", "test")]
    return out


def checkpoint_label(when: float) -> str:
    return CHECKPOINT_NAMES.get(when, f"{when:.0%} of training")


def cached_frame(store: Store, name: str, config: dict[str, Any], compute: Callable[[], pd.DataFrame],
                 force: bool = False) -> pd.DataFrame:
    """A table derived from stored runs, itself stored (kind ``analysis``) so a rebuild of the
    book does not redo its bootstraps. Columns are kept as plain numeric or unicode arrays."""
    def as_arrays() -> tuple[dict, dict]:
        df = compute()
        return {"columns": list(df.columns)}, {
            c: df[c].to_numpy() if pd.api.types.is_numeric_dtype(df[c]) else df[c].to_numpy(dtype=str)
            for c in df.columns}

    rec = store.cached("analysis", {"name": name, **config}, as_arrays, force=force)
    return pd.DataFrame({c: rec.arrays[c] for c in rec.metrics["columns"]})


def c1_curves(P: Profile, store: Store, n_boot: int = 200, force: bool = False) -> pd.DataFrame:
    """Spearman rho(GraNd averaged over K models, input norm) for K = 1.. in every C1 setting
    (``force`` recomputes this table; the scores it reads are recomputed by a forced sweep)."""
    def compute() -> pd.DataFrame:
        frames = []
        for s in c1_settings(P):
            Q = P.replace(dataset=s["dataset"])
            g = per_seed(Q, store, range(s["seeds"]), s["when"], s["split"], "grand", s["model"], s["images"])
            df = rho_vs_k(g, input_norms(Q, s["split"], s["images"]), n_boot=n_boot)
            frames.append(df.assign(dataset=s["dataset"], model=s["model"], split=s["split"],
                                    checkpoint=checkpoint_label(s["when"]), n=g.shape[1]))
        return pd.concat(frames, ignore_index=True)

    config = {"settings": c1_settings(P), "n_boot": n_boot, "run": scoring_run_config(P, 0)}
    return cached_frame(store, "c1_curves", config, compute, force)


def c1_correlations(P: Profile, store: Store, n_boot: int = 200, force: bool = False) -> pd.DataFrame:
    """The score-to-score Spearman correlations Kirsch published, computed here on the training
    split with every score averaged over the scoring runs (K = P.scoring_seeds)."""
    config = {"scoring_seeds": P.scoring_seeds, "n_boot": n_boot, "run": scoring_run_config(P, 0)}
    return cached_frame(store, "c1_correlations", config, lambda: _c1_correlations(P, store, n_boot), force)


def _c1_correlations(P: Profile, store: Store, n_boot: int) -> pd.DataFrame:
    vals = c2_scores(P, store)  # the same averaged scores static pruning uses
    rows = []
    for (a, b), published in KIRSCH_SPEARMAN.items():
        rho, lo, hi = spearman_ci(vals[a], vals[b], n_boot=n_boot)
        rows.append({"score a": a, "score b": b, "rho (ours)": rho, "95% interval": f"[{lo:.3f}, {hi:.3f}]",
                     "lo": lo, "hi": hi, "rho (Kirsch 2023)": published})
    return pd.DataFrame(rows)


def c1_summary(P: Profile, curves: pd.DataFrame, correlations: pd.DataFrame, fit: dict[str, float]) -> dict[str, Any]:
    """Headline numbers and computed verdicts of chapter C1 (for summary.json and the text).

    The claim "holds" for a setting when the lower end of the 95% interval of rho (all
    initialisations averaged) reaches :data:`C1_STRONG`.
    """
    def at(model: str, split: str, checkpoint: str, k: int | None = None, dataset: str | None = None) -> pd.Series:
        d = curves[(curves.dataset == (dataset or P.dataset)) & (curves.model == model) & (curves.split == split)
                   & (curves.checkpoint == checkpoint)]
        return d[d.K == (d.K.max() if k is None else k)].iloc[0]

    main = at(P.model, "train", "init")
    archs = list(dict.fromkeys(curves[(curves.dataset == P.dataset) & (curves.checkpoint == "init")].model))
    per_arch = {m: at(m, "train", "init") for m in archs}
    fashion = {m: at(m, "train", "init", dataset="fashion_mnist")
               for m in dict.fromkeys(curves[curves.dataset == "fashion_mnist"].model)}
    k_trained = P.scoring_seeds
    init_k, end_k = at(P.model, "train", "init", min(k_trained, P.inits)), at(P.model, "train", "end", k_trained)
    verdict = {f"holds_for_{m}": bool(r.lo >= C1_STRONG) for m, r in per_arch.items()}
    verdict.update({f"holds_on_fashion_mnist_for_{m}": bool(r.lo >= C1_STRONG) for m, r in fashion.items()})
    verdict["fades_with_training"] = bool(end_k.hi < init_k.lo)
    return {
        "spearman_grand_init_vs_input_norm": float(main.rho),
        "spearman_grand_init_vs_input_norm_ci": [float(main.lo), float(main.hi)],
        "spearman_by_model": {m: float(r.rho) for m, r in per_arch.items()},
        "spearman_by_model_ci": {m: [float(r.lo), float(r.hi)] for m, r in per_arch.items()},
        "images_by_model": {m: int(r.n) for m, r in per_arch.items()},
        "spearman_test_split": float(at(P.model, "test", "init").rho),
        "spearman_early": float(at(P.model, "train", checkpoint_label(P.early), k_trained).rho),
        "spearman_end": float(end_k.rho),
        "spearman_fashion_mnist": {m: float(r.rho) for m, r in fashion.items()},
        "lognormal_fit": fit,
        "strong_threshold": C1_STRONG,
        "k_inits": P.inits, "k_trained": k_trained, "model": P.model, "epochs": P.epochs,
        "verdict": verdict,
    }


def c1_verdict_text(summary: dict[str, Any]) -> str:
    """The chapter's closing paragraph, built from the computed verdicts and numbers."""
    v, t = summary["verdict"], summary["strong_threshold"]

    def one(m: str) -> str:
        lo, hi = summary["spearman_by_model_ci"][m]
        yes = v[f"holds_for_{m}"]
        return (f"{m} ({summary['images_by_model'][m]:,} training images): ρ = {summary['spearman_by_model'][m]:.3f} "
                f"[{lo:.3f}, {hi:.3f}], {'holds' if yes else 'does not hold'}")

    models = list(summary["spearman_by_model"])
    held = [m for m in models if v[f"holds_for_{m}"]]
    head = (f"Claim C1 holds where the 95% interval of Spearman's ρ between GraNd at initialisation (averaged over "
            f"{summary['k_inits']} initialisations) and the input norm lies above {t}. On CIFAR-10: "
            + "; ".join(one(m) for m in models) + ". ")
    if len(held) == len(models):
        scope = "It holds for every architecture tested. "
    elif held:
        scope = (f"So it holds for {', '.join(held)} but not for {', '.join(m for m in models if m not in held)}: "
                 "whether GraNd at initialisation reduces to the input norm depends on the architecture. ")
    else:
        scope = "It holds for none of the architectures tested. "
    fashion = "On Fashion-MNIST: " + "; ".join(
        f"{m} ρ = {r:.3f}, {'holds' if v[f'holds_on_fashion_mnist_for_{m}'] else 'does not hold'}"
        for m, r in summary["spearman_fashion_mnist"].items()) + ". "
    fade = (f"For the {summary['model']} network the correlation "
            f"{'falls' if v['fades_with_training'] else 'does not fall clearly'} with training "
            f"(ρ = {summary['spearman_end']:.3f} at the end, {summary['k_trained']} runs averaged), "
            f"{'as expected of an effect of random initialisation' if v['fades_with_training'] else 'so the link is not only an effect of initialisation'}.")
    return head + scope + fashion + fade


def linear_identity_gap(P: Profile, images: int = 1000, seed: int = 0) -> float:
    """Largest relative difference, in float64, between GraNd of a bias-free linear softmax model
    at initialisation and ||p - y|| * ||x|| (Kirsch 2023 §2.1: they are equal)."""
    data = device_data(P)
    model = init_model("linear", data, seed).double().eval()
    x, y = split_tensors(P, "train", images)
    x = x.double()
    g = scores.grand(model, x, y)
    expected = scores.el2n(model, x, y) * scores.input_norm(x)
    return float(((g - expected).abs() / expected).max())


def c1_ratio(P: Profile, store: Store) -> dict[str, Any]:
    """log(GraNd@init / ||x||) on the training split (GraNd averaged over ``P.inits`` models of the
    profile's network) and its log-normal fit."""
    g = per_seed(P, store, range(P.inits), 0.0, "train", "grand").mean(0)
    ratio = g / input_norms(P, "train")
    return {"log_ratio": np.log(ratio), "fit": lognormal_fit(ratio)}


def c1_extremes(P: Profile, store: Store) -> dict[str, Any]:
    """Per class, the training images with the lowest and highest GraNd@init and input norm."""
    from .data import load_dataset

    ds = load_dataset(P.dataset)
    data = device_data(P)
    y = data.y_train.cpu().numpy()
    g = per_seed(P, store, range(P.inits), 0.0, "train", "grand").mean(0)
    picks = [*extremes_per_class(g, y, ds.num_classes), *extremes_per_class(input_norms(P, "train"), y, ds.num_classes)]
    rows = ["lowest GraNd@init", "highest GraNd@init", "lowest ‖x‖", "highest ‖x‖"]
    return {"images": ds.x_train[data.train_index[np.concatenate(picks)]], "rows": rows, "classes": list(ds.classes)}


# --------------------------------------------------------------------------- chapter C2: static pruning

C2_SCORES = ("random", "input_norm", "grand_init", "grand_early", "el2n_early", "forgetting",
             "grand_init_restore_bug")
EVAL_SEED_OFFSET = 1000  # evaluation runs use seeds 1000, 1001, ...: never a scoring seed


def c2_scores(P: Profile, store: Store) -> dict[str, np.ndarray]:
    """Every static-pruning score of the training rows, averaged over the scoring runs.

    ``grand_init_restore_bug`` is GraNd "at initialisation" computed the way the 2021 code did
    by accident (Kirsch 2023 §3): Flax restored the *latest* checkpoint when asked for step 0,
    so it is GraNd of each scoring run's final checkpoint.
    """
    seeds = range(P.scoring_seeds)
    runs = scoring_runs(P, store)
    return {"input_norm": input_norms(P, "train"),
            "grand_init": per_seed(P, store, seeds, 0.0, "train", "grand").mean(0),
            "grand_early": per_seed(P, store, seeds, P.early, "train", "grand").mean(0),
            "el2n_early": per_seed(P, store, seeds, P.early, "train", "el2n").mean(0),
            "forgetting": np.mean([r.arrays["forgetting"] for r in runs], axis=0),
            "grand_init_restore_bug": per_seed(P, store, seeds, 1.0, "train", "grand").mean(0)}


def pruned_subset(score_name: str, scores_by_name: dict[str, np.ndarray], n: int, prune: float,
                  seed: int, rule: str = "keep_highest") -> np.ndarray:
    """The training rows kept when pruning the fraction ``prune`` by ``score_name``."""
    from . import selection

    if not 0.0 <= prune < 1.0:
        raise ParameterError(f"parameter 'prune' must be a fraction in [0, 1); got {prune!r}")
    keep = 1.0 - prune
    if score_name == "random":
        return selection.keep_random(n, keep, seed)
    if score_name not in scores_by_name:
        raise ParameterError(f"parameter 'score' must be one of {', '.join(C2_SCORES)}; got {score_name!r}")
    rules = {"keep_highest": selection.keep_highest, "keep_lowest": selection.keep_lowest,
             "stratified": selection.keep_stratified}
    if rule not in rules:
        raise ParameterError(f"parameter 'rule' must be one of {', '.join(rules)}; got {rule!r}")
    return rules[rule](scores_by_name[score_name], keep)


def pruned_run(P: Profile, store: Store, score_name: str, scores_by_name: dict[str, np.ndarray],
               prune: float, eval_index: int, rule: str = "keep_highest", force: bool = False) -> Record:
    """One evaluation run of static pruning (Paul et al. App. B): a fresh seed, the kept subset,
    and the same number of iterations and schedule as full-data training."""
    seed = EVAL_SEED_OFFSET + eval_index
    subset = pruned_subset(score_name, scores_by_name, device_data(P).n_train, prune, seed, rule)
    return run(P, seed, store, subset=subset, subset_tag=f"{rule}:{score_name}:prune={prune:g}",
               budget="iterations", force=force)


C2_RULES = ("keep_highest", "keep_lowest", "stratified")
C2_REGIME_SCORES = ("random", "input_norm", "grand_init", "grand_early", "el2n_early")
C2_RULE_SCORES = ("el2n_early", "grand_init")  # evaluated with the other two rules at REGIME_PRUNE
REGIME_PRUNE = 0.5


@dataclass(frozen=True)
class PrunedSpec:
    """One evaluation run of the static-pruning grid."""

    score: str
    prune: float
    eval_index: int
    rule: str = "keep_highest"
    epochs: int | None = None  # None: the profile's own budget

    @property
    def label(self) -> str:
        epochs = "" if self.epochs is None else f", {self.epochs} epochs"
        return f"{self.rule}:{self.score} prune={self.prune:g} seed={EVAL_SEED_OFFSET + self.eval_index}{epochs}"


def c2_grid(P: Profile) -> list[PrunedSpec]:
    """Every evaluation run of chapter C2, in the order a sweep runs them.

    1. Keep-highest for every score of :data:`C2_SCORES`, every fraction of ``P.prune_fractions``
       and ``P.eval_seeds`` fresh seeds (Paul et al. Fig. 1; random is the baseline).
    2. The opposite rule (keep the easiest) and coverage-centric stratified selection (Zheng et
       al.) for :data:`C2_RULE_SCORES` at 50% pruned.
    3. The regime map: :data:`C2_REGIME_SCORES` at 50% pruned for every budget of
       ``P.regime_epochs`` other than the profile's own (that one is part 1).
    """
    seeds = range(P.eval_seeds)
    grid = [PrunedSpec(s, f, i) for f in P.prune_fractions for s in C2_SCORES for i in seeds]
    grid += [PrunedSpec(s, REGIME_PRUNE, i, rule) for rule in C2_RULES[1:] for s in C2_RULE_SCORES for i in seeds]
    grid += [PrunedSpec(s, REGIME_PRUNE, i, epochs=e) for e in sorted(P.regime_epochs) if e != P.epochs
             for s in C2_REGIME_SCORES for i in seeds]
    return grid


def c2_run(P: Profile, store: Store, spec: PrunedSpec, scores_by_name: dict[str, np.ndarray],
           force: bool = False) -> Record:
    """The evaluation run ``spec`` (scores from the profile's scoring runs whatever the budget)."""
    Pe = P if spec.epochs is None else P.replace(epochs=spec.epochs)
    return pruned_run(Pe, store, spec.score, scores_by_name, spec.prune, spec.eval_index, spec.rule, force)


def c2_sweep(P: Profile, store: Store, force: bool = False, progress: bool = True) -> list[tuple[PrunedSpec, Record]]:
    """Chapter C2's whole grid through the store: scoring runs, scores, then :func:`c2_grid`."""
    scoring_runs(P, store)
    by_name = c2_scores(P, store)
    out = []
    grid = c2_grid(P)
    for k, spec in enumerate(grid):
        t = time.perf_counter()
        rec = c2_run(P, store, spec, by_name, force)
        if progress:
            print(f"[{k + 1}/{len(grid)}] {spec.label}: {rec.metrics['test_acc']:.4f} "
                  f"({time.perf_counter() - t:.0f} s)", flush=True)
        out.append((spec, rec))
    return out


def c2_results(P: Profile, store: Store, force: bool = False) -> pd.DataFrame:
    """Every evaluation run of :func:`c2_grid` (computed if missing), one row per run, plus the
    full-data baseline (the scoring runs, rule ``full``)."""
    rows = [{"score": spec.score, "rule": spec.rule, "prune": spec.prune,
             "epochs": spec.epochs or P.epochs, "seed": rec.config["seed"],
             "test_acc": rec.metrics["test_acc"], "n_train": rec.metrics["n_train"],
             "wall_seconds": rec.manifest.get("wall_seconds", float("nan"))}
            for spec, rec in c2_sweep(P, store, force, progress=False)]
    rows += [{"score": "full", "rule": "full", "prune": 0.0, "epochs": P.epochs, "seed": r.config["seed"],
              "test_acc": r.metrics["test_acc"], "n_train": r.metrics["n_train"], "wall_seconds": r.manifest.get("wall_seconds", float("nan"))}
             for r in scoring_runs(P, store)]
    return pd.DataFrame(rows)


def c2_accuracy(results: pd.DataFrame, epochs: int, rule: str = "keep_highest") -> pd.DataFrame:
    """Mean, std and the 16th-84th percentile band of test accuracy per (score, fraction pruned)."""
    d = results[(results.rule == rule) & (results.epochs == epochs)]
    rows = []
    for (score, prune), g in d.groupby(["score", "prune"], sort=False):
        s = summarize(g.test_acc)
        rows.append({"score": score, "prune": prune, "mean": s.mean, "std": s.std, "p16": s.p16, "p84": s.p84,
                     "seeds": s.n})
    return pd.DataFrame(rows)


def c2_differences(results: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Accuracy minus random's at the same fraction and budget, for every evaluated cell, with a
    Student-t interval on the seed-to-seed spread pooled over all cells of the same budget
    (:func:`stats.pooled_diff_ci`)."""
    from .stats import pooled_diff_ci, pooled_sd

    d = results[results.rule != "full"]
    rows = []
    for epochs, de in d.groupby("epochs"):
        sd, dof = pooled_sd([g.test_acc for _, g in de.groupby(["score", "rule", "prune"])])
        for (score, rule, prune), g in de.groupby(["score", "rule", "prune"], sort=False):
            if score == "random":
                continue
            ref = de[(de.score == "random") & (de.prune == prune)].test_acc
            if ref.empty:
                continue
            diff, lo, hi = pooled_diff_ci(g.test_acc, ref, sd, dof, level)
            rows.append({"score": score, "rule": rule, "prune": prune, "epochs": int(epochs), "diff": diff,
                         "lo": lo, "hi": hi, "pooled_sd": sd, "dof": dof})
    return pd.DataFrame(rows)


def _direction(lo: float, hi: float) -> int:
    """+1 when an interval lies above zero, -1 below, 0 when it contains zero."""
    return 1 if lo > 0 else -1 if hi < 0 else 0


def c2_pair_difference(results: pd.DataFrame, a: str, b: str, epochs: int, level: float = 0.95) -> pd.DataFrame:
    """Keep-highest accuracy of score ``a`` minus score ``b`` per fraction, pooled-t interval."""
    from .stats import pooled_diff_ci, pooled_sd

    d = results[(results.rule == "keep_highest") & (results.epochs == epochs)]
    sd, dof = pooled_sd([g.test_acc for _, g in d.groupby(["score", "prune"])])
    rows = []
    for prune in sorted(d.prune.unique()):
        x, y = d[(d.score == a) & (d.prune == prune)].test_acc, d[(d.score == b) & (d.prune == prune)].test_acc
        if len(x) and len(y):
            diff, lo, hi = pooled_diff_ci(x, y, sd, dof, level)
            rows.append({"a": a, "b": b, "prune": prune, "diff": diff, "lo": lo, "hi": hi})
    return pd.DataFrame(rows)


def _per_rate(acc: pd.DataFrame, column: str) -> dict[str, dict[str, float]]:
    """``column`` of an accuracy table (columns score, prune) as {score: {rate: value}} (rates as "0.7")."""
    return {s: {f"{r.prune:g}": float(r[column]) for _, r in g.iterrows()} for s, g in acc.groupby("score", sort=False)}


def c2_summary(P: Profile, results: pd.DataFrame, diffs: pd.DataFrame) -> dict[str, Any]:
    """Headline numbers and computed verdicts of chapter C2 (``summary.json`` section ``c2``).

    Verdict rules, written before the grid was run beyond the 50%-pruned pilot:

    * ``<score>_beats_random``: at the profile's budget, keep-highest by the score is above random
      (interval above zero) at one fraction or more and below it (interval below zero) at none.
    * ``<score>_below_random``: below random at one fraction or more.
    * ``input_norm_like_grand_init``: at every fraction the interval of their difference holds zero.
    * ``restore_bug_like_late_score``: the restore-bug variant differs from GraNd@init (interval
      excludes zero) at one fraction or more and is closer to forgetting (an end-of-training
      score) than to GraNd@init at every fraction.
    * ``hard_beats_random_at_some_budget``: EL2N@10% keeping 50% beats random at some budget of
      the regime map; ``keep_easiest_beats_keep_hardest``: EL2N@10% keeping the easiest half
      beats keeping the hardest at the profile's budget; ``stratified_beats_keep_hardest`` likewise.
    """
    E = P.epochs
    acc = c2_accuracy(results, E)
    main = diffs[(diffs.rule == "keep_highest") & (diffs.epochs == E)]
    key = lambda f: f"{f:g}"  # noqa: E731
    out: dict[str, Any] = {
        "acc_mean": _per_rate(acc, "mean"), "acc_std": _per_rate(acc, "std"),
        "diff_to_random": {s: {key(r.prune): [r["diff"], r["lo"], r["hi"]] for _, r in g.iterrows()}
                           for s, g in main.groupby("score", sort=False)},
    }
    full = summarize(results[results.rule == "full"].test_acc)
    out["acc_mean"]["full"], out["acc_std"]["full"] = full.mean, full.std
    regime = diffs[(diffs.rule == "keep_highest") & (diffs.prune == REGIME_PRUNE)]
    out["regime"] = {s: {str(int(r.epochs)): r["diff"] for _, r in g.sort_values("epochs").iterrows()}
                     for s, g in regime.groupby("score", sort=False)}
    out["regime_ci"] = {s: {str(int(r.epochs)): [r["lo"], r["hi"]] for _, r in g.sort_values("epochs").iterrows()}
                        for s, g in regime.groupby("score", sort=False)}

    verdict: dict[str, bool] = {}
    for s in C2_SCORES[1:]:
        dirs = [_direction(r.lo, r.hi) for _, r in main[main.score == s].iterrows()]
        verdict[f"{s}_beats_random"] = bool(dirs) and max(dirs) == 1 and min(dirs) >= 0
        verdict[f"{s}_below_random"] = bool(dirs) and min(dirs) == -1
    pair = c2_pair_difference(results, "input_norm", "grand_init", E)
    verdict["input_norm_like_grand_init"] = bool(len(pair)) and all(_direction(r.lo, r.hi) == 0 for _, r in pair.iterrows())
    bug_init = c2_pair_difference(results, "grand_init_restore_bug", "grand_init", E)
    bug_late = c2_pair_difference(results, "grand_init_restore_bug", "forgetting", E)
    verdict["restore_bug_like_late_score"] = (
        bool(len(bug_init)) and any(_direction(r.lo, r.hi) != 0 for _, r in bug_init.iterrows())
        and all(abs(a) < abs(b) for a, b in zip(bug_late["diff"], bug_init["diff"])))
    el2n_regime = regime[regime.score == "el2n_early"]
    verdict["hard_beats_random_at_some_budget"] = bool((el2n_regime.lo > 0).any())
    rule_d = diffs[(diffs.epochs == E) & (diffs.prune == REGIME_PRUNE) & (diffs.score == "el2n_early")]
    by_rule = {r.rule: r for _, r in rule_d.iterrows()}
    for rule, name in (("keep_lowest", "keep_easiest_beats_keep_hardest"), ("stratified", "stratified_beats_keep_hardest")):
        if rule in by_rule and "keep_highest" in by_rule:
            verdict[name] = _rule_beats(results, "el2n_early", rule, "keep_highest", E)
    out["rules"] = {f"{r.rule}:{r.score}": [r["diff"], r["lo"], r["hi"]]
                    for _, r in diffs[(diffs.epochs == E) & (diffs.prune == REGIME_PRUNE)].iterrows()}
    out["scale"] = (f"{P.model}, {E} epochs of full-data iterations, scores averaged over {P.scoring_seeds} runs, "
                    f"{P.eval_seeds} evaluation seeds per point")
    out.update({"verdict": verdict, "epochs": E, "model": P.model, "eval_seeds": P.eval_seeds,
                "scoring_seeds": P.scoring_seeds, "regime_prune": REGIME_PRUNE})
    return out


def _rule_beats(results: pd.DataFrame, score: str, rule: str, other: str, epochs: int) -> bool:
    """Whether ``rule`` beats ``other`` for ``score`` at 50% pruned (pooled-t interval above zero)."""
    from .stats import pooled_diff_ci, pooled_sd

    d = results[(results.epochs == epochs) & (results.rule != "full")]
    sd, dof = pooled_sd([g.test_acc for _, g in d.groupby(["score", "rule", "prune"])])
    pick = lambda r: d[(d.score == score) & (d.rule == r) & (d.prune == REGIME_PRUNE)].test_acc  # noqa: E731
    _, lo, _ = pooled_diff_ci(pick(rule), pick(other), sd, dof)
    return bool(lo > 0)


def c2_kept_per_class(P: Profile, scores_by_name: dict[str, np.ndarray], prune: float = REGIME_PRUNE) -> pd.DataFrame:
    """Examples of each class kept at ``prune`` by random, every score's keep-highest subset, and
    the other rules for :data:`C2_RULE_SCORES` (score-ordered subsets can starve whole classes)."""
    from .data import load_dataset
    from .selection import class_counts

    classes = load_dataset(P.dataset).classes
    data = device_data(P)
    y = data.y_train.cpu().numpy()
    picks = [("keep_highest", s) for s in C2_SCORES] + [(r, s) for r in C2_RULES[1:] for s in C2_RULE_SCORES]
    rows = []
    for rule, score in picks:
        kept = pruned_subset(score, scores_by_name, data.n_train, prune, EVAL_SEED_OFFSET, rule)
        name = "random" if score == "random" else f"{rule}: {score}"
        rows += [{"selection": name, "class": classes[c], "count": int(n)}
                 for c, n in enumerate(class_counts(kept, y, len(classes)))]
    return pd.DataFrame(rows)


def c2_spearman_matrix(scores_by_name: dict[str, np.ndarray]) -> pd.DataFrame:
    """Spearman rho between every pair of static-pruning scores (long format: a, b, rho)."""
    from .stats import ranks

    names = [s for s in C2_SCORES if s in scores_by_name]
    r = {s: ranks(np.where(np.isfinite(scores_by_name[s]), scores_by_name[s], np.inf)) for s in names}
    rows = [{"a": a, "b": b, "rho": float(np.corrcoef(r[a], r[b])[0, 1])} for a in names for b in names]
    return pd.DataFrame(rows)


def c2_rank_reliability(P: Profile, store: Store) -> pd.DataFrame:
    """How the EL2N@10% and GraNd@10% rankings settle as scoring runs are averaged (Paul et al.
    Fig. 10 left): rho between the mean of the first k runs and the mean of all K, and, free of
    that overlap, rho between the means of two disjoint groups of k runs (k <= K/2)."""
    from .stats import spearman

    seeds = range(P.scoring_seeds)
    rows = []
    for score, name in (("el2n", "el2n_early"), ("grand", "grand_early")):
        per = per_seed(P, store, seeds, P.early, "train", score)
        full = per.mean(0)
        for k, mean in enumerate(scores.running_means(per), start=1):
            rows.append({"score": name, "comparison": f"mean of all {len(per)} runs", "K": k,
                         "rho": spearman(mean, full)})
        for k in range(1, len(per) // 2 + 1):
            rows.append({"score": name, "comparison": "mean of k other runs", "K": k,
                         "rho": spearman(per[:k].mean(0), per[k:2 * k].mean(0))})
    return pd.DataFrame(rows)


def _pp(d: float) -> str:
    return f"{d * 100:+.1f}"


def c2_verdict_text(summary: dict[str, Any]) -> str:
    """The chapter's closing paragraph, built from the computed differences and verdicts."""
    from .plots import SCORE_LABELS

    v, E = summary["verdict"], summary["epochs"]
    head = (f"At a budget of {E} epochs of the {summary['model']} network (full data: "
            f"{summary['acc_mean']['full'] * 100:.1f}%), keeping the highest-scoring examples, "
            f"accuracy minus random in percentage points with its 95% interval: ")
    parts = []
    for s, by_f in summary["diff_to_random"].items():
        cells = ", ".join(f"{_pp(d)} [{_pp(lo)}, {_pp(hi)}] at {float(f):.0%} pruned" for f, (d, lo, hi) in by_f.items())
        state = ("beats random" if v.get(f"{s}_beats_random") else
                 "is below random" if v.get(f"{s}_below_random") else "is indistinguishable from random")
        parts.append(f"{SCORE_LABELS.get(s, s)} {state} ({cells})")
    text = head + "; ".join(parts) + ". "
    text += ("Input norm and GraNd@init are indistinguishable at every fraction. " if v["input_norm_like_grand_init"]
             else "Input norm and GraNd@init give different accuracies at one fraction or more. ")
    text += ("The restore-bug variant behaves like a late-training score: it differs from GraNd@init and stays "
             "closer to forgetting. " if v["restore_bug_like_late_score"] else
             "The restore-bug variant does not behave like a late-training score by the rule above. ")
    reg = summary["regime"].get("el2n_early", {})
    if reg:
        cis = summary["regime_ci"]["el2n_early"]
        cells = ", ".join(f"{_pp(d)} [{_pp(cis[e][0])}, {_pp(cis[e][1])}] at {e} epochs" for e, d in reg.items()).replace(' 1 epochs', ' 1 epoch')
        text += (f"In the regime map (50% pruned), EL2N@10% minus random is {cells}: keeping the hardest examples "
                 + ("beats random at some budget tested. " if v["hard_beats_random_at_some_budget"]
                    else "beats random at none of the budgets tested on this CPU. "))
    if "keep_easiest_beats_keep_hardest" in v:
        text += (f"At {E} epochs, keeping the easiest half by EL2N@10% "
                 + ("beats" if v["keep_easiest_beats_keep_hardest"] else "does not beat")
                 + " keeping the hardest half, and coverage-centric stratified selection "
                 + ("beats" if v.get("stratified_beats_keep_hardest") else "does not beat") + " it.")
    return text


def c2_accuracy_table(acc: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std of test accuracy (%) per score (rows) and fraction pruned (columns)."""
    from .plots import SCORE_LABELS

    cell = acc.assign(text=[f"{m * 100:.1f} ± {s * 100:.1f}" for m, s in zip(acc["mean"], acc["std"])],
                      score=acc.score.map(lambda s: SCORE_LABELS.get(s, s)),
                      pruned=acc.prune.map(lambda f: f"{f:.0%} pruned"))
    return cell.pivot(index="score", columns="pruned", values="text").reindex(list(dict.fromkeys(cell.score)))


def c2_rules_table(diffs: pd.DataFrame, epochs: int) -> pd.DataFrame:
    """Accuracy minus random (percentage points, 95% interval) at 50% pruned for every selection
    rule evaluated at ``epochs``."""
    d = diffs[(diffs.epochs == epochs) & (diffs.prune == REGIME_PRUNE) & diffs.score.isin(C2_RULE_SCORES)]
    return pd.DataFrame({"rule": d.rule, "score": d.score,
                         "minus random (points)": [f"{_pp(a)} [{_pp(lo)}, {_pp(hi)}]"
                                                   for a, lo, hi in zip(d["diff"], d.lo, d.hi)]}
                        ).set_index(["score", "rule"]).sort_index()


def c2_starvation_text(kept: pd.DataFrame) -> str:
    """Which selections keep fewer than half the per-class share of some class (computed)."""
    rows = []
    for sel, g in kept.groupby("selection", sort=False):
        share = g["count"].sum() / len(g)
        low = g[g["count"] < 0.5 * share]
        if len(low):
            rows.append(f"{sel} keeps less than half its even share of "
                        + ", ".join(f"{r['class']} ({r['count']:,})" for _, r in low.iterrows()))
    if not rows:
        return "No selection keeps less than half of its even share of any class."
    return "Class starvation, counted: " + "; ".join(rows) + "."


def c2_compute_seconds(P: Profile, store: Store, runs: pd.DataFrame) -> float:
    """Wall-clock seconds this chapter's results took to compute, read from the store: the scoring
    runs, the GraNd/EL2N scoring passes it uses, and every evaluation run."""
    seeds = range(P.scoring_seeds)
    passes = [model_scores(P, store, s, w, "train") for s in seeds for w in (0.0, P.early, 1.0)]
    return float(runs.wall_seconds.sum() + sum(r.manifest.get("wall_seconds", 0.0) for r in passes))


# An assumption, not a measurement (no GPU here): one 200-epoch-scale ResNet-18 epoch on CIFAR-10
# with mixed precision on one current datacentre GPU takes on the order of 15 s.
ASSUMED_GPU_SECONDS_PER_RESNET18_EPOCH = 15.0


def c2_median_run_seconds(results: pd.DataFrame, epochs: int) -> float:
    """Median wall-clock of the evaluation runs at budget ``epochs`` (less sensitive than the sum to
    runs that shared the machine with other work)."""
    return float(results[(results.epochs == epochs) & (results.rule != "full")].wall_seconds.median())


def c2_training_epochs(P: Profile) -> int:
    """Full-data-equivalent epochs of training in chapter C2's grid for profile ``P``: the scoring
    runs plus every evaluation run (each takes the iterations of its budget's full-data epochs)."""
    return P.scoring_seeds * P.epochs + sum(spec.epochs or P.epochs for spec in c2_grid(P))


def c2_regime_share(P: Profile) -> float:
    """The share of :func:`c2_training_epochs` spent on the regime map's budgets other than the
    profile's own."""
    return sum(g.epochs for g in c2_grid(P) if g.epochs is not None) / c2_training_epochs(P)


# --------------------------------------------------------------------------- chapter C3: dynamic pruning

# Hyperparameters. alpha and the period are Raju et al.'s (alpha = 0.8; T_p = 10 of 200 epochs).
# The paper does not state epsilon or c and reports (App. F) that neither changes accuracy much:
# 0.1 and 1.0 are our choice. InfoBatch's delta is Qin et al.'s default; its prune probability r
# is set to the pruning rate being compared.
C3_PARAMS = {"alpha": 0.8, "epsilon": 0.1, "c": 1.0, "period": 0.05, "delta": 0.875, "sb_history": 1024}


def c3_period(epochs: int) -> int:
    """Passes between re-selections: 5% of training, at least one pass."""
    return max(1, round(C3_PARAMS["period"] * epochs))


def all_losses(model: nn.Module, P: Profile) -> np.ndarray:
    """Per-sample cross-entropy of the current model on every training row (eval mode, no
    augmentation): Raju et al. eq. 1, the scoring pass of the loss-driven selectors."""
    data = device_data(P)
    from .train import autocast_dtype, logits_of

    logits = logits_of(model, data.x_train, P.eval_batch_size, autocast_dtype(data.device, P.precision))
    return torch.nn.functional.cross_entropy(logits, data.y_train, reduction="none").double().cpu().numpy()


def _selector(name: str, P: Profile, n: int, keep: float, seed: int, scores_by_name: dict[str, np.ndarray]):
    from . import selection as sel

    a, e, c = C3_PARAMS["alpha"], C3_PARAMS["epsilon"], C3_PARAMS["c"]
    makers = {
        "random_static": lambda: sel.StaticSubset(n, keep, seed, sel.keep_random(n, keep, seed)),
        "el2n_static": lambda: sel.StaticSubset(n, keep, seed, sel.keep_highest(scores_by_name["el2n_early"], keep)),
        "forgetting_static": lambda: sel.StaticSubset(n, keep, seed, sel.keep_highest(scores_by_name["forgetting"], keep)),
        "el2n_epsilon_static": lambda: sel.StaticEpsilonGreedy(n, keep, seed, scores_by_name["el2n_early"], e),
        "random_dynamic": lambda: sel.RandomDynamic(n, keep, seed),
        "uncertainty_ema": lambda: sel.UncertaintyEMA(n, keep, seed, a),
        "epsilon_greedy": lambda: sel.EpsilonGreedy(n, keep, seed, a, e),
        "ucb": lambda: sel.UCB(n, keep, seed, a, c),
    }
    return makers[name]()


def _check_c3(selector: str, rate: float) -> None:
    if selector not in C3_SELECTORS and not selector.startswith("always_plus_"):
        raise ParameterError(f"parameter 'selector' must be one of {', '.join(C3_SELECTORS)}; got {selector!r}")
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate < 1:
        raise ParameterError(f"parameter 'rate' must be a fraction in (0, 1); got {rate!r}")


def dynamic_run(P: Profile, store: Store, selector: str, rate: float, eval_index: int, epochs: int | None = None,
                fixed: np.ndarray | None = None, fixed_tag: str = "", force: bool = False,
                period: int | None = None) -> Record:
    """One run of chapter C3: ``selector`` prunes the fraction ``rate`` of the training set, for
    ``epochs`` passes over the kept subset (cost falls with the rate), from a fresh seed.

    Static selectors train on one subset throughout; dynamic ones re-select every ``period``
    passes (default :func:`c3_period`, 5% of training) from what they have seen (Raju et al.
    Algorithm 1); InfoBatch
    re-draws every pass; Selective- and Random-Backprop filter every batch. ``fixed`` (with a
    ``fixed_tag`` naming it) gives an "always" set for the ``always_plus_random`` selector of
    Raju et al. Table 1: those rows every time, the rest of the budget drawn at random.

    Stored: test accuracy, ``train_seconds`` (end to end, scoring passes included, evaluation
    excluded), ``scoring_seconds``, the per-pass history (with images seen) and how often each
    row was selected (``selection_counts`` over ``checkpoints`` selections).
    """
    from . import selection as sel
    from .train import Hooks, record_of, run_config, train

    _check_c3(selector, rate)
    if period is not None and (isinstance(period, bool) or not isinstance(period, int) or period < 1):
        raise ParameterError(f"parameter 'period' must be None or an integer >= 1 (passes); got {period!r}")
    E = epochs or P.epochs
    Pe = P.replace(epochs=E)
    seed = EVAL_SEED_OFFSET + eval_index
    keep = 1.0 - rate
    config = {**run_config(Pe, seed, budget="epochs", subset=f"c3:{selector}:rate={rate:g}"),
              "c3": {**C3_PARAMS, "selector": selector, "fixed": fixed_tag}}
    if selector in ("el2n_static", "forgetting_static", "el2n_epsilon_static"):
        config["c3"]["scores_from"] = scoring_run_config(P, 0)
    if period is not None:  # only when given, so the entries of the main grid keep their keys
        config["c3"]["period_passes"] = period

    def compute() -> tuple[dict, dict]:
        data = device_data(Pe)
        n = data.n_train
        counts = np.zeros(n, np.int32)
        state = {"scoring": 0.0, "checkpoints": 0, "last": None}
        every = period or c3_period(E)
        hooks = Hooks()
        if selector in C3_STATIC + C3_DYNAMIC or selector.startswith("always_plus_"):
            if selector.startswith("always_plus_"):
                chooser = _AlwaysPlusRandom(n, keep, seed, fixed)
            else:
                chooser = _selector(selector, P, n, keep, seed, c2_scores(P, store) if selector in C3_STATIC[1:] else {})

            def select(pass_no: int, model: nn.Module) -> np.ndarray | None:
                if pass_no % every:
                    return None
                losses = None
                if chooser.needs_losses:
                    t = time.perf_counter()
                    losses = all_losses(model, Pe)
                    state["scoring"] += time.perf_counter() - t
                rows = chooser.select(losses)
                counts[rows] += 1
                state["checkpoints"] += 1
                if isinstance(chooser, sel.UncertaintyEMA):
                    state["last"] = chooser.score()
                return rows
            hooks.select = select
        elif selector == "infobatch":
            ib = sel.InfoBatch(n, rate, C3_PARAMS["delta"], E, seed)
            weight = torch.ones(n, device=data.device)

            def select_ib(pass_no: int, model: nn.Module) -> np.ndarray:
                rows = ib.select(pass_no)
                weight.copy_(torch.as_tensor(ib.weight, dtype=torch.float32))
                counts[rows] += 1
                state["checkpoints"] += 1
                return rows
            hooks.select = select_ib
            hooks.loss_weight = lambda idx: weight[idx]
            hooks.on_batch = lambda info: ib.record(info.indices.cpu().numpy(), info.loss.double().cpu().numpy())
        else:
            sb = sel.SelectiveBackprop(keep, seed, random=selector == "random_backprop",
                                       history=C3_PARAMS["sb_history"])
            from .train import autocast_dtype, logits_of

            amp = autocast_dtype(data.device, Pe.precision)

            def filt(idx: torch.Tensor, model: nn.Module) -> torch.Tensor:
                losses = None
                if not sb.random:  # a no-grad forward of the candidate batch, as the scoring pass does
                    t = time.perf_counter()
                    out = logits_of(model, data.x_train[idx], len(idx), amp)
                    losses = torch.nn.functional.cross_entropy(out, data.y_train[idx], reduction="none").cpu().numpy()
                    state["scoring"] += time.perf_counter() - t
                mask = torch.as_tensor(sb.choose(losses, len(idx)), device=idx.device)
                kept = idx[mask]
                counts[kept.cpu().numpy()] += 1
                return kept
            hooks.filter, hooks.keep_fraction = filt, keep
        res = train(Pe, data, seed, budget="epochs", checkpoints=(), hooks=hooks,
                    eval_every_epoch=abs(rate - FIG5_RATE) < 1e-9)
        metrics, arrays = record_of(res, data.device, n)
        metrics.update(scoring_seconds=state["scoring"], checkpoints=state["checkpoints"])
        arrays["selection_counts"] = counts
        if state["last"] is not None:
            arrays["final_score"] = np.asarray(state["last"], np.float64)
        return metrics, arrays

    return store.cached("train", config, compute, force=force)


class _AlwaysPlusRandom:
    """Raju et al. Table 1: a fixed "always" set, the rest of the budget re-drawn uniformly at
    random from the other rows at every checkpoint."""

    needs_losses = False

    def __init__(self, n: int, keep: float, seed: int, always: np.ndarray | None):
        from .selection import n_keep

        if always is None:
            raise ParameterError("parameter 'fixed' must give the always set for selector always_plus_random")
        self.always = np.sort(np.asarray(always))
        self.k = n_keep(n, keep)
        if len(self.always) > self.k:
            raise ParameterError(f"parameter 'fixed' must hold at most {self.k} rows; got {len(self.always)}")
        self.rest = np.setdiff1d(np.arange(n), self.always)
        self.rng = np.random.default_rng(seed)

    def select(self, losses: np.ndarray | None) -> np.ndarray:
        extra = self.rng.choice(self.rest, self.k - len(self.always), replace=False)
        return np.sort(np.concatenate([self.always, extra]))


@dataclass(frozen=True)
class DynamicSpec:
    """One run of chapter C3's grid (``selector == "full"``: the full-data baseline)."""

    selector: str
    rate: float
    eval_index: int
    epochs: int
    imbalance: str = "none"
    period: int = 0  # passes between re-selections; 0: the main grid's c3_period(epochs)

    @property
    def label(self) -> str:
        where = "" if self.imbalance == "none" else f", {self.imbalance}"
        every = f", re-selecting every {self.period} passes" if self.period else ""
        return (f"{self.selector} rate={self.rate:g} seed={EVAL_SEED_OFFSET + self.eval_index}, "
                f"{self.epochs} epochs{where}{every}")


TABLE1_RATE = 0.7  # Raju et al. Table 1
FIG5_RATE = 0.8  # Raju et al. Fig. 5: the runs at this rate evaluate after every pass
AGGRESSIVE = 0.7  # "aggressive" pruning rates, where the verdicts are taken
IMBALANCE = "raju_table2"  # C3's second setting (Raju et al. §4.5)
IMBALANCED_SELECTORS = ("random_dynamic", "uncertainty_ema", "epsilon_greedy", "ucb")  # their Fig. 8a
IMBALANCED_COMPARISONS = tuple((a, "random_dynamic") for a in IMBALANCED_SELECTORS[1:]) + (("ucb", "uncertainty_ema"),)
PERIOD_SELECTORS = ("uncertainty_ema", "ucb")  # the period sweep (Raju et al. Fig. 23): the ones that pay for scoring


def c3_grid(P: Profile) -> list[DynamicSpec]:
    """Chapter C3's runs, longest budget first (the main comparison), for ``P.eval_seeds`` fresh
    seeds: full data at every budget; at the longest, the ``P.c3_core`` selectors at every rate of
    ``P.c3_rates`` and the other selectors at ``P.c3_side_rates``; at shorter budgets the core
    selectors at the aggressive rates (>= 70%) only; the second setting, class-imbalanced
    CIFAR-10 (:data:`IMBALANCE`), with full data and :data:`IMBALANCED_SELECTORS` at
    ``P.c3_imbalanced_rates`` and the longest budget; the period sweep, :data:`PERIOD_SELECTORS`
    at 70% and the longest budget re-selecting every ``P.c3_periods`` passes; then Raju et
    al.'s Table 1 pair at 70% (which needs the uncertainty-EMA runs at 70% first)."""
    seeds = range(P.eval_seeds)
    longest = max(P.c3_epochs)
    grid = []
    for E in sorted(P.c3_epochs, reverse=True):
        grid += [DynamicSpec("full", 0.0, i, E) for i in seeds]
        for r in sorted(set(P.c3_rates) | (set(P.c3_side_rates) if E == longest else set())):
            if E != longest and r < AGGRESSIVE - 1e-9:
                continue
            on = [s for s in C3_SELECTORS if s in P.c3_core or (E == longest and r in P.c3_side_rates)]
            grid += [DynamicSpec(s, r, i, E) for s in on for i in seeds]
    grid += [DynamicSpec("full", 0.0, i, longest, IMBALANCE) for i in seeds]
    grid += [DynamicSpec(s, r, i, longest, IMBALANCE) for r in sorted(P.c3_imbalanced_rates)
             for s in IMBALANCED_SELECTORS for i in seeds]
    grid += [DynamicSpec(s, AGGRESSIVE, i, longest, period=T) for T in sorted(P.c3_periods)
             if T != c3_period(longest) for s in PERIOD_SELECTORS for i in seeds]
    if any(s.selector == "uncertainty_ema" and s.rate == TABLE1_RATE and s.epochs == longest
           and s.imbalance == "none" for s in grid):
        grid += [DynamicSpec(s, TABLE1_RATE, i, longest) for s in ("always_plus_static", "always_plus_random")
                 for i in seeds]
    return grid


def selection_mixture(counts: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """A three-component Gaussian mixture over how often each sample was selected (Raju et al.
    Fig. 3 fit truncated normals by MCMC; a maximum-likelihood fit is enough to mark the groups).
    Returns the component means, weights and the group of every sample: never / sometimes / always."""
    from sklearn.mixture import GaussianMixture

    import warnings

    from sklearn.exceptions import ConvergenceWarning

    x = np.asarray(counts, np.float64).reshape(-1, 1)
    with warnings.catch_warnings():  # fewer than three distinct counts: fewer groups, still a fit
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm = GaussianMixture(3, random_state=seed, n_init=3).fit(x)
    order = np.argsort(gm.means_.ravel())
    rank = np.empty(3, int)
    rank[order] = np.arange(3)
    group = rank[gm.predict(x)]
    return {"means": gm.means_.ravel()[order].tolist(), "stds": np.sqrt(gm.covariances_.ravel()[order]).tolist(),
            "weights": gm.weights_[order].tolist(), "group": group,
            "fractions": [float((group == g).mean()) for g in range(3)], "names": ["never", "sometimes", "always"]}


def _table1_fixed(P: Profile, store: Store, selector: str, eval_index: int) -> tuple[np.ndarray, str]:
    """The fixed rows of Table 1's two runs, from the uncertainty-EMA runs at 70% (same budget)."""
    from .selection import n_keep, top_k

    E = max(P.c3_epochs)
    ref = [dynamic_run(P, store, "uncertainty_ema", TABLE1_RATE, i, E) for i in range(P.eval_seeds)]
    if selector == "always_plus_static":  # top 30% by that seed's final EMA score: one static subset
        score = ref[eval_index].arrays["final_score"]
        return top_k(score, n_keep(len(score), 1 - TABLE1_RATE)), f"top-k final EMA score of seed {eval_index}"
    counts = np.sum([r.arrays["selection_counts"] for r in ref], axis=0)
    always = np.flatnonzero(selection_mixture(counts)["group"] == 2)
    k = n_keep(len(counts), 1 - TABLE1_RATE)
    if len(always) > k // 2:  # too few checkpoints to separate the groups: the most selected half-budget
        final = np.mean([r.arrays["final_score"] for r in ref], axis=0)
        always = np.sort(np.lexsort((final, counts))[::-1][: k // 2])
        return always, f"half-budget of most selected rows of {len(ref)} uncertainty-EMA runs"
    return always, f"always set of {len(ref)} uncertainty-EMA runs"


def c3_run(P: Profile, store: Store, spec: DynamicSpec, force: bool = False) -> Record:
    """The run ``spec`` through the store."""
    if spec.imbalance != "none":
        P = P.replace(imbalance=spec.imbalance)
    if spec.selector == "full":
        return run(P.replace(epochs=spec.epochs), EVAL_SEED_OFFSET + spec.eval_index, store, force=force)
    fixed, tag = None, ""
    if spec.selector.startswith("always_plus_"):
        fixed, tag = _table1_fixed(P, store, spec.selector, spec.eval_index)
    return dynamic_run(P, store, spec.selector, spec.rate, spec.eval_index, spec.epochs, fixed, tag, force,
                       spec.period or None)


def c3_sweep(P: Profile, store: Store, force: bool = False, progress: bool = True) -> list[tuple[DynamicSpec, Record]]:
    """Chapter C3's whole grid through the store (scoring runs first: the static selectors use them)."""
    scoring_runs(P, store)
    out = []
    grid = c3_grid(P)
    for k, spec in enumerate(grid):
        t = time.perf_counter()
        rec = c3_run(P, store, spec, force)
        if progress:
            print(f"[{k + 1}/{len(grid)}] {spec.label}: {rec.metrics['test_acc']:.4f} "
                  f"({time.perf_counter() - t:.0f} s)", flush=True)
        out.append((spec, rec))
    return out


def static_scoring_seconds(P: Profile, store: Store) -> dict[str, float]:
    """What the static selectors' scores cost, charged to them (Raju et al. Fig. 2b): EL2N@10%
    the first 10% of every scoring run plus its scoring passes; forgetting every scoring run."""
    runs = scoring_runs(P, store)
    early = sum(P.early * r.metrics["train_seconds"] for r in runs)
    passes = sum(model_scores(P, store, s, P.early, "train").manifest.get("wall_seconds", 0.0)
                 for s in range(P.scoring_seeds))
    full = sum(r.metrics["train_seconds"] for r in runs)
    return {"random_static": 0.0, "el2n_static": early + passes, "el2n_epsilon_static": early + passes,
            "forgetting_static": full}


def c3_results(P: Profile, store: Store, force: bool = False, imbalance: str = "none",
               period_sweep: bool = False) -> pd.DataFrame:
    """One row per run of :func:`c3_grid` on the training set ``imbalance`` ("none": the main
    comparison), either the main grid or (``period_sweep``) the runs re-selecting every
    ``P.c3_periods`` passes: accuracy, images seen, seconds of training (scoring passes
    included), the period in passes and wall-clock with the static scores' cost charged."""
    charge = static_scoring_seconds(P, store)
    rows = []
    for spec, rec in c3_sweep(P, store, force, progress=False):
        if spec.imbalance != imbalance or bool(spec.period) != period_sweep:
            continue
        m = rec.metrics
        rows.append({"selector": spec.selector, "rate": spec.rate, "epochs": spec.epochs, "seed": rec.config["seed"],
                     "period": spec.period or c3_period(spec.epochs),
                     "test_acc": m["test_acc"], "images_seen": m["images_seen"], "train_seconds": m["train_seconds"],
                     "scoring_seconds": m.get("scoring_seconds", 0.0), "checkpoints": m.get("checkpoints", 0),
                     "wallclock_s": m["train_seconds"] + charge.get(spec.selector, 0.0)})
    return pd.DataFrame(rows)


def c3_accuracy(results: pd.DataFrame, epochs: int) -> pd.DataFrame:
    """Per (selector, rate) at budget ``epochs``: accuracy mean/std/16th-84th percentiles and mean
    wall-clock (columns named as :func:`plots.accuracy_vs_pruned` expects: score, prune)."""
    d = results[(results.epochs == epochs) & (results.selector != "full")]
    rows = []
    for (sel, rate), g in d.groupby(["selector", "rate"], sort=False):
        s = summarize(g.test_acc)
        rows.append({"score": sel, "prune": rate, "mean": s.mean, "std": s.std, "p16": s.p16, "p84": s.p84,
                     "seeds": s.n, "wallclock_s": float(g.wallclock_s.mean()),
                     "train_seconds": float(g.train_seconds.mean()), "images_seen": float(g.images_seen.mean())})
    return pd.DataFrame(rows)


def c3_pooled_sd(results: pd.DataFrame, epochs: int) -> tuple[float, int]:
    """The seed-to-seed standard deviation of accuracy pooled over every (selector, rate) cell at
    budget ``epochs``, and its degrees of freedom (the spread behind every C3 interval)."""
    from .stats import pooled_sd

    d = results[results.epochs == epochs]
    return pooled_sd([g.test_acc for _, g in d.groupby(["selector", "rate"])])


def c3_compare(results: pd.DataFrame, a: str, b: str, epochs: int, rate_b: dict[float, float] | None = None
               ) -> pd.DataFrame:
    """Accuracy of selector ``a`` minus ``b`` at every rate of ``a`` (``b`` at ``rate_b[rate]`` when
    given), with the pooled-t interval of the budget."""
    from .stats import pooled_diff_ci

    sd, dof = c3_pooled_sd(results, epochs)
    d = results[results.epochs == epochs]
    rows = []
    for rate in sorted(d[d.selector == a].rate.unique()):
        rb = (rate_b or {}).get(rate, rate)
        x, y = d[(d.selector == a) & (d.rate == rate)].test_acc, d[(d.selector == b) & (d.rate == rb)].test_acc
        if len(x) and len(y):
            diff, lo, hi = pooled_diff_ci(x, y, sd, dof)
            rows.append({"a": a, "b": b, "rate": rate, "rate_b": rb, "diff": diff, "lo": lo, "hi": hi})
    return pd.DataFrame(rows, columns=["a", "b", "rate", "rate_b", "diff", "lo", "hi"])


def _wins(cmp: pd.DataFrame, min_rate: float = 0.0) -> bool | None:
    """Above zero at one rate >= min_rate or more and below at none; None when the two were not
    both run at any such rate (the verdict is then "not run", never "no")."""
    c = cmp[cmp.rate >= min_rate - 1e-9]
    if not len(c):
        return None
    return bool((c.lo > 0).any()) and not bool((c.hi < 0).any())


def _beats_everywhere(cmps: list[pd.DataFrame], min_rate: float) -> bool | None:
    """Every interval at every rate >= min_rate of every comparison lies above zero (None: not run)."""
    cs = [c[c.rate >= min_rate - 1e-9] for c in cmps]
    if not all(len(c) for c in cs):
        return None
    return all(bool((c.lo > 0).all()) for c in cs)


# The comparisons behind the verdicts, a minus b: name -> (a, b).
C3_COMPARISONS = {
    "random_dynamic_vs_el2n_static": ("random_dynamic", "el2n_static"),
    "random_dynamic_vs_forgetting_static": ("random_dynamic", "forgetting_static"),
    "random_dynamic_vs_random_static": ("random_dynamic", "random_static"),
    "ucb_vs_random_dynamic": ("ucb", "random_dynamic"),
    "ucb_vs_uncertainty_ema": ("ucb", "uncertainty_ema"),
    "epsilon_greedy_vs_uncertainty_ema": ("epsilon_greedy", "uncertainty_ema"),
    "epsilon_greedy_vs_random_dynamic": ("epsilon_greedy", "random_dynamic"),
    "el2n_epsilon_static_vs_el2n_static": ("el2n_epsilon_static", "el2n_static"),
    "always_plus_random_vs_always_plus_static": ("always_plus_random", "always_plus_static"),
}


def c3_differences(results: pd.DataFrame, epochs: int, pairs: Iterable[tuple[str, str]] | None = None
                   ) -> pd.DataFrame:
    """Every comparison ``(a, b)`` of ``pairs`` (default :data:`C3_COMPARISONS`) at budget
    ``epochs``, one row per rate where both selectors ran: the difference in mean accuracy with
    its pooled-t 95% interval (columns named as :func:`plots.difference_to_random` expects: score
    is the comparison, prune the rate)."""
    frames = [c3_compare(results, a, b, epochs).assign(score=f"{_name(a)} − {_name(b)}")
              for a, b in (pairs or C3_COMPARISONS.values())]
    d = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) else \
        pd.DataFrame(columns=["a", "b", "rate", "rate_b", "diff", "lo", "hi", "score"])
    return d.assign(prune=d.rate, epochs=epochs)


def _name(selector: str) -> str:
    from .plots import SCORE_LABELS

    return SCORE_LABELS.get(selector, selector)


def c3_speedup(results: pd.DataFrame, epochs: int, selector: str, rate: float = AGGRESSIVE) -> dict[str, float]:
    """End-to-end speed-up of ``selector`` at ``rate`` over full data at budget ``epochs``, and its
    parts: seconds per pass of training on the kept subset, seconds per scoring pass, and the
    speed-up projected for a re-selection every T passes (full-data seconds per pass divided by
    training per pass plus scoring per pass / T) at T = 1, 2, 5, 10 (10: Raju et al.'s spacing),
    and the training throughput (img/s) of the full-data runs and of the selector's: the measured
    speed-up can pass the ideal 1/(1 - rate) only if the two differ. ``matched``: the speed-up at
    equal throughput (:func:`matched_speedup`), free of the drift between runs timed apart."""
    d = results[results.epochs == epochs]
    full = d[d.selector == "full"].train_seconds.mean() / epochs
    g = d[(d.selector == selector) & (np.isclose(d.rate, rate))]
    if not len(g) or not np.isfinite(full):
        return {}
    train_pass = float((g.train_seconds - g.scoring_seconds).mean()) / epochs
    checkpoints = float(g.checkpoints.mean())
    score_pass = float(g.scoring_seconds.mean()) / checkpoints if checkpoints else 0.0
    n_full = float(d[d.selector == "full"].images_seen.mean()) / epochs
    out = {"measured": float(full * epochs / g.train_seconds.mean()), "matched": matched_speedup(d, g),
           "full_s_per_pass": float(full),
           "train_s_per_pass": train_pass, "scoring_s_per_pass": score_pass, "ideal": 1 / (1 - rate),
           "full_img_s": n_full / float(full), "train_img_s": float(g.images_seen.mean()) / epochs / train_pass}
    for T in (1, 2, 5, 10):
        out[f"period_{T}"] = float(full / (train_pass + score_pass / T))
    return out


def matched_speedup(budget: pd.DataFrame, runs: pd.DataFrame) -> float:
    """Speed-up of ``runs`` over the full-data runs of ``budget`` at equal training throughput:
    (images a full-data run sees / images the run trains on) x (the share of the run's seconds
    spent training rather than scoring). Timed separately on a shared machine, runs differ in
    throughput by 10-20%; this figure keeps what the method costs and drops that drift."""
    n_full = float(budget[budget.selector == "full"].images_seen.mean())
    share = float(((runs.train_seconds - runs.scoring_seconds) / runs.train_seconds).mean())
    return n_full / float(runs.images_seen.mean()) * share


def goal_met(speedups: Iterable[float], goal: float = 2.5) -> bool:
    """The speed-up goal counts as met only if every figure given (measured, matched) reaches it."""
    return all(x >= goal for x in speedups)


def c3_period_sweep(P: Profile, results: pd.DataFrame, sweep: pd.DataFrame) -> dict[str, Any]:
    """Raju et al.'s period sweep (App., Fig. 23) at 70% pruned and the longest budget: for each
    of :data:`PERIOD_SELECTORS` and each period T (passes between re-selections; the main grid's
    :func:`c3_period` first), accuracy (mean, std), the measured and the throughput-matched
    speed-up over full data with scoring included, and the difference to the same selector at
    the main period with the pooled-t 95% interval of the budget (main-grid cells plus these).

    Verdicts, fixed before the runs: ``<selector>_every_<T>_beats_every_<main>``: the interval
    of that difference lies above zero (None: not run); ``speedup_goal_met_every_<T>``: UCB
    re-selecting every T passes is at least 2.5x faster than full data, measured and matched.
    """
    E = max(P.c3_epochs)
    main = c3_period(E)
    d = results[results.epochs == E]
    sw = sweep[(sweep.epochs == E) & np.isclose(sweep.rate, AGGRESSIVE)] if len(sweep) else d.iloc[:0].assign(period=0)
    tagged = pd.concat([d, sw.assign(selector=sw.selector + "@" + sw.period.astype(str))], ignore_index=True)
    rows, verdict = [], {}
    for s in PERIOD_SELECTORS:
        for T in [main] + sorted(set(sw.period) - {main}):
            name = s if T == main else f"{s}@{T}"
            g = tagged[(tagged.selector == name) & np.isclose(tagged.rate, AGGRESSIVE)]
            if not len(g):
                continue
            st = summarize(g.test_acc)
            speed = c3_speedup(tagged, E, name)
            row = {"selector": s, "period": int(T), "acc_mean": st.mean, "acc_std": st.std,
                   "checkpoints": float(g.checkpoints.mean()), "train_seconds": float(g.train_seconds.mean()),
                   "scoring_seconds": float(g.scoring_seconds.mean()),
                   "speedup_measured": speed["measured"], "speedup_matched": speed["matched"],
                   "diff": None, "lo": None, "hi": None}  # the reference row: no difference to itself
            if T != main:
                c = c3_compare(tagged, name, s, E)
                c = c[np.isclose(c.rate, AGGRESSIVE)]
                row.update(diff=float(c["diff"].iloc[0]), lo=float(c.lo.iloc[0]), hi=float(c.hi.iloc[0]))
                verdict[f"{s}_every_{T}_beats_every_{main}"] = bool(row["lo"] > 0)
                if s == "ucb":
                    verdict[f"speedup_goal_met_every_{T}"] = goal_met([row["speedup_measured"], row["speedup_matched"]])
            rows.append(row)
    return {"epochs": E, "rate": AGGRESSIVE, "main_period": main, "rows": rows, "verdict": verdict}


def c3_summary(P: Profile, results: pd.DataFrame, imbalanced: pd.DataFrame | None = None,
               periods: pd.DataFrame | None = None) -> dict[str, Any]:
    """Headline numbers and computed verdicts of chapter C3 (``summary.json`` section ``c3``), at
    the longest budget of ``P.c3_epochs`` (every verdict also per budget under ``by_budget``).

    Verdict rules (each None, "not run", when the runs it needs are not in the grid at that
    budget): ``random_dynamic_beats_static``: at every rate >= 0.7 the interval of random
    dynamic minus each of EL2N-static and forgetting-static lies above zero. ``<a>_beats_<b>``
    (the pairs of :data:`C3_COMPARISONS`, including Table 1's always + random against always +
    static): above zero at some rate >= 0.7 and below at none. ``infobatch_beats_random_dynamic_at_equal_cost``:
    InfoBatch against random dynamic at the rate nearest the share of images InfoBatch skipped,
    same rule over all rates. ``wallclock_saving_real``: random dynamic and UCB at 70% finish
    faster end to end (scoring included) than full data; ``speedup_goal_met``: both at least
    2.5x faster, measured and at matched throughput (:func:`matched_speedup`).
    ``static_el2n_saves_wallclock``: EL2N-static with its scores' cost charged is faster than full data.
    With the ``imbalanced`` runs, section ``imbalanced`` (:func:`c3_imbalanced_summary`) and the
    verdict ``imbalanced_ucb_beats_random_dynamic``; with the ``periods`` runs, section
    ``period_sweep`` (:func:`c3_period_sweep`) and its verdicts.
    """
    def one(E: int) -> dict[str, Any]:
        acc = c3_accuracy(results, E)
        full = results[(results.epochs == E) & (results.selector == "full")]
        f = summarize(full.test_acc)
        key = lambda r: f"{r:g}"  # noqa: E731
        out: dict[str, Any] = {name: _per_rate(acc, col) for name, col in (
            ("acc_mean", "mean"), ("acc_std", "std"), ("wallclock_s", "wallclock_s"), ("train_seconds", "train_seconds"))}
        out["acc_mean"]["full"], out["acc_std"]["full"] = f.mean, f.std
        out["wallclock_s"]["full"] = float(full.wallclock_s.mean())
        v: dict[str, bool | None] = {}
        cmp = {name: c3_compare(results, a, b, E) for name, (a, b) in C3_COMPARISONS.items()}
        v["random_dynamic_beats_static"] = _beats_everywhere(
            [cmp["random_dynamic_vs_el2n_static"], cmp["random_dynamic_vs_forgetting_static"]], AGGRESSIVE)
        for name in ("ucb_vs_uncertainty_ema", "epsilon_greedy_vs_uncertainty_ema", "ucb_vs_random_dynamic",
                     "epsilon_greedy_vs_random_dynamic", "el2n_epsilon_static_vs_el2n_static",
                     "random_dynamic_vs_random_static", "always_plus_random_vs_always_plus_static"):
            v[name.replace("_vs_", "_beats_")] = _wins(cmp[name], AGGRESSIVE)
        ib = acc[acc.score == "infobatch"]
        full_images = float(full.images_seen.mean()) if len(full) else float("nan")
        nearest = {r.prune: min(P.c3_rates, key=lambda q: abs(q - (1 - r.images_seen / full_images)))
                   for _, r in ib.iterrows()}
        ib_cmp = c3_compare(results, "infobatch", "random_dynamic", E, nearest)
        out["infobatch_skipped"] = {key(r.prune): 1 - r.images_seen / full_images for _, r in ib.iterrows()}
        v["infobatch_beats_random_dynamic_at_equal_cost"] = _wins(ib_cmp)
        speed = {s: out["wallclock_s"]["full"] / out["wallclock_s"][s][key(AGGRESSIVE)]
                 for s in ("random_dynamic", "ucb", "el2n_static", "forgetting_static")
                 if key(AGGRESSIVE) in out["wallclock_s"].get(s, {})}
        out["speedup_at_0.7"] = speed
        out["speedup_parts_at_0.7"] = {s: c3_speedup(results, E, s) for s in ("random_dynamic", "ucb")}
        have = "random_dynamic" in speed and "ucb" in speed
        v["wallclock_saving_real"] = bool(speed["random_dynamic"] > 1 and speed["ucb"] > 1) if have else None
        parts = out["speedup_parts_at_0.7"]
        v["speedup_goal_met"] = goal_met([speed["random_dynamic"], speed["ucb"], parts["random_dynamic"]["matched"],
                                          parts["ucb"]["matched"]]) if have else None
        v["static_el2n_saves_wallclock"] = bool(speed["el2n_static"] > 1) if "el2n_static" in speed else None
        out["verdict"] = v
        return out

    budgets = sorted(P.c3_epochs)
    by_budget = {str(E): one(E) for E in budgets}
    main = dict(by_budget[str(budgets[-1])])
    main.update({"by_budget": by_budget, "epochs": budgets[-1], "model": P.model, "eval_seeds": P.eval_seeds,
                 "params": {**C3_PARAMS, "period_passes": c3_period(budgets[-1])},
                 "scale": f"{P.model}, {budgets[-1]} epochs over the kept subset, {P.eval_seeds} seeds per point"})
    if imbalanced is not None and len(imbalanced):
        main["imbalanced"] = c3_imbalanced_summary(P, imbalanced)
        main["verdict"] = {**main["verdict"],
                           "imbalanced_ucb_beats_random_dynamic": main["imbalanced"]["verdict"]["ucb_beats_random_dynamic"]}
    if periods is not None:  # empty when the profile sweeps no period but the main one
        main["period_sweep"] = c3_period_sweep(P, results, periods)
        main["verdict"] = {**main["verdict"], **main["period_sweep"]["verdict"]}
    return main


def c3_imbalanced_summary(P: Profile, results: pd.DataFrame) -> dict[str, Any]:
    """C3's second setting (``c3.imbalanced`` in ``summary.json``): accuracy per selector and rate
    on class-imbalanced CIFAR-10 at the longest budget, full data, and ``<a>_beats_<b>`` verdicts
    by the rule of :func:`c3_summary` (above zero at some rate >= 0.7, below at none). Raju et al.
    (Fig. 8a) report UCB above random dynamic there at rates above 50%."""
    E = max(P.c3_epochs)
    acc = c3_accuracy(results, E)
    full = summarize(results[(results.epochs == E) & (results.selector == "full")].test_acc)
    out: dict[str, Any] = {
        "acc_mean": _per_rate(acc, "mean"), "acc_std": _per_rate(acc, "std"), "imbalance": IMBALANCE, "epochs": E, "n_train": device_data(P.replace(imbalance=IMBALANCE)).n_train}
    out["acc_mean"]["full"], out["acc_std"]["full"] = full.mean, full.std
    out["verdict"] = {f"{a}_beats_{b}": _wins(c3_compare(results, a, b, E), AGGRESSIVE) for a, b in IMBALANCED_COMPARISONS}
    return out


def c3_selection_counts(P: Profile, store: Store, selector: str = "uncertainty_ema", rate: float = TABLE1_RATE
                        ) -> dict[str, Any]:
    """How often each sample was selected, summed over seeds (Raju et al. Fig. 3), with the
    three-component mixture fit, for ``selector`` at ``rate`` and the longest budget."""
    E = max(P.c3_epochs)
    recs = [dynamic_run(P, store, selector, rate, i, E) for i in range(P.eval_seeds)]
    counts = np.sum([r.arrays["selection_counts"] for r in recs], axis=0)
    total = int(sum(r.metrics["checkpoints"] for r in recs))
    return {"counts": counts, "checkpoints": total, "mixture": selection_mixture(counts)}


def c3_samples_seen(P: Profile, store: Store, rate: float = 0.8) -> pd.DataFrame:
    """Test accuracy against images seen during training at ``rate`` (Raju et al. Fig. 5): full
    data, the static and the dynamic selectors, every seed, the longest budget."""
    E = max(P.c3_epochs)
    frames = []
    for spec in c3_grid(P):
        if spec.epochs != E or (spec.selector != "full" and spec.rate != rate) or spec.selector.startswith("always"):
            continue
        if spec.imbalance != "none" or spec.period:
            continue
        if spec.selector in C3_OTHER:
            continue
        h = history_frame(c3_run(P, store, spec))
        frames.append(h.assign(selector=spec.selector))
    return pd.concat(frames, ignore_index=True)


def c3_histories(P: Profile, store: Store, rate: float, selectors: Iterable[str]) -> pd.DataFrame:
    """The per-pass history (training loss and accuracy on the current selection, images seen)
    of every seed of ``selectors`` at ``rate`` and the longest budget, with selector and seed."""
    E = max(P.c3_epochs)
    return pd.concat([history_frame(dynamic_run(P, store, s, rate, i, E)).assign(selector=s, seed=i)
                      for s in selectors for i in range(P.eval_seeds)], ignore_index=True)


def c3_selected_per_class(P: Profile, store: Store, rate: float, selectors: Iterable[str]) -> pd.DataFrame:
    """Examples of each class in the selection, averaged over checkpoints and seeds, for
    ``selectors`` at ``rate`` and the longest budget (a loss-driven selection can starve or flood
    classes, as score-ordered static subsets do)."""
    from .data import load_dataset

    E = max(P.c3_epochs)
    classes = load_dataset(P.dataset).classes
    y = device_data(P).y_train.cpu().numpy()
    rows = []
    for s in selectors:
        recs = [dynamic_run(P, store, s, rate, i, E) for i in range(P.eval_seeds)]
        counts = np.sum([r.arrays["selection_counts"] for r in recs], axis=0)
        per = np.bincount(y, weights=counts, minlength=len(classes)) / sum(r.metrics["checkpoints"] for r in recs)
        rows += [{"selection": _name(s), "class": classes[c], "count": int(round(n))} for c, n in enumerate(per)]
    return pd.DataFrame(rows)


def c3_table1(results: pd.DataFrame, epochs: int) -> pd.DataFrame:
    """Raju et al. Table 1 at 70% pruned: uncertainty EMA, always + static sometimes, always +
    random sometimes (mean ± std across seeds, %), beside the published numbers."""
    published = {"uncertainty_ema": 93.33, "always_plus_static": 89.52, "always_plus_random": 92.50}
    d = results[(results.epochs == epochs) & (results.rate == TABLE1_RATE)]
    rows = []
    for sel, pub in published.items():
        g = d[d.selector == sel].test_acc
        if len(g):
            s = summarize(g)
            rows.append({"selection": _name(sel), "ours (%)": f"{s.mean * 100:.2f} ± {s.std * 100:.2f}",
                         "Raju et al. (%, ResNet-18, 200 epochs)": pub})
    return pd.DataFrame(rows).set_index("selection")


def c3_rate_table(results: pd.DataFrame, epochs: int, rate: float = AGGRESSIVE) -> pd.DataFrame:
    """Every selector run at ``rate`` and budget ``epochs``: accuracy (mean ± std across seeds, %),
    seconds per run (scoring passes included; static scores charged separately), speed-up over
    full data, and the difference to random dynamic with its 95% interval (percentage points)."""
    acc = c3_accuracy(results, epochs)
    acc = acc[np.isclose(acc.prune, rate)]
    full = results[(results.epochs == epochs) & (results.selector == "full")]
    full_s = float(full.train_seconds.mean())
    rows = []
    for _, r in acc.iterrows():
        row = {"selector": _name(r.score), "accuracy (%)": f"{r['mean'] * 100:.1f} ± {r['std'] * 100:.1f}",
               "seconds per run": f"{r.train_seconds:.0f}", "with scores charged (s)": f"{r.wallclock_s:.0f}",
               "speed-up, scores charged": f"{full_s / r.wallclock_s:.2f}×"}
        if r.score != "random_dynamic":
            c = c3_compare(results, r.score, "random_dynamic", epochs)
            c = c[np.isclose(c.rate, rate)]
            row["minus random dynamic (pp) [95% CI]"] = (f"{c['diff'].iloc[0] * 100:+.1f} [{c.lo.iloc[0] * 100:+.1f}, "
                                                        f"{c.hi.iloc[0] * 100:+.1f}]") if len(c) else ""
        else:
            row["minus random dynamic (pp) [95% CI]"] = "(reference)"
        rows.append(row)
    f = summarize(full.test_acc)
    rows.append({"selector": "full data", "accuracy (%)": f"{f.mean * 100:.1f} ± {f.std * 100:.1f}",
                 "seconds per run": f"{full_s:.0f}", "with scores charged (s)": f"{full_s:.0f}",
                 "speed-up, scores charged": "1.00×", "minus random dynamic (pp) [95% CI]": ""})
    return pd.DataFrame(rows).set_index("selector")


def c3_speedup_table(summary: dict[str, Any]) -> pd.DataFrame:
    """The measured end-to-end speed-up at 70% pruned, its parts, and the speed-up the same parts
    give when re-selecting every T passes (:func:`c3_speedup`), per budget."""
    rows = []
    for E, s in summary["by_budget"].items():
        for sel, parts in s["speedup_parts_at_0.7"].items():
            if parts:
                rows.append({"budget (epochs)": int(E), "selector": _name(sel),
                             "measured speed-up": f"{parts['measured']:.2f}×",
                             "at matched throughput": f"{parts['matched']:.2f}×",
                             "full data (s/pass)": f"{parts['full_s_per_pass']:.1f}",
                             "training on 30% (s/pass)": f"{parts['train_s_per_pass']:.1f}",
                             "scoring pass (s)": f"{parts['scoring_s_per_pass']:.1f}",
                             "full data (img/s)": f"{parts['full_img_s']:.0f}",
                             "training on 30% (img/s)": f"{parts['train_img_s']:.0f}",
                             **{f"T = {T} passes": f"{parts[f'period_{T}']:.2f}×" for T in (1, 2, 5, 10)},
                             "ideal": f"{parts['ideal']:.2f}×"})
    return pd.DataFrame(rows).set_index(["budget (epochs)", "selector"])


def c3_period_plan(P: Profile) -> str:
    """What the chapter's period sweep runs at profile ``P``, in one or two sentences."""
    E = max(P.c3_epochs)
    main = c3_period(E)
    longer = sorted(set(P.c3_periods) - {main})
    every = "one pass" if main == 1 else f"{main} passes"
    if not longer:
        return (f"This profile runs no such sweep (its field c3_periods adds no period to the main grid's {every}), "
                "so the table holds the main grid's loss-driven runs only; the papermill parameter "
                "c3_periods = [2, 4] adds the sweep. The cpu profile leaves it out because its grid was computed "
                "in bf16 on an AVX-512 host: runs added on a host without native bf16 run in fp32 at a fraction "
                "of the speed, and neither their accuracy nor their seconds would compare with the rest.")
    return (f"We repeat that sweep at 70% pruned and {E} epochs: uncertainty EMA and UCB re-selecting every "
            f"{' or '.join(str(T) for T in longer)} passes, {P.eval_seeds} seeds each, against the main grid's {every}.")


def c3_period_table(summary: dict[str, Any]) -> pd.DataFrame:
    """The period sweep (:func:`c3_period_sweep`) as a table: accuracy, re-selections, seconds
    and speed-ups per selector and period, and the difference to the main period."""
    sw = summary["period_sweep"]
    rows = []
    for r in sw["rows"]:
        main = r["period"] == sw["main_period"]
        rows.append({"selector": _name(r["selector"]), "re-select every (passes)": r["period"],
                     "re-selections": f"{r['checkpoints']:.0f}",
                     "accuracy (%)": f"{r['acc_mean'] * 100:.1f} ± {r['acc_std'] * 100:.1f}",
                     "minus every pass (pp) [95% CI]": "(main grid)" if main else
                     f"{r['diff'] * 100:+.1f} [{r['lo'] * 100:+.1f}, {r['hi'] * 100:+.1f}]",
                     "scoring (s)": f"{r['scoring_seconds']:.0f}", "seconds per run": f"{r['train_seconds']:.0f}",
                     "speed-up, measured": f"{r['speedup_measured']:.2f}×",
                     "at matched throughput": f"{r['speedup_matched']:.2f}×"})
    return pd.DataFrame(rows).set_index(["selector", "re-select every (passes)"])


def _verb(v: bool | None) -> str:
    return {True: "beats", False: "does not beat", None: "was not run against"}[v]


def c3_verdict_text(summary: dict[str, Any]) -> str:
    """The chapter's closing paragraph from the computed verdicts, per budget."""
    parts = []
    for E, s in summary["by_budget"].items():
        v = s["verdict"]
        sp = s["speedup_at_0.7"]
        text = (f"At {E} epochs over the kept subset, random dynamic {_verb(v['random_dynamic_beats_static'])} "
                "static EL2N and forgetting at every rate of 70% or more, and "
                f"{_verb(v['random_dynamic_beats_random_static'])} a static random subset; "
                f"UCB {_verb(v['ucb_beats_uncertainty_ema'])} uncertainty EMA and "
                f"{_verb(v['ucb_beats_random_dynamic'])} random dynamic; ε-greedy "
                f"{_verb(v['epsilon_greedy_beats_uncertainty_ema'])} uncertainty EMA; InfoBatch "
                f"{_verb(v['infobatch_beats_random_dynamic_at_equal_cost'])} random dynamic at equal cost.")
        if v["always_plus_random_beats_always_plus_static"] is not None:
            text += (" In Table 1's test, the always set plus a re-drawn random rest "
                     f"{_verb(v['always_plus_random_beats_always_plus_static'])} the always set plus a fixed rest.")
        if "random_dynamic" in sp and "ucb" in sp:
            text += (f" At 70% pruned, end to end with scoring, random dynamic runs {sp['random_dynamic']:.2f}× and "
                     f"UCB {sp['ucb']:.2f}× faster than full data "
                     + ("(the 2.5× goal is met)" if v["speedup_goal_met"] else "(short of the 2.5× goal)") + ".")
        if "el2n_static" in sp:
            text += (f" Static EL2N with its scores charged runs at {sp['el2n_static']:.2f}× the speed of full data"
                     + (", a saving." if v["static_el2n_saves_wallclock"] else ", slower than full data."))
        parts.append(text)
    sw = summary.get("period_sweep")
    longer = sorted({r["period"] for r in sw["rows"]} - {sw["main_period"]}) if sw else []
    if longer:
        v, main = sw["verdict"], sw["main_period"]
        helps = [f"every {T} passes {'beats' if v.get(f'{s}_every_{T}_beats_every_{main}') else 'does not beat'} "
                 f"every {'pass' if main == 1 else f'{main} passes'} for {_name(s)}"
                 for s in PERIOD_SELECTORS for T in longer if f"{s}_every_{T}_beats_every_{main}" in v]
        met = [T for T in longer if v.get(f"speedup_goal_met_every_{T}")]
        parts.append(f"In the period sweep at 70% pruned ({sw['epochs']} epochs), re-selecting " + "; ".join(helps)
                     + ". UCB reaches the 2.5× goal, measured and at matched throughput, "
                     + (f"re-selecting every {' or '.join(str(T) for T in met)} passes." if met else
                        "at none of the periods run."))
    imb = summary.get("imbalanced")
    if imb:
        v = imb["verdict"]
        parts.append(f"On class-imbalanced CIFAR-10 ({imb['epochs']} epochs), UCB {_verb(v['ucb_beats_random_dynamic'])} "
                     f"random dynamic, ε-greedy {_verb(v['epsilon_greedy_beats_random_dynamic'])} it and uncertainty "
                     f"EMA {_verb(v['uncertainty_ema_beats_random_dynamic'])} it.")
    return " ".join(parts)
