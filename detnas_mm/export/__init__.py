from .configs import (RETRAIN_BASES, RetrainBase, arch_tag,
                      build_export_config, export_detection_config,
                      export_imagenet_config, export_names,
                      export_search_result, get_retrain_base,
                      read_arch_from_config)
from .search_result import (BEST_ARCH_FILE, PARETO_JSON, PARETO_PNG,
                            PARETO_TABLE, read_pareto_member,
                            read_search_result, write_pareto_result,
                            write_search_result)

__all__ = [
    'BEST_ARCH_FILE', 'RETRAIN_BASES', 'RetrainBase', 'arch_tag',
    'build_export_config', 'export_detection_config',
    'export_imagenet_config', 'export_names', 'export_search_result',
    'get_retrain_base', 'read_arch_from_config', 'read_search_result',
    'write_search_result', 'PARETO_JSON', 'PARETO_PNG', 'PARETO_TABLE',
    'read_pareto_member', 'write_pareto_result'
]
