# DetNAS detection schedule on VOC 07+12: 22.5k iterations at 16 images
# per batch, lr x0.1 at 15k and 20k; otherwise as the 90k COCO schedule
# (warm-up, optimizer, bias lr and decay).
_base_ = './schedule_detnas-90k.py'

max_iters = 22500
train_cfg = dict(max_iters=max_iters, val_interval=2500)
param_scheduler = [
    _base_.param_scheduler[0],
    dict(_base_.param_scheduler[1], end=max_iters, milestones=[15000, 20000])
]
default_hooks = dict(checkpoint=dict(interval=2500))
