"""The main job on a user's own data: the size rule, the search split that
keeps every class in training, the VOC layout end to end, one-line
command-line errors, and broken data stopped before stage 1."""
import copy
import hashlib
import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest
from mmengine.config import Config
from PIL import Image

from detnas_mm.datasets import coco_to_voc, verify_manifest
from detnas_mm.datasets.data_checks import DataStats, detection_data_stats
from detnas_mm.pipeline import cli
from detnas_mm.pipeline.config_edits import load_shipped
from detnas_mm.pipeline.data import CocoData, VocData, open_detection_data
from detnas_mm.pipeline.sizes import (BUILTIN_TASK_SIZES, MIN_SCALE, PRESETS,
                                      DetectorGeometry, Sizes, choose_sizes,
                                      data_scale, estimate_seconds,
                                      measure_slowdown, probe_seconds,
                                      sizes_for_run)
from detnas_mm.pipeline.stages import FINETUNE_CONFIG, Pipeline
from tests.utils import REPO_ROOT, tool_env

TOOL = REPO_ROOT / 'tools' / 'pipeline.py'
GEOMETRY = DetectorGeometry(smallest_anchor=32.0, pos_iou=0.7,
                            min_pos_iou=0.3)
STAGE_DIRS = ('1_pretrain', '2_split', '3_finetune')


# Data -----------------------------------------------------------------------
def load_json(path):
    with open(path) as f:
        return json.load(f)


def coco_copy(root, source):
    """A COCO-layout copy: annotations copied (to be broken), each image a
    symlink (one can be removed)."""
    root = Path(root)
    shutil.copytree(Path(source) / 'annotations', root / 'annotations')
    for folder in ('train2017', 'val2017'):
        (root / folder).mkdir(parents=True)
        for image in (Path(source) / folder).iterdir():
            (root / folder / image.name).symlink_to(image.resolve())
    return root


def train_json(root):
    return Path(root) / 'annotations' / 'instances_train2017.json'


@pytest.fixture(scope='module')
def voc_root(tmp_path_factory, coco_data_root):
    """VOC-layout copy of the COCO test data: train2017 -> VOC2007
    trainval, val2017 -> VOC2007 test."""
    out = tmp_path_factory.mktemp('voc')
    return coco_to_voc(coco_data_root, out)


def voc_without_test(tmp_path, voc_root):
    """A VOC folder whose VOC2007 has no test.txt (an own list instead)."""
    devkit = tmp_path / 'VOCdevkit'
    shutil.copytree(voc_root, devkit, symlinks=True)
    main = devkit / 'VOC2007' / 'ImageSets' / 'Main'
    (main / 'test.txt').rename(main / 'holdout.txt')
    return devkit, main / 'holdout.txt'


def stats_of(root):
    return open_detection_data(str(root)).stats()


def hand_stats(rel_p50, longer=640.0, rel_p10=None, num_images=100,
               num_boxes=500):
    """DataStats with the numbers the size rule reads."""
    summary = dict(min=None, p10=None, p50=None, p90=None, max=None)
    return DataStats(
        num_images=num_images, num_images_with_boxes=num_images,
        num_boxes=num_boxes, num_ignored_boxes=0, classes=('a', 'b'),
        boxes_per_class=dict(a=num_boxes // 2, b=num_boxes // 2),
        image_width=dict(summary, p50=longer),
        image_height=dict(summary, p50=longer * 0.75),
        image_longer_side=dict(summary, p50=longer),
        object_size=dict(summary, p50=rel_p50 * longer),
        object_size_rel=dict(summary, p50=rel_p50, p10=rel_p10),
        boxes_per_image=dict(summary, p50=5.0))


# The size rule ---------------------------------------------------------------
class TestScaleRule:

    def test_median_object_reaches_the_smallest_anchor(self):
        scale, why = data_scale(hand_stats(0.12), GEOMETRY)
        # 32 / 0.12 = 267 -> the next multiple of 32.
        assert scale == 288
        assert 'median object 12.0% of the longer side -> 288 px' in why
        assert '35 px' in why

    def test_no_upscaling_beyond_the_images(self):
        scale, why = data_scale(hand_stats(0.05, longer=300), GEOMETRY)
        assert scale == 320 and 'no upscaling' in why

    def test_bounds(self):
        assert data_scale(hand_stats(0.6), GEOMETRY)[0] == MIN_SCALE
        scale, why = data_scale(hand_stats(0.01, longer=4000), GEOMETRY)
        assert scale == 640 and 'CPU maximum' in why

    def test_follows_the_detectors_anchors(self):
        small = replace(GEOMETRY, smallest_anchor=16.0)
        assert data_scale(hand_stats(0.05), small)[0] == 320
        assert data_scale(hand_stats(0.05), GEOMETRY)[0] == 640

    def test_geometry_read_from_configs(self):
        faster = Config(dict(model=dict(
            rpn_head=dict(anchor_generator=dict(
                scales=[8], strides=[4, 8, 16, 32, 64])),
            train_cfg=dict(rpn=dict(assigner=dict(
                pos_iou_thr=0.7, min_pos_iou=0.3))))))
        assert DetectorGeometry.of_config(faster) == GEOMETRY
        retina = Config(dict(model=dict(
            bbox_head=dict(anchor_generator=dict(
                octave_base_scale=4, strides=[8, 16, 32, 64, 128])),
            train_cfg=dict(assigner=dict(pos_iou_thr=0.5,
                                         min_pos_iou=0)))))
        assert DetectorGeometry.of_config(retina) == DetectorGeometry(
            32.0, 0.5, 0.0)
        # The pipeline's own detector reads without error.
        own = DetectorGeometry.of_config(load_shipped(FINETUNE_CONFIG))
        assert own.smallest_anchor > 0 and 0 < own.pos_iou <= 1


class TestChooseSizes:

    def test_builtin_data_and_default_budget_give_about_the_preset(
            self, builtin_data):
        # Stats of the default built-in set (500 images, 128 px), whose
        # median object is a quarter of the image.
        stats = replace(stats_of(builtin_data['detection']),
                        num_images=500)
        sizes = choose_sizes('default', stats, 30, num_test_images=100,
                             geometry=GEOMETRY)
        preset = PRESETS['default']
        assert sizes.det_scale == preset.det_scale == 128
        assert sizes.num_search == preset.num_search
        assert sizes.num_random == preset.num_random
        for key in ('pretrain_iters', 'finetune_iters', 'retrain_iters'):
            assert 0.5 <= getattr(sizes, key) / getattr(preset, key) <= 2, key
        candidates = sizes.population * sizes.generations
        assert 0.5 <= candidates / 30 <= 2
        assert 0.85 * 30 <= sizes.estimated_minutes <= 1.05 * 30

    def test_small_objects_ask_for_a_larger_scale_than_the_budget_allows(
            self):
        stats = hand_stats(0.086, rel_p10=0.022, num_images=80)
        big = choose_sizes('default', stats, 24 * 60, num_test_images=80,
                           geometry=GEOMETRY)
        assert big.det_scale == 384
        small = choose_sizes('default', stats, 30, num_test_images=80,
                             geometry=GEOMETRY)
        assert MIN_SCALE <= small.det_scale < 384
        text = '\n'.join(small.reasons)
        assert 'median object 8.6% of the longer side -> 384 px' in text
        assert f'allows {small.det_scale} px' in text
        assert 'needs about' in text and '--budget-minutes' in text
        if 0.086 * small.det_scale < 32 * 0.7**0.5:
            assert 'expect weak detection' in text
        assert 'no anchor overlaps' in text  # the smallest tenth

    def test_a_larger_budget_buys_longer_schedules(self):
        stats = hand_stats(0.25, longer=128, num_images=500)
        sizes = [choose_sizes('default', stats, minutes, num_test_images=100,
                              geometry=GEOMETRY) for minutes in (20, 40, 80)]
        for short, long in zip(sizes, sizes[1:]):
            assert long.det_scale == short.det_scale == 128
            for key in ('pretrain_iters', 'finetune_iters'):
                assert getattr(long, key) > getattr(short, key)
            assert long.population * long.generations >= \
                short.population * short.generations
        for minutes, s in zip((20, 40, 80), sizes):
            assert s.estimated_minutes <= 1.05 * minutes
        assert [s.num_random for s in sizes] == [1, 3, 5]

    def test_a_budget_too_small_says_so(self):
        sizes = choose_sizes('default', hand_stats(0.25, longer=128), 1,
                             num_test_images=25, geometry=GEOMETRY)
        assert sizes.det_scale == MIN_SCALE
        assert sizes.estimated_minutes > 1
        assert any('do not fit the 1-minute budget' in r
                   for r in sizes.reasons)

    def test_img_scale_and_stage_overrides_take_precedence(self):
        stats = hand_stats(0.086, num_images=80)
        sizes = choose_sizes(
            'default', stats, 30, img_scale=256, num_test_images=80,
            geometry=GEOMETRY,
            overrides=dict(finetune={'train_cfg.max_iters': 2000},
                           search={'train_cfg.population_size': 6,
                                   'model.test_cfg.rpn.nms_pre': 100}))
        assert sizes.det_scale == 256
        assert sizes.finetune_iters == 2000 and sizes.population == 6
        assert any('--img-scale' in r for r in sizes.reasons)
        assert any('finetune_iters=2000 from --finetune-cfg-options' in r
                   for r in sizes.reasons)
        # The modelled time counts the overridden schedule.
        plain = choose_sizes('default', stats, 30, img_scale=256,
                             num_test_images=80, geometry=GEOMETRY)
        assert sizes.estimated_minutes > plain.estimated_minutes

    def test_quick_keeps_its_sizes(self):
        sizes = choose_sizes('quick', hand_stats(0.01), 30,
                             geometry=GEOMETRY)
        numbers = {k: v for k, v in sizes.to_dict().items()
                   if k not in ('reasons', 'estimated_minutes')}
        quick = PRESETS['quick'].to_dict()
        assert numbers == {k: quick[k] for k in numbers}
        assert choose_sizes('quick', None, img_scale=200).det_scale == 200

    def test_the_built_in_task_keeps_the_sizes_it_was_measured_at(self):
        for budget in (10, 30, 120):
            sizes = choose_sizes('default', hand_stats(0.15), budget,
                                 geometry=GEOMETRY, builtin_task=True)
            numbers = {k: v for k, v in sizes.to_dict().items()
                       if k not in ('reasons', 'estimated_minutes')}
            fixed = BUILTIN_TASK_SIZES.to_dict()
            assert numbers == {k: fixed[k] for k in numbers}
            assert sizes.estimated_minutes is None
        assert fixed['num_random'] >= 8  # the searched-vs-random median
        assert fixed['retrain_pretrain_iters'] > 0
        # Overrides and the quick preset still apply.
        sizes = choose_sizes('default', hand_stats(0.15), 30,
                             overrides={'finetune': {
                                 'train_cfg.max_iters': 50}},
                             builtin_task=True)
        assert sizes.finetune_iters == 50
        assert choose_sizes('quick', hand_stats(0.15),
                            builtin_task=True).finetune_iters == 4

    def test_bad_arguments(self):
        with pytest.raises(ValueError, match='preset must be one of'):
            choose_sizes('huge')
        with pytest.raises(ValueError, match='budget_minutes'):
            choose_sizes('default', hand_stats(0.1), 0)

    def test_a_slower_machine_gets_shorter_schedules(self):
        stats = hand_stats(0.25, longer=128, num_images=500)
        now = choose_sizes('default', stats, 60, num_test_images=100,
                           geometry=GEOMETRY)
        slow = choose_sizes('default', stats, 60, num_test_images=100,
                            geometry=GEOMETRY, slowdown=2.0)
        assert slow.finetune_iters < now.finetune_iters
        assert slow.estimated_minutes <= 1.05 * 60
        assert any('x 2.00' in r for r in slow.reasons)

    def test_the_probe_times_this_machine(self):
        assert 0 < probe_seconds(repeats=2, steps=1) < 60
        assert measure_slowdown() > 0

    def test_a_rerun_reuses_the_sizes_of_its_work_dir(self, tmp_path):
        calls = []

        def choose(budget):
            calls.append(budget)
            return replace(Sizes(finetune_iters=budget * 10),
                           reasons=('chosen',))

        request = dict(preset='default', budget_minutes=30,
                       stage_options=dict(finetune={'a.b': (1, 2)}))
        first = sizes_for_run(str(tmp_path), request, lambda: choose(30))
        again = sizes_for_run(str(tmp_path), request, lambda: choose(31))
        assert calls == [30] and again.finetune_iters == first.finetune_iters
        assert 'chosen by the first run in this work dir' in again.reasons[-1]
        other = dict(request, budget_minutes=60)
        assert sizes_for_run(str(tmp_path), other,
                             lambda: choose(60)).finetune_iters == 600
        assert calls == [30, 60]

    def test_estimate_is_the_sum_of_the_stages(self):
        seconds = estimate_seconds(Sizes(), 1.0, 100)
        assert seconds['total'] == pytest.approx(
            sum(v for k, v in seconds.items() if k != 'total'))
        bigger = estimate_seconds(Sizes(det_scale=256), 1.0, 100)
        for stage in ('finetune', 'search', 'retrain'):
            assert bigger[stage] > seconds[stage]
        assert bigger['pretrain'] == seconds['pretrain']


# The search split keeps every class in training ------------------------------
def first_in_hash_order(keys, seed=0):
    return min(keys, key=lambda k: hashlib.sha256(
        f'{seed}:{k}'.encode()).digest())


def small_coco(root, rare_key):
    """12 images 'common' boxes; one image (``rare_key``) also holds the
    only 'rare' box."""
    images = [dict(id=i, file_name=f'{i}.jpg', width=100, height=80)
              for i in range(1, 13)]
    anns = [dict(id=i, image_id=i, category_id=1, bbox=[10, 10, 30, 30],
                 area=900, iscrowd=0) for i in range(1, 13)]
    anns.append(dict(id=100, image_id=rare_key, category_id=7,
                     bbox=[50, 40, 20, 20], area=400, iscrowd=0))
    coco = dict(images=images, annotations=anns,
                categories=[dict(id=1, name='common'),
                            dict(id=7, name='rare')])
    (root / 'annotations').mkdir(parents=True)
    for split in ('train2017', 'val2017'):
        (root / split).mkdir()
        with open(root / 'annotations' / f'instances_{split}.json',
                  'w') as f:
            json.dump(coco, f)
        for image in images:
            path = root / split / image['file_name']
            Image.new('RGB', (100, 80)).save(path)
    return root


class TestSearchSplitKeepsClasses:

    def test_coco_rare_class_stays_in_training(self, tmp_path):
        rare = first_in_hash_order([str(i) for i in range(1, 13)])
        data = CocoData(str(small_coco(tmp_path / 'coco', int(rare))))
        out = tmp_path / 'split'
        splits = data.make_search_split(str(out), 3, 0)
        assert splits['kept'] == [dict(image=rare, classes=['rare'])]
        search = load_json(splits['search'].ann_files[0])
        train = load_json(splits['train'].ann_files[0])
        assert len(search['images']) == 3
        assert int(rare) not in {i['id'] for i in search['images']}
        # Every training image is in exactly one of the two.
        ids = sorted(i['id'] for i in search['images'] + train['images'])
        assert ids == list(range(1, 13))
        stats = detection_data_stats(splits['train'], data.classes)
        assert stats.boxes_per_class == dict(common=9, rare=1)
        # The split of the pool is the hashed one, re-checkable.
        assert verify_manifest(out / 'manifest.json')
        assert load_json(out / 'kept_for_training.json')['images'] == \
            splits['kept']
        data.check(dict(search=splits['search'],
                        train_remain=splits['train']),
                   train_split='train_remain')

    def test_coco_without_rare_classes_is_the_plain_split(self, tmp_path):
        last = max((str(i) for i in range(1, 13)),
                   key=lambda k: hashlib.sha256(f'0:{k}'.encode()).digest())
        data = CocoData(str(small_coco(tmp_path / 'coco', int(last))))
        splits = data.make_search_split(str(tmp_path / 'split'), 3, 0)
        assert splits['kept'] == []
        assert Path(splits['train'].ann_files[0]).name == 'train_remain.json'

    def test_voc_rare_class_stays_in_training(self, tmp_path):
        coco_root = small_coco(tmp_path / 'coco', 1)
        keys = [f'VOC2007/{i}' for i in range(1, 13)]
        rare = first_in_hash_order(keys).split('/')[1]
        coco = load_json(train_json(coco_root))
        for ann in coco['annotations']:
            if ann['category_id'] == 7:
                ann['image_id'] = int(rare)
        train_json(coco_root).write_text(json.dumps(coco))
        devkit = coco_to_voc(coco_root, tmp_path / 'voc', splits=dict(
            trainval=('annotations/instances_train2017.json', 'train2017')))
        main = devkit / 'VOC2007' / 'ImageSets' / 'Main'
        shutil.copy(main / 'trainval.txt', main / 'test.txt')
        data = VocData(str(devkit))
        splits = data.make_search_split(str(tmp_path / 'split'), 3, 0)
        assert splits['kept'] == [dict(image=f'VOC2007/{rare}',
                                       classes=['rare'])]
        stats = detection_data_stats(splits['train'], data.classes)
        assert stats.boxes_per_class == dict(common=9, rare=1)
        assert stats.num_images == 9
        search = detection_data_stats(splits['search'], data.classes)
        assert search.num_images == 3


# Command-line errors: one line, no traceback, no stage folder ----------------
def run_main(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    assert 'Traceback' not in err
    lines = err.strip().splitlines()
    assert lines[0].startswith('usage:') and 'error: ' in lines[-1]
    return lines[-1]


def assert_no_stage(work_dir):
    for name in STAGE_DIRS:
        assert not (Path(work_dir) / name).exists()


@pytest.fixture
def args(tmp_path, coco_data_root, imagenet_data_root):
    """A working command line, to which a test adds one bad input."""

    def make(det=None, *extra):
        return ['--work-dir', str(tmp_path / 'run'), '--det-data-root',
                str(det or coco_data_root), '--cls-data-root',
                str(imagenet_data_root), *extra]

    return make


class TestCommandLineErrors:

    @pytest.mark.parametrize('extra,message', [
        (['--budget-minutes', '0'], '--budget-minutes must be positive'),
        (['--budget-minutes', '-5'], '--budget-minutes must be positive'),
        (['--budget-minutes', 'soon'], "invalid float value: 'soon'"),
        (['--img-scale', '16'], '--img-scale must be in [32, 4096]'),
        (['--img-scale', '9000'], '--img-scale must be in [32, 4096]'),
        (['--img-scale', 'big'], "invalid int value: 'big'"),
        (['--preset', 'huge'], "invalid choice: 'huge'"),
        (['--seed', '-1'], '--seed must be >= 0'),
        (['--finetune-cfg-options', 'train_cfg.max_iters'],
         "--finetune-cfg-options takes KEY=VALUE pairs"),
        (['--test-list', '/no/such/list.txt'], 'is not a file'),
    ])
    def test_bad_option(self, args, capsys, tmp_path, extra, message):
        line = run_main(args(None, *extra), capsys)
        assert message in line
        assert_no_stage(tmp_path / 'run')

    def test_missing_folders(self, args, capsys, tmp_path):
        line = run_main(args(tmp_path / 'nowhere'), capsys)
        assert "--det-data-root '" in line and 'is not a folder' in line
        argv = args()
        argv[argv.index('--cls-data-root') + 1] = str(tmp_path / 'nothing')
        assert '--cls-data-root' in run_main(argv, capsys)

    def test_folder_of_neither_layout(self, args, capsys, tmp_path):
        (tmp_path / 'photos').mkdir()
        (tmp_path / 'photos' / 'a.jpg').write_bytes(b'')
        line = run_main(args(tmp_path / 'photos'), capsys)
        assert 'is neither a COCO-layout folder' in line
        assert 'nor a VOC-layout one' in line
        assert_no_stage(tmp_path / 'run')

    def test_coco_folder_without_test_annotations(self, args, capsys,
                                                  tmp_path, coco_data_root):
        root = coco_copy(tmp_path / 'coco', coco_data_root)
        (root / 'annotations' / 'instances_val2017.json').unlink()
        line = run_main(args(root), capsys)
        assert 'instances_val2017.json is missing' in line

    def test_test_list_is_for_voc_only(self, args, capsys, tmp_path):
        listed = tmp_path / 'list.txt'
        listed.write_text('1\n')
        line = run_main(args(None, '--test-list', str(listed)), capsys)
        assert '--test-list applies to VOC-layout data only' in line

    def test_classification_folder_without_train(self, args, capsys,
                                                 tmp_path):
        (tmp_path / 'cls').mkdir()
        argv = args()
        argv[argv.index('--cls-data-root') + 1] = str(tmp_path / 'cls')
        line = run_main(argv, capsys)
        assert 'ImageNet layout' in line
        assert_no_stage(tmp_path / 'run')


class TestVocTestSplit:

    def test_refused_without_test_list(self, args, capsys, tmp_path,
                                       voc_root):
        devkit, _ = voc_without_test(tmp_path, voc_root)
        line = run_main(args(devkit), capsys)
        assert 'no test split' in line and '--test-list' in line
        assert_no_stage(tmp_path / 'run')

    def test_accepted_with_test_list(self, args, capsys, tmp_path,
                                     voc_root, monkeypatch):
        devkit, holdout = voc_without_test(tmp_path, voc_root)
        ran = []
        monkeypatch.setattr(Pipeline, 'run', lambda self: ran.append(self))
        cli.main(args(devkit, '--test-list', str(holdout)))
        out = capsys.readouterr().out
        assert 'VOC layout' in out and 'sizes of this run:' in out
        assert 'median object' in out  # the reason for the scale
        pipeline, = ran
        assert pipeline.data.score_key == 'pascal_voc/mAP'
        assert pipeline.data.splits['test'].ann_files == (str(holdout), )

    def test_test_list_outside_a_voc_folder(self, args, capsys, tmp_path,
                                            voc_root):
        devkit, holdout = voc_without_test(tmp_path, voc_root)
        stray = tmp_path / 'elsewhere' / 'list.txt'
        stray.parent.mkdir()
        shutil.copy(holdout, stray)
        line = run_main(args(devkit, '--test-list', str(stray)), capsys)
        assert 'is not a VOC list' in line


# Broken data stops before stage 1 --------------------------------------------
class TestBrokenDataStopsThePipeline:

    def test_coco_missing_image(self, args, capsys, tmp_path,
                                coco_data_root):
        root = coco_copy(tmp_path / 'coco', coco_data_root)
        name = load_json(train_json(root))['images'][3]['file_name']
        (root / 'train2017' / name).unlink()
        line = run_main(args(root), capsys)
        assert 'cannot be trained on' in line
        assert 'missing_image [train]: 1' in line and name in line
        assert_no_stage(tmp_path / 'run')

    def test_coco_unknown_category(self, args, capsys, tmp_path,
                                   coco_data_root):
        root = coco_copy(tmp_path / 'coco', coco_data_root)
        coco = load_json(train_json(root))
        coco['annotations'][0]['category_id'] = 999
        train_json(root).write_text(json.dumps(coco))
        line = run_main(args(root), capsys)
        assert 'unknown_category [train]: 1' in line and '999' in line
        assert_no_stage(tmp_path / 'run')

    def test_voc_empty_box(self, args, capsys, tmp_path, voc_root):
        devkit = tmp_path / 'VOCdevkit'
        shutil.copytree(voc_root, devkit, symlinks=True)
        image_id = (devkit / 'VOC2007' / 'ImageSets' / 'Main' /
                    'trainval.txt').read_text().split()[2]
        xml = devkit / 'VOC2007' / 'Annotations' / f'{image_id}.xml'
        tree = ET.parse(xml)
        box = tree.getroot().find('object').find('bndbox')
        box.find('xmax').text = box.find('xmin').text
        tree.write(xml)
        line = run_main(args(devkit), capsys)
        assert 'empty_box [train]: 1' in line and image_id in line
        assert_no_stage(tmp_path / 'run')

    def test_the_tool_itself_prints_one_line(self, tmp_path, coco_data_root,
                                             imagenet_data_root):
        root = coco_copy(tmp_path / 'coco', coco_data_root)
        coco = load_json(train_json(root))
        coco['annotations'][0]['category_id'] = 999
        train_json(root).write_text(json.dumps(coco))
        out = subprocess.run(
            [sys.executable, str(TOOL), '--work-dir', str(tmp_path / 'run'),
             '--det-data-root', str(root), '--cls-data-root',
             str(imagenet_data_root)], capture_output=True, text=True,
            timeout=300, env=tool_env())
        assert out.returncode == 2
        assert 'Traceback' not in out.stderr
        errors = [line for line in out.stderr.splitlines()
                  if 'error:' in line]
        assert len(errors) == 1 and 'unknown_category' in errors[0]
        assert_no_stage(tmp_path / 'run')


# The whole pipeline on the VOC layout ----------------------------------------
@pytest.mark.e2e
def test_pipeline_runs_to_the_end_on_a_voc_copy(tmp_path, voc_root,
                                                imagenet_data_root):
    work_dir = tmp_path / 'run'
    out = subprocess.run(
        [sys.executable, str(TOOL), '--preset', 'quick', '--work-dir',
         str(work_dir), '--det-data-root', str(voc_root),
         '--cls-data-root', str(imagenet_data_root)],
        capture_output=True, text=True, timeout=1500, env=tool_env())
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert 'VOC layout' in out.stdout
    report = work_dir / '7_report'
    summary = load_json(report / 'summary.json')
    assert summary['score_key'] == 'pascal_voc/mAP'
    names = [row['name'] for row in summary['table']]
    assert names[1] == 'published (voc_fpn_300M)'
    for row in summary['table']:
        assert 0.0 <= row['test_mAP'] <= 1.0
        assert 0.0 <= row['search_score'] <= 1.0
    # The search split came out of VOC2007 trainval, and every class kept
    # a training box (the check of the split found nothing fatal).
    split = load_json(work_dir / '2_split' / 'done.json')
    assert all('VOC2007' in path for path in split['search'] +
               split['train'])
    check = load_json(work_dir / '2_split' / 'data_check.json')
    assert check['fatal'] == []
    # Nonzero scores that do not all tie, or the guard's message.
    text = (report / 'summary.md').read_text()
    scores = [e['score'] for e in load_json(
        work_dir / '4_search' / 'search_state.json')['log']]
    if summary['can_rank']:
        assert max(scores) > 0 and len(set(scores)) > 1
    else:
        assert 'could not rank' in text
    assert '## Sizes' in text and 'preset quick: fixed sizes' in text
    assert summary['sizes']['reasons']


def test_voc_config_points_at_the_lists(tmp_path, voc_root):
    """The VOC data's configs: one XMLDataset per list, classes from the
    data, VOCMetric."""
    data = open_detection_data(str(voc_root))
    cfg = copy.deepcopy(load_shipped(FINETUNE_CONFIG))
    splits = data.make_search_split(str(tmp_path / 'split'), 20, 0)
    data.setup(cfg, splits['train'], splits['search'], data.splits['test'])
    train = cfg.train_dataloader.dataset
    lists = [train] if train['type'] == 'XMLDataset' else train['datasets']
    assert {d['ann_file'] for d in lists} == set(splits['train'].ann_files)
    for d in lists:
        assert d['type'] == 'XMLDataset'
        assert d['data_prefix'] == dict(sub_data_root='VOC2007/')
        assert d['metainfo']['classes'] == data.classes
    assert cfg.val_dataloader.dataset['ann_file'] == \
        splits['search'].ann_files[0]
    assert cfg.val_evaluator['type'] == 'VOCMetric'
    assert cfg.test_dataloader.dataset['ann_file'] == \
        data.splits['test'].ann_files[0]


def test_voc_metric_scores_the_datas_own_classes(voc_root):
    """VOCMetric over the VOC copy's 80 classes: its own detections score
    mAP 1 (mmdet's VOCDataset would make the metric use the 20 PASCAL
    names and fail)."""
    import torch
    from mmdet.registry import DATASETS, METRICS
    from mmdet.utils import register_all_modules
    register_all_modules()
    data = open_detection_data(str(voc_root))
    cfg = copy.deepcopy(load_shipped(FINETUNE_CONFIG))
    data.setup(cfg, data.splits['train'], data.splits['test'])
    dataset = DATASETS.build(dict(cfg.val_dataloader.dataset, pipeline=[]))
    assert dataset.metainfo['classes'] == data.classes
    metric = METRICS.build(cfg.val_evaluator)
    metric.dataset_meta = dataset.metainfo
    samples = []
    for index in range(len(dataset)):
        kept = [i for i in dataset.get_data_info(index)['instances']
                if not i['ignore_flag']]
        boxes = torch.tensor([i['bbox'] for i in kept],
                             dtype=torch.float32).reshape(-1, 4)
        labels = torch.tensor([i['bbox_label'] for i in kept],
                              dtype=torch.long)
        samples.append(dict(
            gt_instances=dict(bboxes=boxes, labels=labels),
            ignored_instances=dict(bboxes=torch.zeros(0, 4),
                                   labels=torch.zeros(0, dtype=torch.long)),
            pred_instances=dict(bboxes=boxes, labels=labels,
                                scores=torch.ones(len(kept)))))
    metric.process({}, samples)
    result = metric.evaluate(len(samples))
    assert result['pascal_voc/mAP'] == pytest.approx(1.0)
