# CPU size of stage 4 for the built-in "halo" task: the evolutionary search
# on the fine-tuned '300M-d1121' supernet (the detector of
# faster-rcnn_detnas-supernet-300M-d1121_mapper_1xb8-600iter_halo-96px.py),
# 3 generations of 8 candidates, top-3, 3 mutants, 3 crossovers, backbone
# FLOPs at most 123M (official count at 224 px: the space spans 91-136M,
# median 118M); 64 calibration images per candidate. The search split is
# held out of the training set, made once with
#   python tools/dataset/split_search_set.py coco \
#       data/halo/coco/annotations/instances_train2017.json \
#       --out-dir data/halo_split --num-search 200 --seed 0
# and the supernet fine-tuned on data/halo_split/train_remain.json:
#   python tools/search.py configs/search/<this file> supernet.pth
_base_ = [
    '../supernet/faster-rcnn_detnas-supernet-300M-d1121_mapper_1xb8-600iter_'
    'halo-96px.py',
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

images = 'data/halo/coco/'
split = 'data/halo_split/'
train_dataloader = dict(
    dataset=dict(
        data_root='',
        ann_file=split + 'train_remain.json',
        data_prefix=dict(img=images + 'train2017/')))
val_dataloader = dict(
    dataset=dict(
        data_root='',
        ann_file=split + 'search.json',
        data_prefix=dict(img=images + 'train2017/')))
val_evaluator = dict(ann_file=split + 'search.json')

train_cfg = dict(
    _base_.search_loop,
    _delete_=True,
    num_generations=3,
    population_size=8,
    top_k=3,
    num_mutation=3,
    num_crossover=3,
    flops_limit=123e6,
    score_key='coco/bbox_mAP',
    num_calibration_images=64,
    calibration_batch_size=4,
    export_base='faster-rcnn_halo')
