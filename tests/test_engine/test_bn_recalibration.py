import torch
import torch.nn as nn

from detnas_mm.engine.bn_recalibration import recalibrate_bn
from detnas_mm.models.backbones import DetNASSupernet, get_search_space


def run(model, batch):
    model(batch)


def test_statistics_are_exact_over_the_calibration_set():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.Conv2d(4, 5, 1), nn.BatchNorm2d(5),
                          nn.Dropout(0.5))
    # Uneven batch sizes: an average of per-batch statistics would differ
    # from the exact statistics of the whole set.
    batches = [torch.randn(n, 3, 8, 8) * 3 + 1 for n in (5, 1, 7, 3)]
    model.train(False)
    bn1, bn2 = model[1], model[4]
    recalibrate_bn(model, batches, run)

    # Reference: the same pass by hand, BN with batch statistics.
    inputs1, inputs2 = [], []
    for x in batches:
        h = model[0](x)
        inputs1.append(h)
        h = nn.functional.batch_norm(h, None, None, bn1.weight, bn1.bias,
                                     training=True)
        inputs2.append(model[3](model[2](h)))
    for bn, inputs in ((bn1, inputs1), (bn2, inputs2)):
        values = torch.cat([i.transpose(0, 1).reshape(bn.num_features, -1)
                            for i in inputs], 1).double()
        torch.testing.assert_close(bn.running_mean.double(),
                                   values.mean(1), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(bn.running_var.double(),
                                   values.var(1), atol=1e-5, rtol=1e-5)
    assert not model.training and not bn1.training  # flags restored


def test_only_the_path_is_recalibrated():
    space = get_search_space(
        dict(depths=(1, 1), stem_channels=8, stage_channels=(16, 32),
             last_channels=32))
    model = DetNASSupernet(space, arch='0|3', out_indices=(0, 1))
    before = {k: v.clone() for k, v in model.state_dict().items()
              if 'running' in k}
    recalibrate_bn(model, [torch.randn(2, 3, 32, 32)], run)
    after = model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert any('ops.0.' in k for k in changed)
    assert any('ops.3.' in k for k in changed)
    assert not any('ops.1.' in k or 'ops.2.' in k for k in changed)


def test_running_average_is_the_official_exponential_one():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    batches = [torch.randn(4, 3, 8, 8) * 2 + 1 for _ in range(6)]
    model.eval()
    recalibrate_bn(model, batches, run, averaging='running', momentum=0.1)
    # By hand: statistics reset to 0 / 1, then BN's own update per batch.
    reference = nn.BatchNorm2d(4, momentum=0.1)
    with torch.no_grad():
        for x in batches:
            reference(model[0](x))
    torch.testing.assert_close(model[1].running_mean,
                               reference.running_mean)
    torch.testing.assert_close(model[1].running_var, reference.running_var)
    assert model[1].momentum == 0.1 and not model.training


def test_the_whole_model_runs_in_training_mode():
    # As the official recalibration: a detector's RPN and RoI sampler work
    # as in training, so every module must see training mode.
    seen = []

    class Probe(nn.Module):

        def forward(self, x):
            seen.append(self.training)
            return x

    model = nn.Sequential(nn.Conv2d(3, 4, 3), Probe(), nn.BatchNorm2d(4))
    model.eval()
    recalibrate_bn(model, [torch.randn(2, 3, 8, 8)], run)
    assert seen == [True] and not model.training


def test_bad_averaging_is_refused():
    import pytest
    with pytest.raises(ValueError, match="averaging must be one of"):
        recalibrate_bn(nn.BatchNorm2d(2), [], run, averaging='ema')
