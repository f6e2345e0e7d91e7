"""Supernet validation: a fixed path and seeded random paths.

A supernet has no single accuracy: it is scored through paths. Weights
shared by all paths leave BN running statistics that fit none of them, so
every path is scored after :func:`recalibrate_bn` on training images (SPOS,
DetNAS). The loop runs the config's own evaluator, so it serves
classification (mmpretrain ``Accuracy``) and detection (mmdet
``CocoMetric``/``VOCMetric``) configs alike.
"""
import copy
import itertools
import json
import os.path as osp
import random
from contextlib import contextmanager
from numbers import Number
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine import dist
from mmengine.model import is_model_wrapper
from mmengine.runner import BaseLoop, Runner, ValLoop, autocast
from torch.nn.modules.batchnorm import _BatchNorm

from detnas_mm.engine.bn_recalibration import recalibrate_bn
from detnas_mm.engine.hooks.path_sampler_hook import find_supernet
from detnas_mm.models.backbones import format_arch, parse_arch
from detnas_mm.published_archs import PUBLISHED_ARCHS
from detnas_mm.registry import LOOPS
from detnas_mm.samplers import UniformPathSampler

Arch = Union[str, Sequence[int]]


@contextmanager
def global_rng_kept():
    """Restore the python, numpy and torch global RNG states on exit.

    Validation then leaves the training randomness (data augmentation,
    dropout) exactly as it found it: a run validated at some iteration
    trains on as a run that was not.
    """
    states = (random.getstate(), np.random.get_state(), torch.get_rng_state(),
              torch.cuda.get_rng_state_all()
              if torch.cuda.is_available() else None)
    try:
        yield
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
        torch.set_rng_state(states[2])
        if states[3] is not None:
            torch.cuda.set_rng_state_all(states[3])


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

    For each path: set it on the supernet, recompute every BN layer's
    statistics from scratch on ``calib_batches`` batches of training images
    (:func:`recalibrate_bn`, exact and all-reduced across ranks), then run
    the evaluator over the validation set. Metrics are reported as
    ``fixed/<key>``, ``random<i>/<key>`` and ``random_mean/<key>`` (e.g.
    ``val/random_mean/accuracy/top1`` in the log), and, on rank 0, one JSON
    line per validation in ``<log_dir>/supernet_{val,test}.jsonl`` with
    every path's gene string and metrics.

    The random paths come from a :class:`UniformPathSampler` seeded with
    ``seed``, so every validation of a run (and of any run with that seed)
    scores the same paths and the curves are comparable. The calibration
    images are the same for every path. Validation leaves no trace on
    training: the BN running statistics, the supernet's path and the global
    RNG states are restored afterwards.

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
        seed: Seed of the random paths and of the calibration sampler.
        calib_dataloader: Config of the calibration dataloader. None takes
            the config's ``train_dataloader`` (training images and
            augmentation, as SPOS and DetNAS do) with a shuffling
            ``DefaultSampler`` seeded with ``seed``.
        calib_batches: Calibration batches per rank (the set is
            ``calib_batches x batch size x world size`` images).
        cache_calib_batches: Keep the calibration batches in memory (decoded
            once, identical for every path and every validation); turn off
            when they do not fit (e.g. thousands of detection images).
            Without the cache the loader is re-run with reseeded RNGs, so the
            images and their augmentation are still the same every time.
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
        self._calib_loader = None
        self._calib_cache = None
        self._num_calib_batches = 0

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
        runner.model.eval()
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        supernet = find_supernet(model)
        metrics, records = {}, []
        with global_rng_kept(), bn_statistics_kept(model), path_kept(supernet):
            for name, path in self.paths(supernet.space):
                supernet.set_path(path)
                recalibrate_bn(model, self._calibration_batches())
                result = self._evaluate()
                arch = format_arch(path, supernet.space)
                metrics.update({f'{name}/{k}': v for k, v in result.items()})
                records.append(dict(name=name, arch=arch, metrics=result))
                runner.logger.info(f'{stage} path {name} {arch}: ' + ', '.join(
                    f'{k}: {v:.4f}' for k, v in result.items()
                    if isinstance(v, Number)))
            randoms = [r['metrics'] for r in records
                       if r['name'].startswith('random')]
            if randoms:
                mean = _mean_metrics(randoms)
                metrics.update({f'random_mean/{k}': v
                                for k, v in mean.items()})
                runner.logger.info(
                    f'{stage} mean over {len(randoms)} random paths: ' +
                    ', '.join(f'{k}: {v:.4f}' for k, v in mean.items()))
        self._write_record(records, metrics)
        runner.call_hook(f'after_{stage}_epoch', metrics=metrics)
        runner.call_hook(f'after_{stage}')
        return metrics

    def _evaluate(self) -> dict:
        for idx, data_batch in enumerate(self.dataloader):
            self.run_iter(idx, data_batch)
        return self.evaluator.evaluate(len(self.dataloader.dataset))

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

    def _build_calib_loader(self):
        cfg = self.calib_dataloader_cfg
        if cfg is None:
            cfg = self.runner.cfg.get('train_dataloader')
            if cfg is None:
                raise ValueError(
                    f'{type(self).__name__} needs calib_dataloader or a '
                    f'train_dataloader in the config for BN recalibration')
            cfg = copy.deepcopy(cfg)
            cfg['sampler'] = dict(
                type='DefaultSampler', shuffle=True, seed=self.seed)
        return Runner.build_dataloader(copy.deepcopy(cfg), seed=self.seed)

    def _calibration_batches(self) -> list:
        """The calibration batches: the same images for every path."""
        if self._calib_cache is not None:
            return self._calib_cache
        if self._calib_loader is None:
            self._calib_loader = self._build_calib_loader()
        # Same augmentation draws at every pass (caller restores the RNGs).
        random.seed(self.seed)
        np.random.seed(self.seed)
        torch.manual_seed(self.seed)
        batches = list(
            itertools.islice(self._calib_loader, self.calib_batches))
        # recalibrate_bn needs the same number of batches on every rank.
        count = torch.tensor(len(batches))
        dist.all_reduce(count, op='min')
        batches = batches[:int(count)]
        if not batches:
            raise ValueError('The calibration dataloader yielded no batch')
        if self.cache_calib_batches:
            self._calib_cache = batches
        self._num_calib_batches = len(batches)
        return batches

    def _write_record(self, records: List[Dict], metrics: Dict):
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
            num_calib_batches=self._num_calib_batches,
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
