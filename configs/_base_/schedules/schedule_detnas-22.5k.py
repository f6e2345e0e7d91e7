# DetNAS detection schedule on VOC 07+12: 22.5k iterations at 16 images
# per batch, lr x0.1 at 15k and 20k; otherwise as the 90k COCO schedule.
_base_ = './schedule_detnas-90k.py'

max_iters = 22500
train_cfg = dict(max_iters=max_iters, val_interval=2500)
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_iters,
        by_epoch=False,
        milestones=[15000, 20000],
        gamma=0.1)
]
default_hooks = dict(checkpoint=dict(interval=2500))
