# CPU size of stage 3 for the built-in "halo" task: the '300M-d1121'
# supernet (300M widths, depths 1/1/2/1) fine-tuned with the CPU-size
# Faster R-CNN without top-down path (1x1 ChannelMapper neck; why:
# faster-rcnn_detnas_tiny-mapper.py) at 96 px, batch 8, 600 iterations,
# one uniformly sampled path per iteration, initialised from the stage-1
# supernet:
#   python tools/train.py configs/supernet/<this file> --cfg-options \
#       model.backbone.init_cfg.checkpoint=<stage-1 checkpoint>
# The pipeline (tools/pipeline.py) trains it on the training images left
# after the search split.
_base_ = [
    '../_base_/models/faster-rcnn_detnas_tiny-mapper.py',
    '../_base_/datasets/halo_detection_96px.py',
    '../_base_/schedules/schedule_detnas-cosine-600iter-cpu.py',
    '../_base_/supernet_training.py',
]

model = dict(
    backbone=dict(
        space='300M-d1121',
        init_cfg=dict(
            type='Pretrained',
            checkpoint='work_dirs/detnas-supernet-300M-d1121_1xb32-1000iter_'
            'halo-cls-48px/iter_1000.pth',
            prefix='backbone.')))
