from .data_checks import (CHECKS, DataCheckError, DataCheckReport, DataStats,
                          DetectionSplit, Finding, check_detection_data,
                          detection_data_stats)
from .halo import (HALO_CLASSES, ensure_halo_data, is_halo_data,
                   make_halo_classification_dataset,
                   make_halo_detection_dataset)
from .search_split import (check_search_split, split_coco, split_voc,
                           verify_manifest)
from .synthetic import (CLASSIFICATION_CLASSES, DETECTION_CLASSES,
                        default_data_root, ensure_shapes_data,
                        make_classification_dataset, make_detection_dataset,
                        random_detection_batch)
from .voc import (coco_to_voc, read_voc_annotation, read_voc_list,
                  voc_class_names, voc_sub_root)

__all__ = [
    'CHECKS', 'CLASSIFICATION_CLASSES', 'DETECTION_CLASSES', 'DataCheckError',
    'DataCheckReport', 'DataStats', 'DetectionSplit', 'Finding',
    'HALO_CLASSES', 'ensure_halo_data', 'is_halo_data',
    'make_halo_classification_dataset', 'make_halo_detection_dataset',
    'check_detection_data', 'check_search_split', 'coco_to_voc',
    'default_data_root', 'detection_data_stats', 'ensure_shapes_data',
    'make_classification_dataset', 'make_detection_dataset',
    'random_detection_batch', 'read_voc_annotation', 'read_voc_list',
    'split_coco', 'split_voc', 'verify_manifest', 'voc_class_names',
    'voc_sub_root'
]
