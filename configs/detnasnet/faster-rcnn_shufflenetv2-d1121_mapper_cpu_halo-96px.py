# CPU size: a standalone net of the '300M-d1121' space (here every block
# choice 0) retrained with the CPU-size Faster R-CNN without top-down path
# on the built-in "halo" task at 96 px, batch 8, 600 iterations, from its
# own classification pretraining on the task's twin
# (shufflenetv2-d1121_1xb32-600iter_halo-cls-48px.py), never from the
# supernet's weights: the recipe of the rank study (3 seeds of one arch:
# test mAP 0.802 / 0.796 / 0.791; docs/rank_correlation.md). The detector
# and schedule are those of the supernet fine-tuning config but for the
# backbone.
#
# The retraining recipe of `tools/export_arch.py --base faster-rcnn_halo`.
_base_ = [
    '../_base_/models/faster-rcnn_detnas_tiny-mapper.py',
    '../_base_/datasets/halo_detection_96px.py',
    '../_base_/schedules/schedule_detnas-cosine-600iter-cpu.py',
]

model = dict(
    backbone=dict(
        type='detnas_mm.DetNASNet',
        space='300M-d1121',
        arch='0|0|00|0',
        init_cfg=dict(
            type='Pretrained',
            checkpoint='work_dirs/shufflenetv2-d1121_1xb32-600iter_'
            'halo-cls-48px/iter_600.pth',
            prefix='backbone.')))
