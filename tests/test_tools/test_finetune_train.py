"""Supernet detection fine-tuning through tools/train.py and dist_train.sh.

The CPU config runs for a few iterations on the session's COCO-layout data
(coco_tiny or its generated stand-in), trained on the remainder of a search
split as the DetNAS protocol asks; class names come from the json.
"""
import json
import sys
from pathlib import Path

import pytest
import torch
from mmdet.datasets import CocoDataset

from detnas_mm.datasets.search_split import split_coco
from tests.utils import CONFIGS, free_port, run_tool, tool_env

# Subprocess runs of the tools: deselect with -m 'not e2e'.
pytestmark = pytest.mark.e2e

CONFIG = CONFIGS / 'supernet' / (
    'faster-rcnn_detnas-supernet-300M_tiny-fpn_1xb2-300iter_coco-tiny.py')


def _data_options(data_root, train_ann):
    """--cfg-options that point the CPU config at ``data_root``."""
    root = f'{data_root}/'
    val_ann = f'{root}annotations/instances_val2017.json'
    options = [
        f'train_dataloader.dataset.data_root={root}',
        f'train_dataloader.dataset.ann_file={train_ann}',
        f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}',
        f'val_evaluator.ann_file={val_ann}',
        f'test_evaluator.ann_file={val_ann}',
    ]
    with open(val_ann) as f:
        categories = sorted(json.load(f)['categories'], key=lambda c: c['id'])
    classes = [c['name'] for c in categories]
    if tuple(classes) != CocoDataset.METAINFO['classes']:
        # The generated stand-in data has its own classes.
        listed = '[' + ','.join(f"'{c}'" for c in classes) + ']'
        for loader in ('train', 'val', 'test'):
            options.append(
                f'{loader}_dataloader.dataset.metainfo.classes={listed}')
        options.append(f'model.roi_head.bbox_head.num_classes={len(classes)}')
    return options, len(classes)


def _split(coco_data_root, tmp_path):
    out_dir = tmp_path / 'split'
    split_coco(
        coco_data_root / 'annotations' / 'instances_train2017.json',
        out_dir,
        num_search=20,
        seed=0)
    return out_dir / 'train_remain.json'


def _scalars(work_dir):
    (log, ) = Path(work_dir).glob('*/vis_data/scalars.json')
    return [json.loads(line) for line in log.read_text().splitlines()]


def _record(work_dir, rank):
    path = Path(work_dir) / f'paths_rank{rank}.jsonl'
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_train_cpu_config(coco_data_root, tmp_path, tmp_work_dir):
    train_ann = _split(coco_data_root, tmp_path)
    options, _ = _data_options(coco_data_root, train_ann)
    iters = 4
    cmd = [
        sys.executable,
        'tools/train.py',
        str(CONFIG),
        '--work-dir',
        str(tmp_work_dir),
        '--cfg-options',
        *options,
        f'train_cfg.max_iters={iters}',
        'default_hooks.logger.interval=1',
        'custom_hooks.0.record_paths=True',
        # After 4 iterations no box scores 0.05; keep them all, so that the
        # COCO metric has detections to score.
        'model.test_cfg.rcnn.score_thr=0.0'
    ]
    run_tool(cmd)

    scalars = _scalars(tmp_work_dir)
    train = [s for s in scalars if 'loss' in s]
    assert [s['iter'] for s in train] == list(range(1, iters + 1))
    assert all(0 < s['loss'] < 100 for s in train)
    # Validation on val2017 ran at the end with the COCO metric.
    (val, ) = [s for s in scalars if 'coco/bbox_mAP' in s]
    assert 0 <= val['coco/bbox_mAP'] <= 1

    paths = [line['arch'] for line in _record(tmp_work_dir, 0)]
    assert len(paths) == iters and len(set(paths)) > 1
    ckpt = torch.load(
        tmp_work_dir / f'iter_{iters}.pth',
        map_location='cpu',
        weights_only=False)
    assert 'path_sampler' in ckpt
    # A supernet checkpoint: every choice op of every block is saved.
    assert all(f'backbone.stages.0.0.ops.{c}.' in ' '.join(ckpt['state_dict'])
               for c in '0123')


def test_dist_train_same_paths_on_both_ranks(coco_data_root, tmp_path,
                                             tmp_work_dir):
    train_ann = _split(coco_data_root, tmp_path)
    options, _ = _data_options(coco_data_root, train_ann)
    iters = 3
    cmd = [
        'bash', 'tools/dist_train.sh',
        str(CONFIG), '2', '--work-dir',
        str(tmp_work_dir), '--cfg-options', *options,
        f'train_cfg.max_iters={iters}', 'train_cfg.val_begin=1000',
        'default_hooks.logger.interval=1', 'custom_hooks.0.record_paths=True'
    ]
    proc = run_tool(cmd, env=tool_env(PORT=str(free_port())))
    output = proc.stdout + proc.stderr
    # torch's SyncBN needs GPUs; the CPU run trains with BN instead.
    assert 'SyncBN replaced by BN' in output

    rank0, rank1 = _record(tmp_work_dir, 0), _record(tmp_work_dir, 1)
    assert [r['iter'] for r in rank0] == list(range(iters))
    assert rank0 == rank1
    assert len({r['arch'] for r in rank0}) > 1
    train = [s for s in _scalars(tmp_work_dir) if 'loss' in s]
    assert len(train) == iters
