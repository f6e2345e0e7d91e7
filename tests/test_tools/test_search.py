"""tools/search.py and tools/dist_search.sh end to end, in subprocesses."""
import importlib.util
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / 'tests' / 'test_engine'))
from search_utils import (make_split, read_result,  # noqa: E402
                          save_random_supernet, write_det_config)

# One intra-op thread per process: on a shared 2-core machine two threads
# per process fight over the cores and tiny convolutions get many times
# slower.
ENV = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
TIMEOUT = 300


def search_cmd(setup, work_dir, *extra):
    return [sys.executable, 'tools/search.py', str(setup['config']),
            str(setup['checkpoint']), '--work-dir', str(work_dir), *extra]


def run(cmd):
    result = subprocess.run(cmd, cwd=REPO_ROOT, env=ENV, timeout=TIMEOUT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[
        -3000:]
    return result


def exported_config(work_dir):
    """The exported detection config without its comment header."""
    files = list(Path(work_dir).glob('faster-rcnn_detnasnet-*.py'))
    assert len(files) == 1, files
    return [line for line in files[0].read_text().splitlines()
            if not line.startswith('#')]


@pytest.fixture(scope='module')
def setup(coco_data_root, tmp_path_factory):
    root = tmp_path_factory.mktemp('search_tool')
    split = make_split(coco_data_root, root / 'split')
    config = write_det_config(root / 'search_tiny.py', coco_data_root, split)
    checkpoint = save_random_supernet(config, root / 'supernet.pth')
    setup = dict(root=root, config=config, checkpoint=checkpoint)
    # The uninterrupted single-process reference run.
    reference = root / 'reference'
    start = time.perf_counter()
    run(search_cmd(setup, reference))
    setup['reference_seconds'] = time.perf_counter() - start
    setup['reference'] = reference
    return setup


def test_sigkill_and_resume_match_an_uninterrupted_run(setup, tmp_path):
    expected = read_result(setup['reference'])
    total = len(expected['log'])
    # Kill after a random number of finished candidates, i.e. at a random
    # point of the next one.
    kill_after = random.SystemRandom().randint(1, total - 2)
    work_dir = tmp_path / 'killed'
    log = work_dir / 'search_log.jsonl'
    proc = subprocess.Popen(search_cmd(setup, work_dir), cwd=REPO_ROOT,
                            env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + TIMEOUT
    while time.time() < deadline and proc.poll() is None:
        if log.exists() and len(log.read_text().splitlines()) >= kill_after:
            break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    state = json.loads((work_dir / 'search_state.json').read_text())
    done = len(state['log'])
    assert kill_after <= done < total, (kill_after, done)
    assert not (work_dir / 'best_arch.json').exists()

    run(search_cmd(setup, work_dir, '--resume'))
    resumed = read_result(work_dir)
    print(f'\nkilled after {done} of {total} candidates, resumed')
    assert resumed == expected
    assert exported_config(work_dir) == exported_config(setup['reference'])
    lines = (work_dir / 'search_log.jsonl').read_text().splitlines()
    assert [json.loads(line)['arch'] for line in lines] == [
        entry[0] for entry in expected['log']
    ]


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_two_process_search_equals_one_process_search(setup, tmp_path):
    work_dir = tmp_path / 'two_procs'
    env = dict(ENV, PORT=str(free_port()))
    start = time.perf_counter()
    result = subprocess.run(
        ['bash', 'tools/dist_search.sh', str(setup['config']),
         str(setup['checkpoint']), '2', '--work-dir', str(work_dir)],
        cwd=REPO_ROOT, env=env, timeout=TIMEOUT, capture_output=True,
        text=True)
    seconds = time.perf_counter() - start
    assert result.returncode == 0, result.stderr[-3000:]
    print(f'\n1 process {setup["reference_seconds"]:.1f}s, 2 processes '
          f'{seconds:.1f}s (wall, with start-up)')
    assert read_result(work_dir) == read_result(setup['reference'])


def load_tool():
    spec = importlib.util.spec_from_file_location(
        'search_tool', REPO_ROOT / 'tools' / 'search.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_search_tool_refuses_bad_arguments(tmp_path, capsys):
    tool = load_tool()
    config = REPO_ROOT / 'configs' / 'supernet' / (
        'faster-rcnn_detnas-supernet-300M_fpn_8xb2-90k_coco.py')
    ckpt = tmp_path / 'x.pth'
    ckpt.write_bytes(b'')
    with pytest.raises(ValueError, match='EvolutionSearchLoop'):
        tool.build_cfg(tool.parse_args([str(config), str(ckpt)]))
    search_config = REPO_ROOT / 'configs' / 'search' / (
        'search_faster-rcnn_detnas-supernet-tiny_fpn_3x8_coco-tiny.py')
    # A missing checkpoint: one line (argparse), before anything is built.
    with pytest.raises(SystemExit) as exit_info:
        tool.parse_args([str(search_config), str(tmp_path / 'no.pth')])
    assert exit_info.value.code == 2
    assert 'no.pth' in capsys.readouterr().err
    cfg = tool.build_cfg(tool.parse_args(
        [str(search_config), str(ckpt), '--resume', '--work-dir',
         str(tmp_path)]))
    assert cfg.train_cfg.resume is True and cfg.resume is False
    assert cfg.load_from == str(ckpt) and cfg.work_dir == str(tmp_path)
