"""The result of a search, as the search writes it and the exporter reads it.

A finished search leaves ``best_arch.json`` in its work dir: the best
architecture, its space and score, how its cost was counted and which
supernet checkpoint was searched. This module is the one place that knows
the file's name and fields.
"""
import os.path as osp
import json
from typing import Optional, Union

from detnas_mm.models.backbones.search_space import (SEARCH_SPACES,
                                                     SearchSpace,
                                                     format_arch,
                                                     get_search_space,
                                                     parse_arch)
from detnas_mm.utils import atomic_write_json

BEST_ARCH_FILE = 'best_arch.json'


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
    missing = [k for k in ('arch', 'space') if k not in best]
    if missing:
        raise ValueError(f'{path} lacks {missing}')
    space = get_search_space(best['space'])
    genes = format_arch(parse_arch(best['arch'], space), space)
    return dict(arch=genes, space=space_value(space),
                checkpoint=best.get('checkpoint'),
                provenance=provenance_of(best, search_dir), result=best)
