"""The search split must be held out: checks before any evaluation."""
import copy
import os
import os.path as osp
from typing import Optional

from mmengine.registry import DATASETS

from detnas_mm.datasets.search_split import check_search_split


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
