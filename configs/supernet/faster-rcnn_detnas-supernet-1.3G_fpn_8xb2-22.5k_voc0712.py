# The Faster R-CNN supernet recipe on the 1.3G space (40 blocks): the
# backbone's space, the FPN's in_channels and the pretrained checkpoint
# change, nothing else.
_base_ = './faster-rcnn_detnas-supernet-300M_fpn_8xb2-22.5k_voc0712.py'

pretrained = 'checkpoints/detnas-supernet-1.3G_in1k.pth'
model = dict(
    backbone=dict(space='1.3G', init_cfg=dict(checkpoint=pretrained)),
    neck=dict(in_channels=[96, 240, 480, 960]))
