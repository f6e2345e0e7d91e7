# DetNASNet (300M) searched on COCO with RetinaNet (DetNAS paper;
# detnas_mm.published_archs 'coco_retinanet_300M'), retrained with the
# recipe of retinanet_shufflenetv2-20_fpn_1x_coco.py. ImageNet pretraining:
# detnasnet-300M-coco-retinanet_8xb128-300k_in1k.py.
_base_ = './retinanet_shufflenetv2-20_fpn_1x_coco.py'

model = dict(backbone=dict(space='300M', arch='2311|3213|31113320|3333'))
