"""FLOPs and params of DetNAS architectures from a per-block lookup table.

The table is made once per (space, input size) by counting every distinct
block with mmengine's FLOPs counter (the same counter the whole-model check
uses); after that, the cost of an architecture is a sum of table entries,
cheap enough to call millions of times inside a search. FLOPs here are
multiply-accumulates, the convention of the DetNAS and ShuffleNetV2 papers.
"""
import math
from functools import lru_cache
from typing import Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.analysis import FlopAnalyzer

from detnas_mm.models.backbones.choice_blocks import build_choice_op
from detnas_mm.models.backbones.search_space import (SearchSpace, SpaceLike,
                                                     get_search_space,
                                                     parse_arch)

SizeLike = Union[int, Sequence[int]]


def _hw(size: SizeLike) -> Tuple[int, int]:
    if isinstance(size, int):
        return size, size
    size = tuple(int(s) for s in size)
    if len(size) != 2 or min(size) < 1:
        raise ValueError(f'input size must be an int or (height, width), '
                         f'got {size!r}')
    return size


def _count(module: nn.Module, shape) -> Tuple[int, int]:
    module.eval()
    with torch.no_grad():
        analyzer = FlopAnalyzer(module, torch.zeros(1, *shape))
        analyzer.unsupported_ops_warnings(False)
        analyzer.uncalled_modules_warnings(False)
        flops = analyzer.total()
    return int(flops), sum(p.numel() for p in module.parameters())


class CostTable:
    """Per-block FLOPs and params of every choice for one input size.

    Args:
        space: The search space.
        input_size: Input image size, an int or ``(height, width)``.
        num_classes: Classes of the ImageNet form's linear classifier.
    """

    def __init__(self, space: SpaceLike, input_size: SizeLike = 224,
                 num_classes: int = 1000):
        self.space: SearchSpace = get_search_space(space)
        self.input_size = _hw(input_size)
        self.num_classes = num_classes
        space = self.space
        num_choices = max(space.choices) + 1
        self.block_flops = np.zeros((space.num_blocks, num_choices), np.int64)
        self.block_params = np.zeros_like(self.block_flops)
        # Stem (stride 2), then each stage halves the size (ceil: padded
        # convs of odd kernels).
        h, w = (math.ceil(s / 2) for s in self.input_size)
        self.stem_flops, self.stem_params = _count(
            ConvModule(3, space.stem_channels, 3, 2, 1,
                       norm_cfg=dict(type='BN')), (3, *self.input_size))
        in_channels, block = space.stem_channels, 0
        for depth, out_channels in zip(space.depths, space.stage_channels):
            for i in range(depth):
                stride = 2 if i == 0 else 1
                if i <= 1:  # blocks after the first of a stage are alike
                    costs = {
                        c: _count(
                            build_choice_op(c, in_channels, out_channels,
                                            stride, dict(type='BN'),
                                            dict(type='ReLU')),
                            (in_channels, h, w))
                        for c in space.choices
                    }
                for c, (flops, params) in costs.items():
                    self.block_flops[block, c] = flops
                    self.block_params[block, c] = params
                if i == 0:
                    h, w = math.ceil(h / 2), math.ceil(w / 2)
                in_channels, block = out_channels, block + 1
        head = nn.Sequential(
            ConvModule(in_channels, space.last_channels, 1,
                       norm_cfg=dict(type='BN')), nn.AdaptiveAvgPool2d(1),
            nn.Flatten(), nn.Linear(space.last_channels, num_classes))
        self.head_flops, self.head_params = _count(head, (in_channels, h, w))
        self._rows = np.arange(space.num_blocks)

    def cost(self, arch: Union[str, Sequence[int]],
             imagenet_head: bool = False) -> Tuple[int, int]:
        """FLOPs and params of one architecture.

        Args:
            arch: Gene string or choice digits.
            imagenet_head: Add the ImageNet form's last 1x1 conv, pooling
                and linear classifier to the backbone.

        Returns:
            tuple[int, int]: FLOPs (multiply-accumulates) and params.
        """
        path = parse_arch(arch, self.space)
        return self.cost_of_path(path, imagenet_head)

    def cost_of_path(self, path: Sequence[int],
                     imagenet_head: bool = False) -> Tuple[int, int]:
        """Like :meth:`cost` for an already validated path (faster)."""
        flops = self.stem_flops + int(self.block_flops[self._rows,
                                                       path].sum())
        params = self.stem_params + int(self.block_params[self._rows,
                                                          path].sum())
        if imagenet_head:
            flops += self.head_flops
            params += self.head_params
        return flops, params

    def bounds(self, imagenet_head: bool = False) -> Tuple[int, int]:
        """Smallest and largest FLOPs any architecture of the space has."""
        cols = list(self.space.choices)
        low = self.block_flops[:, cols].min(1).sum()
        high = self.block_flops[:, cols].max(1).sum()
        extra = self.stem_flops + (self.head_flops if imagenet_head else 0)
        return int(low + extra), int(high + extra)


@lru_cache(maxsize=32)
def _cached_table(space: SearchSpace, input_size: Tuple[int, int],
                  num_classes: int) -> CostTable:
    return CostTable(space, input_size, num_classes)


def get_cost_table(space: SpaceLike, input_size: SizeLike = 224,
                   num_classes: int = 1000) -> CostTable:
    """The (cached) :class:`CostTable` of a space and input size."""
    return _cached_table(get_search_space(space), _hw(input_size),
                         num_classes)


def flops_of(arch: Union[str, Sequence[int]], space: SpaceLike,
             input_size: SizeLike = 224,
             imagenet_head: bool = False) -> int:
    """FLOPs (multiply-accumulates) of an architecture from the table."""
    return get_cost_table(space, input_size).cost(arch, imagenet_head)[0]


def params_of(arch: Union[str, Sequence[int]], space: SpaceLike,
              imagenet_head: bool = False) -> int:
    """Parameters of an architecture (independent of the input size)."""
    return get_cost_table(space, 224).cost(arch, imagenet_head)[1]
