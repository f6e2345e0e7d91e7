"""Recompute the BatchNorm statistics of one supernet path.

Weights shared by many paths leave running statistics that fit no single
path, so every path is scored only after its BN statistics are recomputed
on training images (SPOS, DetNAS).
"""
from typing import Callable, Iterable, Optional

import torch
import torch.nn as nn
from mmengine import dist
from torch.nn.modules.batchnorm import _BatchNorm


def forward_tensor_mode(model: nn.Module, data_batch) -> None:
    """Forward an mmengine model on a data batch (no loss, no predict)."""
    data = model.data_preprocessor(data_batch, False)
    model(**data, mode='tensor')


@torch.no_grad()
def recalibrate_bn(model: nn.Module,
                   data_batches: Iterable,
                   forward_fn: Optional[Callable] = None) -> int:
    """Set every BN layer's running statistics from a calibration set.

    The statistics are computed from scratch as exact averages over the
    whole set: per-channel sums of the inputs of each BN layer (and of their
    squares) in float64, summed over all batches and, in a distributed run,
    over all ranks; then ``running_mean`` is the mean and ``running_var``
    the unbiased variance of all those values. BN layers normalise with
    batch statistics during the pass, as in training; every other module
    (dropout, ...) runs in eval mode. Training flags are restored afterwards.

    Args:
        model: The model whose current path is calibrated.
        data_batches: Batches of calibration data (e.g. a DataLoader). In a
            distributed run every rank must pass the same number of
            batches (SyncBN layers synchronise in every forward).
        forward_fn: ``forward_fn(model, batch)`` runs the model; defaults to
            :func:`forward_tensor_mode`.

    Returns:
        int: The number of batches seen on this rank.
    """
    forward_fn = forward_fn or forward_tensor_mode
    bns = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    # Per layer: [sum of x, sum of x^2, count], accumulated in float64 on
    # the layer's device (no host sync per batch).
    totals = {
        m: torch.zeros(2 * m.num_features + 1, dtype=torch.float64,
                       device=m.running_mean.device)
        for m in bns
    }

    def accumulate(module, inputs):
        x = inputs[0].detach()
        dims = [0] + list(range(2, x.dim()))
        c = module.num_features
        total = totals[module]
        total[:c] += x.sum(dims, dtype=torch.float64)
        total[c:2 * c] += x.square().sum(dims, dtype=torch.float64)
        total[-1] += x.numel() // c

    flags = {m: m.training for m in model.modules()}
    handles = [m.register_forward_pre_hook(accumulate) for m in bns]
    model.eval()
    for m in bns:
        m.train()
    num_batches = 0
    try:
        for batch in data_batches:
            forward_fn(model, batch)
            num_batches += 1
    finally:
        for handle in handles:
            handle.remove()
        for m, flag in flags.items():
            m.training = flag

    if dist.get_world_size() > 1 and bns:
        # One collective for all layers instead of one per layer.
        flat = torch.cat(list(totals.values()))
        dist.all_reduce(flat, op='sum')
        totals = dict(zip(bns, flat.split([t.numel()
                                           for t in totals.values()])))
    for m in bns:
        total = totals[m]
        n = total[-1].item()
        if n < 2:
            # Layer not on the current path (or no data): leave it alone.
            continue
        c = m.num_features
        mean = total[:c] / n
        var = total[c:2 * c] / n - mean * mean
        var = var.clamp_(min=0) * n / (n - 1)
        m.running_mean.copy_(mean.to(m.running_mean))
        m.running_var.copy_(var.to(m.running_var))
        if m.num_batches_tracked is not None:
            m.num_batches_tracked.fill_(num_batches)
    return num_batches
