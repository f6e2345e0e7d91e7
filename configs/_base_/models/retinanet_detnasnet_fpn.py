# The RetinaNet of retinanet_detnas_fpn.py on a standalone DetNASNet, as a
# searched net is retrained: the same detector but for the backbone, whose
# SyncBN (the detector's only norm) takes momentum 0.01, the official
# SyncBN's value outside the supernet (see faster-rcnn_detnasnet_fpn.py).
# Here ShuffleNetV2-20, every block choice 0; a leaf sets `backbone.arch`.
_base_ = './retinanet_detnas_fpn.py'

norm_cfg = dict(type='SyncBN', momentum=0.01, requires_grad=True)
model = dict(
    backbone=dict(
        type='detnas_mm.DetNASNet',
        arch='0000|0000|00000000|0000',
        norm_cfg=norm_cfg))
