"""The four choice ops of a DetNAS block and the block that holds them.

The structure follows the published DetNAS/SPOS code, so that published
architectures and checkpoints mean the same thing here.
"""
from typing import Sequence

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule

from .search_space import CHOICE_KERNELS, CHOICE_OPS


def shuffle_split(x: torch.Tensor):
    """Channel shuffle and split in one step, as in the official code.

    Even channels pass through, odd channels enter the main branch; this is
    a two-group channel shuffle followed by a split in halves.
    """
    n, c, h, w = x.shape
    x = x.reshape(n * c // 2, 2, h * w).permute(1, 0, 2)
    x = x.reshape(2, -1, c // 2, h, w)
    return x[0], x[1]


class _ShuffleOp(BaseModule):
    """Shared two-branch structure of the ShuffleNetV2 and Xception blocks.

    Stride 1: half of the (shuffled) channels pass through, the other half
    go through the main branch. Stride 2: the main branch takes the whole
    input and makes ``out - in`` channels, a projection branch makes ``in``.
    """

    def __init__(self, in_channels, out_channels, stride, kernel_size,
                 norm_cfg, act_cfg, with_cp):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f'stride must be 1 or 2, got {stride}')
        if stride == 1 and in_channels != out_channels:
            raise ValueError(f'a stride-1 block keeps its channels, got '
                             f'{in_channels} -> {out_channels}')
        self.stride = stride
        self.with_cp = with_cp
        self.mid_channels = out_channels // 2
        if stride == 1:
            self.branch_in, self.branch_out = in_channels // 2, \
                out_channels // 2
        else:
            self.branch_in, self.branch_out = in_channels, \
                out_channels - in_channels
            self.branch_proj = nn.Sequential(
                ConvModule(in_channels, in_channels, kernel_size, stride=2,
                           padding=kernel_size // 2, groups=in_channels,
                           norm_cfg=norm_cfg, act_cfg=None),
                ConvModule(in_channels, in_channels, 1, norm_cfg=norm_cfg,
                           act_cfg=act_cfg))

    def _forward(self, x):
        if self.stride == 1:
            x_proj, x_main = shuffle_split(x)
            return torch.cat((x_proj, self.branch_main(x_main)), 1)
        return torch.cat((self.branch_proj(x), self.branch_main(x)), 1)

    def forward(self, x):
        if self.with_cp and x.requires_grad:
            return cp.checkpoint(self._forward, x, use_reentrant=False)
        return self._forward(x)


class ShuffleNetV2Block(_ShuffleOp):
    """ShuffleNetV2 block: 1x1 conv, depthwise k x k conv, 1x1 conv.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): 1, or 2 for the first block of a stage.
        kernel_size (int): Depthwise kernel size (3, 5 or 7 in DetNAS).
        norm_cfg (dict): Config of every norm layer.
        act_cfg (dict): Config of the activations.
        with_cp (bool): Use gradient checkpointing to save memory.
    """

    def __init__(self, in_channels, out_channels, stride, kernel_size=3,
                 norm_cfg=dict(type='BN'), act_cfg=dict(type='ReLU'),
                 with_cp=False):
        super().__init__(in_channels, out_channels, stride, kernel_size,
                         norm_cfg, act_cfg, with_cp)
        mid = self.mid_channels
        self.branch_main = nn.Sequential(
            ConvModule(self.branch_in, mid, 1, norm_cfg=norm_cfg,
                       act_cfg=act_cfg),
            ConvModule(mid, mid, kernel_size, stride=stride,
                       padding=kernel_size // 2, groups=mid,
                       norm_cfg=norm_cfg, act_cfg=None),
            ConvModule(mid, self.branch_out, 1, norm_cfg=norm_cfg,
                       act_cfg=act_cfg))


class ShuffleXceptionBlock(_ShuffleOp):
    """Xception-like block: three [depthwise 3x3 conv, 1x1 conv].

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): 1, or 2 for the first block of a stage; the first
            depthwise conv carries it.
        norm_cfg (dict): Config of every norm layer.
        act_cfg (dict): Config of the activations.
        with_cp (bool): Use gradient checkpointing to save memory.
    """

    def __init__(self, in_channels, out_channels, stride,
                 norm_cfg=dict(type='BN'), act_cfg=dict(type='ReLU'),
                 with_cp=False):
        super().__init__(in_channels, out_channels, stride, 3, norm_cfg,
                         act_cfg, with_cp)
        mid = self.mid_channels

        def dw(channels, dw_stride):
            return ConvModule(channels, channels, 3, stride=dw_stride,
                              padding=1, groups=channels, norm_cfg=norm_cfg,
                              act_cfg=None)

        def pw(cin, cout):
            return ConvModule(cin, cout, 1, norm_cfg=norm_cfg,
                              act_cfg=act_cfg)

        self.branch_main = nn.Sequential(
            dw(self.branch_in, stride), pw(self.branch_in, mid),
            dw(mid, 1), pw(mid, mid),
            dw(mid, 1), pw(mid, self.branch_out))


def build_choice_op(choice: int, in_channels: int, out_channels: int,
                    stride: int, norm_cfg: dict, act_cfg: dict,
                    with_cp: bool = False) -> nn.Module:
    """Build the op of one gene digit (see ``CHOICE_OPS``)."""
    if choice not in range(len(CHOICE_OPS)):
        raise ValueError(f'choice must be one of '
                         f'{tuple(range(len(CHOICE_OPS)))} '
                         f'({", ".join(CHOICE_OPS)}), got {choice!r}')
    if CHOICE_OPS[choice] == 'xception':
        return ShuffleXceptionBlock(in_channels, out_channels, stride,
                                    norm_cfg, act_cfg, with_cp)
    return ShuffleNetV2Block(in_channels, out_channels, stride,
                             CHOICE_KERNELS[choice], norm_cfg, act_cfg,
                             with_cp)


class ChoiceBlock(BaseModule):
    """One block position: its candidate ops, of which one runs.

    The supernet builds every choice of the space here; a standalone
    DetNASNet builds only the chosen one. Both key the ops by gene digit
    (``ops.<digit>.*``), so a standalone network's state dict is a subset of
    the supernet's.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): 1, or 2 for the first block of a stage.
        choices (Sequence[int]): Gene digits to build.
        norm_cfg (dict): Config of every norm layer of every op.
        act_cfg (dict): Config of the activations.
        with_cp (bool): Use gradient checkpointing to save memory.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int,
                 choices: Sequence[int], norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'), with_cp: bool = False):
        super().__init__()
        self.choices = tuple(choices)
        self.ops = nn.ModuleDict({
            str(c): build_choice_op(c, in_channels, out_channels, stride,
                                    norm_cfg, act_cfg, with_cp)
            for c in self.choices
        })
        self.choice = self.choices[0]

    def set_choice(self, choice: int):
        if choice not in self.choices:
            raise ValueError(f'choice {choice!r} is not built in this block;'
                             f' built choices: {list(self.choices)}')
        self.choice = choice

    def forward(self, x):
        return self.ops[str(self.choice)](x)
