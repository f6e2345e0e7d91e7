from .evolution_search_loop import EvolutionSearchLoop
from .supernet_val_loop import SupernetTestLoop, SupernetValLoop

__all__ = ['EvolutionSearchLoop', 'SupernetTestLoop', 'SupernetValLoop']
