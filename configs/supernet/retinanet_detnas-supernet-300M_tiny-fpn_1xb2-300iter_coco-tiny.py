# CPU-size supernet fine-tuning with RetinaNet: the real 300M supernet on
# ../shared/data/coco_tiny at 128 px with a 64-channel FPN and head towers;
# data, schedule and overrides as the Faster R-CNN CPU config (the class
# count here is model.bbox_head.num_classes).
_base_ = [
    '../_base_/models/retinanet_detnas_fpn.py',
    '../_base_/datasets/coco-tiny_detection_128px.py',
    '../_base_/schedules/schedule_detnas-300iter-cpu.py',
    '../_base_/supernet_training.py',
]

width = 64
model = dict(
    neck=dict(out_channels=width),
    bbox_head=dict(in_channels=width, feat_channels=width))

# Half the Faster R-CNN CPU lr, as in the full-scale recipes.
optim_wrapper = dict(optimizer=dict(lr=0.005))
