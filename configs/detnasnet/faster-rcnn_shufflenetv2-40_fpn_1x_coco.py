# ShuffleNetV2-40, the DetNAS paper's hand-crafted baseline of the 1.3G
# space (every block is choice 0), retrained with Faster R-CNN FPN on COCO
# (recipe: faster-rcnn_shufflenetv2-20_fpn_1x_coco.py). The FPN takes the
# 1.3G space's stage channels. ImageNet pretraining:
# shufflenetv2-40_8xb128-300k_in1k.py.
_base_ = './faster-rcnn_shufflenetv2-20_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        space='1.3G', arch='00000000|00000000|0000000000000000|00000000'),
    neck=dict(in_channels=[96, 240, 480, 960]))
