# Faster R-CNN + FPN on the DetNAS supernet, as in the DetNAS code
# (configs/e2e_faster_rcnn_DETNAS_COCO_FPN_300M_*.yaml): SyncBN in the
# backbone, the FPN and the box head, and the "4conv1fc" box head (4 shared
# 3x3 convs + 1 fc). BN momentum 0.1 (torch's default), which the official
# SyncBN takes when the backbone is the supernet (supernet fine-tuning and
# search); retraining a searched net uses 0.01
# (faster-rcnn_detnasnet_fpn.py).
#
# Switch the search space with two keys that must agree: the backbone's
# `space` and the FPN's `in_channels` (the space's stage channels;
# `DetNASSupernet(space).out_channels` or `.feature_info` print them):
#   '300M': (64, 160, 320, 640)   '1.3G': (96, 240, 480, 960)
#   '3.8G': (172, 432, 864, 1728)
#
# SyncBN needs one GPU per process; a single CPU process runs it as plain BN
# and tools/train.py turns it into BN for multi-process CPU runs.
_base_ = 'mmdet::_base_/models/faster-rcnn_r50_fpn.py'

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
    neck=dict(in_channels=[64, 160, 320, 640], norm_cfg=norm_cfg),
    roi_head=dict(
        bbox_head=dict(
            _delete_=True,
            type='Shared4Conv1FCBBoxHead',
            in_channels=256,
            conv_out_channels=256,
            fc_out_channels=1024,
            roi_feat_size=7,
            num_classes=80,
            norm_cfg=norm_cfg,
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[0., 0., 0., 0.],
                target_stds=[0.1, 0.1, 0.2, 0.2]),
            reg_class_agnostic=False,
            loss_cls=dict(
                type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0))))
