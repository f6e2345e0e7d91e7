"""Multi-objective ranking of searched architectures (NSGA-II style).

The search's ``selection='pareto'`` mode chooses parents by score *and*
predicted latency instead of by score alone: candidates are sorted into
non-dominated fronts (Deb et al., NSGA-II, 2002), front by front; within a
front the more isolated candidates (larger crowding distance) come first,
so that the parents spread along the whole trade-off, and remaining ties go
to the candidate evaluated first. Everything here is a pure function of
the points, so a resumed search ranks exactly as an uninterrupted one.

Points are ``(score, latency)`` pairs: score is maximised, latency
minimised.
"""
from typing import List, Sequence, Tuple

import numpy as np

Point = Tuple[float, float]


def _costs(points: Sequence[Point]) -> np.ndarray:
    """Both objectives as costs to minimise: ``(-score, latency)``."""
    costs = np.asarray(points, dtype=np.float64).reshape(-1, 2).copy()
    if np.isnan(costs).any():
        raise ValueError('points must not contain NaN')
    costs[:, 0] *= -1
    return costs


def dominates(a: Point, b: Point) -> bool:
    """Whether ``a`` has at least ``b``'s score and at most its latency,
    and is strictly better in one of them."""
    return (a[0] >= b[0] and a[1] <= b[1]) and (a[0] > b[0] or a[1] < b[1])


def non_dominated_fronts(points: Sequence[Point]) -> List[List[int]]:
    """Indices of ``points`` sorted into non-dominated fronts.

    Front 0 holds the points no other point dominates; front ``i`` those
    dominated only by points of earlier fronts. Equal points share a
    front. Within a front, indices rise.
    """
    costs = _costs(points)
    n = len(costs)
    if n == 0:
        return []
    # dominated_by[i, j]: point j dominates point i.
    le = (costs[None, :, :] <= costs[:, None, :]).all(-1)
    lt = (costs[None, :, :] < costs[:, None, :]).any(-1)
    dominated_by = le & lt
    count = dominated_by.sum(1)
    fronts, left = [], np.ones(n, bool)
    while left.any():
        front = np.flatnonzero(left & (count == 0))
        fronts.append([int(i) for i in front])
        left[front] = False
        count = count - dominated_by[:, front].sum(1)
    return fronts


def crowding_distance(points: Sequence[Point],
                      front: Sequence[int]) -> List[float]:
    """NSGA-II crowding distance of each member of a front.

    Per objective the members are sorted (ties by index); the two ends get
    infinity, the others the gap between their neighbours over the
    objective's range in the front; the distance is the sum over both
    objectives. A front of one or two points is all ends.
    """
    costs = _costs(points)[list(front)]
    distance = np.zeros(len(front))
    if len(front) <= 2:
        return [float('inf')] * len(front)
    index = np.asarray(front)
    for m in range(costs.shape[1]):
        order = np.lexsort((index, costs[:, m]))
        values = costs[order, m]
        distance[order[0]] = distance[order[-1]] = np.inf
        span = values[-1] - values[0]
        if span > 0:
            distance[order[1:-1]] += (values[2:] - values[:-2]) / span
    return [float(d) for d in distance]


def pareto_order(points: Sequence[Point]) -> List[int]:
    """All indices, best first: by front, then larger crowding distance,
    then smaller index (the candidate evaluated first).

    The first ``k`` are the NSGA-II survivors of a population of size
    ``k``: whole fronts, the last one cut by crowding distance.
    """
    order = []
    for front in non_dominated_fronts(points):
        distance = crowding_distance(points, front)
        order += [i for _, i in sorted(zip(distance, front),
                                       key=lambda t: (-t[0], t[1]))]
    return order


def first_front(points: Sequence[Point]) -> List[int]:
    """The non-dominated points by rising latency (ties: higher score,
    then smaller index): along it the score rises too."""
    fronts = non_dominated_fronts(points)
    if not fronts:
        return []
    return sorted(fronts[0],
                  key=lambda i: (points[i][1], -points[i][0], i))
