from .iteration_seed_hook import IterationSeedHook
from .path_sampler_hook import PathSamplerHook

__all__ = ['IterationSeedHook', 'PathSamplerHook']
