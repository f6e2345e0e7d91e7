# The DetNAS ImageNet schedule (Supernet-ImageNet/train.py of the official
# DetNAS code; ShuffleNet-Series DetNAS/train.py retrains the searched nets
# with the same one): 300k iterations of 1024 images (8 GPUs x 128), SGD
# momentum 0.9, lr 0.5 decayed linearly to 0 with no warm-up, weight decay
# 4e-5 on conv and fc weights only (norm layers and biases get none, as the
# official get_parameters does). Iteration-based; it carries mmpretrain's
# default runtime, so that a leaf config lists model, data and this file.
#
# Another length N: train_cfg.max_iters=N and param_scheduler.0.end=N (lr
# reaches 0 at `end`).
_base_ = 'mmpretrain::_base_/default_runtime.py'

max_iters = 300000
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=10000)
val_cfg = dict()
test_cfg = dict()

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.5, momentum=0.9, weight_decay=4e-5),
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.))
# lr * (1 - iter / max_iters): linear to 0.
param_scheduler = [
    dict(
        type='PolyLR',
        power=1.0,
        eta_min=0.,
        by_epoch=False,
        begin=0,
        end=max_iters)
]
# lr 0.5 is for 1024 images per step; `--auto-scale-lr` rescales it.
auto_scale_lr = dict(base_batch_size=1024)

default_hooks = dict(
    # Validation metrics logged at their iteration, not "epoch 0".
    logger=dict(interval=20, log_metric_by_epoch=False),
    checkpoint=dict(by_epoch=False, interval=10000, max_keep_ckpts=3))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
