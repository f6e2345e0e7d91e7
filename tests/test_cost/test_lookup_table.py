import pytest
import torch
import torch.nn as nn
from mmengine.analysis import FlopAnalyzer

from detnas_mm.cost import flops_of, get_cost_table, params_of
from detnas_mm.models.backbones import DetNASNet
from detnas_mm.published_archs import PUBLISHED_ARCHS
from tests.utils import random_arch


def traced(model, size):
    """Official (conv + linear) and full FLOPs, params, by tracing."""
    model.eval()
    analyzer = FlopAnalyzer(model, torch.zeros(1, 3, *size))
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    by_op = analyzer.by_operator()
    official = by_op['conv'] + by_op.get('linear', 0)
    return (official, analyzer.total(),
            sum(p.numel() for p in model.parameters()))


def conv_macs_by_hooks(model, size):
    """The official DetNAS formula, in * out * h * w * kh * kw / groups
    with h, w of the output, summed over the Conv2d modules that run."""
    total = [0]

    def hook(m, inputs, output):
        kh, kw = m.kernel_size
        total[0] += (m.in_channels * m.out_channels * output.shape[2] *
                     output.shape[3] * kh * kw // m.groups)

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, nn.Conv2d)]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, *size))
    for h in handles:
        h.remove()
    return total[0]


@pytest.mark.parametrize('space,seed,size', [('300M', 0, (224, 224)),
                                             ('300M', 1, (320, 480)),
                                             ('1.3G', 2, (224, 224))])
def test_table_matches_traced_backbone(space, seed, size):
    arch = random_arch(space, seed)
    table = get_cost_table(space, size)
    flops, params = table.cost(arch)
    full = table.cost(arch, count='full')[0]
    net = DetNASNet(space, arch)
    ref_official, ref_full, ref_params = traced(net, size)
    assert flops == ref_official == conv_macs_by_hooks(net, size)
    assert full == ref_full > flops
    assert params == ref_params


def test_table_matches_traced_imagenet_form():
    arch = random_arch('300M', 3)
    model = nn.Sequential(
        DetNASNet('300M', arch, out_indices=(4, )), LastOutput(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1024, 1000))
    ref_official, ref_full, ref_params = traced(model, (224, 224))
    table = get_cost_table('300M')
    flops, params = table.cost(arch, imagenet_head=True)
    assert flops == ref_official
    assert table.cost(arch, True, 'full')[0] == ref_full
    assert params == ref_params


def test_published_archs_meet_the_official_300M_limit():
    # The official search limits the body (stem + blocks, conv only) at
    # 224 px to 300M: both published COCO 300M archs must pass.
    for name in ('coco_fpn_300M', 'coco_retinanet_300M'):
        space, arch = PUBLISHED_ARCHS[name]
        assert flops_of(arch, space) <= 300e6
    assert flops_of(PUBLISHED_ARCHS['coco_retinanet_300M'][1], '300M',
                    count='full') > 300e6
    with pytest.raises(ValueError, match='FLOPs count must be one of'):
        flops_of('2120|2112|33130031|3132', '300M', count='bn')


class LastOutput(nn.Module):

    def forward(self, outs):
        return outs[-1]


def test_helpers_and_bounds():
    arch = '2120|2112|33130031|3132'
    assert flops_of(arch, '300M') == get_cost_table('300M').cost(arch)[0]
    assert params_of(arch, '300M', imagenet_head=True) > params_of(
        arch, '300M')
    low, high = get_cost_table('300M').bounds()
    assert low < flops_of(arch, '300M') < high
    with pytest.raises(ValueError, match='input size'):
        get_cost_table('300M', (224, 224, 3))
