# ShuffleNetV2-20 (300M space, every block choice 0) in its ImageNet form
# (stem, stages, 1x1 conv to 1024 channels, global pooling, dropout 0.2 as
# the DetNAS ImageNet nets, linear classifier), trained with mmpretrain's
# ShuffleNetV2 recipe: 16 GPUs x 64 images, SGD lr 0.5, weight decay 4e-5
# (none on BN), 300 epochs with a linear (poly) decay. Its checkpoint
# initialises the detection backbone (`init_cfg=dict(type='Pretrained',
# prefix='backbone.', checkpoint=...)`), which drops `conv_last` on loading.
#
# The ImageNet recipe of every exported architecture
# (`tools/export_arch.py`); the DetNASNet ImageNet configs inherit it.
_base_ = 'mmpretrain::shufflenet_v2/shufflenet-v2-1x_16xb64_in1k.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='detnas_mm.DetNASNet',
        space='300M',
        arch='0000|0000|00000000|0000',
        out_indices=(4, )),
    head=dict(
        type='detnas_mm.DropoutLinearClsHead', in_channels=1024,
        dropout_rate=0.2))
