# Stage 2 of DetNAS with RetinaNet: fine-tune the ImageNet-pretrained 300M
# supernet on COCO, one sampled path per iteration, SyncBN in the backbone
# only (none in FPN and head, as the official RetinaNet), lr 0.01 (the
# official RetinaNet yaml); otherwise the Faster R-CNN schedule (90k
# iterations, steps at 60k/80k).
_base_ = [
    '../_base_/models/retinanet_detnas_fpn.py',
    '../_base_/datasets/coco_detection_detnas-split.py',
    '../_base_/schedules/schedule_detnas-90k.py',
    '../_base_/supernet_training.py',
]

# Supernet checkpoint of the ImageNet pretraining stage; override with
# --cfg-options model.backbone.init_cfg.checkpoint=<path>
pretrained = 'checkpoints/detnas-supernet-300M_in1k.pth'
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')))

optim_wrapper = dict(optimizer=dict(lr=0.01))
