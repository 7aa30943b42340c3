"""A profile's optimisation recipe: the learning-rate schedule, the optimiser's parameter groups
and airbench's lookahead (Jordan 2024, "94% on CIFAR-10 in 3.29 seconds on a single GPU"),
written from the papers' descriptions. :func:`train.train` steps through them.

The plain recipe is Paul et al.'s (SGD with Nesterov momentum, the lr divided by 5 at 30/60/80%
of training); the airbench-class one adds the triangle schedule, decoupled hyperparameters, a
larger lr for the BatchNorm biases, a whitening bias that trains early only, and the lookahead.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .models import whitening_layer
from .profiles import Profile


# --------------------------------------------------------------------------- schedule

# airbench's triangle (Jordan 2024): the lr multiplier at the start, the peak and the end.
TRIANGLE = (0.2, 1.0, 0.07)


def lr_at(progress: float, profile: Profile) -> float:
    """Learning rate at ``progress`` in [0, 1] of training (in the profile's units: per 1,024
    examples when ``profile.decoupled``), after an optional linear warm-up.

    ``"step"``: divided by ``lr_gamma`` at each milestone (Paul et al.: x0.2 at 30/60/80%).
    ``"triangle"``: linear from 0.2x up to 1x at ``lr_peak``, then down to 0.07x at the end."""
    if profile.schedule == "triangle":
        lr = profile.lr * float(np.interp(progress, [0.0, profile.lr_peak, 1.0], TRIANGLE))
    else:
        lr = profile.lr * profile.lr_gamma ** sum(progress >= m for m in profile.lr_milestones)
    if profile.warmup > 0 and progress < profile.warmup:
        lr *= progress / profile.warmup
    return lr


# --------------------------------------------------------------------------- optimiser

def optimiser(model: nn.Module, P: Profile, fused: bool | None = None) -> torch.optim.SGD:
    """SGD (Nesterov where ``P.nesterov``) over every trainable parameter. Each parameter group
    carries ``lr_scale``, its lr's multiple of :func:`lr_at`.

    The plain recipe is one group at ``P.lr`` and ``P.weight_decay``. ``P.decoupled``
    (airbench): ``lr`` and ``weight_decay`` are per 1,024 examples, so the group's lr is
    ``lr * batch / (1024 (1 + 1 / (1 - momentum)))`` and its decay ``weight_decay / lr`` in
    PyTorch's convention (the same decay per step at any lr). The BatchNorm biases get
    ``P.bias_lr_scale`` times that lr at the same absolute decay, and a whitening stem's bias has a
    group of its own (``whiten``), which :func:`set_lr` stops after ``P.whiten_bias_epochs``."""
    nesterov = P.nesterov and P.momentum > 0
    stem = whitening_layer(model)
    if not P.decoupled and P.bias_lr_scale == 1.0 and stem is None:
        opt = torch.optim.SGD(model.parameters(), lr=P.lr, momentum=P.momentum, nesterov=nesterov,
                              weight_decay=P.weight_decay, fused=fused)
        opt.param_groups[0].update(lr_scale=1.0, whiten=False)
        return opt
    scale = P.batch_size / (1024 * (1 + 1 / (1 - P.momentum))) if P.decoupled else 1.0
    decay = P.weight_decay / P.lr if P.decoupled else P.weight_decay
    biases = [m.bias for m in model.modules() if isinstance(m, nn.BatchNorm2d) and m.bias is not None]
    own = [stem.bias] if stem is not None and stem.bias is not None else []
    special = {id(p) for p in biases + own}
    rest = [p for p in model.parameters() if p.requires_grad and id(p) not in special]
    groups = [{"params": rest, "lr_scale": scale, "weight_decay": decay, "whiten": False},
              {"params": biases, "lr_scale": scale * P.bias_lr_scale, "weight_decay": decay / P.bias_lr_scale,
               "whiten": False},
              {"params": own, "lr_scale": scale, "weight_decay": decay, "whiten": True}]
    return torch.optim.SGD([g for g in groups if g["params"]], lr=P.lr, momentum=P.momentum, nesterov=nesterov,
                           fused=fused)


def set_lr(opt: torch.optim.Optimizer, progress: float, P: Profile) -> None:
    """Every group's lr at ``progress`` of training: :func:`lr_at` times its ``lr_scale``; 0 for a
    whitening bias once ``P.whiten_bias_epochs`` of ``P.epochs`` have passed."""
    lr = lr_at(progress, P)
    for g in opt.param_groups:
        g["lr"] = 0.0 if g["whiten"] and progress >= P.whiten_bias_epochs / P.epochs else lr * g["lr_scale"]


class Lookahead:
    """airbench's lookahead (Jordan 2024): every ``every`` steps the weights and BatchNorm
    statistics move into an exponential average, ``ema <- lerp(ema, w, 1 - d)``, and the net
    continues from it, ``w <- ema``, with ``d = 0.95^every (step / total)^3`` (no averaging at the
    start, more towards the end). :meth:`finish` hands the net the average at the end."""

    def __init__(self, model: nn.Module, every: int):
        self.every = every
        self.ema = {k: v.detach().clone() for k, v in model.state_dict().items() if v.is_floating_point()}

    @torch.no_grad()
    def _move(self, model: nn.Module, decay: float) -> None:
        for k, v in model.state_dict().items():
            if k in self.ema:
                self.ema[k].lerp_(v, 1.0 - decay)
                v.copy_(self.ema[k])

    def after_step(self, model: nn.Module, step: int, total: int) -> None:
        if step % self.every == 0:
            self._move(model, 0.95 ** self.every * (step / total) ** 3)

    def finish(self, model: nn.Module) -> None:
        self._move(model, 1.0)
