"""The one training function, readable top to bottom, in sections as in airbench's file: data,
net, optimiser, loop, evaluation.

The whole dataset sits on the training device as one normalised tensor and is augmented a
batch at a time there, so the hot loop is: index, augment, forward, backward, step. No
DataLoader, no per-image transforms.

Two budgets (Paul et al. App. B and Raju et al. §3):

- ``"iterations"``: the same number of steps whatever the subset size, namely ``epochs``
  passes over the *full* training set (static pruning: a 50% subset is seen twice as often);
- ``"epochs"``: ``epochs`` passes over the *current* subset, which hooks may swap between
  passes (dynamic pruning: cost falls with the pruning rate).

Hooks see per-sample losses and correctness of every minibatch (for forgetting events and
loss-driven selectors). Checkpoints are taken at requested fractions of training.

The forward and backward run eager, or compiled where ``profile.compile`` says so
(:mod:`engine`); the schedule, the optimiser's groups and the lookahead are the profile's
recipe (:mod:`recipe`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm  # not tqdm.auto: it warns in kernels without ipywidgets

from . import ParameterError
from .devices import autocast, autocast_dtype, device_name, precision_name, select_device
from .data import IMBALANCES, Dataset, balanced_subset, load_dataset, subsample_classes
from .models import WHITENING_IMAGES, build_model, channels_last, fit_whitening, is_convolutional, whitening_layer
from .profiles import BUDGETS, Profile
from .engine import compiled, mark_step
from .recipe import Lookahead, lr_at, optimiser, set_lr
from .tensors import augment, channel_stats, to_tensor, translate_altflip


# --------------------------------------------------------------------------- data on the device

@dataclass
class DeviceData:
    """A dataset normalised with training statistics, resident on the training device.

    ``train_index`` maps row ``i`` of ``x_train`` to its index in the original training set.
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    train_index: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    num_classes: int
    device: torch.device

    @property
    def n_train(self) -> int:
        return int(self.y_train.shape[0])

    @property
    def pad_fill(self) -> torch.Tensor:
        """Normalised value of a black pixel, so padding matches torchvision's RandomCrop(padding=4)."""
        return torch.as_tensor(-self.mean / self.std, dtype=self.x_train.dtype, device=self.device)


def prepare(ds: Dataset, profile: Profile, device: torch.device | None = None) -> DeviceData:
    """Normalise ``ds`` with its training statistics and move it to the device.

    ``profile.train_size`` keeps a class-balanced subset (seed 0, original order); then
    ``profile.imbalance`` sub-samples the classes (:data:`data.IMBALANCES`);
    ``profile.test_size`` keeps the first test examples (the test set stays balanced).
    """
    device = device or select_device(profile.device)
    idx = np.arange(len(ds.y_train))
    if profile.train_size is not None and profile.train_size < len(idx):
        idx = balanced_subset(ds.y_train, profile.train_size, seed=0)
    shares = IMBALANCES[profile.imbalance]
    if shares is not None:  # seed 0, original order, as for train_size
        if len(shares) != ds.num_classes:
            raise ParameterError(f"parameter 'imbalance' {profile.imbalance} needs a dataset with {len(shares)} "
                                 f"classes; {ds.name} has {ds.num_classes}")
        idx = idx[subsample_classes(ds.y_train[idx], shares, seed=0)]
    n_test = len(ds.y_test) if profile.test_size is None else min(profile.test_size, len(ds.y_test))
    mean, std = channel_stats(ds.x_train)
    return DeviceData(
        name=ds.name,
        x_train=to_tensor(ds.x_train[idx], mean, std, device),
        y_train=torch.from_numpy(ds.y_train[idx]).to(device),
        x_test=to_tensor(ds.x_test[:n_test], mean, std, device),
        y_test=torch.from_numpy(ds.y_test[:n_test]).to(device),
        train_index=idx, mean=mean, std=std, num_classes=ds.num_classes, device=device)


# --------------------------------------------------------------------------- hooks and results

@dataclass
class BatchInfo:
    """What a hook sees after each optimiser step. ``indices`` are rows of ``DeviceData``."""

    step: int
    epoch: int
    indices: torch.Tensor
    loss: torch.Tensor      # per-sample cross-entropy, float32, detached
    correct: torch.Tensor   # per-sample bool: argmax == label


@dataclass
class Hooks:
    """Optional callbacks.

    ``on_batch(info)`` runs after every step. ``select(epoch, model)`` runs before every pass
    over the training subset and may return new subset rows (a 1-D int array) to train on.
    ``loss_weight(rows)`` gives each sample's weight in the batch loss (InfoBatch's rescaling).
    ``filter(rows, model)`` sees every candidate batch and returns the rows to back-propagate
    (Selective-Backprop); kept rows are pooled until a full batch is ready, and the run then
    takes ``epochs * n / batch_size * keep_fraction`` steps, so its cost falls with the filter.
    """

    on_batch: Callable[[BatchInfo], None] | None = None
    select: Callable[[int, nn.Module], np.ndarray | None] | None = None
    loss_weight: Callable[[torch.Tensor], torch.Tensor] | None = None
    filter: Callable[[torch.Tensor, nn.Module], torch.Tensor] | None = None
    keep_fraction: float = 1.0


@dataclass
class TrainResult:
    model: nn.Module
    checkpoints: dict[float, dict[str, torch.Tensor]]
    history: list[dict[str, float]]
    test_acc: float
    test_loss: float
    steps: int
    images_seen: int
    train_seconds: float
    eval_seconds: float
    precision: str = "fp32"  # what the autocast resolved to: fp32, bfloat16 or float16
    compile: str = "off"     # the engine: profile.compile
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def img_per_s(self) -> float:
        return self.images_seen / max(self.train_seconds, 1e-9)


def snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    """A CPU copy of the model's parameters and buffers."""
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


# --------------------------------------------------------------------------- evaluation

@torch.no_grad()
def logits_of(model: nn.Module, x: torch.Tensor, batch_size: int = 1000,
              amp: torch.dtype | None = None) -> torch.Tensor:
    """Logits (float32) of ``model`` in eval mode for every row of ``x``, batch by batch."""
    model.eval()
    out = []
    for i in range(0, x.shape[0], batch_size):
        xb = x[i:i + batch_size]
        xb = channels_last(xb, model)
        with autocast(x.device, amp):
            out.append(model(xb).float())
    return torch.cat(out)


def tta_logits(model: nn.Module, x: torch.Tensor, batch_size: int = 1000,
               amp: torch.dtype | None = None) -> torch.Tensor:
    """airbench's test-time augmentation (Jordan 2024): each image and its mirror averaged, at no
    shift (weight 1/2) and at a one-pixel shift each way along both axes (reflect-padded, 1/4
    each): six forward passes per image. Only the recipe's reported accuracy uses it."""
    def mirrored(v: torch.Tensor) -> torch.Tensor:
        return 0.5 * (logits_of(model, v, batch_size, amp) + logits_of(model, v.flip(3), batch_size, amp))
    h, w = x.shape[2:]
    padded = F.pad(x, (1, 1, 1, 1), mode="reflect")
    shifted = [padded[:, :, :h, :w], padded[:, :, 2:, 2:]]
    return 0.5 * mirrored(x) + 0.25 * sum(mirrored(v) for v in shifted)


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000,
             amp: torch.dtype | None = None, tta: bool = False) -> tuple[float, float]:
    """(accuracy, mean cross-entropy) of ``model`` on (x, y), with :func:`tta_logits` if ``tta``."""
    logits = (tta_logits if tta else logits_of)(model, x, batch_size, amp)
    return float((logits.argmax(1) == y).float().mean()), float(F.cross_entropy(logits, y))


# --------------------------------------------------------------------------- data order and augmentation

def _batches(rows: torch.Tensor, batch_size: int, gen: torch.Generator) -> Iterator[torch.Tensor]:
    """A shuffled pass over ``rows`` in full batches (the remainder is dropped, a different one
    each pass), so every step sees ``batch_size`` images whatever the subset size."""
    perm = rows[torch.randperm(len(rows), generator=gen, device=gen.device).to(rows.device)]
    if len(perm) < batch_size:
        yield perm
        return
    yield from perm[: len(perm) - len(perm) % batch_size].split(batch_size)


def batch_of(data: DeviceData, idx: torch.Tensor, augmented: bool, gen: torch.Generator,
             conv: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """The training batch of rows ``idx``: gathered, augmented (pad-crop-flip) and, for a
    convolutional net, in channels_last."""
    xb = data.x_train[idx]
    if augmented:
        xb = augment(xb, gen, fill=data.pad_fill)
    return (channels_last(xb) if conv else xb), data.y_train[idx]


def augmenter(P: Profile, data: DeviceData, gen: torch.Generator, conv: bool
              ) -> Callable[[torch.Tensor, int], tuple[torch.Tensor, torch.Tensor]]:
    """``batch(idx, pass_no)``: the training batch of rows ``idx`` on pass ``pass_no``, augmented
    as ``P.augment_mode`` says. Alternating flip draws each row's flip on even passes once, here
    (from ``gen``), and flips the other way on odd passes."""
    if not P.augment or P.augment_mode == "crop_flip":
        return lambda idx, pass_no: batch_of(data, idx, P.augment, gen, conv)
    first = torch.rand(data.n_train, generator=gen, device=gen.device).to(data.device) < 0.5

    def batch(idx: torch.Tensor, pass_no: int) -> tuple[torch.Tensor, torch.Tensor]:
        xb = translate_altflip(data.x_train[idx], gen, first[idx] ^ bool(pass_no % 2))
        return (channels_last(xb) if conv else xb), data.y_train[idx]
    return batch


# --------------------------------------------------------------------------- net

def init_model(name: str, data: DeviceData, seed: int) -> nn.Module:
    """The freshly initialised model of ``seed``: the same weights :func:`train` starts from.

    A net with a whitening stem gets it fitted here, to the first ``WHITENING_IMAGES`` rows of
    ``data`` (like the normalisation statistics, from the training set as prepared, whatever
    subset a run then trains on; no random numbers are drawn), so "at initialisation" means after
    this data-dependent step and before any optimiser step, wherever a net is rebuilt."""
    torch.manual_seed(seed)
    model = build_model(name, data.num_classes, data.x_train.shape[1], data.x_train.shape[2]).to(data.device)
    stem = whitening_layer(model)
    if stem is not None:
        fit_whitening(stem, data.x_train[:WHITENING_IMAGES])
    return model


@dataclass
class _Tally:
    """What one pass has trained on so far, kept on the device (no host sync per step)."""

    loss: torch.Tensor
    correct: torch.Tensor
    n: int = 0

    def add(self, losses: torch.Tensor, correct: torch.Tensor) -> None:
        with torch.no_grad():
            self.loss += losses.detach().sum()
            self.correct += correct.sum()
        self.n += len(losses)

    def read(self) -> tuple[float, float]:
        out = float(self.loss) / self.n, float(self.correct) / self.n
        self.loss.zero_(), self.correct.zero_()
        self.n = 0
        return out


def train(profile: Profile, data: DeviceData, seed: int, subset: np.ndarray | None = None,
          budget: str = "iterations", checkpoints: tuple[float, ...] = (0.0, 0.1, 1.0),
          hooks: Hooks | None = None, eval_every_epoch: bool = True,
          progress: bool | None = None) -> TrainResult:
    """Train ``profile.model`` from a fresh initialisation drawn with ``seed``.

    ``subset`` are rows of ``data`` to train on (default: all). The budget is
    ``profile.epochs`` passes over the full training set (``"iterations"``) or over the
    subset (``"epochs"``). Deterministic on the CPU for a given seed. Checkpoints hold the
    weights as training leaves them at that step; the end holds what is evaluated (with a
    lookahead, its average).
    """
    if budget not in BUDGETS:
        raise ParameterError(f"parameter 'budget' must be one of {', '.join(BUDGETS)}; got {budget!r}")
    if any(not 0.0 <= f <= 1.0 for f in checkpoints):
        raise ParameterError(f"parameter 'checkpoints' must be fractions in [0, 1]; got {checkpoints!r}")
    P, hooks = profile, hooks or Hooks()
    device, B = data.device, profile.batch_size
    amp = autocast_dtype(device, P.precision)
    rows = torch.arange(data.n_train, device=device) if subset is None else \
        torch.as_tensor(np.asarray(subset), dtype=torch.long, device=device)
    if len(rows) == 0:
        raise ParameterError("parameter 'subset' must select at least one training example")

    # Net: the initialisation from `seed`; data order and augmentation from a separate stream.
    model = init_model(P.model, data, seed)
    conv = is_convolutional(model)  # checked once: the hot loop below converts each batch
    model = channels_last(model)
    # The engine: the eager model, or its compiled forward and backward (the fused optimiser
    # step with it on CUDA: one kernel for all parameters instead of a few per tensor).
    fresh = model  # this run's own module, returned at the end
    forward: Callable[[torch.Tensor], torch.Tensor] = model
    if P.compile != "off":
        model, forward = compiled(model, tuple(data.x_train.shape[1:]), device, P.compile, min(B, data.n_train),
                                  P.augment, amp, lambda r, g: batch_of(data, r, P.augment, g, conv))
    gen = torch.Generator(device=device).manual_seed(seed + 1_000_003)
    batch = augmenter(P, data, gen, conv)

    # Optimiser.
    opt = optimiser(model, P, fused=True if P.compile != "off" and device.type == "cuda" else None)
    scaler = torch.amp.GradScaler(device.type) if amp is torch.float16 else None
    look = Lookahead(model, P.lookahead) if P.lookahead else None

    # Budget: steps, and the checkpoints' steps.
    n_ref = data.n_train if budget == "iterations" else len(rows)
    steps_per_epoch = max(1, n_ref // B)
    total_steps = P.epochs * steps_per_epoch
    if hooks.filter is not None:  # the filter passes about keep_fraction of each candidate batch
        total_steps = max(1, round(total_steps * hooks.keep_fraction))
    ckpt_at = {f: round(f * total_steps) for f in checkpoints}
    saved: dict[float, dict[str, torch.Tensor]] = {f: snapshot(model) for f, s in ckpt_at.items() if s == 0}

    # Loop.
    history: list[dict[str, float]] = []
    step, seen, pass_no = 0, 0, 0
    train_s = eval_s = 0.0
    tally = _Tally(torch.zeros((), device=device), torch.zeros((), device=device))
    # progress=None: a bar only on a terminal (papermill output stays clean).
    bar = tqdm(total=total_steps, desc=f"{P.model} seed {seed}", unit="step", leave=False,
               disable=None if progress is None else not progress)
    t0 = time.perf_counter()
    while step < total_steps:
        if hooks.select is not None:
            new = hooks.select(pass_no, model)
            if new is not None:
                rows = torch.as_tensor(np.asarray(new), dtype=torch.long, device=device)
                if budget == "epochs":  # keep the number of passes; the step count follows the subset
                    steps_per_epoch = max(1, len(rows) // B)
                    total_steps = step + (P.epochs - pass_no) * steps_per_epoch
                    ckpt_at = {f: s if s <= step else round(f * total_steps) for f, s in ckpt_at.items()}
        model.train()
        pending = rows[:0]
        for idx in _batches(rows, B, gen):
            if step >= total_steps:
                break
            if hooks.filter is not None:  # pool the rows the filter keeps into full batches
                pending = torch.cat([pending, hooks.filter(idx, model)])
                model.train()
                if len(pending) < B:
                    continue
                idx, pending = pending[:B], pending[B:]
            progress_frac = step / total_steps
            set_lr(opt, progress_frac, P)
            xb, yb = batch(idx, pass_no)
            losses, logits = _step(model, forward, opt, scaler, xb, yb, idx, hooks, P, amp)
            step += 1
            seen += len(idx)
            correct = logits.argmax(1) == yb
            tally.add(losses, correct)
            if hooks.on_batch is not None:
                hooks.on_batch(BatchInfo(step, pass_no, idx, losses.detach(), correct))
            if look is not None:
                look.after_step(model, step, total_steps)
                if step == total_steps:
                    look.finish(model)
            for f, s in ckpt_at.items():
                if s == step and f not in saved:
                    saved[f] = snapshot(model)
            bar.update(1)
            # One record per pass (a filtered run's pass yields about keep_fraction of the steps).
            every = steps_per_epoch if hooks.filter is None else max(1, round(steps_per_epoch * hooks.keep_fraction))
            if step % every == 0 or step == total_steps:
                if device.type == "cuda":  # the steps queued on the GPU belong to this pass's time
                    torch.cuda.synchronize(device)
                train_s += time.perf_counter() - t0
                loss, acc = tally.read()
                rec = {"epoch": step / every, "step": step, "images_seen": seen, "lr": lr_at(progress_frac, P),
                       "train_loss": loss, "train_acc": acc, "seconds": train_s}
                if eval_every_epoch or step == total_steps:
                    te = time.perf_counter()
                    rec |= _evaluation(model, data, P, amp, final=step == total_steps)
                    eval_s += time.perf_counter() - te
                    model.train()
                history.append(rec)
                bar.set_postfix(img_s=f"{seen / train_s:.0f}", acc=f"{rec.get('test_acc', float('nan')):.3f}")
                t0 = time.perf_counter()
        pass_no += 1
    bar.close()
    for f in checkpoints:  # a checkpoint rounded past the end (e.g. after a subset swap)
        saved.setdefault(f, snapshot(model))
    if model is not fresh:  # the resident model is the next run's: return this run's own copy
        with torch.no_grad():
            fresh.load_state_dict(model.state_dict())
        model = fresh
    last = history[-1]
    extra = {"test_acc_plain": last["test_acc"]} if P.tta else {}
    return TrainResult(model=model, checkpoints=saved, history=history,
                       test_acc=last["test_acc_tta"] if P.tta else last["test_acc"],
                       test_loss=last["test_loss_tta"] if P.tta else last["test_loss"], steps=step, images_seen=seen,
                       train_seconds=train_s, eval_seconds=eval_s, precision=precision_name(amp),
                       compile=P.compile, extra=extra)


def _step(model: nn.Module, forward: Callable[[torch.Tensor], torch.Tensor], opt: torch.optim.Optimizer,
          scaler: torch.amp.GradScaler | None, xb: torch.Tensor, yb: torch.Tensor, idx: torch.Tensor,
          hooks: Hooks, P: Profile, amp: torch.dtype | None) -> tuple[torch.Tensor, torch.Tensor]:
    """One optimiser step on the batch; returns its per-sample training losses (label-smoothed
    where ``P.label_smoothing``) and logits, detached."""
    mark_step(P.compile)
    with autocast(xb.device, amp):
        logits = forward(xb)
    losses = F.cross_entropy(logits.float(), yb, reduction="none", label_smoothing=P.label_smoothing)
    loss = losses.mean() if hooks.loss_weight is None else (losses * hooks.loss_weight(idx)).mean()
    opt.zero_grad(set_to_none=True)
    if scaler is not None:
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
    else:
        loss.backward()
        opt.step()
    return losses.detach(), logits.detach()


def _evaluation(model: nn.Module, data: DeviceData, P: Profile, amp: torch.dtype | None,
                final: bool) -> dict[str, float]:
    """The test accuracy and loss of a pass's record; at the end, with ``P.tta``, also the
    recipe's own evaluation (``test_acc_tta``, ``test_loss_tta``)."""
    out = dict(zip(("test_acc", "test_loss"), evaluate(model, data.x_test, data.y_test, P.eval_batch_size, amp)))
    if final and P.tta:
        out |= dict(zip(("test_acc_tta", "test_loss_tta"),
                        evaluate(model, data.x_test, data.y_test, P.eval_batch_size, amp, tta=True)))
    return out


def load_state(model: nn.Module, state: dict[str, torch.Tensor | np.ndarray]) -> nn.Module:
    """Load a snapshot (tensors, or arrays read back from the store) into ``model``."""
    model.load_state_dict({k: torch.as_tensor(np.asarray(v)) if not isinstance(v, torch.Tensor) else v
                           for k, v in state.items()})
    return model


_DATA_CACHE: dict[tuple, DeviceData] = {}


def device_data(profile: Profile) -> DeviceData:
    """:func:`prepare` for the profile's dataset, kept in memory for reuse within a process."""
    device = select_device(profile.device)
    key = (profile.dataset, profile.train_size, profile.imbalance, profile.test_size, str(device))
    if key not in _DATA_CACHE:
        _DATA_CACHE.clear()  # one dataset resident at a time
        _DATA_CACHE[key] = prepare(load_dataset(profile.dataset), profile, device)
    return _DATA_CACHE[key]


def record_of(res: TrainResult, device: torch.device, n_train: int) -> tuple[dict, dict]:
    """What the store keeps of a training run: metrics (final test accuracy and loss, steps,
    images seen, seconds, img/s, the device and its model name, threads, precision, engine, rows
    trained on) and arrays (the per-pass history as ``history/<column>``, NaN where a pass was not
    evaluated, and the checkpoints as ``ckpt/<fraction>/<parameter>``)."""
    metrics = {"test_acc": res.test_acc, "test_loss": res.test_loss, "steps": res.steps,
               "images_seen": res.images_seen, "train_seconds": res.train_seconds,
               "eval_seconds": res.eval_seconds, "img_per_s": res.img_per_s,
               "device": str(device), "device_name": device_name(device), "threads": torch.get_num_threads(),
               "precision": res.precision, "compile": res.compile, "n_train": n_train, **res.extra}
    arrays = {f"history/{k}": np.asarray([h.get(k, np.nan) for h in res.history], np.float64)
              for k in res.history[-1]}
    for f, state in res.checkpoints.items():
        arrays.update({f"ckpt/{f:g}/{k}": v.numpy() for k, v in state.items()})
    return metrics, arrays
