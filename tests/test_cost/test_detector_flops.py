"""Whole-detector FLOPs and params of an architecture."""
import pytest
from mmengine.config import Config

from detnas_mm.cost import get_cost_table
from detnas_mm.cost.detector_flops import detector_cost
from tests.utils import CONFIGS

SUPERNET = CONFIGS / 'supernet'
FASTER_RCNN = SUPERNET / (
    'faster-rcnn_detnas-supernet-300M_tiny-fpn_1xb2-300iter_coco-tiny.py')
RETINANET = SUPERNET / (
    'retinanet_detnas-supernet-300M_tiny-fpn_1xb2-300iter_coco-tiny.py')
PUBLISHED = '2120|2112|33130031|3132'
PLAIN = '0000|0000|00000000|0000'


@pytest.mark.parametrize(
    'config', [FASTER_RCNN, RETINANET], ids=['faster-rcnn', 'retinanet'])
def test_archs_differ_by_their_backbones(config):
    published = detector_cost(str(config), PUBLISHED, (64, 96))
    plain = detector_cost(str(config), PLAIN, (64, 96))
    assert published['input_size'] == plain['input_size'] == [64, 96]
    table = get_cost_table('300M', (64, 96))
    # The detector's count is mmengine's full one (BN included).
    (flops_a, params_a), (flops_b, params_b) = (
        table.cost(PUBLISHED, count='full'), table.cost(PLAIN, count='full'))
    assert flops_a != flops_b
    assert published['flops'] - plain['flops'] == flops_a - flops_b
    assert published['params'] - plain['params'] == params_a - params_b
    # Neck and heads come on top of the backbone.
    assert published['flops'] > flops_a
    assert published['params'] > params_a


def test_default_input_is_the_test_scale_padded():
    cfg = Config.fromfile(FASTER_RCNN)
    # keep_ratio resize into (W, H) = (160, 100), padded to 32: 128 x 160.
    for step in cfg.test_dataloader.dataset.pipeline:
        if step.type == 'Resize':
            step.scale = (160, 100)
    result = detector_cost(cfg, PUBLISHED)
    assert result['input_size'] == [128, 160]
    assert result['flops'] > 0 and result['params'] > 0


def test_supernet_and_standalone_configs_agree():
    cfg = Config.fromfile(RETINANET)
    from_supernet = detector_cost(cfg, PUBLISHED, 64)
    cfg.model.backbone.update(type='detnas_mm.DetNASNet', arch=PUBLISHED)
    assert detector_cost(cfg, None, 64) == from_supernet


def test_bad_arguments():
    cfg = Config.fromfile(RETINANET)
    with pytest.raises(ValueError, match='No arch'):
        detector_cost(cfg, None, 64)
    with pytest.raises(ValueError, match='input_hw'):
        detector_cost(cfg, PUBLISHED, (0, 64))
    with pytest.raises(ValueError, match=r'\|'):
        detector_cost(cfg, '0000|0000', 64)
    cfg.model.backbone = dict(type='ResNet', depth=18)
    with pytest.raises(ValueError, match='ResNet'):
        detector_cost(cfg, PUBLISHED, 64)
