# The DetNAS ImageNet schedule shrunk for CPU runs on one process with 32
# images per batch and 10 classes: 600 iterations, lr 0.05 decayed
# linearly to 0, and a tenth of it for the classifier, whose per-class
# gradients over few classes make the logits oscillate at the backbone's
# lr (the loss rises instead; docs/pretraining.md). Validation and a
# checkpoint at the end. Another length N: train_cfg.max_iters=N and
# param_scheduler.0.end=N.
_base_ = './schedule_detnas-poly-300k.py'

max_iters = 600
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
optim_wrapper = dict(
    optimizer=dict(lr=0.05),
    paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=0.1)}))
param_scheduler = [dict(_base_.param_scheduler[0], end=max_iters)]
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
