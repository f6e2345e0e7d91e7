"""What ``tools/train.py``, ``test.py`` and ``search.py`` share.

The command-line options every tool has (work dir, ``--cfg-options``, the
launcher), loading and adjusting the config, building the Runner (or the
config's ``runner_type``), the CPU distributed set-up, and loading
checkpoints with the allow-list of :mod:`detnas_mm.utils.checkpoint`.
"""
import argparse
import os
import os.path as osp
import sys
from typing import Callable, List

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from detnas_mm.engine.distributed import setup_cpu_distributed
from detnas_mm.utils.checkpoint import (CheckpointRefusedError,
                                        safe_checkpoint_loading)


def add_common_args(parser: argparse.ArgumentParser,
                    work_dir_help: str = 'where logs and outputs go'):
    """Add ``--work-dir``, ``--cfg-options``, ``--launcher``,
    ``--local-rank``."""
    parser.add_argument('--work-dir', help=work_dir_help)
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, key=value')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_args(parser: argparse.ArgumentParser, argv=None):
    """Parse, and export ``LOCAL_RANK`` as mmengine expects."""
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def load_config(args) -> Config:
    """The config of ``args.config`` with the common options applied."""
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg


def checkpoints_of(cfg) -> List[str]:
    """Checkpoint files a config loads (``load_from``, ``Pretrained``)."""
    found = [cfg['load_from']] if cfg.get('load_from') else []

    def visit(node):
        if isinstance(node, dict):
            if node.get('type') == 'Pretrained' and node.get('checkpoint'):
                found.append(node['checkpoint'])
            for value in node.values():
                visit(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                visit(value)

    visit(cfg.get('model'))
    return found


def run(cfg: Config, action: Callable[[Runner], object]):
    """Build the runner and run ``action(runner)``, loading checkpoints
    with the allow-list.

    A checkpoint that holds other objects stops the tool with one line
    naming the checkpoints the config loads; nothing of it runs.
    """
    setup_cpu_distributed(cfg, cfg.get('launcher', 'none'))
    try:
        with safe_checkpoint_loading():
            if 'runner_type' in cfg:
                runner = RUNNERS.build(cfg)
            else:
                runner = Runner.from_cfg(cfg)
            return action(runner)
    except CheckpointRefusedError as e:
        sources = ', '.join(checkpoints_of(cfg)) or 'the resumed checkpoint'
        sys.exit(f'error: {e} (checkpoints of this run: {sources})')
