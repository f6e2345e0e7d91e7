"""An exported config runs in plain MMDetection; inherited weights match.

The runs go through mmdet's own entry points (``mim train mmdet``,
``mim test mmdet``, ``DetInferencer``) with nothing of detnas_mm but the
backbone class, on the shared coco_tiny photos (or the generated stand-in).
"""
import copy
import sys
from pathlib import Path

import pytest
import torch
from mmdet.apis import DetInferencer
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import MODELS, init_default_scope
from mmengine.runner import save_checkpoint

from detnas_mm.engine.path_scoring import CalibrationSet, recalibrate
from detnas_mm.engine.weight_inheritance import inherit_weights
from detnas_mm.export import export_search_result
from detnas_mm.utils.checkpoint import safe_checkpoint_loading
from tests.utils import run_tool

ARCH = '2120|2112|33130031|3132'
# Enough to train, validate and test through the real loops, in seconds.
SHORT_RUN = [
    'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
    'default_hooks.checkpoint.interval=2', 'default_hooks.logger.interval=1',
    'param_scheduler.0.end=2', 'val_dataloader.dataset.indices=2',
    'test_dataloader.dataset.indices=2'
]


@pytest.fixture(scope='module')
def exported(coco_data_root, tmp_path_factory):
    out_dir = tmp_path_factory.mktemp('export')
    paths = export_search_result(
        ARCH, '300M', out_dir, base='faster-rcnn_coco-tiny',
        provenance=dict(search_run='test', score=0.5),
        data_root=str(coco_data_root))
    return paths


def _image(coco_data_root):
    return str(sorted((Path(coco_data_root) / 'val2017').iterdir())[0])


def _mim(*args, cwd):
    proc = run_tool([sys.executable, '-m', 'mim', *args], cwd=cwd)
    return proc.stdout + proc.stderr


@pytest.mark.e2e
def test_mim_train_test_and_inferencer(exported, coco_data_root, tmp_path):
    config = exported['detection']
    work_dir = tmp_path / 'work_dir'
    # From another directory, through mmdet's tools/train.py and test.py.
    log = _mim('train', 'mmdet', config, '--gpus', '0', '--work-dir',
               str(work_dir), '--cfg-options', *SHORT_RUN, cwd=tmp_path)
    assert 'Iter(train) [2/2]' in log
    checkpoint = work_dir / 'iter_2.pth'
    assert checkpoint.is_file()
    log = _mim('test', 'mmdet', config, '--gpus', '0', '--checkpoint',
               str(checkpoint), '--work-dir', str(tmp_path / 'test_dir'),
               '--cfg-options', *SHORT_RUN, cwd=tmp_path)
    assert 'Iter(test) [1/1]' in log

    inferencer = DetInferencer(model=config, weights=str(checkpoint),
                               device='cpu', show_progress=False)
    pred = inferencer(_image(coco_data_root), no_save_vis=True,
                      no_save_pred=True)['predictions'][0]
    assert len(pred['labels']) == len(pred['scores']) == len(pred['bboxes'])


def _low_threshold(cfg):
    # Random weights score every class about equally: keep every box so
    # that the comparison sees 100 detections, not none.
    cfg = copy.deepcopy(cfg)
    cfg.model.test_cfg.rcnn.score_thr = 0.0
    return cfg


def test_inherited_weights_give_supernet_detections(exported, tmp_path,
                                                    coco_data_root):
    cfg = Config.fromfile(exported['detection'])
    supernet_cfg = copy.deepcopy(cfg)
    supernet_cfg.model.backbone.type = 'detnas_mm.DetNASSupernet'
    init_default_scope('mmdet')
    torch.manual_seed(0)
    supernet = revert_sync_batchnorm(MODELS.build(supernet_cfg.model))
    supernet.init_weights()
    assert supernet.backbone.arch == ARCH
    supernet_ckpt = str(tmp_path / 'supernet.pth')
    save_checkpoint(dict(state_dict=supernet.state_dict()), supernet_ckpt)

    # The search's recalibration (training pipeline, training mode) on the
    # same seeded calibration set, in the supernet and in the export.
    calibration = CalibrationSet(cfg.train_dataloader, 4, seed=0)
    with safe_checkpoint_loading():
        inherited = inherit_weights(supernet_ckpt, exported['detection'],
                                    tmp_path / 'inherited.pth',
                                    calibration=calibration)
    recalibrate(supernet, calibration)
    calibrated_ckpt = str(tmp_path / 'supernet_calibrated.pth')
    save_checkpoint(dict(state_dict=supernet.state_dict()), calibrated_ckpt)

    with safe_checkpoint_loading():
        state = torch.load(inherited, map_location='cpu')['state_dict']
    backbone = {k for k in state if k.startswith('backbone.')}
    supernet_backbone = {
        k for k in supernet.state_dict() if k.startswith('backbone.')
    }
    # Only the chosen op of every block, under the supernet's names.
    assert backbone < supernet_backbone
    op_keys = [k for k in backbone if '.ops.' in k]
    assert op_keys
    assert all(k.split('.ops.')[1][0] == _choice_of(k) for k in op_keys)

    image = _image(coco_data_root)
    ours = DetInferencer(model=_low_threshold(cfg), weights=inherited,
                         device='cpu', show_progress=False)
    theirs = DetInferencer(model=_low_threshold(supernet_cfg),
                           weights=calibrated_ckpt, device='cpu',
                           show_progress=False)
    a = ours(image, no_save_vis=True, no_save_pred=True,
             return_datasamples=True)['predictions'][0].pred_instances
    b = theirs(image, no_save_vis=True, no_save_pred=True,
               return_datasamples=True)['predictions'][0].pred_instances
    assert len(a) == len(b) > 0
    torch.testing.assert_close(a.scores, b.scores)
    torch.testing.assert_close(a.bboxes, b.bboxes)
    assert torch.equal(a.labels, b.labels)


def _choice_of(key):
    """The chosen digit of a key 'backbone.stages.S.B.ops.<digit>...'."""
    stage, block = (int(p) for p in key.split('.')[2:4])
    genes = ARCH.split('|')
    return genes[stage][block]


def test_inherit_refuses_another_space(exported, tmp_path):
    cfg = Config.fromfile(exported['detection'])
    other = copy.deepcopy(cfg)
    other.model.backbone.update(type='detnas_mm.DetNASSupernet',
                                space='1.3G', arch=None)
    other.model.neck.in_channels = [96, 240, 480, 960]
    init_default_scope('mmdet')
    model = revert_sync_batchnorm(MODELS.build(other.model))
    ckpt = str(tmp_path / 'other.pth')
    save_checkpoint(dict(state_dict=model.state_dict()), ckpt)
    with pytest.raises(ValueError, match='search space'):
        inherit_weights(ckpt, exported['detection'], tmp_path / 'x.pth')
