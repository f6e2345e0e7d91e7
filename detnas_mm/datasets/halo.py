"""Built-in 'halo' task: the class is the hue of a ring around the box.

Each object is a grey square inside a coloured ring; the class is the
ring's hue (red, green, blue or yellow) and the box is the square only.
The class evidence thus lies outside the box, so the feature at the square
has to integrate colour at a distance: the receptive field at stride 4,
which the search space's choices (kernel 3, 5 or 7, Xception-like) change,
decides whether the detector can name the object. Several objects per
image, distractor rings without a square and grey lines make coarse
context ambiguous, so a very large receptive field is no shortcut either.

The classification twin (for supernet pre-training) is one centred square
and ring per image, in ImageNet folder layout, one folder per hue.

Like :mod:`detnas_mm.datasets.synthetic`, every image has its own random
generator seeded with ``(seed, split, [class,] index)``, and a dataset is
written atomically with a marker file. The rendering must stay exactly as
it is: the measured results of the halo task were obtained on its data, so
any change to the pixels or boxes needs a new ``HALO_GENERATOR_VERSION``.
"""
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from .synthetic import (_check_count, _check_seed, _check_size,
                        _generate_atomically, _read_marker, default_data_root)

# Bump whenever the rendered output changes (cached data is then remade).
HALO_GENERATOR_VERSION = 2

HALO_CLASSES = ('red', 'green', 'blue', 'yellow')
# Base colour of each ring; every ring jitters it a little.
_HUES = {
    'red': (230, 40, 40),
    'green': (40, 200, 40),
    'blue': (40, 70, 235),
    'yellow': (235, 215, 30),
}
_HUE_JITTER = 12

# COCO image ids are unique across splits: each split owns a block of ids.
_DETECTION_SPLIT_CODES = {'train2017': 1, 'val2017': 2}
_CLASSIFICATION_SPLIT_CODES = {'train': 1, 'val': 2}
_IMAGE_ID_BLOCK = 1_000_000
_ANN_IDS_PER_IMAGE = 100

_MIN_DETECTION_SIZE = 48
_MIN_CLASSIFICATION_SIZE = 32

# Shapes are drawn at twice the resolution and scaled down: smooth edges.
_SUPERSAMPLE = 2
# Ring outline width as a fraction of the square's side.
_RING_WIDTH = 0.12
# Squares and lines are at least this far from the background grey level.
_MIN_GREY_CONTRAST = 70
# Free space kept between two rings, in pixels.
_RING_MARGIN = 2
_PLACEMENT_TRIES = 30

# Detection scene. Sizes are fractions of the image side; (low, high)
# ranges of counts exclude high, except for the object count.
_MAX_OBJECTS = 4
_DETECTION_SIDE = (0.11, 0.17)
# Ring radius over half the square's side: the ring stays clear of the
# square, at a distance the receptive field has to reach. Version 1 drew
# (2.0, 2.8): there only the 3x3 first block fell short, and the other
# architectures of equal FLOPs differed less than their retraining noise
# (docs/pipeline.md). At this farther ring mostly the Xception-like first
# block reaches the colour, so first blocks differ by far more than noise.
_DETECTION_RING_RATIO = (2.8, 3.6)
_MEAN_DETECTION_RING_RATIO = sum(_DETECTION_RING_RATIO) / 2
_DISTRACTOR_RINGS = (0, 4)
_DISTRACTOR_LINES = (0, 4)

# Classification image: one larger object near the centre.
_CLASSIFICATION_SIDE = (0.22, 0.32)
# The twin keeps version 1's nearer ring: it only has to teach colour.
_CLASSIFICATION_RING_RATIO = (2.0, 2.8)
_CENTRE_JITTER = 0.06


def is_halo_data(root):
    """Whether ``root`` holds a complete generated halo detection set.

    Args:
        root (str | Path): A dataset folder.

    Returns:
        bool: True when the marker written last by
        :func:`make_halo_detection_dataset` is there.
    """
    marker = _read_marker(Path(root))
    return isinstance(marker, dict) and marker.get('kind') == 'halo_detection'


def ensure_halo_data(root=None):
    """Generate the default halo datasets unless already there.

    Args:
        root (str | Path, optional): Folder holding both datasets. Defaults
            to :func:`~detnas_mm.datasets.default_data_root`.

    Returns:
        dict[str, Path]: ``detection`` (COCO layout, ``halo_coco``) and
        ``classification`` (ImageNet folder layout, ``halo_cls``) roots.
    """
    root = Path(root) if root is not None else default_data_root()
    return dict(
        detection=make_halo_detection_dataset(root / 'halo_coco'),
        classification=make_halo_classification_dataset(root / 'halo_cls'))


def make_halo_detection_dataset(root,
                                num_train=2000,
                                num_test=400,
                                image_size=96,
                                seed=0):
    """Render the halo detection set in COCO layout.

    ``val2017`` is the test split; the search set is carved out of
    ``train2017`` by :func:`detnas_mm.datasets.split_coco`. Images are PNG
    (lossless: JPEG would smear the thin rings' hues).

    Args:
        root (str | Path): Dataset folder to create.
        num_train (int): Number of ``train2017`` images. Defaults to 2000.
        num_test (int): Number of ``val2017`` (test) images. Defaults to
            400.
        image_size (int): Side of the square images in pixels, at least 48;
            objects scale with it. Defaults to 96.
        seed (int): Non-negative random seed. Defaults to 0.

    Returns:
        Path: ``root``, holding ``train2017/``, ``val2017/`` and
        ``annotations/instances_{train,val}2017.json`` (categories 1 to 4
        in :data:`HALO_CLASSES` order).
    """
    _check_count('num_train', num_train)
    _check_count('num_test', num_test)
    _check_size(image_size, _MIN_DETECTION_SIZE)
    _check_seed(seed)
    params = dict(
        kind='halo_detection',
        generator_version=HALO_GENERATOR_VERSION,
        num_train=num_train,
        num_test=num_test,
        image_size=image_size,
        seed=seed)

    def write(folder):
        split_sizes = dict(train2017=num_train, val2017=num_test)
        for split, num_images in split_sizes.items():
            _write_detection_split(folder, split, num_images, image_size, seed)

    return _generate_atomically(Path(root), params, write)


def make_halo_classification_dataset(root,
                                     per_class_train=1000,
                                     per_class_val=100,
                                     image_size=48,
                                     seed=0):
    """Render the halo classification set in ImageNet folder layout.

    One folder per class of :data:`HALO_CLASSES`; loads with mmpretrain's
    ``CustomDataset(data_root=root, data_prefix='train')``.

    Args:
        root (str | Path): Dataset folder to create.
        per_class_train (int): Training images per class. Defaults to 1000.
        per_class_val (int): Validation images per class. Defaults to 100.
        image_size (int): Side of the square images in pixels, at least 32.
            Defaults to 48.
        seed (int): Non-negative random seed. Defaults to 0.

    Returns:
        Path: ``root``, holding ``train/<class>/*.png`` and
        ``val/<class>/*.png``.
    """
    _check_count('per_class_train', per_class_train)
    _check_count('per_class_val', per_class_val)
    _check_size(image_size, _MIN_CLASSIFICATION_SIZE)
    _check_seed(seed)
    params = dict(
        kind='halo_classification',
        generator_version=HALO_GENERATOR_VERSION,
        per_class_train=per_class_train,
        per_class_val=per_class_val,
        image_size=image_size,
        seed=seed)

    def write(folder):
        split_sizes = dict(train=per_class_train, val=per_class_val)
        for split, per_class in split_sizes.items():
            _write_classification_split(folder, split, per_class, image_size,
                                        seed)

    return _generate_atomically(Path(root), params, write)


# Drawing. The order of the random draws is part of the data: reordering
# them changes every image.


def _background(rng, size):
    """A smooth, nearly grey background: upsampled 4 x 4 noise."""
    level = rng.uniform(60, 190)
    # One brightness field shared by the channels plus a weaker colour one:
    # grey-ish, so that the rings are the only strongly coloured pixels.
    brightness = level + rng.normal(0, 25, (4, 4, 1))
    coarse = brightness.repeat(3, 2) + rng.normal(0, 8, (4, 4, 3))
    coarse = Image.fromarray(np.clip(coarse, 0, 255).astype(np.uint8))
    return np.asarray(coarse.resize((size, size), Image.BICUBIC), np.float64)


def _ring_colour(rng, name):
    return tuple(
        int(np.clip(v + rng.normal(0, _HUE_JITTER), 0, 255))
        for v in _HUES[name])


def _grey(rng, background_level):
    """A grey far enough from the background's mean to stand out."""
    while True:
        value = rng.uniform(0, 255)
        if abs(value - background_level) > _MIN_GREY_CONTRAST:
            return (int(value), ) * 3


def _supersampled_canvas(rng, size):
    """Background, its mean level, and a drawing canvas at 2x resolution."""
    background = _background(rng, size)
    level = background.mean()
    canvas = Image.fromarray(background.astype(np.uint8)).resize(
        (size * _SUPERSAMPLE, size * _SUPERSAMPLE), Image.BILINEAR)
    return canvas, level


def _scaled(points):
    """Image coordinates to supersampled canvas coordinates."""
    return [*points * _SUPERSAMPLE]


def _draw_ring(draw, colour, centre, radius, width):
    draw.ellipse(
        _scaled(centre - radius) + _scaled(centre + radius),
        outline=colour,
        width=width)


def _draw_square(draw, colour, centre, side):
    draw.rectangle(
        _scaled(centre - side / 2) + _scaled(centre + side / 2), fill=colour)


def _halo_width(side):
    """Ring width on the canvas for a square of ``side`` image pixels."""
    return max(2, int(round(_RING_WIDTH * side * _SUPERSAMPLE)))


def _finish(rng, canvas, size):
    """Scale the canvas down to ``size`` and add pixel noise."""
    pixels = np.asarray(
        canvas.resize((size, size), Image.BILINEAR), np.float64)
    sigma = rng.uniform(2, 8)
    pixels = pixels + rng.normal(0, sigma, pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).round().astype(np.uint8))


def _render_detection_image(rng, size):
    """Return the image and its objects as (class name, x0, y0, x1, y1)."""
    canvas, level = _supersampled_canvas(rng, size)
    draw = ImageDraw.Draw(canvas)
    rings = []  # (centre, radius) of every ring drawn, to keep them apart

    def is_free(centre, radius):
        return all(
            np.hypot(*(centre - other)) > radius + other_radius + _RING_MARGIN
            for other, other_radius in rings)

    def random_centre(radius):
        # The whole ring inside the image, a margin from the border.
        low = radius + _RING_MARGIN
        high = size - radius - _RING_MARGIN
        return rng.uniform(low, high, 2)

    objects = []
    for _ in range(rng.integers(1, _MAX_OBJECTS + 1)):
        name = HALO_CLASSES[rng.integers(len(HALO_CLASSES))]
        side = rng.uniform(*_DETECTION_SIDE) * size
        radius = side / 2 * rng.uniform(*_DETECTION_RING_RATIO)
        for _ in range(_PLACEMENT_TRIES):
            centre = random_centre(radius)
            if is_free(centre, radius):
                break
        else:
            continue  # the image is full: fewer objects
        rings.append((centre, radius))
        width = _halo_width(side)
        _draw_ring(draw, _ring_colour(rng, name), centre, radius, width)
        _draw_square(draw, _grey(rng, level), centre, side)
        x0, y0 = centre - side / 2
        x1, y1 = centre + side / 2
        objects.append((name, x0, y0, x1, y1))

    # Distractors: rings without a square (unlabelled), one placement try
    # each, then grey lines anywhere.
    for _ in range(rng.integers(*_DISTRACTOR_RINGS)):
        name = HALO_CLASSES[rng.integers(len(HALO_CLASSES))]
        radius = (
            rng.uniform(*_DETECTION_SIDE) * size / 2 *
            rng.uniform(*_DETECTION_RING_RATIO))
        centre = random_centre(radius)
        if is_free(centre, radius):
            rings.append((centre, radius))
            # As thick as the ring of a square of the mean ring ratio
            # (written so, not through _halo_width, to keep the rounding).
            width = max(
                2,
                int(
                    round(_RING_WIDTH * 2 * radius /
                          _MEAN_DETECTION_RING_RATIO * _SUPERSAMPLE)))
            _draw_ring(draw, _ring_colour(rng, name), centre, radius, width)
    for _ in range(rng.integers(*_DISTRACTOR_LINES)):
        ends = rng.uniform(0, size * _SUPERSAMPLE, 4)
        draw.line(list(ends), fill=_grey(rng, level), width=2)
    return _finish(rng, canvas, size), objects


def _render_classification_image(rng, name, size):
    canvas, level = _supersampled_canvas(rng, size)
    draw = ImageDraw.Draw(canvas)
    side = rng.uniform(*_CLASSIFICATION_SIDE) * size
    # Clipped so that the ring stays inside the image.
    radius = min(side / 2 * rng.uniform(*_CLASSIFICATION_RING_RATIO),
                 size / 2 - 2)
    jitter = rng.uniform(-_CENTRE_JITTER, _CENTRE_JITTER, 2)
    centre = size / 2 + jitter * size
    width = _halo_width(side)
    _draw_ring(draw, _ring_colour(rng, name), centre, radius, width)
    _draw_square(draw, _grey(rng, level), centre, side)
    return _finish(rng, canvas, size)


# Writing


def _coco_annotation(ann_id, image_id, category_id, x0, y0, x1, y1):
    # Unrounded floats: the measured results were obtained on these.
    return dict(
        id=ann_id,
        image_id=image_id,
        category_id=category_id,
        bbox=[float(x0), float(y0),
              float(x1 - x0),
              float(y1 - y0)],
        area=float((x1 - x0) * (y1 - y0)),
        iscrowd=0)


def _write_detection_split(root, split, num_images, size, seed):
    code = _DETECTION_SPLIT_CODES[split]
    image_dir = root / split
    image_dir.mkdir(parents=True)
    category_ids = {name: i + 1 for i, name in enumerate(HALO_CLASSES)}
    images, annotations = [], []
    for index in range(num_images):
        rng = np.random.default_rng([seed, code, index])
        image_id = code * _IMAGE_ID_BLOCK + index + 1
        file_name = f'{image_id:012d}.png'
        image, objects = _render_detection_image(rng, size)
        image.save(image_dir / file_name, format='PNG')
        images.append(
            dict(id=image_id, file_name=file_name, width=size, height=size))
        for k, (name, *box) in enumerate(objects):
            annotations.append(
                _coco_annotation(image_id * _ANN_IDS_PER_IMAGE + k, image_id,
                                 category_ids[name], *box))
    coco = dict(
        info=dict(
            description='detnas_mm built-in halo task',
            version=str(HALO_GENERATOR_VERSION)),
        licenses=[],
        images=images,
        annotations=annotations,
        categories=[dict(id=i, name=name) for name, i in category_ids.items()])
    ann_dir = root / 'annotations'
    ann_dir.mkdir(exist_ok=True)
    with open(ann_dir / f'instances_{split}.json', 'w') as f:
        json.dump(coco, f)


def _write_classification_split(root, split, per_class, size, seed):
    code = _CLASSIFICATION_SPLIT_CODES[split]
    for class_index, name in enumerate(HALO_CLASSES):
        class_dir = root / split / name
        class_dir.mkdir(parents=True)
        for index in range(per_class):
            rng = np.random.default_rng([seed, code, class_index, index])
            image = _render_classification_image(rng, name, size)
            image.save(class_dir / f'{name}_{index:05d}.png', format='PNG')
