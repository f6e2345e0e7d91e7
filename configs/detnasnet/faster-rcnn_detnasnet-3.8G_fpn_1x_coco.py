# DetNASNet (3.8G): the 1.3G architecture in the wider 3.8G space (DetNAS
# paper; detnas_mm.published_archs 'detnasnet_3.8G'), retrained with the
# recipe of faster-rcnn_shufflenetv2-20_fpn_1x_coco.py. The FPN takes the
# 3.8G space's stage channels. ImageNet pretraining:
# detnasnet-3.8G_8xb128-300k_in1k.py.
_base_ = './faster-rcnn_shufflenetv2-20_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        space='3.8G', arch='00312102|03123320|2113202221310333|13333333'),
    neck=dict(in_channels=[172, 432, 864, 1728]))
