"""Evolution operators of the architecture search.

Architectures are tuples of choice digits (one per block); the operators
draw from a numpy ``Generator`` so that a saved RNG state replays the same
search. The defaults are those of SPOS and DetNAS
(``distributed_arch_search/search.py`` of megvii-model/DetNAS): mutation
re-draws each gene with probability 0.1, crossover picks each gene from
either of two parents drawn with replacement.
"""
from typing import Callable, List, Sequence, Set, Tuple

import numpy as np

from detnas_mm.cost.constraint import ArchConstraint
from detnas_mm.models.backbones.search_space import SearchSpace

Arch = Tuple[int, ...]


def random_arch(space: SearchSpace, rng: np.random.Generator) -> Arch:
    """Every block takes a uniformly drawn choice."""
    choices = np.asarray(space.choices)
    picks = rng.integers(0, len(choices), space.num_blocks)
    return tuple(int(c) for c in choices[picks])


def mutate(parent: Sequence[int], space: SearchSpace, prob: float,
           rng: np.random.Generator) -> Arch:
    """Re-draw each gene uniformly with probability ``prob``.

    A re-drawn gene may come out unchanged, as in SPOS, so a child can equal
    its parent: the search then rejects it as visited and draws again.
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


def draw_new(make: Callable[[], Arch], count: int,
             constraint: ArchConstraint, taken: Set[Arch],
             max_tries: int) -> List[Arch]:
    """Up to ``count`` archs from ``make`` that meet the constraint and
    are not in ``taken``.

    ``taken`` holds every architecture evaluated before and those drawn for
    this generation so far; it is updated. As the official ``legal()``, a
    visited or too costly architecture is rejected and drawn again, so
    every generation evaluates only new architectures. Stops after
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
