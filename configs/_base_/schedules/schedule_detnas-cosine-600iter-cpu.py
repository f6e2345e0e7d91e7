# Detection schedule of the built-in "halo" task on one CPU process, 8
# images per batch: 600 iterations of SGD lr 0.06 (momentum 0.9, weight
# decay 1e-4 on every parameter), linear warm-up from lr/100 over 50
# iterations, then cosine to 0; gradients clipped at norm 35. The recipe of
# the rank study (docs/rank_correlation.md), for the supernet fine-tuning
# and the standalone retraining alike. Another length N:
# train_cfg.max_iters=N (the pipeline rescales the scheduler boundaries).
_base_ = './schedule_detnas-90k.py'

max_iters = 600
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
        end=50),
    # T_max defaults to end - begin, so it follows a rescaled schedule.
    dict(
        type='CosineAnnealingLR',
        by_epoch=False,
        begin=50,
        end=max_iters,
        eta_min=0.0)
]
optim_wrapper = dict(
    optimizer=dict(lr=0.06),
    paramwise_cfg=dict(_delete_=True),
    clip_grad=dict(max_norm=35, norm_type=2))
auto_scale_lr = dict(base_batch_size=8)
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
log_processor = dict(window_size=50)
