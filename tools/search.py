"""Evolutionary architecture search on a trained supernet.

The config's ``train_cfg`` is a ``detnas_mm.EvolutionSearchLoop``: the
Runner's train loop is the search. The supernet checkpoint is loaded into
the model (``load_from``); no optimizer step is taken (the optimizer of
the inherited fine-tuning config is built by ``Runner.train`` but never
used).

Examples:
    python tools/search.py configs/search/<config>.py supernet.pth
    python tools/search.py configs/search/<config>.py supernet.pth --resume
    bash tools/dist_search.sh configs/search/<config>.py supernet.pth 8
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from detnas_mm.engine.distributed import setup_cpu_distributed

SEARCH_LOOP = 'detnas_mm.EvolutionSearchLoop'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Search the paths of a supernet by evolution')
    parser.add_argument('config', help='search config file path')
    parser.add_argument('checkpoint', help='trained supernet checkpoint')
    parser.add_argument('--work-dir', help='where the search writes')
    parser.add_argument(
        '--resume', action='store_true',
        help='continue the search saved in the work dir '
        '(search_state.json)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, key=value')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def build_cfg(args) -> Config:
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    loop_type = cfg.get('train_cfg', {}).get('type')
    if loop_type not in (SEARCH_LOOP, 'EvolutionSearchLoop'):
        raise ValueError(f'{args.config}: train_cfg.type must be '
                         f'{SEARCH_LOOP!r} for a search, got {loop_type!r}')
    if not osp.isfile(args.checkpoint):
        raise ValueError(f'checkpoint {args.checkpoint!r} is not a file')
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    # The search resumes from its own state file, not from a training
    # checkpoint: the Runner only loads the supernet weights.
    cfg.load_from, cfg.resume = args.checkpoint, False
    cfg.train_cfg.resume = args.resume
    return cfg


def main(argv=None):
    args = parse_args(argv)
    cfg = build_cfg(args)
    setup_cpu_distributed(cfg, args.launcher)
    if 'runner_type' in cfg:
        runner = RUNNERS.build(cfg)
    else:
        runner = Runner.from_cfg(cfg)
    runner.train()


if __name__ == '__main__':
    main()
