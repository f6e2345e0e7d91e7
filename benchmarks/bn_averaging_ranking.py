"""Exact BN statistics vs the official running average: which ranks better?

The official DetNAS search recomputes BN statistics per candidate as an
exponential running average (momentum 0.1) over 500 training batches; the
default here is the exact mean and variance over the same images. For a
set of architectures on a trained supernet (a search config and its
checkpoint), this scores every architecture with both averagings, for
several calibration seeds, and reports:

- the stability of each ranking: Kendall tau between the scores of two
  calibration seeds (a method whose ranking changes with the calibration
  images ranks by noise);
- with ``--standalone rank_correlation.json`` (a finished rank study of
  the same supernet): Kendall tau of each method's scores with the
  standalone scores, the quantity that matters;
- the time per candidate.

    OMP_NUM_THREADS=1 python benchmarks/bn_averaging_ranking.py \\
        SEARCH_CONFIG CHECKPOINT --num-archs 12 --seeds 3 \\
        [--standalone work_dirs/rank/rank_correlation.json] --out out.json
"""
import argparse
import itertools
import json
import time

import numpy as np

from detnas_mm.analysis.rank_stats import rank_agreement
from detnas_mm.analysis.rank_study import sample_archs
from detnas_mm.engine.search_scoring import build_search_loop


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--num-archs', type=int, default=12)
    parser.add_argument('--seeds', type=int, default=3)
    parser.add_argument('--standalone',
                        help='rank_correlation.json of a rank study: its '
                        'architectures and standalone scores are used')
    parser.add_argument('--work-dir', default='work_dirs/bn_averaging')
    parser.add_argument('--out', help='write the figures as JSON')
    args = parser.parse_args(argv)
    _, loop = build_search_loop(args.config, args.checkpoint, args.work_dir)
    standalone = None
    if args.standalone:
        with open(args.standalone) as f:
            rows = json.load(f)['archs']
        archs = [r['arch'] for r in rows]
        standalone = [r['standalone_score'] for r in rows]
    else:
        archs = [a['arch'] for a in sample_archs(loop, args.num_archs, 0)]
    figures = {}
    for averaging in ('exact', 'running'):
        loop.bn_averaging = averaging
        scores, seconds = [], []
        for seed in range(args.seeds):
            calibration = loop._calibration_set(loop.seed + seed)
            row = []
            for arch in archs:
                start = time.perf_counter()
                row.append(loop._evaluate(arch, calibration)[0])
                seconds.append(time.perf_counter() - start)
            scores.append(row)
        between_seeds = [
            rank_agreement(scores[i], scores[j]).kendall_tau
            for i, j in itertools.combinations(range(args.seeds), 2)
        ]
        result = dict(scores=scores,
                      tau_between_seeds=between_seeds,
                      mean_tau_between_seeds=float(np.mean(between_seeds)),
                      seconds_per_candidate=float(np.mean(seconds)))
        if standalone is not None:
            taus = [rank_agreement(s, standalone).kendall_tau
                    for s in scores]
            result.update(tau_with_standalone=taus,
                          mean_tau_with_standalone=float(np.mean(taus)))
        figures[averaging] = result
        text = (f'{averaging}: tau between calibration seeds '
                f'{np.mean(between_seeds):.3f} '
                f'({", ".join(f"{t:.3f}" for t in between_seeds)})')
        if standalone is not None:
            taus = result['tau_with_standalone']
            text += (f'; tau with standalone '
                     f'{result["mean_tau_with_standalone"]:.3f} '
                     f'({", ".join(f"{t:.3f}" for t in taus)})')
        print(f'{text}; {result["seconds_per_candidate"]:.2f} s per '
              f'candidate', flush=True)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(archs=archs, standalone=standalone, **figures),
                      f, indent=1)


if __name__ == '__main__':
    main()
