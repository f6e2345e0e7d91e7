# The DetNAS detection schedule shrunk for CPU runs on one process with 2
# images per batch: 300 iterations, the warm-up (from lr/3) over 50, lr
# x0.1 at 2/3 and 8/9 of the run (as 60k and 80k of 90k), validation and a
# checkpoint at the end. Change the length with --cfg-options
# train_cfg.max_iters=N (the milestones stay put; a shorter run simply ends
# before them).
_base_ = './schedule_detnas-90k.py'

max_iters = 300
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(_base_.param_scheduler[0], end=50),
    dict(_base_.param_scheduler[1], end=max_iters, milestones=[200, 270])
]
# Tiny batches and a short warm-up: clip the rare large step.
optim_wrapper = dict(clip_grad=dict(max_norm=35, norm_type=2))
auto_scale_lr = dict(base_batch_size=2)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
log_processor = dict(window_size=10)
