# CPU size: the evolutionary search on ../shared/data/coco_tiny, a few
# minutes on two cores. A 300M-space supernet with a narrow FPN and heads
# (64 channels) at 128 px; 3 generations of 8 candidates, top-3, 3 mutants,
# 3 crossovers; 16 calibration images; the search split is 20 images held
# out of coco_tiny's train2017, made once with
#   python tools/dataset/split_search_set.py coco \
#       ../shared/data/coco_tiny/annotations/instances_train2017.json \
#       --out-dir data/coco_tiny_split --num-search 20 --seed 0
# The supernet must be fine-tuned on data/coco_tiny_split/train_remain.json
# (the loop refuses a search split that overlaps the training set).
#   python tools/search.py configs/search/<this file> supernet.pth
_base_ = './search_faster-rcnn_detnas-supernet-300M_fpn_20x50_coco.py'

# Paths relative to the repository root (data_root '' joins nothing).
images = '../shared/data/coco_tiny/'
split = 'data/coco_tiny_split/'
width = 64
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    backbone=dict(norm_cfg=norm_cfg),
    neck=dict(out_channels=width, norm_cfg=norm_cfg),
    rpn_head=dict(in_channels=width, feat_channels=width),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=width),
        bbox_head=dict(
            in_channels=width, conv_out_channels=width, fc_out_channels=256,
            norm_cfg=norm_cfg)),
    # Fewer proposals: the box head on 1000 RoIs would dominate on CPU.
    test_cfg=dict(
        rpn=dict(nms_pre=200, max_per_img=100), rcnn=dict(max_per_img=50)))

scale = (128, 128)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root='',
        ann_file=split + 'train_remain.json',
        data_prefix=dict(img=images + 'train2017/'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root='',
        ann_file=split + 'search.json',
        data_prefix=dict(img=images + 'train2017/'),
        pipeline=test_pipeline))
val_evaluator = dict(ann_file=split + 'search.json')
test_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=images,
        ann_file='annotations/instances_val2017.json',
        data_prefix=dict(img='val2017/'),
        pipeline=test_pipeline))
test_evaluator = dict(ann_file=images + 'annotations/instances_val2017.json')

train_cfg = dict(
    num_generations=3,
    population_size=8,
    top_k=3,
    num_mutation=3,
    num_crossover=3,
    num_calibration_images=16,
    calibration_batch_size=4,
    export_base='faster-rcnn_coco-tiny')
default_hooks = dict(logger=dict(interval=10))
