"""Edits the pipeline makes to the shipped configs it chains.

Each stage loads a shipped CPU-size config, applies these edits (data,
schedule length, input scale) and writes the resolved result into the
stage's folder, where it can be rerun alone with the same tool.
"""
import json
import os
import os.path as osp
import re
from typing import Optional

from mmengine.config import Config

from detnas_mm.utils.paths import configs_root


def load_shipped(name: str) -> Config:
    """A shipped config by its path under ``configs/``."""
    return Config.fromfile(osp.join(configs_root(), name))


def set_iters(cfg, iters: int):
    """Shorten or stretch an iteration-based schedule, keeping its shape.

    The scheduler boundaries (``begin``/``end``/``milestones``) scale with
    the length; one checkpoint at the end.
    """
    old = cfg.train_cfg.get('max_iters') or iters
    cfg.train_cfg.max_iters = iters
    scale = iters / old
    for scheduler in cfg.get('param_scheduler') or []:
        if scheduler.get('by_epoch', True):
            continue
        for key in ('begin', 'end'):
            if key in scheduler:
                scheduler[key] = min(iters, round(scheduler[key] * scale))
        # A short warm-up must not shrink to nothing (mmengine refuses a
        # scheduler whose end is not after its begin).
        if 'end' in scheduler and \
                scheduler['end'] <= scheduler.get('begin', 0):
            scheduler['begin'] = min(scheduler.get('begin', 0), iters - 1)
            scheduler['end'] = scheduler['begin'] + 1
        if 'milestones' in scheduler:
            scheduler['milestones'] = [
                max(1, round(m * scale)) for m in scheduler['milestones']
            ]
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', by_epoch=False, interval=iters,
        max_keep_ckpts=1)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=max(
        1, min(20, iters // 10)))


def without_validation(cfg):
    """Drop validation from a training config.

    mmengine validates at the last iteration whatever the interval; the
    pipeline evaluates in its own steps instead.
    """
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
    cfg.train_cfg.pop('val_interval', None)


def set_scale(cfg, scale: int):
    """Set the ``Resize`` scale of every data pipeline of a config."""

    def visit(node):
        if isinstance(node, dict):
            if node.get('type') == 'Resize' and 'scale' in node:
                node['scale'] = (scale, scale)
            for value in node.values():
                visit(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                visit(value)

    visit(cfg._cfg_dict)


def keep_every_detection(cfg):
    """No score threshold at test time.

    Models trained for minutes score low: keep every detection (COCO AP
    ranks at most the top 100 per image anyway) instead of mmdet's 0.05
    threshold, which would leave most images empty.
    """
    test_cfg = cfg.model.get('test_cfg') or {}
    for head in (test_cfg.get('rcnn'), test_cfg):
        if head is not None and 'score_thr' in head:
            head['score_thr'] = 0.0


def apply_options(cfg, options: Optional[dict]):
    """``--cfg-options``-style overrides (they take precedence)."""
    if options:
        cfg.merge_from_dict(options)


def latest_checkpoint(work_dir: str) -> str:
    """The checkpoint mmengine's CheckpointHook wrote last."""
    last = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(last):
        raise RuntimeError(f'no checkpoint was written in {work_dir}')
    with open(last) as f:
        return f.read().strip()


def latest_metrics(work_dir: str) -> dict:
    """Metrics of the newest run in ``work_dir``, from the scalars file
    mmengine's logger writes (``<timestamp>/vis_data/scalars.json``, or
    the ``<timestamp>.json`` log of metrics)."""
    runs = sorted(d for d in os.listdir(work_dir)
                  if re.fullmatch(r'\d{8}_\d{6}', d))
    for run in reversed(runs):
        for path in (osp.join(work_dir, run, f'{run}.json'),
                     osp.join(work_dir, run, 'vis_data', 'scalars.json')):
            if osp.isfile(path):
                with open(path) as f:
                    lines = [json.loads(line) for line in f if line.strip()]
                if lines:
                    return lines[-1]
    raise RuntimeError(f'no metrics found in {work_dir}')
