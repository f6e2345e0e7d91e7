"""Path samplers: which supernet path trains at the next iteration.

A sampler is a small seeded object. In a distributed run the path is drawn
on rank 0 and broadcast, so every rank trains the same path; the sampler
state (RNG and any pending schedule) goes into checkpoints so a resumed run
continues the same sequence.
"""
import copy
import logging
from typing import Optional, Sequence, Tuple

import numpy as np
from mmengine import dist
from mmengine.logging import print_log

from detnas_mm.cost.lookup_table import check_flops_count, get_cost_table
from detnas_mm.models.backbones.search_space import SpaceLike, get_search_space
from detnas_mm.registry import TASK_UTILS

Path = Tuple[int, ...]


class BasePathSampler:
    """Seeded path sampler; subclasses implement :meth:`_draw`.

    Args:
        space: The search space.
        seed: Seed of the sampler's RNG (the same on every rank).
    """

    def __init__(self, space: SpaceLike, seed: int = 0):
        self.space = get_search_space(space)
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self._choices = np.asarray(self.space.choices)

    def _draw(self) -> Path:
        raise NotImplementedError

    def _uniform_path(self) -> Path:
        picks = self.rng.integers(0, len(self._choices),
                                  self.space.num_blocks)
        return tuple(int(c) for c in self._choices[picks])

    def sample(self) -> Path:
        """Draw the next path; in a distributed run rank 0 draws for all."""
        if dist.get_world_size() == 1:
            return self._draw()
        path = [self._draw() if dist.get_rank() == 0 else None]
        dist.broadcast_object_list(path, src=0)
        return tuple(path[0])

    def state_dict(self) -> dict:
        return dict(type=type(self).__name__,
                    rng=copy.deepcopy(self.rng.bit_generator.state))

    def load_state_dict(self, state: dict):
        if state.get('type') != type(self).__name__:
            raise ValueError(f'Sampler state of {state.get("type")!r} cannot '
                             f'be loaded into {type(self).__name__}')
        self.rng.bit_generator.state = state['rng']


@TASK_UTILS.register_module()
class UniformPathSampler(BasePathSampler):
    """Every block picks its choice independently and uniformly (SPOS)."""

    def _draw(self) -> Path:
        return self._uniform_path()


@TASK_UTILS.register_module()
class FlopsConstrainedPathSampler(BasePathSampler):
    """The official DetNAS sampler: a FLOPs bin, then a path in it.

    Each draw picks one of ``num_bins`` equal FLOPs bins of
    ``[min_flops, max_flops]`` uniformly, then draws uniform paths until one
    falls into it. After ``max_tries`` misses it takes one unconstrained
    uniform path, as the official ``get_uniform_sample_cand(timeout=500)``
    of ``Supernet-ImageNet/train.py`` does, and logs it (the count of such
    fallbacks is in :attr:`num_fallbacks` and in the sampler state).

    Args:
        space: The search space.
        min_flops: Lower FLOPs bound (multiply-accumulates).
        max_flops: Upper FLOPs bound.
        num_bins: Number of equal FLOPs bins in the range.
        input_size: Input size at which FLOPs are counted (224 as in the
            paper).
        imagenet_head: Count the ImageNet form's last conv and classifier
            (the official ImageNet bins do).
        count: ``'official'`` (conv + linear, the DetNAS code's count) or
            ``'full'`` (see :mod:`detnas_mm.cost.lookup_table`).
        max_tries: Uniform paths tried in a bin before the fallback.
        seed: RNG seed.
    """

    def __init__(self, space: SpaceLike, min_flops: float, max_flops: float,
                 num_bins: int = 7, input_size=224,
                 imagenet_head: bool = False, count: str = 'official',
                 max_tries: int = 500, seed: int = 0):
        super().__init__(space, seed)
        if not min_flops < max_flops:
            raise ValueError(f'min_flops ({min_flops}) must be smaller than '
                             f'max_flops ({max_flops})')
        if num_bins < 1 or max_tries < 1:
            raise ValueError(f'num_bins ({num_bins}) and max_tries '
                             f'({max_tries}) must be positive')
        self.table = get_cost_table(self.space, input_size)
        self.imagenet_head = imagenet_head
        self.count = check_flops_count(count)
        low, high = self.table.bounds(imagenet_head, count)
        if max_flops < low or min_flops > high:
            raise ValueError(
                f'FLOPs range [{min_flops:.4g}, {max_flops:.4g}] is empty '
                f'for space {self.space.name!r}: its architectures have '
                f'[{low:.4g}, {high:.4g}] FLOPs ({count} count) at input '
                f'{input_size}')
        self.edges = np.linspace(min_flops, max_flops, num_bins + 1)
        self.max_tries = max_tries
        self.num_fallbacks = 0

    def flops(self, path: Sequence[int]) -> int:
        return self.table.cost_of_path(path, self.imagenet_head,
                                       self.count)[0]

    def _draw(self) -> Path:
        b = int(self.rng.integers(0, len(self.edges) - 1))
        low, high = self.edges[b], self.edges[b + 1]
        for _ in range(self.max_tries):
            path = self._uniform_path()
            if low <= self.flops(path) <= high:
                return path
        self.num_fallbacks += 1
        print_log(
            f'FlopsConstrainedPathSampler: no path in the FLOPs bin '
            f'[{low / 1e6:.1f}M, {high / 1e6:.1f}M] after {self.max_tries} '
            f'draws; took an unconstrained uniform path (as the official '
            f'sampler does; {self.num_fallbacks} so far)',
            logger='current', level=logging.WARNING)
        return self._uniform_path()

    def state_dict(self) -> dict:
        state = super().state_dict()
        state['num_fallbacks'] = self.num_fallbacks
        return state

    def load_state_dict(self, state: dict):
        super().load_state_dict(state)
        self.num_fallbacks = state.get('num_fallbacks', 0)


@TASK_UTILS.register_module()
class FairPathSampler(BasePathSampler):
    """FairNAS strict fairness: every op of every block trains equally often.

    Steps come in groups of ``len(choices)``; within a group every block
    takes each of its choices exactly once, in an independently shuffled
    order. After any multiple of ``len(choices)`` steps every op of every
    block has been chosen the same number of times.
    """

    def __init__(self, space: SpaceLike, seed: int = 0):
        super().__init__(space, seed)
        self._pending: Optional[np.ndarray] = None
        self._step = 0

    def _draw(self) -> Path:
        n = len(self._choices)
        if self._pending is None or self._step == n:
            self._pending = np.stack([
                self.rng.permutation(self._choices)
                for _ in range(self.space.num_blocks)
            ], 1)
            self._step = 0
        path = tuple(int(c) for c in self._pending[self._step])
        self._step += 1
        return path

    def state_dict(self) -> dict:
        state = super().state_dict()
        state.update(
            pending=None if self._pending is None else self._pending.tolist(),
            step=self._step)
        return state

    def load_state_dict(self, state: dict):
        super().load_state_dict(state)
        pending = state['pending']
        self._pending = None if pending is None else np.asarray(pending)
        self._step = state['step']


def build_path_sampler(cfg: dict, space: SpaceLike) -> BasePathSampler:
    """Build a sampler from its config for the given space."""
    return TASK_UTILS.build(cfg, default_args=dict(space=space))
