# ShuffleNetV2-40 (1.3G space, every block choice 0) in its ImageNet form,
# trained with the recipe of shufflenetv2-20_8xb128-300k_in1k.py.
_base_ = './shufflenetv2-20_8xb128-300k_in1k.py'

model = dict(
    backbone=dict(
        space='1.3G', arch='00000000|00000000|0000000000000000|00000000'),
    head=dict(in_channels=1024))
