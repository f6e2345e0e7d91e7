# CPU size: the evolutionary search on ../shared/data/coco_tiny, a few
# minutes on two cores: the CPU fine-tuning config (300M-space supernet,
# 64-channel FPN and heads, 128 px) searched with 3 generations of 8
# candidates, top-3, 3 mutants, 3 crossovers; 16 calibration images; the
# search split is 20 images held out of coco_tiny's train2017, made once with
#   python tools/dataset/split_search_set.py coco \
#       ../shared/data/coco_tiny/annotations/instances_train2017.json \
#       --out-dir data/coco_tiny_split --num-search 20 --seed 0
# The supernet must be fine-tuned on data/coco_tiny_split/train_remain.json
# (the loop refuses a search split that overlaps the training set).
#   python tools/search.py configs/search/<this file> supernet.pth
_base_ = [
    '../supernet/faster-rcnn_detnas-supernet-300M_tiny-fpn_'
    '1xb2-300iter_coco-tiny.py',
    '../_base_/evolution_search.py',
]

# Plain BN: the search recomputes BN statistics per path in one process
# per rank and all-reduces them itself.
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    backbone=dict(init_cfg=None, norm_cfg=norm_cfg),
    neck=dict(norm_cfg=norm_cfg),
    roi_head=dict(bbox_head=dict(norm_cfg=norm_cfg)))
custom_hooks = []

# Paths relative to the repository root (data_root '' joins nothing).
images = '../shared/data/coco_tiny/'
split = 'data/coco_tiny_split/'
train_dataloader = dict(
    dataset=dict(
        data_root='',
        ann_file=split + 'train_remain.json',
        data_prefix=dict(img=images + 'train2017/')))
val_dataloader = dict(
    batch_size=1,
    dataset=dict(
        data_root='',
        ann_file=split + 'search.json',
        data_prefix=dict(img=images + 'train2017/')))
val_evaluator = dict(ann_file=split + 'search.json')
test_dataloader = dict(
    batch_size=1,
    dataset=dict(
        data_root=images,
        ann_file='annotations/instances_val2017.json',
        data_prefix=dict(img='val2017/')))
test_evaluator = dict(ann_file=images + 'annotations/instances_val2017.json')

train_cfg = dict(
    _base_.search_loop,
    _delete_=True,
    num_generations=3,
    population_size=8,
    top_k=3,
    num_mutation=3,
    num_crossover=3,
    score_key='coco/bbox_mAP',
    num_calibration_images=16,
    calibration_batch_size=4,
    # The best path is also written as retraining configs (detnas_mm.export).
    export_base='faster-rcnn_coco-tiny')
