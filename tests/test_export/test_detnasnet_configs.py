"""Every config under configs/detnasnet builds on CPU, runs a forward and
one training step; every file that metafile.yml and model-index.yml name
exists."""
import pytest
import torch
import yaml
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import MODELS, init_default_scope

from detnas_mm.datasets import random_detection_batch
from detnas_mm.export import RETRAIN_BASES, read_arch_from_config
from detnas_mm.published_archs import PUBLISHED_ARCHS
from tests.utils import REPO_ROOT

CONFIG_DIR = REPO_ROOT / 'configs' / 'detnasnet'
CONFIGS = sorted(p.name for p in CONFIG_DIR.glob('*.py'))


@pytest.mark.parametrize('name', CONFIGS)
def test_config_builds_forwards_and_trains_one_step(name):
    cfg = Config.fromfile(CONFIG_DIR / name)
    scope = cfg.get('default_scope')
    assert scope in ('mmdet', 'mmpretrain')
    init_default_scope(scope)
    if cfg.model.type == 'FasterRCNN':
        # The full-scale 4conv1fc head on 512 RoIs costs seconds per CPU
        # step; 16 proposals and RoIs run the same code.
        cfg.model.train_cfg.rpn_proposal.update(nms_pre=64, max_per_img=16)
        cfg.model.train_cfg.rcnn.sampler.num = 16
    model = revert_sync_batchnorm(MODELS.build(cfg.model)).eval()
    space, genes = read_arch_from_config(cfg)
    assert model.backbone.arch == genes
    size = 64 if scope == 'mmdet' else 32
    samples = None
    if scope == 'mmdet':
        from mmdet.structures import DetDataSample
        shape = (size, size)
        samples = [
            DetDataSample(metainfo=dict(
                img_shape=shape, ori_shape=shape, pad_shape=shape,
                scale_factor=(1.0, 1.0)))
        ]
    with torch.no_grad():
        out = model(torch.rand(1, 3, size, size), samples, mode='tensor')
    if scope == 'mmdet':
        # FPN in_channels must match the space's stage channels.
        assert list(cfg.model.neck.in_channels) == list(
            model.backbone.out_channels)
        flat = list(_tensors(out))
        assert flat and all(torch.isfinite(t).all() for t in flat)
    else:
        assert out.shape == (1, cfg.model.head.num_classes)
    _train_step(model, scope, size)


def _train_step(model, scope, size):
    """One forward and backward on a tiny random batch: a standalone net
    trains every parameter (what DDP's default expects)."""
    model.train()
    if scope == 'mmdet':
        losses = model(**random_detection_batch(model, size), mode='loss')
    else:
        from mmpretrain.structures import DataSample
        samples = [DataSample().set_gt_label(i) for i in range(2)]
        losses = model(torch.rand(2, 3, size, size), samples, mode='loss')
    loss, _ = model.parse_losses(losses)
    assert torch.isfinite(loss)
    loss.backward()
    untrained = [n for n, p in model.named_parameters()
                 if p.requires_grad and p.grad is None]
    assert not untrained, untrained


def _tensors(out):
    if isinstance(out, torch.Tensor):
        yield out
    else:
        for item in out:
            yield from _tensors(item)


def test_published_archs_have_configs():
    archs = {
        read_arch_from_config(str(CONFIG_DIR / name))
        for name in CONFIGS
    }
    for space, arch in PUBLISHED_ARCHS.values():
        assert (space, arch) in archs
    # The hand-crafted baselines: every block choice 0.
    assert ('300M', '0000|0000|00000000|0000') in archs
    assert ('1.3G', '00000000|00000000|0000000000000000|00000000') in archs


def test_retrain_bases_exist():
    for base in RETRAIN_BASES.values():
        assert (REPO_ROOT / 'configs' / base.detection).is_file()
        assert (REPO_ROOT / 'configs' / base.imagenet).is_file()


def test_metafile_and_model_index_name_existing_files():
    index = yaml.safe_load((REPO_ROOT / 'model-index.yml').read_text())
    metafiles = index['Import']
    assert 'configs/detnasnet/metafile.yml' in metafiles
    listed = set()
    for metafile in metafiles:
        meta = yaml.safe_load((REPO_ROOT / metafile).read_text())
        for collection in meta['Collections']:
            assert (REPO_ROOT / collection['README']).is_file()
            assert (REPO_ROOT / collection['Code']['URL']).is_file()
        for model in meta['Models']:
            path = REPO_ROOT / model['Config']
            assert path.is_file(), model['Config']
            assert model['Name'] == path.stem
            assert model['In Collection'] in {
                c['Name'] for c in meta['Collections']
            }
            assert model['Metadata']['FLOPs'] > 0
            assert model['Metadata']['Parameters'] > 0
            for result in model.get('Results', []):
                assert result['Task'] and result['Dataset']
                assert result['Metrics']
            listed.add(path.name)
    # Every shipped config is in the model index.
    assert listed == set(CONFIGS)
