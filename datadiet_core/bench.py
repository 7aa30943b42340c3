"""Throughput benchmark: ``python -m datadiet_core bench --json``.

Measured in one process, one after the other, on the same data and net:

- ``train_img_s``: our training step (whole data on the device, batched augmentation,
  channels_last, bf16 autocast on CPU / AMP on CUDA), through :func:`train.train` itself;
- ``reference_img_s``: the same net trained the plain way: torchvision transforms on PIL
  images through a DataLoader, fp32, NCHW;
- ``train_fp32_img_s``: our training step in fp32 (the precision GraNd is computed in);
- ``grand_img_s`` / ``grand_loop_img_s``: exact per-example gradient norms of a fresh model
  (:func:`scores.grand`) against the plain one-backward-per-example loop;
- ``scoring_pass_img_s``: the forward pass over training images (eval mode, no augmentation,
  the profile's precision) that loss-driven dynamic selectors pay at every re-selection. With
  one such pass per pass over the kept fraction q, a dynamic run at best costs
  q + train_img_s / scoring_pass_img_s of a full-data run;
- ``train_img_s_by_engine`` (on a GPU, or with ``--compile``): the training step with each
  engine (``off``: eager; torch.compile's modes, ``reduce-overhead`` with CUDA graphs) and its
  per-step profile, so one run shows which engine pays on this machine; on a GPU also
  ``grand_img_s_by_chunk`` and ``grand_img_s_by_route``.

Ratios are steadier than absolute numbers on a shared machine; timings are medians of
several windows.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.transforms as T
from PIL import Image

from .data import load_dataset
from . import scores
from .models import build_model, channels_last
from .profiles import resolve_profile
from .devices import autocast_dtype, cpu_name, precision_name, select_device
from .recipe import optimiser, set_lr
from .train import device_data, init_model, logits_of, train

# What a GPU run compares by default: the eager engine against torch.compile without and with
# CUDA graphs, and GraNd at a few chunk sizes and by both routes of its large convolutions. On a
# CPU only the profile's own engine (compiling there measured 0.87x in bf16: benchmarks/README)
# and chunk.
GPU_COMPILE_MODES = ("off", "default", "reduce-overhead")
GPU_GRAND_CHUNKS = (128, 512, 1024)


def _median_rate(times: list[float], batch: int) -> float:
    return batch / float(np.median(times))


def ours(profile_name: str = "cpu", steps: int = 40, precision: str = "auto", compile: str | None = None) -> float:
    """Images per second of :func:`train.train` on CIFAR-10 with the profile's net and batch, and
    its engine (``compile``: the profile's unless given). The warm-up run also compiles."""
    P = resolve_profile(profile_name, dataset="cifar10", train_size=None, test_size=1000, precision=precision)
    if compile is not None:
        P = P.replace(compile=compile)
    data = device_data(P)
    n = steps * P.batch_size
    P1 = P.replace(epochs=1)
    # Train on exactly `steps` batches; a warm-up run first so one-time costs are excluded.
    train(P1, data, seed=0, subset=np.arange(4 * P.batch_size), budget="epochs", eval_every_epoch=False,
          progress=False, checkpoints=())
    rates = []
    for rep in range(3):
        res = train(P1, data, seed=rep, subset=np.arange(n), budget="epochs", eval_every_epoch=False,
                    progress=False, checkpoints=())
        rates.append(res.images_seen / res.train_seconds)
    return float(np.median(rates))


def step_profile(profile_name: str = "cpu", steps: int = 20, compile: str | None = None) -> dict[str, float]:
    """What one step of :func:`train.train` costs besides arithmetic, from ``torch.profiler`` over
    ``steps`` steps (plus the one evaluation that ends a run): operator calls, and on a GPU the
    kernel launches, host-device synchronisations and copies per step. An overhead-bound loop
    shows many launches and any synchronisation at all. ``compile``: as :func:`ours`."""
    P = resolve_profile(profile_name, dataset="cifar10", train_size=None, test_size=1000).replace(epochs=1)
    if compile is not None:
        P = P.replace(compile=compile)
    data = device_data(P)
    common = dict(budget="epochs", eval_every_epoch=False, progress=False, checkpoints=())
    train(P, data, seed=0, subset=np.arange(4 * P.batch_size), **common)  # warm-up
    activities = [torch.profiler.ProfilerActivity.CPU]
    if data.device.type == "cuda":
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities) as prof:
        train(P, data, seed=1, subset=np.arange(steps * P.batch_size), **common)
    events = prof.key_averages()

    def per_step(match: Callable[[str], bool]) -> float:
        return round(sum(e.count for e in events if match(e.key)) / steps, 1)

    return {"ops_per_step": per_step(lambda k: k.startswith("aten::")),
            "launches_per_step": per_step(lambda k: k in ("cudaLaunchKernel", "cuLaunchKernel", "cudaLaunchKernelExC")),
            "syncs_per_step": per_step(lambda k: k in ("cudaStreamSynchronize", "cudaDeviceSynchronize",
                                                       "cudaEventSynchronize")),
            "copies_per_step": per_step(lambda k: k.startswith("cudaMemcpy"))}


def reference(profile_name: str = "cpu", steps: int = 20) -> float:
    """Images per second of a plain fp32 NCHW loop fed by torchvision transforms (the recipe's crop
    and a random flip) and a DataLoader, with the recipe's optimiser groups and loss."""
    P = resolve_profile(profile_name)
    ds = load_dataset("cifar10")
    mean, std = (ds.x_train / 255.0).reshape(-1, 3).mean(0), (ds.x_train / 255.0).reshape(-1, 3).std(0)
    crop = (T.RandomCrop(32, padding=2, padding_mode="reflect") if P.augment_mode == "translate_altflip"
            else T.RandomCrop(32, padding=4))
    tf = T.Compose([crop, T.RandomHorizontalFlip(), T.ToTensor(), T.Normalize(mean.tolist(), std.tolist())])

    class Plain(torch.utils.data.Dataset):
        def __len__(self) -> int:
            return (steps + 3) * P.batch_size

        def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
            return tf(Image.fromarray(ds.x_train[i])), int(ds.y_train[i])

    loader = torch.utils.data.DataLoader(Plain(), batch_size=P.batch_size, shuffle=True, num_workers=0)
    torch.manual_seed(0)
    device = select_device(P.device)
    model = build_model(P.model, 10).to(device).train()
    opt = optimiser(model, P)  # the recipe's parameter groups (one group for the papers' recipe)
    set_lr(opt, 0.5, P)
    times = []
    t = time.perf_counter()
    for i, (x, y) in enumerate(loader):
        x, y = x.to(device), y.to(device)
        loss = F.cross_entropy(model(x), y, label_smoothing=P.label_smoothing)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        now = time.perf_counter()
        if i >= 3:  # skip warm-up batches
            times.append(now - t)
        t = now
    return _median_rate(times, P.batch_size)


def _timed(fn: Callable[[], object], reps: int = 3) -> float:
    fn()  # warm-up
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def grand_rates(profile_name: str = "cpu", n: int = 512, n_loop: int = 32,
                chunks: tuple[int, ...] = (), routes: tuple[str, ...] = ()) -> dict[str, Any]:
    """GraNd throughput (fp32, exact) of the fast path and of the per-example loop, on real
    CIFAR-10 images and a freshly initialised model of the profile in eval mode; with ``chunks``,
    also the fast path at each of these chunk sizes (``grand_img_s_by_chunk``), and with
    ``routes`` with each route of the many-position convolutions (``grand_img_s_by_route``,
    :data:`scores.LARGE_ROUTES`): the scores are the same either way, only the speed changes."""
    P = resolve_profile(profile_name, dataset="cifar10", train_size=None, test_size=1000)
    data = device_data(P)
    torch.manual_seed(0)
    model = build_model(P.model, data.num_classes).to(data.device).eval()
    x, y = data.x_train[:n], data.y_train[:n]
    # The loop is timed the plain way (NCHW, as the training reference), before the fast path
    # switches the model to channels_last (which makes batch-1 steps slower here, not faster).
    loop = _timed(lambda: scores.grand_loop(model, x[:n_loop], y[:n_loop]), reps=1)
    model = channels_last(model)
    x = channels_last(x, model)
    out: dict[str, Any] = {"grand_img_s": n / _timed(lambda: scores.grand(model, x, y)),
                           "grand_loop_img_s": n_loop / loop}
    if chunks:
        out["grand_img_s_by_chunk"] = {c: round(n / _timed(lambda: scores.grand(model, x, y, chunk=c)), 1)
                                       for c in chunks}
    if routes:
        out["grand_img_s_by_route"] = {r: round(n / _timed(lambda: scores.grand(model, x, y, large=r)), 1)
                                       for r in routes}
    return out


def scoring_pass_rate(profile_name: str = "cpu", n: int = 10_000) -> float:
    """Images per second of the loss-scoring forward pass of dynamic selection."""
    P = resolve_profile(profile_name)
    data = device_data(P)
    model = channels_last(init_model(P.model, data, 0))
    x = data.x_train[:n]
    amp = autocast_dtype(data.device, P.precision)
    return x.shape[0] / _timed(lambda: logits_of(model, x, P.eval_batch_size, amp))


def run(profile_name: str = "cpu", quick: bool = False, compile_modes: tuple[str, ...] | None = None) -> dict[str, Any]:
    """All benchmark figures as one dict. ``train_img_s`` is the profile's engine (what ``plan``
    estimates from); ``train_img_s_by_engine`` each of ``compile_modes`` beside it (default: the
    GPU_COMPILE_MODES on CUDA, none on a CPU), with the per-step profile of each."""
    P = resolve_profile(profile_name)
    device = select_device(P.device)
    cuda = device.type == "cuda"
    modes = tuple(compile_modes) if compile_modes is not None else (GPU_COMPILE_MODES if cuda else ())
    for m in modes:
        P.replace(compile=m)  # validates every mode before any computation
    out: dict[str, Any] = {
        "device": str(device), "threads": torch.get_num_threads(), "cpu": cpu_name(),
        "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
        "torch": torch.__version__, "model": P.model, "batch_size": P.batch_size,
        "precision": precision_name(autocast_dtype(device, P.precision)),
        "compile": P.compile,
    }
    out["train_img_s"] = round(ours(profile_name, steps=10 if quick else 40), 1)
    out["reference_img_s"] = round(reference(profile_name, steps=5 if quick else 20), 1)
    out["train_vs_reference"] = round(out["train_img_s"] / out["reference_img_s"], 2)
    out["train_fp32_img_s"] = round(ours(profile_name, steps=10 if quick else 40, precision="fp32"), 1)
    grand = grand_rates(profile_name, n=256 if quick else 1024, chunks=GPU_GRAND_CHUNKS if cuda else (),
                        routes=scores.LARGE_ROUTES if cuda else ())
    out.update({k: round(v, 1) if isinstance(v, float) else v for k, v in grand.items()})
    out["grand_vs_train_fp32"] = round(out["grand_img_s"] / out["train_fp32_img_s"], 2)
    out["grand_vs_loop"] = round(out["grand_img_s"] / out["grand_loop_img_s"], 2)
    out["scoring_pass_img_s"] = round(scoring_pass_rate(profile_name, n=2000 if quick else 10_000), 1)
    out["scoring_pass_vs_train"] = round(out["scoring_pass_img_s"] / out["train_img_s"], 2)
    out.update(step_profile(profile_name, steps=5 if quick else 20))
    if modes:
        rates = {m: out["train_img_s"] if m == P.compile else round(ours(profile_name, steps=10 if quick else 40,
                                                                           compile=m), 1) for m in modes}
        out["train_img_s_by_engine"] = rates
        out["engine_vs_eager"] = {m: round(r / rates["off"], 2) for m, r in rates.items()} if "off" in rates else None
        out["step_profile_by_engine"] = {m: step_profile(profile_name, steps=5 if quick else 20, compile=m)
                                         for m in modes}
    return out


def save(result: dict[str, Any], path: Path) -> None:
    """Record ``result``'s throughputs in ``path`` (``benchmarks/throughput.json``, what ``plan``
    estimates from): under the device kind, ``"model@batch"`` → training images per second, and
    ``"model@batch/forward"`` and ``"model@batch/grand"`` → the scoring pass's and GraNd's, and
    the machine that measured them under ``hosts``."""
    saved = json.loads(path.read_text()) if path.exists() else {}
    kind = result["device"].split(":")[0]
    key = f"{result['model']}@{result['batch_size']}"
    saved.setdefault(kind, {})[key] = round(result["train_img_s"], 1)
    # the other passes plan prices (sweep.rates): the scoring pass (every forward without gradients) and GraNd
    for extra, field in (("forward", "scoring_pass_img_s"), ("grand", "grand_img_s")):
        if field in result:
            saved[kind][f"{key}/{extra}"] = round(result[field], 1)
    engine = f", compile {result['compile']}" if result.get("compile", "off") != "off" else ""
    saved.setdefault("hosts", {})[kind] = (f"{result.get('gpu') or result['cpu']} ({result['threads']} threads, "
                                           f"{result['precision']}{engine}), bench --save of {time.strftime('%Y-%m-%d')}")
    path.write_text(json.dumps(saved, indent=1, sort_keys=True) + "\n")
