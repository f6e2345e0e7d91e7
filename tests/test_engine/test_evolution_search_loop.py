import json

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from detnas_mm.cost import ArchConstraint
from detnas_mm.engine.evolution import crossover, draw_new, mutate, random_arch
from detnas_mm.engine.loops import EvolutionSearchLoop
from detnas_mm.engine.loops.evolution_search_loop import (near_best,
                                                          ranking_check)
from detnas_mm.engine.search_plots import op_frequency, pareto_front
from detnas_mm.engine.search_state import load_state, new_state
from detnas_mm.models.backbones import get_search_space
from detnas_mm.utils import atomic_write_json
from tests.utils import (CONFIGS, TINY_SPACE, assert_loop_refused,
                         assert_search_refused, idle_search_runner,
                         read_result, search_cfg, search_setup)

SPACE = get_search_space(TINY_SPACE)


@pytest.fixture(scope='module')
def det_setup(coco_data_root, tmp_path_factory):
    return search_setup(tmp_path_factory.mktemp('search_engine'),
                        coco_data_root)


def run_search(setup, work_dir, **loop):
    runner = Runner.from_cfg(
        search_cfg(setup, work_dir, f'search_{work_dir.name}', **loop))
    runner.train()
    return runner


def test_mutation_and_crossover_are_seeded_and_stay_in_space():
    parent = (0, 1, 2, 3, 0)
    child = mutate(parent, SPACE, 0.0, np.random.default_rng(0))
    assert child == parent
    a = [mutate(parent, SPACE, 1.0, np.random.default_rng(s))
         for s in range(2)]
    b = [mutate(parent, SPACE, 1.0, np.random.default_rng(s))
         for s in range(2)]
    assert a == b and a[0] != a[1]
    other = (3, 3, 3, 3, 3)
    mix = crossover(parent, other, np.random.default_rng(1))
    assert all(g in pair for g, pair in zip(mix, zip(parent, other)))
    assert set(random_arch(SPACE, np.random.default_rng(0))) <= set(
        SPACE.choices)


def test_draw_new_gives_unvisited_archs_within_limits():
    constraint = ArchConstraint(SPACE)
    low, high = constraint.table.bounds()
    constraint = ArchConstraint(SPACE, flops_limit=(low + high) / 2)
    rng = np.random.default_rng(0)
    visited = {random_arch(SPACE, np.random.default_rng(s))
               for s in range(50)}
    taken = set(visited)
    archs = draw_new(lambda: random_arch(SPACE, rng), 30, constraint,
                     taken, 10000)
    assert len(archs) == 30 == len(set(archs))
    assert not set(archs) & visited
    assert taken == visited | set(archs)
    assert all(constraint.cost(a)[0] <= (low + high) / 2 for a in archs)


def test_ranking_check_says_when_scores_cannot_rank():
    ok = ranking_check([0.1, 0.3, 0.2], 0.3, 0.29, 'coco/bbox_mAP')
    assert ok['can_rank'] and ok['message'] is None
    zeros = ranking_check([0.0] * 5, 0.0, 0.0, 'coco/bbox_mAP')
    assert not zeros['can_rank']
    assert 'every one of the 5 candidates scored 0' in zeros['message']
    assert 'detects nothing' in zeros['message']
    noisy = ranking_check([0.10, 0.11, 0.12], 0.12, 0.09, 'coco/bbox_mAP')
    assert not noisy['can_rank'] and 'within the noise' in noisy['message']


def test_near_best_lists_the_scores_within_the_noise_of_the_best():
    scores = {'a': 0.663, 'b': 0.662, 'c': 0.6625, 'd': 0.660, 'e': 0.58}
    near = near_best(scores, 'a', 0.001, 'coco/bbox_mAP')
    # The pick first, then by score; 0.660 is 0.003 below: resolved.
    assert near['archs'] == ['a', 'c', 'b']
    assert '3 of the 5 evaluated architectures' in near['message']
    assert 'a, c, b' in near['message']
    alone = near_best(scores, 'a', 0.0005, 'coco/bbox_mAP')
    assert alone['archs'] == ['a'] and alone['message'] is None
    # Exact ties count even when the re-score did not move.
    tied = near_best({'x': 100.0, 'y': 100.0, 'z': 99.75}, 'x', 0.0,
                     'accuracy/top1')
    assert tied['archs'] == ['x', 'y'] and tied['message']


@pytest.mark.parametrize('kwargs, match', [
    (dict(flops_limit=1e3), 'flops_limit'),
    (dict(params_limit=10), 'params_limit'),
    (dict(flops_mode='neck'), 'flops_mode'),
])
def test_impossible_constraints_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ArchConstraint(SPACE, **kwargs)


def test_pareto_front_and_op_frequency():
    points = [(1, 0.1), (2, 0.3), (2, 0.2), (3, 0.25), (4, 0.5), (1, 0.1)]
    assert pareto_front(points) == [0, 1, 4]
    counts = op_frequency(['0|1|23|3', '0|1|22|0'], SPACE)
    assert counts.sum() == 10 and counts[0, 0] == 2 and counts[3, 3] == 1


def test_state_is_written_atomically_and_checked_on_load(tmp_path):
    path = tmp_path / 'state.json'
    state = new_state(dict(seed=0, top_k=2), {'x': 1})
    atomic_write_json(str(path), state)
    assert load_state(str(path), dict(seed=0, top_k=2)) == state
    assert [p.name for p in tmp_path.iterdir()] == ['state.json']
    with pytest.raises(ValueError, match='seed: saved 0 now 1'):
        load_state(str(path), dict(seed=1, top_k=2))


def _search_dataset(setup, **changes):
    cfg = Config.fromfile(str(setup['config']))
    loader = cfg.val_dataloader
    loader.dataset.update(changes)
    return loader.to_dict()


@pytest.fixture(scope='module')
def idle_runner(det_setup, tmp_path_factory):
    return idle_search_runner(det_setup,
                              tmp_path_factory.mktemp('refusals'),
                              'refusals')


@pytest.mark.parametrize('case', [
    'flops below the smallest arch', 'params below the smallest arch',
    'top_k above population', 'unknown export base',
    'search split is the test split', 'search split overlaps training',
    'training set contains the search split'
])
def test_errors_are_raised_when_the_loop_is_built(det_setup, idle_runner,
                                                  monkeypatch, case):
    """Runner.train builds the loop first: nothing is evaluated before."""
    coco = det_setup['coco']
    train = str(coco / 'annotations' / 'instances_train2017.json')
    val = str(coco / 'annotations' / 'instances_val2017.json')
    base = Config.fromfile(str(det_setup['config'])).train_cfg.to_dict()
    kwargs, match = dict(
        [('flops below the smallest arch', (dict(flops_limit=1e3),
                                            'flops_limit')),
         ('params below the smallest arch', (dict(params_limit=100),
                                             'params_limit')),
         ('top_k above population', (dict(top_k=9), 'top_k')),
         ('unknown export base', (dict(export_base='nope'),
                                  'retraining base')),
         ('search split is the test split', (dict(
             search_dataloader=_search_dataset(
                 det_setup, ann_file=val,
                 data_prefix=dict(img=str(coco) + '/val2017/'))),
             'test split')),
         ('search split overlaps training', (dict(
             search_dataloader=_search_dataset(det_setup, ann_file=train)),
             'shares')),
         ('training set contains the search split', (dict(
             dataloader=dict(
                 idle_runner.cfg.train_dataloader.to_dict(),
                 dataset=dict(idle_runner.cfg.train_dataloader.dataset,
                              ann_file=train))), 'shares'))])[case]
    assert_loop_refused(idle_runner, dict(base, **kwargs), match,
                        monkeypatch)


def test_runner_train_refuses_before_loading_or_evaluating(
        det_setup, tmp_path, monkeypatch):
    cfg = search_cfg(det_setup, tmp_path, f'refuse_{tmp_path.name}',
                     flops_limit=1e3)
    assert_search_refused(cfg, 'flops_limit', monkeypatch)


def test_every_generation_evaluates_new_archs_only(det_setup, tmp_path,
                                                   one_thread):
    work_dir = tmp_path / 'search'
    run_search(det_setup, work_dir)
    result = read_result(work_dir)
    state = json.loads((work_dir / 'search_state.json').read_text())
    archs = [x[0] for x in result['log']]
    # No revisits (the official legal()): 3 generations of 6 new archs.
    assert result['num_evaluations'] == len(archs) == 18 == len(set(archs))
    assert len(state['history']) == 3
    for summary in state['history']:
        assert len(summary['top_k']) == len(set(summary['top_k'])) == 2
        assert len(set(summary['candidates'])) == len(summary['candidates'])
        assert len(summary['candidates']) == 6
    # The ranking check ran once, after generation 0.
    assert state['ranking']['num_scores'] == 6
    # Outputs.
    lines = (work_dir / 'search_log.jsonl').read_text().splitlines()
    assert [json.loads(line)['arch'] for line in lines] == archs
    calibration = json.loads(
        (work_dir / 'calibration_images.json').read_text())
    assert len(calibration['images']) == 4
    for name in ('search_scores.png', 'search_op_frequency.png',
                 'search_topk.md', 'best_arch.json'):
        assert (work_dir / name).stat().st_size > 0
    best = json.loads((work_dir / 'best_arch.json').read_text())
    assert best['arch'] == result['top_k'][0]['arch']
    assert best['flops_count'] == 'official'
    assert 'can_rank' in best
    noise = state['ranking']['noise']
    scores = {row[0]: row[1] for row in result['log']}
    assert best['near_best'][0] == best['arch']
    assert set(best['near_best']) == {
        a for a, score in scores.items()
        if score >= scores[best['arch']] - noise}
    exported = list(work_dir.glob('faster-rcnn_detnasnet-custom-*.py'))
    assert len(exported) == 1
    assert f"arch='{best['arch']}'" in exported[0].read_text()


def test_detector_flops_are_table_plus_a_constant_and_exact(det_setup):
    from detnas_mm.cost.detector_flops import detector_cost
    cfg = Config.fromfile(str(det_setup['config']))
    constraint = ArchConstraint(SPACE, flops_mode='detector',
                                input_size=None, detector_config=cfg)
    assert constraint.table.input_size == (64, 64)
    for arch in [(3, 3, 3, 3, 3), (1, 2, 0, 3, 2)]:
        assert constraint.cost(arch)[0] == detector_cost(cfg, arch)['flops']
    low = constraint.table.bounds(count='full')[0] + constraint.extra_flops
    with pytest.raises(ValueError, match='flops_limit'):
        ArchConstraint(SPACE, flops_limit=low - 1, flops_mode='detector',
                       input_size=None, detector_config=cfg)


CLS_CONFIG = (CONFIGS / 'search' /
              'search_detnas-supernet-300M_3x8_imagenette-64px.py')


@pytest.mark.parametrize('search_folder, match', [
    ('val', 'is the test split'),
    ('train', 'shares'),
])
def test_folder_datasets_are_checked_by_image_files(builtin_data, tmp_path,
                                                    search_folder, match):
    """Classification folders have no annotation file to compare."""
    root = str(builtin_data['classification'])
    cfg = Config.fromfile(str(CLS_CONFIG))
    num_classes = len(
        [p for p in builtin_data['classification'].joinpath('train')
         .iterdir() if p.is_dir()])
    cfg.model.head.num_classes = num_classes
    cfg.data_preprocessor.num_classes = num_classes
    for loader, folder in ((cfg.train_dataloader, 'train'),
                           (cfg.val_dataloader, search_folder),
                           (cfg.test_dataloader, 'val')):
        loader.dataset.update(data_root=root, data_prefix=folder,
                              ann_file='')
    cfg.work_dir = str(tmp_path)
    cfg.log_level = 'WARNING'
    cfg.experiment_name = f'cls_{tmp_path.name}'
    runner = Runner.from_cfg(cfg)
    with pytest.raises(ValueError, match=match):
        runner.build_train_loop(cfg.train_cfg)


@pytest.mark.parametrize(
    'config', sorted(p.name for p in (CONFIGS / 'search').glob('*.py')))
def test_every_search_config_builds_its_model(config):
    from mmengine.registry import MODELS, init_default_scope

    from detnas_mm.models.backbones import DetNASSupernet
    cfg = Config.fromfile(str(CONFIGS / 'search' / config))
    assert cfg.train_cfg.type == 'detnas_mm.EvolutionSearchLoop'
    assert cfg.custom_hooks == []
    init_default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model)
    assert isinstance(model.backbone, DetNASSupernet)
    # The loop's arguments are valid before any data is needed.
    loop = cfg.train_cfg.to_dict()
    EvolutionSearchLoop._check_settings(
        loop['num_generations'], loop['population_size'], loop['top_k'],
        loop['num_mutation'], loop['mutation_prob'], loop['num_crossover'],
        loop['num_calibration_images'], loop.get('max_tries', 10000))
    ArchConstraint(model.backbone.space, loop.get('flops_limit'),
                   loop.get('params_limit'),
                   loop.get('flops_input_size', 224))
