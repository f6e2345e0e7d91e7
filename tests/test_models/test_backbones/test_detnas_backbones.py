import pytest
import torch

from detnas_mm.models.backbones import (DetNASNet, DetNASSupernet,
                                        get_search_space)
from tests.utils import random_arch

# Tiny widths with the real depths of each space, so every block position
# of the published spaces is exercised quickly on CPU.
TINY = dict(stem_channels=8, stage_channels=(16, 32, 48, 64),
            last_channels=64)
SPACES = {
    '300M': get_search_space(dict(name='tiny300M', depths=(4, 4, 8, 4),
                                  **TINY)),
    '1.3G': get_search_space(dict(name='tiny1.3G', depths=(8, 8, 16, 8),
                                  **TINY)),
}


def randomize_bn(model, seed):
    # Non-trivial running statistics, so eval-mode equality means
    # something.
    gen = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.1, generator=gen)
            m.running_var.uniform_(0.5, 1.5, generator=gen)
            m.weight.data.uniform_(0.5, 1.5, generator=gen)
            m.bias.data.normal_(0, 0.1, generator=gen)


@pytest.mark.parametrize('name', ['300M', '1.3G', '3.8G'])
def test_real_spaces_shapes_and_strides(name):
    model = DetNASSupernet(name, out_indices=(0, 1, 2, 3, 4))
    model.set_path([0] * model.space.num_blocks)
    outs = model(torch.zeros(1, 3, 64, 64))
    assert tuple(o.shape[1] for o in outs) == model.out_channels
    assert model.out_strides == (4, 8, 16, 32, 32)
    assert [64 // o.shape[-1] for o in outs] == [4, 8, 16, 32, 32]


@pytest.mark.parametrize('name', SPACES)
@pytest.mark.parametrize('seed', [0, 1, 2])
def test_supernet_path_equals_standalone(name, seed):
    space = SPACES[name]
    arch = random_arch(space, seed)
    torch.manual_seed(seed)
    supernet = DetNASSupernet(space, out_indices=(0, 1, 2, 3, 4))
    supernet.init_weights()
    randomize_bn(supernet, seed)
    supernet.set_path(arch)
    net = DetNASNet(space, arch, out_indices=(0, 1, 2, 3, 4))
    result = net.load_state_dict(supernet.state_dict(), strict=False)
    assert not result.missing_keys and not result.unexpected_keys
    supernet.eval(), net.eval()
    x = torch.randn(2, 3, 64, 96)
    with torch.no_grad():
        for a, b in zip(supernet(x), net(x)):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=0)


@pytest.mark.parametrize('name', SPACES)
def test_only_the_path_gets_gradients(name):
    space = SPACES[name]
    arch = random_arch(space, 7)
    supernet = DetNASSupernet(space, arch=arch)
    loss = sum(o.mean() for o in supernet(torch.randn(2, 3, 64, 64)))
    loss.backward()
    path = supernet.path
    for b, block in enumerate(supernet.blocks):
        for digit, op in block.ops.items():
            grads = [p.grad is not None and p.grad.abs().sum() > 0
                     for p in op.parameters()]
            if int(digit) == path[b]:
                assert all(grads), f'block {b} op {digit} missing grads'
            else:
                assert not any(grads), f'block {b} op {digit} got grads'


@pytest.mark.parametrize('choice', [0, 1, 2, 3])
def test_each_choice_op(choice):
    space = SPACES['300M']
    net = DetNASNet(space, [choice] * space.num_blocks)
    outs = net(torch.randn(2, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [16, 32, 48, 64]


def test_norm_cfg_reaches_every_choice_op():
    model = DetNASSupernet(SPACES['300M'], norm_cfg=dict(type='SyncBN'))
    norms = [m for m in model.modules()
             if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert norms and all(isinstance(m, torch.nn.SyncBatchNorm)
                         for m in norms)
    # Every op of every block has its own norm layers.
    for block in model.blocks:
        for op in block.ops.values():
            assert any(isinstance(m, torch.nn.SyncBatchNorm)
                       for m in op.modules())


def test_classification_checkpoint_loads_into_detection_backbone():
    space = SPACES['300M']
    cls_form = DetNASSupernet(space, out_indices=(4, ))
    det_form = DetNASSupernet(space, out_indices=(0, 1, 2, 3))
    result = det_form.load_state_dict(cls_form.state_dict(), strict=True)
    assert not result.missing_keys and not result.unexpected_keys


def test_checkpoint_of_another_space_is_refused():
    other = DetNASSupernet(SPACES['1.3G'])
    net = DetNASNet(SPACES['300M'], '0000|0000|00000000|0000')
    with pytest.raises(ValueError, match='different search space.*depths '
                       '8/8/16/8.*tiny300M'):
        net.load_state_dict(other.state_dict(), strict=False)


def test_frozen_stages_and_norm_eval():
    model = DetNASSupernet(SPACES['300M'], arch=[0] * 20, frozen_stages=1,
                           norm_eval=True)
    model.train()
    assert not any(p.requires_grad for p in model.stem.parameters())
    assert not any(p.requires_grad for p in model.stages[0].parameters())
    assert all(p.requires_grad for p in model.stages[1].parameters())
    assert not any(m.training for m in model.modules()
                   if isinstance(m, torch.nn.BatchNorm2d))


@pytest.mark.parametrize('kwargs,match', [
    (dict(out_indices=(0, 5)), r'out_indices \(0, 5\) must be distinct '
     r'values from \(0, 1, 2, 3, 4\)'),
    (dict(frozen_stages=7), r'frozen_stages must be in \[-1, 4\], got 7'),
    (dict(arch='0000'), 'needs 4/4/8/4'),
])
def test_bad_backbone_args(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DetNASSupernet(SPACES['300M'], **kwargs)


def test_supernet_without_path_explains():
    model = DetNASSupernet(SPACES['300M'])
    with pytest.raises(RuntimeError, match='no path'):
        model(torch.zeros(1, 3, 32, 32))
