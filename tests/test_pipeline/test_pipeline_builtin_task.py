"""The main job's recipe on the built-in task: the configs it chains and
the standalone retraining, on a small copy of the task's data."""
import json
import os
import re
import subprocess
import sys

import pytest
from mmengine.config import Config

from detnas_mm.datasets.halo import (make_halo_classification_dataset,
                                     make_halo_detection_dataset)
from tests.utils import REPO_ROOT, tool_env

pytestmark = pytest.mark.e2e

TOOL = REPO_ROOT / 'tools' / 'pipeline.py'


@pytest.fixture(scope='module')
def finished_run(tmp_path_factory):
    root = tmp_path_factory.mktemp('halo')
    det = make_halo_detection_dataset(root / 'coco', num_train=60,
                                      num_test=20)
    cls = make_halo_classification_dataset(root / 'cls', per_class_train=12,
                                           per_class_val=4)
    work_dir = root / 'run'
    out = subprocess.run(
        [sys.executable, str(TOOL), '--preset', 'quick', '--work-dir',
         str(work_dir), '--det-data-root', str(det), '--cls-data-root',
         str(cls)], capture_output=True, text=True, timeout=900,
        env=tool_env())
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return work_dir, out.stdout


def test_the_built_in_task_gets_its_recipe(finished_run):
    work_dir, stdout = finished_run
    assert 'recipe: built-in task' in stdout
    finetune = Config.fromfile(work_dir / '3_finetune' / 'finetune_config.py')
    assert finetune.model.backbone.space == '300M-d1121'
    # No top-down path: the RoI features see the backbone's own field.
    assert finetune.model.neck.type == 'ChannelMapper'
    search = Config.fromfile(work_dir / '4_search' / 'search_config.py')
    assert search.model.neck.type == 'ChannelMapper'
    assert search.train_cfg.flops_limit == 123e6
    pretrain = Config.fromfile(work_dir / '1_pretrain' / 'pretrain_config.py')
    assert pretrain.model.head.num_classes == 4
    # The candidates were dealt over one process per core (the quick
    # preset's population is 4).
    processes = min(os.cpu_count() or 1, 4)
    launched = f'torch.distributed.run --nproc_per_node={processes}'
    assert (launched in stdout) == (processes > 1)
    # The architectures the supernet does not tell from the pick are
    # listed, and named on the console when there are others.
    best = json.loads((work_dir / '4_search' / 'best_arch.json').read_text())
    near = best['near_best']
    assert near[0] == best['arch']
    note = f'note: {len(near)} architectures score within the noise'
    assert (note in stdout) == (len(near) > 1 and best['can_rank'])
    summary = (work_dir / '7_report' / 'summary.md').read_text()
    assert 'Recipe: built-in task' in summary
    assert 'retraining standalone' in summary


def test_retraining_is_standalone(finished_run):
    """Every retrained architecture is pretrained on classification by
    itself, and its detector starts from that, never from the supernet."""
    work_dir, stdout = finished_run
    summary = json.loads(
        (work_dir / '7_report' / 'summary.json').read_text())
    results = summary['results']
    assert [r['role'] for r in results] == ['searched', 'random']
    # The supernet scores ran beside the retrainings; what the retraining
    # threads reported meanwhile reached the console, not the scores' log.
    scores_log = (work_dir / '6_retrain' / 'supernet_scores.log').read_text()
    assert 'test coco/bbox_mAP' not in scores_log
    assert stdout.count(': test coco/bbox_mAP') == len(results)
    best = json.loads((work_dir / '4_search' / 'best_arch.json').read_text())
    assert results[0]['search_score'] == best['score']
    for result in results:
        tag = re.sub(r'[^a-z0-9]+', '_', result['name'].lower()).strip('_')
        run_dir = work_dir / '6_retrain' / tag / 'standalone'
        det = Config.fromfile(run_dir / 'detection_config.py')
        checkpoint = (run_dir / 'imagenet' / 'last_checkpoint').read_text()
        assert det.model.backbone.init_cfg == dict(
            type='Pretrained', checkpoint=checkpoint.strip(),
            prefix='backbone.')
        assert det.model.backbone.arch == result['arch']
        assert not det.get('load_from')
        assert 'inherited' not in ''.join(
            p.name for p in (work_dir / '6_retrain' / tag).rglob('*'))
        cls = Config.fromfile(run_dir / 'imagenet_config.py')
        assert cls.train_cfg.max_iters == 4  # the quick preset's
        assert cls.model.backbone.arch == result['arch']
        metrics = json.loads((run_dir / 'metrics.json').read_text())
        assert result['test_mAP'] == metrics.get('coco/bbox_mAP', 0.0)
        saved = json.loads(
            (work_dir / '6_retrain' / tag / 'result.json').read_text())
        assert saved['search_score'] == result['search_score']
