"""The main job: the whole pipeline, on the shared real data, and resumed
after an interruption during the search."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from tests.utils import REPO_ROOT

# The whole pipeline in subprocesses (about 25 minutes).
pytestmark = pytest.mark.e2e

TOOL = REPO_ROOT / 'tools' / 'pipeline.py'


def pipeline_cmd(work_dir, coco_data_root, imagenet_data_root):
    return [sys.executable, str(TOOL), '--preset', 'quick', '--work-dir',
            str(work_dir), '--det-data-root', str(coco_data_root),
            '--cls-data-root', str(imagenet_data_root)]


def summary(work_dir):
    return json.loads((work_dir / '7_report' / 'summary.json').read_text())


@pytest.fixture(scope='module')
def finished_run(tmp_path_factory, coco_data_root, imagenet_data_root):
    work_dir = tmp_path_factory.mktemp('pipeline') / 'run'
    out = subprocess.run(
        pipeline_cmd(work_dir, coco_data_root, imagenet_data_root),
        capture_output=True, text=True, timeout=1500)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return work_dir, out.stdout


def test_pipeline_runs_to_the_end_on_real_data(finished_run):
    work_dir, stdout = finished_run
    result = summary(work_dir)
    names = [row['name'] for row in result['table']]
    assert names[0] in ('searched', 'search result (unranked)')
    assert names[1].startswith('published')
    assert names[2].startswith('random, median of')
    for row in result['table']:
        assert 0.0 <= row['test_mAP'] <= 1.0
        assert 0.0 <= row['search_score'] <= 1.0
    report = work_dir / '7_report'
    for name in ('summary.md', 'search_scores.png',
                 'search_op_frequency.png'):
        assert (report / name).is_file(), name
    assert list(report.glob('faster-rcnn_detnasnet-*.py'))
    # Progress the whole way, and the table at the end.
    for stage in ('pretrain', 'split', 'finetune', 'search', 'export',
                  'retrain', 'report'):
        assert f'] {stage}:' in stdout
    assert f'| {names[0]} |' in stdout and 'report folder:' in stdout
    assert 'sizes of this run:' in stdout
    # The searched architecture is the search's best one.
    best = json.loads((work_dir / '4_search' / 'best_arch.json').read_text())
    assert result['searched']['arch'] == best['arch']
    # Its supernet score is the search's own (the same scoring code).
    assert result['searched']['search_score'] == best['score']
    assert (work_dir / 'data_check.json').is_file()
    assert 'rank_agreement' in result and result['verdict']


def test_the_guard_speaks_when_the_supernet_detects_nothing(finished_run):
    """Four fine-tuning iterations detect nothing on coco_tiny at 128 px:
    the summary must say the search could not rank, not show a winner."""
    work_dir, stdout = finished_run
    result = summary(work_dir)
    best = json.loads((work_dir / '4_search' / 'best_arch.json').read_text())
    scores = [e['score'] for e in json.loads(
        (work_dir / '4_search' / 'search_state.json').read_text())['log']]
    assert max(scores) == 0.0, 'this run was expected to detect nothing'
    assert best['can_rank'] is False
    assert result['table'][0]['name'] == 'search result (unranked)'
    message = 'The search cannot rank architectures'
    assert message in stdout
    text = (work_dir / '7_report' / 'summary.md').read_text()
    assert message in text and 'supernet detects nothing' in text
    assert 'searched architecture tested' not in text


def test_interrupted_search_resumes_to_the_same_result(
        finished_run, tmp_path, coco_data_root, imagenet_data_root):
    done_dir, _ = finished_run
    work_dir = tmp_path / 'run'
    work_dir.mkdir()
    # The stages before the search are done already (and are skipped).
    for stage in ('1_pretrain', '2_split', '3_finetune'):
        shutil.copytree(done_dir / stage, work_dir / stage)
    cmd = pipeline_cmd(work_dir, coco_data_root, imagenet_data_root)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            start_new_session=True)
    log = work_dir / '4_search' / 'search_log.jsonl'
    deadline = time.time() + 900
    while time.time() < deadline and proc.poll() is None:
        if log.is_file() and len(log.read_text().splitlines()) >= 2:
            break
        time.sleep(0.5)
    assert proc.poll() is None, 'the search ended before the interruption'
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (work_dir / '4_search' / 'done.json').exists()

    out = subprocess.run(cmd, capture_output=True, text=True, timeout=1500)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert 'done already' in out.stdout
    assert 'resuming the interrupted search' in out.stdout
    resumed, uninterrupted = summary(work_dir), summary(done_dir)
    assert resumed['table'] == uninterrupted['table']
