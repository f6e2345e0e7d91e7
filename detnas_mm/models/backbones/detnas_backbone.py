"""What the DetNAS supernet and the standalone DetNASNet have in common."""
from typing import List, Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch.nn.modules.batchnorm import _BatchNorm

from .choice_blocks import ChoiceBlock
from .search_space import SpaceLike, get_search_space


class DetNASBackbone(BaseModule):
    """ShuffleNetV2-style backbone whose blocks are :class:`ChoiceBlock` s.

    Layout: a 3x3 stride-2 stem conv (no max-pool), then stages whose first
    block has stride 2, so stage ``i`` outputs stride ``2 ** (i + 2)``;
    output index ``num_stages`` is the ImageNet form's 1x1 conv to
    ``last_channels`` after the last stage (built only when requested).

    Args:
        space: Search space name, dict or :class:`SearchSpace`.
        block_choices: For every block, the gene digits to build.
        out_indices: Which outputs to return: stage indices, and
            ``num_stages`` for the last 1x1 conv.
        frozen_stages: Freeze the stem (0) and stages ``1..frozen_stages``
            (mmdet convention: stage ``i`` here is index ``i - 1``); -1
            freezes nothing.
        norm_cfg: Config of every norm layer, e.g. ``dict(type='SyncBN')``.
        act_cfg: Config of the activations.
        norm_eval: Keep norm layers in eval mode during training.
        with_cp: Use gradient checkpointing in the blocks.
        init_cfg: Initialisation config; default: the official DetNAS
            initialisation (:class:`~.weight_init.DetNASInit`).
    """

    def __init__(self,
                 space: SpaceLike,
                 block_choices: Sequence[Sequence[int]],
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 frozen_stages: int = -1,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'),
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 init_cfg=None):
        if init_cfg is None:
            init_cfg = dict(type='detnas_mm.DetNASInit')
        super().__init__(init_cfg)
        self.space = get_search_space(space)
        num_stages = self.space.num_stages
        out_indices = tuple(out_indices)
        bad = [i for i in out_indices if i not in range(num_stages + 1)]
        if not out_indices or bad or len(set(out_indices)) != len(out_indices):
            raise ValueError(
                f'out_indices {out_indices} must be distinct values from '
                f'{tuple(range(num_stages + 1))} (stages, then {num_stages} '
                f'for the last 1x1 conv)')
        if frozen_stages not in range(-1, num_stages + 1):
            raise ValueError(f'frozen_stages must be in [-1, {num_stages}], '
                             f'got {frozen_stages}')
        self.out_indices = out_indices
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval

        self.stem = ConvModule(3, self.space.stem_channels, 3, stride=2,
                               padding=1, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.stages = nn.ModuleList()
        in_channels, block = self.space.stem_channels, 0
        for depth, out_channels in zip(self.space.depths,
                                       self.space.stage_channels):
            stage = []
            for i in range(depth):
                stage.append(
                    ChoiceBlock(in_channels, out_channels, 2 if i == 0 else 1,
                                block_choices[block], norm_cfg, act_cfg,
                                with_cp))
                in_channels, block = out_channels, block + 1
            self.stages.append(nn.Sequential(*stage))
        if num_stages in out_indices:
            self.conv_last = ConvModule(in_channels, self.space.last_channels,
                                        1, norm_cfg=norm_cfg, act_cfg=act_cfg)
        # mmengine runs a child's own init_weights after the parent's
        # init_cfg: mark the ConvModules initialised, so that mmcv's Kaiming
        # init does not overwrite this backbone's init_cfg in the stem and
        # the last conv.
        for conv in (self.stem, getattr(self, 'conv_last', None)):
            if conv is not None:
                conv.is_init = True
        self._register_load_state_dict_pre_hook(self._drop_unbuilt_keys)
        self._freeze_stages()

    @property
    def blocks(self) -> List[ChoiceBlock]:
        return [block for stage in self.stages for block in stage]

    @property
    def feature_info(self) -> List[dict]:
        """Channels and stride of every returned output, in order."""
        num_stages = self.space.num_stages
        channels = (*self.space.stage_channels, self.space.last_channels)
        strides = tuple(2**(i + 2) for i in range(num_stages)) + (
            2**(num_stages + 1), )
        names = [f'stages.{i}' for i in range(num_stages)] + ['conv_last']
        return [
            dict(index=i, channels=channels[i], stride=strides[i],
                 module=names[i]) for i in self.out_indices
        ]

    @property
    def out_channels(self) -> Tuple[int, ...]:
        """Channels of the returned outputs (e.g. FPN ``in_channels``)."""
        return tuple(info['channels'] for info in self.feature_info)

    @property
    def out_strides(self) -> Tuple[int, ...]:
        return tuple(info['stride'] for info in self.feature_info)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        x = self.stem(x)
        outs = []
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i in self.out_indices:
                outs.append(x)
        if self.space.num_stages in self.out_indices:
            outs.append(self.conv_last(x))
        return tuple(outs)

    def _freeze_stages(self):
        frozen = [self.stem] + list(self.stages)[:max(self.frozen_stages, 0)]
        if self.frozen_stages < 0:
            return
        for module in frozen:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True):
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self

    # The space's shape travels in checkpoints, so that loading weights of
    # another space fails with a clear message instead of shape errors.
    def get_extra_state(self) -> torch.Tensor:
        return torch.tensor(self.space.signature(), dtype=torch.long)

    def set_extra_state(self, state):
        theirs = tuple(int(v) for v in torch.as_tensor(state).tolist())
        if theirs != self.space.signature():
            raise ValueError(
                f'The checkpoint was saved from a different search space '
                f'({_describe_signature(theirs)}) than this backbone '
                f'({self.space.name!r}: '
                f'{_describe_signature(self.space.signature())})')

    def _drop_unbuilt_keys(self, state_dict, prefix, *args):
        """Ignore checkpoint entries of parts this backbone leaves out.

        Unchosen ops (a supernet checkpoint in a DetNASNet) and the last
        1x1 conv of the ImageNet form (a classification checkpoint in a
        detection backbone) are dropped, so weights load with no key
        surgery and no spurious 'unexpected key' warnings.
        """
        own = set(self.state_dict(prefix=prefix).keys())
        drop = []
        for key in state_dict:
            if not key.startswith(prefix) or key in own:
                continue
            rest = key[len(prefix):]
            if rest.startswith('conv_last.') or '.ops.' in rest:
                drop.append(key)
        for key in drop:
            del state_dict[key]


def _describe_signature(signature: Sequence[int]) -> str:
    n = signature[0]
    depths = signature[1:1 + n]
    stem = signature[1 + n]
    channels = signature[2 + n:2 + 2 * n]
    last = signature[2 + 2 * n]
    return (f'depths {"/".join(map(str, depths))}, stem {stem}, channels '
            f'{"/".join(map(str, channels))}, last conv {last}')
