"""Built-in data: small rendered datasets, generated on the fly.

The whole DetNAS pipeline (supernet pre-training on a classification set,
detection fine-tuning, search, re-training) has to run on a CPU in minutes
with nothing to download. This module renders the two datasets it needs:

* a detection set in COCO layout (``train2017/``, ``val2017/``,
  ``annotations/instances_{train,val}2017.json``): a few kinds of shapes in
  varied colours, sizes, rotations and positions, several per image, on
  cloudy, gradient or striped backgrounds with unlabelled distractor lines;
* a classification set in ImageNet folder layout (``train/<class>/``,
  ``val/<class>/``): one large shape per image, or a full-image texture.

Everything is pure numpy + PIL and deterministic: every image is drawn from
its own random generator seeded with ``(seed, split, index)``, so the same
parameters give byte-identical files, and the first images of a split do
not change when the other sizes do. A dataset is written to a temporary
folder beside ``root`` and renamed into place, with a marker file holding
the generator parameters written last: an interrupted run never leaves a
half dataset at ``root``, and a complete one is never generated twice.
"""
import json
import os
import shutil
import tempfile
import uuid
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

# Bump whenever the rendered output changes, so that cached datasets made by
# an older generator are regenerated instead of silently reused.
GENERATOR_VERSION = 1
MARKER_FILE = 'detnas_synthetic.json'

DETECTION_CLASSES = ('circle', 'square', 'triangle', 'star', 'cross')
SHAPE_CLASSES = DETECTION_CLASSES + ('ring', )
TEXTURE_CLASSES = ('stripes', 'checkerboard', 'dots', 'waves')
CLASSIFICATION_CLASSES = SHAPE_CLASSES + TEXTURE_CLASSES

# COCO image ids are unique across splits (the search-split checks rely on
# that), so every split owns its own block of ids.
_SPLIT_CODES = {'train2017': 1, 'val2017': 2, 'train': 1, 'val': 2}
_IMAGE_ID_BLOCK = 1_000_000
_MAX_OBJECTS_PER_IMAGE = 6
_ANN_IDS_PER_IMAGE = 100
_JPEG_QUALITY = 90
_MIN_DETECTION_SIZE = 64
_MIN_CLASSIFICATION_SIZE = 32


def default_data_root():
    """Return the folder where built-in datasets are cached.

    Returns:
        Path: ``$DETNAS_DATA_CACHE`` when set, else
        ``$XDG_CACHE_HOME/detnas_mm/data`` (``~/.cache/detnas_mm/data``).
    """
    if os.environ.get('DETNAS_DATA_CACHE'):
        return Path(os.environ['DETNAS_DATA_CACHE']).expanduser()
    cache_home = os.environ.get('XDG_CACHE_HOME') or '~/.cache'
    return Path(cache_home).expanduser() / 'detnas_mm' / 'data'


def ensure_shapes_data(root=None):
    """Generate the shapes datasets unless already there.

    The tests' stand-in for ``../shared/data`` (the main job's built-in
    task is :func:`~detnas_mm.datasets.halo.ensure_halo_data`).

    Args:
        root (str | Path, optional): Folder holding both datasets. Defaults
            to :func:`default_data_root`.

    Returns:
        dict[str, Path]: ``detection`` (COCO layout) and ``classification``
        (ImageNet folder layout) dataset roots.
    """
    root = Path(root) if root is not None else default_data_root()
    return dict(
        detection=make_detection_dataset(root / 'shapes_coco'),
        classification=make_classification_dataset(root / 'shapes_cls'))


def make_detection_dataset(root,
                           num_train=500,
                           num_val=100,
                           image_size=128,
                           seed=0):
    """Render a COCO-format detection dataset of shapes.

    ``val2017`` plays the part COCO's val2017 plays in DetNAS: the test
    split for final reporting. The search set is carved out of
    ``train2017`` by :func:`detnas_mm.datasets.split_coco`.

    Args:
        root (str | Path): Dataset folder to create.
        num_train (int): Number of ``train2017`` images. Defaults to 500.
        num_val (int): Number of ``val2017`` images. Defaults to 100.
        image_size (int): Side of the square images in pixels, at least 64.
            Defaults to 128.
        seed (int): Non-negative random seed. Defaults to 0.

    Returns:
        Path: ``root``, holding ``train2017/``, ``val2017/`` and
        ``annotations/instances_{train,val}2017.json``.
    """
    _check_count('num_train', num_train)
    _check_count('num_val', num_val)
    _check_size(image_size, _MIN_DETECTION_SIZE)
    _check_seed(seed)
    params = dict(
        kind='detection',
        generator_version=GENERATOR_VERSION,
        num_train=num_train,
        num_val=num_val,
        image_size=image_size,
        seed=seed)

    def write(folder):
        split_sizes = dict(train2017=num_train, val2017=num_val)
        for split, num_images in split_sizes.items():
            _write_detection_split(folder, split, num_images, image_size, seed)

    return _generate_atomically(Path(root), params, write)


def make_classification_dataset(root,
                                num_classes=10,
                                per_class_train=100,
                                per_class_val=20,
                                image_size=64,
                                seed=0):
    """Render an ImageNet-folder-layout classification dataset.

    The classes are the first ``num_classes`` of
    :data:`CLASSIFICATION_CLASSES`: six shapes (one large shape per image)
    and four full-image textures. Loads with mmpretrain's
    ``CustomDataset(data_root=root, data_prefix='train')``.

    Args:
        root (str | Path): Dataset folder to create.
        num_classes (int): Number of classes, 1 to 10. Defaults to 10.
        per_class_train (int): Training images per class. Defaults to 100.
        per_class_val (int): Validation images per class. Defaults to 20.
        image_size (int): Side of the square images in pixels, at least 32.
            Defaults to 64.
        seed (int): Non-negative random seed. Defaults to 0.

    Returns:
        Path: ``root``, holding ``train/<class>/*.jpg`` and
        ``val/<class>/*.jpg``.
    """
    if not 1 <= num_classes <= len(CLASSIFICATION_CLASSES):
        raise ValueError(
            f'num_classes must be in [1, {len(CLASSIFICATION_CLASSES)}], '
            f'got {num_classes!r}')
    _check_count('per_class_train', per_class_train)
    _check_count('per_class_val', per_class_val)
    _check_size(image_size, _MIN_CLASSIFICATION_SIZE)
    _check_seed(seed)
    params = dict(
        kind='classification',
        generator_version=GENERATOR_VERSION,
        num_classes=num_classes,
        per_class_train=per_class_train,
        per_class_val=per_class_val,
        image_size=image_size,
        seed=seed)
    class_names = CLASSIFICATION_CLASSES[:num_classes]

    def write(folder):
        split_sizes = dict(train=per_class_train, val=per_class_val)
        for split, per_class in split_sizes.items():
            _write_classification_split(folder, split, class_names, per_class,
                                        image_size, seed)

    return _generate_atomically(Path(root), params, write)


# Argument checks


def random_detection_batch(model, size=64, num_images=2, seed=0):
    """A training batch of random images with one box each, preprocessed.

    For checks and timings that need a detector's forward and backward but
    not real data (image ``i`` has one box of class ``i``).

    Args:
        model: An mmdet detector; its ``data_preprocessor`` packs the batch.
        size: Side of the square images.
        num_images: Images in the batch.
        seed: Seed of the pixel values.

    Returns:
        dict: ``inputs`` and ``data_samples``, ready for
        ``model(**batch, mode='loss')``.
    """
    import torch
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    gen = torch.Generator().manual_seed(seed)
    box = torch.tensor([[0.125, 0.15, 0.6, 0.75]]) * size
    images, samples = [], []
    for i in range(num_images):
        images.append(
            torch.randint(
                0, 256, (3, size, size), generator=gen, dtype=torch.uint8))
        sample = DetDataSample(
            metainfo=dict(
                img_shape=(size, size),
                ori_shape=(size, size),
                scale_factor=(1.0, 1.0)))
        sample.gt_instances = InstanceData(
            bboxes=box + i, labels=torch.tensor([i]))
        samples.append(sample)
    return model.data_preprocessor(
        dict(inputs=images, data_samples=samples), True)


def _check_count(name, value):
    if not isinstance(value, int) or not 1 <= value < _IMAGE_ID_BLOCK:
        raise ValueError(f'{name} must be an int in [1, {_IMAGE_ID_BLOCK}), '
                         f'got {value!r}')


def _check_size(image_size, minimum):
    if not isinstance(image_size, int) or image_size < minimum:
        raise ValueError(f'image_size must be an int >= {minimum}, '
                         f'got {image_size!r}')


def _check_seed(seed):
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f'seed must be a non-negative int, got {seed!r}')


# Atomic generation


def _read_marker(root):
    try:
        with open(root / MARKER_FILE) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _generate_atomically(root, params, write):
    """Run ``write(folder)`` in a temporary folder, then rename to root."""
    marker = _read_marker(root)
    if marker == params:
        return root
    if marker is None and root.is_dir() and any(root.iterdir()):
        raise ValueError(
            f'{root} is not empty and holds no generated dataset (no '
            f'{MARKER_FILE}): choose an empty or missing folder')
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f'.{root.name}.tmp-', dir=root.parent))
    try:
        write(tmp)
        # Written last: its presence means the dataset is complete.
        with open(tmp / MARKER_FILE, 'w') as f:
            json.dump(params, f, indent=2, sort_keys=True)
        _move_into_place(tmp, root, params)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root


def _move_into_place(tmp, root, params):
    if _read_marker(root) is not None:
        # A dataset made with other parameters: move it aside first, as
        # rename() replaces only an empty folder.
        stale = root.with_name(f'.{root.name}.stale-{uuid.uuid4().hex}')
        os.rename(root, stale)
        shutil.rmtree(stale, ignore_errors=True)
    try:
        os.rename(tmp, root)
    except OSError:
        # Another process may have finished the same dataset meanwhile.
        if _read_marker(root) != params:
            raise


# Drawing helpers


@lru_cache(maxsize=8)
def _pixel_grid(size):
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    return xs, ys


def _rotated_coords(size, angle):
    """Pixel coordinates along and across the direction ``angle``."""
    xs, ys = _pixel_grid(size)
    along = xs * np.cos(angle) + ys * np.sin(angle)
    across = -xs * np.sin(angle) + ys * np.cos(angle)
    return along, across


def _random_colour(rng):
    return rng.integers(0, 256, size=3).astype(np.float64)


def _contrasting_colour(rng, reference, min_distance=110.0):
    """A random colour at least ``min_distance`` away from ``reference``."""
    for _ in range(20):
        colour = _random_colour(rng)
        if np.linalg.norm(colour - reference) >= min_distance:
            return colour
    # The farthest cube corner is always >= 128 * sqrt(3) away.
    return np.where(reference < 128, 255.0, 0.0)


def _two_colour(mask, colour_on, colour_off):
    return np.where(mask[..., None], colour_on, colour_off)


def _cloud_background(rng, size):
    """Smooth colour blobs: low-resolution noise upsampled."""
    coarse = rng.integers(0, 256, size=(4, 4, 3), dtype=np.uint8)
    cloud = Image.fromarray(coarse).resize((size, size), Image.BICUBIC)
    return np.asarray(cloud, dtype=np.float64)


def _gradient_background(rng, size):
    along, _ = _rotated_coords(size, rng.uniform(0, 2 * np.pi))
    t = (along - along.min()) / max(np.ptp(along), 1e-6)
    start, end = _random_colour(rng), _random_colour(rng)
    return start + t[..., None] * (end - start)


def _stripes_background(rng, size):
    along, _ = _rotated_coords(size, rng.uniform(0, np.pi))
    period = rng.uniform(0.06, 0.2) * size
    mask = (along / period) % 1.0 < 0.5
    return _two_colour(mask, _random_colour(rng), _random_colour(rng))


_BACKGROUNDS = {
    'cloud': _cloud_background,
    'gradient': _gradient_background,
    'stripes': _stripes_background,
}


def _background(rng, size, kinds):
    kind = kinds[rng.integers(len(kinds))]
    return _BACKGROUNDS[kind](rng, size)


def _shape_outline(name, radius, rotation):
    """Polygon vertices (k, 2) of a shape centred on the origin."""
    if name in ('circle', 'ring'):
        angles = 2 * np.pi * np.arange(32) / 32
        return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    if name in ('square', 'triangle'):
        sides = 4 if name == 'square' else 3
        angles = rotation + 2 * np.pi * np.arange(sides) / sides
        return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    if name == 'star':
        angles = rotation + np.pi * np.arange(10) / 5
        radii = radius * np.where(np.arange(10) % 2 == 0, 1.0, 0.45)
        return radii[:, None] * np.stack(
            [np.cos(angles), np.sin(angles)], axis=1)
    if name == 'cross':
        a = 0.32
        unit = np.array([(a, 1), (a, a), (1, a), (1, -a), (a, -a), (a, -1),
                         (-a, -1), (-a, -a), (-1, -a), (-1, a), (-a, a),
                         (-a, 1)])
        cos, sin = np.cos(rotation), np.sin(rotation)
        return radius * unit @ np.array([[cos, sin], [-sin, cos]])
    raise ValueError(f'unknown shape {name!r}, expected one of '
                     f'{SHAPE_CLASSES}')


def _polygon_area(points):
    x, y = points[:, 0], points[:, 1]
    return 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))


def _shape_mask(name, polygon, size):
    mask = Image.new('L', (size, size), 0)
    draw = ImageDraw.Draw(mask)
    draw.polygon([tuple(p) for p in polygon], fill=255)
    if name == 'ring':
        centre = polygon.mean(axis=0)
        hole = centre + 0.55 * (polygon - centre)
        draw.polygon([tuple(p) for p in hole], fill=0)
    return np.asarray(mask) > 127


def _paint(image, mask, colour):
    image[mask] = colour


def _add_noise_and_encode(rng, image):
    noisy = image + rng.normal(0.0, rng.uniform(2.0, 10.0), image.shape)
    return Image.fromarray(np.clip(noisy, 0, 255).round().astype(np.uint8))


def _save_jpeg(image, path):
    image.save(path, format='JPEG', quality=_JPEG_QUALITY)


# Detection


def _overlap_ratio(box, other):
    """Intersection over the smaller box area; boxes are x0, y0, x1, y1."""
    iw = min(box[2], other[2]) - max(box[0], other[0])
    ih = min(box[3], other[3]) - max(box[1], other[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    smaller = min((box[2] - box[0]) * (box[3] - box[1]),
                  (other[2] - other[0]) * (other[3] - other[1]))
    return iw * ih / smaller


def _place_shape(rng, size, boxes):
    """Pick a shape and a free spot for it, or None if the image is full."""
    name = DETECTION_CLASSES[rng.integers(len(DETECTION_CLASSES))]
    radius = rng.uniform(0.06, 0.22) * size
    outline = _shape_outline(name, radius, rng.uniform(0, 2 * np.pi))
    low, high = outline.min(axis=0), outline.max(axis=0)
    for _ in range(20):
        # Whole shape inside the image: no truncated boxes to reason about.
        centre = rng.uniform(-low, size - high)
        box = (*(centre + low), *(centre + high))
        # Little overlap, so that every box stays mostly visible.
        if all(_overlap_ratio(box, other) <= 0.1 for other in boxes):
            return name, outline + centre, box
    return None


def _draw_distractor_lines(rng, image, size):
    canvas = Image.fromarray(image.astype(np.uint8))
    draw = ImageDraw.Draw(canvas)
    for _ in range(rng.integers(0, 4)):
        ends = rng.uniform(0, size, size=4)
        colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
        draw.line(list(ends), fill=colour, width=int(rng.integers(1, 3)))
    return np.asarray(canvas, dtype=np.float64).copy()


def _render_detection_image(rng, size):
    """Return the image and its objects as (class name, polygon, box)."""
    image = _background(rng, size, ('cloud', 'gradient', 'stripes'))
    image = _draw_distractor_lines(rng, image, size)
    objects = []
    for _ in range(rng.integers(1, _MAX_OBJECTS_PER_IMAGE + 1)):
        placed = _place_shape(rng, size, [box for _, _, box in objects])
        if placed is None:
            continue
        name, polygon, box = placed
        mask = _shape_mask(name, polygon, size)
        _paint(image, mask, _contrasting_colour(rng, image[mask].mean(0)))
        objects.append(placed)
    return _add_noise_and_encode(rng, image), objects


def _coco_annotation(ann_id, image_id, category_id, polygon, box):
    x0, y0, x1, y1 = (round(float(v), 2) for v in box)
    width, height = round(x1 - x0, 2), round(y1 - y0, 2)
    return dict(
        id=ann_id,
        image_id=image_id,
        category_id=category_id,
        bbox=[x0, y0, width, height],
        area=round(float(_polygon_area(polygon)), 2),
        iscrowd=0,
        segmentation=[[round(float(v), 2) for v in polygon.ravel()]])


def _write_detection_split(root, split, num_images, size, seed):
    code = _SPLIT_CODES[split]
    image_dir = root / split
    image_dir.mkdir(parents=True)
    category_ids = {name: i + 1 for i, name in enumerate(DETECTION_CLASSES)}
    images, annotations = [], []
    for index in range(num_images):
        rng = np.random.default_rng([seed, code, index])
        image_id = code * _IMAGE_ID_BLOCK + index + 1
        file_name = f'{image_id:012d}.jpg'
        image, objects = _render_detection_image(rng, size)
        _save_jpeg(image, image_dir / file_name)
        images.append(
            dict(id=image_id, file_name=file_name, width=size, height=size))
        for k, (name, polygon, box) in enumerate(objects):
            annotations.append(
                _coco_annotation(image_id * _ANN_IDS_PER_IMAGE + k, image_id,
                                 category_ids[name], polygon, box))
    coco = dict(
        info=dict(
            description='detnas_mm built-in shapes',
            version=str(GENERATOR_VERSION)),
        licenses=[],
        images=images,
        annotations=annotations,
        categories=[
            dict(id=i, name=name, supercategory='shape')
            for name, i in category_ids.items()
        ])
    ann_dir = root / 'annotations'
    ann_dir.mkdir(exist_ok=True)
    with open(ann_dir / f'instances_{split}.json', 'w') as f:
        json.dump(coco, f)


# Classification


def _texture(rng, name, size):
    along, across = _rotated_coords(size, rng.uniform(0, np.pi))
    period = rng.uniform(0.12, 0.3) * size
    if name == 'stripes':
        mask = (along / period) % 1.0 < 0.5
    elif name == 'checkerboard':
        mask = (np.floor(along / period) + np.floor(across / period)) % 2 == 0
    elif name == 'dots':
        du = (along / period) % 1.0 - 0.5
        dv = (across / period) % 1.0 - 0.5
        mask = du**2 + dv**2 < rng.uniform(0.1, 0.2)
    elif name == 'waves':
        wavelength = rng.uniform(0.3, 0.6) * size
        bend = rng.uniform(0.5, 1.0) * period
        phase = along + bend * np.sin(2 * np.pi * across / wavelength)
        mask = (phase / period) % 1.0 < 0.5
    else:
        raise ValueError(f'unknown texture {name!r}, expected one of '
                         f'{TEXTURE_CLASSES}')
    colour_off = _random_colour(rng)
    return _two_colour(mask, _contrasting_colour(rng, colour_off), colour_off)


def _render_classification_image(rng, name, size):
    if name in TEXTURE_CLASSES:
        return _add_noise_and_encode(rng, _texture(rng, name, size))
    # Backgrounds without stripes, so that no shape image looks like a
    # texture class.
    image = _background(rng, size, ('cloud', 'gradient'))
    radius = rng.uniform(0.25, 0.42) * size
    centre = size / 2 + rng.uniform(-0.12, 0.12, size=2) * size
    polygon = centre + _shape_outline(name, radius, rng.uniform(0, 2 * np.pi))
    mask = _shape_mask(name, polygon, size)
    _paint(image, mask, _contrasting_colour(rng, image[mask].mean(0)))
    return _add_noise_and_encode(rng, image)


def _write_classification_split(root, split, class_names, per_class, size,
                                seed):
    code = _SPLIT_CODES[split]
    for class_index, name in enumerate(class_names):
        class_dir = root / split / name
        class_dir.mkdir(parents=True)
        for index in range(per_class):
            rng = np.random.default_rng([seed, code, class_index, index])
            image = _render_classification_image(rng, name, size)
            _save_jpeg(image, class_dir / f'{name}_{index:05d}.jpg')
