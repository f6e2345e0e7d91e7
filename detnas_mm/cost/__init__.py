from .constraint import FLOPS_MODES, ArchConstraint
from .latency import (LatencyTable, Timing, build_latency_table,
                      measure_backbones, time_interleaved)
from .lookup_table import (FLOPS_COUNTS, CostTable, check_flops_count,
                           flops_of, get_cost_table, params_of)

__all__ = [
    'FLOPS_COUNTS', 'FLOPS_MODES', 'ArchConstraint', 'CostTable',
    'check_flops_count', 'flops_of', 'get_cost_table', 'params_of',
    'LatencyTable', 'Timing', 'build_latency_table', 'measure_backbones',
    'time_interleaved'
]
