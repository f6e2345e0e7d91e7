# The ImageNet form of a standalone DetNASNet: the supernet classifier of
# detnas-supernet_in1k.py with one fixed path, so that a searched net is
# pretrained exactly as the supernet was, but for the backbone (the
# official ShuffleNet-Series DetNAS/network.py is the supernet's network
# with fixed choices). Here ShuffleNetV2-20, every block choice 0; a leaf
# sets `backbone.arch` (and `space`, and the head's in_channels for a space
# whose last conv is not 1024 wide).
_base_ = './detnas-supernet_in1k.py'

model = dict(
    backbone=dict(type='detnas_mm.DetNASNet', arch='0000|0000|00000000|0000'))
