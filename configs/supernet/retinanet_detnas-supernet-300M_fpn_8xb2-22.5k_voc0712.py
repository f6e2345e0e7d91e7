# Stage 2 of DetNAS on VOC 07+12 with RetinaNet: 20 classes, the VOC search
# split, 22.5k iterations (steps 15k/20k), lr 0.01.
_base_ = [
    '../_base_/models/retinanet_detnas_fpn.py',
    '../_base_/datasets/voc0712_detnas-split.py',
    '../_base_/schedules/schedule_detnas-22.5k.py',
    '../_base_/supernet_training.py',
]

# Supernet checkpoint of the ImageNet pretraining stage; override with
# --cfg-options model.backbone.init_cfg.checkpoint=<path>
pretrained = 'checkpoints/detnas-supernet-300M_in1k.pth'
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    bbox_head=dict(num_classes=20))

optim_wrapper = dict(optimizer=dict(lr=0.01))
