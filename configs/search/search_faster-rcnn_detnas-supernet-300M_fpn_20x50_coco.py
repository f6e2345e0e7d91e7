# Stage 3 of DetNAS: evolutionary search on the COCO-fine-tuned 300M
# supernet, as published: 20 generations of 50, top-10 parents, 20 mutants
# (each gene re-drawn with probability 0.1), 20 crossovers, the rest random;
# backbone FLOPs at 224x224 at most 300M. Every candidate gets its BN
# statistics recomputed on 4096 images of the fine-tuning set and is scored
# by bbox mAP on the 5000-image search split held out of train2017.
#   bash tools/dist_search.sh configs/search/<this file> supernet.pth 8
#   (add --resume to continue a stopped search in the same work dir)
_base_ = [
    '../supernet/faster-rcnn_detnas-supernet-300M_fpn_8xb2-90k_coco.py',
    '../_base_/evolution_search.py',
]

# The supernet checkpoint passed to tools/search.py replaces every weight.
model = dict(backbone=dict(init_cfg=None))
# No path sampling: the search sets each candidate's path.
custom_hooks = []

# The search split: the DetNAS search set, taken out of train2017 by
# tools/dataset/split_search_set.py (the fine-tuning config trains on
# detnas_split/train_remain.json). val2017 stays the test split.
data_root = 'data/coco/'
search_ann = 'detnas_split/search.json'
val_dataloader = dict(
    dataset=dict(ann_file=search_ann, data_prefix=dict(img='train2017/')))
val_evaluator = dict(ann_file=data_root + search_ann)

train_cfg = dict(
    _base_.search_loop,
    _delete_=True,
    score_key='coco/bbox_mAP',
    num_calibration_images=4096,
    calibration_batch_size=8,
    # The best path is also written as retraining configs (detnas_mm.export).
    export_base='faster-rcnn_coco')
