"""Every shipped detection fine-tuning config builds and runs on CPU.

The SyncBN configs must put ``torch.nn.SyncBatchNorm`` in every choice op
of every supernet block and, where the official detector has it (Faster
R-CNN), in the FPN and the box head; RetinaNet has no norm outside the
backbone. The tests inspect the built models, not the config dicts.
"""
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from torch.nn.modules.batchnorm import _BatchNorm

from detnas_mm.datasets import random_detection_batch
from detnas_mm.models.backbones import DetNASSupernet
from tests.utils import CONFIGS, random_arch

SUPERNET = CONFIGS / 'supernet'
DETECTION_CONFIGS = sorted(
    p for pattern in ('faster-rcnn_*.py', 'retinanet_*.py')
    for p in SUPERNET.glob(pattern))
FULL_SCALE = [p for p in DETECTION_CONFIGS if '_8xb2-' in p.name]
ARCH_300M = '2120|2112|33130031|3132'


def _ids(paths):
    return [p.stem for p in paths]


def _build(cfg):
    from mmdet.registry import MODELS
    init_default_scope('mmdet')
    model_cfg = cfg.model.copy()
    if model_cfg.type == 'FasterRCNN':
        # Even a tiny input gives ~1000 proposals, and the box head runs 4
        # convs of 256 channels on each RoI: minutes on CPU. Fewer
        # proposals and RoIs run the same code.
        model_cfg.train_cfg.rpn_proposal.update(nms_pre=64, max_per_img=16)
        model_cfg.train_cfg.rcnn.sampler.num = 16
        model_cfg.test_cfg.rpn.update(nms_pre=64, max_per_img=8)
    return MODELS.build(model_cfg)


@pytest.mark.parametrize(
    'config', DETECTION_CONFIGS, ids=_ids(DETECTION_CONFIGS))
def test_config_builds_and_predicts(config):
    cfg = Config.fromfile(config)
    model = _build(cfg)
    supernet = model.backbone
    assert isinstance(supernet, DetNASSupernet)
    # The FPN is configured for the space the backbone really has.
    assert tuple(cfg.model.neck.in_channels) == supernet.out_channels
    supernet.set_path(random_arch(supernet.space, 0))
    model.eval()
    with torch.no_grad():
        results = model(**random_detection_batch(model), mode='predict')
    assert len(results) == 2
    assert results[0].pred_instances.bboxes.shape[-1] == 4


# A training step of the CPU configs that the pipeline trains and of the
# full-scale 300M recipes on COCO and VOC, named (a missing one fails).
TRAIN_STEP_CONFIGS = [
    p for p in DETECTION_CONFIGS
    if '_coco-tiny' in p.name or '_halo-' in p.name
] + [
    SUPERNET / name
    for name in ('faster-rcnn_detnas-supernet-300M_fpn_8xb2-90k_coco.py',
                 'retinanet_detnas-supernet-300M_fpn_8xb2-90k_coco.py',
                 'faster-rcnn_detnas-supernet-300M_fpn_8xb2-22.5k_voc0712.py',
                 'retinanet_detnas-supernet-300M_fpn_8xb2-22.5k_voc0712.py')
]


@pytest.mark.parametrize(
    'config', TRAIN_STEP_CONFIGS, ids=_ids(TRAIN_STEP_CONFIGS))
def test_train_step_trains_only_the_path(config):
    model = _build(Config.fromfile(config))
    supernet = model.backbone
    supernet.set_path(random_arch(supernet.space, 1))
    model.train()
    losses = model(**random_detection_batch(model), mode='loss')
    loss, _ = model.parse_losses(losses)
    assert torch.isfinite(loss)
    loss.backward()
    for block in supernet.blocks:
        for choice, op in block.ops.items():
            has_grad = any(p.grad is not None for p in op.parameters())
            assert has_grad == (int(choice) == block.choice)
    assert all(p.grad is not None for p in model.neck.parameters())


@pytest.mark.parametrize(
    'config', DETECTION_CONFIGS, ids=_ids(DETECTION_CONFIGS))
def test_syncbn_where_the_official_detectors_have_it(config):
    """SyncBN in every choice op; Faster R-CNN also in FPN and box head,
    RetinaNet in the backbone only (DetNAS's yaml files)."""
    cfg = Config.fromfile(config)
    assert cfg.norm_cfg['type'] == 'SyncBN'
    model = _build(cfg)
    supernet = model.backbone

    def sync_bns(module):
        return [
            m for m in module.modules()
            if isinstance(m, torch.nn.SyncBatchNorm)
        ]

    # No plain BN anywhere in the detector.
    norms = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert norms and all(isinstance(m, torch.nn.SyncBatchNorm) for m in norms)
    assert sync_bns(supernet.stem)
    for block in supernet.blocks:
        assert len(block.ops) == len(supernet.space.choices)
        for op in block.ops.values():
            assert sync_bns(op)
    neck = model.neck
    if cfg.model.neck.type == 'ChannelMapper':  # the built-in task's
        neck_convs = list(neck.convs) + list(neck.extra_convs or [])
    else:
        neck_convs = list(neck.lateral_convs) + list(neck.fpn_convs)
    if cfg.model.type == 'FasterRCNN':
        for conv in neck_convs:
            assert isinstance(conv.norm, torch.nn.SyncBatchNorm)
        head = model.roi_head.bbox_head
        assert type(head).__name__ == 'Shared4Conv1FCBBoxHead'
        assert len(head.shared_convs) == 4 and len(head.shared_fcs) == 1
        for conv in head.shared_convs:
            assert isinstance(conv.norm, torch.nn.SyncBatchNorm)
    else:
        # The FPN (P6/P7 included) and the head's towers have no norm.
        head = model.bbox_head
        for conv in neck_convs + list(head.cls_convs) + list(head.reg_convs):
            assert conv.norm is None and conv.conv.bias is not None
        assert not sync_bns(neck) and not sync_bns(head)


@pytest.mark.parametrize('config', FULL_SCALE, ids=_ids(FULL_SCALE))
def test_full_scale_recipe(config):
    cfg = Config.fromfile(config)
    voc = config.name.endswith('_voc0712.py')
    retina = config.name.startswith('retinanet_')
    assert cfg.train_dataloader.batch_size == 2  # x 8 GPUs
    assert cfg.auto_scale_lr.base_batch_size == 16
    optimizer = cfg.optim_wrapper.optimizer
    assert optimizer.type == 'SGD'
    assert optimizer.lr == (0.01 if retina else 0.02)
    assert optimizer.momentum == 0.9
    assert optimizer.weight_decay == 1e-4
    assert cfg.train_cfg.type == 'IterBasedTrainLoop'
    assert cfg.train_cfg.max_iters == (22500 if voc else 90000)
    # maskrcnn-benchmark's defaults: warm-up from lr/3 over 500 iterations,
    # bias lr x2 and no weight decay on biases.
    warmup, steps = cfg.param_scheduler
    assert warmup.type == 'LinearLR' and not warmup.by_epoch
    assert (warmup.start_factor, warmup.begin, warmup.end) == (1 / 3, 0, 500)
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys == dict(
        bias=dict(lr_mult=2., decay_mult=0.))
    assert steps.type == 'MultiStepLR' and not steps.by_epoch
    assert steps.milestones == ([15000, 20000] if voc else [60000, 80000])
    # Fine-tuning starts from the pretraining stage's supernet.
    init = cfg.model.backbone.init_cfg
    assert init.type == 'Pretrained' and init.prefix == 'backbone.'
    assert cfg.model.backbone.type == 'detnas_mm.DetNASSupernet'
    hooks = [h.type for h in cfg.custom_hooks]
    assert 'detnas_mm.PathSamplerHook' in hooks
    assert cfg.model_wrapper_cfg.find_unused_parameters is True
    # Trained on the remainder of the search split, tested on the real
    # test split.
    train = cfg.train_dataloader.dataset
    if voc:
        assert [d.ann_file for d in train.datasets] == [
            f'detnas_split/{year}/trainval_remain.txt'
            for year in ('VOC2007', 'VOC2012')
        ]
        assert cfg.test_dataloader.dataset.ann_file == \
            'VOC2007/ImageSets/Main/test.txt'
        num_classes = 20
    else:
        assert train.ann_file == 'detnas_split/train_remain.json'
        assert cfg.test_dataloader.dataset.ann_file == \
            'annotations/instances_val2017.json'
        num_classes = 80
    head = cfg.model.bbox_head if retina else cfg.model.roi_head.bbox_head
    assert head.num_classes == num_classes


def test_pretrained_supernet_loads_through_init_cfg(tmp_path):
    """The full-scale init_cfg route, on the CPU config's detector."""
    # What the ImageNet stage saves: an ImageClassifier whose backbone is
    # the supernet in its ImageNet form (last 1x1 conv), plus a head.
    torch.manual_seed(0)
    classifier = DetNASSupernet('300M', out_indices=(4, ))
    state = {f'backbone.{k}': v for k, v in classifier.state_dict().items()}
    state['head.fc.weight'] = torch.zeros(10, 1024)
    checkpoint = tmp_path / 'supernet_in1k.pth'
    torch.save(dict(state_dict=state), checkpoint)

    full = Config.fromfile(FULL_SCALE[0])
    cfg = Config.fromfile(
        [p for p in DETECTION_CONFIGS if '_coco-tiny' in p.name][0])
    cfg.model.backbone.init_cfg = dict(
        full.model.backbone.init_cfg, checkpoint=str(checkpoint))
    model = _build(cfg)
    model.init_weights()
    loaded = model.backbone.state_dict()
    expected = {
        k[len('backbone.'):]: v
        for k, v in state.items()
        if k.startswith('backbone.') and '.conv_last.' not in f'.{k}'
    }
    assert set(loaded) == set(expected)
    for key, value in expected.items():
        assert torch.equal(loaded[key], value), key
