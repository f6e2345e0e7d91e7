import json
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn

from detnas_mm.engine.hooks import IterationSeedHook, PathSamplerHook
from detnas_mm.models.backbones import DetNASSupernet, format_arch
from detnas_mm.models.utils import find_supernet
from detnas_mm.registry import HOOKS
from detnas_mm.samplers import UniformPathSampler

SPACE = dict(depths=(1, 2), stem_channels=8, stage_channels=(16, 32),
             last_channels=32)


class TinyModel(nn.Module):

    def __init__(self):
        super().__init__()
        self.backbone = DetNASSupernet(SPACE, out_indices=(1, ))


def fake_runner(work_dir, resume=False):
    """The parts of a Runner the hook touches."""
    return SimpleNamespace(model=TinyModel(), work_dir=str(work_dir), iter=0,
                           _resume=resume, seed=0)


def train_iters(hook, runner, start, stop):
    paths = []
    for it in range(start, stop):
        runner.iter = it
        hook.before_train_iter(runner, it)
        paths.append(find_supernet(runner.model).path)
    return paths


def read_record(work_dir, rank=0):
    with open(work_dir / f'paths_rank{rank}.jsonl') as f:
        return [json.loads(line) for line in f]


def test_sets_the_sampled_path_every_iteration(tmp_path):
    hook = HOOKS.build(
        dict(type='detnas_mm.PathSamplerHook',
             sampler=dict(type='detnas_mm.UniformPathSampler', seed=5)))
    runner = fake_runner(tmp_path)
    hook.before_run(runner)
    reference = UniformPathSampler(SPACE, seed=5)
    assert train_iters(hook, runner, 0, 6) == [
        reference.sample() for _ in range(6)
    ]


def test_record_holds_every_iteration(tmp_path):
    hook = PathSamplerHook(
        sampler=dict(type='detnas_mm.UniformPathSampler', seed=1),
        record_paths=True)
    runner = fake_runner(tmp_path)
    hook.before_run(runner)
    hook.before_train(runner)
    paths = train_iters(hook, runner, 0, 5)
    hook.after_train(runner)
    space = find_supernet(runner.model).space
    assert read_record(tmp_path) == [
        dict(iter=i, arch=format_arch(p, space)) for i, p in enumerate(paths)
    ]


def test_resume_continues_the_sequence_and_the_record(tmp_path):
    sampler = dict(type='detnas_mm.UniformPathSampler', seed=2)
    # Uninterrupted: 8 iterations.
    full = PathSamplerHook(sampler, record_paths=True)
    runner = fake_runner(tmp_path / 'full')
    (tmp_path / 'full').mkdir()
    full.before_run(runner)
    full.before_train(runner)
    expected = train_iters(full, runner, 0, 8)
    full.after_train(runner)

    # Interrupted: checkpoint after 3 iterations, killed after 5.
    work_dir = tmp_path / 'cut'
    work_dir.mkdir()
    hook = PathSamplerHook(sampler, record_paths=True)
    runner = fake_runner(work_dir)
    hook.before_run(runner)
    hook.before_train(runner)
    train_iters(hook, runner, 0, 3)
    checkpoint = {}
    hook.before_save_checkpoint(runner, checkpoint)
    checkpoint = json.loads(json.dumps(checkpoint))  # survives saving
    train_iters(hook, runner, 3, 5)
    hook.after_train(runner)
    assert len(read_record(work_dir)) == 5

    # Resumed from the checkpoint at iteration 3.
    hook = PathSamplerHook(sampler, record_paths=True)
    runner = fake_runner(work_dir, resume=True)
    hook.before_run(runner)
    hook.after_load_checkpoint(runner, checkpoint)
    runner.iter = 3
    hook.before_train(runner)
    assert train_iters(hook, runner, 3, 8) == expected[3:]
    hook.after_train(runner)
    assert read_record(work_dir) == read_record(tmp_path / 'full')


def test_load_from_starts_a_fresh_sequence(tmp_path):
    """Loading weights (not resuming) must not continue another run."""
    sampler = dict(type='detnas_mm.UniformPathSampler', seed=0)
    hook = PathSamplerHook(sampler)
    runner = fake_runner(tmp_path)
    hook.before_run(runner)
    train_iters(hook, runner, 0, 4)
    checkpoint = {}
    hook.before_save_checkpoint(runner, checkpoint)

    # The pretraining checkpoint's sampler is of another type.
    checkpoint['path_sampler']['type'] = 'FlopsConstrainedPathSampler'
    fresh = PathSamplerHook(sampler)
    runner = fake_runner(tmp_path, resume=False)
    fresh.before_run(runner)
    fresh.after_load_checkpoint(runner, checkpoint)
    reference = UniformPathSampler(SPACE, seed=0)
    assert train_iters(fresh, runner, 0, 3) == [
        reference.sample() for _ in range(3)
    ]


def test_val_arch_is_set_for_validation_and_checked_early(tmp_path):
    hook = PathSamplerHook(val_arch='3|12')
    runner = fake_runner(tmp_path)
    hook.before_run(runner)
    train_iters(hook, runner, 0, 2)
    hook.before_val_epoch(runner)
    assert find_supernet(runner.model).arch == '3|12'
    with pytest.raises(ValueError, match='1/2'):
        PathSamplerHook(val_arch='31|2').before_run(runner)


def test_find_supernet_refuses_other_backbones():
    model = nn.Module()
    model.backbone = nn.Conv2d(3, 3, 1)
    with pytest.raises(TypeError, match='Conv2d'):
        find_supernet(model)


def draw_after(hook, runner):
    hook.before_train_iter(runner, runner.iter)
    return torch.rand(4)


def test_iteration_seed_depends_only_on_seed_and_iteration():
    hook = HOOKS.build(dict(type='detnas_mm.IterationSeedHook', seed=3))
    runner = SimpleNamespace(iter=7, seed=0)
    first = draw_after(hook, runner)
    torch.rand(100)  # whatever ran before must not matter
    assert torch.equal(draw_after(hook, runner), first)
    runner.iter = 8
    assert not torch.equal(draw_after(hook, runner), first)
    # Without a seed of its own the hook takes the runner's.
    runner.iter, runner.seed = 7, 3
    assert torch.equal(draw_after(IterationSeedHook(), runner), first)
    runner.seed = 4
    assert not torch.equal(draw_after(IterationSeedHook(), runner), first)


@pytest.mark.parametrize('seed', [-1, 1.5, '0'])
def test_iteration_seed_rejects_bad_seeds(seed):
    with pytest.raises(ValueError, match='seed'):
        IterationSeedHook(seed)
