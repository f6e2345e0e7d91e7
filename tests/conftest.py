"""Session-wide fixtures: the data every test runs on.

Tests use the real images of ``../shared/data`` (next to the repository)
when the checkout has them, and otherwise built-in generated datasets in
the same layouts, so that a bare clone runs every test and skips none.
Code under test must read class names from the data (``coco_tiny`` has the
80 COCO classes with their original ids, the generated set five shapes).
Set ``DETNAS_SHARED_DATA`` to another folder (a missing one, say) to run
the suite on the generated data.
"""
import functools
import os
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from detnas_mm.datasets import (make_classification_dataset,
                                make_detection_dataset)
from tests.utils import REPO_ROOT


def shared_data_dir():
    """Folder of the shared real test data (may not exist)."""
    default = REPO_ROOT.parent / 'shared' / 'data'
    return Path(os.environ.get('DETNAS_SHARED_DATA', default)).resolve()


@pytest.fixture(scope='session')
def builtin_data(tmp_path_factory):
    """Small generated datasets: ``detection`` and ``classification`` roots.

    Always generated (a few seconds), whatever the checkout holds.
    """
    root = tmp_path_factory.mktemp('builtin_data')
    return dict(
        detection=make_detection_dataset(
            root / 'shapes_coco', num_train=40, num_val=16),
        classification=make_classification_dataset(
            root / 'shapes_cls', per_class_train=8, per_class_val=4))


@pytest.fixture(scope='session')
def coco_data_root(tmp_path_factory):
    """A COCO-layout root: ``train2017/``, ``val2017/``, ``annotations/``.

    ``../shared/data/coco_tiny`` when present, else a generated set with
    the same split sizes (80 + 80 images).
    """
    shared = shared_data_dir() / 'coco_tiny'
    if (shared / 'annotations' / 'instances_train2017.json').is_file():
        return shared
    root = tmp_path_factory.mktemp('coco_data')
    return make_detection_dataset(
        root / 'coco_shapes', num_train=80, num_val=80)


@pytest.fixture(scope='session')
def imagenet_data_root(tmp_path_factory):
    """An ImageNet-folder root: ``train/<class>/``, ``val/<class>/``.

    ``../shared/data/imagenette_sub`` when present, else a generated set
    with the same sizes (10 classes, 50 + 20 images per class).
    """
    shared = shared_data_dir() / 'imagenette_sub'
    if (shared / 'train').is_dir() and (shared / 'val').is_dir():
        return shared
    root = tmp_path_factory.mktemp('imagenet_data')
    return make_classification_dataset(
        root / 'imagenet_shapes', per_class_train=50, per_class_val=20)


@pytest.fixture
def tmp_work_dir(tmp_path):
    """An empty ``work_dir`` for a runner or a tool to write into."""
    work_dir = tmp_path / 'work_dir'
    work_dir.mkdir()
    return work_dir


@pytest.fixture
def one_thread():
    """One intra-op torch thread for the test, restored after it.

    Two cores shared by several jobs: one thread is many times faster than
    two competing ones for tiny convolutions.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope='session', autouse=True)
def cached_config_paths():
    """Resolve each config base path once per session.

    mmengine resolves every ``mmdet::``/``mmpretrain::`` base of a config
    by loading the package's whole model index (about 100 YAML files):
    0.25 s of the 0.27 s a shipped config takes to parse, paid hundreds of
    times by the suite. Which file a base name means cannot change while
    the tests run; the parsed configs are the same.
    """
    resolve = functools.lru_cache(maxsize=None)(Config._get_cfg_path)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Config, '_get_cfg_path', staticmethod(resolve))
        yield
