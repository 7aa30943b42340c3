"""The compiled engine: ``torch.compile`` of the training step's forward and backward where a
profile's ``compile`` says so, compiled once per process on a resident model, outside any run's
clock. :func:`train.train` runs eager otherwise; evaluation, scoring passes and hooks always see
the eager module.
"""
from __future__ import annotations

import copy
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .devices import autocast

# One resident model and its torch.compile wrapper per (net, data shape, device, mode, precision)
# and process: a sweep's runs differ only in their weights, which each run copies in, so the
# step is compiled once per process rather than once per run.
_COMPILED: dict[tuple, tuple[nn.Module, Callable[[torch.Tensor], torch.Tensor]]] = {}


def compiled(model: nn.Module, shape: tuple[int, ...], device: torch.device, mode: str, batch_size: int,
             augmented: bool, amp: torch.dtype | None,
             make_batch: Callable[[torch.Tensor, torch.Generator], tuple[torch.Tensor, torch.Tensor]],
             ) -> tuple[nn.Module, Callable[[torch.Tensor], torch.Tensor]]:
    """``model``'s weights in the process's resident model for this net, and its compiled
    forward (``torch.compile(mode=mode)``; the backward is compiled with it).

    A new resident is compiled and warmed up here, on a batch made by ``make_batch(rows, gen)``
    as the loop makes them (the compiled graph is specialised to its shape and strides) in train
    mode under the run's autocast, so the compilation is not counted in a run's seconds; its
    weights and buffers are then overwritten with ``model``'s. ``shape`` is an image's (C, H, W);
    ``model`` must be channels_last already where it is convolutional.
    """
    key = (type(model).__name__, tuple(p.shape for p in model.parameters()), tuple(shape),
           str(device), mode, str(amp), batch_size, augmented)
    if key not in _COMPILED:
        resident = copy.deepcopy(model)
        forward = torch.compile(resident, mode=mode, dynamic=False)
        gen = torch.Generator(device=device).manual_seed(0)  # not the run's stream
        xb, yb = make_batch(torch.arange(batch_size, device=device), gen)
        resident.train()
        for _ in range(3):  # CUDA graphs record on the second call and replay from the third
            mark_step(mode)
            with autocast(device, amp):
                logits = forward(xb)
            F.cross_entropy(logits.float(), yb).backward()
        resident.zero_grad(set_to_none=True)
        _COMPILED[key] = (resident, forward)
    resident, forward = _COMPILED[key]
    with torch.no_grad():  # in place: the compiled graph keeps its parameters and buffers
        resident.load_state_dict(model.state_dict())
    return resident, forward


def mark_step(mode: str) -> None:
    """With CUDA graphs, tell torch that the previous step's outputs are no longer needed."""
    if mode == "reduce-overhead":
        torch.compiler.cudagraph_mark_step_begin()
