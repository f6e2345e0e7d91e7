# VOC 07+12 with the DetNAS search split: the supernet fine-tunes on the
# 07+12 trainval images minus the search set, the search scores on the
# search set, and VOC2007 test stays untouched. Make the split once with
#   python tools/dataset/split_search_set.py voc \
#       data/VOCdevkit/VOC2007/ImageSets/Main/trainval.txt \
#       data/VOCdevkit/VOC2012/ImageSets/Main/trainval.txt \
#       --out-dir data/VOCdevkit/detnas_split --num-search 5000 --seed 0
_base_ = 'mmdet::_base_/datasets/voc0712.py'

dataset_type = 'VOCDataset'
data_root = 'data/VOCdevkit/'
# Iteration-based training needs no RepeatDataset: the loop cycles the
# data itself.
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        # VOCDataset adds `dataset_type` to its metainfo, which differs
        # between the two years.
        ignore_keys=['dataset_type'],
        datasets=[
            dict(
                type=dataset_type,
                data_root=data_root,
                ann_file='detnas_split/VOC2007/trainval_remain.txt',
                data_prefix=dict(sub_data_root='VOC2007/'),
                filter_cfg=dict(
                    filter_empty_gt=True, min_size=32, bbox_min_size=32),
                pipeline={{_base_.train_pipeline}},
                backend_args={{_base_.backend_args}}),
            dict(
                type=dataset_type,
                data_root=data_root,
                ann_file='detnas_split/VOC2012/trainval_remain.txt',
                data_prefix=dict(sub_data_root='VOC2012/'),
                filter_cfg=dict(
                    filter_empty_gt=True, min_size=32, bbox_min_size=32),
                pipeline={{_base_.train_pipeline}},
                backend_args={{_base_.backend_args}})
        ]))
