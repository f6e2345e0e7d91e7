# CPU size: ShuffleNetV2-20 (300M space, every block choice 0) retrained
# with Faster R-CNN FPN on ../shared/data/coco_tiny (80 + 80 real COCO
# photos) at 128 px, 2 images per batch, 200 iterations. The detector is
# the CPU-size one of the supernet fine-tuning and search configs
# (faster-rcnn_detnas_tiny-fpn.py: 64-channel FPN and heads, fewer
# proposals and RoIs) but for the backbone, the full ShuffleNetV2-20 /
# DetNASNet. BN momentum stays 0.1 at this size (0.01 at full scale): 0.01
# averages over about the last 100 steps, half of this run.
#
# The retraining recipe of `tools/export_arch.py --base
# faster-rcnn_coco-tiny` (tests and the CPU pipeline). Point it elsewhere
# with `--data-root` of the exporter (any COCO-format folder).
_base_ = [
    '../_base_/models/faster-rcnn_detnas_tiny-fpn.py',
    '../_base_/datasets/coco-tiny_detection_128px.py',
    '../_base_/schedules/schedule_detnas-90k.py'
]

model = dict(
    backbone=dict(type='detnas_mm.DetNASNet', arch='0000|0000|00000000|0000'))

max_iters = 200
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(_base_.param_scheduler[0], end=50),
    dict(_base_.param_scheduler[1], end=max_iters, milestones=[150])
]
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
auto_scale_lr = dict(base_batch_size=2)
