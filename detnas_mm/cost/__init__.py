from .constraint import FLOPS_MODES, ArchConstraint
from .lookup_table import (FLOPS_COUNTS, CostTable, check_flops_count,
                           flops_of, get_cost_table, params_of)

__all__ = [
    'FLOPS_COUNTS', 'FLOPS_MODES', 'ArchConstraint', 'CostTable',
    'check_flops_count', 'flops_of', 'get_cost_table', 'params_of'
]
