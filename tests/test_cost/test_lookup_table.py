import random
import time

import pytest
import torch
import torch.nn as nn
from mmengine.analysis import FlopAnalyzer

from detnas_mm.cost import flops_of, get_cost_table, params_of
from detnas_mm.models.backbones import DetNASNet, format_arch, get_search_space


def traced(model, size):
    model.eval()
    analyzer = FlopAnalyzer(model, torch.zeros(1, 3, *size))
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    return analyzer.total(), sum(p.numel() for p in model.parameters())


def random_arch(space, seed):
    space = get_search_space(space)
    rng = random.Random(seed)
    return format_arch([rng.choice(space.choices)
                        for _ in range(space.num_blocks)], space)


@pytest.mark.parametrize('space,seed,size', [('300M', 0, (224, 224)),
                                             ('300M', 1, (320, 480)),
                                             ('1.3G', 2, (224, 224))])
def test_table_matches_traced_backbone(space, seed, size):
    arch = random_arch(space, seed)
    flops, params = get_cost_table(space, size).cost(arch)
    ref_flops, ref_params = traced(DetNASNet(space, arch), size)
    assert abs(flops - ref_flops) <= 0.01 * ref_flops
    assert params == ref_params


def test_table_matches_traced_imagenet_form():
    arch = random_arch('300M', 3)
    model = nn.Sequential(
        DetNASNet('300M', arch, out_indices=(4, )), LastOutput(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1024, 1000))
    ref_flops, ref_params = traced(model, (224, 224))
    flops, params = get_cost_table('300M').cost(arch, imagenet_head=True)
    assert abs(flops - ref_flops) <= 0.01 * ref_flops
    assert params == ref_params


class LastOutput(nn.Module):

    def forward(self, outs):
        return outs[-1]


def test_lookup_is_much_faster_than_tracing():
    arch = random_arch('300M', 4)
    table = get_cost_table('300M')
    start = time.perf_counter()
    for _ in range(100):
        table.cost(arch)
    lookup = (time.perf_counter() - start) / 100
    start = time.perf_counter()
    traced(DetNASNet('300M', arch), (224, 224))
    trace = time.perf_counter() - start
    # The benchmark measures >1000x; a loose bound keeps the test stable.
    assert trace / lookup > 100


def test_helpers_and_bounds():
    arch = '2120|2112|33130031|3132'
    assert flops_of(arch, '300M') == get_cost_table('300M').cost(arch)[0]
    assert params_of(arch, '300M', imagenet_head=True) > params_of(
        arch, '300M')
    low, high = get_cost_table('300M').bounds()
    assert low < flops_of(arch, '300M') < high
    with pytest.raises(ValueError, match='input size'):
        get_cost_table('300M', (224, 224, 3))
