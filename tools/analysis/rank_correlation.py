"""Rank correlation of supernet scores and standalone scores.

DetNAS assumes that a path's score on the trained supernet (BN statistics
recomputed) ranks architectures as training them on their own does. This
tool measures it: N seeded random architectures under the search's
constraint (plus, optionally, the search's top-k and the published
architectures of the space) are scored on the supernet by exactly the
search's code, and trained standalone with one recipe (from scratch, or
from a standalone classification pretraining of the same architecture;
never from the supernet's weights) and tested on the test split. Reports
Kendall tau, Spearman rho and top-k overlap with bootstrap 95 % intervals,
the run-to-run noise of the standalone score (the first architecture
trained with ``--noise-seeds`` seeds), as JSON, markdown and a plot.

Every run has its own folder; a rerun skips finished ones, so the command
can be killed anywhere and run again. In a distributed launch the supernet
scores use every rank (as the search) and the standalone runs are dealt
over the ranks.

Examples:
    # CPU size, on a finished search of the pipeline
    python tools/analysis/rank_correlation.py --search-dir \\
        work_dirs/detnas_pipeline/4_search --work-dir work_dirs/rank \\
        --num-random 10 --base faster-rcnn_coco-tiny
    # Full scale, 8 GPUs
    python -m torch.distributed.run --nproc_per_node 8 \\
        tools/analysis/rank_correlation.py configs/search/<search>.py \\
        supernet.pth --work-dir work_dirs/rank --num-random 20 \\
        --base faster-rcnn_coco --det-cfg-options train_cfg.max_iters=22500 \\
        --launcher pytorch
"""
import argparse
import glob
import json
import os
import os.path as osp
import sys

import torch
from mmengine import dist
from mmengine.config import Config, DictAction

from detnas_mm.analysis.rank_study import (run_dirs, run_standalone,
                                           sample_archs, supernet_scores,
                                           write_report)
from detnas_mm.analysis.standalone import INITS, StandaloneRecipe
from detnas_mm.engine.distributed import setup_cpu_distributed
from detnas_mm.engine.search_scoring import build_search_loop
from detnas_mm.export import RETRAIN_BASES, read_search_result
from detnas_mm.utils import atomic_write_json
from detnas_mm.utils.checkpoint import CheckpointRefusedError


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Rank correlation of supernet and standalone scores',
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', nargs='?', help='search config')
    parser.add_argument('checkpoint', nargs='?',
                        help='trained supernet checkpoint')
    parser.add_argument(
        '--search-dir',
        help='a finished search: its config and checkpoint (unless given) '
        'and its top-k')
    parser.add_argument('--work-dir', required=True,
                        help='where the study writes')
    parser.add_argument('--num-random', type=int, default=10,
                        help='random architectures (default 10)')
    parser.add_argument('--top-k', type=int, default=0,
                        help='add the search\'s k best (with --search-dir)')
    parser.add_argument('--published', action='store_true',
                        help='add the published architectures of the space')
    parser.add_argument(
        '--base', required=True, choices=list(RETRAIN_BASES),
        help='standalone retraining recipe (detnas_mm.export.'
        'RETRAIN_BASES)')
    parser.add_argument(
        '--init', choices=INITS, default='scratch',
        help='standalone start: from scratch, or from a standalone '
        'classification pretraining of the same architecture')
    parser.add_argument('--det-cfg-options', nargs='+', action=DictAction,
                        default={}, help='detection training overrides')
    parser.add_argument('--cls-cfg-options', nargs='+', action=DictAction,
                        default={}, help='classification pretraining '
                        'overrides (--init imagenet)')
    parser.add_argument('--search-cfg-options', nargs='+',
                        action=DictAction, default={},
                        help='overrides of the search config')
    parser.add_argument('--noise-seeds', type=int, default=3,
                        help='seeds of the first architecture (run-to-run '
                        'noise; default 3)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the random architectures')
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm'])
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if args.search_dir is None and (args.config is None
                                    or args.checkpoint is None):
        parser.error('give CONFIG and CHECKPOINT, or --search-dir')
    if args.search_dir is not None and not osp.isdir(args.search_dir):
        parser.error(f'--search-dir {args.search_dir!r} is not a folder')
    if args.top_k and args.search_dir is None:
        parser.error('--top-k needs --search-dir')
    if args.num_random < 0 or args.top_k < 0 or args.noise_seeds < 1:
        parser.error('--num-random and --top-k must be >= 0, --noise-seeds '
                     '>= 1')
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    try:
        resolve_search(args)
    except ValueError as e:
        parser.error(str(e))
    if not osp.isfile(args.checkpoint):
        parser.error(f'checkpoint {args.checkpoint!r} is not a file')
    return args


def resolve_search(args):
    """Config, checkpoint, top-k and pick of ``--search-dir``."""
    args.top_archs, args.pick = [], None
    if args.search_dir is None:
        return
    result = read_search_result(args.search_dir)
    args.pick = result['arch']
    if args.checkpoint is None:
        args.checkpoint = result['checkpoint']
    if args.config is None:
        configs = [p for p in sorted(glob.glob(osp.join(args.search_dir,
                                                        '*.py')))
                   if _is_search_config(p)]
        if len(configs) != 1:
            raise ValueError(f'{args.search_dir} holds {len(configs)} '
                             f'search configs; give CONFIG')
        args.config = configs[0]
    if args.top_k:
        with open(osp.join(args.search_dir, 'search_topk.json')) as f:
            args.top_archs = [row['arch'] for row in json.load(f)
                              ][:args.top_k]


def _is_search_config(path: str) -> bool:
    try:
        cfg = Config.fromfile(path)
    except Exception:  # exported configs of other packages, broken files
        return False
    return str(cfg.get('train_cfg', {}).get('type', '')).endswith(
        'EvolutionSearchLoop')


def main(argv=None):
    args = parse_args(argv)
    work_dir = osp.abspath(args.work_dir)
    os.makedirs(work_dir, exist_ok=True)
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.search_cfg_options)
    cfg.launcher = args.launcher
    setup_cpu_distributed(cfg, args.launcher)
    try:
        _, loop = build_search_loop(cfg, args.checkpoint,
                                    osp.join(work_dir, 'supernet'))
    except CheckpointRefusedError as e:
        sys.exit(f'error: {e} ({args.checkpoint})')
    archs_file = osp.join(work_dir, 'archs.json')
    if osp.isfile(archs_file):
        with open(archs_file) as f:
            archs = json.load(f)['archs']
    else:
        archs = sample_archs(loop, args.num_random, args.seed,
                             args.top_archs, args.published, args.pick)
        if dist.get_rank() == 0:
            atomic_write_json(archs_file, dict(
                archs=archs, seed=args.seed, config=osp.abspath(args.config),
                checkpoint=osp.abspath(args.checkpoint)), indent=1)
    scores = supernet_scores(loop, archs,
                             osp.join(work_dir, 'supernet_scores.json'))
    recipe = StandaloneRecipe(args.base, args.init, args.det_cfg_options,
                              args.cls_cfg_options,
                              score_key=loop.score_key)
    runs = run_dirs(work_dir, archs, args.noise_seeds)
    device_env = None
    if torch.cuda.is_available() and dist.get_world_size() > 1:
        device_env = dict(CUDA_VISIBLE_DEVICES=os.environ['LOCAL_RANK'])
    run_standalone(runs, loop.space, recipe, device_env)
    if dist.get_rank() == 0:
        report = write_report(work_dir, archs, scores, runs, loop.score_key,
                              args.seed)
        a = report['agreement']
        print(f'Kendall tau {a["kendall_tau"]:.3f} (95% CI '
              f'{a["kendall_ci"][0]:.3f} to {a["kendall_ci"][1]:.3f}), '
              f'Spearman rho {a["spearman_rho"]:.3f}, over {a["n"]} '
              f'architectures; report in {work_dir}/rank_correlation.md',
              flush=True)


if __name__ == '__main__':
    main()
