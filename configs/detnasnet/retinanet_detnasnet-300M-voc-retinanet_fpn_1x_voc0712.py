# DetNASNet (300M) searched on VOC with RetinaNet (DetNAS paper;
# detnas_mm.published_archs 'voc_retinanet_300M'), retrained with the
# recipe of retinanet_shufflenetv2-20_fpn_1x_voc0712.py. ImageNet
# pretraining: detnasnet-300M-voc-retinanet_8xb128-300k_in1k.py.
_base_ = './retinanet_shufflenetv2-20_fpn_1x_voc0712.py'

model = dict(backbone=dict(space='300M', arch='1300|2333|23333220|2311'))
