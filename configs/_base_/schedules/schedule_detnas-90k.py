# DetNAS detection schedule on COCO (the DetNAS yaml files with
# maskrcnn-benchmark's solver defaults): 90k iterations at 16 images per
# batch (8 GPUs x 2), SGD lr 0.02, momentum 0.9, weight decay 1e-4, linear
# warm-up from lr/3 over 500 iterations, lr x0.1 at 60k and 80k. Every
# parameter whose name contains "bias" (norm layers' too) takes twice the
# lr and no weight decay, as maskrcnn-benchmark's make_optimizer does
# (BIAS_LR_FACTOR 2, WEIGHT_DECAY_BIAS 0); norm weights keep the weight
# decay. Iteration-based; it carries mmdet's default runtime so that a
# leaf config lists model, data and this file.
_base_ = 'mmdet::_base_/default_runtime.py'

max_iters = 90000
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=10000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(
        type='LinearLR', start_factor=1. / 3, by_epoch=False, begin=0,
        end=500),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_iters,
        by_epoch=False,
        milestones=[60000, 80000],
        gamma=0.1)
]

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=0.0001),
    # A substring match on the parameter name, as maskrcnn-benchmark's
    # `"bias" in key`; mmengine's bias_lr_mult would skip norm biases.
    paramwise_cfg=dict(custom_keys={'bias': dict(lr_mult=2., decay_mult=0.)}))

# lr 0.02 is for 8 GPUs x 2 images; `--auto-scale-lr` rescales it.
auto_scale_lr = dict(enable=False, base_batch_size=16)

default_hooks = dict(
    checkpoint=dict(by_epoch=False, interval=10000, max_keep_ckpts=3))
log_processor = dict(by_epoch=False)
