"""Print FLOPs and params of a DetNAS architecture.

``flops`` is the official DetNAS count (conv, and the classifier's linear
layer in the ImageNet form, multiply-accumulates), the one the search's
``flops_limit`` and the samplers use; ``flops_full`` counts every op (BN
and pooling included), as mmdet's get_flops.py.

Examples:
    python tools/analysis/arch_cost.py --space 300M \
        --arch 2120|2112|33130031|3132 --imagenet-head
    python tools/analysis/arch_cost.py --space 300M --arch ... \
        --config configs/detnasnet/<config>.py --json
    # predicted latency from a table of tools/analysis/latency_table.py
    python tools/analysis/arch_cost.py --space 300M --arch ... \
        --latency-table table.json
"""
import argparse
import json

from detnas_mm.cost import get_cost_table
from detnas_mm.models.backbones import SEARCH_SPACES, format_arch, parse_arch


def parse_args():
    parser = argparse.ArgumentParser(
        description='FLOPs (multiply-accumulates) and params of an '
        'architecture, from the per-block lookup table')
    parser.add_argument('--space', required=True,
                        help='search space: ' + ', '.join(SEARCH_SPACES))
    parser.add_argument('--arch', required=True,
                        help="gene string, e.g. '2120|2112|33130031|3132'")
    parser.add_argument('--input-size', type=int, nargs='+', default=[224],
                        help='input size: S or H W (default 224)')
    parser.add_argument('--imagenet-head', action='store_true',
                        help='add the last 1x1 conv and the 1000-class '
                        'linear classifier (the ImageNet form)')
    parser.add_argument('--config',
                        help='detector config: also count the whole '
                        'detector (backbone + neck + heads, every op)')
    parser.add_argument('--detector-input', type=int, nargs=2,
                        metavar=('H', 'W'),
                        help='detector input size (default: the scale of '
                        "the config's test pipeline)")
    parser.add_argument('--latency-table', metavar='TABLE',
                        help='latency table (tools/analysis/'
                        'latency_table.py): also print the predicted '
                        'backbone latency_ms at its input size')
    parser.add_argument('--json', action='store_true',
                        help='print one JSON object')
    return parser.parse_args()


def main():
    args = parse_args()
    try:
        report(args)
    except ValueError as e:
        # Bad input: the message names the value and what is allowed.
        raise SystemExit(f'error: {e}')


def report(args):
    if len(args.input_size) not in (1, 2):
        raise SystemExit(f'--input-size takes S or H W, got '
                         f'{args.input_size}')
    size = tuple(args.input_size) * (3 - len(args.input_size))
    arch = format_arch(parse_arch(args.arch, args.space), args.space)
    table = get_cost_table(args.space, size)
    flops, params = table.cost(arch, args.imagenet_head, 'official')
    flops_full = table.cost(arch, args.imagenet_head, 'full')[0]
    result = dict(space=args.space, arch=arch, input_size=list(size),
                  imagenet_head=args.imagenet_head, flops=flops,
                  flops_count='official', flops_full=flops_full,
                  params=params)
    if args.config:
        from detnas_mm.cost.detector_flops import detector_cost
        result['detector'] = detector_cost(args.config, arch,
                                           args.detector_input)
    if args.latency_table:
        from detnas_mm.cost.latency import LatencyTable
        latency = LatencyTable.load(args.latency_table, space=args.space)
        result['latency_ms'] = latency.predict(arch)
        result['latency_table'] = latency.info()
    if args.json:
        print(json.dumps(result))
        return
    what = 'backbone + ImageNet head' if args.imagenet_head else 'backbone'
    print(f'space {args.space}  arch {arch}')
    print(f'{what} at {size[0]}x{size[1]}: '
          f'{flops / 1e6:.1f}M FLOPs (official count: conv + linear; '
          f'{flops_full / 1e6:.1f}M with BN and pooling), '
          f'{params / 1e6:.2f}M params')
    if args.config:
        det = result['detector']
        print(f'whole detector at {det["input_size"][0]}x'
              f'{det["input_size"][1]}: {det["flops"] / 1e9:.2f}G FLOPs, '
              f'{det["params"] / 1e6:.2f}M params')
    if args.latency_table:
        info = result['latency_table']
        print(f'backbone latency at {info["input_size"][0]}x'
              f'{info["input_size"][1]}: {result["latency_ms"]:.2f} ms '
              f'(predicted; {info["backend"]} on {info["device_name"]}, '
              f'{info["threads"]} thread(s), table of {info["date"]})')


if __name__ == '__main__':
    main()
