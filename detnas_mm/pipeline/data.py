"""The detection data of a pipeline run: COCO or VOC layout.

The pipeline takes a folder and needs, whatever its layout: the class
names (from the data), the training and test splits, a search split held
out of training, the metric to score with, and a way to point a config's
dataloaders and evaluators at each split. :func:`open_detection_data`
recognises the layout; :class:`CocoData` and :class:`VocData` do the rest
through mmdet's ``CocoDataset``/``CocoMetric`` and
``VOCDataset``/``VOCMetric``.
"""
import copy
import os.path as osp
from pathlib import Path
from typing import Dict, Optional, Tuple

from detnas_mm.datasets.coco import (coco_class_names, point_at_coco,
                                     set_num_classes)
from detnas_mm.datasets.data_checks import (DataCheckReport, DataStats,
                                            DetectionSplit,
                                            check_detection_data,
                                            detection_data_stats)
from detnas_mm.datasets.search_split import split_coco, split_voc
from detnas_mm.datasets.voc import LIST_SUBDIR, voc_class_names


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

    def check(self, extra: Optional[Dict[str, DetectionSplit]] = None
              ) -> DataCheckReport:
        """Check the data (fatal problems raise ``DataCheckError``)."""
        splits = dict(self.splits, **(extra or {}))
        return check_detection_data(splits, train_split='train')

    def stats(self) -> DataStats:
        """Statistics of the training split (they choose input sizes)."""
        return detection_data_stats(self.splits['train'], self.classes)

    def make_search_split(self, out_dir: str, num_search: int,
                          seed: int) -> Dict[str, DetectionSplit]:
        """Hold ``num_search`` training images out as the search split.

        Returns:
            dict: ``train`` (the remainder) and ``search`` splits.
        """
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

    def make_search_split(self, out_dir, num_search, seed):
        split_coco(self.splits['train'].ann_files[0], out_dir,
                   num_search=num_search, seed=seed)
        return dict(train=self.split_of([osp.join(out_dir,
                                                  'train_remain.json')]),
                    search=self.split_of([osp.join(out_dir, 'search.json')]))

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

    def make_search_split(self, out_dir, num_search, seed):
        manifest = split_voc(self.splits['train'].ann_files, out_dir,
                             num_search=num_search, seed=seed)
        outputs = manifest['outputs']
        remain = [osp.join(out_dir, name) for name, o in outputs.items()
                  if o['role'] == 'remain' and o['num_images']]
        search = [osp.join(out_dir, name) for name, o in outputs.items()
                  if o['role'] == 'search' and o['num_images']]
        # split_voc writes the lists in its folder, each in a sub-folder
        # named after its year (VOC2007/search.txt).
        return dict(train=self.split_of(remain), search=self.split_of(search))

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
            datasets.append(dict(
                type='VOCDataset', data_root=osp.join(self.devkit, ''),
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
