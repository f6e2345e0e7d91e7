import pytest
from mmdet.registry import MODELS as MMDET_MODELS
from mmengine.registry import HOOKS as ROOT_HOOKS
from mmengine.registry import MODELS as ROOT_MODELS
from mmengine.registry import TASK_UTILS as ROOT_TASK_UTILS
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS

from detnas_mm.models.backbones import DetNASNet, DetNASSupernet


@pytest.mark.parametrize('registry', [MMDET_MODELS, MMPRETRAIN_MODELS,
                                      ROOT_MODELS])
def test_backbones_build_from_every_scope(registry):
    supernet = registry.build(dict(type='detnas_mm.DetNASSupernet',
                                   space='300M'))
    net = registry.build(dict(type='detnas_mm.DetNASNet', space='300M',
                              arch='2120|2112|33130031|3132'))
    assert isinstance(supernet, DetNASSupernet)
    assert isinstance(net, DetNASNet)


def test_hooks_and_samplers_resolve_from_root():
    assert ROOT_HOOKS.get('detnas_mm.PathSamplerHook') is not None
    assert ROOT_TASK_UTILS.get('detnas_mm.FairPathSampler') is not None


def test_feature_info_configures_a_neck():
    backbone = DetNASSupernet('1.3G')
    assert backbone.out_channels == (96, 240, 480, 960)
    assert [i['stride'] for i in backbone.feature_info] == [4, 8, 16, 32]
    # In mmdet's scope whatever an earlier test left as the default one.
    with DefaultScope.overwrite_default_scope('mmdet'):
        neck = MMDET_MODELS.build(
            dict(type='FPN', in_channels=list(backbone.out_channels),
                 out_channels=32, num_outs=5))
    assert neck.in_channels == [96, 240, 480, 960]
