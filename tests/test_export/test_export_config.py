"""The exported config files: valid, portable, and the arch reads back."""
import json

import pytest
from mmengine.config import Config

from detnas_mm.export import (RETRAIN_BASES, export_detection_config,
                              export_imagenet_config, export_names,
                              export_search_result, read_arch_from_config,
                              read_search_result)
from detnas_mm.models.backbones.search_space import get_search_space
from detnas_mm.published_archs import PUBLISHED_ARCHS
from tests.utils import CONFIGS, REPO_ROOT, load_script, run_tool

EXPORT_TOOL = REPO_ROOT / 'tools' / 'export_arch.py'

CUSTOM_SPACE = dict(
    name='tiny', depths=[1, 2, 1, 1], stem_channels=8,
    stage_channels=[16, 32, 48, 64], last_channels=96, choices=[0, 3])


@pytest.mark.parametrize('space,arch,base', [
    ('300M', '2120|2112|33130031|3132', 'faster-rcnn_coco'),
    ('1.3G', PUBLISHED_ARCHS['detnasnet_1.3G'][1], 'retinanet_voc'),
    (CUSTOM_SPACE, '3|03|0|3', 'faster-rcnn_coco-tiny'),
])
def test_export_round_trip_from_another_dir(tmp_path, monkeypatch, space,
                                            arch, base):
    provenance = dict(search_run='work_dirs/search_a', score=0.3125,
                      score_key='coco/bbox_mAP', flops=123456789,
                      params=2345678)
    paths = export_search_result(arch, space, tmp_path / 'out', base,
                                 provenance)
    assert set(paths) == {'detection', 'imagenet'}
    other = tmp_path / 'elsewhere'
    other.mkdir()
    monkeypatch.chdir(other)
    for kind, path in paths.items():
        text = open(path).read()
        compile(text, path, 'exec')  # valid Python
        assert '\n_base_' not in text  # self-contained
        header = [line for line in text.splitlines()
                  if line.startswith('#')]
        header = ' '.join(header)
        for fact in ('work_dirs/search_a', 'coco/bbox_mAP = 0.3125',
                     '123.5 MFLOPs', '2.346 M params', arch):
            assert fact in header
        cfg = Config.fromfile(path)
        read_space, genes = read_arch_from_config(path)
        assert genes == arch
        assert get_search_space(read_space) == get_search_space(space)
        if kind == 'detection':
            assert cfg.model.neck.in_channels == list(
                get_search_space(space).stage_channels)
        else:
            assert cfg.model.head.in_channels == get_search_space(
                space).last_channels


def test_export_computes_cost_and_names(tmp_path):
    arch = PUBLISHED_ARCHS['coco_fpn_300M'][1]
    names = export_names(arch, '300M', 'faster-rcnn_coco')
    assert names['detection'] == (
        'faster-rcnn_detnasnet-300M-21202112331300313132_fpn_1x_coco.py')
    assert names['imagenet'] == (
        'detnasnet-300M-21202112331300313132_8xb128-300k_in1k.py')
    path = export_detection_config(arch, '300M', tmp_path / 'a.py')
    # The official count (conv only) of the backbone at 224: 288.1 MFLOPs.
    text = open(path).read()
    assert '288.1 MFLOPs' in text and 'official count' in text


def test_exported_published_arch_equals_shipped_config(tmp_path):
    """Exporting a published arch reproduces the shipped leaf config."""
    space, arch = PUBLISHED_ARCHS['coco_retinanet_300M']
    path = export_detection_config(arch, space, tmp_path / 'r.py',
                                   base='retinanet_coco')
    shipped = Config.fromfile(
        CONFIGS / 'detnasnet' /
        'retinanet_detnasnet-300M-coco-retinanet_fpn_1x_coco.py')
    exported = Config.fromfile(path)
    assert exported.model.to_dict() == shipped.model.to_dict()
    assert exported.train_cfg.to_dict() == shipped.train_cfg.to_dict()


def test_data_root_sets_classes(builtin_data, tmp_path):
    root = builtin_data['detection']
    path = export_detection_config(
        '0000|0000|00000000|0000', '300M', tmp_path / 'd.py',
        base='faster-rcnn_coco-tiny', data_root=str(root))
    cfg = Config.fromfile(path)
    with open(root / 'annotations' / 'instances_train2017.json') as f:
        names = [c['name'] for c in json.load(f)['categories']]
    assert cfg.model.roi_head.bbox_head.num_classes == len(names)
    assert list(cfg.train_dataloader.dataset.metainfo.classes) == names
    assert cfg.val_evaluator.ann_file.startswith(str(root))


def test_bad_inputs(tmp_path):
    with pytest.raises(ValueError, match='faster-rcnn_coco-tiny'):
        export_detection_config('0000|0000|00000000|0000', '300M',
                                tmp_path / 'x.py', base='mask-rcnn_coco')
    with pytest.raises(ValueError, match='300M'):
        export_detection_config('0000|0000|0000|0000', '300M',
                                tmp_path / 'x.py')
    with pytest.raises(ValueError, match='provenance|allowed'):
        export_imagenet_config('0000|0000|00000000|0000', '300M',
                               tmp_path / 'x.py', provenance=dict(mAP=1))
    shipped = CONFIGS / '_base_' / 'models'
    with pytest.raises(ValueError, match='arch'):
        read_arch_from_config(str(shipped / 'faster-rcnn_detnas_fpn.py'))
    with pytest.raises(FileNotFoundError, match='best_arch.json'):
        read_search_result(str(tmp_path))


def _tool_main():
    return load_script(EXPORT_TOOL).main


@pytest.fixture
def search_dir(tmp_path):
    """What the search loop writes at the end of a search."""
    search_dir = tmp_path / 'search'
    search_dir.mkdir()
    best = dict(space=get_search_space('300M').to_dict(),
                arch='1300|2333|23333220|2311', score_key='coco/bbox_mAP',
                score=0.25, flops=300000000, params=3000000,
                flops_mode='backbone', flops_input_size=[224, 224],
                checkpoint=None)
    (search_dir / 'best_arch.json').write_text(json.dumps(best))
    return search_dir


@pytest.mark.e2e
def test_cli_search_dir(search_dir, tmp_path):
    proc = run_tool([EXPORT_TOOL, '--search-dir', search_dir, '--base',
                     'retinanet_voc', '--json'], 300, cwd=tmp_path)
    paths = json.loads(proc.stdout.strip().splitlines()[-1])
    assert paths['detection'].startswith(str(search_dir / 'export'))
    assert read_arch_from_config(paths['detection']) == (
        '300M', '1300|2333|23333220|2311')
    header = open(paths['detection']).read()
    assert 'coco/bbox_mAP = 0.2500' in header
    assert str(search_dir) in header


def test_cli_search_dir_without_checkpoint_cannot_inherit(search_dir):
    with pytest.raises(SystemExit, match='checkpoint searched'):
        _tool_main()(['--search-dir', str(search_dir), '--inherit-weights'])


def test_cli_rejects_unknown_base(capsys):
    with pytest.raises(SystemExit) as exc:
        _tool_main()(['--arch', '0000|0000|00000000|0000', '--space', '300M',
                      '--base', 'mask-rcnn'])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    for base in RETRAIN_BASES:
        assert base in err
