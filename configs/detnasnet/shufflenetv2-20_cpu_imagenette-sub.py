# CPU size: ShuffleNetV2-20 (300M space, every block choice 0) in its
# ImageNet form trained on ../shared/data/imagenette_sub (10 ImageNet
# classes, 50 + 20 images each) at 64 px, 16 images per batch, 100
# iterations. The ImageNet recipe of `tools/export_arch.py --base
# faster-rcnn_coco-tiny`.
_base_ = './shufflenetv2-20_16xb64_in1k.py'

data_root = '../shared/data/imagenette_sub/'
num_classes = 10
data_preprocessor = dict(num_classes=num_classes)
model = dict(head=dict(num_classes=num_classes))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=64),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=73, edge='short'),
    dict(type='CenterCrop', crop_size=64),
    dict(type='PackInputs')
]
train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        _delete_=True,
        type='CustomDataset',
        data_root=data_root,
        data_prefix='train',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        _delete_=True,
        type='CustomDataset',
        data_root=data_root,
        data_prefix='val',
        pipeline=test_pipeline))
test_dataloader = val_dataloader

max_iters = 100
train_cfg = dict(
    _delete_=True, type='IterBasedTrainLoop', max_iters=max_iters,
    val_interval=max_iters)
optim_wrapper = dict(optimizer=dict(lr=0.05))
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
        end=10),
    dict(type='PolyLR', eta_min=0, by_epoch=False, begin=10, end=max_iters)
]
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(by_epoch=False, interval=max_iters, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
auto_scale_lr = dict(base_batch_size=16)
