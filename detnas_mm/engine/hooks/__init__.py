from .iteration_seed_hook import IterationSeedHook
from .path_sampler_hook import PathSamplerHook, find_supernet

__all__ = ['IterationSeedHook', 'PathSamplerHook', 'find_supernet']
