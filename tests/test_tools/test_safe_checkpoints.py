"""A checkpoint whose pickle would run code is refused by every tool that
loads checkpoints, and nothing of it runs; the project's own checkpoints
load with ``weights_only=True`` and the allow-list."""
import pytest
import torch
from mmengine.config import Config

from detnas_mm.datasets.coco import set_coco_data_root
from detnas_mm.utils.checkpoint import (CheckpointRefusedError,
                                        safe_checkpoint_loading)
from tests.utils import CONFIGS, run_tool, search_setup

FINETUNE = (CONFIGS / 'supernet' /
            'faster-rcnn_detnas-supernet-300M_tiny-fpn_1xb2-300iter_'
            'coco-tiny.py')
MESSAGE = 'Refused to load a checkpoint'


class _Payload:
    """Unpickling it creates a file (what an attacker's code could do)."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, 'w'))


@pytest.fixture(scope='module')
def setup(tmp_path_factory, coco_data_root):
    root = tmp_path_factory.mktemp('safe_ckpt')
    marker = root / 'pwned'
    evil = root / 'evil.pth'
    torch.save(dict(state_dict={}, meta={}, payload=_Payload(str(marker))),
               str(evil))
    cfg = Config.fromfile(str(FINETUNE))
    set_coco_data_root(cfg, str(coco_data_root))
    config = root / 'finetune.py'
    cfg.dump(str(config))
    search = search_setup(root, coco_data_root, 'search.py',
                          supernet=False)['config']
    return dict(root=root, marker=marker, evil=evil, config=config,
                search=search)


def _refused(cmd, marker):
    out = run_tool(cmd, check=False)
    assert out.returncode != 0, out.stdout[-2000:]
    assert MESSAGE in out.stderr, out.stderr[-3000:]
    assert 'Traceback' not in out.stderr, out.stderr[-3000:]
    assert not marker.exists()
    return out.stderr


def test_in_process_loading_refuses_and_runs_nothing(setup):
    with pytest.raises(CheckpointRefusedError, match='would call io.open'):
        with safe_checkpoint_loading():
            torch.load(str(setup['evil']))
    assert not setup['marker'].exists()


def test_allow_list_outlives_the_block(tmp_path):
    """Types allowed for the whole process stay allowed after the block
    (torch's own safe_globals context would restore the list it found,
    dropping what a first import of detnas_mm.models added within it)."""
    from mmengine.logging.history_buffer import HistoryBuffer
    checkpoint = tmp_path / 'history.pth'
    buffer = HistoryBuffer()
    buffer.update(1.0)
    torch.save(dict(state_dict={}, message_hub=dict(loss=buffer)),
               str(checkpoint))
    before = torch.serialization.get_safe_globals()
    torch.serialization.clear_safe_globals()
    try:
        with safe_checkpoint_loading():
            torch.load(str(checkpoint))
        loaded = torch.load(str(checkpoint))  # outside the block
        assert loaded['message_hub']['loss'].mean() == 1.0
    finally:
        torch.serialization.clear_safe_globals()
        torch.serialization.add_safe_globals(before)


@pytest.mark.e2e
@pytest.mark.parametrize('tool', [
    'train --resume', 'train Pretrained', 'test', 'search',
    'export_arch --inherit-weights'
])
def test_every_tool_refuses_the_checkpoint(setup, tool, tmp_path):
    evil, work = setup['evil'], tmp_path / 'work'
    cmd = {
        'train --resume': ['tools/train.py', setup['config'], '--resume',
                           evil, '--work-dir', work],
        'train Pretrained': [
            'tools/train.py', setup['config'], '--work-dir', work,
            '--cfg-options', 'model.backbone.init_cfg.type=Pretrained',
            f'model.backbone.init_cfg.checkpoint={evil}',
            'model.backbone.init_cfg.prefix=backbone.'
        ],
        'test': ['tools/test.py', setup['config'], evil, '--work-dir', work],
        'search': ['tools/search.py', setup['search'], evil, '--work-dir',
                   work],
        'export_arch --inherit-weights': [
            'tools/export_arch.py', '--arch', '2120|2112|33130031|3132',
            '--space', '300M', '--base', 'faster-rcnn_coco-tiny',
            '--inherit-weights', evil, '--out-dir', work,
            '--calib-images', '0'
        ],
    }[tool]
    stderr = _refused(cmd, setup['marker'])
    assert str(evil) in stderr
