"""What a search reports: its ranking check and its top-k table."""
from typing import Dict, List, Optional


def ranking_check(scores, score, rescore, score_key: str) -> dict:
    """Whether scores spread more than the noise of one score.

    Args:
        scores: The scores of one generation.
        score: One candidate's score.
        rescore: The same candidate re-scored with another calibration
            seed: ``|score - rescore|`` is the noise.
        score_key: The metric's name, for the message.

    Returns:
        dict: ``can_rank``, ``spread`` (max - min), ``noise``, ``min``,
        ``max``, ``num_scores`` and a plain-words ``message``.
    """
    low, high = float(min(scores)), float(max(scores))
    spread, noise = high - low, abs(float(score) - float(rescore))
    can_rank = spread > 0 and spread > 2 * noise
    if high == 0:
        what = (f'every one of the {len(scores)} candidates scored 0 '
                f'{score_key} on the search split: the supernet detects '
                f'nothing there')
    elif spread == 0:
        what = (f'all {len(scores)} candidates scored the same '
                f'{score_key} ({high:.4f}) on the search split')
    else:
        what = (f'the {len(scores)} candidates scored {low:.4f} to '
                f'{high:.4f} {score_key} on the search split, a spread '
                f'within the noise of one score ({noise:.4f}: the same '
                f'architecture re-scored with another calibration seed)')
    message = (
        f'The search cannot rank architectures: {what}. Likely causes: '
        f'inputs too small for the objects at the detector\'s strides, a '
        f'fine-tuning schedule too short, or too few images. Change: a '
        f'larger input scale, a longer fine-tuning, more search or '
        f'calibration images. The best architecture of this search is not '
        f'known to be better than a random one.')
    return dict(can_rank=bool(can_rank), spread=spread, noise=noise,
                min=low, max=high, num_scores=len(scores),
                message=None if can_rank else message)


def near_best(scores: Dict[str, float], best: str, noise: float,
              score_key: str) -> dict:
    """The architectures the search cannot tell apart from its best.

    A score within the noise of one score (the ranking check's re-score
    with another calibration seed) of the best is not known to be lower:
    the supernet does not decide between such architectures, and
    retraining several of them is how to choose.

    Args:
        scores: Every evaluated architecture's score.
        best: The search's pick.
        noise: ``|score - rescore|`` of the ranking check.
        score_key: The metric's name, for the message.

    Returns:
        dict: ``archs`` (the best first, then by score), ``noise`` and a
        plain-words ``message`` (None when the best stands alone).
    """
    top = scores[best]
    archs = [best] + sorted(
        (a for a in scores if a != best and scores[a] >= top - noise),
        key=lambda a: -scores[a])
    message = None
    if len(archs) > 1:
        shown = ', '.join(archs[:6]) + (', ...' if len(archs) > 6 else '')
        message = (
            f'{len(archs)} of the {len(scores)} evaluated architectures '
            f'score within the noise of one score ({noise:.4f} '
            f'{score_key}: the best re-scored with another calibration '
            f'seed) of the best ({top:.4f}): {shown}. The supernet does '
            f'not decide between them; retrain several to choose '
            f'(best_arch.json lists them under near_best).')
    return dict(archs=archs, noise=float(noise), message=message)


def top_k_markdown(rows: List[dict], score_key: str,
                   warning: Optional[str] = None, selection: str = 'top_k',
                   latency: bool = False) -> str:
    """The top-k table of a search (``search_topk.md``)."""
    lines = []
    if warning:
        lines += [f'> **Warning**: {warning}', '']
    if selection == 'pareto':
        lines += ['Parents ranked by Pareto front (score up, predicted '
                  'latency down), then crowding distance, then evaluation '
                  'order.', '']
    lines += [f'| rank | arch | {score_key} | FLOPs (M) | params (M) | ' +
              ('latency (ms) | ' if latency else '') +
              'found in generation |',
              '|---:|---|---:|---:|---:|' + ('---:|' if latency else '') +
              '---:|']
    lines += [f'| {r["rank"]} | `{escape_bars(r["arch"])}` | '
              f'{r["score"]:.4f} | {r["flops"] / 1e6:.1f} | '
              f'{r["params"] / 1e6:.3f} | ' +
              (f'{r["latency_ms"]:.3f} | ' if latency else '') +
              f'{r["generation"]} |' for r in rows]
    return '\n'.join(lines) + '\n'


def escape_bars(text: str) -> str:
    """GitHub markdown splits table cells at every unescaped ``|``."""
    return text.replace('|', '\\|')


def format_seconds(seconds: float) -> str:
    """``h:mm:ss``."""
    seconds = int(round(seconds))
    return f'{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}'
