"""DetNASNet: the standalone backbone of one architecture."""
from typing import Sequence, Union

from detnas_mm.registry import MODELS
from .detnas_backbone import DetNASBackbone
from .search_space import SpaceLike, format_arch, get_search_space, parse_arch


@MODELS.register_module()
class DetNASNet(DetNASBackbone):
    """Standalone DetNAS backbone: only the chosen op of every block.

    Its state dict is the supernet's restricted to the chosen ops, so a
    supernet checkpoint loads directly (weight inheritance): entries of
    unchosen ops are ignored, and a checkpoint of another search space is
    refused with a ``ValueError``.

    Args:
        space: Search space: ``'300M'``, ``'1.3G'``, ``'3.8G'`` or a dict.
        arch: Gene string such as ``'2120|2112|33130031|3132'``.
        out_indices: Outputs to return (stages, and ``num_stages`` for the
            ImageNet form's last 1x1 conv).
        frozen_stages: See :class:`DetNASBackbone`.
        norm_cfg: Config of every norm layer.
        act_cfg: Config of the activations.
        norm_eval: Keep norm layers in eval mode during training.
        with_cp: Use gradient checkpointing in the blocks.
        init_cfg: Initialisation config.
    """

    def __init__(self,
                 space: SpaceLike,
                 arch: Union[str, Sequence[int]],
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 frozen_stages: int = -1,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'),
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 init_cfg=None):
        space = get_search_space(space)
        path = parse_arch(arch, space)
        super().__init__(space, [(c, ) for c in path], out_indices,
                         frozen_stages, norm_cfg, act_cfg, norm_eval,
                         with_cp, init_cfg)
        self.path = path
        self.arch = format_arch(path, space)
