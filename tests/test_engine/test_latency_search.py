"""Latency-limited and multi-objective (Pareto) search."""
import itertools
import json
import math

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from detnas_mm.cost import ArchConstraint, LatencyTable
from detnas_mm.engine.evolution import draw_new, random_arch
from detnas_mm.engine.pareto import (crowding_distance, dominates, first_front,
                                     non_dominated_fronts, pareto_order)
from detnas_mm.export import read_pareto_member, read_search_result
from detnas_mm.models.backbones import format_arch, get_search_space
from tests.utils import (TINY_SPACE, assert_loop_refused,
                         assert_search_refused, idle_search_runner,
                         load_script, search_cfg, search_setup,
                         write_latency_table)

SPACE = get_search_space(TINY_SPACE)

# A hand-made population of (score, latency ms), in evaluation order.
POPULATION = [
    (0.30, 5.0),  # 0 front 0 (fastest)
    (0.50, 7.0),  # 1 front 0
    (0.40, 6.0),  # 2 front 0
    (0.45, 8.0),  # 3 front 1 (dominated by 1)
    (0.60, 9.0),  # 4 front 0 (best score)
    (0.30, 6.5),  # 5 front 1 (dominated by 0 and 2)
    (0.50, 7.0),  # 6 front 0 (equal to 1)
    (0.20, 9.5),  # 7 front 3 (dominated by 5, 3, ...)
    (0.35, 8.5),  # 8 front 2 (dominated by 2, 3)
]


def test_dominance_and_fronts_of_a_hand_made_population():
    assert dominates((0.5, 7.0), (0.45, 8.0))
    assert dominates((0.5, 7.0), (0.5, 8.0))
    assert not dominates((0.5, 7.0), (0.5, 7.0))
    assert not dominates((0.6, 9.0), (0.3, 5.0))
    fronts = non_dominated_fronts(POPULATION)
    assert fronts == [[0, 1, 2, 4, 6], [3, 5], [8], [7]]
    # Every point of a later front is dominated by one of the front before,
    # none within its own front.
    for before, after in zip(fronts, fronts[1:]):
        assert all(any(dominates(POPULATION[i], POPULATION[j])
                       for i in before) for j in after)
    for front in fronts:
        assert not any(dominates(POPULATION[i], POPULATION[j])
                       for i in front for j in front)
    assert non_dominated_fronts([]) == []


def test_crowding_distance_by_hand():
    front = [0, 1, 2, 4, 6]
    distance = dict(zip(front, crowding_distance(POPULATION, front)))
    # Ends of either objective: infinite.
    assert distance[0] == distance[4] == math.inf
    # Score range 0.3 (0.30 .. 0.60), latency range 4 ms (5 .. 9). By score
    # (ties by index): 4, 1, 6, 2, 0; by latency: 0, 2, 1, 6, 4.
    assert distance[2] == pytest.approx((0.50 - 0.30) / 0.3 + 2 / 4)
    assert distance[1] == pytest.approx((0.50 - 0.40) / 0.3 + 1 / 4)
    assert distance[6] == pytest.approx((0.50 - 0.40) / 0.3 + 2 / 4)
    assert crowding_distance(POPULATION, [3, 5]) == [math.inf, math.inf]


def test_pareto_order_is_deterministic_and_front_by_front():
    order = pareto_order(POPULATION)
    # Front 0: the two ends (ties by index), then by falling crowding
    # distance (6: 0.833, 2: 1.167, 1: 0.583); then front 1, 2, 3.
    assert order == [0, 4, 2, 6, 1, 3, 5, 8, 7]
    assert pareto_order(POPULATION) == order
    # Evaluated in another order, equal points and equal crowding
    # distances rank by the new evaluation order.
    perm = [4, 7, 6, 0, 8, 2, 1, 5, 3]
    shuffled = [POPULATION[i] for i in perm]
    assert [perm[i] for i in pareto_order(shuffled)] == [
        4, 0, 2, 1, 6, 5, 3, 8, 7]
    # By score alone the top 3 would be 4, 1, 6: Pareto keeps the fast ones.
    assert order[:3] != [4, 1, 6]
    assert first_front(POPULATION) == [0, 2, 1, 6, 4]
    with pytest.raises(ValueError, match='NaN'):
        pareto_order([(0.1, float('nan'))])


def test_top_of_pareto_order_is_the_nsga2_survivor_set():
    rng = np.random.default_rng(0)
    points = [(float(s), float(t)) for s, t in
              zip(rng.integers(0, 5, 40) / 10, rng.uniform(1, 2, 40))]
    order = pareto_order(points)
    assert sorted(order) == list(range(40))
    fronts = non_dominated_fronts(points)
    rank = {i: r for r, f in enumerate(fronts) for i in f}
    assert [rank[i] for i in order] == sorted(rank[i] for i in order)


def hand_table(tmp_path, size=(64, 64)):
    path = tmp_path / f'latency_{size[0]}.json'
    write_latency_table(path, size)
    return LatencyTable.load(str(path))


def test_latency_limit_refused_with_the_table_range(tmp_path):
    table = hand_table(tmp_path)
    low, high = table.bounds()
    with pytest.raises(ValueError) as error:
        ArchConstraint(SPACE, latency_table=table, latency_limit_ms=low - .1)
    message = str(error.value)
    assert f'latency_limit_ms={low - .1:.4g}' in message
    assert f'{low:.4g} .. {high:.4g} ms' in message
    assert 'latency_64.json' in message
    with pytest.raises(ValueError, match='needs a latency table'):
        ArchConstraint(SPACE, latency_limit_ms=10.0)
    with pytest.raises(ValueError, match='positive number'):
        ArchConstraint(SPACE, latency_table=table, latency_limit_ms=-1)
    with pytest.raises(ValueError, match='measured for space'):
        ArchConstraint(get_search_space('300M'), latency_table=table)


def test_flops_and_latency_limits_together(tmp_path):
    table = hand_table(tmp_path)
    flops_low, flops_high = ArchConstraint(SPACE).table.bounds()
    archs = list(itertools.product(SPACE.choices, repeat=SPACE.num_blocks))
    for frac in (0.0, 0.2, 0.5, 1.0):
        limit = flops_low + frac * (flops_high - flops_low)
        constraint = ArchConstraint(SPACE, flops_limit=limit,
                                    latency_table=table)
        brute = min(table.predict_path(a) for a in archs
                    if constraint.cost(a)[0] <= limit)
        assert constraint.fastest_within_flops() == pytest.approx(brute)
    # The cheapest-FLOPs arch is not the fastest: a latency limit below it
    # but above the space's fastest is refused only with the FLOPs limit.
    fastest_at_low = ArchConstraint(
        SPACE, flops_limit=flops_low,
        latency_table=table).fastest_within_flops()
    assert fastest_at_low > table.bounds()[0]
    limit = (fastest_at_low + table.bounds()[0]) / 2
    ArchConstraint(SPACE, latency_table=table, latency_limit_ms=limit)
    with pytest.raises(ValueError, match='together'):
        ArchConstraint(SPACE, flops_limit=flops_low, latency_table=table,
                       latency_limit_ms=limit)


def test_draw_new_respects_the_latency_limit(tmp_path):
    table = hand_table(tmp_path)
    low, high = table.bounds()
    limit = (low + high) / 2
    constraint = ArchConstraint(SPACE, latency_table=table,
                                latency_limit_ms=limit)
    rng = np.random.default_rng(0)
    archs = draw_new(lambda: random_arch(SPACE, rng), 40, constraint, set(),
                     10000)
    assert len(archs) == 40
    assert all(table.predict_path(a) <= limit for a in archs)
    assert constraint.latency(archs[0]) == table.predict(
        format_arch(archs[0], SPACE))
    assert not constraint.allows((3, ) * SPACE.num_blocks)


# The loop, on the tiny detection search set-up


@pytest.fixture(scope='module')
def det_setup(coco_data_root, tmp_path_factory):
    setup = search_setup(tmp_path_factory.mktemp('latency_search'),
                         coco_data_root)
    table_path = setup['root'] / 'latency_64.json'
    table = write_latency_table(table_path, (64, 64))
    return dict(setup, table=table, table_path=str(table_path))


@pytest.fixture(scope='module')
def idle_runner(det_setup, tmp_path_factory):
    return idle_search_runner(
        det_setup, tmp_path_factory.mktemp('latency_refusals'),
        'latency_refusals')


@pytest.mark.parametrize('case', [
    'table of another input size', 'table of another space',
    'latency limit below the table', 'limit without table',
    'pareto without table', 'unknown selection'
])
def test_latency_errors_are_raised_when_the_loop_is_built(
        det_setup, idle_runner, tmp_path, monkeypatch, case):
    base = Config.fromfile(str(det_setup['config'])).train_cfg.to_dict()
    write_latency_table(tmp_path / 't128.json', (128, 128))
    other_space = tmp_path / 'wide.json'
    write_latency_table(other_space, (64, 64),
                        dict(TINY_SPACE, stem_channels=12))
    low, high = det_setup['table'].bounds()
    path = det_setup['table_path']
    kwargs, match = dict([
        ('table of another input size',
         (dict(latency_table=str(tmp_path / 't128.json')),
          'measured at input size 128x128, not the requested 64x64')),
        ('table of another space', (dict(latency_table=str(other_space)),
                                    'measured for space')),
        ('latency limit below the table',
         (dict(latency_table=path, latency_limit_ms=low / 2),
          f'{low:.4g} .. {high:.4g} ms')),
        ('limit without table', (dict(latency_limit_ms=5.0),
                                 'needs a latency table')),
        ('pareto without table', (dict(selection='pareto'),
                                  'needs latency_table')),
        ('unknown selection', (dict(selection='best'), 'selection')),
    ])[case]
    assert_loop_refused(idle_runner, dict(base, **kwargs), match,
                        monkeypatch)


def test_runner_train_refuses_an_impossible_latency_limit_first(
        det_setup, tmp_path, monkeypatch):
    cfg = search_cfg(det_setup, tmp_path, f'refuse_latency_{tmp_path.name}',
                     latency_table=det_setup['table_path'],
                     latency_limit_ms=0.5)
    assert_search_refused(cfg, 'latency_limit_ms=0.5', monkeypatch)


def export_tool():
    return load_script('tools/export_arch.py').main


def test_a_latency_limited_search_runs_and_writes_its_front(
        det_setup, tmp_path, one_thread):
    table = det_setup['table']
    low, high = table.bounds()
    limit = low + 0.4 * (high - low)
    work_dir = tmp_path / 'search'
    Runner.from_cfg(
        search_cfg(det_setup, work_dir, f'latency_{tmp_path.name}',
                   latency_table=det_setup['table_path'],
                   latency_limit_ms=limit)).train()

    state = json.loads((work_dir / 'search_state.json').read_text())
    log = [json.loads(line) for line in
           (work_dir / 'search_log.jsonl').read_text().splitlines()]
    assert len(log) == 18 == len({e['arch'] for e in log})
    for entry in log:
        assert entry['latency_ms'] == pytest.approx(
            table.predict(entry['arch']))
        assert entry['latency_ms'] <= limit
        assert state['cache'][entry['arch']]['latency_ms'] == \
            entry['latency_ms']
    assert state['settings']['latency_limit_ms'] == limit
    assert state['settings']['selection'] == 'top_k'
    assert state['settings']['latency_table']['input_size'] == [64, 64]

    best = json.loads((work_dir / 'best_arch.json').read_text())
    assert best['latency_ms'] == pytest.approx(table.predict(best['arch']))
    assert best['latency_limit_ms'] == limit
    assert best['latency_table']['input_size'] == [64, 64]
    # top_k selection: the best score (ties: evaluated first).
    top = max(log, key=lambda e: (e['score'], -log.index(e)))
    assert best['arch'] == top['arch']

    front = json.loads((work_dir / 'search_pareto.json').read_text())
    members = front['members']
    assert [m['index'] for m in members] == list(range(len(members)))
    lat = [m['latency_ms'] for m in members]
    assert lat == sorted(lat)
    points = [(e['score'], e['latency_ms']) for e in log]
    on_front = {m['arch'] for m in members}
    for entry in log:
        dominated = any(dominates(p, (entry['score'], entry['latency_ms']))
                        for p in points)
        assert dominated != (entry['arch'] in on_front)
    for name in ('search_pareto.md', 'search_pareto.png'):
        assert (work_dir / name).stat().st_size > 0
    warning_lines = 2 if front['warning'] else 0
    assert (work_dir / 'search_pareto.md').read_text().count('\n') == \
        len(members) + 2 + warning_lines

    # The exported config of the best arch carries its latency.
    exported = list(work_dir.glob('faster-rcnn_detnasnet-custom-*.py'))
    assert len(exported) == 1
    assert f'latency: {best["latency_ms"]:.2f} ms' in exported[0].read_text()

    # Any front member exports by index, with its latency and index.
    last = len(members) - 1
    paths = export_tool()(['--search-dir', str(work_dir), '--pareto-index',
                           '0', '--base', 'faster-rcnn_coco-tiny',
                           '--out-dir', str(tmp_path / 'export')])
    text = open(paths['detection']).read()
    assert f"arch='{members[0]['arch']}'" in text
    assert f'latency: {members[0]["latency_ms"]:.2f} ms' in text
    assert 'Pareto front member 0 of' in text
    member = read_pareto_member(str(work_dir), last)
    assert member['arch'] == members[last]['arch']
    assert member['provenance']['latency_ms'] == members[last]['latency_ms']
    assert read_search_result(str(work_dir))['arch'] == best['arch']
    with pytest.raises(SystemExit, match='out of range'):
        export_tool()(['--search-dir', str(work_dir), '--pareto-index',
                       str(len(members))])
