# CPU-size supernet fine-tuning: the real 300M supernet with Faster R-CNN on
# ../shared/data/coco_tiny (80 COCO photos to train on, val2017 to test),
# images at most 128 px, the CPU-size detector of
# faster-rcnn_detnas_tiny-fpn.py (64-channel FPN and heads, fewer proposals
# and RoIs; the CPU search config and the CPU retraining config use the
# same detector); 300 iterations on one process take minutes on 2 cores.
#
# Otherwise the full-scale recipe: SyncBN (a single process runs it as BN;
# tools/train.py turns it into BN for multi-process CPU runs), one
# uniformly sampled path per iteration, the schedule's shape. Overrides for
# other data, the search split, classes and scale: see the dataset base;
#   model.roi_head.bbox_head.num_classes=N   train_cfg.max_iters=N
#   model.backbone.init_cfg.type=Pretrained
#   model.backbone.init_cfg.checkpoint=<pretrained supernet.pth>
#   model.backbone.init_cfg.prefix=backbone.
_base_ = [
    '../_base_/models/faster-rcnn_detnas_tiny-fpn.py',
    '../_base_/datasets/coco-tiny_detection_128px.py',
    '../_base_/schedules/schedule_detnas-300iter-cpu.py',
    '../_base_/supernet_training.py',
]

# lr 0.02 x 2 / 16 would barely move in 300 iterations.
optim_wrapper = dict(optimizer=dict(lr=0.01))
