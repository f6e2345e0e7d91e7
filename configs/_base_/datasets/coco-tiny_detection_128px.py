# CPU-size COCO detection data: ../shared/data/coco_tiny (80 real COCO
# photos in train2017, 80 in val2017, all 80 classes), resized to at most
# 128 px, 2 images per batch, loaded in the main process.
#
# Point it at another COCO-format folder R with --cfg-options
#   train_dataloader.dataset.data_root=R val_dataloader.dataset.data_root=R
#   test_dataloader.dataset.data_root=R
#   val_evaluator.ann_file=R/annotations/instances_val2017.json
#   test_evaluator.ann_file=R/annotations/instances_val2017.json
# and, for other classes than COCO's 80 (e.g. the generated data),
#   train_dataloader.dataset.metainfo.classes="['a','b']" (same for val and
#   test) plus the detector's num_classes.
# Train on the remainder of a search split (tools/dataset/split_search_set.py)
# with train_dataloader.dataset.ann_file=/abs/path/train_remain.json (an
# absolute path is not joined with data_root). Another scale:
#   train_dataloader.dataset.pipeline.2.scale="(W,H)" and
#   {val,test}_dataloader.dataset.pipeline.1.scale="(W,H)".
_base_ = 'mmdet::_base_/datasets/coco_detection.py'

data_root = '../shared/data/coco_tiny/'
img_scale = (128, 128)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
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
        data_root=data_root,
        ann_file='annotations/instances_train2017.json',
        data_prefix=dict(img='train2017/'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val2017.json')
test_evaluator = val_evaluator
