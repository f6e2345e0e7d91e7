"""FLOPs and params of DetNAS architectures from a per-block lookup table.

The table is made once per (space, input size) by counting every distinct
block with mmengine's FLOPs counter; after that, the cost of an
architecture is a sum of table entries, cheap enough to call millions of
times inside a search. FLOPs are multiply-accumulates, the convention of
the DetNAS and ShuffleNetV2 papers, in one of two counts:

- ``'official'`` (the default): what the official DetNAS code counts, only
  ``Conv2d`` (``in * out * h * w * kh * kw / groups``) and, in the ImageNet
  form, the ``Linear`` classifier (``in * out``). The search's 300M limit
  is on this count of the detection body (stem and blocks, no last conv)
  at 224x224 (``distributed_arch_search/search.py`` and
  ``maskrcnn_benchmark/utils/complexity.py`` of megvii-model/DetNAS).
- ``'full'``: every op mmengine's analyzer counts, BN (one operation per
  element) and pooling included, as ``tools/analysis_tools/get_flops.py``
  of mmdet reports a model.
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
FLOPS_COUNTS = ('official', 'full')
# Operators of the official count: convolutions and the classifier.
_OFFICIAL_OPS = ('conv', 'linear', 'addmm', 'matmul', 'mm')


def _hw(size: SizeLike) -> Tuple[int, int]:
    if isinstance(size, int):
        return size, size
    size = tuple(int(s) for s in size)
    if len(size) != 2 or min(size) < 1:
        raise ValueError(f'input size must be an int or (height, width), '
                         f'got {size!r}')
    return size


def check_flops_count(count: str) -> str:
    if count not in FLOPS_COUNTS:
        raise ValueError(f'FLOPs count must be one of {FLOPS_COUNTS} '
                         f'(official: conv and linear only, as the DetNAS '
                         f'code; full: every op, BN included), got '
                         f'{count!r}')
    return count


def _count(module: nn.Module, shape) -> Tuple[int, int, int]:
    """Official FLOPs, full FLOPs and params of a module on one input."""
    module.eval()
    with torch.no_grad():
        analyzer = FlopAnalyzer(module, torch.zeros(1, *shape))
        analyzer.unsupported_ops_warnings(False)
        analyzer.uncalled_modules_warnings(False)
        by_op = analyzer.by_operator()
    official = sum(v for k, v in by_op.items() if k in _OFFICIAL_OPS)
    return (int(official), int(sum(by_op.values())),
            sum(p.numel() for p in module.parameters()))


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
        # [count][block, choice]: 0 official, 1 full (see FLOPS_COUNTS).
        self.block_flops = np.zeros((2, space.num_blocks, num_choices),
                                    np.int64)
        self.block_params = np.zeros((space.num_blocks, num_choices),
                                     np.int64)
        # Stem (stride 2), then each stage halves the size (ceil: padded
        # convs of odd kernels).
        h, w = (math.ceil(s / 2) for s in self.input_size)
        *stem_flops, self.stem_params = _count(
            ConvModule(3, space.stem_channels, 3, 2, 1,
                       norm_cfg=dict(type='BN')), (3, *self.input_size))
        self.stem_flops = np.asarray(stem_flops, np.int64)
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
                for c, (official, full, params) in costs.items():
                    self.block_flops[:, block, c] = (official, full)
                    self.block_params[block, c] = params
                if i == 0:
                    h, w = math.ceil(h / 2), math.ceil(w / 2)
                in_channels, block = out_channels, block + 1
        # The ImageNet form's last 1x1 conv, pooling and classifier.
        head = nn.Sequential(
            ConvModule(in_channels, space.last_channels, 1,
                       norm_cfg=dict(type='BN')), nn.AdaptiveAvgPool2d(1),
            nn.Flatten(), nn.Linear(space.last_channels, num_classes))
        *head_flops, self.head_params = _count(head, (in_channels, h, w))
        self.head_flops = np.asarray(head_flops, np.int64)
        self._rows = np.arange(space.num_blocks)

    def cost(self, arch: Union[str, Sequence[int]],
             imagenet_head: bool = False,
             count: str = 'official') -> Tuple[int, int]:
        """FLOPs and params of one architecture.

        Args:
            arch: Gene string or choice digits.
            imagenet_head: Add the ImageNet form's last 1x1 conv, pooling
                and linear classifier to the backbone.
            count: ``'official'`` or ``'full'`` (see the module doc).

        Returns:
            tuple[int, int]: FLOPs (multiply-accumulates) and params.
        """
        path = parse_arch(arch, self.space)
        return self.cost_of_path(path, imagenet_head, check_flops_count(count))

    def cost_of_path(self, path: Sequence[int], imagenet_head: bool = False,
                     count: str = 'official') -> Tuple[int, int]:
        """Like :meth:`cost` for an already validated path (faster)."""
        k = FLOPS_COUNTS.index(count)
        flops = int(self.stem_flops[k]) + int(
            self.block_flops[k, self._rows, path].sum())
        params = self.stem_params + int(self.block_params[self._rows,
                                                          path].sum())
        if imagenet_head:
            flops += int(self.head_flops[k])
            params += self.head_params
        return flops, params

    def bounds(self, imagenet_head: bool = False,
               count: str = 'official') -> Tuple[int, int]:
        """Smallest and largest FLOPs any architecture of the space has."""
        k = FLOPS_COUNTS.index(check_flops_count(count))
        table = self.block_flops[k][:, list(self.space.choices)]
        extra = int(self.stem_flops[k])
        if imagenet_head:
            extra += int(self.head_flops[k])
        return int(table.min(1).sum()) + extra, int(
            table.max(1).sum()) + extra

    def params_bounds(self) -> Tuple[int, int]:
        """Smallest and largest backbone params of the space."""
        table = self.block_params[:, list(self.space.choices)]
        return (self.stem_params + int(table.min(1).sum()),
                self.stem_params + int(table.max(1).sum()))


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
             input_size: SizeLike = 224, imagenet_head: bool = False,
             count: str = 'official') -> int:
    """FLOPs (multiply-accumulates) of an architecture from the table."""
    return get_cost_table(space, input_size).cost(arch, imagenet_head,
                                                  count)[0]


def params_of(arch: Union[str, Sequence[int]], space: SpaceLike,
              imagenet_head: bool = False) -> int:
    """Parameters of an architecture (independent of the input size)."""
    return get_cost_table(space, 224).cost(arch, imagenet_head)[1]
