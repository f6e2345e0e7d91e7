# CPU size of stage 1: the real 300M supernet (20 blocks, published channel
# widths) pretrained on ../shared/data/imagenette_sub (10 ImageNet classes,
# 500 train / 200 val photos) at 64 px, batch 32, 600 iterations. The full
# recipe otherwise (SGD, lr linear to 0, no decay on norms and biases, label
# smoothing, ColorJitter, flip, the official FLOPs-binned path sampler),
# with lr and crops adapted to this size (below). At this size uniform
# paths leave the supernet only a little above chance (13-15 % top-1 on
# 10 classes; one path alone reaches 38 %): docs/pretraining.md measures
# why; detnas-supernet-5blocks_1xb32-2400iter_imagenette-64px.py (same
# widths, 5 blocks) shows the stage learn on CPU. On a shared machine, run
# it with OMP_NUM_THREADS=1 (oversubscribed torch threads run ~10x slower).
#   python tools/train.py configs/supernet/<this file>
# Other data (ImageNet folder layout: <root>/train/<class>/, val/<class>/;
# classes are read from the folders, set model.head.num_classes to match):
#   --cfg-options train_dataloader.dataset.data_root=<root> \
#                 val_dataloader.dataset.data_root=<root>
# Other schedule length (keep the two equal: lr reaches 0 at `end`):
#   --cfg-options train_cfg.max_iters=<n> param_scheduler.0.end=<n>
_base_ = './detnas-supernet-300M_8xb128-300k_in1k.py'

data_root = '../shared/data/imagenette_sub'
img_size = 64
model = dict(head=dict(num_classes=10, topk=(1, )))
data_preprocessor = dict(num_classes=10)

train_pipeline = [
    # About 2% of the photos are grayscale: decode every one as 3 channels.
    dict(type='LoadImageFromFile', color_type='color'),
    # Crops of at least a quarter of the photo (0.08 at full size): 500
    # images and a few hundred steps leave no room for harder crops.
    dict(
        type='RandomResizedCrop',
        scale=img_size,
        crop_ratio_range=(0.25, 1.)),
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', color_type='color'),
    # 256/224 of the crop, as at full size.
    dict(type='ResizeEdge', scale=img_size * 8 // 7, edge='short'),
    dict(type='CenterCrop', crop_size=img_size),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    persistent_workers=False,
    # An endless sampler: mmengine's iteration loop sleeps 2 s at every end
    # of the sampler's epoch (16 iterations here), which took 45 % of the
    # wall time of a 2400-iteration run (measured).
    sampler=dict(_delete_=True, type='InfiniteSampler', shuffle=True),
    dataset=dict(
        _delete_=True,
        type='CustomDataset',
        data_root=data_root,
        data_prefix='train',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=50,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        _delete_=True,
        type='CustomDataset',
        data_root=data_root,
        data_prefix='val',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator

# Batch 32 and 10 classes: lr 0.05, and a tenth of it for the classifier,
# whose per-class gradients over few classes are large enough to make the
# logits oscillate at the backbone's lr (checked: the loss rises instead).
optim_wrapper = dict(
    optimizer=dict(lr=0.05),
    paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=0.1)}))
max_iters = 600
param_scheduler = [
    dict(
        type='PolyLR',
        power=1.0,
        eta_min=0.,
        by_epoch=False,
        begin=0,
        end=max_iters)
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
# 10 batches of 32 training images (320) to recalibrate BN for each path.
supernet_val = dict(
    fixed_arch='coco_fpn_300M',
    num_random_paths=5,
    seed=0,
    calib_batches=10)
val_cfg = dict(type='detnas_mm.SupernetValLoop', **supernet_val)
test_cfg = dict(type='detnas_mm.SupernetTestLoop', **supernet_val)

default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
# The FLOPs bins stay those of the full recipe (counted at 224 px).
