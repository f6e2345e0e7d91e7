"""Evolution operators and cost constraints of the architecture search.

Architectures are tuples of choice digits (one per block); the operators
draw from a numpy ``Generator`` so that a saved RNG state replays the same
search. The defaults are those of SPOS and DetNAS: mutation re-draws each
gene with probability 0.1, crossover picks each gene from either parent
with probability 0.5.
"""
import importlib
from typing import Callable, List, Optional, Sequence, Set, Tuple

import numpy as np

from detnas_mm.cost.lookup_table import SizeLike, get_cost_table
from detnas_mm.models.backbones.search_space import SearchSpace

Arch = Tuple[int, ...]
FLOPS_MODES = ('backbone', 'detector')


def random_arch(space: SearchSpace, rng: np.random.Generator) -> Arch:
    """Every block takes a uniformly drawn choice."""
    choices = np.asarray(space.choices)
    picks = rng.integers(0, len(choices), space.num_blocks)
    return tuple(int(c) for c in choices[picks])


def mutate(parent: Sequence[int], space: SearchSpace, prob: float,
           rng: np.random.Generator) -> Arch:
    """Re-draw each gene uniformly with probability ``prob``.

    A re-drawn gene may come out unchanged, as in SPOS, so a child can equal
    its parent: the cache of the search then answers it for free.
    """
    choices = np.asarray(space.choices)
    redraw = rng.random(len(parent)) < prob
    fresh = choices[rng.integers(0, len(choices), len(parent))]
    return tuple(int(f) if r else int(p)
                 for p, f, r in zip(parent, fresh, redraw))


def crossover(a: Sequence[int], b: Sequence[int],
              rng: np.random.Generator) -> Arch:
    """Uniform crossover: each gene from ``a`` or ``b`` with equal odds."""
    from_a = rng.random(len(a)) < 0.5
    return tuple(int(x) if m else int(y) for x, y, m in zip(a, b, from_a))


class ArchConstraint:
    """FLOPs and params limits of candidate architectures.

    FLOPs (multiply-accumulates) and params come from the per-block lookup
    table of :mod:`detnas_mm.cost`. ``flops_mode='backbone'`` counts the
    backbone at ``input_size`` (224 as in the DetNAS paper).
    ``flops_mode='detector'`` counts the whole detector at ``input_size``
    (default: its test resolution): the backbone from the table at that
    resolution plus the cost of everything else (neck, heads), which
    does not depend on the path because the stage widths are fixed. That
    constant is measured once with
    ``detnas_mm.cost.detector_flops.detector_cost(config, arch, input_hw)``
    on one architecture, so every later lookup is exact and costs a table
    sum.

    Args:
        space: The search space.
        flops_limit: Largest FLOPs allowed, or None.
        params_limit: Largest backbone params allowed, or None.
        input_size: Input size at which FLOPs are counted; in
            ``'detector'`` mode None means the test pipeline's scale.
        flops_mode: ``'backbone'`` or ``'detector'``.
        detector_config: The detector config (``'detector'`` mode only).

    Raises:
        ValueError: On an unknown mode, or limits no architecture meets.
    """

    def __init__(self, space: SearchSpace, flops_limit: Optional[float] = None,
                 params_limit: Optional[float] = None,
                 input_size: SizeLike = 224, flops_mode: str = 'backbone',
                 detector_config=None):
        if flops_mode not in FLOPS_MODES:
            raise ValueError(f'flops_mode must be one of {FLOPS_MODES}, got '
                             f'{flops_mode!r}')
        self.space = space
        self.flops_limit = flops_limit
        self.params_limit = params_limit
        self.flops_mode = flops_mode
        self.extra_flops = 0
        if flops_mode == 'detector':
            self.extra_flops = self._detector_extra(detector_config,
                                                    input_size)
        else:
            self.table = get_cost_table(space, input_size)
        low_flops = self.table.bounds()[0] + self.extra_flops
        if flops_limit is not None and flops_limit < low_flops:
            raise ValueError(
                f'flops_limit={flops_limit:.4g} is below the smallest '
                f'architecture of space {space.name!r}: {low_flops:.4g} '
                f'FLOPs ({flops_mode} at input {self.table.input_size}); '
                f'allowed: flops_limit >= {low_flops:.4g} or None')
        cols = list(space.choices)
        low_params = int(self.table.stem_params +
                         self.table.block_params[:, cols].min(1).sum())
        if params_limit is not None and params_limit < low_params:
            raise ValueError(
                f'params_limit={params_limit:.4g} is below the smallest '
                f'architecture of space {space.name!r}: {low_params:.4g} '
                f'params; allowed: params_limit >= {low_params:.4g} or None')

    def _detector_extra(self, config, input_size) -> int:
        if config is None:
            raise ValueError("flops_mode='detector' needs the detector "
                             'config')
        try:
            module = importlib.import_module('detnas_mm.cost.detector_flops')
        except ImportError as e:
            raise ValueError(
                "flops_mode='detector' needs detnas_mm.cost.detector_flops."
                f"detector_cost, which cannot be imported ({e}); use "
                "flops_mode='backbone'") from None
        probe = tuple(self.space.choices[0]
                      for _ in range(self.space.num_blocks))
        result = module.detector_cost(config, probe, input_size)
        # The backbone table at the size the detector was counted at (the
        # test resolution, padded as in testing), so that the rest of the
        # detector is exactly the difference.
        self.table = get_cost_table(self.space, tuple(result['input_size']))
        return int(result['flops']) - self.table.cost_of_path(probe)[0]

    def cost(self, arch: Sequence[int]) -> Tuple[int, int]:
        """FLOPs (in the configured mode) and backbone params of a path."""
        flops, params = self.table.cost_of_path(arch)
        return flops + self.extra_flops, params

    def allows(self, arch: Sequence[int]) -> bool:
        flops, params = self.cost(arch)
        return ((self.flops_limit is None or flops <= self.flops_limit)
                and (self.params_limit is None
                     or params <= self.params_limit))


def draw_unique(make: Callable[[], Arch], count: int,
                constraint: ArchConstraint, taken: Set[Arch],
                max_tries: int) -> List[Arch]:
    """Up to ``count`` new archs from ``make`` meeting the constraint.

    Archs already in ``taken`` (this generation so far) are redrawn, so a
    generation has no duplicates; ``taken`` is updated. Stops after
    ``max_tries`` draws.
    """
    found = []
    for _ in range(max_tries):
        if len(found) == count:
            break
        arch = make()
        if arch not in taken and constraint.allows(arch):
            taken.add(arch)
            found.append(arch)
    return found
