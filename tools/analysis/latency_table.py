"""Measure a per-block latency table of a DetNAS search space.

Examples:
    # The CPU-size detector input (configs/_base_/datasets/
    # coco-tiny_detection_128px.py), one thread
    python tools/analysis/latency_table.py --space 300M --input-size 128 128 \
        --backend torch --out work_dirs/latency/300M_128_torch.json
    python tools/analysis/latency_table.py --space 300M --input-size 128 128 \
        --backend onnxruntime --threads 2 --out table_ort.json

Measures the stem and every (block, choice op) at the shape it sees at
batch 1 (see detnas_mm/cost/latency.py), prints a summary and writes the
table; ``tools/analysis/arch_cost.py --latency-table`` then predicts the
latency of any architecture of the space.
"""
import argparse
import json
import sys
import time

from detnas_mm.cost.latency import (BACKENDS, CLOCKS, DEVICES,
                                    build_latency_table)
from detnas_mm.models.backbones import SEARCH_SPACES, get_search_space


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            f'must be a positive integer, got {text!r}')
    return value


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Measure the latency of the stem and every (block, '
        'choice op) of a search space at a detector input size, batch 1')
    parser.add_argument(
        '--space',
        required=True,
        help=f'search space: {", ".join(SEARCH_SPACES)}, or a JSON dict '
        'of depths, stem_channels, stage_channels, last_channels')
    parser.add_argument(
        '--input-size',
        type=positive_int,
        nargs='+',
        required=True,
        metavar='S',
        help='detector input size: S or H W')
    parser.add_argument('--backend', default='torch', choices=BACKENDS)
    parser.add_argument('--device', default='cpu', choices=DEVICES)
    parser.add_argument(
        '--threads',
        type=positive_int,
        default=1,
        help='intra-op threads (default 1)')
    parser.add_argument(
        '--rounds',
        type=positive_int,
        default=30,
        help='interleaved rounds over all entries '
        '(default 30)')
    parser.add_argument(
        '--repeats',
        type=positive_int,
        default=3,
        help='timed calls per entry and round (default 3)')
    parser.add_argument(
        '--warmup',
        type=int,
        default=3,
        help='untimed calls per entry first (default 3)')
    parser.add_argument(
        '--calibration',
        type=positive_int,
        default=5,
        help='random whole backbones measured for the '
        'constant the sum misses (default 5)')
    parser.add_argument(
        '--clock',
        default='auto',
        choices=CLOCKS,
        help="'cpu': CPU time of the measuring thread (one thread on the "
        "CPU only; robust to other processes); 'wall': wall time; 'auto' "
        "(default): 'cpu' for one CPU thread, else 'wall'")
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', required=True, help='JSON file to write')
    parser.add_argument(
        '--json',
        action='store_true',
        help='print the summary as one JSON object')
    args = parser.parse_args(argv)
    if len(args.input_size) not in (1, 2):
        parser.error(f'--input-size takes S or H W, got {args.input_size}')
    if args.warmup < 0:
        parser.error(f'--warmup must be >= 0, got {args.warmup}')
    try:
        space = json.loads(args.space) if args.space.startswith('{') \
            else args.space
        args.space = get_search_space(space)
    except ValueError as e:
        parser.error(f'--space: {e}')
    return args


def main(argv=None):
    args = parse_args(argv)
    size = tuple(args.input_size) * (3 - len(args.input_size))
    start = time.perf_counter()
    try:
        table = build_latency_table(
            args.space,
            size,
            args.backend,
            args.device,
            args.threads,
            args.rounds,
            args.repeats,
            args.warmup,
            args.calibration,
            args.seed,
            args.clock,
            log=lambda msg: print(f'[latency_table] {msg}', file=sys.stderr))
    except (ValueError, ImportError) as e:
        # Bad request (e.g. cuda without a GPU, onnxruntime missing).
        raise SystemExit(f'error: {e}')
    table.save(args.out)
    summary = dict(
        out=args.out,
        space=table.space.name,
        input_size=list(table.input_size),
        backend=table.backend,
        device=table.device,
        device_name=table.meta['device_name'],
        threads=table.meta['threads'],
        clock=table.meta['clock'],
        build_seconds=time.perf_counter() - start,
        **table.summary())
    if args.json:
        print(json.dumps(summary))
        return summary
    print(f'{table.space.name} at {size[0]}x{size[1]}, {table.backend} on '
          f'{table.device} ({summary["device_name"]}), {args.threads} '
          f'thread(s), {summary["clock"]} clock: built in '
          f'{summary["build_seconds"]:.1f} s -> {args.out}')
    print(f'stem {summary["stem_ms"]:.3f} ms, offset '
          f'{summary["offset_ms"]:+.3f} ms, architectures '
          f'{summary["min_arch_ms"]:.2f} .. {summary["max_arch_ms"]:.2f} ms')
    ops = list(next(iter(summary['block_median_ms_per_stage'].values())))
    print('median block latency (ms): stage  ' + '  '.join(ops))
    for stage, row in summary['block_median_ms_per_stage'].items():
        print(f'  {stage}  ' + '  '.join(f'{row[op]:.3f}' for op in ops))
    return summary


if __name__ == '__main__':
    main()
