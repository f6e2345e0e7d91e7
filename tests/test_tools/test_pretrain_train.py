"""tools/train.py and tools/dist_train.sh on the CPU pretraining config.

Every run is the shipped imagenette config made tiny on the command line
(32 px, batch 4, a few iterations, 20 validation images), as a user would
shorten it.
"""
import json
import math
import sys
from pathlib import Path

import pytest
import torch

from tests.utils import CONFIGS, free_port, run_tool, tool_env

# Subprocess runs of the tools: deselect with -m 'not e2e'.
pytestmark = pytest.mark.e2e

CONFIG = (CONFIGS / 'supernet' /
          'detnas-supernet-300M_1xb32-600iter_imagenette-64px.py')
ITERS = 6


def tiny_options(data_root, max_iters):
    return [
        '--cfg-options',
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        'train_dataloader.batch_size=4',
        'train_dataloader.dataset.pipeline.1.scale=32',
        'val_dataloader.dataset.pipeline.1.scale=36',
        'val_dataloader.dataset.pipeline.2.crop_size=32',
        'val_dataloader.dataset.indices=20',
        f'train_cfg.max_iters={max_iters}',
        # The schedule keeps its full length, so a run cut short follows
        # the same lr curve as the uninterrupted one.
        f'param_scheduler.0.end={ITERS}',
        'val_cfg.num_random_paths=1',
        'val_cfg.calib_batches=1',
        'default_hooks.checkpoint.interval=3',
        'default_hooks.logger.interval=1',
        'log_processor.window_size=1',
        'custom_hooks.0.record_paths=True',
    ]


def run(args, work_dir, timeout=300, **env):
    return run_tool(args + ['--work-dir', work_dir], timeout,
                    env=tool_env(PYTHONWARNINGS='ignore', **env))


def train(data_root, work_dir, max_iters, *extra):
    return run([sys.executable, 'tools/train.py', str(CONFIG)] + list(extra) +
               tiny_options(data_root, max_iters), work_dir)


def logged(work_dir):
    """Per-iteration losses and validation metrics of every run in a dir."""
    losses, val = {}, {}
    for scalars in sorted(Path(work_dir).glob('*/vis_data/scalars.json')):
        for line in scalars.read_text().splitlines():
            entry = json.loads(line)
            if 'loss' in entry:
                losses[entry['iter']] = entry['loss']
            elif any(k.startswith('random_mean/') for k in entry):
                val = entry
    return losses, val


def recorded_paths(work_dir, rank=0):
    lines = Path(work_dir, f'paths_rank{rank}.jsonl').read_text()
    return [json.loads(line) for line in lines.splitlines()]


@pytest.fixture(scope='module')
def full_run(imagenet_data_root, tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('pretrain_full')
    train(imagenet_data_root, work_dir, ITERS)
    return work_dir


def test_train_runs_and_validates(full_run):
    losses, val = logged(full_run)
    assert sorted(losses) == list(range(1, ITERS + 1))
    assert all(math.isfinite(v) for v in losses.values())
    # Supernet validation at the end: the fixed path, one random path and
    # their mean, all in the log.
    assert {'fixed/accuracy/top1', 'random0/accuracy/top1',
            'random_mean/accuracy/top1'} <= set(val)
    paths = recorded_paths(full_run)
    assert [p['iter'] for p in paths] == list(range(ITERS))
    assert len({p['arch'] for p in paths}) > 1
    checkpoint = torch.load(full_run / f'iter_{ITERS}.pth', map_location='cpu',
                            weights_only=False)
    assert 'path_sampler' in checkpoint


def test_resume_continues_as_if_never_stopped(full_run, imagenet_data_root,
                                              tmp_path):
    # Stop after 3 iterations (a checkpoint is written there), then resume.
    train(imagenet_data_root, tmp_path, 3)
    assert (tmp_path / 'iter_3.pth').is_file()
    proc = train(imagenet_data_root, tmp_path, ITERS, '--resume')
    assert 'resumed epoch: 0, iter: 3' in proc.stdout + proc.stderr

    assert recorded_paths(tmp_path) == recorded_paths(full_run)
    resumed, _ = logged(tmp_path)
    uninterrupted, _ = logged(full_run)
    assert resumed == uninterrupted  # exact, iteration by iteration


def test_dist_train_two_ranks_train_the_same_paths(imagenet_data_root,
                                                   tmp_path):
    run(['bash', 'tools/dist_train.sh', str(CONFIG), '2'] +
        tiny_options(imagenet_data_root, 3), tmp_path, PORT=str(free_port()))
    rank0, rank1 = recorded_paths(tmp_path, 0), recorded_paths(tmp_path, 1)
    assert [p['iter'] for p in rank0] == [0, 1, 2]
    assert rank0 == rank1


def test_checkpoint_initialises_the_detection_supernet(full_run, tmp_path,
                                                       monkeypatch):
    """Plain mmdet Pretrained init: no missing or unexpected backbone key."""
    from mmdet.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.runner import checkpoint as mm_checkpoint

    checkpoint = full_run / f'iter_{ITERS}.pth'
    cfg_file = tmp_path / 'faster-rcnn_supernet.py'
    cfg_file.write_text(f"""
_base_ = 'mmdet::_base_/models/faster-rcnn_r50_fpn.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='detnas_mm.DetNASSupernet',
        space='300M',
        out_indices=(0, 1, 2, 3),
        init_cfg=dict(type='Pretrained', checkpoint='{checkpoint}',
                      prefix='backbone.')),
    neck=dict(in_channels=[64, 160, 320, 640]))
""")
    cfg = Config.fromfile(str(cfg_file))
    init_default_scope('mmdet')
    detector = MODELS.build(cfg.model)

    messages = []
    original = mm_checkpoint.print_log

    def record(msg, *args, **kwargs):
        messages.append(str(msg))
        return original(msg, *args, **kwargs)

    monkeypatch.setattr(mm_checkpoint, 'print_log', record)
    detector.init_weights()
    assert not [m for m in messages if 'missing keys' in m
                or 'unexpected key' in m], messages

    state = torch.load(checkpoint, map_location='cpu',
                       weights_only=False)['state_dict']
    backbone = detector.backbone.state_dict()
    pretrained = {k[len('backbone.'):]: v for k, v in state.items()
                  if k.startswith('backbone.')}
    # Every detection-backbone tensor comes from the checkpoint; only the
    # ImageNet form's last 1x1 conv stays behind.
    assert set(backbone) == set(pretrained) - {
        k for k in pretrained if k.startswith('conv_last.')}
    for key, value in backbone.items():
        assert torch.equal(value, pretrained[key]), key


def test_five_block_config_trains_and_validates_random_paths(
        imagenet_data_root, tmp_path):
    config = CONFIG.with_name(
        'detnas-supernet-5blocks_1xb32-2400iter_imagenette-64px.py')
    options = tiny_options(imagenet_data_root, 3)
    run([sys.executable, 'tools/train.py', str(config)] + options, tmp_path)
    losses, val = logged(tmp_path)
    assert sorted(losses) == [1, 2, 3]
    # No published architecture in this space: random paths only.
    assert 'random0/accuracy/top1' in val and 'fixed/accuracy/top1' not in val
    archs = [p['arch'] for p in recorded_paths(tmp_path)]
    assert all(len(arch.replace('|', '')) == 5 for arch in archs), archs
    state = torch.load(tmp_path / 'iter_3.pth', map_location='cpu',
                       weights_only=False)['state_dict']
    blocks = {k.split('.ops.')[0] for k in state if '.ops.' in k}
    assert len(blocks) == 5, sorted(blocks)
