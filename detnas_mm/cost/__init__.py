from .lookup_table import CostTable, flops_of, get_cost_table, params_of

__all__ = ['CostTable', 'flops_of', 'get_cost_table', 'params_of']
