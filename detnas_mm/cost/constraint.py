"""Cost limits a candidate architecture must meet to be searched."""
import numbers
from typing import Optional, Sequence, Tuple

import numpy as np

from detnas_mm.cost.detector_flops import detector_cost
from detnas_mm.cost.latency import LatencyTable
from detnas_mm.cost.lookup_table import (FLOPS_COUNTS, SizeLike,
                                         check_flops_count, get_cost_table)
from detnas_mm.models.backbones.search_space import SearchSpace

FLOPS_MODES = ('backbone', 'detector')


class ArchConstraint:
    """FLOPs, params and latency limits of candidate architectures.

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

    Latency is the backbone latency a
    :class:`~detnas_mm.cost.latency.LatencyTable` predicts (a table sum
    too); the caller checks that the table was measured at the detector's
    input size (see ``EvolutionSearchLoop``).

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
        latency_table: Table predicting the latency of a path, or None.
        latency_limit_ms: Largest predicted latency allowed (ms), or None;
            needs ``latency_table``.

    Raises:
        ValueError: On an unknown mode, a table of another space, or
            limits no architecture meets (alone, or FLOPs and latency
            together).
    """

    def __init__(self, space: SearchSpace, flops_limit: Optional[float] = None,
                 params_limit: Optional[float] = None,
                 input_size: SizeLike = 224, flops_mode: str = 'backbone',
                 detector_config=None, count: str = 'official',
                 latency_table: Optional[LatencyTable] = None,
                 latency_limit_ms: Optional[float] = None):
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
        self.latency_table = latency_table
        self.latency_limit_ms = latency_limit_ms
        self._check_latency()

    def _check_latency(self):
        table, limit = self.latency_table, self.latency_limit_ms
        if table is not None:
            if not isinstance(table, LatencyTable):
                raise ValueError(f'latency_table must be a LatencyTable or '
                                 f'None, got {type(table).__name__}')
            table.check(space=self.space)
        if limit is None:
            return
        if table is None:
            raise ValueError(f'latency_limit_ms={limit!r} needs a latency '
                             f'table (latency_table=<table JSON of '
                             f'tools/analysis/latency_table.py>)')
        if isinstance(limit, bool) or not isinstance(limit, numbers.Real) \
                or not limit > 0:
            raise ValueError(f'latency_limit_ms must be a positive number '
                             f'of milliseconds or None, got {limit!r}')
        low, high = table.bounds()
        where = _table_text(table)
        if limit < low:
            raise ValueError(
                f'latency_limit_ms={limit:.4g} is below the fastest '
                f'architecture of space {self.space.name!r}: the {where} '
                f'predicts {low:.4g} .. {high:.4g} ms for the space; '
                f'allowed: latency_limit_ms >= {low:.4g} or None')
        if self.flops_limit is not None:
            fastest = self.fastest_within_flops()
            if fastest > limit:
                raise ValueError(
                    f'No architecture meets flops_limit='
                    f'{self.flops_limit:.4g} and latency_limit_ms='
                    f'{limit:.4g} together: the fastest one within the '
                    f'FLOPs limit is predicted at {fastest:.4g} ms by the '
                    f'{where} (range {low:.4g} .. {high:.4g} ms); raise '
                    f'either limit')

    def fastest_within_flops(self) -> float:
        """Smallest predicted latency (ms) of a path within the FLOPs limit.

        Exact: a dynamic programme over the blocks that keeps, for every
        partial path, only the (FLOPs, latency) pairs no other pair beats
        in both. Params are not part of it.
        """
        table = self.latency_table
        k = FLOPS_COUNTS.index(self.count)
        choices = list(self.space.choices)
        flops_left = self.flops_limit - self.extra_flops - int(
            self.table.stem_flops[k])
        # Smallest FLOPs the blocks after each block still need.
        block_flops = self.table.block_flops[k][:, choices]
        min_rest = np.concatenate(
            [np.cumsum(block_flops.min(1)[::-1])[::-1][1:], [0]])
        flops, latency = np.zeros(1, np.int64), np.zeros(1)
        for b in range(self.space.num_blocks):
            flops = (flops[:, None] + block_flops[b][None]).ravel()
            latency = (latency[:, None] +
                       table.block_ms[b, choices][None]).ravel()
            keep = flops + min_rest[b] <= flops_left
            flops, latency = flops[keep], latency[keep]
            # Pareto pruning: by rising FLOPs, keep strictly faster ones.
            order = np.lexsort((latency, flops))
            flops, latency = flops[order], latency[order]
            best = np.minimum.accumulate(latency)
            keep = np.ones(len(latency), bool)
            keep[1:] = latency[1:] < best[:-1]
            flops, latency = flops[keep], latency[keep]
        if len(latency) == 0:
            return float('inf')
        return float(latency.min() + table.stem.median_ms + table.offset_ms)

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

    def latency(self, arch: Sequence[int]) -> Optional[float]:
        """Predicted backbone latency (ms) of a path; None without table."""
        if self.latency_table is None:
            return None
        return self.latency_table.predict_path(arch)

    def allows(self, arch: Sequence[int]) -> bool:
        """Whether a path (choice digits) meets every limit."""
        flops, params = self.cost(arch)
        return ((self.flops_limit is None or flops <= self.flops_limit)
                and (self.params_limit is None
                     or params <= self.params_limit)
                and (self.latency_limit_ms is None
                     or self.latency(arch) <= self.latency_limit_ms))

    def describe(self) -> str:
        """The limits in words, for messages."""
        limits = [f'{name}={value:.4g}' for name, value in (
            ('flops_limit', self.flops_limit),
            ('params_limit', self.params_limit),
            ('latency_limit_ms', self.latency_limit_ms)) if value is not None]
        return ', '.join(limits) or 'no limit'


def _table_text(table: LatencyTable) -> str:
    info = table.info()
    size = 'x'.join(map(str, info['input_size']))
    path = f' {info["path"]}' if info.get('path') else ''
    return (f'latency table{path} ({info["backend"]} on {info["device"]}, '
            f'{size})')
