"""Training-step time of the supernet on one path vs the standalone net.

Both models run forward + backward on the same input, in alternating order
so that machine noise hits both alike; the figure is the median of the
per-pair time ratios (supernet / standalone). Target: at most 1.05.

    python benchmarks/supernet_overhead.py --space 300M --pairs 20
"""
import argparse
import json
import statistics
import time

import torch

from detnas_mm.models.backbones import DetNASNet, DetNASSupernet
from detnas_mm.published_archs import PUBLISHED_ARCHS


def step_time(model, x):
    start = time.perf_counter()
    loss = sum(out.float().mean() for out in model(x))
    loss.backward()
    model.zero_grad(set_to_none=True)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--space', default='300M')
    parser.add_argument('--arch', help='default: the published arch')
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--input-size', type=int, default=224)
    parser.add_argument('--pairs', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args()
    arch = args.arch or next(a for s, a in PUBLISHED_ARCHS.values()
                             if s == args.space)
    torch.manual_seed(0)
    supernet = DetNASSupernet(args.space, arch=arch).to(args.device).train()
    net = DetNASNet(args.space, arch).to(args.device).train()
    net.load_state_dict(supernet.state_dict())
    x = torch.randn(args.batch_size, 3, args.input_size, args.input_size,
                    device=args.device)
    sync = torch.cuda.synchronize if args.device.startswith('cuda') else (
        lambda: None)

    def timed(model):
        sync()
        t = step_time(model, x)
        sync()
        return t

    for _ in range(args.warmup):
        timed(supernet), timed(net)
    ratios, t_super, t_net = [], [], []
    for i in range(args.pairs):
        # Alternate which model goes first within a pair.
        if i % 2:
            a, b = timed(supernet), timed(net)
        else:
            b, a = timed(net), timed(supernet)
        t_super.append(a), t_net.append(b), ratios.append(a / b)
    result = dict(space=args.space, arch=arch, batch_size=args.batch_size,
                  input_size=args.input_size, device=args.device,
                  threads=torch.get_num_threads(), pairs=args.pairs,
                  supernet_ms=1e3 * statistics.median(t_super),
                  standalone_ms=1e3 * statistics.median(t_net),
                  median_ratio=statistics.median(ratios))
    print(json.dumps(result, indent=1))


if __name__ == '__main__':
    main()
