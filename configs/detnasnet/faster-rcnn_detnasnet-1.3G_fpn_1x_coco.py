# DetNASNet (1.3G) searched on COCO with Faster R-CNN FPN (DetNAS paper;
# detnas_mm.published_archs 'detnasnet_1.3G'), retrained with the recipe of
# faster-rcnn_shufflenetv2-20_fpn_1x_coco.py. The FPN takes the 1.3G space's
# stage channels. ImageNet pretraining: detnasnet-1.3G_8xb128-300k_in1k.py.
_base_ = './faster-rcnn_shufflenetv2-20_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        space='1.3G', arch='00312102|03123320|2113202221310333|13333333'),
    neck=dict(in_channels=[96, 240, 480, 960]))
