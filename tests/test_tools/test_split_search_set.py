import json

import pytest

from tests import utils

# Every test runs the tool in a subprocess.
pytestmark = pytest.mark.e2e

SCRIPT = utils.REPO_ROOT / 'tools' / 'dataset' / 'split_search_set.py'


def run_tool(*args):
    return utils.run_tool([SCRIPT, *args], timeout=120, check=False)


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


def assert_one_line_error(result, *parts):
    assert result.returncode == 2, result.stdout + result.stderr
    assert 'Traceback' not in result.stderr
    assert result.stderr.startswith('error: ')
    assert result.stderr.count('\n') == 1, result.stderr
    for part in parts:
        assert part in result.stderr, result.stderr


@pytest.fixture
def coco_json(train_ann):
    with open(train_ann, encoding='utf-8') as f:
        return json.load(f)


def write_json(path, obj):
    path.write_text(json.dumps(obj))
    return path


def test_checks_the_input_and_prints_warnings(tmp_path, train_ann, coco_json):
    # An image without boxes is a warning: the split goes ahead.
    first = coco_json['images'][0]
    coco_json['annotations'] = [
        a for a in coco_json['annotations'] if a['image_id'] != first['id']
    ]
    ann_file = write_json(tmp_path / 'train.json', coco_json)
    result = run_tool('coco', ann_file, '--img-dir',
                      train_ann.parents[1] / 'train2017', '--out-dir',
                      tmp_path / 'split', '--num-search', 10)
    assert result.returncode == 0, result.stderr
    assert (f'warning image_without_boxes [train]: 1 image(s) without a '
            f'usable box (e.g. {first["file_name"]})') in result.stdout
    assert '--img-dir' not in result.stdout
    assert 'coco split, seed 0, 10 search images' in result.stdout


def test_without_img_dir_says_what_was_not_checked(tmp_path, train_ann):
    result = run_tool('coco', train_ann, '--out-dir', tmp_path, '--num-search',
                      10)
    assert result.returncode == 0, result.stderr
    assert 'not checked: train: missing_image, unreadable_image' in \
        result.stdout
    assert 'give --img-dir' in result.stdout


def test_fatal_problems_stop_the_tool_in_one_line(tmp_path, train_ann,
                                                  coco_json):
    coco_json['images'][1]['file_name'] = 'nowhere.jpg'
    coco_json['annotations'][0]['category_id'] = 12345
    ann_file = write_json(tmp_path / 'train.json', coco_json)
    result = run_tool('coco', ann_file, '--img-dir',
                      train_ann.parents[1] / 'train2017', '--out-dir',
                      tmp_path / 'split', '--num-search', 10)
    assert_one_line_error(
        result, '2 kind(s) of fatal problem',
        'missing_image [train]: 1 listed image(s) whose file is missing '
        '(e.g. nowhere.jpg)', 'unknown_category [train]: 1', 'category 12345')
    assert not (tmp_path / 'split').exists()


@pytest.mark.parametrize('text, part', [
    ('{"images": [', 'not JSON'),
    ('[1, 2]', 'no "images" list'),
    ('{"images": [], "categories": []}', 'no "categories" list'),
])
def test_broken_json_is_one_line(tmp_path, text, part):
    ann_file = tmp_path / 'train.json'
    ann_file.write_text(text)
    result = run_tool('coco', ann_file, '--out-dir', tmp_path / 'split')
    assert_one_line_error(result, 'malformed_annotation', part)


def test_img_dir_must_be_a_folder(tmp_path, train_ann):
    result = run_tool('coco', train_ann, '--img-dir', tmp_path / 'nope',
                      '--out-dir', tmp_path)
    assert_one_line_error(result, f'--img-dir {tmp_path / "nope"} is not a '
                          f'folder')


def test_verify_of_another_file_is_one_line(tmp_path):
    path = write_json(tmp_path / 'manifest.json', dict(images=[]))
    result = run_tool('verify', path)
    assert_one_line_error(result, 'is not a split manifest')


@pytest.fixture
def voc_devkit(tmp_path, coco_data_root):
    from detnas_mm.datasets import coco_to_voc
    return coco_to_voc(coco_data_root, tmp_path / 'voc')


def test_voc_split_checks_a_voc_folder(tmp_path, voc_devkit):
    main = voc_devkit / 'VOC2007' / 'ImageSets' / 'Main'
    result = run_tool('voc', main / 'trainval.txt', '--out-dir',
                      tmp_path / 'split', '--num-search', 10)
    assert result.returncode == 0, result.stderr
    assert 'Data checks (voc data: train ' in result.stdout
    assert 'no problems found' in result.stdout

    ids = (main / 'trainval.txt').read_text().split()
    (voc_devkit / 'VOC2007' / 'Annotations' / f'{ids[3]}.xml').unlink()
    result = run_tool('voc', main / 'trainval.txt', '--out-dir',
                      tmp_path / 'split2', '--num-search', 10)
    assert_one_line_error(result, 'missing_annotation [train]: 1',
                          f'VOC2007/Annotations/{ids[3]}.xml')
    assert not (tmp_path / 'split2').exists()


def test_voc_lists_outside_a_voc_folder_are_split_unchecked(tmp_path):
    folder = tmp_path / 'VOC2007' / 'ImageSets' / 'Main'
    folder.mkdir(parents=True)
    (folder / 'trainval.txt').write_text('a\nb\nc\n')
    result = run_tool('voc', folder / 'trainval.txt', '--out-dir',
                      tmp_path / 'split', '--num-search', 1)
    assert result.returncode == 0, result.stderr
    assert 'Data checks skipped' in result.stdout
    assert 'voc split, seed 0, 1 search images' in result.stdout


def test_missing_voc_list_is_one_line(tmp_path):
    result = run_tool('voc', tmp_path / 'none.txt', '--out-dir', tmp_path)
    assert_one_line_error(result, 'none.txt')
