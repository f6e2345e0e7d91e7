"""Cost of DDP with find_unused_parameters for supernet fine-tuning.

A supernet step trains one path, so most choice ops get no gradient and DDP
must be told to look for unused parameters (``find_unused_parameters=True``
in ``model_wrapper_cfg``): after each forward it walks the autograd graph
to mark the unused ones ready, and its buckets still all-reduce the whole
supernet. This script measures a training step (forward, backward with the
all-reduce, SGD step) on 2 CPU processes (gloo) for three wrappers of the
same detector config, taking turns every step so that machine noise hits
them alike:

- ``supernet``: the DetNAS supernet, a new path every step (same on both
  ranks), ``find_unused_parameters=True`` (what fine-tuning does);
- ``net+find``: the standalone DetNASNet of one path, the same flag;
- ``net``: the DetNASNet with ``find_unused_parameters=False``.

It also checks that ops off the path keep ``grad=None`` after the DDP
backward, so that SGD leaves them (and their momentum) alone.

    python benchmarks/finetune_ddp_cost.py --steps 20
"""
import argparse
import json
import os
import random
import statistics
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from mmengine.config import Config
from mmengine.registry import init_default_scope
from torch.nn.parallel import DistributedDataParallel

from detnas_mm.datasets import random_detection_batch
from detnas_mm.engine.distributed import replace_sync_bn

CONFIG = ('configs/supernet/faster-rcnn_detnas-supernet-300M_tiny-fpn_'
          '1xb2-300iter_coco-tiny.py')
ARCH = '2120|2112|33130031|3132'


def build(cfg, standalone):
    from mmdet.registry import MODELS
    model_cfg = cfg.model.copy()
    if standalone:
        model_cfg.backbone.update(type='detnas_mm.DetNASNet', arch=ARCH)
    torch.manual_seed(0)
    return MODELS.build(model_cfg)


def step(ddp, optimizer, data, inspect=None):
    """Seconds of one training step; ``inspect()`` runs untimed before SGD."""
    start = time.perf_counter()
    losses = ddp(**data, mode='loss')
    loss, _ = ddp.module.parse_losses(losses)
    loss.backward()
    elapsed = time.perf_counter() - start
    if inspect is not None:
        inspect()
    start = time.perf_counter()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return elapsed + time.perf_counter() - start


def unused_grads_are_none(supernet):
    return all(p.grad is None for block in supernet.blocks
               for choice, op in block.ops.items()
               if int(choice) != block.choice for p in op.parameters())


def worker(rank, args, port, result_file):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group('gloo', rank=rank, world_size=2)
    init_default_scope('mmdet')
    cfg = Config.fromfile(CONFIG)
    replace_sync_bn(cfg.model)
    wrappers = {}
    for name, standalone, find in (('supernet', False, True),
                                   ('net+find', True, True), ('net', True,
                                                              False)):
        model = build(cfg, standalone).train()
        ddp = DistributedDataParallel(model, find_unused_parameters=find)
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
        wrappers[name] = (ddp, optimizer)
    supernet = wrappers['supernet'][0].module.backbone
    rng = random.Random(0)  # same seed on both ranks: same paths
    times = {name: [] for name in wrappers}
    checks = []
    for i in range(args.warmup + args.steps):
        supernet.set_path([rng.choice(b.choices) for b in supernet.blocks])
        for name, (ddp, optimizer) in wrappers.items():
            data = random_detection_batch(
                ddp.module, args.size, seed=i * 2 + rank)
            inspect = None
            if name == 'supernet':
                inspect = lambda: checks.append(  # noqa: E731
                    unused_grads_are_none(supernet))
            elapsed = step(ddp, optimizer, data, inspect)
            if i >= args.warmup:
                times[name].append(elapsed)
    if rank == 0:
        summary = dict(
            steps=args.steps,
            input_size=args.size,
            images_per_process=2,
            processes=2,
            median_step_s={
                k: statistics.median(v)
                for k, v in times.items()
            },
            params_all_reduced={
                name: sum(p.numel() for p in ddp.module.parameters())
                for name, (ddp, _) in wrappers.items()
            },
            unused_ops_keep_grad_none=all(checks))
        base = summary['median_step_s']['net']
        summary['ratio_to_net'] = {
            k: v / base
            for k, v in summary['median_step_s'].items()
        }
        with open(result_file, 'w') as f:
            json.dump(summary, f, indent=1)
    dist.destroy_process_group()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--steps', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--size', type=int, default=128)
    parser.add_argument('--port', type=int, default=29533)
    parser.add_argument('--out', default='ddp_cost.json')
    args = parser.parse_args()
    mp.spawn(worker, args=(args, args.port, args.out), nprocs=2)
    with open(args.out) as f:
        print(f.read())


if __name__ == '__main__':
    main()
