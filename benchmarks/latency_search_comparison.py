"""Latency-limited vs FLOPs-limited search, judged by measured latency.

Issue #15's search target: a search with ``latency_limit_ms`` returns an
architecture whose *measured* latency is within the limit (plus the
measured noise), and whose score is at least that of the best
architecture the FLOPs-limited search (same budget) found at the same
measured latency.

Given the work dirs of finished searches (the first the FLOPs-limited one,
then one or more latency-limited ones, all run with the same
``latency_table``), this measures *every architecture any of them
evaluated* as a whole ``DetNASNet`` backbone at the table's input size,
with the table's backend, threads and clock, in one interleaved session
(:func:`detnas_mm.cost.latency.measure`) together with the table's own
runners (stem, every block op, calibration archs: a fresh same-session
table). Scores need no re-evaluation: every search scores a path the same
way (same supernet, calibration seed and search split), so a path's score
is its score in whichever search met it.

Reported per latency-limited search (its best arch ``B``):

- measured latency of ``B`` vs the limit; the noise: the run-to-run spread
  (even vs odd rounds of the same session) and the drift between the
  table's session and this one (median of measured / predicted over all
  archs);
- the best score of the FLOPs-limited search's archs measured at most as
  slow as ``B`` (and at most the limit), vs ``B``'s score.

    python benchmarks/latency_search_comparison.py FLOPS_DIR LAT_DIR \\
        [LAT_DIR ...] [--rounds 20] [--out comparison.json] [--plot a.png]
"""
import argparse
import datetime
import json
import os
import os.path as osp
import sys
import time

import numpy as np

from detnas_mm.cost.latency import (LatencyTable, TableBuilder, Timing,
                                    backbone_runner, device_name,
                                    library_versions, measure)
from detnas_mm.engine.search_state import STATE_FILE
from detnas_mm.export.search_result import BEST_ARCH_FILE
from detnas_mm.utils.io import atomic_write_json


def read_search(work_dir):
    with open(osp.join(work_dir, STATE_FILE), encoding='utf-8') as f:
        state = json.load(f)
    with open(osp.join(work_dir, BEST_ARCH_FILE), encoding='utf-8') as f:
        best = json.load(f)
    return dict(work_dir=work_dir, state=state, best=best,
                settings=state['settings'], cache=state['cache'])


def best_at_most(search, measured, limit_ms):
    """The best score among a search's archs measured at most
    ``limit_ms`` (ties: evaluated first)."""
    cache = search['cache']
    within = [a for a in cache if measured[a] <= limit_ms]
    if not within:
        return None
    arch = min(within, key=lambda a: (-cache[a]['score'],
                                      cache[a]['order']))
    return dict(arch=arch, score=cache[arch]['score'],
                measured_ms=measured[arch],
                predicted_ms=cache[arch]['latency_ms'],
                flops=cache[arch]['flops'], num_archs_within=len(within))


def plot_comparison(report: dict, out_file: str) -> None:
    """Score vs measured latency of every arch each search evaluated, the
    best archs and the latency limit marked."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    names = [osp.basename(osp.normpath(report['flops_search']['work_dir']))
             ] + [osp.basename(osp.normpath(s['work_dir']))
                  for s in report['latency_searches']]
    labels = [f'{names[0]}: flops_limit '
              f'{report["flops_search"]["flops_limit"] / 1e6:.0f}M'] + [
                  f'{n}: latency_limit_ms {s["latency_limit_ms"]:g}, '
                  f'selection {s["selection"]}'
                  for n, s in zip(names[1:], report['latency_searches'])]
    bests = [report['flops_search']['best']] + [
        s['best'] for s in report['latency_searches']]
    markers, colors = 'os^v', ['tab:blue', 'tab:red', 'tab:green',
                               'tab:purple']
    fig, ax = plt.subplots(figsize=(8, 4.8))
    # Scores sit on a 0.001 grid: a small per-search offset keeps the
    # searches' points apart.
    step = 0.00012
    for i, (name, label) in enumerate(zip(names, labels)):
        dy = (i - (len(names) - 1) / 2) * step
        archs = [a for a in report['archs'] if name in a['searches']]
        ax.scatter([a['measured_ms'] for a in archs],
                   [a['score'] + dy for a in archs], s=16,
                   marker=markers[i % 4], c=colors[i % 4], alpha=0.5,
                   label=f'{label} ({len(archs)})')
        ax.scatter([bests[i]['measured_ms']], [bests[i]['score'] + dy],
                   s=150, marker=markers[i % 4], c=colors[i % 4],
                   edgecolors='black', zorder=5)
    for i, limit in enumerate(sorted({s['latency_limit_ms']
                                      for s in report['latency_searches']})):
        ax.axvline(limit, ls='--', c='gray',
                   label=f'latency limit {limit:g} ms (predicted)')
    ax.set_xlabel('backbone latency (ms, measured; '
                  f'{report["table"]["backend"]}, '
                  f'{"x".join(map(str, report["table"]["input_size"]))}, '
                  f'{report["threads"]} thread, {report["clock"]} clock)')
    ax.set_ylabel('search score (large marker: each search\'s best)')
    ax.set_title('Same budget, FLOPs limit vs latency limit')
    ax.grid(alpha=0.3)
    ax.legend(loc='best', fontsize=7)
    fig.tight_layout()
    fig.savefig(out_file, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('flops_search', help='work dir of the FLOPs-limited '
                        'search')
    parser.add_argument('latency_searches', nargs='+',
                        help='work dirs of latency-limited searches')
    parser.add_argument('--table', help='latency table (default: the one '
                        'in the searches\' best_arch.json)')
    parser.add_argument('--rounds', type=int, default=20)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', help='also write the JSON here')
    parser.add_argument('--plot', help='also draw the searches here (PNG)')
    args = parser.parse_args(argv)

    def log(msg):
        print(f'[latency_search_comparison] {msg}', file=sys.stderr,
              flush=True)

    searches = [read_search(d) for d in
                [args.flops_search] + args.latency_searches]
    identities = {json.dumps(s['settings']['latency_table'], sort_keys=True)
                  for s in searches}
    if len(identities) != 1 or None in [s['settings']['latency_table']
                                        for s in searches]:
        sys.exit('error: every search must have run with the same '
                 'latency_table')
    table_path = args.table or searches[0]['best']['latency_table']['path']
    table = LatencyTable.load(table_path)
    meta = table.meta
    threads, clock = meta.get('threads', 1), meta.get('clock', 'auto')
    archs = []
    for s in searches:
        archs += [a for a in sorted(s['cache'],
                                    key=lambda a: s['cache'][a]['order'])
                  if a not in archs]
    log(f'{len(archs)} distinct archs from {len(searches)} searches; '
        f'table {table_path} ({table.backend}, {table.input_size}, '
        f'{threads} thread(s), {clock} clock)')

    start = time.perf_counter()
    load_before = os.getloadavg()
    builder = TableBuilder(table.space, table.input_size, table.backend,
                           table.device, threads,
                           len(table.calibration) or 5, args.seed)
    runners = [backbone_runner(a, table.space, table.input_size,
                               table.backend, table.device, threads,
                               args.seed) for a in archs]
    n = len(builder.runners)
    samples = measure(builder.runners + runners, table.backend, table.device,
                      threads, args.rounds, args.repeats, args.warmup,
                      args.seed, clock)
    fresh = builder.table(samples[:n])
    r, k = args.rounds, args.repeats
    halves = [[Timing.of([t for i in range(parity, r, 2)
                          for t in s[i * k:(i + 1) * k]]).median_ms
               for s in samples[n:]] for parity in (0, 1)]
    timings = [Timing.of(s) for s in samples[n:]]
    measured = {a: t.median_ms for a, t in zip(archs, timings)}
    predicted = np.array([table.predict(a) for a in archs])
    values = np.array([measured[a] for a in archs])
    run_to_run = np.abs(np.subtract(*halves)) / values
    ratio = values / predicted
    fresh_ratio = values / np.array([fresh.predict(a) for a in archs])
    noise = dict(
        run_to_run_median=float(np.median(run_to_run)),
        run_to_run_p90=float(np.percentile(run_to_run, 90)),
        drift_median=float(np.median(ratio) - 1),
        measured_over_predicted_range=[float(ratio.min()),
                                       float(ratio.max())],
        same_session_table_error_median=float(
            np.median(np.abs(fresh_ratio - 1))),
        same_session_table_within_10pct=float(
            np.mean(np.abs(fresh_ratio - 1) <= 0.10)))
    log(f'timed in {time.perf_counter() - start:.0f} s; drift '
        f'{100 * noise["drift_median"]:+.1f}%, run-to-run median '
        f'{100 * noise["run_to_run_median"]:.1f}%')

    flops = searches[0]
    flops_best = flops['best']['arch']
    results = []
    for s in searches[1:]:
        limit = s['settings']['latency_limit_ms']
        best = s['best']['arch']
        m_best = measured[best]
        i = archs.index(best)
        spread_ms = abs(halves[0][i] - halves[1][i])
        allowed = limit * (1 + max(noise['drift_median'], 0)) + spread_ms
        rival = best_at_most(flops, measured, m_best)
        rival_limit = best_at_most(flops, measured, limit)
        score = s['cache'][best]['score']
        results.append(dict(
            work_dir=s['work_dir'],
            selection=s['settings']['selection'],
            latency_limit_ms=limit,
            best=dict(arch=best, score=score,
                      predicted_ms=s['cache'][best]['latency_ms'],
                      measured_ms=m_best, spread_ms=spread_ms,
                      flops=s['cache'][best]['flops']),
            within_limit=bool(m_best <= limit),
            within_limit_plus_noise=bool(m_best <= allowed),
            limit_plus_noise_ms=allowed,
            flops_rival_at_most_as_slow=rival,
            flops_rival_within_limit=rival_limit,
            score_at_least_rival=None if rival is None else
            bool(score >= rival['score']),
            score_at_least_rival_within_limit=None if rival_limit is None
            else bool(score >= rival_limit['score']),
            num_evaluations=s['state']['num_evaluations'],
            can_rank=s['best'].get('can_rank')))
    report = dict(
        date=datetime.datetime.now(
            datetime.timezone.utc).isoformat(timespec='seconds'),
        device_name=device_name('cpu'),
        versions=library_versions(),
        table=table.info(),
        threads=threads, clock=clock, rounds=args.rounds,
        repeats=args.repeats,
        load_average_before=list(load_before),
        load_average_after=list(os.getloadavg()),
        seconds=time.perf_counter() - start,
        noise=noise,
        flops_search=dict(
            work_dir=flops['work_dir'],
            flops_limit=flops['settings']['flops_limit'],
            best=dict(arch=flops_best,
                      score=flops['cache'][flops_best]['score'],
                      predicted_ms=flops['cache'][flops_best]['latency_ms'],
                      measured_ms=measured[flops_best],
                      flops=flops['cache'][flops_best]['flops']),
            num_evaluations=flops['state']['num_evaluations'],
            can_rank=flops['best'].get('can_rank')),
        latency_searches=results,
        archs=[dict(arch=a, predicted_ms=float(p), measured_ms=measured[a],
                    even_rounds_ms=float(h0), odd_rounds_ms=float(h1),
                    searches=[osp.basename(osp.normpath(s['work_dir']))
                              for s in searches if a in s['cache']],
                    score=next(s['cache'][a]['score'] for s in searches
                               if a in s['cache']))
               for a, p, h0, h1 in zip(archs, predicted, *halves)])
    if args.out:
        atomic_write_json(args.out, report, indent=1)
    if args.plot:
        plot_comparison(report, args.plot)
    print(json.dumps({k: v for k, v in report.items() if k != 'archs'},
                     indent=1))


if __name__ == '__main__':
    main()
