import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from mmengine.config import Config

from detnas_mm.export.onnx import (build_backbone_neck, export_onnx,
                                   export_onnx_files)
from tests.utils import CONFIGS, TINY_SPACE, load_script

TINY = dict(TINY_SPACE, name='tiny')


def tiny_config(backbone_type='detnas_mm.DetNASNet', arch='3|1|20|2'):
    """The parts of a detector config the export reads, SyncBN as shipped."""
    sync_bn = dict(type='SyncBN', requires_grad=True)
    backbone = dict(type=backbone_type, space=TINY, norm_cfg=sync_bn)
    if arch is not None:
        backbone['arch'] = arch
    return Config(
        dict(
            default_scope='mmdet',
            model=dict(
                type='FasterRCNN',
                data_preprocessor=dict(
                    type='DetDataPreprocessor', pad_size_divisor=32),
                backbone=backbone,
                neck=dict(
                    type='FPN',
                    in_channels=[16, 32, 48, 64],
                    out_channels=8,
                    num_outs=5,
                    norm_cfg=sync_bn))))


def test_onnx_export_matches_pytorch_in_onnxruntime(tmp_path):
    out = tmp_path / 'model.onnx'
    report = export_onnx(
        tiny_config(), str(out), input_size=(64, 80), rounds=2, repeats=1)
    assert report['max_abs_diff'] < 1e-4
    assert report['max_abs_output'] > 0
    # Padded to the size divisor of the data preprocessor, as in testing.
    assert report['input_shape'] == [1, 3, 64, 96]
    assert report['output_shapes'] == {
        'out0': [1, 8, 16, 24],
        'out1': [1, 8, 8, 12],
        'out2': [1, 8, 4, 6],
        'out3': [1, 8, 2, 3],
        'out4': [1, 8, 1, 2]
    }
    assert report['arch'] == '3|1|20|2' and report['neck'] == 'FPN'
    for runtime in ('onnxruntime', 'torch'):
        assert report[runtime]['median_ms'] > 0
        assert report[runtime]['count'] == 2
    model = onnx.load(str(out))
    onnx.checker.check_model(model)
    ops = {node.op_type for node in model.graph.node}
    assert 'Conv' in ops and 'SyncBatchNorm' not in ops


def test_a_supernet_config_exports_the_given_arch(tmp_path):
    cfg = tiny_config('detnas_mm.DetNASSupernet', arch=None)
    with pytest.raises(ValueError, match='No arch given'):
        build_backbone_neck(cfg)
    report = export_onnx(
        cfg,
        str(tmp_path / 'm.onnx'),
        arch='0|3|33|1',
        input_size=32,
        rounds=1,
        repeats=1)
    assert report['arch'] == '0|3|33|1' and report['max_abs_diff'] < 1e-4


def test_weights_come_from_the_checkpoint(tmp_path):
    source = build_backbone_neck(tiny_config())
    with torch.no_grad():
        for param in source.parameters():
            param.normal_()
    state = dict(source.state_dict())
    state['rpn_head.rpn_conv.weight'] = torch.zeros(1)  # ignored
    torch.save(dict(state_dict=state), tmp_path / 'det.pth')
    loaded = build_backbone_neck(
        tiny_config(), checkpoint=str(tmp_path / 'det.pth'))
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        for a, b in zip(source.eval()(x), loaded(x)):
            assert torch.equal(a, b)
    torch.save(
        dict(state_dict={'rpn_head.x': torch.zeros(1)}),
        tmp_path / 'empty.pth')
    with pytest.raises(ValueError, match='no backbone'):
        build_backbone_neck(
            tiny_config(), checkpoint=str(tmp_path / 'empty.pth'))


def test_export_files_beside_a_config(tmp_path):
    config = tmp_path / 'faster-rcnn_tiny.py'
    tiny_config().dump(str(config))
    paths = export_onnx_files(str(config), input_size=32, rounds=1, repeats=1)
    assert paths['onnx'] == str(tmp_path / 'faster-rcnn_tiny'
                                '_backbone-neck.onnx')
    report = json.loads(Path(paths['onnx_report']).read_text())
    assert report['onnx'] == paths['onnx']
    assert report['max_abs_diff'] < 1e-4
    assert report['versions']['onnxruntime']


def test_outputs_stay_close_on_a_shipped_config(tmp_path):
    # The CPU-size recipe (300M backbone, 64-channel FPN), at a small input
    # to keep the test fast.
    cfg = Config.fromfile(
        str(CONFIGS / 'detnasnet' /
            'faster-rcnn_shufflenetv2-20_fpn_cpu_coco-tiny.py'))
    report = export_onnx(
        cfg, str(tmp_path / 'm.onnx'), input_size=64, rounds=1, repeats=1)
    assert report['space'] == '300M'
    assert report['max_abs_diff'] < 1e-4
    assert np.isfinite(report['max_abs_output'])


def test_export_arch_tool_onnx_option(tmp_path, capsys):
    tool = load_script('tools/export_arch.py')
    paths = tool.main([
        '--space', '300M', '--arch', '2120|2112|33130031|3132', '--base',
        'faster-rcnn_coco-tiny', '--out-dir',
        str(tmp_path), '--onnx', '--json'
    ])
    assert json.loads(capsys.readouterr().out.splitlines()[-1]) == paths
    report = json.loads(Path(paths['onnx_report']).read_text())
    assert report['onnx'] == paths['onnx'] and Path(paths['onnx']).is_file()
    assert report['arch'] == '2120|2112|33130031|3132'
    # The CPU recipe's test scale, 128 px.
    assert report['input_shape'] == [1, 3, 128, 128]
    assert report['max_abs_diff'] < 1e-4
