"""COCO-format data in configs: class names, and pointing a config at it.

The CPU-size configs, the exporter and the pipeline all retarget detection
configs at COCO-format folders; these are the one reader of class names
and the one way to point a dataloader (and its evaluator) at a split.
"""
import json
import os.path as osp
from typing import Optional, Tuple


def coco_class_names(ann_file: str) -> Tuple[str, ...]:
    """Category names of a COCO instances file, in the file's order.

    mmdet's ``CocoDataset`` numbers labels by the order in which pycocotools
    lists the categories whose names are in ``metainfo['classes']``, which
    is the file's order; names in the same order keep label ``i`` named
    ``classes[i]`` whatever the category ids are (gaps, not starting at 1).

    Raises:
        ValueError: If the file has no categories or repeats a name.
    """
    with open(ann_file, encoding='utf-8') as f:
        categories = json.load(f).get('categories') or []
    names = tuple(c['name'] for c in categories)
    if not names:
        raise ValueError(f'{ann_file} has no categories')
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f'{ann_file} names several categories {repeated}: '
                         f'mmdet tells classes apart by name')
    return names


def set_num_classes(model_cfg: dict, num_classes: int) -> None:
    """Set ``num_classes`` of every detection head of a model config."""
    heads = [model_cfg.get('bbox_head'),
             (model_cfg.get('roi_head') or {}).get('bbox_head')]
    for head in heads:
        if head is not None:
            head['num_classes'] = num_classes


def innermost_dataset(dataset_cfg: dict) -> dict:
    """The dataset config inside RepeatDataset-style wrappers."""
    while 'dataset' in dataset_cfg:
        dataset_cfg = dataset_cfg['dataset']
    return dataset_cfg


def point_at_coco(cfg, loader: str, ann_file: str, img_dir: str,
                  classes: Tuple[str, ...],
                  evaluator: Optional[str] = None) -> None:
    """Point one dataloader (and its evaluator) at a COCO-format split.

    Paths are written absolute, so the config runs from any folder.

    Args:
        cfg: A detection config (``Config`` or dict).
        loader: ``'train_dataloader'``, ``'val_dataloader'`` or
            ``'test_dataloader'``.
        ann_file: The split's COCO instances file.
        img_dir: Folder of its images.
        classes: Class names (see :func:`coco_class_names`).
        evaluator: Name of the evaluator to point at ``ann_file`` too.
    """
    dataset = innermost_dataset(cfg[loader]['dataset'])
    if str(dataset.get('type', 'CocoDataset')).split('.')[-1] != \
            'CocoDataset':
        raise ValueError(f'{loader} has a {dataset.get("type")!r} dataset; '
                         f'only CocoDataset can be pointed at a COCO '
                         f'folder')
    dataset.update(data_root='', ann_file=osp.abspath(ann_file),
                   data_prefix=dict(img=osp.join(osp.abspath(img_dir), '')),
                   metainfo=dict(classes=tuple(classes)))
    if evaluator is not None:
        cfg[evaluator]['ann_file'] = osp.abspath(ann_file)


def set_coco_data_root(cfg, data_root: str) -> None:
    """Point a COCO detection config's three splits at another folder.

    The splits keep their annotation files and image folders relative to
    the new root (``annotations/instances_train2017.json``,
    ``train2017/``, ...); class names and the heads' ``num_classes`` come
    from the training annotations.

    Args:
        cfg: A detection config with ``CocoDataset`` datasets.
        data_root: Folder with ``annotations/``, ``train2017/``, ...
    """
    data_root = osp.abspath(data_root)
    splits = {}
    for split in ('train', 'val', 'test'):
        dataset = innermost_dataset(cfg[f'{split}_dataloader']['dataset'])
        prefix = (dataset.get('data_prefix') or {}).get('img', '')
        splits[split] = (osp.join(data_root, dataset['ann_file']),
                         osp.join(data_root, prefix))
    train_ann = splits['train'][0]
    if not osp.isfile(train_ann):
        raise FileNotFoundError(f'No training annotations at {train_ann}')
    classes = coco_class_names(train_ann)
    for split, (ann_file, img_dir) in splits.items():
        evaluator = f'{split}_evaluator'
        has_ann = isinstance(cfg.get(evaluator), dict) and \
            'ann_file' in cfg[evaluator]
        point_at_coco(cfg, f'{split}_dataloader', ann_file, img_dir, classes,
                      evaluator if has_ann else None)
    # Keep the top-level variable honest for readers of the dump.
    cfg['data_root'] = osp.join(data_root, '')
    set_num_classes(cfg['model'], len(classes))
