# CPU size of stage 1 for the built-in "halo" task: the supernet of the
# 300M widths at depths 1/1/2/1 (space '300M-d1121', 5 blocks) pretrained
# on the task's classification twin (4 ring hues, 48 px, 4000 images),
# batch 32, 1000 iterations, one uniformly sampled path per iteration.
# The ImageNet recipe of the full-scale config (SGD, lr linear to 0, no
# decay on norms and biases, label smoothing 0.1, dropout 0.2, the official
# DetNASInit) with lr 0.1, a tenth of it for the classifier and 200
# warm-up iterations: uniform-path training sits on a loss plateau near
# 1.0 (yellow rings taken for green) for a random time; with 50 warm-up
# iterations one run in ten had not left it after 1000 (59 % top-1), with
# 200 the slowest runs leave it by iteration 300 (docs/pretraining.md).
# Mean top-1 of 5 random paths: 97-99 % (chance 25 %). Uniform paths
# rather than the FLOPs-binned sampler of the full-scale recipe: its bins
# are those of the 20-block space.
#   python tools/train.py configs/supernet/<this file>
_base_ = [
    '../_base_/models/detnas-supernet_in1k.py',
    '../_base_/datasets/halo-cls_48px.py',
    '../_base_/schedules/schedule_detnas-poly-600iter-cpu.py',
    '../_base_/supernet_training.py',
]

model = dict(
    backbone=dict(space='300M-d1121'), head=dict(num_classes=4, topk=(1, )))

max_iters = 1000
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
optim_wrapper = dict(optimizer=dict(lr=0.1))
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
        end=200),
    dict(
        type='PolyLR',
        power=1.0,
        eta_min=0.,
        by_epoch=False,
        begin=200,
        end=max_iters)
]
default_hooks = dict(
    logger=dict(interval=100),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1))

# 10 batches of 32 training images to recalibrate BN for each path.
supernet_val = dict(
    fixed_arch=None, num_random_paths=5, seed=0, calib_batches=10)
val_cfg = dict(type='detnas_mm.SupernetValLoop', **supernet_val)
test_cfg = dict(type='detnas_mm.SupernetTestLoop', **supernet_val)
