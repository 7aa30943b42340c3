"""The model registry: a fast conv net for the CPU profile, CIFAR ResNets, a linear softmax model."""
from __future__ import annotations

from typing import Callable

import torch
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


def build_model(name: str, num_classes: int, in_channels: int = 3, image_size: int = 32) -> nn.Module:
    """Build a freshly initialised model by registry name (seed it with ``torch.manual_seed``)."""
    builders: dict[str, Callable[[], nn.Module]] = {
        "fastnet": lambda: FastNet(num_classes, in_channels, (32, 64, 128)),
        "fastnet_wide": lambda: FastNet(num_classes, in_channels, (64, 128, 256)),
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
