"""tools/search.py in Pareto mode with a latency limit: SIGKILL + --resume
gives the uninterrupted search, front and exports included."""
import json
from pathlib import Path

import pytest

from tests.utils import (kill_and_resume_search, read_result, run_tool,
                         search_cmd, search_setup, write_latency_table)

# Every test runs the search tool (the module's set-up does).
pytestmark = pytest.mark.e2e

TIMEOUT = 300


def pareto_result(work_dir):
    """Everything the Pareto mode decides: parents, front, latencies."""
    work_dir = Path(work_dir)
    state = json.loads((work_dir / 'search_state.json').read_text())
    front = json.loads((work_dir / 'search_pareto.json').read_text())
    best = json.loads((work_dir / 'best_arch.json').read_text())
    return dict(
        read_result(work_dir),
        parents=[h['top_k'] for h in state['history']],
        fronts=[h['pareto_front'] for h in state['history']],
        latencies=[(e['arch'], e['latency_ms']) for e in state['log']],
        members=front['members'],
        best_latency=(best['latency_ms'], best['pareto_index']))


def exported(work_dir):
    """The exported detection configs without their comment headers."""
    files = sorted(Path(work_dir).glob('**/faster-rcnn_detnasnet-*.py'))
    return {str(f.relative_to(work_dir)): [
        line for line in f.read_text().splitlines()
        if not line.startswith('#')] for f in files}


@pytest.fixture(scope='module')
def setup(coco_data_root, tmp_path_factory):
    root = tmp_path_factory.mktemp('search_pareto')
    table = write_latency_table(root / 'latency.json')
    low, high = table.bounds()
    limit = low + 0.6 * (high - low)
    setup = search_setup(
        root, coco_data_root, 'search_pareto.py',
        latency_table=str(root / 'latency.json'), latency_limit_ms=limit,
        selection='pareto')
    setup.update(table=table, limit=limit)
    reference = root / 'reference'
    run_tool(search_cmd(setup, reference), TIMEOUT)
    setup['reference'] = reference
    return setup


def test_pareto_search_selects_parents_from_the_front(setup):
    result = pareto_result(setup['reference'])
    state = json.loads(
        (setup['reference'] / 'search_state.json').read_text())
    assert state['settings']['selection'] == 'pareto'
    assert all(lat <= setup['limit'] for _, lat in result['latencies'])
    cache = state['cache']
    from detnas_mm.engine.pareto import non_dominated_fronts, pareto_order
    for summary in state['history']:
        seen = [a for a in sorted(cache, key=lambda a: cache[a]['order'])
                if cache[a]['generation'] <= summary['generation']]
        points = [(cache[a]['score'], cache[a]['latency_ms']) for a in seen]
        assert summary['top_k'] == [seen[i]
                                    for i in pareto_order(points)[:2]]
        front = {seen[i] for i in non_dominated_fronts(points)[0]}
        assert set(summary['pareto_front']) == front
    members = result['members']
    assert [m['arch'] for m in members] == state['history'][-1][
        'pareto_front']
    # The best arch is the front's highest score, its last member.
    best_latency, index = result['best_latency']
    assert index == len(members) - 1
    assert best_latency == members[-1]['latency_ms']


def test_pareto_sigkill_and_resume_match_an_uninterrupted_run(
        setup, tmp_path):
    expected = pareto_result(setup['reference'])
    work_dir = tmp_path / 'killed'
    kill_and_resume_search(search_cmd(setup, work_dir), work_dir,
                           len(expected['log']), TIMEOUT)
    assert pareto_result(work_dir) == expected
    # The same front member exports to the same config.
    index = str(len(expected['members']) // 2)
    for folder in (work_dir, setup['reference']):
        run_tool(['tools/export_arch.py', '--search-dir', folder,
                  '--pareto-index', index, '--base', 'faster-rcnn_coco-tiny',
                  '--out-dir', folder / 'pareto'], TIMEOUT)
    assert exported(work_dir) == exported(setup['reference'])
    # The best arch (export_base) and the front member.
    assert len(exported(work_dir)) == 2
