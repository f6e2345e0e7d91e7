"""Held-out search sets carved out of the training annotations.

DetNAS scores candidate architectures on images the supernet was not
fine-tuned on, and never on the test split it reports: 5000 images are
held out of COCO's training set as the *search set*, the supernet is
fine-tuned on the remaining images, and the final architecture is reported
on val2017. This module makes that split (for COCO json files and VOC image
lists), records it in a manifest that can be re-checked, and refuses search
sets that overlap the training set or are the test split.

Which images go to the search set: image ids sorted by
``sha256('<seed>:<key>')``, the first ``num_search`` taken, where the key is
the COCO image id, or ``<tag>/<image id>`` for a VOC list (the tag names the
list, e.g. ``VOC2007``). This seeded permutation is the same with every
Python and numpy version, and with one seed a larger search set contains
every smaller one.
"""
import hashlib
import json
import os
from pathlib import Path

from .voc import read_voc_list

MANIFEST_FILE = 'manifest.json'
COCO_SEARCH_FILE = 'search.json'
COCO_REMAIN_FILE = 'train_remain.json'
VOC_SEARCH_FILE = 'search.txt'
_DETNAS_NUM_SEARCH = 5000
_FIRST_FEW = 5


def split_coco(train_ann_file, out_dir, num_search=_DETNAS_NUM_SEARCH, seed=0):
    """Split a COCO annotation file into a search set and the remainder.

    Args:
        train_ann_file (str | Path): COCO instances json of the training
            split, e.g. ``instances_train2017.json``.
        out_dir (str | Path): Folder for the outputs; created if missing.
        num_search (int): Images in the search set. Defaults to 5000, the
            size DetNAS holds out of COCO.
        seed (int): Seed of the permutation. Defaults to 0.

    Returns:
        dict: The manifest, also written to ``out_dir/manifest.json`` next
        to ``search.json`` and ``train_remain.json``. Both are COCO files
        with every top-level field of the source; ``images`` and
        ``annotations`` keep the source order and are partitioned by image.
    """
    source = Path(train_ann_file)
    coco = _load_json(source)
    image_ids = [image['id'] for image in _images_of(coco, source)]
    search_ids = _select_search(image_ids, [str(i) for i in image_ids],
                                num_search, seed, source)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    outputs = {}
    for name, role, keep in ((COCO_SEARCH_FILE, 'search', True),
                             (COCO_REMAIN_FILE, 'remain', False)):
        subset = _coco_subset(coco, search_ids, keep)
        outputs[name] = _write_output(out_dir / name, role,
                                      len(subset['images']),
                                      _dump_json(subset))
    manifest = dict(
        format='coco',
        seed=seed,
        num_search=num_search,
        sources=[_describe_source(source, 'coco', len(image_ids))],
        search_image_ids=[i for i in image_ids if i in search_ids],
        remain_image_ids=[i for i in image_ids if i not in search_ids],
        outputs=outputs)
    _write_manifest(out_dir, manifest)
    return manifest


def split_voc(list_files, out_dir, num_search=_DETNAS_NUM_SEARCH, seed=0):
    """Split VOC image-id lists into a search set and the remainder.

    The lists (e.g. ``VOC2007/ImageSets/Main/trainval.txt`` and the VOC2012
    one) are pooled and ``num_search`` images drawn from the pool; the
    outputs are written per list, in the source order, as
    ``out_dir/<tag>/<stem>_remain.txt`` and ``out_dir/<tag>/search.txt``.
    The tag is the ``VOC20xx`` folder of a list in the VOC layout, else the
    list's file stem.

    Args:
        list_files (list[str | Path]): Image-id lists, one id a line.
        out_dir (str | Path): Folder for the outputs; created if missing.
        num_search (int): Images in the search set, over all lists.
            Defaults to 5000.
        seed (int): Seed of the permutation. Defaults to 0.

    Returns:
        dict: The manifest, also written to ``out_dir/manifest.json``;
        its ids are keyed by tag.
    """
    sources = [Path(p) for p in list_files]
    if not sources:
        raise ValueError('list_files is empty: give at least one VOC list')
    tags = [_voc_tag(p) for p in sources]
    if len(set(tags)) != len(tags):
        raise ValueError(f'VOC lists must have distinct tags, got {tags} '
                         f'for {[str(p) for p in sources]}')
    ids = {tag: read_voc_list(path) for tag, path in zip(tags, sources)}
    pooled = [(tag, i) for tag in tags for i in ids[tag]]
    search = _select_search(pooled, [f'{t}/{i}' for t, i in pooled],
                            num_search, seed, ', '.join(map(str, sources)))
    out_dir = Path(out_dir)
    outputs, search_ids, remain_ids = {}, {}, {}
    for tag, path in zip(tags, sources):
        search_ids[tag] = [i for i in ids[tag] if (tag, i) in search]
        remain_ids[tag] = [i for i in ids[tag] if (tag, i) not in search]
        (out_dir / tag).mkdir(parents=True, exist_ok=True)
        parts = {
            f'{tag}/{VOC_SEARCH_FILE}': ('search', search_ids[tag]),
            f'{tag}/{path.stem}_remain.txt': ('remain', remain_ids[tag]),
        }
        for name, (role, subset) in parts.items():
            text = ''.join(f'{i}\n' for i in subset)
            outputs[name] = _write_output(out_dir / name, role, len(subset),
                                          text)
    manifest = dict(
        format='voc',
        seed=seed,
        num_search=num_search,
        sources=[
            _describe_source(path, tag, len(ids[tag]))
            for tag, path in zip(tags, sources)
        ],
        search_image_ids=search_ids,
        remain_image_ids=remain_ids,
        outputs=outputs)
    _write_manifest(out_dir, manifest)
    return manifest


def verify_manifest(manifest_file):
    """Check that a split is still what its manifest says.

    The sources must have their recorded sha256, re-running the split from
    them with the recorded seed and size must give the recorded image ids,
    and the output files must have their recorded sha256.

    Args:
        manifest_file (str | Path): ``manifest.json`` written by
            :func:`split_coco` or :func:`split_voc`.

    Returns:
        dict: The manifest.

    Raises:
        ValueError: Naming what differs.
    """
    manifest_file = Path(manifest_file)
    manifest = _load_json(manifest_file)
    fields = ('format', 'seed', 'num_search', 'sources', 'search_image_ids',
              'remain_image_ids', 'outputs')
    missing = [
        f for f in fields
        if not isinstance(manifest, dict) or f not in manifest
    ]
    if missing:
        raise ValueError(f'{manifest_file} is not a split manifest: it has '
                         f'no {", ".join(missing)}')
    fmt = manifest.get('format')
    if fmt not in ('coco', 'voc'):
        raise ValueError(f'{manifest_file}: format must be one of '
                         f"('coco', 'voc'), got {fmt!r}")
    for source in manifest['sources']:
        if not Path(source['path']).is_file():
            raise ValueError(
                f'{manifest_file}: source {source["path"]} is missing')
        digest = _sha256_of(source['path'])
        if digest != source['sha256']:
            raise ValueError(
                f'{manifest_file}: source {source["path"]} changed since the '
                f'split (sha256 {digest}, recorded {source["sha256"]})')
    expected = _rerun_split(manifest)
    for field in ('search_image_ids', 'remain_image_ids'):
        if expected[field] != manifest[field]:
            raise ValueError(
                f'{manifest_file}: re-running the split with seed '
                f'{manifest["seed"]} does not reproduce its {field}')
    out_dir = manifest_file.parent
    for name, output in manifest['outputs'].items():
        path = out_dir / name
        if not path.is_file():
            raise ValueError(f'{manifest_file}: output {path} is missing')
        if _sha256_of(path) != output['sha256']:
            raise ValueError(f'{manifest_file}: output {path} changed since '
                             f'the split (sha256 differs from the manifest)')
    return manifest


def check_search_split(search_ann_file,
                       train_ann_file=None,
                       test_ann_file=None):
    """Refuse a search set that shares images with training or is the test.

    Meant to run before any search evaluation. An image is identified by
    its COCO ``(id, file_name)`` pair; both are kept by :func:`split_coco`,
    and requiring both avoids false alarms on datasets that number ids, or
    name files, per split. VOC ``.txt`` lists are accepted too (identified
    by image id).

    Args:
        search_ann_file (str | Path): Search set annotations (or VOC list).
        train_ann_file (str | Path, optional): What the supernet is
            fine-tuned on; the search set must share no image with it.
        test_ann_file (str | Path, optional): The test split; the search set
            must not be it (same path, same bytes or same image set) nor
            share any image with it.

    Raises:
        ValueError: Naming the files, the number of shared images and the
            first few of them.
    """
    search_images = _image_keys(search_ann_file)
    if not search_images:
        raise ValueError(f'search set {search_ann_file} has no images')
    test_images = None
    if test_ann_file is not None:
        test_images = _image_keys(test_ann_file)
        _refuse_test_split(search_ann_file, search_images, test_ann_file,
                           test_images)
    if train_ann_file is not None:
        _refuse_overlap(search_ann_file, search_images, train_ann_file,
                        _image_keys(train_ann_file), 'training set')
    if test_ann_file is not None:
        _refuse_overlap(search_ann_file, search_images, test_ann_file,
                        test_images, 'test split')


# Selection


def _select_search(items, keys, num_search, seed, source):
    """The items whose ``sha256('<seed>:<key>')`` are the smallest."""
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f'seed must be a non-negative int, got {seed!r}')
    if len(set(keys)) != len(keys):
        raise ValueError(f'{source} lists some images more than once')
    if not isinstance(num_search, int) or num_search < 1:
        raise ValueError(
            f'num_search must be a positive int, got {num_search!r}')
    if num_search >= len(items):
        raise ValueError(
            f'num_search={num_search} must be smaller than the number of '
            f'images in {source} ({len(items)}), so that images remain for '
            f'training')
    order = sorted(
        range(len(items)),
        key=lambda i: hashlib.sha256(f'{seed}:{keys[i]}'.encode()).digest())
    return {items[i] for i in order[:num_search]}


def _rerun_split(manifest):
    """Recompute the search and remaining ids from a manifest's sources."""
    seed, num_search = manifest['seed'], manifest['num_search']
    sources = manifest['sources']
    if manifest['format'] == 'coco':
        source = sources[0]['path']
        ids = [image['id'] for image in _read_images(source)]
        search = _select_search(ids, [str(i) for i in ids], num_search, seed,
                                source)
        return dict(
            search_image_ids=[i for i in ids if i in search],
            remain_image_ids=[i for i in ids if i not in search])
    ids = {s['tag']: read_voc_list(s['path']) for s in sources}
    pooled = [(tag, i) for tag in ids for i in ids[tag]]
    search = _select_search(pooled, [f'{t}/{i}' for t, i in pooled],
                            num_search, seed, 'the VOC lists')
    return dict(
        search_image_ids={
            t: [i for i in ids[t] if (t, i) in search]
            for t in ids
        },
        remain_image_ids={
            t: [i for i in ids[t] if (t, i) not in search]
            for t in ids
        })


# Files


def _sha256_of(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def _load_json(path):
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def _dump_json(obj):
    return json.dumps(obj, ensure_ascii=False)


def _write_output(path, role, num_images, text):
    data = text.encode('utf-8')
    path.write_bytes(data)
    return dict(
        role=role,
        num_images=num_images,
        sha256=hashlib.sha256(data).hexdigest())


def _write_manifest(out_dir, manifest):
    with open(out_dir / MANIFEST_FILE, 'w', encoding='utf-8') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')


def _describe_source(path, tag, num_images):
    return dict(
        tag=tag,
        path=str(Path(path).resolve()),
        sha256=_sha256_of(path),
        num_images=num_images)


def _coco_subset(coco, search_ids, in_search):
    """The COCO dict restricted to the search images or to the others."""
    subset = dict(coco)
    subset['images'] = [
        image for image in coco['images']
        if (image['id'] in search_ids) == in_search
    ]
    subset['annotations'] = [
        ann for ann in coco.get('annotations', [])
        if (ann['image_id'] in search_ids) == in_search
    ]
    return subset


def _voc_tag(list_file):
    """``VOC2007`` for ``.../VOC2007/ImageSets/Main/x.txt``, else the stem."""
    path = Path(list_file).resolve()
    if path.parent.name == 'Main' and path.parents[1].name == 'ImageSets':
        return path.parents[2].name
    return path.stem


def _read_images(path):
    """The ``images`` list of a COCO instances file."""
    return _images_of(_load_json(path), path)


def _images_of(coco, path):
    if not isinstance(coco, dict) or not isinstance(coco.get('images'), list):
        raise ValueError(f"{path} has no top-level 'images' list")
    return coco['images']


# Checks


def _image_keys(ann_file):
    """Image identities of a COCO json or VOC list, in file order."""
    if str(ann_file).endswith('.txt'):
        return [(i, None) for i in read_voc_list(ann_file)]
    return [(image['id'], image['file_name'])
            for image in _read_images(ann_file)]


def _refuse_test_split(search_file, search_images, test_file, test_images):
    reason = None
    if _same_path(search_file, test_file):
        reason = 'is the same file as the test split'
    elif (os.path.getsize(search_file) == os.path.getsize(test_file)
          and _sha256_of(search_file) == _sha256_of(test_file)):
        reason = 'is a byte-identical copy of the test split'
    elif set(search_images) == set(test_images):
        reason = 'holds exactly the images of the test split'
    if reason is not None:
        raise ValueError(
            f'search set {search_file} {reason} {test_file}: architectures '
            f'must be searched on images held out of the training set, and '
            f'reported on the untouched test split')


def _refuse_overlap(search_file, search_images, other_file, other_images,
                    role):
    other = set(other_images)
    shared = [key for key in search_images if key in other]
    if shared:
        first = ', '.join(f'id={i}' if name is None else f'id={i} ({name})'
                          for i, name in shared[:_FIRST_FEW])
        raise ValueError(
            f'search set {search_file} shares {len(shared)} of its '
            f'{len(search_images)} images with the {role} {other_file} '
            f'(first: {first}): search on images held out of the training '
            f'set, e.g. made by tools/dataset/split_search_set.py')


def _same_path(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return Path(a).resolve() == Path(b).resolve()
