"""Per-example importance scores, exactly as the papers define them.

All scores take the model in **eval mode** (batch-norm uses its running statistics) and a
normalised, un-augmented NCHW batch ``x`` with int64 labels ``y``, and return one float per
example. Definitions (Paul et al. 2021, eqs. 1-2 and App. D; Kirsch 2023, eqs. 1-2):

- :func:`grand`: ``||grad_theta loss(f(x; theta), y)||_2`` over **all** trainable parameters;
- :func:`el2n`: ``||softmax(f(x)) - onehot(y)||_2``, **not** squared (Paul et al.'s eq. 9 and code);
- :func:`input_norm`: ``||x||_2`` of the normalised image;
- :class:`Forgetting`: correct -> incorrect transitions per example during training, never-learned
  examples scored ``inf`` (Toneva et al. 2019, and the original code);
- the label-independent variants of Paul et al. App. D (eqs. 10-12): :func:`grand_logit_sum`
  ``||sum_k psi_k||``, :func:`el2n_uniform` ``||p - 1/K||``, :func:`grand_logit_sq` ``sum_k ||psi_k||^2``,
  with ``psi_k`` the gradient of logit k.

Per-example gradient norms without per-example loops: one ordinary forward and backward pass
with hooks gives, for every layer, its input ``a`` and the gradient ``g`` of the (summed)
objective with respect to its output. Because the model is in eval mode, example n's objective
depends on example n only, so ``g[n]`` is example n's own output gradient, and a layer's
per-example weight gradient is a product of ``g[n]`` and ``a[n]``:

- Linear: ``grad W_n = g_n a_n^T``, so ``||grad W_n|| = ||g_n|| ||a_n||`` and ``||grad b_n|| = ||g_n||``;
- Conv2d: ``grad W_n = G_n U_n^T`` with ``U_n`` the unfolded input patches; we either form it
  (one grouped convolution-backward for the whole batch) or use the "ghost norm"
  ``||G_n U_n^T||^2 = <G_n^T G_n, U_n^T U_n>`` (cheaper when there are few output positions),
  whichever needs less memory;
- BatchNorm in eval mode is a per-channel affine map of ``xhat = (a - mean) / sqrt(var + eps)``:
  ``grad gamma_n = sum_hw g_n xhat_n``, ``grad beta_n = sum_hw g_n``.

The results equal a plain per-example autograd loop (:func:`grand_loop`, the reference kept
for tests and the benchmark) to float32 precision.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm  # not tqdm.auto: it warns in kernels without ipywidgets

from . import ParameterError
from .train import BatchInfo

Objective = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (logits, y) -> per-example scalar


def _cross_entropy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits, y, reduction="none")


def _logit_sum(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return logits.sum(1)


# --------------------------------------------------------------------------- hooks

_SUPPORTED = (nn.Linear, nn.Conv2d, nn.BatchNorm2d)
# Examples per chunk of the per-example norms, by device. CPU: 128, measured. CUDA: 512, not yet
# measured (a 512-chunk of ResNet-18 at 32 x 32 needs a few GiB: its activations and Gram
# matrices); `bench` on a GPU reports 128, 512 and 1024 side by side.
CHUNK = {"cpu": 128, "cuda": 512}
# How a convolution with many output positions gets its per-example weight-gradient norms:
# "grouped" (one grouped convolution-backward, measured 2-5x faster than "unfold" on the CPU) or
# "unfold" (unfolded patches and one batched matmul). Every caller keeps "grouped" until the GPU
# is measured: `bench` on a GPU reports both (`grand_img_s_by_route`).
LARGE_ROUTES = ("grouped", "unfold")


def _param_layers(model: nn.Module) -> list[nn.Module]:
    """The modules that own trainable parameters; all must be of a supported type."""
    layers = []
    for name, m in model.named_modules():
        own = [p for p in m.parameters(recurse=False) if p.requires_grad]
        if not own:
            continue
        if not isinstance(m, _SUPPORTED) or (isinstance(m, nn.Conv2d) and m.groups != 1):
            raise ParameterError(f"parameter 'model' must contain only Linear, Conv2d (groups=1) and "
                                 f"BatchNorm2d layers with parameters for the fast GraNd; {name} is "
                                 f"{type(m).__name__} (use scores.grand_loop)")
        layers.append(m)
    return layers


def conv_route(c_in: int, c_out: int, kernel: tuple[int, int], positions: int) -> str:
    """``"ghost"`` when the L x L Gram matrices are no larger than the per-example weight
    gradient (few output positions L), else ``"grouped"`` (form the per-example gradients)."""
    return "ghost" if positions * positions <= c_out * c_in * kernel[0] * kernel[1] else "grouped"


def _conv_sq_norms(m: nn.Conv2d, a: torch.Tensor, g: torch.Tensor, large: str = "grouped") -> torch.Tensor:
    """Per-example squared norm of a Conv2d's weight (and bias) gradient.

    Few output positions L (L^2 <= weights): the ghost norm <G^T G, U^T U> over unfolded
    patches. Many positions: the per-example weight gradients themselves, all at once, either
    as one grouped convolution-backward with the batch as groups (``large="grouped"``, measured
    here 2-5x faster for the full-resolution layers) or as G U^T over unfolded patches
    (``"unfold"``: one batched matmul).
    """
    n, c_out, h_out, w_out = g.shape
    c_in, (kh, kw) = a.shape[1], m.kernel_size
    L = h_out * w_out
    sq = g.sum((2, 3)).pow(2).sum(1) if m.bias is not None and m.bias.requires_grad else 0.0
    if not m.weight.requires_grad:  # a frozen weight (a whitening stem) is not a parameter GraNd covers
        return sq if torch.is_tensor(sq) else g.new_zeros(n)
    route = conv_route(c_in, c_out, m.kernel_size, L)
    if route == "ghost" or large == "unfold":
        U = F.unfold(a, m.kernel_size, dilation=m.dilation, padding=m.padding, stride=m.stride)  # n, d, L
        G = g.reshape(n, c_out, L)
    if route == "ghost":
        w_sq = (torch.bmm(G.transpose(1, 2), G) * torch.bmm(U.transpose(1, 2), U)).sum((1, 2))
    elif large == "unfold":  # the per-example weight gradient G U^T, n x c_out x d
        w_sq = torch.bmm(G, U.transpose(1, 2)).pow(2).sum((1, 2))
    else:
        w = torch.nn.grad.conv2d_weight(a.contiguous().reshape(1, n * c_in, *a.shape[2:]), (n * c_out, c_in, kh, kw),
                                        g.contiguous().reshape(1, n * c_out, h_out, w_out), stride=m.stride,
                                        padding=m.padding, dilation=m.dilation, groups=n)
        w_sq = w.reshape(n, -1).pow(2).sum(1)
    return w_sq + sq


def _bn_sq_norms(m: nn.BatchNorm2d, a: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Eval-mode BN is y = gamma * (a - mean) / sqrt(var + eps) + beta per channel, so
    grad gamma_n = (sum_hw g_n a_n - mean * sum_hw g_n) / sqrt(var + eps), grad beta_n = sum_hw g_n."""
    if m.training or m.running_mean is None:
        raise ParameterError("parameter 'model' must be in eval mode with running statistics for GraNd")
    g_sum = g.sum((2, 3))
    sq = torch.zeros(a.shape[0], dtype=a.dtype, device=a.device)
    if m.weight is not None and m.weight.requires_grad:
        ga = (g * a).sum((2, 3))
        sq = sq + ((ga - m.running_mean * g_sum) / torch.sqrt(m.running_var + m.eps)).pow(2).sum(1)
    if m.bias is not None and m.bias.requires_grad:
        sq = sq + g_sum.pow(2).sum(1)
    return sq


def _linear_sq_norms(m: nn.Linear, a: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    if a.dim() != 2:
        raise ParameterError("parameter 'model' must apply Linear layers to [N, features] inputs for GraNd")
    g_sq = g.pow(2).sum(1)
    sq = g_sq * a.pow(2).sum(1)
    if m.bias is not None and m.bias.requires_grad:
        sq = sq + g_sq
    return sq


def _layer_sq_norms(m: nn.Module, a: torch.Tensor, g: torch.Tensor, large: str) -> torch.Tensor:
    if isinstance(m, nn.Conv2d):
        return _conv_sq_norms(m, a, g, large)
    if isinstance(m, nn.BatchNorm2d):
        return _bn_sq_norms(m, a, g)
    return _linear_sq_norms(m, a, g)


def _chunk_sq_norms(model: nn.Module, layers: list[nn.Module], x: torch.Tensor, y: torch.Tensor,
                    objective: Objective, clone: set[nn.Module], large: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Squared per-example gradient norms of ``objective`` for one chunk, and the logits.

    We ask autograd for the gradient with respect to each layer's output tensor. If something
    downstream modifies that tensor in place (a residual ``out += identity``), the tensor we
    hold is no longer the layer's output; such layers are detected by the tensor's version
    counter, added to ``clone`` (their output is copied before the rest of the network sees
    it) and the chunk is recomputed.
    """
    inputs: dict[nn.Module, torch.Tensor] = {}
    outputs: dict[nn.Module, tuple[torch.Tensor, int]] = {}

    def hook(m: nn.Module, inp: tuple[torch.Tensor, ...], out: torch.Tensor) -> torch.Tensor | None:
        inputs[m] = inp[0].detach()
        outputs[m] = (out, out._version)
        return out.clone() if m in clone else None

    x = x.detach().requires_grad_(True)  # so every layer's output is part of the graph
    while True:
        handles = [m.register_forward_hook(hook) for m in layers]
        try:
            with torch.enable_grad():
                logits = model(x)
                modified = {m for m in layers if outputs[m][0]._version != outputs[m][1]}
                if not modified:
                    obj = objective(logits, y)
                    grads = torch.autograd.grad(obj.sum(), [outputs[m][0] for m in layers])
                    break
        finally:
            for h in handles:
                h.remove()
        clone |= modified  # and run the chunk again
    sq = torch.zeros(x.shape[0], dtype=logits.dtype, device=x.device)
    for m, g in zip(layers, grads):
        sq = sq + _layer_sq_norms(m, inputs[m], g.detach(), large)
    return sq, logits.detach()


@contextlib.contextmanager
def _no_inplace_relu(model: nn.Module) -> Iterator[None]:
    """Switch ``ReLU(inplace=True)`` modules to out-of-place for the duration (same values),
    so the layer outputs they follow need not be copied."""
    switched = [m for m in model.modules() if isinstance(m, nn.ReLU) and m.inplace]
    for m in switched:
        m.inplace = False
    try:
        yield
    finally:
        for m in switched:
            m.inplace = True


def per_example_grad_norms(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                           objective: Objective = _cross_entropy, chunk: int | None = None,
                           large: str = "grouped") -> torch.Tensor:
    """``||grad_theta objective_n||_2`` for every example n, by layer-wise norm identities.

    ``model`` must be in eval mode. Works in chunks of ``chunk`` examples so memory stays bounded
    (default :data:`CHUNK` for the device; the norms are the same at any chunk). ``large``: the
    route of convolutions with many output positions (:data:`LARGE_ROUTES`; the same norms).
    """
    if model.training:
        raise ParameterError("parameter 'model' must be in eval mode (call model.eval()) for GraNd")
    chunk = CHUNK.get(x.device.type, CHUNK["cpu"]) if chunk is None else chunk
    if large not in LARGE_ROUTES:
        raise ParameterError(f"parameter 'large' must be one of {', '.join(LARGE_ROUTES)}; got {large!r}")
    if chunk < 1:
        raise ParameterError(f"parameter 'chunk' must be an integer >= 1; got {chunk}")
    layers = _param_layers(model)
    clone: set[nn.Module] = set()
    starts = range(0, x.shape[0], chunk)
    # A progress bar on terminals only (disable=None), with throughput in images per second.
    with _no_inplace_relu(model), tqdm(total=x.shape[0], unit="img", desc="per-example gradient norms",
                                       leave=False, disable=None if len(starts) > 8 else True) as bar:
        out = []
        for i in starts:
            out.append(_chunk_sq_norms(model, layers, x[i:i + chunk], y[i:i + chunk], objective, clone,
                                       large)[0])
            bar.update(min(chunk, x.shape[0] - i))
    return torch.cat(out).clamp_min(0).sqrt()


# --------------------------------------------------------------------------- the scores

def grand(model: nn.Module, x: torch.Tensor, y: torch.Tensor, chunk: int | None = None,
          large: str = "grouped") -> torch.Tensor:
    """GraNd (Paul et al. eq. 1): the per-example gradient norm of the cross-entropy over all
    trainable parameters, for one model (average over models with :func:`average`)."""
    return per_example_grad_norms(model, x, y, _cross_entropy, chunk, large)


def grand_logit_sum(model: nn.Module, x: torch.Tensor, y: torch.Tensor | None = None,
                    chunk: int | None = None) -> torch.Tensor:
    """Paul et al. App. D eq. 10: ``||sum_k psi_k(x)||_2``, psi_k the gradient of logit k."""
    y = torch.zeros(x.shape[0], dtype=torch.long, device=x.device) if y is None else y
    return per_example_grad_norms(model, x, y, _logit_sum, chunk)


def grand_logit_sq(model: nn.Module, x: torch.Tensor, y: torch.Tensor | None = None,
                   num_classes: int | None = None, chunk: int | None = None) -> torch.Tensor:
    """Paul et al. App. D eq. 12: ``sum_k ||psi_k(x)||_2^2`` (one gradient pass per class)."""
    y = torch.zeros(x.shape[0], dtype=torch.long, device=x.device) if y is None else y
    if num_classes is None:
        with torch.no_grad():
            num_classes = model(x[:1]).shape[1]
    total = torch.zeros(x.shape[0], device=x.device)
    for k in range(num_classes):
        total = total + per_example_grad_norms(model, x, y, lambda z, _y, k=k: z[:, k], chunk).pow(2)
    return total


@torch.no_grad()
def probabilities(model: nn.Module, x: torch.Tensor, chunk: int = 1000) -> torch.Tensor:
    """softmax(f(x)) in eval mode, float32 (float64 if the model is)."""
    if model.training:
        raise ParameterError("parameter 'model' must be in eval mode (call model.eval())")
    return torch.cat([F.softmax(model(x[i:i + chunk]), dim=1) for i in range(0, x.shape[0], chunk)])


def el2n(model: nn.Module, x: torch.Tensor, y: torch.Tensor, chunk: int = 1000) -> torch.Tensor:
    """EL2N (Paul et al. eq. 2 / eq. 9 and their code): ``||softmax(f(x)) - onehot(y)||_2``, not squared."""
    p = probabilities(model, x, chunk)
    return (p - F.one_hot(y, p.shape[1]).to(p.dtype)).norm(dim=1)


def el2n_uniform(model: nn.Module, x: torch.Tensor, y: torch.Tensor | None = None,
                 chunk: int = 1000) -> torch.Tensor:
    """Paul et al. App. D eq. 11: ``||p - 1/K||_2``, the label-free distance from uniform."""
    p = probabilities(model, x, chunk)
    return (p - 1.0 / p.shape[1]).norm(dim=1)


def input_norm(x: torch.Tensor) -> torch.Tensor:
    """``||x||_2`` of each (normalised, un-augmented) example."""
    return x.flatten(1).norm(dim=1)


# --------------------------------------------------------------------------- forgetting

@dataclass
class Forgetting:
    """Forgetting events (Toneva et al. 2019) gathered from the training hooks.

    Per minibatch, an example that was classified correctly the last time it was seen and is
    now wrong counts one forgetting event. Examples never classified correctly score ``inf``
    (the original code's choice), so they rank above every learned example. The counts live on
    the training ``device``, so a step waits for nothing (on a GPU, copying each batch's
    correctness to the host would stall every step); :meth:`scores` copies them once.
    """

    n: int
    device: torch.device | str = "cpu"
    last_correct: torch.Tensor = field(init=False)
    ever_correct: torch.Tensor = field(init=False)
    events: torch.Tensor = field(init=False)

    def __post_init__(self) -> None:
        self.last_correct = torch.zeros(self.n, dtype=torch.bool, device=self.device)
        self.ever_correct = torch.zeros(self.n, dtype=torch.bool, device=self.device)
        self.events = torch.zeros(self.n, dtype=torch.int64, device=self.device)

    def on_batch(self, info: BatchInfo) -> None:
        self.update(info.indices, info.correct)

    def update(self, idx: torch.Tensor | np.ndarray, correct: torch.Tensor | np.ndarray) -> None:
        """Count the batch ``idx`` (distinct rows) with per-row ``correct`` (bool)."""
        idx = torch.as_tensor(idx, device=self.device)
        correct = torch.as_tensor(correct, dtype=torch.bool, device=self.device)
        self.events[idx] += (self.last_correct[idx] & ~correct).long()
        self.last_correct[idx] = correct
        self.ever_correct[idx] |= correct

    def scores(self) -> np.ndarray:
        ever = self.ever_correct.cpu().numpy()
        return np.where(ever, self.events.cpu().numpy().astype(np.float64), np.inf)


# --------------------------------------------------------------------------- references and averaging

def grand_loop(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
               objective: Objective = _cross_entropy) -> torch.Tensor:
    """The plain reference: one backward pass per example, norm over all trainable parameters."""
    if model.training:
        raise ParameterError("parameter 'model' must be in eval mode (call model.eval())")
    params = [p for p in model.parameters() if p.requires_grad]
    out = []
    for i in range(x.shape[0]):
        with torch.enable_grad():
            obj = objective(model(x[i:i + 1]), y[i:i + 1]).sum()
            grads = torch.autograd.grad(obj, params)
        out.append(torch.sqrt(sum(g.pow(2).sum() for g in grads)))
    return torch.stack(out)


def average(per_model: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
    """The mean over models (axis 0) of per-model score arrays [K, N]: ``E_theta`` in eq. 1-2."""
    a = np.asarray(per_model, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] < 1:
        raise ParameterError(f"parameter 'per_model' must be a [K, N] array with K >= 1; got shape {a.shape}")
    return a.mean(0)


def running_means(per_model: np.ndarray) -> np.ndarray:
    """Row k: the mean over the first k+1 models, to show how rankings settle as K grows."""
    a = np.asarray(per_model, dtype=np.float64)
    return np.cumsum(a, axis=0) / np.arange(1, a.shape[0] + 1)[:, None]

