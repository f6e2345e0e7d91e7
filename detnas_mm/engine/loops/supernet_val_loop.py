"""Supernet validation: a fixed path and seeded random paths.

A supernet has no single accuracy: it is scored through paths. Weights
shared by all paths leave BN running statistics that fit none of them, so
every path is scored after :func:`recalibrate_bn` on training images (SPOS,
DetNAS). The loop runs the config's own evaluator, so it serves
classification (mmpretrain ``Accuracy``) and detection (mmdet
``CocoMetric``/``VOCMetric``) configs alike.
"""
import json
import os.path as osp
from contextlib import contextmanager
from numbers import Number
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine import dist
from mmengine.model import is_model_wrapper
from mmengine.runner import BaseLoop, ValLoop, autocast
from torch.nn.modules.batchnorm import _BatchNorm

from detnas_mm.engine.path_scoring import (CalibrationSet, global_rng_kept,
                                           score_path)
from detnas_mm.models.backbones import format_arch, parse_arch
from detnas_mm.models.utils import find_supernet
from detnas_mm.published_archs import PUBLISHED_ARCHS
from detnas_mm.registry import LOOPS
from detnas_mm.samplers import UniformPathSampler

Arch = Union[str, Sequence[int]]


@contextmanager
def bn_statistics_kept(model: torch.nn.Module):
    """Restore every BN layer's running statistics on exit."""
    bns = [m for m in model.modules()
           if isinstance(m, _BatchNorm) and m.track_running_stats]
    saved = [(m.running_mean.clone(), m.running_var.clone(),
              m.num_batches_tracked.clone()) for m in bns]
    try:
        yield
    finally:
        for m, (mean, var, count) in zip(bns, saved):
            m.running_mean.copy_(mean)
            m.running_var.copy_(var)
            m.num_batches_tracked.copy_(count)


@contextmanager
def path_kept(supernet):
    """Restore the supernet's path on exit."""
    path = supernet.path
    try:
        yield
    finally:
        if path is not None:
            supernet.set_path(path)


def _mean_metrics(results: List[Dict]) -> Dict[str, float]:
    """Per key, the mean of the numeric values over several results."""
    keys = [k for k, v in results[0].items() if isinstance(v, Number)]
    return {
        k: float(np.mean([r[k] for r in results if k in r]))
        for k in keys
    }


@LOOPS.register_module()
class SupernetValLoop(ValLoop):
    """Validate a supernet on a fixed path and on seeded random paths.

    Every path is scored by
    :func:`~detnas_mm.engine.path_scoring.score_path`, the function the
    search uses: set the path, recompute every BN layer's statistics on a
    fixed set of training images loaded with the training pipeline, the
    model in training mode (the official DetNAS recalibration), then run
    the evaluator over the validation set. Metrics are reported as
    ``fixed/<key>``, ``random<i>/<key>`` and ``random_mean/<key>`` (e.g.
    ``val/random_mean/accuracy/top1`` in the log), and, on rank 0, one JSON
    line per validation in ``<log_dir>/supernet_{val,test}.jsonl`` with
    every path's gene string and metrics.

    The random paths come from a :class:`UniformPathSampler` seeded with
    ``seed``, so every validation of a run (and of any run with that seed)
    scores the same paths and the curves are comparable. The calibration
    images and their augmentation are the same for every path. Validation
    leaves no trace on training: the BN running statistics, the supernet's
    path and the global RNG states are restored afterwards.

    Use it as ``val_cfg=dict(type='detnas_mm.SupernetValLoop', ...)``; the
    training loop's ``val_interval`` applies as usual.

    Args:
        runner: The runner.
        dataloader: Validation dataloader (or its config).
        evaluator: Evaluator (or its config).
        fixed_arch: A path always scored, as a gene string, digits, or a
            name of ``PUBLISHED_ARCHS`` (e.g. ``'coco_fpn_300M'``). None
            scores random paths only.
        num_random_paths: Number of random paths (``K``).
        seed: Seed of the random paths and of the calibration set.
        calib_dataloader: Config of the calibration dataloader. None takes
            the config's ``train_dataloader`` (training images and
            augmentation, as SPOS and DetNAS do).
        calib_batches: Calibration batches per rank (the set is
            ``calib_batches x batch size x world size`` images).
        cache_calib_batches: Keep the calibration batches in memory
            (decoded once); turn off when they do not fit (e.g. thousands of
            detection images): they are then reloaded, identically.
        bn_averaging: ``'exact'`` or ``'running'`` (see
            :func:`~detnas_mm.engine.bn_recalibration.recalibrate_bn`).
        fp16: Evaluate with autocast.
    """

    _stage = 'val'

    def __init__(self,
                 runner,
                 dataloader,
                 evaluator,
                 fixed_arch: Optional[Arch] = None,
                 num_random_paths: int = 5,
                 seed: int = 0,
                 calib_dataloader: Optional[dict] = None,
                 calib_batches: int = 20,
                 cache_calib_batches: bool = True,
                 bn_averaging: str = 'exact',
                 fp16: bool = False):
        super().__init__(runner, dataloader, evaluator, fp16)
        if not isinstance(num_random_paths, int) or num_random_paths < 0:
            raise ValueError(f'num_random_paths must be a non-negative int, '
                             f'got {num_random_paths!r}')
        if not isinstance(calib_batches, int) or calib_batches < 1:
            raise ValueError(f'calib_batches must be a positive int, got '
                             f'{calib_batches!r}')
        if not isinstance(seed, int) or seed < 0:
            raise ValueError(f'seed must be a non-negative int, got {seed!r}')
        if fixed_arch is None and num_random_paths == 0:
            raise ValueError('Nothing to validate: give fixed_arch or '
                             'num_random_paths > 0')
        supernet = find_supernet(runner.model)
        if isinstance(fixed_arch, str) and fixed_arch in PUBLISHED_ARCHS:
            fixed_arch = PUBLISHED_ARCHS[fixed_arch][1]
        # Fails now, naming the bad gene string, instead of at validation.
        self.fixed_path = None if fixed_arch is None else parse_arch(
            fixed_arch, supernet.space)
        self.num_random_paths = num_random_paths
        self.seed = seed
        self.calib_dataloader_cfg = calib_dataloader
        self.calib_batches = calib_batches
        self.cache_calib_batches = cache_calib_batches
        self.bn_averaging = bn_averaging
        self._calibration = None

    def paths(self, space) -> List[Tuple[str, Tuple[int, ...]]]:
        """The ``(name, path)`` pairs scored, the same at every call."""
        named = []
        if self.fixed_path is not None:
            named.append(('fixed', self.fixed_path))
        sampler = UniformPathSampler(space, seed=self.seed)
        named += [(f'random{i}', sampler.sample())
                  for i in range(self.num_random_paths)]
        return named

    def run(self) -> dict:
        """Score every path; return ``{'<path name>/<metric>': value}``."""
        runner, stage = self.runner, self._stage
        runner.call_hook(f'before_{stage}')
        runner.call_hook(f'before_{stage}_epoch')
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        supernet = find_supernet(model)
        calibration = self._calibration_set(model)
        metrics, records = {}, []
        with global_rng_kept(), bn_statistics_kept(model), path_kept(supernet):
            for name, path in self.paths(supernet.space):
                result, _ = score_path(model, path, calibration,
                                       self.dataloader, self.evaluator,
                                       self.bn_averaging,
                                       run_iter=self.run_iter)
                arch = format_arch(path, supernet.space)
                metrics.update({f'{name}/{k}': v for k, v in result.items()})
                records.append(dict(name=name, arch=arch, metrics=result))
                runner.logger.info(f'{stage} path {name} {arch}: ' + ', '.join(
                    f'{k}: {v:.4f}' for k, v in result.items()))
            randoms = [r['metrics'] for r in records
                       if r['name'].startswith('random')]
            if randoms:
                mean = _mean_metrics(randoms)
                metrics.update({f'random_mean/{k}': v
                                for k, v in mean.items()})
                runner.logger.info(
                    f'{stage} mean over {len(randoms)} random paths: ' +
                    ', '.join(f'{k}: {v:.4f}' for k, v in mean.items()))
        self._write_record(records, metrics, len(calibration))
        runner.call_hook(f'after_{stage}_epoch', metrics=metrics)
        runner.call_hook(f'after_{stage}')
        return metrics

    @torch.no_grad()
    def run_iter(self, idx, data_batch):
        """Evaluate one batch, calling the ``{val,test}`` iteration hooks."""
        stage, model = self._stage, self.runner.model
        self.runner.call_hook(
            f'before_{stage}_iter', batch_idx=idx, data_batch=data_batch)
        with autocast(enabled=self.fp16):
            step = model.val_step if stage == 'val' else model.test_step
            outputs = step(data_batch)
        self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        self.runner.call_hook(
            f'after_{stage}_iter',
            batch_idx=idx,
            data_batch=data_batch,
            outputs=outputs)

    def _calibration_set(self, model) -> CalibrationSet:
        if self._calibration is not None:
            return self._calibration
        cfg = self.calib_dataloader_cfg or self.runner.cfg.get(
            'train_dataloader')
        if cfg is None:
            raise ValueError(
                f'{type(self).__name__} needs calib_dataloader or a '
                f'train_dataloader in the config for BN recalibration')
        batch_size = cfg.get('batch_size', 1)
        self._calibration = CalibrationSet(
            cfg, self.calib_batches * batch_size * dist.get_world_size(),
            batch_size, seed=self.seed, cache=self.cache_calib_batches)
        self._calibration.check_even(model)
        return self._calibration

    def _write_record(self, records: List[Dict], metrics: Dict,
                      num_calib_batches: int):
        if dist.get_rank() != 0:
            return

        def plain(values: Dict) -> Dict:
            return {k: float(v) if isinstance(v, Number) else str(v)
                    for k, v in values.items()}

        # runner.iter would build the train loop (and its dataloader) in a
        # val-only run; read it only from a train loop that exists.
        train_loop = self.runner._train_loop
        line = dict(
            iter=train_loop.iter if isinstance(train_loop, BaseLoop) else None,
            num_calib_batches=num_calib_batches,
            paths=[dict(r, metrics=plain(r['metrics'])) for r in records],
            random_mean=plain({
                k[len('random_mean/'):]: v
                for k, v in metrics.items() if k.startswith('random_mean/')
            }))
        path = osp.join(self.runner.log_dir, f'supernet_{self._stage}.jsonl')
        with open(path, 'a') as f:
            f.write(json.dumps(line) + '\n')


@LOOPS.register_module()
class SupernetTestLoop(SupernetValLoop):
    """:class:`SupernetValLoop` as ``test_cfg``: calls the test hooks."""

    _stage = 'test'
