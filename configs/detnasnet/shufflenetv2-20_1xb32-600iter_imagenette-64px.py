# CPU size: ShuffleNetV2-20 (300M space, every block choice 0) in its
# ImageNet form trained on ../shared/data/imagenette_sub (10 ImageNet
# classes, 500 train / 200 val photos) at 64 px, batch 32, 600 iterations:
# the recipe of the CPU supernet config
# (configs/supernet/detnas-supernet-300M_1xb32-600iter_imagenette-64px.py;
# same model, data and schedule bases) with a standalone net. The ImageNet
# recipe of `tools/export_arch.py --base faster-rcnn_coco-tiny`.
_base_ = [
    '../_base_/models/detnasnet_in1k.py',
    '../_base_/datasets/imagenette-sub_64px.py',
    '../_base_/schedules/schedule_detnas-poly-600iter-cpu.py',
]

# mmengine's Kaiming init instead of the official DetNASInit (the
# full-scale default): at this size it ends 1.7 points higher in mean top-1
# over random paths, in each of 3 seeds (docs/pretraining.md,
# "Initialisation").
model = dict(
    backbone=dict(init_cfg=[
        dict(type='Kaiming', layer='Conv2d'),
        dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])
    ]),
    head=dict(num_classes=10, topk=(1, )))
custom_hooks = [dict(type='detnas_mm.IterationSeedHook')]
