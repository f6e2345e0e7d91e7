# ShuffleNetV2-20 (300M space, every block choice 0) in its ImageNet form
# (stem, stages, 1x1 conv to 1024 channels, global pooling, dropout 0.2,
# linear classifier), trained as the official code retrains a searched net
# (ShuffleNet-Series DetNAS/train.py), which is the supernet's recipe: the
# model, data and schedule bases of
# configs/supernet/detnas-supernet-300M_8xb128-300k_in1k.py with a
# standalone net. 8 GPUs x 128 images, 300k iterations, SGD momentum 0.9,
# lr 0.5 linearly to 0 with no warm-up, weight decay 4e-5 on conv/fc
# weights only, label smoothing 0.1, RandomResizedCrop 224 + ColorJitter
# 0.4 + flip. Its checkpoint initialises the detection backbone
# (`init_cfg=dict(type='Pretrained', prefix='backbone.', checkpoint=...)`),
# which drops `conv_last` on loading.
#
# The ImageNet recipe of every exported architecture
# (`tools/export_arch.py`); the DetNASNet ImageNet configs inherit it.
# Every parameter is used at every step, so DDP keeps mmengine's default
# find_unused_parameters=False (no graph traversal per step, and a loud
# error if a parameter ever goes unused).
_base_ = [
    '../_base_/models/detnasnet_in1k.py',
    '../_base_/datasets/imagenet_bs128_detnas.py',
    '../_base_/schedules/schedule_detnas-poly-300k.py',
]

# Dropout masks as a function of the iteration: --resume is bit-exact.
custom_hooks = [dict(type='detnas_mm.IterationSeedHook')]
