"""`mim train detnas_mm <config name>` finds a shipped config by name."""
import json
from pathlib import Path

import pytest

from tests.utils import run_tool

# Subprocess runs of the tools: deselect with -m 'not e2e'.
pytestmark = pytest.mark.e2e

CONFIG = 'faster-rcnn_detnas-supernet-300M_tiny-fpn_1xb2-300iter_coco-tiny.py'


def data_options(root: Path):
    """--cfg-options pointing the config at a COCO-layout folder."""
    ann = root / 'annotations'
    classes = [c['name'] for c in json.loads(
        (ann / 'instances_train2017.json').read_text())['categories']]
    names = '[' + ','.join(f"'{n}'" for n in classes) + ']'
    options = [f'model.roi_head.bbox_head.num_classes={len(classes)}']
    for loader, split in (('train', 'train2017'), ('val', 'val2017'),
                          ('test', 'val2017')):
        key = f'{loader}_dataloader.dataset'
        options += [f'{key}.data_root={root}/',
                    f'{key}.ann_file=annotations/instances_{split}.json',
                    f'{key}.data_prefix.img={split}/',
                    f'{key}.metainfo.classes={names}']
    for evaluator in ('val_evaluator', 'test_evaluator'):
        options.append(f'{evaluator}.ann_file={ann}/instances_val2017.json')
    return options


def test_mim_train_finds_the_shipped_config(tmp_path, coco_data_root):
    out = run_tool(
        ['mim', 'train', 'detnas_mm', CONFIG, '--work-dir', tmp_path,
         '--cfg-options', 'train_cfg.max_iters=1',
         'train_cfg.val_interval=10', *data_options(Path(coco_data_root))])
    # mim ran this package's train script on the shipped config.
    assert 'detnas_mm/.mim/tools/train.py' in out.stdout + out.stderr
    assert (tmp_path / 'iter_1.pth').is_file()
