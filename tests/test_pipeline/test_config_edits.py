"""Schedule edits the pipeline makes to the configs it chains."""
import torch
from mmengine.config import Config
from mmengine.optim.scheduler import LinearLR, PolyLR

from detnas_mm.pipeline.config_edits import set_iters


def schedule(iters):
    return Config(dict(
        train_cfg=dict(max_iters=1000),
        default_hooks=dict(),
        param_scheduler=[
            dict(type='LinearLR', start_factor=0.1, by_epoch=False,
                 begin=0, end=50),
            dict(type='PolyLR', by_epoch=False, begin=50, end=1000)
        ]))


def test_schedule_keeps_its_shape():
    cfg = schedule(1000)
    set_iters(cfg, 600)
    assert cfg.train_cfg.max_iters == 600
    assert [(s['begin'], s['end']) for s in cfg.param_scheduler] == [
        (0, 30), (30, 600)]


def test_a_short_warm_up_does_not_vanish():
    # 50 of 1000 iterations scaled to 4 would end where it begins, which
    # mmengine refuses.
    cfg = schedule(1000)
    set_iters(cfg, 4)
    warm_up, decay = cfg.param_scheduler
    assert (warm_up['begin'], warm_up['end']) == (0, 1)
    assert decay['end'] == 4
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1)
    LinearLR(optimizer, start_factor=0.1, by_epoch=False,
             begin=warm_up['begin'], end=warm_up['end'])
    PolyLR(optimizer, by_epoch=False, begin=decay['begin'],
           end=decay['end'])
