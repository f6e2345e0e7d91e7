"""tools/search.py and tools/dist_search.sh end to end, in subprocesses."""
import json
import time
from pathlib import Path

import pytest

from tests.utils import (CONFIGS, free_port, kill_and_resume_search,
                         load_script, read_result, run_tool, search_cmd,
                         search_setup, tool_env)

TIMEOUT = 300


def exported_config(work_dir):
    """The exported detection config without its comment header."""
    files = list(Path(work_dir).glob('faster-rcnn_detnasnet-*.py'))
    assert len(files) == 1, files
    return [line for line in files[0].read_text().splitlines()
            if not line.startswith('#')]


@pytest.fixture(scope='module')
def setup(coco_data_root, tmp_path_factory):
    setup = search_setup(tmp_path_factory.mktemp('search_tool'),
                         coco_data_root)
    # The uninterrupted single-process reference run.
    reference = setup['root'] / 'reference'
    start = time.perf_counter()
    run_tool(search_cmd(setup, reference), TIMEOUT)
    setup['reference_seconds'] = time.perf_counter() - start
    setup['reference'] = reference
    return setup


@pytest.mark.e2e
def test_sigkill_and_resume_match_an_uninterrupted_run(setup, tmp_path):
    expected = read_result(setup['reference'])
    work_dir = tmp_path / 'killed'
    kill_and_resume_search(search_cmd(setup, work_dir), work_dir,
                           len(expected['log']), TIMEOUT)
    assert read_result(work_dir) == expected
    assert exported_config(work_dir) == exported_config(setup['reference'])
    lines = (work_dir / 'search_log.jsonl').read_text().splitlines()
    assert [json.loads(line)['arch'] for line in lines] == [
        entry[0] for entry in expected['log']
    ]


@pytest.mark.e2e
def test_two_process_search_equals_one_process_search(setup, tmp_path):
    work_dir = tmp_path / 'two_procs'
    start = time.perf_counter()
    run_tool(['bash', 'tools/dist_search.sh', setup['config'],
              setup['checkpoint'], '2', '--work-dir', work_dir], TIMEOUT,
             env=tool_env(PORT=str(free_port())))
    seconds = time.perf_counter() - start
    print(f'\n1 process {setup["reference_seconds"]:.1f}s, 2 processes '
          f'{seconds:.1f}s (wall, with start-up)')
    assert read_result(work_dir) == read_result(setup['reference'])


def test_search_tool_refuses_bad_arguments(tmp_path, capsys):
    tool = load_script('tools/search.py')
    config = CONFIGS / 'supernet' / (
        'faster-rcnn_detnas-supernet-300M_fpn_8xb2-90k_coco.py')
    ckpt = tmp_path / 'x.pth'
    ckpt.write_bytes(b'')
    with pytest.raises(ValueError, match='EvolutionSearchLoop'):
        tool.build_cfg(tool.parse_args([str(config), str(ckpt)]))
    search_config = CONFIGS / 'search' / (
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
