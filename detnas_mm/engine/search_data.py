"""Data of the search: the calibration set and the search-split checks."""
import copy
import os
import os.path as osp
from functools import partial
from typing import List, Optional, Tuple

import numpy as np
import torch
from mmengine import dist
from mmengine.registry import DATASETS, FUNCTIONS
from torch.utils.data import DataLoader

from detnas_mm.datasets.search_split import check_search_split


def build_calibration_loader(
        train_loader_cfg: dict, pipeline: Optional[list], num_images: int,
        batch_size: Optional[int], num_workers: Optional[int], seed: int,
        model: torch.nn.Module) -> Tuple[DataLoader, List[dict]]:
    """A fixed, seeded subset of the training images, batched once.

    The batches are the same for any number of ranks; rank r takes
    batches r, r + world_size, ... With per-process BN (CPU) every
    batch's statistics are then those of a single-process run, so the
    recalibrated statistics do not depend on the world size.

    Args:
        train_loader_cfg: The config's ``train_dataloader``.
        pipeline: Pipeline to load the images with (the search split's:
            deterministic), or None to keep the training one.
        num_images: Images to draw (all if the set is smaller).
        batch_size: Images per batch (default: the train loader's).
        num_workers: Loader workers (default: the train loader's).
        seed: Seed of the draw.
        model: The model (to refuse uneven batches with SyncBN).

    Returns:
        tuple: This rank's loader, and the drawn images (dataset index,
        image id and path).
    """
    cfg = copy.deepcopy(train_loader_cfg)
    dataset_cfg = cfg['dataset']
    if pipeline is not None:
        _set_pipeline(dataset_cfg, pipeline)
    dataset = DATASETS.build(dataset_cfg) if isinstance(
        dataset_cfg, dict) else dataset_cfg
    rng = np.random.default_rng(seed)
    count = min(num_images, len(dataset))
    indices = sorted(int(i) for i in rng.permutation(len(dataset))[:count])
    batch_size = batch_size or cfg.get('batch_size', 1)
    batches = [indices[i:i + batch_size]
               for i in range(0, len(indices), batch_size)]
    rank, world_size = dist.get_rank(), dist.get_world_size()
    if world_size > 1 and len(batches) % world_size:
        has_sync_bn = any(isinstance(m, torch.nn.SyncBatchNorm)
                          for m in model.modules())
        if has_sync_bn:
            # Every SyncBN forward is a collective: ranks must run the
            # same number of batches.
            raise ValueError(
                f'{len(batches)} calibration batches cannot be shared '
                f'evenly by {world_size} ranks with SyncBN: make '
                f'num_calibration_images a multiple of world_size x '
                f'calibration_batch_size ({world_size * batch_size})')
    if num_workers is None:
        num_workers = cfg.get('num_workers', 0)
    collate_cfg = copy.deepcopy(
        cfg.get('collate_fn', dict(type='pseudo_collate')))
    collate_fn = FUNCTIONS.get(collate_cfg.pop('type'))
    loader = DataLoader(
        dataset,
        batch_sampler=batches[rank::world_size],
        num_workers=num_workers,
        persistent_workers=num_workers > 0,
        collate_fn=partial(collate_fn, **collate_cfg))
    images = []
    for i in indices:
        info = dataset.get_data_info(i)
        images.append(dict(index=i, img_id=info.get('img_id'),
                           img_path=info.get('img_path')))
    return loader, images


def refuse_bad_search_split(search_cfg: dict, train_cfg: dict,
                            test_loader_cfg: Optional[dict],
                            search_dataset, train_dataset) -> None:
    """Refuse a search split that overlaps training or is the test.

    Annotation files (COCO json, VOC or mmpretrain txt lists) are checked
    with :func:`check_search_split`; other datasets (folder layouts,
    wrapped datasets) are compared by their image files.

    Raises:
        ValueError: Naming what is shared.
    """
    test_cfg = test_loader_cfg['dataset'] if test_loader_cfg else None
    search_ann = _ann_file(search_cfg)
    train_ann = _ann_file(train_cfg)
    test_ann = _ann_file(test_cfg) if test_cfg else None
    if search_ann and train_ann and (test_ann or test_cfg is None):
        check_search_split(search_ann, train_ann, test_ann)
        return
    # Folder datasets, wrapped datasets: compare the image files.
    search = _image_paths(search_dataset)
    others = [('training set', train_dataset)]
    if test_cfg is not None:
        test_cfg = copy.deepcopy(test_cfg)
        _set_pipeline(test_cfg, [])
        others.append(('test split', DATASETS.build(test_cfg)))
    for role, dataset in others:
        other = _image_paths(dataset)
        shared = sorted(search & other)
        if shared:
            what = ('is the test split' if role == 'test split'
                    and search == other else
                    f'shares {len(shared)} of its {len(search)} images '
                    f'with the {role}')
            raise ValueError(
                f'The search split {what} (first: {shared[:3]}): '
                f'search on images held out of the training set, e.g. '
                f'made by tools/dataset/split_search_set.py, never on '
                f'the test split')


def dataset_pipeline(dataset_cfg) -> Optional[list]:
    """The pipeline of a dataset config (looking inside wrappers)."""
    if 'pipeline' in dataset_cfg:
        return copy.deepcopy(dataset_cfg['pipeline'])
    if 'dataset' in dataset_cfg:
        return dataset_pipeline(dataset_cfg['dataset'])
    if 'datasets' in dataset_cfg:
        return dataset_pipeline(dataset_cfg['datasets'][0])
    return None


def _set_pipeline(dataset_cfg, pipeline):
    """Give a dataset config (and every dataset it wraps) ``pipeline``."""
    if 'dataset' in dataset_cfg:
        _set_pipeline(dataset_cfg['dataset'], pipeline)
    elif 'datasets' in dataset_cfg:
        for sub in dataset_cfg['datasets']:
            _set_pipeline(sub, pipeline)
    else:
        dataset_cfg['pipeline'] = copy.deepcopy(pipeline)


def _ann_file(dataset_cfg) -> Optional[str]:
    """The annotation file of a plain (unwrapped) dataset config, if any."""
    if dataset_cfg is None or 'ann_file' not in dataset_cfg:
        return None
    ann = dataset_cfg['ann_file']
    if not ann or not str(ann).endswith(('.json', '.txt')):
        return None
    root = dataset_cfg.get('data_root') or ''
    path = ann if osp.isabs(ann) else osp.join(root, ann)
    return path if osp.isfile(path) else None


def _image_paths(dataset) -> set:
    paths = set()
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        paths.add(os.path.realpath(info['img_path']))
    return paths
