# ShuffleNetV2-20 (300M space, every block choice 0) retrained with
# RetinaNet FPN on PASCAL VOC 07+12 trainval, tested on VOC2007 test, as in
# the DetNAS paper: 16 images per batch, lr 0.01, 22.5k iterations with
# steps at 15k and 20k, SyncBN in the backbone, the FPN and the head.
#
# The retraining recipe of every RetinaNet VOC config here
# (`tools/export_arch.py --base retinanet_voc`). Initialise the backbone
# from shufflenetv2-20_16xb64_in1k.py's classifier with
#   init_cfg=dict(type='Pretrained', prefix='backbone.', checkpoint=CKPT)
_base_ = [
    '../_base_/models/retinanet_detnas_fpn.py',
    'mmdet::_base_/datasets/voc0712.py', 'mmdet::_base_/default_runtime.py'
]

model = dict(
    backbone=dict(
        type='detnas_mm.DetNASNet', space='300M',
        arch='0000|0000|00000000|0000'),
    bbox_head=dict(num_classes=20))

max_iters = 22500
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=7500)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
        end=500),
    dict(
        type='MultiStepLR', begin=0, end=max_iters, by_epoch=False,
        milestones=[15000, 20000], gamma=0.1)
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001))
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=7500))
log_processor = dict(by_epoch=False)
auto_scale_lr = dict(enable=False, base_batch_size=16)
