# DetNASNet (300M) searched on VOC with Faster R-CNN FPN (DetNAS paper;
# detnas_mm.published_archs 'voc_fpn_300M'), retrained with the recipe of
# faster-rcnn_shufflenetv2-20_fpn_1x_voc0712.py. ImageNet pretraining:
# detnasnet-300M-voc-fpn_8xb128-300k_in1k.py.
_base_ = './faster-rcnn_shufflenetv2-20_fpn_1x_voc0712.py'

model = dict(backbone=dict(space='300M', arch='2103|1303|20113333|3331'))
