"""tools/analysis/rank_correlation.py end to end: a study on a tiny
supernet, killed with SIGKILL in the middle and run again."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / 'tests' / 'test_engine'))
from search_utils import (make_split, save_random_supernet,  # noqa: E402
                          write_det_config)

ENV = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
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
    root = tmp_path_factory.mktemp('rank_study')
    split = make_split(coco_data_root, root / 'split')
    config = write_det_config(root / 'search_tiny.py', coco_data_root, split)
    checkpoint = save_random_supernet(config, root / 'supernet.pth')
    setup = dict(config=config, checkpoint=checkpoint, root=root)
    reference = root / 'reference'
    out = subprocess.run(study_cmd(setup, reference), cwd=REPO_ROOT, env=ENV,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
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
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=ENV,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            start_new_session=True)
    runs = work_dir / 'runs'
    deadline = time.time() + 600
    # Kill while the second standalone run trains.
    while time.time() < deadline and proc.poll() is None:
        if runs.is_dir() and len(list(runs.glob('*/result.json'))) >= 1 \
                and len(list(runs.iterdir())) >= 2:
            break
        time.sleep(0.5)
    assert proc.poll() is None, 'the study ended before the kill'
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (work_dir / 'rank_correlation.json').exists()
    out = subprocess.run(cmd, cwd=REPO_ROOT, env=ENV, capture_output=True,
                         text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert report(work_dir) == report(setup['reference'])
