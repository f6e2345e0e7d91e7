# CPU size of the classification search (ClsNASNet): the 300M supernet of
# configs/supernet/detnas-supernet-300M_1xb32-600iter_imagenette-64px.py
# at 64 px, 3 generations of 8, 64 calibration images, scored by top-1 on
# 100 images (10 per class) held out of ../shared/data/imagenette_sub/train.
# Make the two lists once (docs/search.md), pretrain on the remainder:
#   python tools/train.py configs/supernet/<imagenette config> \
#       --cfg-options train_dataloader.dataset.ann_file=\
#       $PWD/data/imagenette_split/train_remain.txt
#   python tools/search.py configs/search/<this file> supernet.pth
_base_ = [
    '../supernet/detnas-supernet-300M_1xb32-600iter_imagenette-64px.py',
    '../_base_/evolution_search.py',
]

custom_hooks = []
val_cfg = dict(_delete_=True, type='ValLoop')
test_cfg = dict(_delete_=True, type='TestLoop')

# Absolute: CustomDataset joins a relative ann_file to its data_root.
split = '{{ fileDirname }}/../../data/imagenette_split/'
train_dataloader = dict(dataset=dict(ann_file=split + 'train_remain.txt'))
val_dataloader = dict(
    dataset=dict(data_prefix='train', ann_file=split + 'search.txt'))
# The val folder stays the test split.
test_dataloader = dict(
    _delete_=True,
    batch_size=50,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='CustomDataset',
        data_root='../shared/data/imagenette_sub',
        data_prefix='val',
        pipeline={{_base_.test_pipeline}}))

# The published search shrunk: 3 generations of 8, top-3, 3 mutants, 3
# crossovers.
train_cfg = dict(
    _base_.search_loop,
    _delete_=True,
    num_generations=3,
    population_size=8,
    top_k=3,
    num_mutation=3,
    num_crossover=3,
    score_key='accuracy/top1',
    num_calibration_images=64,
    calibration_batch_size=32,
    export_base='faster-rcnn_coco-tiny')
