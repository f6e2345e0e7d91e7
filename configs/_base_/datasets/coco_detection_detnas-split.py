# COCO detection with the DetNAS search split: the supernet fine-tunes on
# train2017 minus the search set, the search scores on the search set, and
# val2017 stays untouched for the final figures. Make the split once with
#   python tools/dataset/split_search_set.py coco \
#       data/coco/annotations/instances_train2017.json \
#       --out-dir data/coco/detnas_split --num-search 5000 --seed 0
_base_ = 'mmdet::_base_/datasets/coco_detection.py'

# Relative to the dataset's data_root ('data/coco/').
train_dataloader = dict(
    dataset=dict(ann_file='detnas_split/train_remain.json'))
