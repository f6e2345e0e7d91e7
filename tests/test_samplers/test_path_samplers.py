import json
import os
from collections import Counter

import numpy as np
import pytest
import torch.distributed as torch_dist
import torch.multiprocessing as mp

from detnas_mm.cost import get_cost_table
from detnas_mm.registry import TASK_UTILS
from detnas_mm.samplers import (FairPathSampler, FlopsConstrainedPathSampler,
                                UniformPathSampler, build_path_sampler)
from tests.utils import free_port

SAMPLERS = {
    'uniform': dict(type='detnas_mm.UniformPathSampler'),
    'fair': dict(type='detnas_mm.FairPathSampler'),
    'flops': dict(type='detnas_mm.FlopsConstrainedPathSampler',
                  min_flops=250e6, max_flops=330e6),
}


@pytest.mark.parametrize('name', SAMPLERS)
def test_same_seed_same_sequence(name):
    a = build_path_sampler(dict(SAMPLERS[name], seed=3), '300M')
    b = build_path_sampler(dict(SAMPLERS[name], seed=3), '300M')
    c = build_path_sampler(dict(SAMPLERS[name], seed=4), '300M')
    seq_a = [a.sample() for _ in range(12)]
    assert seq_a == [b.sample() for _ in range(12)]
    assert seq_a != [c.sample() for _ in range(12)]


@pytest.mark.parametrize('name', SAMPLERS)
def test_state_dict_resumes_sequence(name):
    a = build_path_sampler(dict(SAMPLERS[name], seed=1), '300M')
    for _ in range(5):
        a.sample()
    state = json.loads(json.dumps(a.state_dict()))  # survives serialising
    expected = [a.sample() for _ in range(9)]
    b = build_path_sampler(dict(SAMPLERS[name], seed=99), '300M')
    b.load_state_dict(state)
    assert [b.sample() for _ in range(9)] == expected


def test_fair_sampler_counts_are_equal():
    sampler = FairPathSampler('1.3G', seed=0)
    for steps in (4, 8, 40):
        sampler = FairPathSampler('1.3G', seed=steps)
        paths = np.array([sampler.sample() for _ in range(steps)])
        for block in range(paths.shape[1]):
            counts = Counter(paths[:, block].tolist())
            assert counts == {c: steps // 4 for c in range(4)}


def test_flops_sampler_official_imagenet_bins():
    # The official sampler: 7 bins of 10M in [290M, 360M] over the official
    # count (conv + fc) of the ImageNet form.
    sampler = FlopsConstrainedPathSampler('300M', 290e6, 360e6, num_bins=7,
                                          imagenet_head=True, seed=0)
    table = get_cost_table('300M')
    flops = [table.cost_of_path(sampler.sample(), True)[0]
             for _ in range(200)]
    # The edge bins are rare among uniform paths: a miss now and then falls
    # back to an unconstrained path, as officially.
    assert sampler.num_fallbacks <= 5
    inside = [f for f in flops if 290e6 <= f <= 360e6]
    assert len(inside) >= len(flops) - sampler.num_fallbacks
    # Bins are drawn uniformly, so the top bin is visited as often as any.
    assert sum(f >= 350e6 for f in flops) > 10
    assert sum(f < 300e6 for f in flops) > 10


def test_flops_sampler_falls_back_to_a_uniform_path(caplog):
    table = get_cost_table('300M')
    low = table.bounds()[0]
    # Only the top bin holds paths (barely): most draws must fall back.
    sampler = FlopsConstrainedPathSampler('300M', low - 60e6, low + 1e6,
                                          num_bins=6, max_tries=20, seed=0)
    paths = [sampler.sample() for _ in range(10)]
    assert sampler.num_fallbacks >= 5
    flops = [table.cost_of_path(p)[0] for p in paths]
    assert max(flops) > low + 1e6  # unconstrained paths came out
    assert sampler.state_dict()['num_fallbacks'] == sampler.num_fallbacks


def test_flops_sampler_empty_range_is_refused():
    with pytest.raises(ValueError, match=r'FLOPs range \[1e\+09, 2e\+09\] is '
                       r"empty for space '300M'.*architectures have"):
        FlopsConstrainedPathSampler('300M', 1e9, 2e9)
    with pytest.raises(ValueError, match='must be smaller than'):
        FlopsConstrainedPathSampler('300M', 3e8, 2e8)


def test_samplers_are_registered():
    for name in ('UniformPathSampler', 'FairPathSampler',
                 'FlopsConstrainedPathSampler'):
        assert TASK_UTILS.get(f'detnas_mm.{name}') is not None
    assert isinstance(build_path_sampler(SAMPLERS['uniform'], '300M'),
                      UniformPathSampler)


def _sample_on_rank(rank, world_size, port, out_dir, name):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch_dist.init_process_group('gloo', rank=rank, world_size=world_size)
    # Different seeds per rank: identical paths can only come from the
    # broadcast of rank 0's draw.
    sampler = build_path_sampler(dict(SAMPLERS[name], seed=rank), '300M')
    paths = [sampler.sample() for _ in range(10)]
    with open(os.path.join(out_dir, f'{rank}.json'), 'w') as f:
        json.dump(paths, f)
    torch_dist.destroy_process_group()


# Two spawned processes, each importing torch and the package (~10 s).
@pytest.mark.e2e
@pytest.mark.parametrize('name', ['uniform', 'fair'])
def test_two_process_gloo_ranks_get_identical_paths(tmp_path, name):
    mp.spawn(_sample_on_rank, args=(2, free_port(), str(tmp_path), name),
             nprocs=2)
    rank0 = json.loads((tmp_path / '0.json').read_text())
    rank1 = json.loads((tmp_path / '1.json').read_text())
    assert rank0 == rank1
    expected = build_path_sampler(dict(SAMPLERS[name], seed=0), '300M')
    assert rank0 == [list(expected.sample()) for _ in range(10)]
