# The Faster R-CNN + FPN of faster-rcnn_detnas_fpn.py on a standalone
# DetNASNet, as a searched net is retrained: the same detector but for the
# backbone, and BN momentum 0.01 in every SyncBN (backbone, FPN, box head),
# the official SyncBN's value outside the supernet (DetNAS
# maskrcnn_benchmark/pytorch_distributed_syncbn/syncbn.py; same convention
# as torch: running = (1 - m) * running + m * batch). Here ShuffleNetV2-20,
# every block choice 0; a leaf sets `backbone.arch` (and `space` and the
# FPN's in_channels for another space).
_base_ = './faster-rcnn_detnas_fpn.py'

norm_cfg = dict(type='SyncBN', momentum=0.01, requires_grad=True)
model = dict(
    backbone=dict(
        type='detnas_mm.DetNASNet',
        arch='0000|0000|00000000|0000',
        norm_cfg=norm_cfg),
    neck=dict(norm_cfg=norm_cfg),
    roi_head=dict(bbox_head=dict(norm_cfg=norm_cfg)))
