# CPU size of stage 1: the real 300M supernet (20 blocks, published channel
# widths) pretrained on ../shared/data/imagenette_sub (10 ImageNet classes,
# 500 train / 200 val photos) at 64 px, batch 32, 600 iterations. The
# recipe of the full-scale config (SGD, lr linear to 0, no decay on norms
# and biases, label smoothing, ColorJitter, flip, the official FLOPs-binned
# path sampler, whose bins stay those of 224 px) with lr and crops adapted
# to this size (the two CPU bases). At this size uniform paths leave the
# supernet only a little above chance: docs/pretraining.md measures why,
# and detnas-supernet-5blocks_1xb32-2400iter_imagenette-64px.py (same
# widths, 5 blocks) shows the stage learn on CPU. On a shared machine, run
# it with OMP_NUM_THREADS=1 (oversubscribed torch threads run much slower).
#   python tools/train.py configs/supernet/<this file>
# Other data and length: see the dataset and schedule bases.
_base_ = [
    '../_base_/models/detnas-supernet_in1k.py',
    '../_base_/datasets/imagenette-sub_64px.py',
    '../_base_/schedules/schedule_detnas-poly-600iter-cpu.py',
    '../_base_/supernet_training.py',
]

# mmengine's Kaiming init instead of the official DetNASInit (the
# full-scale default): at this size it ends 1.7 points higher in mean top-1
# over random paths, in each of 3 seeds (docs/pretraining.md,
# "Initialisation").
model = dict(
    backbone=dict(init_cfg=[
        dict(type='Kaiming', layer='Conv2d'),
        dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])
    ]),
    head=dict(num_classes=10, topk=(1, )))

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
    dict(type='detnas_mm.IterationSeedHook'),
]

# 10 batches of 32 training images (320) to recalibrate BN for each path.
supernet_val = dict(
    fixed_arch='coco_fpn_300M', num_random_paths=5, seed=0, calib_batches=10)
val_cfg = dict(type='detnas_mm.SupernetValLoop', **supernet_val)
test_cfg = dict(type='detnas_mm.SupernetTestLoop', **supernet_val)
