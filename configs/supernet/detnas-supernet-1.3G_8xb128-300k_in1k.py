# Stage 1 of DetNAS on the 1.3G space (40 blocks): the 300M recipe with the
# 1.3G supernet. The official code draws 1.3G paths uniformly (its FLOPs
# bins are those of the 300M space, which no 1.3G path reaches, so every
# draw falls back to a uniform path); so does this config.
_base_ = './detnas-supernet-300M_8xb128-300k_in1k.py'

model = dict(backbone=dict(space='1.3G'), head=dict(in_channels=1024))

custom_hooks = [
    dict(
        type='detnas_mm.PathSamplerHook',
        sampler=dict(type='detnas_mm.UniformPathSampler', seed=0)),
    dict(type='detnas_mm.IterationSeedHook'),
]

# Validation on the published 1.3G DetNASNet path (and the base's random
# paths).
supernet_val = dict(fixed_arch='detnasnet_1.3G')
val_cfg = dict(**supernet_val)
test_cfg = dict(**supernet_val)
