"""Every shipped supernet pretraining config builds and runs on CPU."""
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from detnas_mm.cost import get_cost_table
from detnas_mm.engine.hooks import PathSamplerHook
from detnas_mm.models.backbones import DetNASSupernet
from detnas_mm.registry import HOOKS
from detnas_mm.samplers import build_path_sampler
from tests.utils import CONFIGS

SUPERNET = CONFIGS / 'supernet'
# Every pretraining config, the named ones whatever the glob finds (a
# missing one fails to build).
PRETRAIN_CONFIGS = sorted(
    set(SUPERNET.glob('detnas-supernet-*.py')) | {
        SUPERNET / name
        for name in ('detnas-supernet-300M_8xb128-300k_in1k.py',
                     'detnas-supernet-1.3G_8xb128-300k_in1k.py',
                     'detnas-supernet-300M_1xb32-600iter_imagenette-64px.py',
                     'detnas-supernet-5blocks_1xb32-2400iter_imagenette-'
                     '64px.py')
    })
FULL_SCALE = [p for p in PRETRAIN_CONFIGS if p.name.endswith('_in1k.py')]


def _ids(paths):
    return [p.stem for p in paths]


def _build_model(cfg):
    from mmpretrain.registry import MODELS
    init_default_scope(cfg.default_scope)
    model_cfg = cfg.model.copy()
    # As the Runner does: the top-level data_preprocessor joins the model.
    model_cfg.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    return MODELS.build(model_cfg)


def _tiny_batch(num_classes, size=32):
    from mmpretrain.structures import DataSample
    return dict(
        inputs=[
            torch.randint(0, 256, (3, size, size), dtype=torch.uint8)
            for _ in range(2)
        ],
        data_samples=[
            DataSample().set_gt_label(i % num_classes) for i in range(2)
        ])


@pytest.mark.parametrize('path', PRETRAIN_CONFIGS, ids=_ids(PRETRAIN_CONFIGS))
def test_config_builds_and_trains_a_path(path):
    cfg = Config.fromfile(str(path))
    model = _build_model(cfg)
    supernet = model.backbone
    assert isinstance(supernet, DetNASSupernet)
    assert supernet.out_channels == (supernet.space.last_channels, )
    assert model.head.fc.in_features == supernet.space.last_channels

    # The path hook builds its sampler for this supernet.
    hooks = [HOOKS.build(h) for h in cfg.custom_hooks]
    sampler_hook = next(h for h in hooks if isinstance(h, PathSamplerHook))
    sampler = build_path_sampler(sampler_hook.sampler_cfg, supernet.space)
    supernet.set_path(sampler.sample())

    num_classes = model.head.num_classes
    model.train()
    data = model.data_preprocessor(_tiny_batch(num_classes), True)
    losses = model(**data, mode='loss')
    assert torch.isfinite(losses['loss'])
    losses['loss'].backward()
    model.eval()
    with torch.no_grad():
        data = model.data_preprocessor(_tiny_batch(num_classes), False)
        assert model(**data, mode='tensor').shape == (2, num_classes)


@pytest.mark.parametrize('path', FULL_SCALE, ids=_ids(FULL_SCALE))
def test_full_scale_configs_have_the_published_recipe(path):
    cfg = Config.fromfile(str(path))
    assert cfg.train_dataloader.batch_size == 128  # x 8 GPUs = 1024
    assert cfg.auto_scale_lr.base_batch_size == 1024
    assert cfg.train_cfg.type == 'IterBasedTrainLoop'
    assert cfg.train_cfg.max_iters == 300000
    optimizer = cfg.optim_wrapper.optimizer
    assert (optimizer.type, optimizer.lr, optimizer.momentum,
            optimizer.weight_decay) == ('SGD', 0.5, 0.9, 4e-5)
    paramwise = cfg.optim_wrapper.paramwise_cfg
    assert paramwise.norm_decay_mult == 0 and paramwise.bias_decay_mult == 0
    [scheduler] = cfg.param_scheduler
    assert (scheduler.type, scheduler.power, scheduler.eta_min,
            scheduler.begin, scheduler.end) == ('PolyLR', 1.0, 0, 0, 300000)
    assert cfg.model.head.loss.label_smooth_val == 0.1
    assert cfg.model.head.num_classes == 1000
    transforms = {t.type: t for t in cfg.train_dataloader.dataset.pipeline}
    assert transforms['RandomResizedCrop'].scale == 224
    assert all(transforms['ColorJitter'][k] == 0.4
               for k in ('brightness', 'contrast', 'saturation'))
    assert transforms['RandomFlip'].prob == 0.5
    assert cfg.train_dataloader.dataset.type == 'ImageNet'
    assert cfg.val_cfg.type == 'detnas_mm.SupernetValLoop'


def test_weight_decay_skips_norms_and_biases():
    from mmengine.optim import build_optim_wrapper
    cfg = Config.fromfile(
        str(SUPERNET / 'detnas-supernet-300M_8xb128-300k_in1k.py'))
    model = _build_model(cfg)
    optim = build_optim_wrapper(model, cfg.optim_wrapper).optimizer
    decay = {
        id(p): g['weight_decay']
        for g in optim.param_groups
        for p in g['params']
    }
    for name, param in model.named_parameters():
        no_decay = name.endswith('.bias') or '.bn.' in name
        assert decay[id(param)] == (0 if no_decay else 4e-5), name


def test_300m_sampler_draws_in_the_official_flops_range():
    cfg = Config.fromfile(
        str(SUPERNET / 'detnas-supernet-300M_8xb128-300k_in1k.py'))
    hook = HOOKS.build(cfg.custom_hooks[0])
    sampler = build_path_sampler(hook.sampler_cfg, '300M')
    table = get_cost_table('300M', 224)
    flops = [
        table.cost(sampler.sample(), imagenet_head=True)[0] for _ in range(30)
    ]
    assert 290e6 <= min(flops) and max(flops) <= 360e6


DETNASNET_IN1K = sorted((CONFIGS / 'detnasnet').glob('*_8xb128-300k_in1k.py'))
# What only a supernet run has: its path hooks, its DDP setting, its
# validation through paths.
SUPERNET_ONLY = ('custom_hooks', 'model_wrapper_cfg', 'val_cfg', 'test_cfg',
                 'supernet_val')


def _recipe(cfg):
    recipe = cfg.to_dict()
    for key in SUPERNET_ONLY:
        recipe.pop(key, None)
    recipe['model'].pop('backbone')
    return recipe


@pytest.mark.parametrize('path', DETNASNET_IN1K, ids=_ids(DETNASNET_IN1K))
def test_searched_nets_are_pretrained_with_the_supernet_recipe(path):
    """ShuffleNet-Series DetNAS/train.py retrains a searched net with the
    supernet's recipe (batch 1024, 300k iterations, lr 0.5 linear to 0,
    wd 4e-5 on conv/fc weights, label smoothing, ColorJitter, no warm-up):
    everything but the backbone and the supernet's own hooks and loops is
    the supernet config's."""
    supernet = Config.fromfile(
        str(SUPERNET / 'detnas-supernet-300M_8xb128-300k_in1k.py'))
    cfg = Config.fromfile(str(path))
    assert cfg.model.backbone.type == 'detnas_mm.DetNASNet'
    recipe, expected = _recipe(cfg), _recipe(supernet)
    # The head follows the space's last conv (1728 channels in 3.8G).
    expected['model']['head']['in_channels'] = \
        recipe['model']['head']['in_channels']
    assert recipe == expected
    assert [h.type
            for h in cfg.custom_hooks] == ['detnas_mm.IterationSeedHook']


FROM_SCRATCH = FULL_SCALE + DETNASNET_IN1K


@pytest.mark.parametrize('path', FROM_SCRATCH, ids=_ids(FROM_SCRATCH))
def test_full_scale_from_scratch_configs_use_the_official_init(path):
    """No init_cfg in the config: the backbone's default, DetNASInit."""
    cfg = Config.fromfile(str(path))
    assert 'init_cfg' not in cfg.model.backbone
    model = _build_model(cfg)
    assert model.backbone.init_cfg == dict(type='detnas_mm.DetNASInit')


KAIMING = [
    dict(type='Kaiming', layer='Conv2d'),
    dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])
]


@pytest.mark.parametrize('init_cfg,bn_bias,stem_std', [
    (None, 1e-4, 0.01),
    (dict(type='detnas_mm.DetNASInit'), 1e-4, 0.01),
    (KAIMING, 0., None),
])
def test_init_is_selected_by_a_config_key(init_cfg, bn_bias, stem_std):
    """model.backbone.init_cfg picks the official init or mmengine's
    Kaiming list."""
    cfg = Config.fromfile(
        str(SUPERNET /
            'detnas-supernet-5blocks_1xb32-2400iter_imagenette-64px.py'))
    cfg.model.backbone.init_cfg = init_cfg
    torch.manual_seed(0)
    model = _build_model(cfg)
    model.init_weights()
    bns = [
        m for m in model.backbone.modules()
        if isinstance(m, torch.nn.BatchNorm2d)
    ]
    assert bns and all(
        torch.allclose(m.bias, torch.full_like(m.bias, bn_bias)) for m in bns)
    stem = next(m for m in model.backbone.stem.modules()
                if isinstance(m, torch.nn.Conv2d))
    if stem_std is not None:
        assert abs(stem.weight.std().item() - stem_std) < stem_std * 0.2
    else:
        # Kaiming fan-out: std sqrt(2 / (out_channels * 3 * 3)).
        fan_out = stem.weight.shape[0] * 9
        assert abs(stem.weight.std().item() - (2 / fan_out)**0.5) < 0.05


CPU_FROM_SCRATCH = [
    p for p in PRETRAIN_CONFIGS if p.name.endswith('_imagenette-64px.py')
] + [
    CONFIGS / 'detnasnet' / 'shufflenetv2-20_1xb32-600iter_imagenette-64px.py'
]


@pytest.mark.parametrize('path', CPU_FROM_SCRATCH, ids=_ids(CPU_FROM_SCRATCH))
def test_cpu_configs_keep_the_init_the_measurement_favours(path):
    """Kaiming: higher mean top-1 over random paths at CPU size in each of
    3 seeds (docs/pretraining.md)."""
    cfg = Config.fromfile(str(path))
    assert cfg.model.backbone.init_cfg == KAIMING
