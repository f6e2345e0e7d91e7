"""The detection data of a pipeline run: COCO or VOC layout.

The pipeline takes a folder and needs, whatever its layout: the class
names (from the data), the training and test splits, a search split held
out of training, the metric to score with, and a way to point a config's
dataloaders and evaluators at each split. :func:`open_detection_data`
recognises the layout; :class:`CocoData` and :class:`VocData` do the rest
through mmdet's ``CocoDataset``/``CocoMetric`` and
``XMLDataset`` (``VOCDataset``'s reader)/``VOCMetric``.

The search split is the hashed split of
:mod:`detnas_mm.datasets.search_split`, with one change: it never takes
the last training images of a class (see
:meth:`DetectionData.make_search_split`).
"""
import copy
import json
import os
import os.path as osp
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

from detnas_mm.datasets.coco import (coco_class_names, point_at_coco,
                                     set_num_classes)
from detnas_mm.datasets.data_checks import (DataCheckReport, DataStats,
                                            DetectionSplit,
                                            check_detection_data,
                                            detection_data_stats)
from detnas_mm.datasets.search_split import split_coco, split_voc
from detnas_mm.datasets.voc import (ANN_SUBDIR, LIST_SUBDIR,
                                    read_voc_annotation, read_voc_list,
                                    voc_class_names, voc_sub_root)
from detnas_mm.utils import atomic_write_json, atomic_write_text

KEPT_FILE = 'kept_for_training.json'


class DetectionData:
    """A detection data set with a training and a test split.

    Subclasses set :attr:`layout`, :attr:`score_key`, :attr:`classes` and
    the splits, and point config dataloaders at splits.
    """

    layout = ''
    score_key = ''

    def __init__(self, root: str):
        self.root = osp.abspath(root)
        self.classes: Tuple[str, ...] = ()
        self.splits: Dict[str, DetectionSplit] = {}

    def describe(self) -> str:
        return (f'{self.layout.upper()} layout at {self.root}: '
                f'{len(self.classes)} classes; ' + '; '.join(
                    f'{name}: {split.describe()}'
                    for name, split in self.splits.items()))

    def check(self, extra: Optional[Dict[str, DetectionSplit]] = None,
              train_split: str = 'train') -> DataCheckReport:
        """Check the data (fatal problems raise ``DataCheckError``).

        Args:
            extra: More splits to check with the data's own.
            train_split: The split trained on (its classes are the
                classes): ``'train'``, or a split of ``extra``.
        """
        splits = dict(self.splits, **(extra or {}))
        return check_detection_data(splits, train_split=train_split)

    def stats(self) -> DataStats:
        """Statistics of the training split (they choose input sizes)."""
        if getattr(self, '_stats', None) is None:
            self._stats = detection_data_stats(self.splits['train'],
                                               self.classes)
        return self._stats

    def make_search_split(self, out_dir: str, num_search: int,
                          seed: int) -> Dict[str, object]:
        """Hold ``num_search`` training images out as the search split,
        never the last training images of a class.

        The split is the seeded hashed split of
        :mod:`~detnas_mm.datasets.search_split`. On small data a rare class
        can land wholly in it: the supernet would then be fine-tuned
        without that class and every candidate would score 0 AP on it. So
        when the split leaves a class without a training box, the first
        search image (in file order) holding that class is *kept for
        training*: taken out of the pool and the split made again on the
        rest, with the same seed and size, until every class of the
        training set keeps a box. Retrying other seeds instead fails on
        small data (on coco_tiny, with 16 classes of a single box, none of
        200 seeds holds 20 images out without losing a class). Without
        such a class the split is the plain hashed one (the outputs of
        ``split_search_set.py`` with this seed and size).

        Returns:
            dict: ``train`` (the training images less the search split),
            ``search`` (:class:`DetectionSplit`), and ``kept`` (the images
            kept for training and their classes, also written to
            ``out_dir/kept_for_training.json``).
        """
        train_boxes = self.stats().boxes_per_class
        kept: Dict[object, List[str]] = {}
        while True:
            search, train = self._split_once(out_dir, num_search, seed,
                                             list(kept))
            boxes = detection_data_stats(train, self.classes).boxes_per_class
            lost = [c for c in self.classes if train_boxes[c] and not boxes[c]]
            found = self._image_classes(search)
            added = {}
            for name in lost:
                key = next((k for k, names in found.items()
                            if name in names and k not in kept), None)
                if key is not None:
                    added.setdefault(key, []).append(name)
            if not added:
                # Nothing lost, or nothing left to keep (the split stage's
                # data check then names the class).
                break
            kept.update(added)
        record = [dict(image=_key_text(k), classes=v) for k, v in kept.items()]
        atomic_write_json(osp.join(out_dir, KEPT_FILE), dict(
            why='the search split would have held every training box of '
            'these classes', images=record), indent=1)
        return dict(train=train, search=search, kept=record)

    def _split_once(self, out_dir: str, num_search: int, seed: int,
                    kept: list) -> Tuple[DetectionSplit, DetectionSplit]:
        """The hashed split of the training images less ``kept``.

        Returns:
            tuple: The search split and the training images less it.
        """
        raise NotImplementedError

    def _image_classes(self, split: DetectionSplit) -> Dict[object, Set]:
        """Image key -> names of the classes of its boxes a detector
        trains on (not crowd, ignored or difficult, not empty)."""
        raise NotImplementedError

    def split_of(self, ann_files) -> DetectionSplit:
        """A split of this data from its annotation files (lists)."""
        raise NotImplementedError

    def point(self, cfg, loader: str, split: DetectionSplit,
              evaluator: Optional[str] = None):
        """Point ``cfg[loader]`` (and ``cfg[evaluator]``) at a split."""
        raise NotImplementedError

    def setup(self, cfg, train: DetectionSplit, val: Optional[DetectionSplit],
              test: Optional[DetectionSplit] = None):
        """Point a detection config's loaders at splits; set the classes.

        The validation and test loaders take the validation loader's
        settings (batch size, test pipeline).
        """
        self.point(cfg, 'train_dataloader', train)
        template = copy.deepcopy(cfg.get('val_dataloader') or
                                 cfg.get('test_dataloader'))
        for loader, evaluator, split in (
                ('val_dataloader', 'val_evaluator', val),
                ('test_dataloader', 'test_evaluator', test)):
            if split is None:
                continue
            cfg[loader] = copy.deepcopy(template)
            self.point(cfg, loader, split, evaluator)
        set_num_classes(cfg.model, len(self.classes))


class CocoData(DetectionData):
    """COCO layout: ``annotations/instances_{train,val}2017.json``,
    ``train2017/``, ``val2017/`` (val2017 is the test split)."""

    layout = 'coco'
    score_key = 'coco/bbox_mAP'

    def __init__(self, root: str):
        super().__init__(root)
        ann = osp.join(self.root, 'annotations')
        self.splits = dict(
            train=DetectionSplit.coco(
                osp.join(ann, 'instances_train2017.json'),
                osp.join(self.root, 'train2017')),
            test=DetectionSplit.coco(
                osp.join(ann, 'instances_val2017.json'),
                osp.join(self.root, 'val2017')))
        for split in self.splits.values():
            if not osp.isfile(split.ann_files[0]):
                raise ValueError(
                    f'{split.ann_files[0]} is missing: a COCO-layout folder '
                    f'has annotations/instances_train2017.json, '
                    f'annotations/instances_val2017.json, train2017/ and '
                    f'val2017/')
        self.classes = coco_class_names(self.splits['train'].ann_files[0])

    def _split_once(self, out_dir, num_search, seed, kept):
        source = self.splits['train'].ann_files[0]
        if not kept:
            split_coco(source, out_dir, num_search=num_search, seed=seed)
            return (self.split_of([osp.join(out_dir, 'search.json')]),
                    self.split_of([osp.join(out_dir, 'train_remain.json')]))
        with open(source, encoding='utf-8') as f:
            coco = json.load(f)
        # The pool the search split is drawn from: the training file less
        # the kept images (split_coco's manifest names it as the source).
        pool = osp.join(out_dir, 'search_pool.json')
        atomic_write_text(pool, json.dumps(_coco_without(coco, set(kept))))
        manifest = split_coco(pool, out_dir, num_search=num_search,
                              seed=seed)
        train = osp.join(out_dir, 'train_remain_and_kept.json')
        atomic_write_text(train, json.dumps(_coco_without(
            coco, set(manifest['search_image_ids']))))
        return (self.split_of([osp.join(out_dir, 'search.json')]),
                self.split_of([train]))

    def _image_classes(self, split):
        with open(split.ann_files[0], encoding='utf-8') as f:
            coco = json.load(f)
        names = {c['id']: c['name'] for c in coco.get('categories', [])}
        found = {}
        for ann in coco.get('annotations', []):
            x, y, w, h = ann['bbox']
            if ann.get('iscrowd') or ann.get('ignore') or w < 1 or h < 1 \
                    or ann['category_id'] not in names:
                continue
            found.setdefault(ann['image_id'], set()).add(
                names[ann['category_id']])
        return {i['id']: found.get(i['id'], set()) for i in coco['images']}

    def split_of(self, ann_files):
        return DetectionSplit.coco(ann_files[0],
                                   self.splits['train'].img_dir)

    def point(self, cfg, loader, split, evaluator=None):
        point_at_coco(cfg, loader, split.ann_files[0], split.img_dir,
                      self.classes, evaluator)
        if evaluator is not None:
            cfg[evaluator]['type'] = 'CocoMetric'


class VocData(DetectionData):
    """VOC layout: a ``VOCdevkit`` folder with ``VOC2007`` (and
    ``VOC2012``), each with ``ImageSets/Main``, ``Annotations`` and
    ``JPEGImages``.

    Training pools the ``trainval`` lists of every year; the test split is
    ``VOC2007/ImageSets/Main/test.txt`` when present, else ``test_list``.
    Classes are the object names of the annotations, sorted.
    """

    layout = 'voc'
    score_key = 'pascal_voc/mAP'

    def __init__(self, root: str, test_list: Optional[str] = None):
        super().__init__(root)
        devkit = Path(self.root)
        if (devkit / 'VOCdevkit').is_dir():
            devkit = devkit / 'VOCdevkit'
        self.devkit = str(devkit)
        years = sorted(p for p in devkit.glob('VOC20*') if p.is_dir())
        train = [p / LIST_SUBDIR / 'trainval.txt' for p in years
                 if (p / LIST_SUBDIR / 'trainval.txt').is_file()]
        if not train:
            raise ValueError(
                f'{root}: no VOC20xx/ImageSets/Main/trainval.txt: a VOC '
                f'folder has VOC2007 (and VOC2012) with ImageSets/Main, '
                f'Annotations and JPEGImages')
        test = devkit / 'VOC2007' / LIST_SUBDIR / 'test.txt'
        if test_list is not None:
            test = Path(test_list)
        if not test.is_file():
            raise ValueError(
                f'{root}: no test split: VOC2007/ImageSets/Main/test.txt is '
                f'missing; give --test-list <VOC folder>/ImageSets/Main/'
                f'<list>.txt')
        self.splits = dict(train=DetectionSplit.voc(*train),
                           test=DetectionSplit.voc(test))
        self.classes = voc_class_names(train)
        if not self.classes:
            raise ValueError(f'{root}: the training annotations name no '
                             f'object class')

    def _split_once(self, out_dir, num_search, seed, kept):
        sources = list(self.splits['train'].ann_files)
        years = [self._year_of(p) for p in sources]
        if kept:
            # The pool the search split is drawn from: each list less the
            # kept images, as <out>/search_pool/<year>.txt (split_voc names
            # its outputs after the list's stem: the year).
            os.makedirs(osp.join(out_dir, 'search_pool'), exist_ok=True)
            pools = []
            for year, source in zip(years, sources):
                pools.append(osp.join(out_dir, 'search_pool', f'{year}.txt'))
                atomic_write_text(pools[-1], ''.join(
                    f'{i}\n' for i in read_voc_list(source)
                    if (year, i) not in kept))
            sources = pools
        manifest = split_voc(sources, out_dir, num_search=num_search,
                             seed=seed)
        if kept:  # the first, plain split's remainders no longer apply
            for year, source in zip(years, self.splits['train'].ann_files):
                stale = osp.join(out_dir, year,
                                 f'{Path(source).stem}_remain.txt')
                if osp.isfile(stale):
                    os.remove(stale)
        # split_voc writes the lists in its folder, each in a sub-folder
        # named after its year (VOC2007/search.txt).
        outputs = manifest['outputs']
        remain = [osp.join(out_dir, name) for name, o in outputs.items()
                  if o['role'] == 'remain' and o['num_images']]
        search = [osp.join(out_dir, name) for name, o in outputs.items()
                  if o['role'] == 'search' and o['num_images']]
        for year in years:
            ids = [i for y, i in kept if y == year]
            if ids:
                remain.append(osp.join(out_dir, year, 'kept.txt'))
                atomic_write_text(remain[-1], ''.join(f'{i}\n' for i in ids))
        return self.split_of(search), self.split_of(remain)

    def _image_classes(self, split):
        found = {}
        for list_file in split.ann_files:
            sub_root = voc_sub_root(list_file, self.devkit)
            for image_id in read_voc_list(list_file):
                try:
                    ann = read_voc_annotation(sub_root / ANN_SUBDIR /
                                              f'{image_id}.xml')
                except (OSError, ValueError):
                    continue
                found[(sub_root.name, image_id)] = {
                    o['name'] for o in ann['objects']
                    if not o['difficult'] and o['bbox'][2] > o['bbox'][0]
                    and o['bbox'][3] > o['bbox'][1]}
        return found

    def split_of(self, ann_files):
        return DetectionSplit.voc(*ann_files, devkit=self.devkit)

    def point(self, cfg, loader, split, evaluator=None):
        old = cfg[loader]['dataset']
        while 'dataset' in old or 'datasets' in old:
            old = old.get('dataset') or old['datasets'][0]
        train = loader == 'train_dataloader'
        datasets = []
        for list_file in split.ann_files:
            year = self._year_of(list_file)
            # XMLDataset, the reader of VOCDataset without its VOC2007 /
            # VOC2012 tag: with the tag, VOCMetric labels its per-class
            # table with the 20 PASCAL names, and fails on data with more
            # classes (IndexError) or mislabels other ones.
            datasets.append(dict(
                type='XMLDataset', data_root=osp.join(self.devkit, ''),
                ann_file=osp.abspath(list_file),
                data_prefix=dict(sub_data_root=f'{year}/'),
                metainfo=dict(classes=tuple(self.classes)),
                filter_cfg=dict(filter_empty_gt=True) if train else None,
                test_mode=not train,
                pipeline=copy.deepcopy(old['pipeline'])))
        cfg[loader]['dataset'] = datasets[0] if len(datasets) == 1 else dict(
            type='ConcatDataset', ignore_keys=['dataset_type'],
            datasets=datasets)
        if evaluator is not None:
            cfg[evaluator] = dict(type='VOCMetric', metric='mAP',
                                  eval_mode='11points')

    def _year_of(self, list_file: str) -> str:
        # Lists of the VOC folders, or of split_voc's output folder, which
        # names its sub-folders after the year (VOC2007/search.txt).
        path = Path(list_file).resolve()
        for part in reversed(path.parts[:-1]):
            if part.startswith('VOC20'):
                return part
        raise ValueError(f'Cannot tell the VOC year of {list_file}')


def _coco_without(coco: dict, image_ids: set) -> dict:
    """A COCO dict without some images and their annotations."""
    return dict(coco, images=[i for i in coco['images']
                              if i['id'] not in image_ids],
                annotations=[a for a in coco.get('annotations', [])
                             if a['image_id'] not in image_ids])


def _key_text(key) -> str:
    # COCO: the image id; VOC: <year>/<image id>.
    return '/'.join(key) if isinstance(key, tuple) else str(key)


def open_detection_data(root: str,
                        test_list: Optional[str] = None) -> DetectionData:
    """The data of a COCO-layout or a VOC-layout folder.

    Raises:
        ValueError: If the folder is neither, saying what each needs.
    """
    if osp.isdir(osp.join(root, 'annotations')):
        if test_list is not None:
            raise ValueError('--test-list applies to VOC-layout data only; '
                             'a COCO folder tests on val2017')
        return CocoData(root)
    if any(p.is_dir() for p in Path(root).glob('VOC20*')) or osp.isdir(
            osp.join(root, 'VOCdevkit')):
        return VocData(root, test_list)
    raise ValueError(
        f'{root} is neither a COCO-layout folder (annotations/instances_'
        f'{{train,val}}2017.json, train2017/, val2017/) nor a VOC-layout '
        f'one (VOCdevkit with VOC2007/ImageSets/Main, Annotations, '
        f'JPEGImages)')
