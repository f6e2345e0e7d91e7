# CPU-size supernet fine-tuning: the real 300M supernet with Faster R-CNN on
# ../shared/data/coco_tiny (80 COCO photos to train on, val2017 to test),
# images at most 128 px, a 64-channel FPN and box head (the 4conv1fc head
# runs four 3x3 convs per RoI: at 256 channels it dominates on CPU), fewer
# proposals and 128 RoIs per image; 300 iterations on one process take
# minutes on 2 cores. Neck, heads and scale match the CPU search config.
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
    '../_base_/models/faster-rcnn_detnas_fpn.py',
    '../_base_/datasets/coco-tiny_detection_128px.py',
    '../_base_/schedules/schedule_detnas-300iter-cpu.py'
]

width = 64
model = dict(
    neck=dict(out_channels=width),
    rpn_head=dict(in_channels=width, feat_channels=width),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=width),
        bbox_head=dict(
            in_channels=width, conv_out_channels=width, fc_out_channels=256)),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=500, max_per_img=200),
        rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(
        rpn=dict(nms_pre=200, max_per_img=100), rcnn=dict(max_per_img=50)))

# lr 0.02 x 2 / 16 would barely move in 300 iterations.
optim_wrapper = dict(optimizer=dict(lr=0.01))

custom_hooks = [
    dict(
        type='detnas_mm.PathSamplerHook',
        sampler=dict(type='detnas_mm.UniformPathSampler', seed=0))
]
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', find_unused_parameters=True)
