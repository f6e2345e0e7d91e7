from .search_split import (check_search_split, split_coco, split_voc,
                           verify_manifest)
from .synthetic import (CLASSIFICATION_CLASSES, DETECTION_CLASSES,
                        default_data_root, ensure_builtin_data,
                        make_classification_dataset, make_detection_dataset,
                        random_detection_batch)

__all__ = [
    'CLASSIFICATION_CLASSES', 'DETECTION_CLASSES', 'check_search_split',
    'default_data_root', 'ensure_builtin_data', 'make_classification_dataset',
    'make_detection_dataset', 'random_detection_batch', 'split_coco',
    'split_voc', 'verify_manifest'
]
