"""The DetNAS supernet: every choice of every block, one path at a time."""
from typing import Optional, Sequence, Tuple, Union

import torch

from detnas_mm.registry import MODELS
from .detnas_backbone import DetNASBackbone
from .search_space import SpaceLike, format_arch, get_search_space, parse_arch


@MODELS.register_module()
class DetNASSupernet(DetNASBackbone):
    """DetNAS supernet backbone: holds every choice op of every block.

    A forward runs only the current path, set with :meth:`set_path` (by a
    path sampler during training, by the search loop during search). The
    supernet is the backbone itself, so detectors and classifiers use it
    like any other backbone and checkpoint keys stay ``backbone.*``.

    Args:
        space: Search space: ``'300M'``, ``'1.3G'``, ``'3.8G'`` or a dict
            (see :func:`get_search_space`).
        arch: Optional initial path (gene string or digits). Without it a
            path must be set before the first forward.
        out_indices: Outputs to return (stages, and ``num_stages`` for the
            ImageNet form's last 1x1 conv).
        frozen_stages: See :class:`DetNASBackbone`.
        norm_cfg: Config of every norm layer of every choice op, e.g.
            ``dict(type='SyncBN')``.
        act_cfg: Config of the activations.
        norm_eval: Keep norm layers in eval mode during training.
        with_cp: Use gradient checkpointing in the blocks.
        init_cfg: Initialisation config.
    """

    def __init__(self,
                 space: SpaceLike = '300M',
                 arch: Optional[Union[str, Sequence[int]]] = None,
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 frozen_stages: int = -1,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'),
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 init_cfg=None):
        space = get_search_space(space)
        super().__init__(space, [space.choices] * space.num_blocks,
                         out_indices, frozen_stages, norm_cfg, act_cfg,
                         norm_eval, with_cp, init_cfg)
        self._path: Optional[Tuple[int, ...]] = None
        if arch is not None:
            self.set_path(arch)

    @property
    def path(self) -> Optional[Tuple[int, ...]]:
        """Current path as one choice digit per block (None if unset)."""
        return self._path

    @property
    def arch(self) -> Optional[str]:
        """Current path as a gene string (None if unset)."""
        return None if self._path is None else format_arch(
            self._path, self.space)

    def set_path(self, arch: Union[str, Sequence[int]]):
        """Select the choice op of every block.

        Args:
            arch: Gene string (``'2120|2112|33130031|3132'``) or a sequence
                of choice digits, one per block.
        """
        path = parse_arch(arch, self.space)
        for block, choice in zip(self.blocks, path):
            block.set_choice(choice)
        self._path = path

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        if self._path is None:
            raise RuntimeError(
                'DetNASSupernet has no path: call set_path(arch), give '
                '`arch` in the config, or add a PathSamplerHook')
        return super().forward(x)
