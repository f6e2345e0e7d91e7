# DetNASNet (300M) searched on COCO with Faster R-CNN FPN (DetNAS paper;
# detnas_mm.published_archs 'coco_fpn_300M'), retrained with the recipe of
# faster-rcnn_shufflenetv2-20_fpn_1x_coco.py. ImageNet pretraining:
# detnasnet-300M-coco-fpn_8xb128-300k_in1k.py.
_base_ = './faster-rcnn_shufflenetv2-20_fpn_1x_coco.py'

model = dict(backbone=dict(space='300M', arch='2120|2112|33130031|3132'))
