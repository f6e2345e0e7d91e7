import hashlib
import json

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from detnas_mm.datasets import (CLASSIFICATION_CLASSES, DETECTION_CLASSES,
                                default_data_root, ensure_shapes_data,
                                make_classification_dataset,
                                make_detection_dataset, synthetic)

SMALL_DETECTION = dict(num_train=8, num_val=4, image_size=96)
SMALL_CLASSIFICATION = dict(per_class_train=3, per_class_val=2, image_size=48)
SPLITS = ('train2017', 'val2017')


def file_digests(root):
    """sha256 of every file under root, keyed by relative path."""
    return {
        str(path.relative_to(root)):
        hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob('*')) if path.is_file()
    }


def shape_contrast(image_file, polygon):
    """Colour distance between a shape and a band of pixels around it."""
    pixels = np.asarray(Image.open(image_file), np.float64)
    mask = Image.new('L', pixels.shape[1::-1], 0)
    ImageDraw.Draw(mask).polygon([tuple(p) for p in polygon], fill=255)

    def grown_by(pixels_out):
        size = 2 * pixels_out + 1
        return np.asarray(mask.filter(ImageFilter.MaxFilter(size))) > 127

    # The band starts two pixels out: JPEG blurs the edge itself.
    inside = np.asarray(mask) > 127
    band = grown_by(3) & ~grown_by(1)
    return np.linalg.norm(pixels[inside].mean(0) - pixels[band].mean(0))


def load_coco(root, split):
    with open(root / 'annotations' / f'instances_{split}.json') as f:
        return json.load(f)


class TestDetectionDataset:

    def test_same_seed_gives_identical_bytes(self, tmp_path):
        first = make_detection_dataset(tmp_path / 'a', **SMALL_DETECTION)
        second = make_detection_dataset(tmp_path / 'b', **SMALL_DETECTION)
        assert file_digests(first) == file_digests(second)

    def test_other_seed_gives_other_images(self, tmp_path):
        first = make_detection_dataset(tmp_path / 'a', **SMALL_DETECTION)
        second = make_detection_dataset(
            tmp_path / 'b', seed=1, **SMALL_DETECTION)
        image = 'train2017/000001000001.jpg'
        assert file_digests(first)[image] != file_digests(second)[image]

    def test_images_do_not_depend_on_split_sizes(self, tmp_path):
        big = make_detection_dataset(tmp_path / 'a', **SMALL_DETECTION)
        small = make_detection_dataset(
            tmp_path / 'b', num_train=3, num_val=4, image_size=96)
        small_digests = file_digests(small)
        big_digests = file_digests(big)
        for name in small_digests:
            if name.endswith('.jpg'):
                assert small_digests[name] == big_digests[name]

    def test_layout_and_coco_fields(self, builtin_data):
        root = builtin_data['detection']
        image_ids = set()
        for split in SPLITS:
            coco = load_coco(root, split)
            names = [c['name'] for c in coco['categories']]
            assert names == list(DETECTION_CLASSES)
            category_ids = {c['id'] for c in coco['categories']}
            for image in coco['images']:
                assert (root / split / image['file_name']).is_file()
                assert image['id'] not in image_ids, 'ids unique across splits'
                image_ids.add(image['id'])
            sizes = {
                i['id']: (i['width'], i['height'])
                for i in coco['images']
            }
            for ann in coco['annotations']:
                x, y, w, h = ann['bbox']
                width, height = sizes[ann['image_id']]
                assert 0 <= x and 0 <= y and w > 1 and h > 1
                assert x + w <= width and y + h <= height
                assert 0 < ann['area'] <= w * h
                assert ann['iscrowd'] == 0
                assert ann['category_id'] in category_ids
                assert len(ann['segmentation'][0]) >= 6
            ann_ids = [ann['id'] for ann in coco['annotations']]
            assert len(set(ann_ids)) == len(ann_ids)
            # Every image holds at least one object.
            annotated = {ann['image_id'] for ann in coco['annotations']}
            assert annotated == set(sizes)
        assert (root / synthetic.MARKER_FILE).is_file()

    def test_every_class_is_drawn(self, builtin_data):
        coco = load_coco(builtin_data['detection'], 'train2017')
        drawn = {ann['category_id'] for ann in coco['annotations']}
        assert drawn == {c['id'] for c in coco['categories']}

    def test_images_are_rgb_of_the_requested_size(self, tmp_path):
        root = make_detection_dataset(tmp_path / 'd', **SMALL_DETECTION)
        for path in (root / 'val2017').iterdir():
            with Image.open(path) as image:
                assert image.mode == 'RGB' and image.size == (96, 96)

    def test_boxes_enclose_the_drawn_shapes(self, builtin_data):
        root = builtin_data['detection']
        coco = load_coco(root, 'val2017')
        files = {
            i['id']: root / 'val2017' / i['file_name']
            for i in coco['images']
        }
        contrasts = []
        for ann in coco['annotations']:
            polygon = np.reshape(ann['segmentation'][0], (-1, 2))
            x, y, w, h = ann['bbox']
            np.testing.assert_allclose([*polygon.min(0), *polygon.max(0)],
                                       [x, y, x + w, y + h],
                                       atol=0.02)
            contrasts.append(shape_contrast(files[ann['image_id']], polygon))
        # Objects are painted in a colour far from their background; a few
        # may sit on another object or a distractor line.
        assert np.mean(np.array(contrasts) > 40) >= 0.9

    def test_loads_with_pycocotools(self, builtin_data):
        from pycocotools.coco import COCO
        root = builtin_data['detection']
        coco = COCO(str(root / 'annotations' / 'instances_val2017.json'))
        assert len(coco.getImgIds()) == 16
        num_classes = len(DETECTION_CLASSES)
        assert sorted(coco.getCatIds()) == list(range(1, num_classes + 1))
        assert len(coco.getAnnIds()) > 16

    def test_loads_with_mmdet_coco_dataset(self, builtin_data):
        from mmdet.datasets import CocoDataset
        root = builtin_data['detection']
        coco = load_coco(root, 'train2017')
        classes = tuple(c['name'] for c in coco['categories'])
        dataset = CocoDataset(
            data_root=str(root),
            ann_file='annotations/instances_train2017.json',
            data_prefix=dict(img='train2017/'),
            metainfo=dict(classes=classes),
            pipeline=[])
        assert len(dataset) == 40
        assert dataset.metainfo['classes'] == classes
        labels = {
            instance['bbox_label']
            for i in range(len(dataset))
            for instance in dataset.get_data_info(i)['instances']
        }
        assert labels == set(range(len(classes)))
        info = dataset.get_data_info(0)
        assert info['img_path'].startswith(str(root / 'train2017'))


class TestClassificationDataset:

    def test_same_seed_gives_identical_bytes(self, tmp_path):
        first = make_classification_dataset(tmp_path / 'a',
                                            **SMALL_CLASSIFICATION)
        second = make_classification_dataset(tmp_path / 'b',
                                             **SMALL_CLASSIFICATION)
        assert file_digests(first) == file_digests(second)

    def test_other_seed_gives_other_images(self, tmp_path):
        first = make_classification_dataset(tmp_path / 'a',
                                            **SMALL_CLASSIFICATION)
        second = make_classification_dataset(
            tmp_path / 'b', seed=3, **SMALL_CLASSIFICATION)
        image = 'val/star/star_00000.jpg'
        assert file_digests(first)[image] != file_digests(second)[image]

    def test_imagenet_folder_layout(self, builtin_data):
        root = builtin_data['classification']
        for split, per_class in (('train', 8), ('val', 4)):
            folders = sorted(p.name for p in (root / split).iterdir())
            assert folders == sorted(CLASSIFICATION_CLASSES)
            for folder in folders:
                images = list((root / split / folder).glob('*.jpg'))
                assert len(images) == per_class

    def test_num_classes_takes_the_first_classes(self, tmp_path):
        root = make_classification_dataset(
            tmp_path / 'c', num_classes=3, **SMALL_CLASSIFICATION)
        assert sorted(p.name for p in (root / 'train').iterdir()) == sorted(
            CLASSIFICATION_CLASSES[:3])

    def test_loads_with_mmpretrain_custom_dataset(self, builtin_data):
        from mmpretrain.datasets import CustomDataset
        root = builtin_data['classification']
        dataset = CustomDataset(
            data_root=str(root), data_prefix='train', pipeline=[])
        assert len(dataset) == 8 * len(CLASSIFICATION_CLASSES)
        assert dataset.metainfo['classes'] == tuple(
            sorted(CLASSIFICATION_CLASSES))
        labels = {
            dataset.get_data_info(i)['gt_label']
            for i in range(len(dataset))
        }
        assert labels == set(range(len(CLASSIFICATION_CLASSES)))


class TestGeneration:

    def test_complete_dataset_is_not_generated_again(self, tmp_path,
                                                     monkeypatch):
        root = make_detection_dataset(tmp_path / 'd', **SMALL_DETECTION)
        before = file_digests(root)

        def fail(*args, **kwargs):
            raise AssertionError('regenerated a complete dataset')

        monkeypatch.setattr(synthetic, '_write_detection_split', fail)
        assert make_detection_dataset(root, **SMALL_DETECTION) == root
        assert file_digests(root) == before

    def test_other_parameters_replace_the_dataset(self, tmp_path):
        root = make_detection_dataset(tmp_path / 'd', **SMALL_DETECTION)
        make_detection_dataset(root, num_train=2, num_val=1, image_size=96)
        assert len(list((root / 'train2017').iterdir())) == 2
        assert [p.name for p in tmp_path.iterdir()] == ['d']

    def test_interrupted_generation_leaves_no_dataset(self, tmp_path,
                                                      monkeypatch):
        saved = []

        def save_then_fail(image, path):
            if len(saved) == 5:
                raise KeyboardInterrupt
            saved.append(path)

        monkeypatch.setattr(synthetic, '_save_jpeg', save_then_fail)
        with pytest.raises(KeyboardInterrupt):
            make_detection_dataset(tmp_path / 'd', **SMALL_DETECTION)
        assert list(tmp_path.iterdir()) == []

    def test_refuses_a_folder_it_did_not_make(self, tmp_path):
        (tmp_path / 'd').mkdir()
        (tmp_path / 'd' / 'notes.txt').write_text('mine')
        with pytest.raises(ValueError, match='not empty'):
            make_detection_dataset(tmp_path / 'd', **SMALL_DETECTION)

    def test_fills_an_empty_folder(self, tmp_path):
        (tmp_path / 'd').mkdir()
        root = make_detection_dataset(tmp_path / 'd', **SMALL_DETECTION)
        assert (root / synthetic.MARKER_FILE).is_file()

    @pytest.mark.parametrize('kwargs, message', [
        (dict(num_train=0), 'num_train'),
        (dict(num_val=1.5), 'num_val'),
        (dict(image_size=32), 'image_size must be an int >= 64, got 32'),
        (dict(seed=-1), 'seed'),
    ])
    def test_detection_rejects_bad_arguments(self, tmp_path, kwargs, message):
        with pytest.raises(ValueError, match=message):
            make_detection_dataset(tmp_path / 'd', **kwargs)

    @pytest.mark.parametrize('kwargs, message', [
        (dict(num_classes=11), r'num_classes must be in \[1, 10\], got 11'),
        (dict(num_classes=0), 'num_classes'),
        (dict(per_class_train=0), 'per_class_train'),
        (dict(image_size=16), 'image_size'),
    ])
    def test_classification_rejects_bad_arguments(self, tmp_path, kwargs,
                                                  message):
        with pytest.raises(ValueError, match=message):
            make_classification_dataset(tmp_path / 'c', **kwargs)

    def test_default_data_root_follows_the_environment(self, tmp_path,
                                                       monkeypatch):
        monkeypatch.setenv('DETNAS_DATA_CACHE', str(tmp_path / 'cache'))
        assert default_data_root() == tmp_path / 'cache'
        monkeypatch.delenv('DETNAS_DATA_CACHE')
        monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'xdg'))
        assert default_data_root() == tmp_path / 'xdg' / 'detnas_mm' / 'data'

    def test_ensure_shapes_data(self, tmp_path, monkeypatch):
        monkeypatch.setenv('DETNAS_DATA_CACHE', str(tmp_path))
        paths = ensure_shapes_data()
        assert set(paths) == {'detection', 'classification'}
        for split in SPLITS:
            assert load_coco(paths['detection'], split)['images']
        assert (paths['classification'] / 'val' / 'ring').is_dir()
        assert ensure_shapes_data(tmp_path) == paths
