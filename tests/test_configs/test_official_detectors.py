"""The detectors and solver settings of the official DetNAS code.

RetinaNet (DetNAS ``maskrcnn_benchmark/modeling/backbone/backbone.py``,
``fpn.py``, ``rpn/retinanet/retinanet.py``, the RetinaNet yaml files):
SyncBN in the backbone only, P6 from P5, a ReLU before P7, lr 0.01.
Faster R-CNN (the FPN yaml files): SyncBN in the FPN and the box head too.
Both: maskrcnn-benchmark's solver defaults, every ``bias`` at twice the lr
and without weight decay.
"""
import pytest
import torch
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from torch.nn.modules.batchnorm import _BatchNorm

from detnas_mm.datasets import random_detection_batch
from tests.utils import CONFIGS

RETINANET = sorted(
    list((CONFIGS / 'supernet').glob('retinanet_*.py')) +
    list((CONFIGS / 'detnasnet').glob('retinanet_*.py')))
FASTER_RCNN = sorted(
    list((CONFIGS / 'supernet').glob('faster-rcnn_*.py')) +
    list((CONFIGS / 'search').glob('search_faster-rcnn_*.py')) +
    list((CONFIGS / 'detnasnet').glob('faster-rcnn_*.py')))


def _ids(paths):
    return [p.stem for p in paths]


def _build(model_cfg):
    from mmdet.registry import MODELS
    init_default_scope('mmdet')
    return revert_sync_batchnorm(MODELS.build(model_cfg))


@pytest.mark.parametrize(
    'config', [
        CONFIGS / 'detnasnet' / 'retinanet_shufflenetv2-20_fpn_1x_coco.py',
        CONFIGS / 'detnasnet' / 'faster-rcnn_shufflenetv2-20_fpn_1x_coco.py'
    ],
    ids=['retinanet', 'faster-rcnn'])
def test_official_detector_takes_one_sgd_step(config):
    """One step of each official detector with its own solver: the
    configs the tests below inspect are found, and train."""
    assert config in RETINANET + FASTER_RCNN
    cfg = Config.fromfile(config)
    if cfg.model.type == 'FasterRCNN':
        # 512 RoIs in the 4conv1fc head cost seconds per CPU step; 16 run
        # the same code.
        cfg.model.train_cfg.rpn_proposal.update(nms_pre=64, max_per_img=16)
        cfg.model.train_cfg.rcnn.sampler.num = 16
    model = _build(cfg.model)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    model.train()
    loss, _ = model.parse_losses(
        model(**random_detection_batch(model), mode='loss'))
    assert torch.isfinite(loss)
    optim_wrapper.update_params(loss)
    changed = {
        name.split('.')[0]
        for name, p in model.named_parameters()
        if not torch.equal(p, before[name])
    }
    head = 'roi_head' if cfg.model.type == 'FasterRCNN' else 'bbox_head'
    assert {'backbone', 'neck', head} <= changed


@pytest.mark.parametrize('config', RETINANET, ids=_ids(RETINANET))
def test_retinanet_resolves_to_the_official_neck_and_head(config):
    cfg = Config.fromfile(config)
    neck, head = cfg.model.neck, cfg.model.bbox_head
    assert neck.get('norm_cfg') is None and head.get('norm_cfg') is None
    assert neck.add_extra_convs == 'on_output'
    assert neck.relu_before_extra_convs is True
    assert (neck.start_level, neck.num_outs) == (1, 5)
    assert cfg.model.backbone.norm_cfg.type == 'SyncBN'
    assert cfg.optim_wrapper.optimizer.lr == (0.005 if 'coco-tiny'
                                              in config.name else 0.01)


def test_retinanet_p6_is_computed_from_p5():
    """Built: P6's conv reads the FPN's P5 (out_channels wide), P7 gets
    ReLU(P6), and no norm anywhere outside the backbone."""
    cfg = Config.fromfile(CONFIGS / 'detnasnet' /
                          'retinanet_shufflenetv2-20_fpn_1x_coco.py')
    model = _build(cfg.model)
    neck = model.neck
    p6, p7 = neck.fpn_convs[-2], neck.fpn_convs[-1]
    assert p6.conv.in_channels == neck.out_channels
    assert p6.conv.stride == (2, 2) and p7.conv.stride == (2, 2)
    assert not any(
        isinstance(m, _BatchNorm)
        for m in list(neck.modules()) + list(model.bbox_head.modules()))
    # ReLU before P7 (relu_before_extra_convs): P7 = conv(relu(P6)).
    feats = [
        torch.randn(1, c, s, s)
        for c, s in zip(cfg.model.neck.in_channels, (16, 8, 4, 2))
    ]
    with torch.no_grad():
        outs = neck(feats)
        expected = p7(torch.relu(outs[3]))
    assert torch.allclose(outs[4], expected)


@pytest.mark.parametrize('config', FASTER_RCNN, ids=_ids(FASTER_RCNN))
def test_faster_rcnn_keeps_syncbn_in_fpn_and_box_head(config):
    cfg = Config.fromfile(config)
    # The CPU search runs plain BN (it recomputes BN statistics itself).
    cpu_search = config.name.startswith('search_') and (
        'coco-tiny' in config.name or '_halo-' in config.name)
    norm = 'BN' if cpu_search else 'SyncBN'
    assert cfg.model.neck.norm_cfg.type == norm
    assert cfg.model.roi_head.bbox_head.norm_cfg.type == norm


def test_bias_lr_and_decay_follow_maskrcnn_benchmark():
    """Every parameter whose name contains 'bias' (norm biases too): lr x2,
    no weight decay; every other one, norm weights included: the base lr
    and weight decay."""
    cfg = Config.fromfile(
        CONFIGS / 'supernet' /
        'faster-rcnn_detnas-supernet-300M_tiny-fpn_1xb2-300iter_coco-tiny.py')
    model = _build(cfg.model)
    optimizer = build_optim_wrapper(model, cfg.optim_wrapper).optimizer
    base_lr = cfg.optim_wrapper.optimizer.lr
    settings = {
        id(p): (g['lr'], g['weight_decay'])
        for g in optimizer.param_groups
        for p in g['params']
    }
    names = dict(model.named_parameters())
    assert any('.bn.' in n or 'norm' in n for n in names if 'bias' in n)
    for name, param in names.items():
        if 'bias' in name:
            assert settings[id(param)] == (2 * base_lr, 0), name
        else:
            assert settings[id(param)] == (base_lr, 1e-4), name
