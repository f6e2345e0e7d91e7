"""Recompute the BatchNorm statistics of one supernet path.

Weights shared by many paths leave running statistics that fit no single
path, so every path is scored only after its BN statistics are recomputed
on training images (SPOS, DetNAS). The official DetNAS search
(``bn_statistic`` in ``distributed_arch_search/test_server.py`` of
megvii-model/DetNAS) resets the statistics, then runs 500 iterations of
the *training* loader through the detector in *training mode* with the
targets given (the RPN and the RoI sampler work as in training, so the box
head's BN sees sampled RoIs) and lets BN update its running averages with
momentum 0.1. :func:`recalibrate_bn` does the same forward, and offers two
ways to turn the batches into statistics (``averaging``):

- ``'exact'``: the mean and the unbiased variance of every BN input over
  the whole calibration set (float64 sums, all-reduced across ranks): the
  statistics do not depend on the batch order or the number of ranks.
- ``'running'``: the official exponential running average (reset to mean
  0 / var 1, then BN's own update with ``momentum``), which weights the last
  batches most.
"""
from typing import Callable, Iterable, Optional

import torch
import torch.nn as nn
from mmengine import dist
from torch.nn.modules.batchnorm import _BatchNorm

AVERAGING = ('exact', 'running')


def loss_forward(model: nn.Module, data_batch) -> None:
    """The training forward of an mmengine model, losses included.

    As the official recalibration: the data preprocessor in training mode
    (batch augmentations, padding), then ``mode='loss'`` with the targets.
    """
    data = model.data_preprocessor(data_batch, True)
    model(**data, mode='loss')


def bn_layers(model: nn.Module):
    """The BN layers of a model that keep running statistics."""
    return [m for m in model.modules()
            if isinstance(m, _BatchNorm) and m.track_running_stats]


@torch.no_grad()
def recalibrate_bn(model: nn.Module,
                   data_batches: Iterable,
                   forward_fn: Optional[Callable] = None,
                   averaging: str = 'exact',
                   momentum: float = 0.1) -> int:
    """Recompute every BN layer's running statistics on a calibration set.

    The whole model runs in training mode (as the official code does), with
    no gradients; the training flags of every module and the BN momenta are
    restored afterwards. BN layers the forward does not reach (the choice
    ops off the current path) keep their statistics.

    Args:
        model: The model whose current path is calibrated.
        data_batches: Batches of calibration data. In a distributed run
            every rank must pass the same number of batches (SyncBN layers
            synchronise in every forward).
        forward_fn: ``forward_fn(model, batch)`` runs the model; defaults to
            :func:`loss_forward`.
        averaging: ``'exact'`` or ``'running'`` (see the module doc).
        momentum: BN momentum of the ``'running'`` average (the official
            search's SyncBN momentum is 0.1).

    Returns:
        int: The number of batches seen on this rank.
    """
    if averaging not in AVERAGING:
        raise ValueError(f'averaging must be one of {AVERAGING}, got '
                         f'{averaging!r}')
    if not 0 < momentum <= 1:
        raise ValueError(f'momentum must be in (0, 1], got {momentum!r}')
    forward_fn = forward_fn or loss_forward
    bns = bn_layers(model)
    # Per layer: [sum of x, sum of x^2, count], accumulated in float64 on
    # the layer's device (no host sync per batch). The count also tells
    # which layers the path reached.
    totals = {
        m: torch.zeros(2 * m.num_features + 1, dtype=torch.float64,
                       device=m.running_mean.device)
        for m in bns
    }
    saved = {m: (m.running_mean.clone(), m.running_var.clone(),
                 m.num_batches_tracked.clone(), m.momentum) for m in bns}

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
    for m in bns:
        m.reset_running_stats()
        m.momentum = momentum
    model.train()
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
        for m, (_, _, _, old_momentum) in saved.items():
            m.momentum = old_momentum

    counts = torch.stack([t[-1] for t in totals.values()]) if bns else None
    if dist.get_world_size() > 1 and bns:
        # One collective for all layers instead of one per layer.
        flat = torch.cat(list(totals.values()))
        dist.all_reduce(flat, op='sum')
        totals = dict(zip(bns, flat.split([t.numel()
                                           for t in totals.values()])))
        counts = torch.stack([t[-1] for t in totals.values()])
    for i, m in enumerate(bns):
        n = counts[i].item()
        if n < 2:
            # Not on the current path (or no data): as it was.
            mean, var, tracked, _ = saved[m]
            m.running_mean.copy_(mean)
            m.running_var.copy_(var)
            m.num_batches_tracked.copy_(tracked)
            continue
        if averaging == 'running':
            if dist.get_world_size() > 1 and not isinstance(
                    m, nn.SyncBatchNorm):
                # Per-process BN (CPU runs): the ranks' averages differ;
                # take their mean, as SyncBN would have seen all batches.
                for buffer in (m.running_mean, m.running_var):
                    dist.all_reduce(buffer, op='mean')
            continue
        total = totals[m]
        c = m.num_features
        mean = total[:c] / n
        var = total[c:2 * c] / n - mean * mean
        var = var.clamp_(min=0) * n / (n - 1)
        m.running_mean.copy_(mean.to(m.running_mean))
        m.running_var.copy_(var.to(m.running_var))
        m.num_batches_tracked.fill_(num_batches)
    return num_batches
