# DetNASNet (300M) searched on COCO with RetinaNet in its ImageNet form,
# trained with the recipe of shufflenetv2-20_8xb128-300k_in1k.py.
_base_ = './shufflenetv2-20_8xb128-300k_in1k.py'

model = dict(
    backbone=dict(space='300M', arch='2311|3213|31113320|3333'),
    head=dict(in_channels=1024))
