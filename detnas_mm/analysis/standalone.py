"""Train an architecture on its own and test it: its standalone score.

The rank-correlation study and the pipeline compare supernet scores with
what architectures reach when trained on their own. This module exports
an architecture onto a retraining recipe (:mod:`detnas_mm.export`), then,
in one subprocess (``python -m detnas_mm.analysis.standalone``), trains it
with the Runner as ``tools/train.py`` does (optionally after a standalone
classification pretraining of the same architecture; never from the
supernet's weights) and tests the last checkpoint on the test split as
``tools/test.py`` does. Every run has its own folder; a finished one
(``result.json``) is skipped, an unfinished one started over.
"""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Callable, Dict, Optional

from mmengine.config import Config

from detnas_mm.export import export_search_result
from detnas_mm.utils import atomic_write_json

INITS = ('scratch', 'imagenet')
# Variables of a distributed launcher: a standalone run is one process.
_LAUNCH_VARS = ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'LOCAL_WORLD_SIZE',
                'MASTER_ADDR', 'MASTER_PORT', 'GROUP_RANK', 'ROLE_RANK',
                'TORCHELASTIC_RUN_ID')


@dataclass
class StandaloneRecipe:
    """How every architecture is trained on its own (the same for all).

    Args:
        base: A key of ``detnas_mm.export.RETRAIN_BASES``.
        init: ``'scratch'`` (the detector from random weights) or
            ``'imagenet'`` (the recipe's classification config trained
            first, its backbone then initialising the detector).
        det_options: ``--cfg-options`` of the detection training.
        cls_options: ``--cfg-options`` of the classification pretraining.
        det_update: ``det_update(cfg)`` applied to the detection config
            before the options (e.g. pointing it at the pipeline's data).
        cls_update: The same for the classification config.
        score_key: Test metric that is the standalone score.
    """
    base: str
    init: str = 'scratch'
    det_options: Dict = field(default_factory=dict)
    cls_options: Dict = field(default_factory=dict)
    det_update: Optional[Callable] = None
    cls_update: Optional[Callable] = None
    score_key: str = 'coco/bbox_mAP'

    def __post_init__(self):
        if self.init not in INITS:
            raise ValueError(f'init must be one of {INITS}, got '
                             f'{self.init!r}')


def _run(cmd, log_file: str, env: dict):
    with open(log_file, 'a') as log:
        code = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT,
                               env=env)
    if code != 0:
        with open(log_file) as f:
            tail = ''.join(f.readlines()[-20:])
        raise RuntimeError(f'standalone run failed (exit {code}); end of '
                           f'{log_file}:\n{tail}')


def _train(config: str, work_dir: str):
    """Train a config with the Runner (checkpoints allow-listed)."""
    from detnas_mm.engine import launch
    cfg = Config.fromfile(config)
    cfg.work_dir = work_dir
    cfg.launcher = 'none'
    launch.run(cfg, lambda runner: runner.train())
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def _train_and_test(det_config: str, run_dir: str,
                    cls_config: Optional[str] = None) -> dict:
    """One process: (classification pretraining,) detection training, and
    the test of the last checkpoint on the test split."""
    from detnas_mm.engine import launch
    if cls_config is not None:
        checkpoint = _train(cls_config, osp.join(run_dir, 'imagenet'))
        det_cfg = Config.fromfile(det_config)
        det_cfg.model.backbone.init_cfg = dict(
            type='Pretrained', checkpoint=checkpoint, prefix='backbone.')
        det_config = osp.join(run_dir, 'detection_config.py')
        det_cfg.dump(det_config)
    checkpoint = _train(det_config, osp.join(run_dir, 'detection'))
    cfg = Config.fromfile(det_config)
    cfg.work_dir = osp.join(run_dir, 'test')
    cfg.launcher = 'none'
    cfg.load_from = checkpoint
    metrics = launch.run(cfg, lambda runner: runner.test())
    return {k: float(v) for k, v in (metrics or {}).items()
            if isinstance(v, (int, float))}


def standalone_score(arch: str, space, recipe: StandaloneRecipe,
                     run_dir: str, seed: int = 0,
                     device_env: Optional[dict] = None) -> dict:
    """Train ``arch`` on its own with ``recipe`` and test it.

    Args:
        arch: Gene string.
        space: Its search space.
        recipe: The standalone recipe.
        run_dir: The run's folder (``result.json`` there: done, skipped).
        seed: Seed of the training runs.
        device_env: Extra environment of the training processes (e.g.
            ``CUDA_VISIBLE_DEVICES``).

    Returns:
        dict: ``arch``, ``seed``, ``score`` (``recipe.score_key`` of the
        test metrics, 0 when the detector detects nothing) and ``metrics``.
    """
    run = prepare_standalone(arch, space, recipe, run_dir, seed)
    return run if isinstance(run, dict) else run_standalone(run, device_env)


@dataclass
class StandaloneRun:
    """A prepared standalone run: its configs written, its process not
    started (:func:`run_standalone` starts it)."""
    arch: str
    seed: int
    run_dir: str
    score_key: str
    cmd: list


def prepare_standalone(arch: str, space, recipe: StandaloneRecipe,
                       run_dir: str, seed: int = 0):
    """Export ``arch`` and write its run's configs.

    Kept apart from :func:`run_standalone` because config building is not
    thread-safe: a caller that runs several architectures at once in
    threads prepares them in one thread first.

    Returns:
        dict | StandaloneRun: The result of a finished run (as
        :func:`standalone_score` returns it), else the prepared run.
    """
    result_file = osp.join(run_dir, 'result.json')
    if osp.isfile(result_file):
        with open(result_file) as f:
            return json.load(f)
    # An unfinished run starts over: the result must not depend on where
    # an earlier run was killed.
    if osp.isdir(run_dir):
        shutil.rmtree(run_dir)
    os.makedirs(run_dir)

    def det_update(cfg):
        if recipe.det_update is not None:
            recipe.det_update(cfg)
        cfg.merge_from_dict(recipe.det_options)
        cfg.randomness = dict(seed=seed)

    paths = export_search_result(arch, space, run_dir, recipe.base,
                                 update=det_update)
    cmd = [sys.executable, '-m', 'detnas_mm.analysis.standalone',
           paths['detection'], run_dir]
    if recipe.init == 'imagenet':
        cls_cfg = Config.fromfile(paths['imagenet'])
        if recipe.cls_update is not None:
            recipe.cls_update(cls_cfg)
        cls_cfg.merge_from_dict(recipe.cls_options)
        cls_cfg.randomness = dict(seed=seed)
        cls_config = osp.join(run_dir, 'imagenet_config.py')
        cls_cfg.dump(cls_config)
        cmd += ['--pretrain', cls_config]
    return StandaloneRun(arch, seed, run_dir, recipe.score_key, cmd)


def run_standalone(run: StandaloneRun,
                   device_env: Optional[dict] = None) -> dict:
    """Run a prepared standalone run in its own process (thread-safe);
    see :func:`standalone_score`."""
    env = {k: v for k, v in os.environ.items() if k not in _LAUNCH_VARS}
    env.update(device_env or {}, PYTHONUNBUFFERED='1')
    _run(run.cmd, osp.join(run.run_dir, 'run.log'), env)
    with open(osp.join(run.run_dir, 'metrics.json')) as f:
        metrics = json.load(f)
    # mmdet's CocoMetric reports nothing when nothing is detected.
    result = dict(arch=run.arch, seed=run.seed,
                  score=float(metrics.get(run.score_key, 0.0)),
                  metrics=metrics)
    atomic_write_json(osp.join(run.run_dir, 'result.json'), result,
                      indent=1)
    return result


def main(argv=None):
    """``python -m detnas_mm.analysis.standalone DET_CONFIG RUN_DIR
    [--pretrain CLS_CONFIG]``: one standalone run, in one process."""
    import argparse
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument('det_config')
    parser.add_argument('run_dir')
    parser.add_argument('--pretrain', help='classification config to '
                        'train first (its backbone initialises the detector)')
    args = parser.parse_args(argv)
    metrics = _train_and_test(args.det_config, args.run_dir, args.pretrain)
    atomic_write_json(osp.join(args.run_dir, 'metrics.json'), metrics,
                      indent=1)


if __name__ == '__main__':
    main()
