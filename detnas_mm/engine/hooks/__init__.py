from .path_sampler_hook import PathSamplerHook, find_supernet

__all__ = ['PathSamplerHook', 'find_supernet']
