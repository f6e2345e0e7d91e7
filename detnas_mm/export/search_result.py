"""The result of a search, as the search writes it and the exporter reads it.

A finished search leaves ``best_arch.json`` in its work dir: the best
architecture, its space and score, how its cost was counted and which
supernet checkpoint was searched. A search with a latency table also
leaves its Pareto front of score vs predicted latency
(``search_pareto.json``, ``.md``, ``.png``), each member with an index. This
module is the one place that knows the files' names and fields.
"""
import json
import os.path as osp
from typing import Optional, Sequence, Union

from detnas_mm.models.backbones.search_space import (SEARCH_SPACES,
                                                     SearchSpace, format_arch,
                                                     get_search_space,
                                                     parse_arch)
from detnas_mm.utils import atomic_write_json, atomic_write_text

BEST_ARCH_FILE = 'best_arch.json'
PARETO_JSON = 'search_pareto.json'
PARETO_TABLE = 'search_pareto.md'
PARETO_PNG = 'search_pareto.png'


def space_value(space: SearchSpace) -> Union[str, dict]:
    """How a space is written in a config: its name, or its full table."""
    if SEARCH_SPACES.get(space.name) == space:
        return space.name
    return {k: list(v) if isinstance(v, tuple) else v
            for k, v in space.to_dict().items()}


def write_search_result(search_dir: str, space: SearchSpace, arch: str,
                        score_key: str, score: float, flops: int,
                        params: int, flops_mode: str, flops_input_size,
                        checkpoint: Optional[str], **extra) -> str:
    """Write ``best_arch.json`` of a search; returns its path.

    ``extra`` entries (e.g. ``latency_ms``) are stored as they are.
    """
    path = osp.join(search_dir, BEST_ARCH_FILE)
    atomic_write_json(
        path,
        dict(space=space_value(space), arch=arch, score_key=score_key,
             score=score, flops=flops, params=params, flops_mode=flops_mode,
             flops_input_size=list(flops_input_size), checkpoint=checkpoint,
             **extra),
        indent=1)
    return path


def provenance_of(result: dict, search_dir: str) -> dict:
    """The exporter's provenance entries of a search result."""
    provenance = dict(
        search_run=osp.abspath(search_dir), score=result.get('score'),
        score_key=result.get('score_key'), flops=result.get('flops'),
        params=result.get('params'), flops_mode=result.get('flops_mode'),
        flops_count=result.get('flops_count'),
        flops_input_size=result.get('flops_input_size'),
        latency_ms=result.get('latency_ms'))
    return {k: v for k, v in provenance.items() if v is not None}


def write_pareto_result(search_dir: str, space: SearchSpace,
                        members: Sequence[dict], score_key: str,
                        flops_mode: str, flops_input_size,
                        checkpoint: Optional[str], **extra) -> str:
    """Write the Pareto front of a search (JSON and a markdown table).

    Args:
        search_dir: The search's work dir.
        space: The search space.
        members: The front by rising latency: dicts with ``arch``,
            ``score``, ``latency_ms``, ``flops``, ``params`` and
            ``generation``; each gets its ``index`` here (0: the fastest).
        score_key, flops_mode, flops_input_size, checkpoint: As in
            :func:`write_search_result`, common to all members.
        **extra: Stored as they are (e.g. ``flops_count``,
            ``latency_table``, ``latency_limit_ms``, ``selection``,
            ``warning``).

    Returns:
        str: The JSON file's path.
    """
    members = [dict(m, index=i) for i, m in enumerate(members)]
    path = osp.join(search_dir, PARETO_JSON)
    atomic_write_json(
        path,
        dict(space=space_value(space), score_key=score_key,
             flops_mode=flops_mode, flops_input_size=list(flops_input_size),
             checkpoint=checkpoint, **extra, members=members),
        indent=1)
    lines = []
    if extra.get('warning'):
        lines += [f'> **Warning**: {extra["warning"]}', '']
    lines += [f'| index | arch | {score_key} | latency (ms, predicted) | '
              f'FLOPs (M) | params (M) | found in generation |',
              '|---:|---|---:|---:|---:|---:|---:|']
    # GitHub markdown splits table cells at every unescaped '|'.
    lines += [f'| {m["index"]} | `{_md(m["arch"])}` | {m["score"]:.4f} | '
              f'{m["latency_ms"]:.3f} | {m["flops"] / 1e6:.1f} | '
              f'{m["params"] / 1e6:.3f} | {m["generation"]} |'
              for m in members]
    atomic_write_text(osp.join(search_dir, PARETO_TABLE),
                      '\n'.join(lines) + '\n')
    return path


def read_pareto_member(search_dir: str, index: int) -> dict:
    """Read one member of a search's Pareto front, like
    :func:`read_search_result` reads the best architecture.

    Args:
        search_dir: Work dir of a search run with a latency table.
        index: The member's index in ``search_pareto.json`` (0: the
            fastest; the last: the highest score).

    Returns:
        dict: As :func:`read_search_result`, plus ``index``.
    """
    path = osp.join(search_dir, PARETO_JSON)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{path} not found: only a search with a latency table '
            f'(train_cfg.latency_table) writes its Pareto front')
    with open(path, encoding='utf-8') as f:
        front = json.load(f)
    members = front.get('members') or []
    if isinstance(index, bool) or not isinstance(index, int) or \
            not 0 <= index < len(members):
        raise ValueError(f'Pareto index {index!r} is out of range: '
                         f'{path} has {len(members)} members, allowed '
                         f'0..{len(members) - 1}')
    common = {k: v for k, v in front.items() if k != 'members'}
    member = dict(common, **members[index])
    result = _result_of(member, path, search_dir)
    result['provenance']['note'] = (
        f'Pareto front member {index} of {len(members)} (by rising '
        f'latency) in {PARETO_JSON}.')
    result['index'] = index
    return result


def _md(text: str) -> str:
    return text.replace('|', '\\|')


def _result_of(best: dict, path: str, search_dir: str) -> dict:
    missing = [k for k in ('arch', 'space') if k not in best]
    if missing:
        raise ValueError(f'{path} lacks {missing}')
    space = get_search_space(best['space'])
    genes = format_arch(parse_arch(best['arch'], space), space)
    return dict(arch=genes, space=space_value(space),
                checkpoint=best.get('checkpoint'),
                provenance=provenance_of(best, search_dir), result=best)


def read_search_result(search_dir: str) -> dict:
    """Read the best architecture of a finished search.

    Args:
        search_dir: Work dir of ``tools/search.py``.

    Returns:
        dict: ``arch`` (gene string), ``space`` (name or dict),
        ``checkpoint`` (the supernet checkpoint searched, or None),
        ``provenance`` (for the exporter) and ``result`` (the whole file).
    """
    path = osp.join(search_dir, BEST_ARCH_FILE)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{path} not found: is {search_dir} the work dir of a finished '
            f'search (tools/search.py writes {BEST_ARCH_FILE} at the end)?')
    with open(path, encoding='utf-8') as f:
        best = json.load(f)
    return _result_of(best, path, search_dir)
