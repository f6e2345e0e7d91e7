# RetinaNet + FPN on the DetNAS supernet, as in the DetNAS code
# (configs/retinanet/retinanet_DETNAS_COCO_FPN_300M_*.yaml,
# maskrcnn_benchmark/modeling/backbone/backbone.py, fpn.py,
# rpn/retinanet/retinanet.py): SyncBN in the backbone only; no norm in the
# FPN, in P6/P7 or in the head's towers; P6 computed from P5 (the FPN
# output, not the backbone's C5), and a ReLU between P6 and P7. BN momentum
# 0.1, the official SyncBN's value for the supernet; retraining uses 0.01
# (retinanet_detnasnet_fpn.py).
#
# Switch the search space with two keys that must agree: the backbone's
# `space` and the FPN's `in_channels` (the space's stage channels;
# `DetNASSupernet(space).out_channels` or `.feature_info` print them):
#   '300M': (64, 160, 320, 640)   '1.3G': (96, 240, 480, 960)
#   '3.8G': (172, 432, 864, 1728)
# The FPN starts at stage 1 (stride 8) as mmdet's RetinaNet does, so
# `in_channels` keeps all four entries.
#
# SyncBN needs one GPU per process; a single CPU process runs it as plain BN
# and tools/train.py turns it into BN for multi-process CPU runs.
_base_ = 'mmdet::_base_/models/retinanet_r50_fpn.py'

norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    # ImageNet pretraining statistics (mmpretrain's defaults), RGB order.
    data_preprocessor=dict(
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32),
    backbone=dict(
        _delete_=True,
        type='detnas_mm.DetNASSupernet',
        space='300M',
        out_indices=(0, 1, 2, 3),
        frozen_stages=-1,
        norm_cfg=norm_cfg,
        norm_eval=False),
    neck=dict(
        in_channels=[64, 160, 320, 640],
        add_extra_convs='on_output',
        relu_before_extra_convs=True))
