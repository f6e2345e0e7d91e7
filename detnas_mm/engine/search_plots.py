"""Figures of an evolutionary search (matplotlib, Agg backend)."""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from detnas_mm.models.backbones.search_space import (CHOICE_OPS, SearchSpace,
                                                     parse_arch)


def pareto_front(points: Sequence[Tuple[float, float]]) -> List[int]:
    """Indices of the (FLOPs, score) points no other point dominates.

    A point is dominated by another with at most its FLOPs and at least its
    score; of equal points one is kept. Returned by rising FLOPs.
    """
    order = sorted(range(len(points)),
                   key=lambda i: (points[i][0], -points[i][1]))
    front, best = [], -np.inf
    for i in order:
        if points[i][1] > best:
            front.append(i)
            best = points[i][1]
    return front


def _pyplot():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def plot_search(cache: Dict[str, dict], history: Sequence[dict],
                score_key: str, out_file: str) -> None:
    """Score vs FLOPs of every evaluated arch (Pareto front marked), and
    the best score of each generation."""
    plt = _pyplot()
    archs = list(cache)
    points = [(cache[a]['flops'] / 1e6, cache[a]['score']) for a in archs]
    front = pareto_front(points)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    if points:
        xs, ys = zip(*points)
        ax1.scatter(xs, ys, s=12, c='tab:blue', alpha=0.6,
                    label=f'evaluated ({len(points)})')
        fx = [points[i][0] for i in front]
        fy = [points[i][1] for i in front]
        ax1.plot(fx, fy, '-o', c='tab:red', ms=5, drawstyle='steps-post',
                 label=f'Pareto front ({len(front)})')
        ax1.legend(loc='lower right')
    ax1.set_xlabel('FLOPs (M multiply-adds)')
    ax1.set_ylabel(score_key)
    ax1.set_title('Score vs FLOPs')
    ax1.grid(alpha=0.3)
    gens = [h['generation'] for h in history]
    ax2.plot(gens, [h['best_score'] for h in history], '-o', label='best')
    ax2.plot(gens, [h['top_k_mean'] for h in history], '-s', ms=4,
             label='top-k mean')
    from matplotlib.ticker import MaxNLocator
    ax2.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax2.set_xlabel('generation')
    ax2.set_ylabel(score_key)
    ax2.set_title('Best score per generation')
    ax2.grid(alpha=0.3)
    ax2.legend(loc='lower right')
    fig.tight_layout()
    fig.savefig(out_file, dpi=100)
    plt.close(fig)


def plot_pareto(cache: Dict[str, dict], front: Sequence[str],
                score_key: str, out_file: str,
                latency_limit_ms: Optional[float] = None,
                best: Optional[str] = None, title: str = '') -> None:
    """Score vs predicted latency of every evaluated arch, coloured by
    generation, with the Pareto front (its members labelled by index), the
    latency limit and the best arch marked."""
    plt = _pyplot()
    archs = list(cache)
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    if archs:
        lat = [cache[a]['latency_ms'] for a in archs]
        score = [cache[a]['score'] for a in archs]
        gens = [cache[a]['generation'] for a in archs]
        points = ax.scatter(lat, score, s=14, c=gens, cmap='viridis',
                            alpha=0.7, label=f'evaluated ({len(archs)})')
        from matplotlib.ticker import MaxNLocator
        bar = fig.colorbar(points, ax=ax, label='generation')
        bar.locator = MaxNLocator(integer=True)
        bar.update_ticks()
    if front:
        fx = [cache[a]['latency_ms'] for a in front]
        fy = [cache[a]['score'] for a in front]
        ax.plot(fx, fy, '-o', c='tab:red', ms=6, mfc='none',
                drawstyle='steps-post', label=f'Pareto front ({len(front)})')
        for i, (x, y) in enumerate(zip(fx, fy)):
            ax.annotate(str(i), (x, y), textcoords='offset points',
                        xytext=(3, 4), fontsize=8, color='tab:red')
    if best is not None and best in cache:
        ax.scatter([cache[best]['latency_ms']], [cache[best]['score']],
                   marker='*', s=160, c='tab:orange', edgecolors='black',
                   zorder=5, label='best score')
    if latency_limit_ms is not None:
        ax.axvline(latency_limit_ms, ls='--', c='gray',
                   label=f'latency limit {latency_limit_ms:.4g} ms')
    ax.set_xlabel('backbone latency (ms, predicted by the table)')
    ax.set_ylabel(score_key)
    ax.set_title(title or 'Score vs predicted latency')
    ax.grid(alpha=0.3)
    ax.legend(loc='best', fontsize=8)
    fig.tight_layout()
    fig.savefig(out_file, dpi=100)
    plt.close(fig)


def op_frequency(archs: Sequence[str], space: SearchSpace) -> np.ndarray:
    """Counts of every choice op (columns) at every block (rows)."""
    counts = np.zeros((space.num_blocks, len(CHOICE_OPS)), np.int64)
    for arch in archs:
        for block, choice in enumerate(parse_arch(arch, space)):
            counts[block, choice] += 1
    return counts


def plot_op_frequency(archs: Sequence[str], space: SearchSpace,
                      out_file: str) -> None:
    """Heat map: how often each op is chosen at each block in ``archs``."""
    plt = _pyplot()
    counts = op_frequency(archs, space)
    fig, ax = plt.subplots(figsize=(max(6, 0.35 * space.num_blocks), 3.2))
    image = ax.imshow(counts.T, aspect='auto', cmap='viridis',
                      vmin=0, vmax=max(1, len(archs)))
    ax.set_yticks(range(len(CHOICE_OPS)), CHOICE_OPS)
    ax.set_xticks(range(space.num_blocks), range(space.num_blocks))
    ax.set_xlabel('block')
    # Stage boundaries.
    edge = 0
    for depth in space.depths[:-1]:
        edge += depth
        ax.axvline(edge - 0.5, c='white', lw=1.5)
    for (block, op), n in np.ndenumerate(counts):
        if n:
            ax.text(block, op, str(n), ha='center', va='center',
                    color='white' if n < 0.6 * len(archs) else 'black',
                    fontsize=7)
    ax.set_title(f'Op frequency per block in the final top-{len(archs)}')
    fig.colorbar(image, ax=ax, label='archs')
    fig.tight_layout()
    fig.savefig(out_file, dpi=100)
    plt.close(fig)
