# CPU size: a standalone net of the '300M-d1121' space (here every block
# choice 0) pretrained on the classification twin of the built-in "halo"
# task (48 px, 4 classes), batch 32, 600 iterations: the recipe of the
# supernet config detnas-supernet-300M-d1121_1xb32-1000iter_halo-cls-48px.py
# with a fixed path and a shorter run (standalone paths reach 100 % top-1
# by then). The ImageNet recipe of `tools/export_arch.py --base
# faster-rcnn_halo`: the standalone retraining of the rank study and of the
# pipeline on the built-in task starts from it.
_base_ = ('../supernet/detnas-supernet-300M-d1121_1xb32-1000iter_'
          'halo-cls-48px.py')

model = dict(backbone=dict(type='detnas_mm.DetNASNet', arch='0|0|00|0'))

max_iters = 600
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
# 50 warm-up iterations: a single path has no plateau to leave.
param_scheduler = [
    dict(_base_.param_scheduler[0], end=50),
    dict(_base_.param_scheduler[1], begin=50, end=max_iters)
]
default_hooks = dict(checkpoint=dict(interval=max_iters))
custom_hooks = []
model_wrapper_cfg = None
val_cfg = dict(_delete_=True)
test_cfg = dict(_delete_=True)
