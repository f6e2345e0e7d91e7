# CPU-size ImageNet data: ../shared/data/imagenette_sub (10 ImageNet
# classes, 500 train / 200 val photos, ImageNet folder layout) at 64 px,
# 32 images per batch, loaded in the main process. The DetNAS augmentation
# (RandomResizedCrop, ColorJitter 0.4, flip) with crops of at least a
# quarter of the photo (0.08 at full size): 500 images and a few hundred
# steps leave no room for harder crops.
#
# Other data (ImageNet folder layout: <root>/train/<class>/, val/<class>/;
# classes are read from the folders, set model.head.num_classes and
# data_preprocessor.num_classes to match):
#   --cfg-options train_dataloader.dataset.data_root=<root> \
#                 val_dataloader.dataset.data_root=<root>
_base_ = './imagenet_bs128_detnas.py'

data_root = '../shared/data/imagenette_sub'
img_size = 64
data_preprocessor = dict(num_classes=10)

train_pipeline = [
    # About 2% of the photos are grayscale: decode every one as 3 channels.
    dict(type='LoadImageFromFile', color_type='color'),
    dict(
        type='RandomResizedCrop', scale=img_size, crop_ratio_range=(0.25, 1.)),
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
    # An endless sampler: mmengine's iteration loop pauses at every end of
    # a finite sampler's epoch, which with 500 images is every 16
    # iterations (docs/pretraining.md).
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
