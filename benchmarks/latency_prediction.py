"""Predicted vs measured whole-backbone latency of random architectures.

For each setting (backend, input size), with pinned threads and one clock:

1. *Same session*: the latency table's runners (stem, every (block, choice)
   op, the calibration archs) and the whole ``DetNASNet`` backbones of
   ``--num-archs`` random architectures that are not calibration archs are
   timed in the same interleaved rounds. The table is made from its own
   runners only; each arch's measurement is the median of its calls. This
   tests the additive model with the machine's load changes spread evenly.
   The even and the odd rounds give two interleaved measurements of every
   arch: their difference is the run-to-run spread.
2. *Later session*: the same archs are timed again on their own after it
   (what a user of a saved table does); the error against this includes
   the machine's drift between the sessions, reported too.

Reports per setting the fraction of archs predicted within +-10 %, within
+-5 %, the median and worst error, the load average before and after.
Prints one JSON object.

    # full: torch + onnxruntime at 128x128 and torch at 800x1333, 50 archs
    python benchmarks/latency_prediction.py --out latency_prediction.json
    # a smoke run on a tiny space (seconds)
    python benchmarks/latency_prediction.py --quick
"""
import argparse
import datetime
import json
import os
import sys
import time

import numpy as np

from detnas_mm.cost.latency import (CLOCKS, TableBuilder, Timing,
                                    backbone_runner, build_meta, device_name,
                                    library_versions, measure,
                                    measure_backbones, random_archs,
                                    resolve_clock)
from detnas_mm.utils.io import atomic_write_json

TINY_SPACE = dict(
    name='tiny',
    depths=[1, 1, 2, 1],
    stem_channels=8,
    stage_channels=[16, 32, 48, 64],
    last_channels=64)
# Timing effort per input size (rounds, repeats and warm-up calls of the
# session that times the table with the archs, then of the later session):
# a large input takes ~0.5 s per backbone call on one core, so fewer calls
# still give stable medians.
EFFORT = dict(
    small=dict(rounds=20, repeats=3, warmup=2, later_rounds=8),
    large=dict(rounds=4, repeats=1, warmup=1, later_rounds=2),
    quick=dict(rounds=6, repeats=2, warmup=1, later_rounds=3))


def error_stats(predicted, measured):
    error = predicted / measured - 1
    worst = int(np.argmax(np.abs(error)))
    return dict(
        within_10pct=float(np.mean(np.abs(error) <= 0.10)),
        within_5pct=float(np.mean(np.abs(error) <= 0.05)),
        median_abs_error=float(np.median(np.abs(error))),
        mean_error=float(np.mean(error)),
        worst_error=float(error[worst]),
        worst_index=worst)


def run_setting(space, size, backend, effort, args, log):
    """One backend and input size: table + archs, then the archs again."""
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    clock = resolve_clock(args.clock, 'cpu', args.threads)
    builder = TableBuilder(space, size, backend, 'cpu', args.threads,
                           args.calibration, args.seed)
    archs = random_archs(
        builder.space,
        args.num_archs,
        seed=args.seed + 1000,
        exclude=builder.calibration_archs)
    runners = [
        backbone_runner(a, builder.space, size, backend, 'cpu', args.threads,
                        args.seed) for a in archs
    ]
    n, rounds, repeats = len(builder.runners), effort['rounds'], \
        effort['repeats']
    log(f'{backend} {size}: timing {n} table runners and {len(archs)} '
        f'archs in {rounds} rounds')
    samples = measure(builder.runners + runners, backend, 'cpu', args.threads,
                      rounds, repeats, effort['warmup'], args.seed, clock)
    table = builder.table(
        samples[:n],
        build_meta(
            'cpu',
            args.threads,
            clock,
            rounds=rounds,
            repeats=repeats,
            warmup=effort['warmup']))
    session_s = time.perf_counter() - start
    if args.table_dir:
        table.save(
            os.path.join(
                args.table_dir,
                f'{table.space.name}_{size[0]}x{size[1]}_{backend}.json'))
    # Two interleaved measurements of every arch: even and odd rounds.
    halves = [[
        Timing.of([
            t for r in range(parity, rounds, 2)
            for t in s[r * repeats:(r + 1) * repeats]
        ]).median_ms for s in samples[n:]
    ] for parity in (0, 1)]
    measured = np.array([Timing.of(s).median_ms for s in samples[n:]])
    del runners, samples
    log(f'{backend} {size}: same-session timing done in {session_s:.0f} s;'
        f' timing the archs again')
    later = []
    for i in range(0, len(archs), args.chunk):
        later += [
            Timing.of(s).median_ms for s in measure_backbones(
                archs[i:i + args.chunk], table.space, size, backend, 'cpu',
                args.threads, effort['later_rounds'], repeats,
                effort['warmup'], args.seed + 1, clock)
        ]
    later = np.array(later)
    predicted = np.array([table.predict(a) for a in archs])
    sums = np.array([table.sum_of_entries(a) for a in archs])
    same = error_stats(predicted, measured)
    separate = error_stats(predicted, later)
    run_to_run = np.abs(np.subtract(*halves)) / measured
    drift = later / measured - 1
    return dict(
        backend=backend,
        input_size=list(size),
        space=table.space.name,
        threads=args.threads,
        clock=clock,
        num_archs=len(archs),
        effort=effort,
        table_offset_ms=table.offset_ms,
        table_offset_spread_ms=table.meta['offset_spread_ms'],
        table_summary=table.summary(),
        measured_ms_range=[float(measured.min()),
                           float(measured.max())],
        same_session=same,
        later_session=separate,
        sum_only_median_error=float(np.median(sums / measured - 1)),
        run_to_run_median=float(np.median(run_to_run)),
        run_to_run_max=float(np.max(run_to_run)),
        later_drift_median=float(np.median(drift)),
        later_drift_max_abs=float(np.max(np.abs(drift))),
        load_average=[load_before, os.getloadavg()[0]],
        seconds=time.perf_counter() - start,
        archs=[
            dict(
                arch=a,
                predicted_ms=float(p),
                measured_ms=float(m),
                even_rounds_ms=float(h0),
                odd_rounds_ms=float(h1),
                later_ms=float(lt)) for a, p, m, h0, h1, lt in zip(
                    archs, predicted, measured, *halves, later)
        ])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--space', default='300M')
    parser.add_argument(
        '--input-size',
        type=int,
        nargs=2,
        default=[128, 128],
        metavar=('H', 'W'),
        help='CPU-size input')
    parser.add_argument(
        '--large-size',
        type=int,
        nargs=2,
        default=[800, 1333],
        metavar=('H', 'W'),
        help='large input (torch only)')
    parser.add_argument('--skip-large', action='store_true')
    parser.add_argument(
        '--backends',
        nargs='+',
        default=['torch', 'onnxruntime'],
        choices=['torch', 'onnxruntime'])
    parser.add_argument('--num-archs', type=int, default=50)
    parser.add_argument(
        '--chunk',
        type=int,
        default=10,
        help='archs interleaved at once (memory)')
    parser.add_argument('--calibration', type=int, default=5)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--clock', default='auto', choices=CLOCKS)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--table-dir', help='also save the tables here')
    parser.add_argument(
        '--quick',
        action='store_true',
        help='tiny space at 64 px, 6 archs, few rounds')
    parser.add_argument('--out', help='also write the JSON here')
    args = parser.parse_args(argv)
    if args.num_archs < 1 or args.chunk < 1:
        parser.error('--num-archs and --chunk must be >= 1')

    def log(msg):
        print(f'[latency_prediction] {msg}', file=sys.stderr, flush=True)

    settings = []
    if args.quick:
        space, args.num_archs = TINY_SPACE, min(args.num_archs, 6)
        settings = [(b, (64, 64), 'quick') for b in args.backends]
    else:
        space = args.space
        settings = [(b, tuple(args.input_size), 'small')
                    for b in args.backends]
        if not args.skip_large and 'torch' in args.backends:
            settings.append(('torch', tuple(args.large_size), 'large'))
    start = time.perf_counter()
    load_before = os.getloadavg()
    results = [
        run_setting(space, size, backend, EFFORT[effort], args, log)
        for backend, size, effort in settings
    ]
    report = dict(
        date=datetime.datetime.now(
            datetime.timezone.utc).isoformat(timespec='seconds'),
        device_name=device_name('cpu'),
        cpu_count=os.cpu_count(),
        threads=args.threads,
        clock=resolve_clock(args.clock, 'cpu', args.threads),
        versions=library_versions(),
        load_average_before=list(load_before),
        load_average_after=list(os.getloadavg()),
        seconds=time.perf_counter() - start,
        quick=args.quick,
        settings=results,
        summary=[
            dict(
                backend=r['backend'],
                input_size=r['input_size'],
                same_session=r['same_session'],
                later_session=r['later_session'],
                run_to_run_median=r['run_to_run_median'],
                later_drift_median=r['later_drift_median']) for r in results
        ])
    if args.out:
        atomic_write_json(args.out, report, indent=1)
    print(json.dumps(report, indent=1))
    for r in results:
        for kind in ('same_session', 'later_session'):
            e = r[kind]
            log(f'{r["backend"]} {r["input_size"]} {kind}: '
                f'{100 * e["within_10pct"]:.0f}% within 10%, median '
                f'{100 * e["median_abs_error"]:.1f}%, worst '
                f'{100 * e["worst_error"]:+.1f}%')
        log(f'  run-to-run median {100 * r["run_to_run_median"]:.1f}%, '
            f'later drift median {100 * r["later_drift_median"]:+.1f}%')
    return report


if __name__ == '__main__':
    main()
