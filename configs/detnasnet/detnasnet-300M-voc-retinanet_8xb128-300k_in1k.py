# DetNASNet (300M) searched on VOC with RetinaNet in its ImageNet form,
# trained with the recipe of shufflenetv2-20_8xb128-300k_in1k.py.
_base_ = './shufflenetv2-20_8xb128-300k_in1k.py'

model = dict(
    backbone=dict(space='300M', arch='1300|2333|23333220|2311'),
    head=dict(in_channels=1024))
