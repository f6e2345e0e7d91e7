"""DDP: every shipped multi-GPU training config runs 2 iterations.

A supernet step trains one path, so DDP must be told that the other choice
ops get no gradient (``find_unused_parameters=True``); without it torch
DDP stops at the second iteration, on GPUs (NCCL) as on CPU (gloo). The
CPU launcher (``detnas_mm.engine.distributed``) changes only what CPU
needs (gloo, ``device_ids=None``, SyncBN -> BN), so these CPU runs resolve
each config as a GPU run would and fail where it would.

The resolve-only checks run with the unit tests; the launches are marked
``e2e`` (``-m "not e2e"`` skips them): each one is
``bash tools/dist_train.sh <config> 2`` for 2 iterations on a few
generated 64 px images, batch 1, no validation, no checkpoint, every
override on the command line (``--cfg-options``). Faster R-CNN also gets
16 proposals and 16 RoIs per image: the full-scale 4conv1fc head on 512
RoIs costs minutes per CPU step and DDP does not care how many there are.
"""
import time

import pytest
import torch
from mmengine.config import Config

from detnas_mm.datasets import (make_classification_dataset,
                                make_detection_dataset)
from detnas_mm.engine.distributed import setup_cpu_distributed
from detnas_mm.models.backbones import DetNASSupernet
from tests.utils import CONFIGS, free_port, run_tool, tool_env

SUPERNET_CONFIGS = sorted((CONFIGS / 'supernet').glob('*.py'))
# Multi-GPU: the `8xb...` supernet configs, the `1x` detection retraining
# recipes (8 GPUs x 2 images) and the `8xb128` ImageNet retraining ones;
# the CPU configs (`1xb...`, `cpu`) run on one process.
MULTI_GPU_CONFIGS = sorted([p
                            for p in SUPERNET_CONFIGS if '_8xb' in p.name] + [
                                p for p in (CONFIGS / 'detnasnet').glob('*.py')
                                if '_1x_' in p.name or '_8xb' in p.name
                            ])
DDP_WRAPPER = dict(
    type='MMDistributedDataParallel', find_unused_parameters=True)


def _ids(paths):
    return [p.stem for p in paths]


def test_multi_gpu_configs_are_found():
    names = {p.name for p in MULTI_GPU_CONFIGS}
    assert len([n for n in names if 'supernet' in n]) == 10
    assert len(names) == 29
    assert 'shufflenetv2-20_8xb128-300k_in1k.py' in names
    assert 'faster-rcnn_shufflenetv2-20_fpn_cpu_coco-tiny.py' not in names


@pytest.mark.parametrize(
    'config', SUPERNET_CONFIGS, ids=_ids(SUPERNET_CONFIGS))
def test_every_supernet_config_finds_unused_parameters(config):
    """ImageNet pretraining and detection fine-tuning, full and CPU size."""
    cfg = Config.fromfile(config)
    assert cfg.model.backbone.type == 'detnas_mm.DetNASSupernet'
    assert cfg.model_wrapper_cfg == DDP_WRAPPER


@pytest.mark.parametrize(
    'config',
    sorted((CONFIGS / 'detnasnet').glob('*.py')),
    ids=_ids(sorted((CONFIGS / 'detnasnet').glob('*.py'))))
def test_retraining_configs_keep_the_ddp_default(config):
    """A standalone DetNASNet uses every parameter at every step: no graph
    traversal per step, and DDP fails loudly if one ever goes unused."""
    cfg = Config.fromfile(config)
    assert cfg.model.backbone.type == 'detnas_mm.DetNASNet'
    assert 'find_unused_parameters' not in (cfg.get('model_wrapper_cfg') or {})


def test_cpu_launcher_changes_only_what_cpu_needs(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    # No process group: the config changes are what is tested here (the
    # launches below use a real gloo group).
    monkeypatch.setattr(torch.distributed, 'init_process_group',
                        lambda backend: None)
    monkeypatch.setenv('LOCAL_RANK', '0')
    cfg = Config(
        dict(
            model=dict(
                backbone=dict(norm_cfg=dict(type='SyncBN')),
                neck=dict(norm_cfg=dict(type='SyncBN', momentum=0.01))),
            model_wrapper_cfg=dict(type='MMDistributedDataParallel')))
    assert setup_cpu_distributed(cfg, 'pytorch')
    assert cfg.model_wrapper_cfg == dict(
        type='MMDistributedDataParallel', device_ids=None)
    assert cfg.model.backbone.norm_cfg == dict(type='BN')
    assert cfg.model.neck.norm_cfg == dict(type='BN', momentum=0.01)
    # A config that asks for it keeps it; nothing is added.
    cfg = Config(dict(model=dict(), model_wrapper_cfg=dict(DDP_WRAPPER)))
    setup_cpu_distributed(cfg, 'pytorch')
    assert cfg.model_wrapper_cfg == dict(DDP_WRAPPER, device_ids=None)
    with pytest.raises(ValueError, match='slurm'):
        setup_cpu_distributed(Config(dict(model=dict())), 'slurm')
    assert not setup_cpu_distributed(Config(dict(model=dict())), 'none')


# The launches.


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    """A few generated 64 px images in COCO and ImageNet layouts, and an
    ImageNet-form supernet checkpoint per space for the fine-tuning
    configs' Pretrained init."""
    root = tmp_path_factory.mktemp('ddp_data')
    det = make_detection_dataset(
        root / 'coco', num_train=4, num_val=2, image_size=64)
    cls = make_classification_dataset(
        root / 'imagenet',
        num_classes=2,
        per_class_train=2,
        per_class_val=1,
        image_size=32)
    # mmpretrain's ImageNet dataset reads meta/<split>.txt.
    (cls / 'meta').mkdir(exist_ok=True)
    for split in ('train', 'val'):
        lines = [
            f'{image.parent.name}/{image.name} {label}'
            for label, folder in enumerate(sorted((cls / split).iterdir()))
            for image in sorted(folder.iterdir())
        ]
        (cls / 'meta' / f'{split}.txt').write_text('\n'.join(lines) + '\n')
    checkpoints = {}
    for space in ('300M', '1.3G'):
        torch.manual_seed(0)
        supernet = DetNASSupernet(space, out_indices=(4, ))
        state = {f'backbone.{k}': v for k, v in supernet.state_dict().items()}
        checkpoints[space] = root / f'supernet_{space}_in1k.pth'
        torch.save(dict(state_dict=state), checkpoints[space])
    return dict(detection=det, classification=cls, checkpoints=checkpoints)


def _leaf_datasets(node, key):
    """(key, dataset dict) of every dataset a (wrapped) dataset holds."""
    if 'dataset' in node:
        yield from _leaf_datasets(node['dataset'], f'{key}.dataset')
    elif 'datasets' in node:
        for i, dataset in enumerate(node['datasets']):
            yield from _leaf_datasets(dataset, f'{key}.datasets.{i}')
    else:
        yield key, node


def _data_options(cfg, data):
    """--cfg-options: tiny data, batch 1, 64 px, no validation."""
    options = [
        'train_dataloader.batch_size=1',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader=None',
        'val_evaluator=None',
        'val_cfg=None',
        'default_hooks.checkpoint=None',
        'default_hooks.logger.interval=1',
        'train_cfg.max_iters=2',
    ]
    detection = cfg.default_scope == 'mmdet'
    loader = cfg.train_dataloader
    for key, dataset in _leaf_datasets(loader, 'train_dataloader'):
        if detection:
            root = data['detection']
            classes = '[' + ','.join(f"'{c}'"
                                     for c in _class_names(root)) + ']'
            options += [
                f'{key}.type=CocoDataset', f'{key}.data_root={root}/',
                f'{key}.ann_file=annotations/instances_train2017.json',
                f'{key}.data_prefix.img=train2017/',
                f'{key}.metainfo.classes={classes}'
            ]
        else:
            options.append(f'{key}.data_root={data["classification"]}')
        for i, transform in enumerate(dataset.pipeline):
            if transform.type == 'Resize':
                options.append(f'{key}.pipeline.{i}.scale="(64,64)"')
            elif transform.type == 'RandomResizedCrop':
                options.append(f'{key}.pipeline.{i}.scale=64')
    init = cfg.model.backbone.get('init_cfg') or {}
    if init.get('type') == 'Pretrained':
        space = cfg.model.backbone.space
        options.append('model.backbone.init_cfg.checkpoint='
                       f'{data["checkpoints"][space]}')
    if cfg.model.type == 'FasterRCNN':
        options += [
            'model.train_cfg.rpn_proposal.nms_pre=64',
            'model.train_cfg.rpn_proposal.max_per_img=16',
            'model.train_cfg.rcnn.sampler.num=16'
        ]
    return options


def _class_names(root):
    import json
    ann = json.loads(
        (root / 'annotations' / 'instances_train2017.json').read_text())
    return [
        c['name'] for c in sorted(ann['categories'], key=lambda c: c['id'])
    ]


def dist_train(config, data, work_dir, extra_options=()):
    """``bash tools/dist_train.sh <config> 2`` with the tiny overrides."""
    cfg = Config.fromfile(config)
    env = tool_env(PYTHONWARNINGS='ignore', PORT=str(free_port()))
    cmd = [
        'bash', 'tools/dist_train.sh',
        str(config), '2', '--work-dir',
        str(work_dir), '--cfg-options', *_data_options(cfg, data),
        *extra_options
    ]
    start = time.time()
    proc = run_tool(cmd, check=False, env=env)
    return proc, time.time() - start


@pytest.mark.e2e
@pytest.mark.parametrize(
    'config', MULTI_GPU_CONFIGS, ids=_ids(MULTI_GPU_CONFIGS))
def test_dist_train_two_iterations(config, tiny_data, tmp_path):
    proc, seconds = dist_train(config, tiny_data, tmp_path)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    # Both iterations trained (logged by rank 0), on gloo.
    assert 'Iter(train) [2/2]' in output, output[-3000:]
    print(f'{config.name}: {seconds:.1f} s')


@pytest.mark.e2e
def test_dist_train_fails_without_find_unused_parameters(tiny_data, tmp_path):
    """The launches above can fail: a supernet config without the setting
    stops at the second iteration, as it would on GPUs."""
    config = (
        CONFIGS / 'supernet' /
        'retinanet_detnas-supernet-300M_fpn_8xb2-90k_coco.py')
    proc, _ = dist_train(config, tiny_data, tmp_path,
                         ['model_wrapper_cfg.find_unused_parameters=False'])
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert 'find_unused_parameters' in output
    assert 'Iter(train) [2/2]' not in output
