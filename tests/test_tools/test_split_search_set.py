import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / 'tools' / 'dataset' / 'split_search_set.py'


def run_tool(*args):
    env = dict(os.environ)
    # The tool imports detnas_mm: make this checkout importable even when
    # the package is not installed.
    env['PYTHONPATH'] = os.pathsep.join(
        filter(None, [str(REPO_ROOT), env.get('PYTHONPATH')]))
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120)


@pytest.fixture(scope='module')
def train_ann(coco_data_root):
    return coco_data_root / 'annotations' / 'instances_train2017.json'


def test_coco_split_and_verify(tmp_path, train_ann):
    result = run_tool('coco', train_ann, '--out-dir', tmp_path, '--num-search',
                      20, '--seed', 3)
    assert result.returncode == 0, result.stderr
    assert 'coco split, seed 3, 20 search images' in result.stdout
    assert f'{tmp_path}/search.json (20 images)' in result.stdout
    manifest = json.loads((tmp_path / 'manifest.json').read_text())
    assert len(manifest['search_image_ids']) == 20
    assert manifest['seed'] == 3
    search = json.loads((tmp_path / 'search.json').read_text())
    assert [i['id'] for i in search['images']] == manifest['search_image_ids']

    result = run_tool('verify', tmp_path / 'manifest.json')
    assert result.returncode == 0, result.stderr
    assert 'OK' in result.stdout


def test_default_num_search_is_refused_on_a_tiny_set(tmp_path, train_ann):
    result = run_tool('coco', train_ann, '--out-dir', tmp_path)
    assert result.returncode == 2
    assert 'num_search=5000' in result.stderr
    assert not (tmp_path / 'manifest.json').exists()


def test_missing_file_is_reported_without_a_traceback(tmp_path):
    result = run_tool('coco', tmp_path / 'missing.json', '--out-dir', tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith('error:')
    assert 'missing.json' in result.stderr


def test_voc_split(tmp_path):
    lists = []
    for year, count in (('VOC2007', 30), ('VOC2012', 10)):
        folder = tmp_path / year / 'ImageSets' / 'Main'
        folder.mkdir(parents=True)
        ids = ''.join(f'{year}_{i:06d}\n' for i in range(count))
        (folder / 'trainval.txt').write_text(ids)
        lists.append(folder / 'trainval.txt')
    out_dir = tmp_path / 'split'
    result = run_tool('voc', *lists, '--out-dir', out_dir, '--num-search', 8)
    assert result.returncode == 0, result.stderr
    assert 'voc split, seed 0, 8 search images' in result.stdout
    searched = sum(
        len((out_dir / year / 'search.txt').read_text().split())
        for year in ('VOC2007', 'VOC2012'))
    assert searched == 8
    assert (out_dir / 'VOC2012' / 'trainval_remain.txt').is_file()
    assert run_tool('verify', out_dir / 'manifest.json').returncode == 0


def test_help_names_every_command():
    result = run_tool('--help')
    assert result.returncode == 0
    for command in ('coco', 'voc', 'verify'):
        assert command in result.stdout
