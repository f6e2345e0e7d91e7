"""tools/analysis/rank_correlation.py end to end: a study on a tiny
supernet, killed with SIGKILL in the middle and run again."""
import json
import sys

import pytest

from tests.utils import kill_when, run_tool, search_setup

# Two training iterations on four images, no score threshold: detectors
# that find something, so the scores are not all zero.
DET_OPTIONS = [
    'train_cfg.max_iters=2', 'train_dataloader.dataset.indices=4',
    'test_dataloader.dataset.indices=6',
    'model.test_cfg.rcnn.score_thr=0.0'
]

pytestmark = pytest.mark.e2e


def study_cmd(setup, work_dir):
    return [sys.executable, 'tools/analysis/rank_correlation.py',
            str(setup['config']), str(setup['checkpoint']), '--work-dir',
            str(work_dir), '--num-random', '3', '--noise-seeds', '2',
            '--base', 'faster-rcnn_coco-tiny', '--det-cfg-options',
            *DET_OPTIONS]


@pytest.fixture(scope='module')
def setup(coco_data_root, tmp_path_factory):
    setup = search_setup(tmp_path_factory.mktemp('rank_study'),
                         coco_data_root)
    reference = setup['root'] / 'reference'
    run_tool(study_cmd(setup, reference), 900)
    setup['reference'] = reference
    return setup


def report(work_dir):
    return json.loads((work_dir / 'rank_correlation.json').read_text())


def test_study_writes_its_report(setup):
    work_dir = setup['reference']
    result = report(work_dir)
    assert result['agreement']['n'] == 3
    assert len(result['archs']) == 3
    assert result['noise']['seeds'] == 2
    assert all(r['role'] == 'random' for r in result['archs'])
    for name in ('rank_correlation.md', 'rank_correlation.png',
                 'archs.json', 'supernet_scores.json'):
        assert (work_dir / name).stat().st_size > 0
    # Every run in its own folder, with the exported configs it trained.
    runs = sorted((work_dir / 'runs').iterdir())
    assert len(runs) == 4
    for run in runs:
        assert (run / 'result.json').is_file()
        assert list(run.glob('faster-rcnn_detnasnet-*.py'))
    text = (work_dir / 'rank_correlation.md').read_text()
    assert 'Kendall tau' in text and 'run-to-run noise' in text


def test_killed_and_rerun_gives_the_same_result(setup, tmp_path):
    work_dir = tmp_path / 'study'
    cmd = study_cmd(setup, work_dir)
    runs = work_dir / 'runs'

    def second_run_trains():
        return runs.is_dir() and len(list(runs.glob('*/result.json'))) >= 1 \
            and len(list(runs.iterdir())) >= 2

    # Kill while the second standalone run trains.
    kill_when(cmd, second_run_trains, 600, poll_s=0.5)
    assert not (work_dir / 'rank_correlation.json').exists()
    run_tool(cmd, 900)
    assert report(work_dir) == report(setup['reference'])
