"""The model registry: a fast conv net for the CPU profile, an airbench-class net with a whitening
stem for the papers' accuracy on the CPU, CIFAR ResNets, a linear softmax model.

A net whose first layer is fitted to the data (:class:`Whitening`) is not complete after
:func:`build_model`: :func:`train.init_model` fits that layer (:func:`fit_whitening`) before the
first step, and everything that rebuilds a net "at initialisation" goes through it.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from . import ParameterError


def _conv_bn(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]


class ConvGroup(nn.Sequential):
    """conv -> 2x2 max-pool -> BN -> ReLU -> conv -> BN -> ReLU (airbench's block, pooling early
    so the second conv runs at a quarter of the pixels)."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.MaxPool2d(2),
                         nn.BatchNorm2d(c_out), nn.ReLU(inplace=True), *_conv_bn(c_out, c_out))


class FastNet(nn.Sequential):
    """A small BN conv net: a stem conv, three conv groups, global average pool, linear head.

    With widths 32/64/128 a CIFAR-10 training step runs at about 3,500 img/s on 2 CPU cores
    (channels_last + bf16), i.e. about 15 s an epoch, and reaches the mid-80s % in 8 epochs.
    Works for any input size >= 8x8 (the pooling halves it three times, then a global average;
    a global max-pool here made SGD at lr 0.1 diverge without a logit scale).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 3, widths: tuple[int, int, int] = (32, 64, 128)):
        w1, w2, w3 = widths
        super().__init__(*_conv_bn(in_channels, w1), ConvGroup(w1, w1), ConvGroup(w1, w2), ConvGroup(w2, w3),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(w3, num_classes, bias=False))


# --------------------------------------------------------------------------- the airbench-class net
# Written from the description in Jordan, "94% on CIFAR-10 in 3.29 seconds on a single GPU"
# (2024), the descendant of the hlb-CIFAR10 net of Kirsch's PyTorch reproduction. Constants as
# measured on our CPUs in shared/reference/engineering.md.

WHITENING_IMAGES = 5000  # training images whose 2x2 patches the stem whitens
WHITENING_EPS = 5e-4     # added to the patch covariance's eigenvalues
BN_EPS = 1e-12
BN_MOMENTUM = 0.4        # PyTorch's convention (airbench writes 0.6 for 1 - momentum)
LOGIT_SCALE = 1 / 9      # the head's output multiplier


class Whitening(nn.Conv2d):
    """A frozen 2x2 patch-whitening convolution: 2 x (3 * 2 * 2) = 24 filters, the eigenvectors of
    the patch covariance scaled by 1/sqrt(eigenvalue), each with its negation (so a GELU after it
    keeps both signs). Its weight is fitted to data by :func:`fit_whitening` and never trained;
    its bias trains early in training (the optimiser's business, ``profile.whiten_bias_epochs``)."""

    def __init__(self, in_channels: int = 3, size: int = 2):
        super().__init__(in_channels, 2 * in_channels * size * size, size, padding=0, bias=True)
        self.weight.requires_grad_(False)
        with torch.no_grad():
            self.bias.zero_()  # the stem starts as the whitening alone


@torch.no_grad()
def fit_whitening(layer: Whitening, x: torch.Tensor, eps: float = WHITENING_EPS) -> None:
    """Set ``layer``'s weight from the images ``x`` (N, C, H, W, normalised): W = [V / sqrt(lam + eps),
    -V / sqrt(lam + eps)] with (lam, V) the eigenpairs of the (uncentred) covariance of every
    2x2 patch, computed in float64 so that every host gets the same stem. Deterministic: no
    random numbers are drawn."""
    k = layer.kernel_size
    cov = torch.zeros(layer.in_channels * k[0] * k[1], layer.in_channels * k[0] * k[1], dtype=torch.float64)
    n = 0
    for chunk in x.split(500):
        u = F.unfold(chunk.double().cpu(), k)                   # N, C*kh*kw, positions ((c, kh, kw) order)
        u = u.transpose(1, 2).reshape(-1, u.shape[1])
        cov += u.T @ u
        n += u.shape[0]
    lam, vec = torch.linalg.eigh(cov / n)                       # ascending eigenvalues
    w = (vec.T / torch.sqrt(lam + eps)[:, None]).flip(0)         # rows: eigenvectors, largest first
    w = torch.cat([w, -w]).reshape(layer.weight.shape)
    layer.weight.copy_(w.to(layer.weight.dtype))


class DiracConv(nn.Conv2d):
    """A 3x3 bias-free convolution whose first ``in_channels`` filters start as the identity
    (``nn.init.dirac_``), the rest at PyTorch's default: each block starts near a pass-through."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__(c_in, c_out, 3, padding=1, bias=False)
        with torch.no_grad():
            nn.init.dirac_(self.weight[:c_in])


def _norm(c: int) -> nn.BatchNorm2d:
    """BatchNorm with no trained scale (the weight stays 1), only a trained bias."""
    bn = nn.BatchNorm2d(c, eps=BN_EPS, momentum=BN_MOMENTUM)
    bn.weight.requires_grad_(False)
    return bn


class AirGroup(nn.Sequential):
    """conv -> 2x2 max-pool -> BN -> GELU -> conv -> BN -> GELU."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__(DiracConv(c_in, c_out), nn.MaxPool2d(2), _norm(c_out), nn.GELU(),
                         DiracConv(c_out, c_out), _norm(c_out), nn.GELU())


class Scale(nn.Module):
    def __init__(self, factor: float):
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor


class AirbenchNet(nn.Sequential):
    """The airbench-class net: whitening stem (+ GELU), three conv groups, a 3x3 max-pool, a
    bias-free linear head and logits x 1/9. Sized for 32x32 inputs (32 -> 31 -> 15 -> 7 -> 3 -> 1)."""

    def __init__(self, num_classes: int = 10, in_channels: int = 3, widths: tuple[int, int, int] = (64, 128, 128)):
        w1, w2, w3 = widths
        stem = Whitening(in_channels)
        super().__init__(stem, nn.GELU(), AirGroup(stem.out_channels, w1), AirGroup(w1, w2), AirGroup(w2, w3),
                         nn.MaxPool2d(3), nn.Flatten(), nn.Linear(w3, num_classes, bias=False), Scale(LOGIT_SCALE))


def whitening_layer(model: nn.Module) -> Whitening | None:
    """The net's data-fitted stem, or None when it has none."""
    return next((m for m in model.modules() if isinstance(m, Whitening)), None)


def cifar_resnet(depth: int, num_classes: int = 10, in_channels: int = 3) -> nn.Module:
    """ResNet-18/34 with the CIFAR stem of Paul et al.: 3x3 stride-1 first conv, no max-pool."""
    ctor = {18: torchvision.models.resnet18, 34: torchvision.models.resnet34}[depth]
    m = ctor(num_classes=num_classes)
    m.conv1 = nn.Conv2d(in_channels, 64, 3, stride=1, padding=1, bias=False)
    m.maxpool = nn.Identity()
    return m


class LinearSoftmax(nn.Module):
    """A bias-free linear softmax classifier on the flattened input: logits = W x (Kirsch §2.1).

    For it, the per-sample gradient of the cross-entropy is (p - y) x^T, so
    GraNd = ||p - y||_2 * ||x||_2 exactly (Kirsch 2023, eqs. 3-7).
    """

    def __init__(self, num_classes: int, in_features: int):
        super().__init__()
        self.fc = nn.Linear(in_features, num_classes, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.flatten(1))


# The nets a reader knows by another name than the registry's (the others are named as registered).
NET_NAMES = {"resnet18": "ResNet-18", "resnet34": "ResNet-34", "linear": "the linear softmax"}


def build_model(name: str, num_classes: int, in_channels: int = 3, image_size: int = 32) -> nn.Module:
    """Build a freshly initialised model by registry name (seed it with ``torch.manual_seed``)."""
    builders: dict[str, Callable[[], nn.Module]] = {
        "fastnet": lambda: FastNet(num_classes, in_channels, (32, 64, 128)),
        "fastnet_wide": lambda: FastNet(num_classes, in_channels, (64, 128, 256)),
        "airbench": lambda: AirbenchNet(num_classes, in_channels, (64, 128, 128)),
        "airbench_wide": lambda: AirbenchNet(num_classes, in_channels, (64, 256, 256)),  # airbench94's widths
        "resnet18": lambda: cifar_resnet(18, num_classes, in_channels),
        "resnet34": lambda: cifar_resnet(34, num_classes, in_channels),
        "linear": lambda: LinearSoftmax(num_classes, in_channels * image_size * image_size),
    }
    if name not in builders:
        raise ParameterError(f"parameter 'model' must be one of {', '.join(builders)}; got {name!r}")
    return builders[name]()


def is_convolutional(model: nn.Module) -> bool:
    return any(isinstance(m, nn.Conv2d) for m in model.modules())


def channels_last(x: nn.Module | torch.Tensor, model: nn.Module | None = None) -> nn.Module | torch.Tensor:
    """``x`` (a model, or a 4-D batch for ``model``) in channels_last memory format when the model
    is convolutional (oneDNN's and cuDNN's fast layout for convolutions); unchanged otherwise."""
    if isinstance(x, nn.Module):
        return x.to(memory_format=torch.channels_last) if is_convolutional(x) else x
    if model is not None and not is_convolutional(model):
        return x
    return x.contiguous(memory_format=torch.channels_last) if x.dim() == 4 else x
