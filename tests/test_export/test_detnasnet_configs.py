"""Every config under configs/detnasnet builds on CPU and runs a forward;
every file that metafile.yml and model-index.yml name exists."""
from pathlib import Path

import pytest
import torch
import yaml
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import MODELS, init_default_scope

from detnas_mm.export import RETRAIN_BASES, read_arch_from_config
from detnas_mm.published_archs import PUBLISHED_ARCHS

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO_ROOT / 'configs' / 'detnasnet'
CONFIGS = sorted(p.name for p in CONFIG_DIR.glob('*.py'))


def test_configs_found():
    assert len(CONFIGS) >= 21


@pytest.mark.parametrize('name', CONFIGS)
def test_config_builds_and_forwards(name):
    cfg = Config.fromfile(CONFIG_DIR / name)
    scope = cfg.get('default_scope')
    assert scope in ('mmdet', 'mmpretrain')
    init_default_scope(scope)
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
