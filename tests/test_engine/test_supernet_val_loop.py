import copy
import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from torch.nn.modules.batchnorm import _BatchNorm

from detnas_mm.engine.loops import SupernetTestLoop, SupernetValLoop
from detnas_mm.engine.path_scoring import recalibrate
from detnas_mm.models import find_supernet
from detnas_mm.models.backbones import format_arch
from detnas_mm.samplers import UniformPathSampler

# A small space with the 300M stage layout, so published 300M gene strings
# apply; narrow enough for a CPU test.
SPACE = dict(depths=(4, 4, 8, 4), stem_channels=8,
             stage_channels=(16, 32, 64, 128), last_channels=128)
FIXED = '2120|2112|33130031|3132'
SIZE = 32


def runner_cfg(data_root, work_dir, **val_cfg):
    pipeline = [
        dict(type='LoadImageFromFile', color_type='color'),
        dict(type='RandomResizedCrop', scale=SIZE),
        dict(type='PackInputs'),
    ]
    test_pipeline = [
        dict(type='LoadImageFromFile', color_type='color'),
        dict(type='ResizeEdge', scale=SIZE, edge='short'),
        dict(type='CenterCrop', crop_size=SIZE),
        dict(type='PackInputs'),
    ]

    def loader(split, pipeline, batch_size, num):
        return dict(
            batch_size=batch_size,
            num_workers=0,
            dataset=dict(type='CustomDataset', data_root=str(data_root),
                         data_prefix=split, pipeline=pipeline,
                         indices=num),
            sampler=dict(type='DefaultSampler', shuffle=split == 'train'))

    return Config(dict(
        default_scope='mmpretrain',
        work_dir=str(work_dir),
        model=dict(
            type='ImageClassifier',
            data_preprocessor=dict(
                mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                to_rgb=True),
            backbone=dict(type='detnas_mm.DetNASSupernet', space=SPACE,
                          out_indices=(4, )),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='detnas_mm.DropoutLinearClsHead', num_classes=10,
                      in_channels=128, topk=(1, ))),
        train_dataloader=loader('train', pipeline, 4, 40),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=1),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        val_dataloader=loader('val', test_pipeline, 8, 24),
        val_evaluator=dict(type='Accuracy', topk=(1, )),
        val_cfg=dict(type='detnas_mm.SupernetValLoop', **val_cfg),
        test_dataloader=loader('val', test_pipeline, 8, 24),
        test_evaluator=dict(type='Accuracy', topk=(1, )),
        test_cfg=dict(type='detnas_mm.SupernetTestLoop', **val_cfg),
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1)),
        randomness=dict(seed=0),
        env_cfg=dict(dist_cfg=dict(backend='gloo')),
        log_level='WARNING'))


@pytest.fixture
def make_runner(imagenet_data_root, tmp_path):
    count = [0]

    def make(**val_cfg):
        count[0] += 1
        cfg = runner_cfg(imagenet_data_root, tmp_path / f'run{count[0]}',
                         **val_cfg)
        cfg.experiment_name = f'{tmp_path.name}_{count[0]}'
        return Runner.from_cfg(cfg)

    return make


def bn_buffers(model):
    return [b.clone() for m in model.modules() if isinstance(m, _BatchNorm)
            for b in (m.running_mean, m.running_var)]


def top1(model, dataloader):
    """Top-1 accuracy (percent) of the model's current path, by hand."""
    correct = total = 0
    model.eval()
    with torch.no_grad():
        for batch in dataloader:
            for sample in model.val_step(batch):
                correct += int(sample.pred_label == sample.gt_label)
                total += 1
    return 100 * correct / total


def test_scores_fixed_and_seeded_random_paths(make_runner):
    runner = make_runner(fixed_arch=FIXED, num_random_paths=2, seed=3,
                         calib_batches=2)
    model = runner.model
    supernet = find_supernet(model)
    metrics = runner.val()

    # The random paths are the seeded uniform sampler's first draws.
    sampler = UniformPathSampler(supernet.space, seed=3)
    randoms = [format_arch(sampler.sample(), supernet.space)
               for _ in range(2)]
    assert set(metrics) == {
        'fixed/accuracy/top1', 'random0/accuracy/top1',
        'random1/accuracy/top1', 'random_mean/accuracy/top1'
    }
    assert metrics['random_mean/accuracy/top1'] == pytest.approx(
        (metrics['random0/accuracy/top1'] + metrics['random1/accuracy/top1'])
        / 2)
    # Every score is that of the path after BN recalibration on the
    # loop's calibration set (training images, training pipeline),
    # evaluated here by hand.
    loop = runner.val_loop
    for name, arch in [('fixed', FIXED), ('random0', randoms[0]),
                       ('random1', randoms[1])]:
        supernet.set_path(arch)
        recalibrate(model, loop._calibration)
        assert top1(model, loop.dataloader) == pytest.approx(
            metrics[f'{name}/accuracy/top1'])

    # The record names the paths; the log has the metrics under val/.
    lines = Path(runner.log_dir, 'supernet_val.jsonl').read_text().split('\n')
    record = json.loads(lines[0])
    assert [p['arch'] for p in record['paths']] == [FIXED] + randoms
    assert record['num_calib_batches'] == 2
    hub = runner.message_hub
    assert hub.get_scalar('val/random_mean/accuracy/top1').current(
    ) == pytest.approx(metrics['random_mean/accuracy/top1'])
    assert hub.get_scalar('val/fixed/accuracy/top1') is not None


def test_leaves_no_trace_on_training(make_runner):
    runner = make_runner(num_random_paths=2, calib_batches=2)
    model = runner.model
    supernet = find_supernet(model)
    supernet.set_path('3333|3333|33333333|3333')
    before = bn_buffers(model)
    random.seed(11), np.random.seed(11), torch.manual_seed(11)
    expected = (random.random(), np.random.rand(), torch.rand(1))
    random.seed(11), np.random.seed(11), torch.manual_seed(11)

    runner.val()

    assert (random.random(), np.random.rand(), torch.rand(1)) == expected
    assert supernet.arch == '3333|3333|33333333|3333'
    after = bn_buffers(model)
    assert all(torch.equal(a, b) for a, b in zip(before, after))


def test_same_scores_with_and_without_calibration_cache(make_runner):
    cached = make_runner(fixed_arch=FIXED, num_random_paths=1,
                         calib_batches=2).val()
    again = make_runner(fixed_arch=FIXED, num_random_paths=1,
                        calib_batches=2, cache_calib_batches=False).val()
    assert cached == pytest.approx(again)


def test_test_loop_calls_test_hooks(make_runner):
    runner = make_runner(fixed_arch=FIXED, num_random_paths=0,
                         calib_batches=1)
    assert isinstance(runner.build_test_loop(runner._test_loop),
                      SupernetTestLoop)
    metrics = runner.test()
    assert set(metrics) == {'fixed/accuracy/top1'}
    assert runner.message_hub.get_scalar(
        'test/fixed/accuracy/top1') is not None


@pytest.mark.parametrize('kwargs, match', [
    (dict(fixed_arch='2120|2112|3313003|3132'), '4/4/8/4'),
    (dict(fixed_arch='coco_fpn_300M', num_random_paths=-1),
     'num_random_paths'),
    (dict(num_random_paths=0), 'Nothing to validate'),
    (dict(calib_batches=0), 'calib_batches'),
    (dict(seed=-2), 'seed'),
])
def test_bad_arguments_fail_when_built(make_runner, kwargs, match):
    runner = make_runner()
    cfg = dict(runner.cfg.val_cfg, **kwargs)
    with pytest.raises(ValueError, match=match):
        runner.build_val_loop(cfg)


def test_published_arch_name_and_train_loader_default(make_runner):
    runner = make_runner(fixed_arch='coco_fpn_300M', num_random_paths=0,
                         calib_batches=3)
    loop = runner.build_val_loop(copy.deepcopy(runner.cfg.val_cfg))
    assert isinstance(loop, SupernetValLoop)
    assert format_arch(loop.fixed_path, SPACE) == FIXED
    batches = [b for _, b in loop._calibration_set(runner.model)]
    # Three training batches of the train_dataloader's size, loaded with the
    # training pipeline, the same (augmentation included) at every pass.
    assert len(batches) == 3
    assert all(len(b['inputs']) == 4 for b in batches)
    assert all(b['inputs'][0].shape[-1] == SIZE for b in batches)
    again = [b for _, b in loop._calibration_set(runner.model)]
    assert all(torch.equal(x, y) for a, b in zip(batches, again)
               for x, y in zip(a['inputs'], b['inputs']))
