"""Data checks and statistics on hand-broken COCO and VOC folders.

Each broken folder starts from a small clean copy of the shared data (six
real photos, the categories they use renumbered 1..K, the same images as
train and test) that has no finding at all, and breaks one thing.
"""
import copy
import json
import math
import shutil
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import detnas_mm.datasets.data_checks as data_checks
from detnas_mm.datasets import (CHECKS, DataCheckError, DetectionSplit,
                                check_detection_data, coco_to_voc,
                                detection_data_stats, read_voc_annotation,
                                split_voc, voc_class_names)
from tests.utils import REPO_ROOT

NUM_IMAGES = 6


def load_json(path):
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def write_json(path, obj):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(obj, f)


def findings(report):
    """code -> Finding, for reports with one finding per code."""
    found = {}
    for finding in report.fatal + report.warnings:
        assert finding.code not in found, report.format()
        found[finding.code] = finding
    return found


def only_finding(report, code, severity, split):
    """The one finding of a report: its code, severity and split."""
    found = findings(report)
    assert set(found) == {code}, report.format()
    finding = found[code]
    assert (finding.severity, finding.split) == (severity, split)
    return finding


def run(splits, **kwargs):
    return check_detection_data(splits, raise_on_fatal=False, **kwargs)


def usable_coco_boxes(coco):
    """Annotations mmdet trains on (the data has no box outside its image)."""
    return [
        a for a in coco['annotations'] if not a.get('iscrowd')
        and a['bbox'][2] >= 1 and a['bbox'][3] >= 1 and a['area'] > 0
    ]


class CocoFolder:
    """A small clean COCO folder: the same images as train and test."""

    def __init__(self, root, source_root):
        source = load_json(source_root / 'annotations' /
                           'instances_train2017.json')
        usable = usable_coco_boxes(source)
        with_boxes = {a['image_id'] for a in usable}
        images = [i for i in source['images'] if i['id'] in with_boxes]
        images = images[:NUM_IMAGES]
        ids = {i['id'] for i in images}
        anns = [a for a in usable if a['image_id'] in ids]
        used = {a['category_id'] for a in anns}
        categories = [c for c in source['categories'] if c['id'] in used]
        new_id = {c['id']: n for n, c in enumerate(categories, 1)}
        self.root = Path(root)
        self.coco = {}
        for split, folder in (('train', 'train2017'), ('test', 'val2017')):
            (self.root / folder).mkdir(parents=True)
            for image in images:
                # Copies, so that tests may break them.
                shutil.copyfile(source_root / 'train2017' / image['file_name'],
                                self.root / folder / image['file_name'])
            self.coco[split] = copy.deepcopy(
                dict(
                    images=images,
                    annotations=[
                        dict(a, category_id=new_id[a['category_id']])
                        for a in anns
                    ],
                    categories=[
                        dict(c, id=new_id[c['id']]) for c in categories
                    ]))

    def ann_file(self, split):
        return self.root / 'annotations' / f'instances_{split}.json'

    def img_dir(self, split):
        return self.root / ('train2017' if split == 'train' else 'val2017')

    def image_file(self, split, index=0):
        return self.img_dir(
            split) / self.coco[split]['images'][index]['file_name']

    def splits(self, img_dirs=True):
        """Write the json files; the splits to check."""
        splits = {}
        for split, coco in self.coco.items():
            write_json(self.ann_file(split), coco)
            splits[split] = DetectionSplit.coco(
                self.ann_file(split),
                self.img_dir(split) if img_dirs else None)
        return splits

    def class_name(self, split='train', index=0):
        """Name of the class of annotation ``index``."""
        coco = self.coco[split]
        cat_id = coco['annotations'][index]['category_id']
        return next(c['name'] for c in coco['categories'] if c['id'] == cat_id)

    def drop_class_boxes(self, split='train', index=0):
        """Remove every box of the class of annotation ``index``.

        Returns:
            int: The category id of that class.
        """
        coco = self.coco[split]
        cat_id = coco['annotations'][index]['category_id']
        coco['annotations'] = [
            a for a in coco['annotations'] if a['category_id'] != cat_id
        ]
        return cat_id


class VocFolder:
    """The same data as :class:`CocoFolder`, in the VOC layout."""

    def __init__(self, coco_folder, root):
        coco_folder.splits()
        self.devkit = coco_to_voc(
            coco_folder.root,
            root,
            splits=dict(
                trainval=('annotations/instances_train.json', 'train2017')),
            copy_images=True)
        self.sub_root = self.devkit / 'VOC2007'
        main = self.sub_root / 'ImageSets' / 'Main'
        self.ids = (main / 'trainval.txt').read_text().split()
        # The test split has copies of the same images under other ids, so
        # that breaking a training image leaves the test split clean.
        for image_id in self.ids:
            for sub, ext in (('Annotations', 'xml'), ('JPEGImages', 'jpg')):
                shutil.copyfile(self.sub_root / sub / f'{image_id}.{ext}',
                                self.sub_root / sub / f't{image_id}.{ext}')
        (main / 'test.txt').write_text(''.join(f't{i}\n' for i in self.ids))

    def list_file(self, split):
        name = 'trainval' if split == 'train' else 'test'
        return self.sub_root / 'ImageSets' / 'Main' / f'{name}.txt'

    def splits(self):
        return {
            s: DetectionSplit.voc(self.list_file(s))
            for s in ('train', 'test')
        }

    def xml(self, index=0):
        return self.sub_root / 'Annotations' / f'{self.ids[index]}.xml'

    def image_file(self, index=0):
        return self.sub_root / 'JPEGImages' / f'{self.ids[index]}.jpg'

    def edit(self, index, edit):
        """Apply ``edit(root_element)`` to one XML file."""
        tree = ET.parse(self.xml(index))
        edit(tree.getroot())
        tree.write(self.xml(index))

    def set_box(self, index, obj, **coords):

        def edit(root):
            bndbox = root.findall('object')[obj].find('bndbox')
            for key, value in coords.items():
                bndbox.find(key).text = str(value)

        self.edit(index, edit)

    def size(self, index=0):
        ann = read_voc_annotation(self.xml(index))
        return ann['width'], ann['height']


@pytest.fixture
def coco(tmp_path, coco_data_root):
    return CocoFolder(tmp_path / 'coco', coco_data_root)


@pytest.fixture
def voc(tmp_path, coco):
    return VocFolder(coco, tmp_path / 'voc')


def test_every_check_is_documented():
    docs = (REPO_ROOT / 'docs' / 'data_checks.md').read_text()
    for code, check in CHECKS.items():
        assert f'`{code}`' in docs
        assert code in data_checks.__doc__
        for layout in ('coco', 'voc'):
            assert getattr(check, layout) in ('fatal', 'warning', None)


class TestCleanData:

    def test_small_copies_have_no_findings(self, coco, voc):
        for splits in (coco.splits(), voc.splits()):
            report = check_detection_data(splits)
            assert report.ok
            assert report.fatal == [] and report.warnings == [], \
                report.format()
            assert 'no problems found' in report.format()

    def test_coco_data_root_has_only_its_real_warnings(self, coco_data_root):
        ann = coco_data_root / 'annotations'
        train = load_json(ann / 'instances_train2017.json')
        report = check_detection_data({
            'train':
            DetectionSplit.coco(ann / 'instances_train2017.json',
                                coco_data_root / 'train2017'),
            'test':
            DetectionSplit.coco(ann / 'instances_val2017.json',
                                coco_data_root / 'val2017')
        })
        print(report.format())
        # coco_tiny keeps COCO's ids 1..90 for its 80 categories; the
        # generated fallback numbers its 5 classes 1..5. Nothing else is
        # wrong with either (checked by hand: no box outside or under a
        # pixel, every image has boxes, every class is in both splits).
        ids = [c['id'] for c in train['categories']]
        expected = set() if ids == list(range(
            1,
            len(ids) + 1)) else {'noncontiguous_category_ids'}
        assert report.fatal == []
        assert set(findings(report)) == expected
        assert report.classes == tuple(c['name'] for c in train['categories'])
        assert report.splits['train']['num_images'] == len(train['images'])

    def test_voc_copy_of_coco_data_root_has_no_findings(
            self, tmp_path, coco_data_root):
        devkit = coco_to_voc(coco_data_root, tmp_path)
        main = devkit / 'VOC2007' / 'ImageSets' / 'Main'
        report = check_detection_data({
            'train':
            DetectionSplit.voc(main / 'trainval.txt'),
            'test':
            DetectionSplit.voc(main / 'test.txt')
        })
        print(report.format())
        assert report.fatal == [] and report.warnings == []
        train = load_json(coco_data_root / 'annotations' /
                          'instances_train2017.json')
        assert report.classes == tuple(
            sorted(c['name'] for c in train['categories']))
        assert report.classes == voc_class_names(
            [main / 'trainval.txt', main / 'test.txt'])


class TestCocoChecks:

    def test_missing_image(self, coco):
        coco.image_file('train', 1).unlink()
        finding = only_finding(
            run(coco.splits()), 'missing_image', 'fatal', 'train')
        assert finding.count == 1
        assert finding.examples == [
            coco.coco['train']['images'][1]['file_name']
        ]

    @pytest.mark.parametrize('content', [b'', b'not an image at all'])
    def test_unreadable_image(self, coco, content):
        coco.image_file('test', 2).write_bytes(content)
        finding = only_finding(
            run(coco.splits()), 'unreadable_image', 'fatal', 'test')
        name = coco.coco['test']['images'][2]['file_name']
        assert finding.examples[0].startswith(f'{name} (')

    def test_png_images_are_readable(self, coco):
        # PIL's verify() fails on a PNG once its EXIF chunk has been read:
        # the check must not call a valid PNG unreadable.
        path = coco.image_file('train')
        with Image.open(path) as pil:
            pil.convert('RGB').save(path, format='PNG')
        assert findings(run(coco.splits())) == {}

    def test_truncated_image_needs_a_full_decode(self, coco):
        path = coco.image_file('train')
        data = path.read_bytes()
        path.write_bytes(data[:len(data) // 2])
        # The header is intact: only decoding the pixels finds the cut.
        assert findings(run(coco.splits())) == {}
        only_finding(
            run(coco.splits(), decode_images=True), 'unreadable_image',
            'fatal', 'train')

    @pytest.mark.parametrize('breaks, example', [
        (lambda c: c['annotations'][0].pop('area'), 'has no area'),
        (lambda c: c['annotations'][1].update(bbox=[1, 2, 3]), 'bbox'),
        (lambda c: c['annotations'][1].update(bbox=[1, 2, 'a', 4]), 'bbox'),
        (lambda c: c['images'][0].update(width=0), 'has size 0x'),
        (lambda c: c['images'][0].pop('file_name'), 'has no file_name'),
        (lambda c: c.pop('categories'), 'no "categories" list'),
        (lambda c: c.pop('images'), 'no "images" list'),
    ])
    def test_malformed_annotation(self, coco, breaks, example):
        breaks(coco.coco['train'])
        report = run(coco.splits())
        finding = findings(report)['malformed_annotation']
        assert finding.severity == 'fatal' and finding.split == 'train'
        assert example in finding.examples[0]
        assert finding.examples[0].startswith('instances_train.json: ')
        assert set(findings(report)) <= {
            'malformed_annotation', 'image_without_boxes', 'no_boxes',
            'class_without_train_boxes'
        }

    def test_malformed_json(self, coco):
        splits = coco.splits()
        coco.ann_file('test').write_text('{"images": [')
        finding = findings(run(splits))['malformed_annotation']
        assert finding.split == 'test'
        assert 'not JSON' in finding.examples[0]

    @pytest.mark.parametrize('duplicate, example', [
        (lambda c: c['images'].append(dict(c['images'][0])), 'image id'),
        (lambda c: c['annotations'].append(dict(c['annotations'][0])),
         'annotation id'),
        (lambda c: c['categories'].append(dict(c['categories'][0], id=999)),
         'category name'),
    ])
    def test_duplicate_id(self, coco, duplicate, example):
        duplicate(coco.coco['train'])
        finding = findings(run(coco.splits()))['duplicate_id']
        assert (finding.severity, finding.count) == ('fatal', 1)
        assert example in finding.examples[0]

    def test_unknown_image(self, coco):
        coco.coco['train']['annotations'][0]['image_id'] = 987654321
        report = run(coco.splits())
        finding = findings(report)['unknown_image']
        assert finding.severity == 'fatal'
        ann_id = coco.coco['train']['annotations'][0]['id']
        assert finding.examples == [f'annotation {ann_id} -> image 987654321']

    def test_unknown_category(self, coco):
        coco.coco['test']['annotations'][0]['category_id'] = 4321
        finding = findings(run(coco.splits()))['unknown_category']
        assert (finding.severity, finding.split) == ('fatal', 'test')
        assert finding.examples[0].endswith('-> category 4321')

    def test_categories_differ_in_order(self, coco):
        coco.coco['test']['categories'].reverse()
        finding = only_finding(
            run(coco.splits()), 'categories_differ', 'fatal', 'test')
        first = coco.coco['train']['categories'][0]['name']
        assert f'{first!r} in training' in finding.examples[0]

    def test_categories_differ_in_names(self, coco):
        cats = coco.coco['test']['categories']
        cats.append(dict(cats[0], id=100, name='zebra crossing'))
        report = run(coco.splits())
        finding = findings(report)['categories_differ']
        assert "with ['zebra crossing']" in finding.examples[0]

    @pytest.mark.parametrize('split', ['train', 'test'])
    def test_no_boxes(self, coco, split):
        coco.coco[split]['annotations'] = []
        report = run(coco.splits())
        finding = findings(report)['no_boxes']
        assert (finding.severity, finding.split) == ('fatal', split)
        assert findings(report)['image_without_boxes'].count == NUM_IMAGES
        # The split says it all: no class is reported missing from it.
        assert 'class_missing_in_split' not in findings(report)

    def test_class_without_train_boxes(self, coco):
        name = coco.class_name('train', 0)
        cat_id = coco.drop_class_boxes('train')
        report = run(coco.splits())
        finding = findings(report)['class_without_train_boxes']
        assert (finding.severity, finding.split) == ('fatal', 'train')
        in_test = sum(1 for a in coco.coco['test']['annotations']
                      if a['category_id'] == cat_id)
        assert finding.examples == [f'{name!r} ({in_test} in test)']
        assert set(findings(report)) <= {
            'class_without_train_boxes', 'image_without_boxes'
        }

    @pytest.mark.parametrize('bbox_of, area', [
        (lambda w, h: [10, 10, 0, 20], 1.0),
        (lambda w, h: [10, 10, 20, 0.5], 1.0),
        (lambda w, h: [10, 10, 20, 20], 0.0),
        (lambda w, h: [10, 10, -5, 20], 1.0),
    ])
    def test_empty_box(self, coco, bbox_of, area):
        image = coco.coco['train']['images'][0]
        ann = coco.coco['train']['annotations'][0]
        ann.update(bbox=bbox_of(image['width'], image['height']), area=area)
        finding = findings(run(coco.splits()))['empty_box']
        assert (finding.severity, finding.count) == ('warning', 1)
        assert finding.examples[0].startswith(
            f'{image["file_name"]} annotation {ann["id"]} [')

    def test_box_outside_image(self, coco):
        image = coco.coco['train']['images'][0]
        ann = coco.coco['train']['annotations'][0]
        ann['bbox'] = [image['width'] + 5, 10, 20, 20]
        finding = findings(run(coco.splits()))['box_outside_image']
        assert (finding.severity, finding.split) == ('warning', 'train')
        size = f'in {image["width"]}x{image["height"]}'
        assert finding.examples[0].endswith(size)

    def test_box_crosses_border(self, coco):
        ann = coco.coco['test']['annotations'][0]
        ann['bbox'] = [-3.5, 10, 20, 20]
        only_finding(
            run(coco.splits()), 'box_crosses_border', 'warning', 'test')

    def test_image_size_mismatch(self, coco):
        image = coco.coco['train']['images'][0]
        real = (image['width'], image['height'])
        image['width'] += 100
        finding = only_finding(
            run(coco.splits()), 'image_size_mismatch', 'warning', 'train')
        assert finding.examples == [
            f'{image["file_name"]}: file {real[0]}x{real[1]}, annotated '
            f'{real[0] + 100}x{real[1]}'
        ]

    def test_exif_rotation_counts_as_mmdet_decodes_it(self, coco):
        image = coco.coco['train']['images'][0]
        path = coco.image_file('train')
        exif = Image.Exif()
        exif[0x0112] = 6  # rotate 90 degrees: width and height swap
        # Widened, so that it is not square (the generated images are).
        wider = 20 if image['width'] + 20 != image['height'] else 40
        image['width'] += wider
        with Image.open(path) as pil:
            pil = pil.convert('RGB').resize((image['width'], image['height']))
            pil.save(path, exif=exif.tobytes())
        finding = only_finding(
            run(coco.splits()), 'image_size_mismatch', 'warning', 'train')
        width, height = image['width'], image['height']
        assert finding.examples == [
            f'{image["file_name"]}: file {height}x{width} after its EXIF '
            f'rotation, annotated {width}x{height}'
        ]
        image.update(width=height, height=width)
        report = run(coco.splits())
        # Boxes of the rotated image may now cross the border; the size
        # itself is what mmdet decodes.
        assert 'image_size_mismatch' not in findings(report)

    def test_image_without_boxes(self, coco):
        image = coco.coco['test']['images'][3]
        test = coco.coco['test']
        removed = [
            a for a in test['annotations'] if a['image_id'] == image['id']
        ]
        test['annotations'] = [
            a for a in test['annotations'] if a['image_id'] != image['id']
        ]
        report = run(coco.splits())
        finding = findings(report)['image_without_boxes']
        assert (finding.severity, finding.split) == ('warning', 'test')
        assert finding.examples == [image['file_name']]
        # Removing them may leave a class without test boxes, nothing else.
        assert set(findings(report)) <= {
            'image_without_boxes', 'class_missing_in_split'
        }
        assert removed

    @pytest.mark.parametrize('new_ids', [
        lambda n: list(range(0, n)),
        lambda n: [2 * i + 1 for i in range(n)],
        lambda n: list(range(n, 0, -1)),
    ])
    def test_category_ids_that_do_not_run_1_to_k(self, coco, new_ids):
        names = [c['name'] for c in coco.coco['train']['categories']]
        ids = new_ids(len(names))
        for split in ('train', 'test'):
            data = coco.coco[split]
            remap = {c['id']: i for c, i in zip(data['categories'], ids)}
            for cat, i in zip(data['categories'], ids):
                cat['id'] = i
            for ann in data['annotations']:
                ann['category_id'] = remap[ann['category_id']]
        report = run(coco.splits())
        # Names keep the file's order whatever the ids.
        assert report.classes == tuple(names)
        if sorted(ids) == list(range(1, len(ids) + 1)):
            assert findings(report) == {}
        else:
            finding = only_finding(report, 'noncontiguous_category_ids',
                                   'warning', 'train')
            assert finding.examples[0].startswith(
                f'{len(ids)} ids from {min(ids)} to {max(ids)}')

    def test_unused_category(self, coco):
        for split in ('train', 'test'):
            coco.coco[split]['categories'].append(
                dict(
                    id=len(coco.coco[split]['categories']) + 1,
                    name='unicorn',
                    supercategory='myth'))
        finding = only_finding(
            run(coco.splits()), 'unused_category', 'warning', 'train')
        assert finding.examples == ["'unicorn'"]

    def test_class_missing_in_split(self, coco):
        name = coco.class_name('test', 0)
        coco.drop_class_boxes('test')
        report = run(coco.splits())
        finding = findings(report)['class_missing_in_split']
        assert (finding.severity, finding.split) == ('warning', 'test')
        assert finding.examples == [repr(name)]

    def test_crowd_boxes_are_not_usable(self, coco):
        for ann in coco.coco['test']['annotations']:
            ann['iscrowd'] = 1
        report = run(coco.splits())
        assert findings(report)['no_boxes'].split == 'test'
        assert report.stats['test'].num_ignored_boxes == len(
            coco.coco['test']['annotations'])

    def test_images_are_not_checked_without_a_folder(self, coco):
        coco.image_file('train').unlink()
        report = run(coco.splits(img_dirs=False))
        assert findings(report) == {}
        assert report.not_checked == [
            f'{s}: missing_image, unreadable_image, image_size_mismatch '
            f'(no image folder given)' for s in ('train', 'test')
        ]
        report = run(coco.splits(), check_images=False)
        assert findings(report) == {}
        assert 'check_images=False' in report.not_checked[0]


class TestVocChecks:

    def test_missing_image(self, voc):
        voc.image_file(2).unlink()
        report = run(voc.splits())
        found = findings(report)
        assert set(found) == {'missing_image'}
        # trainval and test share the images of this copy.
        assert found['missing_image'].examples == [f'VOC2007/{voc.ids[2]}']

    def test_unreadable_image(self, voc):
        voc.image_file(0).write_bytes(b'<html>not found</html>')
        finding = findings(run(voc.splits()))['unreadable_image']
        assert finding.severity == 'fatal'
        assert finding.examples[0].startswith(f'VOC2007/{voc.ids[0]} (')

    def test_missing_annotation(self, voc):
        voc.xml(1).unlink()
        finding = findings(run(voc.splits()))['missing_annotation']
        assert finding.severity == 'fatal'
        assert finding.examples == [f'VOC2007/Annotations/{voc.ids[1]}.xml']

    @pytest.mark.parametrize('text, example', [
        ('<annotation><object>', 'not valid XML'),
        ('<annotation><object><bndbox/></object></annotation>',
         'has no <name>'),
        ('<annotation><object><name>cat</name></object></annotation>',
         'has no <bndbox>'),
        ('<annotation><object><name>cat</name><bndbox><xmin>1</xmin>'
         '<ymin>a</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object>'
         '</annotation>', "ymin='a'"),
        ('<annotation><size><width>500.0</width><height>3</height></size>'
         '</annotation>', "<width> is '500.0'"),
        ('<annotation><size><width>0</width><height>3</height></size>'
         '</annotation>', 'size 0x3'),
    ])
    def test_malformed_annotation(self, voc, text, example):
        voc.xml(0).write_text(text)
        finding = findings(run(voc.splits()))['malformed_annotation']
        assert finding.severity == 'fatal'
        assert example in finding.examples[0]
        assert str(voc.devkit) not in finding.examples[0]

    def test_duplicate_id(self, voc):
        list_file = voc.list_file('train')
        list_file.write_text(list_file.read_text() + f'{voc.ids[0]}\n')
        finding = only_finding(
            run(voc.splits()), 'duplicate_id', 'fatal', 'train')
        assert finding.examples == [f'VOC2007/{voc.ids[0]} in trainval.txt']

    def test_no_boxes(self, tmp_path, voc):
        # A test split of its own whose images have no objects.
        main = voc.sub_root / 'ImageSets' / 'Main'
        (main / 'empty.txt').write_text('empty_0\nempty_1\n')
        for image_id in ('empty_0', 'empty_1'):
            shutil.copyfile(
                voc.image_file(0),
                voc.sub_root / 'JPEGImages' / f'{image_id}.jpg')
            (voc.sub_root / 'Annotations' / f'{image_id}.xml').write_text(
                '<annotation><size><width>{}</width><height>{}</height>'
                '</size></annotation>'.format(*voc.size(0)))
        splits = dict(
            voc.splits(), test=DetectionSplit.voc(main / 'empty.txt'))
        found = findings(run(splits))
        assert set(found) == {'no_boxes', 'image_without_boxes'}
        assert found['no_boxes'].severity == 'fatal'
        assert found['no_boxes'].examples == [
            'test: 2 images, 0 boxes, none usable'
        ]

    def test_class_without_train_boxes(self, voc):
        # Name every object 'dodo' in a test-only annotation.
        main = voc.sub_root / 'ImageSets' / 'Main'
        shutil.copyfile(voc.xml(0), voc.sub_root / 'Annotations' / 'x.xml')
        shutil.copyfile(
            voc.image_file(0), voc.sub_root / 'JPEGImages' / 'x.jpg')
        tree = ET.parse(voc.sub_root / 'Annotations' / 'x.xml')
        for obj in tree.getroot().findall('object'):
            obj.find('name').text = 'dodo'
        tree.write(voc.sub_root / 'Annotations' / 'x.xml')
        num = len(tree.getroot().findall('object'))
        (main / 'test.txt').write_text((main / 'test.txt').read_text() + 'x\n')
        report = run(voc.splits())
        assert 'dodo' in report.classes
        finding = only_finding(report, 'class_without_train_boxes', 'fatal',
                               'train')
        assert finding.examples == [f"'dodo' ({num} in test)"]

    def test_empty_box_is_fatal(self, voc):
        voc.set_box(0, 0, xmin=40, xmax=40)
        finding = findings(run(voc.splits()))['empty_box']
        # mmdet keeps empty VOC boxes as targets: fatal, unlike COCO.
        assert finding.severity == 'fatal'
        assert finding.examples[0].startswith(f'VOC2007/{voc.ids[0]} '
                                              f'object 0 (')

    def test_box_outside_image_is_fatal(self, voc):
        width, _ = voc.size(0)
        voc.set_box(0, 0, xmin=width + 10, xmax=width + 30)
        finding = findings(run(voc.splits()))['box_outside_image']
        assert finding.severity == 'fatal'

    def test_box_crosses_border(self, voc):
        width, _ = voc.size(1)
        voc.set_box(1, 0, xmin=width - 10, xmax=width + 30)
        finding = findings(run(voc.splits()))['box_crosses_border']
        assert finding.severity == 'warning'
        assert finding.examples[0].endswith(f'in {width}x{voc.size(1)[1]}')

    def test_one_based_edges_are_inside(self, voc):
        # VOC's xmin=1 .. xmax=width is the whole image.
        width, height = voc.size(0)
        voc.set_box(0, 0, xmin=1, ymin=1, xmax=width, ymax=height)
        assert findings(run(voc.splits())) == {}

    def test_image_size_mismatch(self, voc):
        width, height = voc.size(0)

        def widen(root):
            root.find('size/width').text = str(width + 7)

        voc.edit(0, widen)
        finding = only_finding(
            run(voc.splits()), 'image_size_mismatch', 'warning', 'train')
        assert finding.examples[0] == (
            f'VOC2007/{voc.ids[0]}: file {width}x{height}, annotated '
            f'{width + 7}x{height}')

    def test_size_comes_from_the_image_without_a_size_element(self, voc):
        width, _ = voc.size(0)

        def drop_size(root):
            root.remove(root.find('size'))

        voc.edit(0, drop_size)
        assert findings(run(voc.splits())) == {}
        voc.set_box(0, 0, xmin=width + 10, xmax=width + 30)
        assert 'box_outside_image' in findings(run(voc.splits()))

    def test_image_without_boxes(self, voc):

        def drop_objects(root):
            for obj in root.findall('object'):
                root.remove(obj)

        voc.edit(4, drop_objects)
        finding = findings(run(voc.splits()))['image_without_boxes']
        assert finding.severity == 'warning'
        assert finding.examples == [f'VOC2007/{voc.ids[4]}']

    def test_unused_category(self, voc):
        # A name only on difficult boxes: in the classes, never trained.
        def add_difficult(root):
            obj = ET.fromstring(
                '<object><name>yeti</name><difficult>1</difficult><bndbox>'
                '<xmin>5</xmin><ymin>5</ymin><xmax>20</xmax><ymax>20</ymax>'
                '</bndbox></object>')
            root.append(obj)

        voc.edit(0, add_difficult)
        report = run(voc.splits())
        assert 'yeti' in report.classes
        finding = only_finding(report, 'unused_category', 'warning', 'train')
        assert finding.examples == ["'yeti'"]

    def test_class_missing_in_split(self, voc):
        main = voc.sub_root / 'ImageSets' / 'Main'
        (main / 'test.txt').write_text(f't{voc.ids[0]}\n')
        names = {o['name'] for o in read_voc_annotation(voc.xml(0))['objects']}
        report = run(voc.splits())
        finding = findings(report)['class_missing_in_split']
        assert finding.severity == 'warning' and finding.split == 'test'
        missing = sorted(set(report.classes) - names)
        assert finding.count == len(missing)
        assert finding.examples == [repr(n) for n in missing][:5]

    def test_lists_written_by_split_voc(self, tmp_path, voc):
        out = tmp_path / 'split'
        split_voc([voc.list_file('train')], out, num_search=2)
        search = out / 'VOC2007' / 'search.txt'
        remain = out / 'VOC2007' / 'trainval_remain.txt'
        with pytest.raises(ValueError, match='without devkit'):
            check_detection_data({'search': DetectionSplit.voc(search)})
        with pytest.raises(ValueError, match='is not a folder'):
            check_detection_data(
                {'search': DetectionSplit.voc(search, devkit=tmp_path)})
        report = run({
            'train': DetectionSplit.voc(remain, devkit=voc.devkit),
            'search': DetectionSplit.voc(search, devkit=voc.devkit)
        })
        assert [s['num_images'] for s in report.splits.values()] == [4, 2]
        # Six images split 4 + 2 may leave classes out of a split; every
        # file is found.
        assert set(findings(report)) <= {
            'class_missing_in_split', 'class_without_train_boxes'
        }
        assert report.classes == voc_class_names([remain, search],
                                                 devkit=voc.devkit)

    def test_read_voc_annotation_matches_mmdet(self, voc):
        from mmdet.datasets import VOCDataset
        voc.set_box(0, 0, xmin=10.7, ymin=3.2, xmax=50.9, ymax=60)

        def difficult(root):
            root.findall('object')[-1].find('difficult').text = '1'

        voc.edit(0, difficult)
        classes = voc_class_names([voc.list_file('train')])
        dataset = VOCDataset(
            data_root=str(voc.devkit),
            ann_file='VOC2007/ImageSets/Main/trainval.txt',
            data_prefix=dict(sub_data_root='VOC2007/'),
            metainfo=dict(classes=classes),
            pipeline=[],
            test_mode=True)
        for index in range(len(dataset)):
            info = dataset.get_data_info(index)
            ours = read_voc_annotation(voc.xml(index))
            assert (info['width'], info['height']) == (ours['width'],
                                                       ours['height'])
            assert [i['bbox'] for i in info['instances']
                    ] == [o['bbox'] for o in ours['objects']]
            assert [i['ignore_flag'] for i in info['instances']
                    ] == [int(o['difficult']) for o in ours['objects']]
            assert [classes[i['bbox_label']] for i in info['instances']
                    ] == [o['name'] for o in ours['objects']]
        # The edits reached mmdet: truncated, shifted, ignored.
        first = dataset.get_data_info(0)['instances']
        assert first[0]['bbox'] == [9, 2, 49, 59]
        assert first[-1]['ignore_flag'] == 1


class TestErrors:

    def test_fatal_problems_raise_one_error_that_counts_and_names(self, coco):
        for index in (0, 2):
            coco.image_file('train', index).unlink()
        coco.coco['train']['annotations'][0]['category_id'] = 77
        coco.coco['train']['annotations'][1]['image_id'] = -1
        with pytest.raises(DataCheckError) as error:
            check_detection_data(coco.splits())
        assert isinstance(error.value, ValueError)
        message = str(error.value)
        print(message)
        assert '\n' not in message
        assert '3 kind(s) of fatal problem' in message
        names = [coco.coco['train']['images'][i]['file_name'] for i in (0, 2)]
        assert (f'missing_image [train]: 2 listed image(s) whose file is '
                f'missing (e.g. {names[0]}, {names[1]}) - add the files'
                in message)
        assert 'unknown_category [train]: 1 annotation(s)' in message
        assert 'unknown_image [train]: 1 annotation(s)' in message
        assert 'docs/data_checks.md' in message
        assert {
            f.code: f.count
            for f in error.value.report.fatal
        } == dict(
            missing_image=2, unknown_category=1, unknown_image=1)

    def test_warnings_do_not_raise(self, coco):
        coco.coco['train']['images'][0]['width'] += 1
        report = check_detection_data(coco.splits())
        assert report.ok and [f.code for f in report.warnings
                              ] == ['image_size_mismatch']

    def test_examples_are_capped(self, coco):
        for index in range(NUM_IMAGES):
            coco.image_file('test', index).unlink()
        report = run(coco.splits(), max_examples=2)
        finding = findings(report)['missing_image']
        assert finding.count == NUM_IMAGES and len(finding.examples) == 2
        assert finding.describe().endswith(', ...)')

    def test_report_formats(self, coco):
        coco.coco['test']['annotations'][0]['bbox'][0] = -2.0
        coco.image_file('train').unlink()
        report = run(coco.splits())
        data = json.loads(json.dumps(report.to_dict()))
        assert data['counts'] == dict(missing_image=1, box_crosses_border=1)
        assert data['fatal'][0]['code'] == 'missing_image'
        assert data['stats']['train']['num_images'] == NUM_IMAGES
        text = report.format()
        assert 'fatal   missing_image [train]: 1' in text
        assert 'warning box_crosses_border [test]: 1' in text
        markdown = report.format(markdown=True)
        assert '| fatal | `missing_image` | train | 1 |' in markdown
        assert '| warning | `box_crosses_border` | test | 1 |' in markdown

    def test_rejects_bad_arguments(self, coco, voc, tmp_path):
        splits = coco.splits()
        with pytest.raises(ValueError, match='splits is empty'):
            check_detection_data({})
        with pytest.raises(ValueError, match='one layout'):
            check_detection_data(
                dict(train=splits['train'], test=voc.splits()['test']))
        with pytest.raises(ValueError, match=r"one of \['train', 'test'\]"):
            check_detection_data(splits, train_split='val')
        with pytest.raises(ValueError, match='must be a DetectionSplit'):
            check_detection_data(dict(train=str(coco.ann_file('train'))))
        with pytest.raises(FileNotFoundError, match='nothing.json'):
            check_detection_data(
                dict(train=DetectionSplit.coco(tmp_path / 'nothing.json')))
        loose = tmp_path / 'trainval.txt'
        loose.write_text('a\n')
        with pytest.raises(ValueError, match='is not a VOC list'):
            check_detection_data(dict(train=DetectionSplit.voc(loose)))
        with pytest.raises(ValueError, match='layout must be one of'):
            DetectionSplit('yolo', ('a', ))

    def test_train_split_may_be_named(self, coco):
        splits = coco.splits()
        coco.drop_class_boxes('test')
        splits = coco.splits()
        # With 'test' as the training split the class is missing in
        # training, not in the other split.
        report = run(splits, train_split='test')
        assert 'class_without_train_boxes' in findings(report)


def percentiles(values):
    return [float(v) for v in np.percentile(values, [10, 50, 90])]


class TestStatistics:

    def test_coco_data_root(self, coco_data_root):
        ann_file = (
            coco_data_root / 'annotations' / 'instances_train2017.json')
        coco = load_json(ann_file)
        stats = detection_data_stats(DetectionSplit.coco(ann_file))
        print(stats.format())
        boxes = usable_coco_boxes(coco)
        assert stats.num_images == len(coco['images'])
        if coco_data_root.name == 'coco_tiny':
            assert stats.num_images == 80 and stats.num_classes == 80
        assert stats.classes == tuple(c['name'] for c in coco['categories'])
        assert stats.num_boxes == len(boxes)
        assert stats.num_ignored_boxes == sum(1 for a in coco['annotations']
                                              if a.get('iscrowd'))
        names = {c['id']: c['name'] for c in coco['categories']}
        assert stats.boxes_per_class == {
            name: n
            for name, n in ((name,
                             Counter(names[a['category_id']]
                                     for a in boxes)[name])
                            for name in stats.classes)
        }
        widths = [i['width'] for i in coco['images']]
        assert stats.image_width['p50'] == round(float(np.median(widths)), 1)
        assert stats.image_width['min'] == min(widths)
        longer = {
            i['id']: max(i['width'], i['height'])
            for i in coco['images']
        }
        sizes = [math.sqrt(a['bbox'][2] * a['bbox'][3]) for a in boxes]
        rel = [s / longer[a['image_id']] for s, a in zip(sizes, boxes)]
        for key, want in zip(('p10', 'p50', 'p90'), percentiles(sizes)):
            assert stats.object_size[key] == pytest.approx(want, abs=0.05)
        for key, want in zip(('p10', 'p50', 'p90'), percentiles(rel)):
            assert stats.object_size_rel[key] == pytest.approx(want, abs=1e-4)
        per_image = Counter(a['image_id'] for a in boxes)
        counts = [per_image[i['id']] for i in coco['images']]
        assert stats.boxes_per_image['mean'] == round(np.mean(counts), 2)
        assert stats.boxes_per_image['max'] == max(counts)
        data = stats.to_dict()
        assert data['num_classes'] == stats.num_classes
        json.dumps(data)
        assert 'object size / longer side: median' in stats.format()
        assert '| image width |' in stats.format(markdown=True)

    def test_voc_copy_has_the_same_statistics(self, tmp_path, coco_data_root):
        ann_file = (
            coco_data_root / 'annotations' / 'instances_train2017.json')
        coco_stats = detection_data_stats(DetectionSplit.coco(ann_file))
        devkit = coco_to_voc(coco_data_root, tmp_path)
        voc_stats = detection_data_stats(
            DetectionSplit.voc(devkit / 'VOC2007' / 'ImageSets' / 'Main' /
                               'trainval.txt'))
        print(voc_stats.format())
        for key in ('num_images', 'num_images_with_boxes', 'num_boxes',
                    'num_ignored_boxes', 'image_width', 'image_height',
                    'image_longer_side', 'boxes_per_image'):
            assert getattr(voc_stats, key) == getattr(coco_stats, key), key
        # VOC classes are the names in the XML, sorted; same counts.
        assert voc_stats.classes == tuple(
            sorted(n for n, c in coco_stats.boxes_per_class.items() if c))
        assert voc_stats.boxes_per_class == {
            n: c
            for n, c in coco_stats.boxes_per_class.items() if c
        }
        # Coordinates are rounded to pixels in the copy.
        for key in ('p10', 'p50', 'p90'):
            assert voc_stats.object_size[key] == pytest.approx(
                coco_stats.object_size[key], abs=1.0)

    def test_given_classes_fix_the_order(self, coco):
        splits = coco.splits()
        names = [c['name'] for c in coco.coco['train']['categories']]
        stats = detection_data_stats(
            splits['train'], classes=names[::-1] + ['extra'])
        assert list(stats.boxes_per_class) == names[::-1] + ['extra']
        assert stats.boxes_per_class['extra'] == 0

    def test_empty_split(self, coco):
        coco.coco['train']['annotations'] = []
        stats = detection_data_stats(coco.splits()['train'])
        assert stats.num_boxes == 0
        assert stats.object_size == dict.fromkeys(
            ('min', 'p10', 'p50', 'p90', 'max'))
        assert 'object size, px: n/a' in stats.format()


class TestCocoToVoc:

    @pytest.fixture
    def devkit(self, tmp_path, coco):
        """The clean COCO folder's training split as a VOC devkit."""
        coco.splits()
        return coco_to_voc(
            coco.root,
            tmp_path / 'out',
            splits=dict(
                train=('annotations/instances_train.json', 'train2017')))

    def test_layout_and_lists(self, devkit, coco):
        sub_root = devkit / 'VOC2007'
        ids = (sub_root / 'ImageSets' / 'Main' /
               'train.txt').read_text().split()
        assert ids == [
            Path(i['file_name']).stem for i in coco.coco['train']['images']
        ]
        for image_id in ids:
            link = sub_root / 'JPEGImages' / f'{image_id}.jpg'
            assert link.is_symlink() and link.is_file()
            assert (sub_root / 'Annotations' / f'{image_id}.xml').is_file()

    def test_boxes_round_trip_through_mmdet_numbers(self, devkit, coco):
        image = coco.coco['train']['images'][0]
        anns = [
            a for a in coco.coco['train']['annotations']
            if a['image_id'] == image['id']
        ]
        ours = read_voc_annotation(devkit / 'VOC2007' / 'Annotations' /
                                   f'{Path(image["file_name"]).stem}.xml')
        assert (ours['width'], ours['height']) == (image['width'],
                                                   image['height'])
        for ann, obj in zip(anns, ours['objects']):
            x, y, w, h = ann['bbox']
            assert obj['bbox'] == pytest.approx([x, y, x + w, y + h],
                                                abs=0.5 + 1e-6)

    def test_refuses_two_images_with_one_id(self, tmp_path, coco):
        coco.splits()
        with pytest.raises(ValueError, match='would both be VOC id'):
            coco_to_voc(
                coco.root,
                tmp_path / 'out',
                splits=dict(
                    a=('annotations/instances_train.json', 'train2017'),
                    b=('annotations/instances_test.json', 'val2017')))
