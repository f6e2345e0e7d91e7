"""The path-interference study script runs and reports every trained path."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = (
    Path(__file__).resolve().parents[2] / 'benchmarks' /
    'supernet_path_interference.py')


@pytest.mark.parametrize('schedule,num_paths', [('pool', 2), ('uniform', 4)])
def test_reports_loss_and_top1_of_each_path(builtin_data, tmp_path, schedule,
                                            num_paths):
    out = tmp_path / 'result.jsonl'
    subprocess.run([
        sys.executable,
        str(SCRIPT), '--data-root',
        str(builtin_data['classification']), '--schedule', schedule, '--iters',
        '3', '--batch-size', '4', '--resize', '40', '--crop', '32', '--out',
        str(out)
    ],
                   check=True,
                   capture_output=True)
    result = json.loads(out.read_text().splitlines()[-1])
    assert result['schedule'] == schedule and result['iters'] == 3
    assert len(result['val_top1']) == num_paths
    assert all(0 <= top1 <= 100 for top1 in result['val_top1'])
    assert 0 < result['loss_last50'] < 10


def test_depths_option_trains_the_space_at_another_depth(
        builtin_data, tmp_path):
    out = tmp_path / 'result.jsonl'
    subprocess.run([
        sys.executable,
        str(SCRIPT), '--data-root',
        str(builtin_data['classification']), '--depths', '1,1,2,1', '--iters',
        '3', '--batch-size', '4', '--resize', '40', '--crop', '32', '--out',
        str(out)
    ],
                   check=True,
                   capture_output=True)
    result = json.loads(out.read_text().splitlines()[-1])
    assert result['depths'] == [1, 1, 2, 1]
    assert len(result['val_top1']) == 4


def _script_module():
    import importlib.util
    spec = importlib.util.spec_from_file_location('path_interference', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('init,bn_bias', [('detnas', 1e-4), ('kaiming', 0.)])
def test_init_option_sets_the_backbone_init(init, bn_bias):
    import torch
    script = _script_module()
    space = dict(
        name='tiny',
        depths=(1, 1, 1, 1),
        stem_channels=8,
        stage_channels=(16, 32, 64, 128),
        last_channels=64)
    model = script.build_classifier(space, 3, init)
    bns = [
        m for m in model.backbone.modules()
        if isinstance(m, torch.nn.BatchNorm2d)
    ]
    assert bns and all(
        torch.allclose(m.bias, torch.full_like(m.bias, bn_bias)) for m in bns)
    with pytest.raises(ValueError, match='init must be one of'):
        script.build_classifier(space, 3, 'xavier')


def test_result_names_init_and_seed(builtin_data, tmp_path):
    out = tmp_path / 'result.jsonl'
    subprocess.run([
        sys.executable,
        str(SCRIPT), '--data-root',
        str(builtin_data['classification']), '--init', 'kaiming', '--seed',
        '2', '--iters', '2', '--batch-size', '4', '--resize', '40', '--crop',
        '32', '--out',
        str(out)
    ],
                   check=True,
                   capture_output=True)
    result = json.loads(out.read_text().splitlines()[-1])
    assert (result['init'], result['seed']) == ('kaiming', 2)
