"""The searched detector and the retrained one differ only by the backbone.

DetNAS ranks backbones by the score of a detector built on the supernet
(fine-tuning and search configs) and then retrains the winner in the same
detector (retraining configs). Any other difference between the two
(FPN, heads, proposals, RoI sampler, test settings, input normalisation)
would rank architectures for a detector that is never trained. The
resolved ``model`` dicts are compared with the backbone removed; the only
differences allowed are named per pair:

- ``momentum``: the BN momentum of the official SyncBN, 0.1 with the
  supernet and 0.01 when a searched net is retrained (DetNAS
  ``maskrcnn_benchmark/pytorch_distributed_syncbn/syncbn.py``);
- ``type``: the CPU search config runs plain BN (it recomputes BN
  statistics per candidate itself) where fine-tuning and retraining run
  SyncBN.
"""
import copy
from pathlib import Path

import pytest
from mmengine.config import Config

from tests.utils import CONFIGS

# (searched detector configs, retrained detector config, norm keys that
# may differ)
PAIRS = [
    ([
        'supernet/faster-rcnn_detnas-supernet-300M_tiny-fpn_1xb2-300iter_'
        'coco-tiny.py'
    ], 'detnasnet/faster-rcnn_shufflenetv2-20_fpn_cpu_coco-tiny.py', ()),
    (['search/search_faster-rcnn_detnas-supernet-tiny_fpn_3x8_coco-tiny.py'],
     'detnasnet/faster-rcnn_shufflenetv2-20_fpn_cpu_coco-tiny.py', ('type', )),
    ([
        'supernet/faster-rcnn_detnas-supernet-300M_fpn_8xb2-90k_coco.py',
        'search/search_faster-rcnn_detnas-supernet-300M_fpn_20x50_coco.py'
    ], 'detnasnet/faster-rcnn_shufflenetv2-20_fpn_1x_coco.py', ('momentum', )),
    (['supernet/faster-rcnn_detnas-supernet-1.3G_fpn_8xb2-90k_coco.py'],
     'detnasnet/faster-rcnn_shufflenetv2-40_fpn_1x_coco.py', ('momentum', )),
    (['supernet/faster-rcnn_detnas-supernet-300M_fpn_8xb2-22.5k_voc0712.py'
      ], 'detnasnet/faster-rcnn_shufflenetv2-20_fpn_1x_voc0712.py',
     ('momentum', )),
    (['supernet/retinanet_detnas-supernet-300M_fpn_8xb2-90k_coco.py'],
     'detnasnet/retinanet_shufflenetv2-20_fpn_1x_coco.py', ('momentum', )),
    (['supernet/retinanet_detnas-supernet-300M_fpn_8xb2-22.5k_voc0712.py'],
     'detnasnet/retinanet_shufflenetv2-20_fpn_1x_voc0712.py', ('momentum', )),
]
CASES = [(s, r, keys) for searched, r, keys in PAIRS for s in searched]


def _ids():
    return [f'{Path(s).stem}-vs-{Path(r).stem}' for s, r, _ in CASES]


def _without_backbone(model, ignored_norm_keys):
    """The model dict minus its backbone, norm keys ``ignored`` dropped."""
    model = copy.deepcopy(model.to_dict())
    model.pop('backbone')

    def strip(node):
        if isinstance(node, dict):
            if node.get('type') in ('BN', 'SyncBN'):
                node = {
                    k: v
                    for k, v in node.items() if k not in ignored_norm_keys
                }
            return {k: strip(v) for k, v in node.items()}
        if isinstance(node, (list, tuple)):
            return [strip(v) for v in node]
        return node

    return strip(model)


def _norm_cfgs(node):
    if isinstance(node, dict):
        if 'norm_cfg' in node and node['norm_cfg'] is not None:
            yield node['norm_cfg']
        for value in node.values():
            yield from _norm_cfgs(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _norm_cfgs(value)


@pytest.mark.parametrize('searched,retrained,ignored', CASES, ids=_ids())
def test_detectors_differ_only_by_the_backbone(searched, retrained, ignored):
    searched = Config.fromfile(CONFIGS / searched)
    retrained = Config.fromfile(CONFIGS / retrained)
    assert searched.model.backbone.type == 'detnas_mm.DetNASSupernet'
    assert retrained.model.backbone.type == 'detnas_mm.DetNASNet'
    assert searched.model.backbone.space == retrained.model.backbone.space
    assert _without_backbone(searched.model, ignored) == \
        _without_backbone(retrained.model, ignored)
    # ... and the images they are scored on are prepared alike.
    assert searched.test_dataloader.dataset.pipeline == \
        retrained.test_dataloader.dataset.pipeline


@pytest.mark.parametrize('searched,retrained,ignored', CASES, ids=_ids())
def test_bn_momentum_is_the_official_one(searched, retrained, ignored):
    """0.1 (torch's default) with the supernet, 0.01 in full-scale
    retraining; the CPU retraining keeps 0.1 (200 iterations are too few
    for a 100-step average)."""
    searched = Config.fromfile(CONFIGS / searched)
    retrained = Config.fromfile(CONFIGS / retrained)
    full_scale = 'momentum' in ignored
    for cfg, momentum in ((searched, 0.1), (retrained,
                                            0.01 if full_scale else 0.1)):
        norms = list(_norm_cfgs(cfg.model.to_dict()))
        assert norms
        assert {norm.get('momentum', 0.1) for norm in norms} == {momentum}


def test_the_comparison_sees_a_head_difference():
    """The comparison is not blind: one changed RoI setting shows."""
    searched, retrained, ignored = CASES[0]
    searched = Config.fromfile(CONFIGS / searched)
    retrained = Config.fromfile(CONFIGS / retrained)
    retrained.model.train_cfg.rcnn.sampler.num = 64
    assert _without_backbone(searched.model, ignored) != \
        _without_backbone(retrained.model, ignored)
