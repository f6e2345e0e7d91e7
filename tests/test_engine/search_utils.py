"""Tiny search set-ups shared by the search tests (not collected).

A width-reduced space (5 blocks, 8-64 channels), 64 px images, 4
calibration and 6 search images: one candidate takes well under a second.
"""
import json
from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from detnas_mm.datasets.search_split import split_coco

REPO_ROOT = Path(__file__).resolve().parents[2]
DET_CONFIG = (REPO_ROOT / 'configs' / 'search' /
              'search_faster-rcnn_detnas-supernet-tiny_fpn_3x8_coco-tiny.py')
TINY_SPACE = dict(depths=[1, 1, 2, 1], stem_channels=8,
                  stage_channels=[16, 32, 48, 64], last_channels=64)

DET_TEMPLATE = '''
_base_ = {base!r}
images = {images!r}
split = {split!r}
w = 16
model = dict(
    backbone=dict(space=dict(_delete_=True, **{space!r})),
    neck=dict(in_channels={channels!r}, out_channels=w),
    rpn_head=dict(in_channels=w, feat_channels=w),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=w),
        bbox_head=dict(in_channels=w, conv_out_channels=w,
                       fc_out_channels=32)),
    # score_thr 0: a random supernet still detects something to score.
    test_cfg=dict(rpn=dict(nms_pre=100, max_per_img=30),
                  rcnn=dict(score_thr=0.0, max_per_img=20)))
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(64, 64), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor'))
]
train_dataloader = dict(dataset=dict(
    ann_file=split + 'train_remain.json',
    data_prefix=dict(img=images + 'train2017/'), pipeline=test_pipeline))
val_dataloader = dict(dataset=dict(
    ann_file=split + 'search.json',
    data_prefix=dict(img=images + 'train2017/'), pipeline=test_pipeline))
val_evaluator = dict(ann_file=split + 'search.json')
test_dataloader = dict(dataset=dict(data_root=images, pipeline=test_pipeline))
test_evaluator = dict(ann_file=images + 'annotations/instances_val2017.json')
train_cfg = dict(
    num_generations=3, population_size=6, top_k=2, num_mutation=2,
    num_crossover=2, flops_limit=None, num_calibration_images=4,
    calibration_batch_size=2, seed=0, **{loop!r})
default_hooks = dict(logger=dict(interval=1000),
                     checkpoint=dict(interval=1000000))
'''


def make_split(coco_root, out_dir, num_search=6):
    """Hold ``num_search`` images out of the training json."""
    split_coco(Path(coco_root) / 'annotations' / 'instances_train2017.json',
               out_dir, num_search=num_search, seed=0)
    return Path(out_dir)


def write_det_config(path, coco_root, split_dir, **loop):
    """A tiny detection search config inheriting the CPU-size config."""
    text = DET_TEMPLATE.format(
        base=str(DET_CONFIG), images=str(coco_root) + '/',
        split=str(split_dir) + '/', space=TINY_SPACE,
        channels=TINY_SPACE['stage_channels'], loop=loop)
    Path(path).write_text(text)
    return Path(path)


def save_random_supernet(config, out_file, seed=0):
    """A checkpoint of the config's model with seeded random weights."""
    cfg = Config.fromfile(str(config))
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    from mmengine.registry import MODELS
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    torch.save(dict(state_dict=model.state_dict(), meta={}), str(out_file))
    return Path(out_file)


def read_result(work_dir):
    """What must not depend on how the search ran: archs and scores."""
    work_dir = Path(work_dir)
    state = json.loads((work_dir / 'search_state.json').read_text())
    best = json.loads((work_dir / 'best_arch.json').read_text())
    last = state['history'][-1]
    return dict(
        population=list(zip(last['candidates'], last['scores'])),
        top_k=json.loads((work_dir / 'search_topk.json').read_text()),
        best=(best['arch'], best['score'], best['flops']),
        log=[(e['arch'], e['score']) for e in state['log']],
        num_evaluations=state['num_evaluations'],
        ranking=state['ranking'])


# Hand-made latency of the tiny space (ms): per choice, ShuffleNetV2 3x3,
# 5x5, 7x7 and the Xception-like block; later blocks cost a little more.
# Not proportional to FLOPs, so the latency and FLOPs fronts differ.
TINY_LATENCY_MS = {0: 0.30, 1: 0.34, 2: 0.41, 3: 0.62}


def write_latency_table(path, input_size=(64, 64), space=TINY_SPACE):
    """A latency table of the tiny space written by hand (deterministic).

    Returns:
        LatencyTable: The table (also saved at ``path``).
    """
    from detnas_mm.cost.latency import LatencyTable, Timing
    from detnas_mm.models.backbones import get_search_space
    space = get_search_space(space)
    blocks = {(b, c): Timing(TINY_LATENCY_MS[c] * (1 + 0.1 * b), 0.01, 9)
              for b in range(space.num_blocks) for c in space.choices}
    table = LatencyTable(space, input_size, 'torch', 'cpu',
                         Timing(0.2, 0.01, 9), blocks, 0.05,
                         meta=dict(device_name='hand-made', threads=1))
    table.save(str(path))
    return table
