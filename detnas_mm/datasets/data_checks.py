"""Checks of a detection data set before any training, and its statistics.

A data set that mmdet can load may still train nothing: boxes it drops
without a word, classes it never sees, labels that mean one class in
training and another in evaluation. :func:`check_detection_data` reads a
COCO-layout or VOC-layout data set as mmdet's ``CocoDataset`` /
``VOCDataset`` would, split by split (train, search, test), and sorts what
it finds into *fatal* problems, which raise one :class:`DataCheckError`
(counting each kind and naming a few examples), and *warnings*, returned in
a :class:`DataCheckReport`. :func:`detection_data_stats` describes a split
(image and object sizes, boxes per class and per image) for choosing input
sizes.

Every check has a stable code. Fatal: training would stop part-way, or
would run and report numbers that do not mean what they say. Warning:
mmdet copes (it drops or clips the thing) and the numbers keep their
meaning, but the user should know.

=========================== ======= ======= ==================================
code                        COCO    VOC     why
=========================== ======= ======= ==================================
missing_image               fatal   fatal   the loader stops with an error at
                                            the image, maybe hours in
unreadable_image            fatal   fatal   PIL cannot open the file (not an
                                            image, empty): decoding fails later
missing_annotation          --      fatal   ``Annotations/<id>.xml`` missing:
                                            ``VOCDataset`` fails to build
malformed_annotation        fatal   fatal   fields mmdet cannot read (no
                                            ``area``, a box that is not four
                                            numbers, bad XML, size <= 0)
duplicate_id                fatal   fatal   pycocotools keeps one image /
                                            annotation / category per id, so
                                            boxes land on the wrong image;
                                            mmdet refuses repeated annotation
                                            ids; a repeated VOC id cannot be
                                            split
unknown_image               fatal   --      boxes on an image id the file does
                                            not list: mmdet never loads them;
                                            the file does not describe its
                                            images (edited or merged)
unknown_category            fatal   --      mmdet silently drops the boxes: a
                                            class can vanish from training
categories_differ           fatal   --      mmdet numbers labels by each
                                            file's category order (matched by
                                            name): a missing or moved category
                                            shifts the labels between training
                                            and evaluation
no_boxes                    fatal   fatal   a split without any usable box:
                                            nothing to learn, or an mAP of 0
                                            for every architecture
class_without_train_boxes   fatal   fatal   a class scored in another split
                                            that training never shows: AP 0
                                            for every architecture; usually a
                                            wrong file or split
empty_box                   warning fatal   COCO: mmdet drops boxes under 1 px
                                            or of area <= 0. VOC: mmdet keeps
                                            them as targets; log(0) in the box
                                            regression and RetinaNet's
                                            low-quality matching make the loss
                                            NaN
box_outside_image           warning fatal   wholly outside. COCO: dropped.
                                            VOC: kept, and clipped by Resize to
                                            an empty box (as above)
box_crosses_border          warning warning partly outside: mmdet clips it
image_size_mismatch         warning warning the decoded size (EXIF rotation
                                            applied, as mmdet does) is not the
                                            annotated one: boxes may miss
                                            their objects
image_without_boxes         warning warning training skips images without
                                            annotations; test images count as
                                            negatives. Many: boxes missing?
noncontiguous_category_ids  warning --      mmdet maps any ids to labels in
                                            file order; code taking
                                            label = id - 1 does not
unused_category             warning warning a class with no usable box in any
                                            split: an unused output, no AP
class_missing_in_split      warning warning a class with training boxes but
                                            none in a search/test split: that
                                            split's mAP averages fewer classes
=========================== ======= ======= ==================================

A *usable* box is one mmdet trains on: of a known class, not empty, not
wholly outside its image, and not ignored (COCO ``iscrowd``/``ignore``, VOC
``difficult``). Class names come from the data: for COCO the file's
``categories`` in their order (mmdet's label order, whatever the ids), for
VOC the object names of the XML files, sorted.
"""
import json
import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
from PIL import Image

from .voc import (ANN_SUBDIR, IMG_SUBDIR, read_voc_annotation, read_voc_list,
                  voc_sub_root)

FATAL = 'fatal'
WARNING = 'warning'
LAYOUTS = ('coco', 'voc')
DOCS = 'docs/data_checks.md'
PERCENTILES = (10, 50, 90)
_EXIF_ORIENTATION = 0x0112
_EXIF_TRANSPOSED = (5, 6, 7, 8)  # orientations that swap width and height


@dataclass(frozen=True)
class Check:
    """One data check: its severity per layout and what to tell the user.

    ``coco``/``voc`` are ``'fatal'``, ``'warning'`` or ``None`` where the
    check does not apply to the layout; ``what`` is a plural noun phrase
    that follows a count.
    """
    code: str
    coco: Optional[str]
    voc: Optional[str]
    what: str
    why: str
    fix: str


CHECKS: Dict[str, Check] = {
    c.code: c
    for c in (
        Check(
            'missing_image', FATAL, FATAL,
            'listed image(s) whose file is missing',
            'the data loader stops with an error when it reaches them, '
            'possibly hours into training',
            'add the files, or remove these images from the annotations'),
        Check(
            'unreadable_image', FATAL, FATAL, 'image file(s) PIL cannot open',
            'not an image, or an empty or broken file: decoding fails in '
            'the data loader part-way through training',
            're-encode or replace the files, or remove these images from '
            'the annotations'),
        Check(
            'missing_annotation', None, FATAL,
            f'listed id(s) without {ANN_SUBDIR}/<id>.xml',
            "mmdet's VOCDataset fails while building the data set",
            'add the XML files, or remove the ids from the ImageSets/Main '
            'list'),
        Check(
            'malformed_annotation', FATAL, FATAL,
            'annotation entry(-ies) mmdet cannot read',
            'mmdet raises while loading them (missing fields, a box that is '
            'not four numbers, XML that does not parse, a size that is not '
            'a positive integer)', 'correct the entries named'),
        Check(
            'duplicate_id', FATAL, FATAL, 'id(s) used more than once',
            'pycocotools keeps only the last image, annotation or category '
            'with an id, so boxes land on the wrong image or twice, and '
            'mmdet refuses repeated annotation ids; a VOC list that repeats '
            'an id cannot be split into a search set',
            'give every image, annotation and category its own id (list '
            'each VOC id once)'),
        Check(
            'unknown_image', FATAL, None,
            'annotation(s) on image ids missing from "images"',
            'mmdet never loads these boxes: the file does not describe its '
            'images (an edited or merged file)',
            'add the images to "images", or remove the annotations'),
        Check(
            'unknown_category', FATAL, None,
            'annotation(s) whose category_id is missing from "categories"',
            'mmdet silently drops these boxes: a class can vanish from '
            'training without a word',
            'add the category to "categories", or relabel or remove the '
            'annotations'),
        Check(
            'categories_differ', FATAL, None,
            "split(s) whose categories differ from the training split's",
            "mmdet numbers labels by each file's categories (matched by "
            'name, in file order): a category missing or moved in one file '
            'shifts the labels of later classes between training and '
            'evaluation',
            'use the same "categories" list (names and order) in every '
            'split'),
        Check(
            'no_boxes', FATAL, FATAL, 'split(s) without any usable box',
            'nothing to learn from, or an mAP of 0 for every architecture: '
            'the search cannot rank and the results mean nothing',
            'check that the annotations belong to these images'),
        Check(
            'class_without_train_boxes', FATAL, FATAL,
            'class(es) with boxes in another split but none in training',
            'the detector never sees them, yet they are scored: their AP '
            'is 0 for every architecture; usually a wrong file, or a split '
            'that took every image of the class',
            'add training images of these classes or remove the classes; '
            'for a search set made by split_search_set.py, try another '
            '--seed or a smaller --num-search'),
        Check(
            'empty_box', WARNING, FATAL,
            'box(es) of zero or negative width, height or area',
            'COCO: mmdet drops boxes narrower or lower than 1 px or of area '
            '<= 0. VOC: mmdet keeps them as training targets; log(0) in '
            "the box regression and RetinaNet's low-quality matching make "
            'the loss NaN', 'fix or remove these boxes'),
        Check(
            'box_outside_image', WARNING, FATAL,
            'box(es) wholly outside their image',
            'COCO: mmdet drops them. VOC: mmdet keeps them and Resize clips '
            'them to empty boxes, with the NaN risk of empty_box',
            'fix the coordinates (or the image size) of these boxes'),
        Check(
            'box_crosses_border', WARNING, WARNING,
            'box(es) partly outside their image',
            'mmdet clips them to the image; usually rounding or 0-based '
            'VOC coordinates, harmless', 'nothing, unless there are many'),
        Check(
            'image_size_mismatch', WARNING, WARNING,
            'image(s) whose decoded size differs from the annotated size',
            'mmdet decodes the image upright (by its EXIF orientation) and '
            'scales the boxes with it, but clips and filters them with the '
            'annotated size: boxes drawn on another size or orientation '
            'miss their objects',
            'correct width/height in the annotations, or store the images '
            'upright'),
        Check(
            'image_without_boxes', WARNING, WARNING,
            'image(s) without a usable box',
            "mmdet's training filter (filter_empty_gt) skips images without "
            'annotations; in search and test splits they are negatives. '
            'Many of them usually mean missing annotations',
            'nothing, unless these images should have boxes'),
        Check(
            'noncontiguous_category_ids', WARNING, None,
            'category id list(s) not running 1..K',
            "mmdet maps any ids to labels 0..K-1 in the file's order; only "
            'code that takes label = id - 1 goes wrong', 'nothing for mmdet'),
        Check(
            'unused_category', WARNING, WARNING,
            'class(es) without a usable box in any split',
            'the detector gets an output that never fires; COCO AP skips '
            'classes without ground truth',
            'remove the category if it is not meant to be there'),
        Check(
            'class_missing_in_split', WARNING, WARNING,
            'class(es) with training boxes but none usable in this split',
            'the split does not score them: its mAP averages fewer classes',
            'fine for a small search set; otherwise move images of these '
            'classes into the split'),
    )
}


@dataclass(frozen=True)
class DetectionSplit:
    """Where one split of a detection data set is.

    Build it with :meth:`coco` or :meth:`voc`.

    Attributes:
        layout (str): ``'coco'`` or ``'voc'``.
        ann_files (tuple[str]): COCO: the instances json. VOC: one or more
            ``VOC20xx/ImageSets/Main/<list>.txt`` (pooled, as VOC07+12
            training pools two lists).
        img_dir (str, optional): COCO: the folder of the images; without
            it the image files are not checked. VOC: ``None`` (images are
            ``VOC20xx/JPEGImages/<id>.jpg``).
        devkit (str, optional): VOC: the ``VOCdevkit`` folder, for lists
            outside it (``<out>/VOC2007/search.txt`` written by
            ``split_voc`` belongs to ``devkit/VOC2007``). COCO: ``None``.
    """
    layout: str
    ann_files: Tuple[str, ...]
    img_dir: Optional[str] = None
    devkit: Optional[str] = None

    def __post_init__(self):
        if self.layout not in LAYOUTS:
            raise ValueError(f'layout must be one of {LAYOUTS}, got '
                             f'{self.layout!r}')
        if not self.ann_files:
            raise ValueError('ann_files is empty: give the annotations')
        if self.layout == 'coco' and len(self.ann_files) != 1:
            raise ValueError(f'a COCO split has one annotation file, got '
                             f'{list(self.ann_files)}')
        if self.layout == 'voc' and self.img_dir is not None:
            raise ValueError(f'a VOC split has its images in '
                             f'{IMG_SUBDIR}/, got img_dir={self.img_dir!r}')
        if self.layout == 'coco' and self.devkit is not None:
            raise ValueError(f'devkit is for VOC splits, got '
                             f'devkit={self.devkit!r} for a COCO split')

    @classmethod
    def coco(cls, ann_file, img_dir=None) -> 'DetectionSplit':
        """A COCO split: its instances json and (optionally) image folder."""
        return cls('coco', (str(ann_file), ),
                   None if img_dir is None else str(img_dir))

    @classmethod
    def voc(cls, *list_files, devkit=None) -> 'DetectionSplit':
        """A VOC split: one or more image-id lists, pooled.

        Lists in ``VOC20xx/ImageSets/Main`` need no ``devkit``; others
        (``split_voc``'s outputs) belong to ``devkit/<their folder name>``.
        """
        return cls('voc', tuple(str(p) for p in list_files), None,
                   None if devkit is None else str(devkit))

    def describe(self) -> str:
        """The split's files, for messages."""
        files = ' + '.join(self.ann_files)
        return files if self.img_dir is None else \
            f'{files} (images in {self.img_dir})'


@dataclass
class Finding:
    """One kind of problem in one split: how many, and a few examples."""
    code: str
    severity: str
    split: str
    count: int
    examples: List[str]
    what: str
    why: str
    fix: str

    def describe(self, fix=False) -> str:
        """``code [split]: count what (e.g. ...)``, one line."""
        text = f'{self.code} [{self.split}]: {self.count} {self.what}'
        if self.examples:
            more = ', ...' if self.count > len(self.examples) else ''
            text += f' (e.g. {", ".join(self.examples)}{more})'
        return f'{text} - {self.fix}' if fix else text

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class DataStats:
    """What a split holds, in the numbers that choose input sizes.

    Size summaries are dicts of ``min``, ``p10``, ``p50``, ``p90``,
    ``max`` (``None`` without data). Object size is ``sqrt(area)`` of the
    usable boxes (clipped to the image): ``object_size`` in pixels,
    ``object_size_rel`` divided by the longer side of the image.
    """
    num_images: int
    num_images_with_boxes: int
    num_boxes: int
    num_ignored_boxes: int
    classes: Tuple[str, ...]
    boxes_per_class: Dict[str, int]
    image_width: Dict[str, Optional[float]]
    image_height: Dict[str, Optional[float]]
    image_longer_side: Dict[str, Optional[float]]
    object_size: Dict[str, Optional[float]]
    object_size_rel: Dict[str, Optional[float]]
    boxes_per_image: Dict[str, Optional[float]]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def to_dict(self) -> dict:
        data = asdict(self)
        data['classes'] = list(self.classes)
        data['num_classes'] = self.num_classes
        return data

    def format(self, markdown=False) -> str:
        """The statistics as text lines, or as a markdown table."""
        rows = [
            ('images', f'{self.num_images} ({self.num_images_with_boxes} '
             f'with boxes)'),
            ('classes', f'{self.num_classes} (boxes per class: '
             f'{_summary_text(self._per_class_summary())})'),
            ('usable boxes', f'{self.num_boxes} (+{self.num_ignored_boxes} '
             f'ignored); per image {_summary_text(self.boxes_per_image)}'),
            ('image width', _summary_text(self.image_width)),
            ('image height', _summary_text(self.image_height)),
            ('object size, px', _summary_text(self.object_size)),
            ('object size / longer side',
             _summary_text(self.object_size_rel, digits=3)),
        ]
        if markdown:
            lines = ['| | |', '|---|---|']
            lines += [f'| {name} | {value} |' for name, value in rows]
            return '\n'.join(lines)
        return '\n'.join(f'{name}: {value}' for name, value in rows)

    def _per_class_summary(self):
        return _summary(list(self.boxes_per_class.values()))


@dataclass
class DataCheckReport:
    """What :func:`check_detection_data` found.

    Attributes:
        layout (str): ``'coco'`` or ``'voc'``.
        train_split (str): The split whose classes are the training ones.
        splits (dict): Split name -> ``source``, ``num_images``,
            ``num_boxes`` (all boxes read) and ``num_usable_boxes``.
        classes (tuple[str]): Class names in mmdet's label order.
        fatal (list[Finding]): Problems that stop training.
        warnings (list[Finding]): Problems mmdet copes with.
        not_checked (list[str]): Checks that could not run, and why.
        stats (dict[str, DataStats]): Statistics per split.
    """
    layout: str
    train_split: str
    splits: Dict[str, dict]
    classes: Tuple[str, ...]
    fatal: List[Finding] = field(default_factory=list)
    warnings: List[Finding] = field(default_factory=list)
    not_checked: List[str] = field(default_factory=list)
    stats: Dict[str, DataStats] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when nothing is fatal."""
        return not self.fatal

    def counts(self) -> Dict[str, int]:
        """Code -> number of problems over all splits."""
        counts = Counter()
        for finding in self.fatal + self.warnings:
            counts[finding.code] += finding.count
        return dict(counts)

    def to_dict(self) -> dict:
        """Everything, JSON-serialisable (for a report file)."""
        return dict(
            layout=self.layout,
            train_split=self.train_split,
            splits=self.splits,
            classes=list(self.classes),
            counts=self.counts(),
            fatal=[f.to_dict() for f in self.fatal],
            warnings=[f.to_dict() for f in self.warnings],
            not_checked=list(self.not_checked),
            stats={
                k: v.to_dict()
                for k, v in self.stats.items()
            })

    def format(self, markdown=False) -> str:
        """The findings for the console, or as a markdown section."""
        splits = ', '.join(f'{name} {info["num_images"]} images, '
                           f'{info["num_usable_boxes"]} usable boxes'
                           for name, info in self.splits.items())
        head = (f'{self.layout} data: {splits}; {len(self.classes)} '
                f'classes')
        if markdown:
            return self._markdown(head)
        lines = [f'Data checks ({head})']
        for finding in self.fatal:
            lines.append(f'  fatal   {finding.describe(fix=True)}')
        for finding in self.warnings:
            lines.append(f'  warning {finding.describe()}')
        for text in self.not_checked:
            lines.append(f'  not checked: {text}')
        if not self.fatal and not self.warnings:
            lines.append('  no problems found')
        return '\n'.join(lines)

    def error_message(self) -> str:
        """One line: the fatal problems, counted, with examples and fixes."""
        kinds = '; '.join(f.describe(fix=True) for f in self.fatal)
        return (f'the {self.layout} data cannot be trained on: '
                f'{len(self.fatal)} kind(s) of fatal problem: {kinds}. '
                f'Fix the data and run again ({DOCS} explains each check)')

    def raise_if_fatal(self) -> None:
        """Raise :class:`DataCheckError` if anything is fatal."""
        if self.fatal:
            raise DataCheckError(self)

    def _markdown(self, head):
        lines = [f'{head}.', '']
        findings = self.fatal + self.warnings
        if findings:
            lines += [
                '| severity | check | split | count | examples | why |',
                '|---|---|---|---|---|---|'
            ]
            for f in findings:
                examples = ', '.join(f.examples).replace('|', '\\|')
                lines.append(f'| {f.severity} | `{f.code}` | {f.split} | '
                             f'{f.count} | {examples} | {f.why} |')
        else:
            lines.append('No problems found.')
        if self.not_checked:
            lines += [''] + [f'- not checked: {t}' for t in self.not_checked]
        return '\n'.join(lines)


class DataCheckError(ValueError):
    """Fatal problems in a detection data set; ``report`` has them all."""

    def __init__(self, report: DataCheckReport):
        self.report = report
        super().__init__(report.error_message())


def check_detection_data(splits: Mapping[str, DetectionSplit],
                         train_split: Optional[str] = None,
                         check_images: bool = True,
                         decode_images: bool = False,
                         max_examples: int = 5,
                         raise_on_fatal: bool = True) -> DataCheckReport:
    """Check a detection data set before training on it.

    Args:
        splits: Split name -> :class:`DetectionSplit`, all of one layout,
            e.g. ``{'train': ..., 'search': ..., 'test': ...}``.
        train_split (str, optional): The split the detector is trained on
            (its classes are the classes). Defaults to the first split.
        check_images (bool): Open every image file (header only; under a
            millisecond each). Defaults to True. COCO splits without an
            ``img_dir`` are not checked for images either way.
        decode_images (bool): Decode whole images too, which also finds
            truncated files (several times slower). Defaults to False.
        max_examples (int): Examples named per finding. Defaults to 5.
        raise_on_fatal (bool): Raise :class:`DataCheckError` when anything
            is fatal. Defaults to True.

    Returns:
        DataCheckReport: Warnings, statistics, and (when not raised) the
        fatal findings.

    Raises:
        DataCheckError: Fatal problems (a ``ValueError``), one message.
        FileNotFoundError: An annotation file or VOC list is missing.
        ValueError: Bad arguments, or a VOC list outside a VOC folder.
    """
    splits = dict(splits)
    if not splits:
        raise ValueError('splits is empty: give at least the training split')
    for name, split in splits.items():
        if not isinstance(split, DetectionSplit):
            raise ValueError(f'split {name!r} must be a DetectionSplit, got '
                             f'{type(split).__name__}')
    layouts = sorted({split.layout for split in splits.values()})
    if len(layouts) != 1:
        raise ValueError(f'all splits must have one layout, got {layouts}')
    layout = layouts[0]
    train_split = next(iter(splits)) if train_split is None else train_split
    if train_split not in splits:
        raise ValueError(f'train_split must be one of {list(splits)}, got '
                         f'{train_split!r}')
    if not isinstance(max_examples, int) or max_examples < 0:
        raise ValueError(f'max_examples must be a non-negative int, got '
                         f'{max_examples!r}')

    findings = _Findings(layout, max_examples)
    loaded = {
        name: _load_split(name, split, findings)
        for name, split in splits.items()
    }
    not_checked = []
    for name, split in splits.items():
        images = loaded[name].images
        if check_images and (layout == 'voc' or split.img_dir is not None):
            _check_image_files(name, images, findings, decode_images)
        else:
            reason = ('check_images=False'
                      if not check_images else 'no image folder given')
            not_checked.append(f'{name}: missing_image, unreadable_image, '
                               f'image_size_mismatch ({reason})')
            _read_missing_sizes(images)
        loaded[name].usable = _check_boxes(name, layout, images, findings)

    classes = _classes(layout, loaded, train_split)
    if layout == 'coco':
        _check_categories(loaded, train_split, findings)
    _check_classes(classes, loaded, train_split, findings)
    report = DataCheckReport(
        layout=layout,
        train_split=train_split,
        splits={
            name:
            dict(
                source=splits[name].describe(),
                num_images=len(data.images),
                num_boxes=sum(len(i.boxes) for i in data.images),
                num_usable_boxes=sum(data.usable.values()))
            for name, data in loaded.items()
        },
        classes=classes,
        not_checked=not_checked,
        stats={
            name: _statistics(data.images, layout, classes)
            for name, data in loaded.items()
        })
    report.fatal, report.warnings = findings.results()
    if raise_on_fatal:
        report.raise_if_fatal()
    return report


def detection_data_stats(split: DetectionSplit,
                         classes: Optional[Sequence[str]] = None) -> DataStats:
    """Statistics of one split, for choosing input sizes and schedules.

    Reads the annotations only (VOC images without ``<size>`` are opened
    for their size). Problems are not reported here; run
    :func:`check_detection_data` for them.

    Args:
        split (DetectionSplit): The split, COCO or VOC layout.
        classes (sequence[str], optional): Class names in label order.
            Defaults to the split's own (COCO: its categories; VOC: the
            names in its XML files, sorted).

    Returns:
        DataStats: Image, class and object-size statistics of the usable
        boxes.
    """
    if not isinstance(split, DetectionSplit):
        raise ValueError(f'split must be a DetectionSplit, got '
                         f'{type(split).__name__}')
    data = _load_split('split', split, _Findings(split.layout, 0))
    _read_missing_sizes(data.images)
    if classes is None:
        classes = _classes(split.layout, {'split': data}, 'split')
    return _statistics(data.images, split.layout, tuple(classes))


# Reading


@dataclass
class _Box:
    name: Optional[str]  # None: category unknown to the file
    bbox: Tuple[float, float, float, float]  # x1 y1 x2 y2, mmdet's numbers
    ignore: bool
    label: str  # names the box in examples
    area: Optional[float] = None  # COCO's own area field


@dataclass
class _Image:
    key: str
    path: Optional[Path]
    width: Optional[int]
    height: Optional[int]
    boxes: List[_Box]


@dataclass
class _Split:
    images: List[_Image]
    categories: Optional[List[Tuple[object, str]]] = None  # COCO (id, name)
    names: Tuple[str, ...] = ()
    usable: Counter = field(default_factory=Counter)


class _Findings:
    """Counts and first examples per (code, split)."""

    def __init__(self, layout, max_examples):
        self.layout = layout
        self.max_examples = max_examples
        self._found = {}

    def add(self, code, split, example=None, count=1):
        entry = self._found.setdefault((code, split), [0, []])
        entry[0] += count
        if example is not None and len(entry[1]) < self.max_examples:
            entry[1].append(' '.join(str(example).split()))

    def results(self):
        fatal, warnings = [], []
        order = list(CHECKS)
        for (code, split), (count, examples) in sorted(
                self._found.items(), key=lambda kv: order.index(kv[0][0])):
            check = CHECKS[code]
            severity = getattr(check, self.layout)
            finding = Finding(code, severity, split, count, examples,
                              check.what, check.why, check.fix)
            (fatal if severity == FATAL else warnings).append(finding)
        return fatal, warnings


def _load_split(name, split, findings):
    if split.layout == 'coco':
        return _load_coco(name, split, findings)
    return _load_voc(name, split, findings)


def _load_coco(name, split, findings):
    path = Path(split.ann_files[0])
    if not path.is_file():
        raise FileNotFoundError(f'No COCO annotation file at {path}')
    malformed = _Malformed(findings, name, path.name)
    try:
        with open(path, encoding='utf-8') as f:
            coco = json.load(f)
    except ValueError as error:  # JSON and UTF-8 errors
        malformed(f'not JSON ({error})')
        return _Split([])
    if not isinstance(coco, dict) or not isinstance(coco.get('images'), list):
        malformed('no "images" list at the top level')
        return _Split([])
    categories = _coco_categories(coco, malformed, findings, name)
    names = dict(categories)
    img_dir = None if split.img_dir is None else Path(split.img_dir)
    images, by_id = [], {}
    for index, entry in enumerate(coco['images']):
        image_id = entry.get('id') if isinstance(entry, dict) else None
        if image_id is None or isinstance(image_id, (list, dict)):
            malformed(f'images[{index}] has no id')
            continue
        if image_id in by_id:
            findings.add('duplicate_id', name, f'image id {image_id}')
            continue
        by_id[image_id] = None
        file_name = entry.get('file_name')
        width, height = entry.get('width'), entry.get('height')
        if not isinstance(file_name, str) or not file_name:
            malformed(f'image {image_id} has no file_name')
            continue
        if not (_is_positive(width) and _is_positive(height)):
            malformed(f'image {image_id} ({file_name}) has size '
                      f'{width!r}x{height!r}')
            continue
        image = _Image(file_name,
                       None if img_dir is None else img_dir / file_name, width,
                       height, [])
        by_id[image_id] = image
        images.append(image)
    annotations = coco.get('annotations', [])
    if not isinstance(annotations, list):
        malformed('"annotations" is not a list')
        annotations = []
    ann_ids = set()
    for index, ann in enumerate(annotations):
        box = _coco_box(index, ann, malformed)
        if box is None:
            continue
        if ann['id'] in ann_ids:
            findings.add('duplicate_id', name, f'annotation id {ann["id"]}')
            continue
        ann_ids.add(ann['id'])
        if ann['image_id'] not in by_id:
            findings.add('unknown_image', name,
                         f'annotation {ann["id"]} -> image {ann["image_id"]}')
            continue
        if ann['category_id'] not in names:
            if names:  # else malformed_annotation has said it
                findings.add(
                    'unknown_category', name,
                    f'annotation {ann["id"]} -> category '
                    f'{ann["category_id"]}')
            box.name = None
        else:
            box.name = names[ann['category_id']]
        image = by_id[ann['image_id']]
        if image is not None:
            image.boxes.append(box)
    return _Split(images, categories, tuple(n for _, n in categories))


def _coco_categories(coco, malformed, findings, split):
    entries = coco.get('categories')
    if not isinstance(entries, list) or not entries:
        malformed('no "categories" list (mmdet takes class names from it)')
        return []
    categories, seen_ids, seen_names = [], set(), set()
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or entry.get('id') is None or \
                not isinstance(entry.get('name'), str):
            malformed(f'categories[{index}] has no id or name')
            continue
        cat_id, name = entry['id'], entry['name']
        if cat_id in seen_ids:
            findings.add('duplicate_id', split, f'category id {cat_id}')
            continue
        if name in seen_names:
            findings.add('duplicate_id', split, f'category name {name!r}')
            continue
        seen_ids.add(cat_id)
        seen_names.add(name)
        categories.append((cat_id, name))
    return categories


def _coco_box(index, ann, malformed):
    """A COCO annotation as a box, or None (reported) if unreadable."""
    if not isinstance(ann, dict):
        malformed(f'annotations[{index}] is not an object')
        return None
    ann_id = ann.get('id', f'#{index}')
    for key in ('id', 'image_id', 'category_id', 'bbox', 'area'):
        if key not in ann:
            malformed(f'annotation {ann_id} has no {key}')
            return None
    bbox, area = ann['bbox'], ann['area']
    if not (isinstance(bbox, list) and len(bbox) == 4
            and all(_is_number(v) for v in bbox)):
        malformed(f'annotation {ann_id} has bbox {bbox!r}')
        return None
    if not _is_number(area):
        malformed(f'annotation {ann_id} has area {area!r}')
        return None
    x, y, w, h = bbox
    ignore = bool(ann.get('iscrowd', False) or ann.get('ignore', False))
    return _Box(None, (x, y, x + w, y + h), ignore, f'annotation {ann_id}',
                area)


class _Malformed:
    """Reports ``malformed_annotation`` examples prefixed by the file."""

    def __init__(self, findings, split, file_name):
        self.findings, self.split, self.file_name = findings, split, file_name

    def __call__(self, text):
        self.findings.add('malformed_annotation', self.split,
                          f'{self.file_name}: {text}')


def _load_voc(name, split, findings):
    images, seen = [], set()
    for list_file in split.ann_files:
        if not Path(list_file).is_file():
            raise FileNotFoundError(f'No VOC image list at {list_file}')
        sub_root = voc_sub_root(list_file, split.devkit)
        for image_id in read_voc_list(list_file):
            key = f'{sub_root.name}/{image_id}'
            if key in seen:
                findings.add('duplicate_id', name,
                             f'{key} in {Path(list_file).name}')
                continue
            seen.add(key)
            xml = sub_root / ANN_SUBDIR / f'{image_id}.xml'
            if not xml.is_file():
                findings.add('missing_annotation', name,
                             f'{sub_root.name}/{ANN_SUBDIR}/{image_id}.xml')
                continue
            try:
                ann = read_voc_annotation(xml)
            except ValueError as error:
                findings.add(
                    'malformed_annotation', name,
                    str(error).replace(
                        str(xml), f'{sub_root.name}/{ANN_SUBDIR}/'
                        f'{image_id}.xml'))
                continue
            if not (ann['width'] is None or (_is_positive(ann['width'])
                                             and _is_positive(ann['height']))):
                findings.add('malformed_annotation', name,
                             f'{key}: size {ann["width"]}x{ann["height"]}')
                continue
            boxes = [
                _Box(obj['name'], tuple(obj['bbox']), obj['difficult'],
                     f'object {index} ({obj["name"]})')
                for index, obj in enumerate(ann['objects'])
            ]
            images.append(
                _Image(key, sub_root / IMG_SUBDIR / f'{image_id}.jpg',
                       ann['width'], ann['height'], boxes))
    names = sorted({box.name for image in images for box in image.boxes})
    return _Split(images, None, tuple(names))


def _is_number(value):
    # json gives int and float; bool is an int subclass and not a number.
    return type(value) in (int, float) and math.isfinite(value)


def _is_positive(value):
    return _is_number(value) and value > 0


# Checking


def _read_header(path, decode):
    """``((width, height, rotated), None)``, or ``(None, why it failed)``.

    The size is the one mmdet decodes: its loader (``mmcv.imfrombytes``,
    cv2, ``'color'``) turns images upright by their EXIF orientation;
    PIL's ``size`` is before that.
    """
    try:
        with Image.open(path) as image:
            (width, height), rotated = image.size, False
            if image.getexif().get(_EXIF_ORIENTATION) in _EXIF_TRANSPOSED:
                (width, height), rotated = (height, width), True
            if decode:
                image.load()
        if not decode:
            # verify() must directly follow open(): getexif() has read
            # chunks of a PNG already.
            with Image.open(path) as image:
                image.verify()
        return (width, height, rotated), None
    # PIL raises many kinds on broken files (OSError, SyntaxError,
    # struct.error, ...). cv2 fails on the same files, except truncated
    # ones (found by decode=True), which it fills with grey.
    except Exception as error:
        return None, f'{type(error).__name__}: {error}'


def _check_image_files(split, images, findings, decode):
    for image in images:
        if not image.path.is_file():
            findings.add('missing_image', split, image.key)
            image.path = None
            continue
        size, problem = _read_header(image.path, decode)
        if problem is not None:
            problem = problem.replace(str(image.path), image.path.name)
            findings.add('unreadable_image', split, f'{image.key} ({problem})')
            continue
        width, height, rotated = size
        if image.width is None:
            # VOC without <size>: mmdet reads the size from the image too.
            image.width, image.height = width, height
        elif (width, height) != (image.width, image.height):
            exif = ' after its EXIF rotation' if rotated else ''
            findings.add(
                'image_size_mismatch', split,
                f'{image.key}: file {width}x{height}{exif}, annotated '
                f'{image.width}x{image.height}')


def _read_missing_sizes(images):
    for image in images:
        if image.width is None and image.path is not None and \
                image.path.is_file():
            size, _ = _read_header(image.path, decode=False)
            if size is not None:
                image.width, image.height, _ = size


def _box_problem(layout, box, width, height):
    """The check a box fails, or None."""
    x1, y1, x2, y2 = box.bbox
    w, h = x2 - x1, y2 - y1
    if layout == 'coco':
        # CocoDataset.parse_data_info drops these.
        if w < 1 or h < 1 or box.area <= 0:
            return 'empty_box'
    elif w <= 0 or h <= 0:
        return 'empty_box'
    if width is None or height is None:
        return None
    inter_w = min(x2, width) - max(x1, 0)
    inter_h = min(y2, height) - max(y1, 0)
    if inter_w <= 0 or inter_h <= 0:
        return 'box_outside_image'
    if x1 < 0 or y1 < 0 or x2 > width or y2 > height:
        return 'box_crosses_border'
    return None


def _usable_boxes(layout, image):
    """The boxes of an image mmdet trains on, with their problems."""
    usable, problems = [], []
    for box in image.boxes:
        if box.name is None:
            continue  # unknown category, reported while reading
        problem = _box_problem(layout, box, image.width, image.height)
        if problem is not None:
            problems.append((problem, box))
        if problem in ('empty_box', 'box_outside_image') or box.ignore:
            continue
        usable.append(box)
    return usable, problems


def _check_boxes(split, layout, images, findings):
    """Report box and empty-image problems; usable boxes per class."""
    per_class = Counter()
    for image in images:
        usable, problems = _usable_boxes(layout, image)
        for problem, box in problems:
            size = '' if image.width is None else \
                f' in {image.width}x{image.height}'
            findings.add(
                problem, split, f'{image.key} {box.label} '
                f'[{", ".join(_short(v) for v in box.bbox)}]{size}')
        if not usable:
            findings.add('image_without_boxes', split, image.key)
        per_class.update(box.name for box in usable)
    if not per_class:
        findings.add(
            'no_boxes', split, f'{split}: {len(images)} images, '
            f'{sum(len(i.boxes) for i in images)} boxes, none usable')
    return per_class


def _classes(layout, loaded, train_split):
    if layout == 'coco':
        return loaded[train_split].names
    return tuple(sorted({n for data in loaded.values() for n in data.names}))


def _check_categories(loaded, train_split, findings):
    """COCO: category ids of the training file; the same list everywhere."""
    train = loaded[train_split].categories or []
    ids = [cat_id for cat_id, _ in train]
    if ids and all(isinstance(i, int) for i in ids) and \
            sorted(ids) != list(range(1, len(ids) + 1)):
        gaps = sorted(set(range(min(ids), max(ids) + 1)) - set(ids))
        text = f'{len(ids)} ids from {min(ids)} to {max(ids)}'
        if gaps:
            shown = ', '.join(map(str, gaps[:5]))
            text += f', missing {shown}{", ..." if len(gaps) > 5 else ""}'
        findings.add('noncontiguous_category_ids', train_split, text)
    names = [name for _, name in train]
    if not names:
        return  # malformed_annotation has said it
    for split, data in loaded.items():
        other = [name for _, name in (data.categories or [])]
        if split == train_split or other == names or not data.categories:
            continue
        missing = [n for n in names if n not in other]
        extra = [n for n in other if n not in names]
        if missing or extra:
            text = (f'{split}: {len(other)} categories, without '
                    f'{missing[:3]}, with {extra[:3]} besides training')
        else:
            index = next(i for i, (a, b) in enumerate(zip(names, other))
                         if a != b)
            text = (f'{split}: category {index} is {other[index]!r}, '
                    f'{names[index]!r} in training')
        findings.add('categories_differ', split, text)


def _check_classes(classes, loaded, train_split, findings):
    train = loaded[train_split].usable
    others = {n: d.usable for n, d in loaded.items() if n != train_split}
    for name in classes:
        if train[name]:
            continue
        elsewhere = {s: c[name] for s, c in others.items() if c[name]}
        if elsewhere:
            where = ', '.join(f'{c} in {s}' for s, c in elsewhere.items())
            findings.add('class_without_train_boxes', train_split,
                         f'{name!r} ({where})')
        else:
            findings.add('unused_category', train_split, repr(name))
    for split, usable in others.items():
        if not usable:
            continue  # no_boxes says it all
        for name in classes:
            if train[name] and not usable[name]:
                findings.add('class_missing_in_split', split, repr(name))


# Statistics


def _statistics(images, layout, classes):
    widths, heights, longer, sizes, rel = [], [], [], [], []
    per_image, per_class = [], Counter()
    num_ignored = 0
    for image in images:
        usable, _ = _usable_boxes(layout, image)
        num_ignored += sum(1 for b in image.boxes
                           if b.ignore and b.name is not None)
        per_image.append(len(usable))
        per_class.update(box.name for box in usable)
        if image.width is not None:
            widths.append(image.width)
            heights.append(image.height)
            longer.append(max(image.width, image.height))
        for box in usable:
            x1, y1, x2, y2 = box.bbox
            if image.width is not None:
                x1, x2 = max(x1, 0), min(x2, image.width)
                y1, y2 = max(y1, 0), min(y2, image.height)
            size = math.sqrt(max(x2 - x1, 0) * max(y2 - y1, 0))
            sizes.append(size)
            if image.width is not None:
                rel.append(size / max(image.width, image.height))
    return DataStats(
        num_images=len(images),
        num_images_with_boxes=sum(1 for n in per_image if n),
        num_boxes=sum(per_image),
        num_ignored_boxes=num_ignored,
        classes=tuple(classes),
        boxes_per_class={name: per_class[name]
                         for name in classes},
        image_width=_summary(widths),
        image_height=_summary(heights),
        image_longer_side=_summary(longer),
        object_size=_summary(sizes),
        object_size_rel=_summary(rel, digits=4),
        boxes_per_image=dict(
            _summary(per_image),
            mean=round(float(np.mean(per_image)), 2) if per_image else None))


def _summary(values, digits=1):
    """min, percentiles and max of a list (None for an empty one)."""
    keys = ['min'] + [f'p{p}' for p in PERCENTILES] + ['max']
    if not len(values):
        return dict.fromkeys(keys)
    array = np.asarray(values, dtype=float)
    numbers = [array.min(), *np.percentile(array, PERCENTILES), array.max()]
    return {k: round(float(v), digits) for k, v in zip(keys, numbers)}


def _summary_text(summary, digits=1):
    if summary.get('p50') is None:
        return 'n/a'
    text = (f'median {summary["p50"]:.{digits}f} (p10 '
            f'{summary["p10"]:.{digits}f}, p90 {summary["p90"]:.{digits}f}, '
            f'{summary["min"]:.{digits}f}..{summary["max"]:.{digits}f})')
    if summary.get('mean') is not None:
        text += f', mean {summary["mean"]:.2f}'
    return text


def _short(value):
    return f'{value:g}' if isinstance(value, float) else str(value)
