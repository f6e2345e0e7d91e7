"""PASCAL VOC layout: reading it as mmdet does, and making VOC copies.

A VOC folder (``VOCdevkit/VOC2007``, ``VOCdevkit/VOC2012``) lists the
images of a split in ``ImageSets/Main/<list>.txt``; image ``<id>`` is
``JPEGImages/<id>.jpg`` with boxes in ``Annotations/<id>.xml``. mmdet's
``VOCDataset`` reads the XML with the standard library: the size from
``<size>`` (else from the image), and per ``<object>`` its ``<name>``,
``<difficult>`` (ignored boxes) and ``<bndbox>``, whose 1-based pixel
coordinates it truncates to integers and shifts by one.
:func:`read_voc_annotation` reads the same numbers, so the data checks see
what training will see. :func:`coco_to_voc` writes a VOC-layout copy of a
COCO folder (tests and the pipeline's VOC runs use it).
"""
import json
import math
import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

IMG_SUBDIR = 'JPEGImages'
ANN_SUBDIR = 'Annotations'
LIST_SUBDIR = Path('ImageSets', 'Main')


def read_voc_list(list_file) -> List[str]:
    """Image ids of a VOC ``ImageSets`` list, in file order.

    Per-class lists (``aeroplane_trainval.txt``) carry a second column;
    the id comes first.
    """
    with open(list_file, encoding='utf-8') as f:
        return [line.split()[0] for line in f if line.strip()]


def voc_sub_root(list_file, devkit=None) -> Path:
    """The ``VOC20xx`` folder whose images a list names.

    A list at ``VOC20xx/ImageSets/Main/<list>.txt`` belongs to that
    ``VOC20xx``. A list elsewhere, such as the ``<out>/VOC2007/search.txt``
    that :func:`~detnas_mm.datasets.split_voc` writes, belongs to
    ``devkit/<the folder it is in>``.

    Args:
        list_file (str | Path): An image-id list.
        devkit (str | Path, optional): The ``VOCdevkit`` folder, for lists
            outside it.

    Raises:
        ValueError: If the list is outside a VOC folder and ``devkit`` has
            no folder of the list's folder name.
    """
    path = Path(list_file).resolve()
    if path.parent.name == 'Main' and path.parents[1].name == 'ImageSets':
        return path.parents[2]
    if devkit is not None and (Path(devkit) / path.parent.name).is_dir():
        return Path(devkit).resolve() / path.parent.name
    where = 'without devkit' if devkit is None else \
        f'and {Path(devkit) / path.parent.name} is not a folder'
    raise ValueError(
        f'{list_file} is not a VOC list: expected <VOC folder>/ImageSets/'
        f'Main/<list>.txt, next to <VOC folder>/{ANN_SUBDIR}/ and <VOC '
        f'folder>/{IMG_SUBDIR}/, or <any folder>/<VOC folder name>/'
        f'<list>.txt with the VOCdevkit folder given ({where})')


def read_voc_annotation(xml_file) -> dict:
    """One ``Annotations/<id>.xml`` read as mmdet's ``XMLDataset`` reads it.

    Args:
        xml_file (str | Path): The XML file.

    Returns:
        dict: ``width`` and ``height`` (``None`` without a ``<size>``
        element; mmdet then reads them from the image) and ``objects``, a
        list of dicts with ``name``, ``difficult`` (bool) and ``bbox``
        ``[x1, y1, x2, y2]`` in mmdet's numbers (``int(float(v)) - 1``).

    Raises:
        ValueError: Naming the file and what mmdet could not read in it
            (not XML, a size that is not an integer, an object without a
            name or a complete numeric ``<bndbox>``).
    """
    try:
        root = ET.parse(str(xml_file)).getroot()
    except ET.ParseError as error:
        raise ValueError(f'{xml_file}: not valid XML ({error})') from None
    width = height = None
    size = root.find('size')
    if size is not None:
        width = _int_field(xml_file, size, 'width')
        height = _int_field(xml_file, size, 'height')
    objects = []
    for index, obj in enumerate(root.findall('object')):
        name = (obj.findtext('name') or '').strip()
        if not name:
            raise ValueError(f'{xml_file}: object {index} has no <name>')
        difficult = obj.find('difficult')
        difficult = 0 if difficult is None else _int_field(
            xml_file, obj, 'difficult')
        bndbox = obj.find('bndbox')
        if bndbox is None:
            raise ValueError(f'{xml_file}: object {index} ({name}) has no '
                             f'<bndbox>')
        bbox = []
        for key in ('xmin', 'ymin', 'xmax', 'ymax'):
            text = bndbox.findtext(key)
            try:
                value = float(text)
            except (TypeError, ValueError):
                raise ValueError(
                    f'{xml_file}: object {index} ({name}) has {key}='
                    f'{text!r}, not a number') from None
            if not math.isfinite(value):
                raise ValueError(f'{xml_file}: object {index} ({name}) has '
                                 f'{key}={text!r}')
            # mmdet truncates to int and moves 1-based pixels to 0-based.
            bbox.append(int(value) - 1)
        objects.append(dict(name=name, difficult=bool(difficult), bbox=bbox))
    return dict(width=width, height=height, objects=objects)


def voc_class_names(list_files: Sequence, devkit=None) -> Tuple[str, ...]:
    """The class names found in the XML files of VOC lists, sorted.

    VOC has no category list of its own; a VOC-layout data set's classes
    are the object names its annotations use. XML files that are missing
    or unreadable are passed over (the data checks report them).

    Args:
        list_files: ``ImageSets/Main`` lists, e.g. trainval and test.
        devkit (str | Path, optional): The ``VOCdevkit`` folder, for lists
            outside it (see :func:`voc_sub_root`).

    Returns:
        tuple[str]: Sorted names; mmdet numbers labels in this order when
        they are given as ``metainfo=dict(classes=...)``.
    """
    names = set()
    for list_file in list_files:
        ann_dir = voc_sub_root(list_file, devkit) / ANN_SUBDIR
        for image_id in read_voc_list(list_file):
            try:
                ann = read_voc_annotation(ann_dir / f'{image_id}.xml')
            except (OSError, ValueError):
                continue
            names.update(obj['name'] for obj in ann['objects'])
    return tuple(sorted(names))


def coco_to_voc(coco_root,
                out_root,
                splits: Optional[Dict[str, Tuple[str, str]]] = None,
                year: str = 'VOC2007',
                copy_images: bool = False) -> Path:
    """Write a VOC-layout copy of a COCO-layout folder.

    Each COCO split becomes an ``ImageSets/Main`` list; image ``<id>`` is
    the COCO file name without its extension. Coordinates are rounded and
    written one more than the COCO box (mmdet subtracts one from VOC
    coordinates), so that mmdet reads back ``[x, y, x + w, y + h]``
    rounded, clipped to the image and at least one pixel wide and high.
    Crowd annotations become ``<difficult>1</difficult>`` (both are boxes
    mmdet ignores); category names become object names.

    Args:
        coco_root (str | Path): COCO folder with ``annotations/``.
        out_root (str | Path): Where ``VOCdevkit/`` is written.
        splits (dict, optional): VOC list name -> (COCO annotation file
            relative to ``coco_root``, image folder relative to
            ``coco_root``). Defaults to ``trainval`` from
            ``instances_train2017.json``/``train2017`` and ``test`` from
            ``instances_val2017.json``/``val2017``.
        year (str): Name of the VOC folder. Defaults to ``'VOC2007'``.
        copy_images (bool): Copy the images instead of symlinking them.
            Symlinks are named ``<id>.jpg`` whatever the source format;
            mmdet and PIL decode by content. Defaults to False.

    Returns:
        Path: ``out_root/VOCdevkit``.

    Raises:
        ValueError: If two images of the copy would get the same id.
    """
    coco_root = Path(coco_root)
    if splits is None:
        splits = dict(
            trainval=('annotations/instances_train2017.json', 'train2017'),
            test=('annotations/instances_val2017.json', 'val2017'))
    devkit = Path(out_root) / 'VOCdevkit'
    sub_root = devkit / year
    for sub in (IMG_SUBDIR, ANN_SUBDIR, LIST_SUBDIR):
        (sub_root / sub).mkdir(parents=True, exist_ok=True)
    seen = {}
    for list_name, (ann_file, img_dir) in splits.items():
        with open(coco_root / ann_file, encoding='utf-8') as f:
            coco = json.load(f)
        names = {c['id']: c['name'] for c in coco['categories']}
        boxes = {}
        for ann in coco.get('annotations', []):
            boxes.setdefault(ann['image_id'], []).append(ann)
        ids = []
        for image in coco['images']:
            image_id = Path(image['file_name']).stem
            if image_id in seen:
                raise ValueError(
                    f'{image["file_name"]} of {ann_file} and an image of '
                    f'{seen[image_id]} would both be VOC id {image_id!r}: '
                    f'VOC ids are file stems')
            seen[image_id] = ann_file
            ids.append(image_id)
            _place_image(coco_root / img_dir / image['file_name'],
                         sub_root / IMG_SUBDIR / f'{image_id}.jpg',
                         copy_images)
            xml = _voc_xml(image, boxes.get(image['id'], []), names, year)
            (sub_root / ANN_SUBDIR / f'{image_id}.xml').write_text(
                xml, encoding='utf-8')
        (sub_root / LIST_SUBDIR / f'{list_name}.txt').write_text(
            ''.join(f'{i}\n' for i in ids), encoding='utf-8')
    return devkit


def _int_field(xml_file, element, key):
    text = element.findtext(key)
    try:
        # mmdet calls int() on the text: '500.0' fails there too.
        return int(text)
    except (TypeError, ValueError):
        raise ValueError(f'{xml_file}: <{key}> is {text!r}, not an '
                         f'integer') from None


def _place_image(source, target, copy_images):
    if target.exists() or target.is_symlink():
        target.unlink()
    if copy_images:
        shutil.copyfile(source, target)
    else:
        os.symlink(Path(source).resolve(), target)


def _voc_xml(image, anns, names, folder):
    width, height = int(image['width']), int(image['height'])
    root = ET.Element('annotation')
    ET.SubElement(root, 'folder').text = folder
    ET.SubElement(root, 'filename').text = image['file_name']
    size = ET.SubElement(root, 'size')
    for key, value in (('width', width), ('height', height), ('depth', 3)):
        ET.SubElement(size, key).text = str(value)
    for ann in anns:
        x, y, w, h = ann['bbox']
        # mmdet subtracts 1 from every coordinate: add it, so that mmdet
        # reads the COCO box (rounded), at least one pixel wide and inside
        # the image.
        xmin = min(max(int(round(x)), 0), width - 1) + 1
        ymin = min(max(int(round(y)), 0), height - 1) + 1
        xmax = min(max(int(round(x + w)) + 1, xmin + 1), width + 1)
        ymax = min(max(int(round(y + h)) + 1, ymin + 1), height + 1)
        obj = ET.SubElement(root, 'object')
        ET.SubElement(obj, 'name').text = names[ann['category_id']]
        ET.SubElement(obj, 'difficult').text = str(
            int(bool(ann.get('iscrowd', 0))))
        bndbox = ET.SubElement(obj, 'bndbox')
        for key, value in (('xmin', xmin), ('ymin', ymin), ('xmax', xmax),
                           ('ymax', ymax)):
            ET.SubElement(bndbox, key).text = str(value)
    if hasattr(ET, 'indent'):  # Python 3.9+: one element a line
        ET.indent(root)
    return ET.tostring(root, encoding='unicode') + '\n'
