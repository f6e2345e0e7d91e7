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
import os.path as osp

from mmengine.config import Config

from detnas_mm.engine import launch

SEARCH_LOOP = 'detnas_mm.EvolutionSearchLoop'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Search the paths of a supernet by evolution')
    parser.add_argument('config', help='search config file path')
    parser.add_argument('checkpoint', help='trained supernet checkpoint')
    launch.add_common_args(parser, 'where the search writes')
    parser.add_argument(
        '--resume', action='store_true',
        help='continue the search saved in the work dir '
        '(search_state.json)')
    args = launch.parse_args(parser, argv)
    if not osp.isfile(args.checkpoint):
        parser.error(f'checkpoint {args.checkpoint!r} is not a file')
    return args


def build_cfg(args) -> Config:
    cfg = launch.load_config(args)
    loop_type = cfg.get('train_cfg', {}).get('type')
    if loop_type not in (SEARCH_LOOP, 'EvolutionSearchLoop'):
        raise ValueError(f'{args.config}: train_cfg.type must be '
                         f'{SEARCH_LOOP!r} for a search, got {loop_type!r}')
    # The search resumes from its own state file, not from a training
    # checkpoint: the Runner only loads the supernet weights.
    cfg.load_from, cfg.resume = args.checkpoint, False
    cfg.train_cfg.resume = args.resume
    return cfg


def main(argv=None):
    args = parse_args(argv)
    launch.run(build_cfg(args), lambda runner: runner.train())


if __name__ == '__main__':
    main()
