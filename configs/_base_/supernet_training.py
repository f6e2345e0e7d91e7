# What every supernet training config adds to its model, data and schedule
# (ImageNet pretraining and detection fine-tuning alike): one sampled path
# per iteration, and a DDP wrapper that accepts it.
#
# PathSamplerHook draws the path on rank 0 and broadcasts it, so every GPU
# trains the same path; the pretraining configs replace the sampler.
custom_hooks = [
    dict(
        type='detnas_mm.PathSamplerHook',
        sampler=dict(type='detnas_mm.UniformPathSampler', seed=0))
]
# A step trains one path, so the other choice ops get no gradient: without
# find_unused_parameters torch DDP waits for their gradients and fails at
# the second iteration. With it, DDP marks them ready after each backward
# (one autograd-graph traversal per step).
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', find_unused_parameters=True)
