"""The resumable state of an evolutionary search.

The whole state is one JSON file rewritten (atomically) after every
candidate: a kill at any moment leaves either the previous or the new
file, never a torn one.
"""
import json
from typing import Any, Dict

STATE_FILE = 'search_state.json'
# 2: no revisits (no cache hits), the ranking check, the FLOPs count and
# BN averaging in the settings. 3: the latency table, latency limit and
# parent selection in the settings; predicted latency per candidate.
STATE_VERSION = 3


def new_state(settings: Dict[str, Any], rng_state: dict) -> Dict[str, Any]:
    """A fresh state before the first generation is drawn.

    Fields: ``settings`` (what must match on resume), ``generation`` (index
    of the current generation), ``candidates`` (its gene strings, the
    queue), ``next_candidate`` (index of the next one to score), ``rng``
    (numpy bit-generator state after drawing the current generation),
    ``cache`` (gene string -> record of its evaluation: every path
    evaluated, never drawn again; ``latency_ms`` is None without a latency
    table), ``top_k`` (the parents' gene strings, best first: by score, or
    by Pareto rank with ``selection='pareto'``),
    ``history`` (one summary per finished generation), ``log`` (one entry
    per scored candidate, what ``search_log.jsonl`` holds), ``ranking``
    (the check that the scores can rank paths, after generation 0) and
    ``num_evaluations``.
    """
    return dict(
        version=STATE_VERSION,
        settings=settings,
        generation=0,
        candidates=[],
        next_candidate=0,
        rng=rng_state,
        cache={},
        top_k=[],
        history=[],
        log=[],
        ranking=None,
        num_evaluations=0,
        seconds=0.0)


def load_state(path: str, settings: Dict[str, Any]) -> Dict[str, Any]:
    """Read a saved state and check it belongs to the same search.

    Raises:
        ValueError: If the file is of another version or its settings
            differ from ``settings`` (naming the differing keys).
    """
    with open(path, encoding='utf-8') as f:
        state = json.load(f)
    if state.get('version') != STATE_VERSION:
        raise ValueError(f'{path} has state version {state.get("version")}'
                         f', this code reads version {STATE_VERSION}: '
                         f'finish that search with the detnas_mm version '
                         f'that started it, or start a new one in another '
                         f'work dir')
    saved = state['settings']
    differ = sorted(k for k in set(saved) | set(settings)
                    if saved.get(k) != settings.get(k))
    if differ:
        detail = ', '.join(f'{k}: saved {saved.get(k)!r} now '
                           f'{settings.get(k)!r}' for k in differ)
        raise ValueError(f'Cannot resume the search in {path}: its settings '
                         f'differ ({detail}); use another work dir or the '
                         f'same settings')
    return state
