"""Does the supernet rank architectures as training them on their own does?

A rank study scores a set of architectures twice: on the trained supernet,
by exactly the search's scoring code (:func:`~detnas_mm.engine.
search_scoring.build_search_loop`), and standalone
(:func:`~detnas_mm.analysis.standalone.standalone_score`), then reports
their rank agreement (:func:`~detnas_mm.analysis.rank_stats.
rank_agreement`) beside the run-to-run noise of the standalone score (one
architecture trained with several seeds).

Layout of the work dir (a rerun skips what is finished)::

    archs.json                the architectures, in order, with roles
    supernet_scores.json      their supernet scores
    runs/<index>_<digits>_seed<s>/result.json   one standalone run each
    rank_correlation.{json,md,png}              the report
"""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine import dist

from detnas_mm.analysis.rank_stats import rank_agreement
from detnas_mm.analysis.standalone import StandaloneRecipe, standalone_score
from detnas_mm.engine.evolution import random_arch
from detnas_mm.models.backbones.search_space import format_arch, parse_arch
from detnas_mm.published_archs import PUBLISHED_ARCHS
from detnas_mm.utils import atomic_write_json, atomic_write_text

REPORT = 'rank_correlation'


def sample_archs(loop, num_random: int, seed: int,
                 top_k: Sequence[str] = (), published: bool = False,
                 pick: Optional[str] = None) -> List[dict]:
    """The architectures of a study: the search's top-k (its pick first),
    the published ones of the space, and seeded random ones that meet the
    search's constraint.

    Args:
        loop: The search loop (its space and constraint).
        num_random: Random architectures.
        seed: Seed of the random draw.
        top_k: Gene strings of the search's top-k, best first.
        published: Add the published architectures of the space.
        pick: The search's pick (marked in the plot).

    Returns:
        list[dict]: ``arch`` and ``role`` (``search``, ``published``,
        ``random``) of each, no duplicates.
    """
    space, constraint = loop.space, loop.constraint
    archs, seen = [], set()

    def add(genes, role):
        genes = format_arch(parse_arch(genes, space), space)
        if genes not in seen:
            seen.add(genes)
            archs.append(dict(arch=genes, role=role,
                              is_pick=genes == pick))

    for genes in top_k:
        add(genes, 'search')
    if published:
        for name, (space_name, genes) in PUBLISHED_ARCHS.items():
            if space_name == space.name:
                add(genes, 'published')
    rng = np.random.default_rng(seed)
    wanted = len(archs) + num_random
    for _ in range(1000 * max(num_random, 1)):
        if len(archs) == wanted:
            break
        path = random_arch(space, rng)
        if constraint.allows(path):
            add(format_arch(path, space), 'random')
    if len(archs) < wanted:
        raise RuntimeError(f'Found only {len(archs) - wanted + num_random} '
                           f'of {num_random} random architectures within '
                           f'the search\'s constraint')
    return archs


def supernet_scores(loop, archs: List[dict], out_file: str) -> Dict[str,
                                                                    float]:
    """Scores of the archs by the search's code, cached in ``out_file``.

    Every rank takes part in every score (as in the search).
    """
    scores = {}
    if osp.isfile(out_file):
        with open(out_file) as f:
            scores = json.load(f)
    for entry in archs:
        arch = entry['arch']
        if arch in scores:
            continue
        score, _, _ = loop._evaluate(arch, loop.calibration)
        scores[arch] = score
        if dist.get_rank() == 0:
            atomic_write_json(out_file, scores, indent=1)
    return scores


def run_dirs(work_dir: str, archs: List[dict],
             noise_seeds: int) -> List[dict]:
    """Every standalone run: each arch with seed 0, and the first arch
    with ``noise_seeds`` seeds in all."""
    runs = []
    for index, entry in enumerate(archs):
        seeds = range(noise_seeds if index == 0 else 1)
        for seed in seeds:
            tag = entry['arch'].replace('|', '')
            runs.append(dict(index=index, arch=entry['arch'], seed=seed,
                             dir=osp.join(work_dir, 'runs',
                                          f'{index:03d}_{tag}_seed{seed}')))
    return runs


def run_standalone(runs: List[dict], space, recipe: StandaloneRecipe,
                   device_env: Optional[dict] = None) -> None:
    """This rank's share of the standalone runs (run ``i`` on rank
    ``i % world_size``), then wait for every rank."""
    rank, world_size = dist.get_rank(), dist.get_world_size()
    for i, run in enumerate(runs):
        if i % world_size == rank:
            standalone_score(run['arch'], space, recipe, run['dir'],
                             run['seed'], device_env)
    dist.barrier()


def write_report(work_dir: str, archs: List[dict], scores: Dict[str, float],
                 runs: List[dict], score_key: str, seed: int = 0) -> dict:
    """Rank agreement, noise, table and plot of a finished study."""
    results = {}
    for run in runs:
        with open(osp.join(run['dir'], 'result.json')) as f:
            results[(run['arch'], run['seed'])] = json.load(f)['score']
    rows = [dict(entry, supernet_score=scores[entry['arch']],
                 standalone_score=results[(entry['arch'], 0)])
            for entry in archs]
    noise_scores = [results[(r['arch'], r['seed'])] for r in runs
                    if r['index'] == 0]
    noise = dict(arch=archs[0]['arch'], seeds=len(noise_scores),
                 scores=noise_scores,
                 std=float(np.std(noise_scores, ddof=1))
                 if len(noise_scores) > 1 else None,
                 range=float(np.ptp(noise_scores)))
    agreement = rank_agreement([r['supernet_score'] for r in rows],
                               [r['standalone_score'] for r in rows],
                               seed=seed)
    standalone = np.asarray([r['standalone_score'] for r in rows])
    report = dict(score_key=score_key, archs=rows, noise=noise,
                  agreement=agreement.to_dict(),
                  standalone_spread=dict(
                      min=float(standalone.min()),
                      max=float(standalone.max()),
                      std=float(standalone.std(ddof=1))))
    atomic_write_json(osp.join(work_dir, f'{REPORT}.json'), report,
                      indent=1)
    atomic_write_text(osp.join(work_dir, f'{REPORT}.md'),
                      format_report(report) + '\n')
    plot_report(report, osp.join(work_dir, f'{REPORT}.png'))
    return report


def format_report(report: dict) -> str:
    """The study as markdown: statistics, noise, then one row per arch."""
    a, noise = report['agreement'], report['noise']
    key = report['score_key']
    noise_text = (f'std {noise["std"]:.4f}, range {noise["range"]:.4f}'
                  if noise['std'] is not None else 'one seed only')
    lines = [
        f'Rank agreement of supernet and standalone {key} over {a["n"]} '
        f'architectures (95% bootstrap intervals):', '',
        '| statistic | value | 95% CI |', '|---|---:|---|',
        f'| Kendall tau | {a["kendall_tau"]:.3f} | '
        f'{a["kendall_ci"][0]:.3f} to {a["kendall_ci"][1]:.3f} |',
        f'| Spearman rho | {a["spearman_rho"]:.3f} | '
        f'{a["spearman_ci"][0]:.3f} to {a["spearman_ci"][1]:.3f} |',
        f'| top-{a["top_k"]} overlap | {a["top_k_overlap"]:.3f} | '
        f'{a["top_k_ci"][0]:.3f} to {a["top_k_ci"][1]:.3f} |', '',
        f'Standalone run-to-run noise ({noise["seeds"]} seeds of '
        f'`{noise["arch"].replace("|", chr(92) + "|")}`): {noise_text}; '
        f'spread of the standalone scores over the architectures: '
        f'{report["standalone_spread"]["min"]:.4f} to '
        f'{report["standalone_spread"]["max"]:.4f} (std '
        f'{report["standalone_spread"]["std"]:.4f}).', '',
        f'| # | arch | role | supernet {key} | standalone {key} |',
        '|---:|---|---|---:|---:|'
    ]
    for i, r in enumerate(report['archs']):
        mark = ' (search pick)' if r.get('is_pick') else ''
        genes = r['arch'].replace('|', '\\|')
        lines.append(f'| {i} | `{genes}` | {r["role"]}{mark} | '
                     f'{r["supernet_score"]:.4f} | '
                     f'{r["standalone_score"]:.4f} |')
    return '\n'.join(lines)


def plot_report(report: dict, out_file: str) -> None:
    """Supernet score vs standalone score, the search's pick marked."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rows, key = report['archs'], report['score_key']
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    for role, colour in (('random', 'tab:blue'), ('search', 'tab:orange'),
                         ('published', 'tab:green')):
        pts = [(r['supernet_score'], r['standalone_score']) for r in rows
               if r['role'] == role]
        if pts:
            xs, ys = zip(*pts)
            ax.scatter(xs, ys, s=22, c=colour, label=role)
    picks = [r for r in rows if r.get('is_pick')]
    if picks:
        ax.scatter([picks[0]['supernet_score']],
                   [picks[0]['standalone_score']], s=160, marker='*',
                   c='red', label='search pick', zorder=3)
    noise = report['noise']
    if noise['std'] is not None:
        first = rows[0]
        ax.errorbar([first['supernet_score']], [first['standalone_score']],
                    yerr=[[first['standalone_score'] - min(noise['scores'])],
                          [max(noise['scores']) - first['standalone_score']]],
                    fmt='none', ecolor='grey', capsize=3,
                    label=f'{noise["seeds"]} seeds (range)')
    a = report['agreement']
    ax.set_title(f'Kendall tau {a["kendall_tau"]:.2f} '
                 f'[{a["kendall_ci"][0]:.2f}, {a["kendall_ci"][1]:.2f}], '
                 f'n={a["n"]}')
    ax.set_xlabel(f'supernet {key} (search split)')
    ax.set_ylabel(f'standalone {key} (test split)')
    ax.grid(alpha=0.3)
    ax.legend(loc='best', fontsize=8)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    fig.savefig(out_file, dpi=100)
    plt.close(fig)
