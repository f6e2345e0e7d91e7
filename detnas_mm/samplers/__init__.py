from .path_samplers import (BasePathSampler, FairPathSampler,
                            FlopsConstrainedPathSampler, UniformPathSampler,
                            build_path_sampler)

__all__ = [
    'BasePathSampler', 'FairPathSampler', 'FlopsConstrainedPathSampler',
    'UniformPathSampler', 'build_path_sampler'
]
