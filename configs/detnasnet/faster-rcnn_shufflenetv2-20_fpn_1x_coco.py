# ShuffleNetV2-20, the DetNAS paper's hand-crafted baseline of the 300M space
# (every block is choice 0: a ShuffleNetV2 block with a 3x3 depthwise conv),
# retrained with Faster R-CNN FPN on COCO as in the paper: 16 images per
# batch (8 GPUs x 2), lr 0.02, 90k iterations with steps at 60k and 80k,
# SyncBN in the backbone, the FPN and the 4conv1fc box head.
#
# This is the retraining recipe of every Faster R-CNN COCO config here:
# the DetNASNet configs inherit it and change the architecture, and
# `tools/export_arch.py --base faster-rcnn_coco` exports onto it. The
# backbone starts from the classifier pretrained with
# shufflenetv2-20_16xb64_in1k.py (no weights are published with this
# repository): add to the backbone
#   init_cfg=dict(type='Pretrained', prefix='backbone.', checkpoint=CKPT)
_base_ = [
    '../_base_/models/faster-rcnn_detnas_fpn.py',
    'mmdet::_base_/datasets/coco_detection.py',
    'mmdet::_base_/default_runtime.py'
]

model = dict(
    backbone=dict(
        type='detnas_mm.DetNASNet', space='300M',
        arch='0000|0000|00000000|0000'))

max_iters = 90000
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=10000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
        end=500),
    dict(
        type='MultiStepLR', begin=0, end=max_iters, by_epoch=False,
        milestones=[60000, 80000], gamma=0.1)
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=0.0001))
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=10000))
log_processor = dict(by_epoch=False)
# The lr above is for 16 images per batch (`--auto-scale-lr` rescales it).
auto_scale_lr = dict(enable=False, base_batch_size=16)
