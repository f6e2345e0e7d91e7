# Stage 1 of DetNAS: pretrain the 300M supernet on ImageNet-1k, one path per
# iteration, with the published recipe (DetNAS Supernet-ImageNet/train.py):
# 8 GPUs x 128 images, 300k iterations, SGD momentum 0.9, lr 0.5 decayed
# linearly to 0, weight decay 4e-5 on conv/fc weights only (not on norm
# layers and biases), label smoothing 0.1, RandomResizedCrop 224,
# ColorJitter 0.4, horizontal flip.
#   bash tools/dist_train.sh configs/supernet/<this file> 8
#   mim train detnas_mm <this file> --launcher pytorch --gpus 8
# Data as mmpretrain's ImageNet expects: data/imagenet/{train,val}/ with
# meta/{train,val}.txt (see mmpretrain's ImageNet docs).
_base_ = [
    '../_base_/models/detnas-supernet_in1k.py',
    'mmpretrain::_base_/datasets/imagenet_bs32.py',
    'mmpretrain::_base_/schedules/imagenet_bs1024_linearlr_bn_nowd.py',
    'mmpretrain::_base_/default_runtime.py',
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

# Data: RandomResizedCrop 224, ColorJitter 0.4, flip; the base's test
# pipeline (short side 256, centre crop 224).
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224),
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=128, num_workers=8, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=128, num_workers=8)
test_dataloader = val_dataloader

# Schedule: the base has SGD lr 0.5, momentum 0.9, wd 4e-5, no decay on
# norm layers; biases are exempted too, as in the official get_parameters.
optim_wrapper = dict(
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.))
max_iters = 300000
param_scheduler = [
    # lr * (1 - iter / max_iters): linear to 0.
    dict(
        type='PolyLR',
        power=1.0,
        eta_min=0.,
        by_epoch=False,
        begin=0,
        end=max_iters)
]
train_cfg = dict(
    _delete_=True,
    type='IterBasedTrainLoop',
    max_iters=max_iters,
    val_interval=10000)
# Supernet validation: the published COCO FPN 300M path and 5 seeded random
# paths, each after recomputing BN statistics on 20 x 128 training images
# per GPU (20k images on 8 GPUs).
supernet_val = dict(
    fixed_arch='coco_fpn_300M',
    num_random_paths=5,
    seed=0,
    calib_batches=20)
val_cfg = dict(type='detnas_mm.SupernetValLoop', **supernet_val)
test_cfg = dict(type='detnas_mm.SupernetTestLoop', **supernet_val)

default_hooks = dict(
    # Validation metrics logged at their iteration, not "epoch 0".
    logger=dict(interval=20, log_metric_by_epoch=False),
    checkpoint=dict(by_epoch=False, interval=10000, max_keep_ckpts=3))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
