# The paper's ClsNASNet: the same evolutionary search as the COCO config,
# scored by ImageNet top-1 accuracy of the ImageNet-pretrained 300M
# supernet instead of COCO mAP (DetNAS, Table 4: the network searched on
# classification against the one searched on detection). Backbone FLOPs at
# 224x224 at most 300M; every candidate gets its BN statistics recomputed
# on 20480 training images (as the supernet validation of the pretraining
# config) and is scored on 50 images per class held out of the training
# set. The best path is exported as a COCO Faster R-CNN retraining config.
#   bash tools/dist_search.sh configs/search/<this file> supernet.pth 8
# The search split must be held out of what the supernet was pretrained on:
# pretrain with train_dataloader.dataset.ann_file=meta/detnas_train_remain.txt
# (see docs/search.md for making the two lists); the loop refuses a search
# split that shares images with the training set or is the val split.
_base_ = [
    '../supernet/detnas-supernet-300M_8xb128-300k_in1k.py',
    '../_base_/evolution_search.py',
]

custom_hooks = []
# The supernet validation loops of pretraining are not used by the search.
val_cfg = dict(_delete_=True, type='ValLoop')
test_cfg = dict(_delete_=True, type='TestLoop')

train_dataloader = dict(dataset=dict(ann_file='meta/detnas_train_remain.txt'))
val_dataloader = dict(
    dataset=dict(
        split='train', data_prefix='train', ann_file='meta/detnas_search.txt'))
val_evaluator = dict(type='Accuracy', topk=(1, 5))

train_cfg = dict(
    _base_.search_loop,
    _delete_=True,
    score_key='accuracy/top1',
    num_calibration_images=20480,
    calibration_batch_size=128,
    export_base='faster-rcnn_coco')
