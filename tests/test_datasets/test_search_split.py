import hashlib
import json
import shutil

import pytest

from detnas_mm.datasets import (check_search_split, split_coco, split_voc,
                                verify_manifest)
from detnas_mm.datasets.search_split import _read_images
from tests.utils import load_script


def load_json(path):
    with open(path) as f:
        return json.load(f)


def write_json(path, obj):
    with open(path, 'w') as f:
        json.dump(obj, f)
    return path


def image_ids(ann_file):
    return [image['id'] for image in load_json(ann_file)['images']]


@pytest.fixture(scope='module')
def train_ann(coco_data_root):
    return coco_data_root / 'annotations' / 'instances_train2017.json'


@pytest.fixture(scope='module')
def test_ann(coco_data_root):
    return coco_data_root / 'annotations' / 'instances_val2017.json'


@pytest.fixture(scope='module')
def num_search(train_ann):
    return len(image_ids(train_ann)) // 4


@pytest.fixture(scope='module')
def split_dir(tmp_path_factory, train_ann, num_search):
    out_dir = tmp_path_factory.mktemp('split')
    split_coco(train_ann, out_dir, num_search=num_search, seed=0)
    return out_dir


@pytest.fixture
def voc_lists(tmp_path):
    paths = []
    for year, ids in (('VOC2007', [f'{i:06d}' for i in range(1, 41)]),
                      ('VOC2012', [f'2012_{i:06d}' for i in range(1, 21)])):
        folder = tmp_path / 'VOCdevkit' / year / 'ImageSets' / 'Main'
        folder.mkdir(parents=True)
        (folder / 'trainval.txt').write_text(''.join(f'{i}\n' for i in ids))
        paths.append(folder / 'trainval.txt')
    return paths


class TestSplitCoco:

    def test_parts_are_disjoint_and_cover_the_source(self, split_dir,
                                                     train_ann, num_search):
        source = load_json(train_ann)
        search = load_json(split_dir / 'search.json')
        remain = load_json(split_dir / 'train_remain.json')
        search_ids = {image['id'] for image in search['images']}
        remain_ids = {image['id'] for image in remain['images']}
        assert len(search_ids) == num_search
        assert not search_ids & remain_ids
        assert search_ids | remain_ids == {i['id'] for i in source['images']}
        for part, ids in ((search, search_ids), (remain, remain_ids)):
            assert {a['image_id'] for a in part['annotations']} <= ids
            assert part['categories'] == source['categories']
            assert set(part) == set(source)
        parts_annotations = search['annotations'] + remain['annotations']
        assert sorted(a['id'] for a in parts_annotations) == sorted(
            a['id'] for a in source['annotations'])

    def test_parts_keep_the_source_order(self, split_dir, train_ann):
        source_order = image_ids(train_ann)
        for name in ('search.json', 'train_remain.json'):
            ids = image_ids(split_dir / name)
            assert ids == [i for i in source_order if i in set(ids)]

    def test_manifest_records_the_split(self, split_dir, train_ann,
                                        num_search):
        manifest = load_json(split_dir / 'manifest.json')
        assert manifest['format'] == 'coco'
        assert manifest['seed'] == 0
        assert manifest['num_search'] == num_search
        [source] = manifest['sources']
        assert source['path'] == str(train_ann.resolve())
        assert source['sha256'] == hashlib.sha256(
            train_ann.read_bytes()).hexdigest()
        for name, field in (('search.json', 'search_image_ids'),
                            ('train_remain.json', 'remain_image_ids')):
            assert manifest[field] == image_ids(split_dir / name)
        for name, output in manifest['outputs'].items():
            data = (split_dir / name).read_bytes()
            assert output['sha256'] == hashlib.sha256(data).hexdigest()
        roles = {output['role'] for output in manifest['outputs'].values()}
        assert roles == {'search', 'remain'}

    def test_same_seed_gives_identical_files(self, split_dir, tmp_path,
                                             train_ann, num_search):
        split_coco(train_ann, tmp_path, num_search=num_search, seed=0)
        for name in ('search.json', 'train_remain.json', 'manifest.json'):
            assert (tmp_path / name).read_bytes() == (split_dir /
                                                      name).read_bytes()

    def test_other_seed_gives_another_search_set(self, split_dir, tmp_path,
                                                 train_ann, num_search):
        manifest = split_coco(
            train_ann, tmp_path, num_search=num_search, seed=1)
        assert set(manifest['search_image_ids']) != set(
            load_json(split_dir / 'manifest.json')['search_image_ids'])

    def test_larger_search_set_contains_the_smaller(self, tmp_path, train_ann,
                                                    num_search):
        small = split_coco(train_ann, tmp_path / 'small', num_search)
        large = split_coco(train_ann, tmp_path / 'large', 2 * num_search)
        assert set(small['search_image_ids']) < set(large['search_image_ids'])

    @pytest.mark.parametrize('extra', [0, 1])
    def test_refuses_a_search_set_as_large_as_the_source(
            self, tmp_path, train_ann, extra):
        num_images = len(image_ids(train_ann))
        with pytest.raises(ValueError) as error:
            split_coco(train_ann, tmp_path, num_search=num_images + extra)
        assert f'num_search={num_images + extra}' in str(error.value)
        assert f'({num_images})' in str(error.value)
        assert not (tmp_path / 'manifest.json').exists()

    @pytest.mark.parametrize('kwargs, message', [
        (dict(num_search=0), 'num_search must be a positive int, got 0'),
        (dict(num_search=2.5), 'num_search'),
        (dict(seed=-1), 'seed must be a non-negative int, got -1'),
    ])
    def test_rejects_bad_arguments(self, tmp_path, train_ann, kwargs, message):
        with pytest.raises(ValueError, match=message):
            split_coco(train_ann, tmp_path, **kwargs)


class TestVerifyManifest:

    @pytest.fixture
    def copied_split(self, tmp_path, train_ann, num_search):
        source = shutil.copy(train_ann, tmp_path / 'train.json')
        split_coco(source, tmp_path / 'split', num_search=num_search)
        return tmp_path / 'train.json', tmp_path / 'split' / 'manifest.json'

    def test_reproduces_the_split(self, split_dir):
        manifest = verify_manifest(split_dir / 'manifest.json')
        assert manifest['search_image_ids']

    def test_detects_a_changed_source(self, copied_split):
        source, manifest = copied_split
        coco = load_json(source)
        coco['images'].pop()
        write_json(source, coco)
        with pytest.raises(ValueError, match='changed since the split'):
            verify_manifest(manifest)

    def test_detects_a_missing_source(self, copied_split):
        source, manifest = copied_split
        source.unlink()
        with pytest.raises(ValueError, match='train.json is missing'):
            verify_manifest(manifest)

    def test_detects_a_changed_output(self, copied_split):
        _, manifest = copied_split
        search = manifest.parent / 'search.json'
        search.write_text(search.read_text().replace(' ', '  '))
        with pytest.raises(ValueError, match='search.json changed'):
            verify_manifest(manifest)

    def test_detects_ids_not_made_by_the_seed(self, copied_split):
        _, manifest_file = copied_split
        manifest = load_json(manifest_file)
        manifest['search_image_ids'][0], manifest['remain_image_ids'][0] = (
            manifest['remain_image_ids'][0], manifest['search_image_ids'][0])
        write_json(manifest_file, manifest)
        with pytest.raises(ValueError, match='does not reproduce'):
            verify_manifest(manifest_file)


class TestSplitVoc:

    def test_lists_are_split_per_year(self, tmp_path, voc_lists):
        out_dir = tmp_path / 'split'
        manifest = split_voc(voc_lists, out_dir, num_search=15, seed=0)
        total = 0
        for path in voc_lists:
            tag = path.parents[2].name
            source = path.read_text().split()
            search = (out_dir / tag / 'search.txt').read_text().split()
            remain = (out_dir / tag /
                      'trainval_remain.txt').read_text().split()
            assert not set(search) & set(remain)
            assert sorted(search + remain) == sorted(source)
            assert manifest['search_image_ids'][tag] == search
            total += len(search)
        assert total == 15
        assert verify_manifest(out_dir / 'manifest.json') == manifest

    def test_other_seed_gives_another_search_set(self, tmp_path, voc_lists):
        first = split_voc(voc_lists, tmp_path / 'a', num_search=15, seed=0)
        second = split_voc(voc_lists, tmp_path / 'b', num_search=15, seed=1)
        assert first['search_image_ids'] != second['search_image_ids']

    def test_refuses_lists_with_the_same_tag(self, tmp_path, voc_lists):
        with pytest.raises(ValueError, match='distinct tags'):
            split_voc([voc_lists[0], voc_lists[0]], tmp_path / 'split', 5)

    def test_refuses_a_search_set_as_large_as_the_lists(
            self, tmp_path, voc_lists):
        with pytest.raises(ValueError, match=r'num_search=60 .*\(60\)'):
            split_voc(voc_lists, tmp_path / 'split', num_search=60)


class TestCheckSearchSplit:

    def test_accepts_a_held_out_search_set(self, split_dir, test_ann):
        check_search_split(split_dir / 'search.json',
                           split_dir / 'train_remain.json', test_ann)

    def test_refuses_overlap_with_the_training_set(self, split_dir, train_ann,
                                                   num_search):
        with pytest.raises(ValueError) as error:
            check_search_split(split_dir / 'search.json', train_ann)
        message = str(error.value)
        assert str(split_dir / 'search.json') in message
        assert str(train_ann) in message
        assert f'shares {num_search} of its {num_search} images' in message
        manifest = load_json(split_dir / 'manifest.json')
        assert f"id={manifest['search_image_ids'][0]} (" in message

    def test_refuses_partial_overlap_with_the_test_split(
            self, tmp_path, split_dir, test_ann):
        search = load_json(split_dir / 'search.json')
        test_image = load_json(test_ann)['images'][3]
        search['images'].append(test_image)
        search_file = write_json(tmp_path / 'search.json', search)
        with pytest.raises(ValueError, match=r'shares 1 of its .* test split'):
            check_search_split(search_file, test_ann_file=test_ann)

    def test_refuses_the_test_split_file(self, test_ann):
        with pytest.raises(ValueError, match='same file as the test split'):
            check_search_split(test_ann, test_ann_file=test_ann)

    def test_refuses_a_copy_of_the_test_split(self, tmp_path, test_ann):
        copy = shutil.copy(test_ann, tmp_path / 'search.json')
        with pytest.raises(ValueError, match='byte-identical copy'):
            check_search_split(copy, test_ann_file=test_ann)

    def test_refuses_the_test_images_in_another_file(self, tmp_path, test_ann):
        coco = load_json(test_ann)
        coco['annotations'] = []
        coco['images'].reverse()
        search_file = write_json(tmp_path / 'search.json', coco)
        with pytest.raises(ValueError, match='exactly the images'):
            check_search_split(search_file, test_ann_file=test_ann)

    def test_refuses_an_empty_search_set(self, tmp_path):
        search_file = write_json(
            tmp_path / 'search.json',
            dict(images=[], annotations=[], categories=[]))
        with pytest.raises(ValueError, match='has no images'):
            check_search_split(search_file)

    def test_checks_voc_lists(self, tmp_path, voc_lists):
        split_voc(voc_lists, tmp_path / 'split', num_search=15)
        search = tmp_path / 'split' / 'VOC2007' / 'search.txt'
        check_search_split(
            search, tmp_path / 'split' / 'VOC2007' / 'trainval_remain.txt')
        with pytest.raises(ValueError, match='shares'):
            check_search_split(search, voc_lists[0])

    def test_checks_a_coco_sized_search_set(self, tmp_path):
        # 5k search images against a 20k-image training file; its time is
        # measured by benchmarks/search_split_check.py.
        benchmark = load_script('benchmarks/search_split_check.py')
        search, train, test = benchmark.write_coco_sized_split(tmp_path)
        check_search_split(search, train, test)
        with pytest.raises(ValueError, match='test split'):
            check_search_split(search, train, search)


class TestReadImages:

    def test_matches_json_load(self, train_ann):
        images = _read_images(train_ann)
        assert images == load_json(train_ann)['images']

    def test_finds_images_after_other_fields(self, tmp_path):
        path = tmp_path / 'a.json'
        path.write_text('{ "annotations" : [{"images": 1}] ,\n'
                        ' "images":[{"id": 7}], "categories": []}')
        assert _read_images(path) == [{'id': 7}]

    @pytest.mark.parametrize(
        'text', ['{"annotations": []}', '{}', '[1]', '{"images": 3}'])
    def test_reports_missing_images(self, tmp_path, text):
        path = tmp_path / 'a.json'
        path.write_text(text)
        with pytest.raises(
                ValueError, match="a.json has no top-level 'images'"):
            _read_images(path)

    def test_split_coco_reports_missing_images(self, tmp_path):
        path = tmp_path / 'a.json'
        path.write_text('{"annotations": []}')
        with pytest.raises(ValueError, match="a.json has no top-level"):
            split_coco(path, tmp_path / 'out', num_search=1)


class TestVerifyManifestFields:

    def test_reports_a_file_that_is_not_a_manifest(self, tmp_path):
        path = write_json(tmp_path / 'manifest.json', dict(format='coco'))
        with pytest.raises(
                ValueError,
                match='is not a split manifest: it '
                'has no seed, num_search, sources'):
            verify_manifest(path)
