"""How well one score ranks architectures the way another does.

DetNAS rests on the supernet score of a path ranking architectures as
training them on their own does. :func:`rank_agreement` measures it for
paired scores: Kendall's tau and Spearman's rho (scipy.stats), the overlap
of the top-k, each with a percentile bootstrap 95 % interval over the
architectures.
"""
from dataclasses import asdict, dataclass
from typing import Optional, Sequence, Tuple

import numpy as np
from scipy import stats


@dataclass
class RankAgreement:
    """Rank agreement of paired scores, with bootstrap 95 % intervals.

    Attributes:
        n: Number of architectures.
        kendall_tau, kendall_ci: Kendall's tau-b and its interval.
        spearman_rho, spearman_ci: Spearman's rho and its interval.
        top_k: ``k`` of the overlap.
        top_k_overlap, top_k_ci: Fraction of the ``k`` best by the first
            score that are among the ``k`` best by the second.
        kendall_p: scipy's p-value of tau (no ties assumed away).
        num_bootstrap: Bootstrap resamples.
    """
    n: int
    kendall_tau: float
    kendall_ci: Tuple[float, float]
    kendall_p: float
    spearman_rho: float
    spearman_ci: Tuple[float, float]
    top_k: int
    top_k_overlap: float
    top_k_ci: Tuple[float, float]
    num_bootstrap: int

    def to_dict(self) -> dict:
        return asdict(self)

    def sentence(self) -> str:
        return (f'Kendall tau {self.kendall_tau:.2f} (95% CI '
                f'{self.kendall_ci[0]:.2f} to {self.kendall_ci[1]:.2f}), '
                f'Spearman rho {self.spearman_rho:.2f}, top-{self.top_k} '
                f'overlap {self.top_k_overlap:.2f}, over {self.n} '
                f'architectures')


def _tau(a, b) -> float:
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(stats.kendalltau(a, b).statistic)


def _rho(a, b) -> float:
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(stats.spearmanr(a, b).statistic)


def _overlap(a, b, k) -> float:
    top_a = set(np.argsort(-a, kind='stable')[:k].tolist())
    top_b = set(np.argsort(-b, kind='stable')[:k].tolist())
    return len(top_a & top_b) / k


def rank_agreement(first: Sequence[float], second: Sequence[float],
                   top_k: Optional[int] = None, num_bootstrap: int = 2000,
                   seed: int = 0) -> RankAgreement:
    """Rank agreement of two scores of the same architectures.

    Args:
        first: E.g. the supernet scores.
        second: E.g. the standalone test mAPs, in the same order.
        top_k: ``k`` of the top-k overlap (default: a quarter, at least 1).
        num_bootstrap: Bootstrap resamples of the architectures.
        seed: Seed of the resampling.

    Returns:
        RankAgreement: The statistics.
    """
    a = np.asarray(first, dtype=float)
    b = np.asarray(second, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f'first and second must be two lists of the same '
                         f'length, got {a.shape} and {b.shape}')
    n = len(a)
    if n < 3:
        raise ValueError(f'rank agreement needs at least 3 architectures, '
                         f'got {n}')
    k = top_k or max(1, n // 4)
    if not 1 <= k <= n:
        raise ValueError(f'top_k must be in [1, {n}], got {top_k}')
    rng = np.random.default_rng(seed)
    boot = np.empty((num_bootstrap, 3))
    for i in range(num_bootstrap):
        idx = rng.integers(0, n, n)
        boot[i] = (_tau(a[idx], b[idx]), _rho(a[idx], b[idx]),
                   _overlap(a[idx], b[idx], k))

    def ci(col):
        low, high = np.percentile(boot[:, col], [2.5, 97.5])
        return float(low), float(high)

    p = 1.0
    if np.ptp(a) and np.ptp(b):
        p = float(stats.kendalltau(a, b).pvalue)
    return RankAgreement(
        n=n, kendall_tau=_tau(a, b), kendall_ci=ci(0), kendall_p=p,
        spearman_rho=_rho(a, b), spearman_ci=ci(1), top_k=k,
        top_k_overlap=_overlap(a, b, k), top_k_ci=ci(2),
        num_bootstrap=num_bootstrap)
