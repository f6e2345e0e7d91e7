# The ImageNet form of the DetNAS supernet (stage 1 of DetNAS): the supernet
# backbone with its last 1x1 conv (out index 4, to 1024 channels), global
# average pooling, dropout 0.2 and one fc, trained with label smoothing 0.1
# as in the official DetNAS/SPOS supernet. A PathSamplerHook sets one path
# per iteration (see the leaf configs).
#
# Other spaces: set `backbone.space` ('1.3G', or a dict with depths,
# stem_channels, stage_channels, last_channels) and `head.in_channels` to
# the space's last_channels (1024 for '300M' and '1.3G').
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='detnas_mm.DetNASSupernet',
        space='300M',
        out_indices=(4, ),
        norm_cfg=dict(type='BN')),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        # mmpretrain's LinearClsHead with dropout before the fc (the
        # official net's Dropout2d before pooling drops the same channels).
        type='detnas_mm.DropoutLinearClsHead',
        num_classes=1000,
        in_channels=1024,
        dropout_rate=0.2,
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        topk=(1, 5)))
