"""The path-interference study script runs and reports every trained path."""
import json

import pytest
import torch

from tests.utils import load_script, run_tool

SCRIPT = 'benchmarks/supernet_path_interference.py'


def run_script(data_root, out, *options):
    """Run the script on tiny batches; its last result line."""
    run_tool([
        SCRIPT, '--data-root', data_root, '--batch-size', '4', '--resize',
        '40', '--crop', '32', '--out', out, *options
    ])
    return json.loads(out.read_text().splitlines()[-1])


@pytest.mark.e2e
@pytest.mark.parametrize('schedule,num_paths', [('pool', 2), ('uniform', 4)])
def test_reports_loss_and_top1_of_each_path(builtin_data, tmp_path, schedule,
                                            num_paths):
    result = run_script(builtin_data['classification'],
                        tmp_path / 'result.jsonl', '--schedule', schedule,
                        '--iters', '3')
    assert result['schedule'] == schedule and result['iters'] == 3
    assert len(result['val_top1']) == num_paths
    assert all(0 <= top1 <= 100 for top1 in result['val_top1'])
    assert 0 < result['loss_last50'] < 10


@pytest.mark.e2e
def test_depths_option_trains_the_space_at_another_depth(
        builtin_data, tmp_path):
    result = run_script(builtin_data['classification'],
                        tmp_path / 'result.jsonl', '--depths', '1,1,2,1',
                        '--iters', '3')
    assert result['depths'] == [1, 1, 2, 1]
    assert len(result['val_top1']) == 4


@pytest.mark.parametrize('init,bn_bias', [('detnas', 1e-4), ('kaiming', 0.)])
def test_init_option_sets_the_backbone_init(init, bn_bias):
    script = load_script(SCRIPT)
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


@pytest.mark.e2e
def test_result_names_init_and_seed(builtin_data, tmp_path):
    result = run_script(builtin_data['classification'],
                        tmp_path / 'result.jsonl', '--init', 'kaiming',
                        '--seed', '2', '--iters', '2')
    assert (result['init'], result['seed']) == ('kaiming', 2)
