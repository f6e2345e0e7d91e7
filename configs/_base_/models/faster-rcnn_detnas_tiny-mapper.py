# The CPU-size Faster R-CNN of faster-rcnn_detnas_tiny-fpn.py for the
# built-in "halo" task, with one change of kind: the FPN becomes a 1x1
# ChannelMapper (5 levels, no top-down path). Through the FPN every level
# receives the coarse levels' context, so every path of the space reads
# the ring's colour at the square and equal-FLOPs architectures score
# alike (rank study: Kendall tau about 0 between supernet and standalone
# scores); without it, the RoI feature at stride 4 sees only the
# backbone's own receptive field there, which is what the space's choices
# change (tau 0.74 over 10 architectures; docs/rank_correlation.md). The
# full-scale configs keep the FPN of the paper.
#
# Sized for 96 px images of 10-17 px objects: anchors of scale 4 (16 px at
# stride 4), 32 sampled RoIs per image.
_base_ = './faster-rcnn_detnas_tiny-fpn.py'

model = dict(
    neck=dict(
        _delete_=True,
        type='ChannelMapper',
        in_channels=[64, 160, 320, 640],
        out_channels={{_base_.width}},
        kernel_size=1,
        norm_cfg={{_base_.norm_cfg}},
        num_outs=5),
    rpn_head=dict(anchor_generator=dict(scales=[4])),
    roi_head=dict(bbox_head=dict(num_classes=4)),
    train_cfg=dict(rcnn=dict(sampler=dict(num=32))),
    test_cfg=dict(rpn=dict(nms_pre=300), rcnn=dict(score_thr=0.0)))
