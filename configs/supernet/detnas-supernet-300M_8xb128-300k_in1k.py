# Stage 1 of DetNAS: pretrain the 300M supernet on ImageNet-1k, one path per
# iteration, with the published recipe (DetNAS Supernet-ImageNet/train.py):
# 8 GPUs x 128 images, 300k iterations, SGD momentum 0.9, lr 0.5 decayed
# linearly to 0, weight decay 4e-5 on conv/fc weights only (not on norm
# layers and biases), label smoothing 0.1, RandomResizedCrop 224,
# ColorJitter 0.4, horizontal flip. A standalone DetNASNet is retrained on
# ImageNet with the same bases (configs/detnasnet/*_8xb128-300k_in1k.py).
#   bash tools/dist_train.sh configs/supernet/<this file> 8
#   mim train detnas_mm <this file> --launcher pytorch --gpus 8
_base_ = [
    '../_base_/models/detnas-supernet_in1k.py',
    '../_base_/datasets/imagenet_bs128_detnas.py',
    '../_base_/schedules/schedule_detnas-poly-300k.py',
    '../_base_/supernet_training.py',
]

# The official sampler: a FLOPs bin uniformly in [290M, 360M] (7 bins of
# 10M, FLOPs of the whole classifier at 224 px), then a uniform path in it.
custom_hooks = [
    dict(
        type='detnas_mm.PathSamplerHook',
        sampler=dict(
            type='detnas_mm.FlopsConstrainedPathSampler',
            min_flops=290e6,
            max_flops=360e6,
            num_bins=7,
            imagenet_head=True,
            seed=0)),
    # Dropout masks as a function of the iteration: --resume is bit-exact.
    dict(type='detnas_mm.IterationSeedHook'),
]

# Supernet validation: the published COCO FPN 300M path and 5 seeded random
# paths, each after recomputing BN statistics on 20 x 128 training images
# per GPU (20k images on 8 GPUs).
supernet_val = dict(
    fixed_arch='coco_fpn_300M', num_random_paths=5, seed=0, calib_batches=20)
val_cfg = dict(type='detnas_mm.SupernetValLoop', **supernet_val)
test_cfg = dict(type='detnas_mm.SupernetTestLoop', **supernet_val)
