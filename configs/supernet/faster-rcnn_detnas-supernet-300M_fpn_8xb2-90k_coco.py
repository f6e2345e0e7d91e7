# Stage 2 of DetNAS: fine-tune the ImageNet-pretrained 300M supernet on COCO
# with Faster R-CNN + FPN, one uniformly sampled path per iteration (the
# same on every GPU), SyncBN in backbone, FPN and box head.
#   bash tools/dist_train.sh configs/supernet/<this file> 8 \
#       --cfg-options model.backbone.init_cfg.checkpoint=<pretrained.pth>
# Needs the search split (see coco_detection_detnas-split.py) and the
# supernet checkpoint of the ImageNet pretraining stage.
_base_ = [
    '../_base_/models/faster-rcnn_detnas_fpn.py',
    '../_base_/datasets/coco_detection_detnas-split.py',
    '../_base_/schedules/schedule_detnas-90k.py',
    '../_base_/supernet_training.py',
]

# The checkpoint of the ImageNet supernet pretraining stage (an mmpretrain
# ImageClassifier: its `backbone.*` keys load here; the classifier head and
# the backbone's last 1x1 conv are left out). Override on the command line:
# --cfg-options model.backbone.init_cfg.checkpoint=<path>
pretrained = 'checkpoints/detnas-supernet-300M_in1k.pth'
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')))
