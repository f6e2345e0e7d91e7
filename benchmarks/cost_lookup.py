"""Lookup-table cost vs mmengine's traced FLOPs count.

For random architectures of a space: the relative difference between the
table's FLOPs and the FLOPs traced on the standalone network, and the time of
one lookup vs one trace (target: lookup at least 1000x faster, within 1%).

    python benchmarks/cost_lookup.py --space 300M --num-archs 5
"""
import argparse
import json
import random
import statistics
import time

import torch
from mmengine.analysis import FlopAnalyzer

from detnas_mm.cost import get_cost_table
from detnas_mm.models.backbones import DetNASNet, format_arch, get_search_space


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--space', default='300M')
    parser.add_argument('--input-size', type=int, default=224)
    parser.add_argument('--num-archs', type=int, default=5)
    parser.add_argument('--lookups', type=int, default=10000)
    args = parser.parse_args()
    space = get_search_space(args.space)
    rng = random.Random(0)
    start = time.perf_counter()
    table = get_cost_table(space, args.input_size)
    build_s = time.perf_counter() - start
    rows = []
    for _ in range(args.num_archs):
        arch = format_arch([rng.choice(space.choices)
                            for _ in range(space.num_blocks)], space)
        start = time.perf_counter()
        for _ in range(args.lookups):
            flops, _ = table.cost(arch)
        lookup_s = (time.perf_counter() - start) / args.lookups
        model = DetNASNet(space, arch).eval()
        start = time.perf_counter()
        analyzer = FlopAnalyzer(
            model, torch.zeros(1, 3, args.input_size, args.input_size))
        analyzer.unsupported_ops_warnings(False)
        analyzer.uncalled_modules_warnings(False)
        traced = analyzer.total()
        trace_s = time.perf_counter() - start
        rows.append(dict(arch=arch, table_flops=flops, traced_flops=traced,
                         rel_diff=abs(flops - traced) / traced,
                         lookup_us=1e6 * lookup_s, trace_ms=1e3 * trace_s,
                         speedup=trace_s / lookup_s))
    print(json.dumps(dict(
        space=space.name, input_size=args.input_size,
        table_build_s=build_s,
        max_rel_diff=max(r['rel_diff'] for r in rows),
        median_speedup=statistics.median(r['speedup'] for r in rows),
        archs=rows), indent=1))


if __name__ == '__main__':
    main()
