# Stage 2 of DetNAS with RetinaNet: fine-tune the ImageNet-pretrained 300M
# supernet on COCO, one sampled path per iteration, SyncBN in backbone, FPN
# and head; lr 0.01 as RetinaNet's usual recipe, otherwise the Faster R-CNN
# schedule (90k iterations, steps at 60k/80k).
_base_ = [
    '../_base_/models/retinanet_detnas_fpn.py',
    '../_base_/datasets/coco_detection_detnas-split.py',
    '../_base_/schedules/schedule_detnas-90k.py'
]

# Supernet checkpoint of the ImageNet pretraining stage; override with
# --cfg-options model.backbone.init_cfg.checkpoint=<path>
pretrained = 'checkpoints/detnas-supernet-300M_in1k.pth'
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')))

optim_wrapper = dict(optimizer=dict(lr=0.01))

custom_hooks = [
    dict(
        type='detnas_mm.PathSamplerHook',
        sampler=dict(type='detnas_mm.UniformPathSampler', seed=0))
]
# One path per step leaves the other choice ops without gradients.
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', find_unused_parameters=True)
