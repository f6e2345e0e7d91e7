# DetNASNet (300M) searched on VOC with Faster R-CNN FPN in its ImageNet
# form, trained with the recipe of shufflenetv2-20_8xb128-300k_in1k.py.
_base_ = './shufflenetv2-20_8xb128-300k_in1k.py'

model = dict(
    backbone=dict(space='300M', arch='2103|1303|20113333|3331'),
    head=dict(in_channels=1024))
