"""Cost limits a candidate architecture must meet to be searched."""
from typing import Optional, Sequence, Tuple

from detnas_mm.cost.detector_flops import detector_cost
from detnas_mm.cost.lookup_table import (SizeLike, check_flops_count,
                                         get_cost_table)
from detnas_mm.models.backbones.search_space import SearchSpace

FLOPS_MODES = ('backbone', 'detector')


class ArchConstraint:
    """FLOPs and params limits of candidate architectures.

    FLOPs (multiply-accumulates) and params come from the per-block lookup
    table of :mod:`detnas_mm.cost.lookup_table`.

    - ``flops_mode='backbone'`` (DetNAS): the detection body (stem and
      blocks) at ``input_size`` (224 as in the paper), in the ``'official'``
      count by default (conv only, as the official search counts it) or
      the ``'full'`` one.
    - ``flops_mode='detector'``: the whole detector at ``input_size``
      (default: its test resolution), full count: the backbone from the
      table at that resolution plus the cost of everything else (neck,
      heads), which does not depend on the path because the stage widths
      are fixed. That constant is measured once with
      :func:`~detnas_mm.cost.detector_flops.detector_cost` on one
      architecture, so every later lookup is exact and costs a table sum.

    Args:
        space: The search space.
        flops_limit: Largest FLOPs allowed, or None.
        params_limit: Largest backbone params allowed, or None.
        input_size: Input size at which FLOPs are counted; in
            ``'detector'`` mode None means the test pipeline's scale.
        flops_mode: ``'backbone'`` or ``'detector'``.
        detector_config: The detector config (``'detector'`` mode only).
        count: ``'official'`` or ``'full'`` (backbone mode; the detector
            mode counts every op).

    Raises:
        ValueError: On an unknown mode, or limits no architecture meets.
    """

    def __init__(self, space: SearchSpace, flops_limit: Optional[float] = None,
                 params_limit: Optional[float] = None,
                 input_size: SizeLike = 224, flops_mode: str = 'backbone',
                 detector_config=None, count: str = 'official'):
        if flops_mode not in FLOPS_MODES:
            raise ValueError(f'flops_mode must be one of {FLOPS_MODES}, got '
                             f'{flops_mode!r}')
        self.space = space
        self.flops_limit = flops_limit
        self.params_limit = params_limit
        self.flops_mode = flops_mode
        self.count = 'full' if flops_mode == 'detector' else \
            check_flops_count(count)
        self.extra_flops = 0
        if flops_mode == 'detector':
            self.extra_flops = self._detector_extra(detector_config,
                                                    input_size)
        else:
            self.table = get_cost_table(space, input_size)
        low_flops = self.table.bounds(count=self.count)[0] + self.extra_flops
        if flops_limit is not None and flops_limit < low_flops:
            raise ValueError(
                f'flops_limit={flops_limit:.4g} is below the smallest '
                f'architecture of space {space.name!r}: {low_flops:.4g} '
                f'FLOPs ({flops_mode}, {self.count} count, at input '
                f'{self.table.input_size}); allowed: flops_limit >= '
                f'{low_flops:.4g} or None')
        low_params = self.table.params_bounds()[0]
        if params_limit is not None and params_limit < low_params:
            raise ValueError(
                f'params_limit={params_limit:.4g} is below the smallest '
                f'architecture of space {space.name!r}: {low_params:.4g} '
                f'params; allowed: params_limit >= {low_params:.4g} or None')

    def _detector_extra(self, config, input_size) -> int:
        if config is None:
            raise ValueError("flops_mode='detector' needs the detector "
                             'config')
        probe = tuple(self.space.choices[0]
                      for _ in range(self.space.num_blocks))
        result = detector_cost(config, probe, input_size)
        # The backbone table at the size the detector was counted at (the
        # test resolution, padded as in testing), so that the rest of the
        # detector is exactly the difference.
        self.table = get_cost_table(self.space, tuple(result['input_size']))
        return int(result['flops']) - self.table.cost_of_path(
            probe, count='full')[0]

    @property
    def input_size(self) -> Tuple[int, int]:
        """The input size FLOPs are counted at."""
        return self.table.input_size

    def cost(self, arch: Sequence[int]) -> Tuple[int, int]:
        """FLOPs (in the configured mode and count) and backbone params."""
        flops, params = self.table.cost_of_path(arch, count=self.count)
        return flops + self.extra_flops, params

    def allows(self, arch: Sequence[int]) -> bool:
        """Whether a path (choice digits) meets every limit."""
        flops, params = self.cost(arch)
        return ((self.flops_limit is None or flops <= self.flops_limit)
                and (self.params_limit is None
                     or params <= self.params_limit))
