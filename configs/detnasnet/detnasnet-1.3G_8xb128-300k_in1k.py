# DetNASNet (1.3G) in its ImageNet form, trained with the recipe of
# shufflenetv2-20_8xb128-300k_in1k.py.
_base_ = './shufflenetv2-20_8xb128-300k_in1k.py'

model = dict(
    backbone=dict(
        space='1.3G', arch='00312102|03123320|2113202221310333|13333333'),
    head=dict(in_channels=1024))
