"""Path scoring must carry signal: a path whose weights are scrambled is
ranked last among paths that share none of its ops.

A bug that made the scores noise (the path not set, BN statistics not
recalibrated, another calibration set per path) fails these tests.
"""
import copy

import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from detnas_mm.datasets import make_classification_dataset
from detnas_mm.engine.path_scoring import (CalibrationSet, evaluate,
                                           recalibrate, score_path,
                                           seed_everything)
from detnas_mm.models import find_supernet
from detnas_mm.models.backbones import get_search_space

# The module's fixture trains a supernet for 300 steps (about 10 s).
pytestmark = pytest.mark.e2e

SPACE = get_search_space(
    dict(depths=(1, 1, 1, 1), stem_channels=8,
         stage_channels=(16, 32, 48, 64), last_channels=64))
SIZE = 48
# Four paths that share no op (a Latin square): each op belongs to one
# path, so scrambling one path leaves the others intact.
VICTIM = (0, 1, 2, 3)
OTHERS = [(1, 2, 3, 0), (2, 3, 0, 1), (3, 0, 1, 2)]


def _loader(root, split, batch_size, shuffle, pipeline):
    return dict(
        batch_size=batch_size, num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=shuffle),
        collate_fn=dict(type='default_collate'),
        dataset=dict(type='CustomDataset', data_root=str(root),
                     data_prefix=split, pipeline=pipeline))


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """A tiny classification supernet, its four disjoint paths trained in
    turn on generated shapes (seconds on one thread). Uniform sampling over
    all paths would need far longer to lift every path above chance
    (docs/pretraining.md); what is tested here is the scoring."""
    torch.set_num_threads(1)
    init_default_scope('mmpretrain')
    from mmpretrain.registry import MODELS
    root = make_classification_dataset(
        tmp_path_factory.mktemp('shapes') / 'cls', num_classes=4,
        per_class_train=100, per_class_val=25, image_size=SIZE)
    num_classes = len([p for p in (root / 'train').iterdir() if p.is_dir()])
    train_pipeline = [
        dict(type='LoadImageFromFile', color_type='color'),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='PackInputs')
    ]
    test_pipeline = [
        dict(type='LoadImageFromFile', color_type='color'),
        dict(type='PackInputs')
    ]
    seed_everything(0)
    model = MODELS.build(dict(
        type='ImageClassifier',
        data_preprocessor=dict(mean=[127.5] * 3, std=[64.] * 3,
                               to_rgb=True),
        backbone=dict(type='detnas_mm.DetNASSupernet', space=SPACE,
                      out_indices=(4, )),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=num_classes,
                  in_channels=64)))
    model.init_weights()
    train_cfg = _loader(root, 'train', 32, True, train_pipeline)
    loader = Runner.build_dataloader(copy.deepcopy(train_cfg), seed=0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    supernet = find_supernet(model)
    paths = [VICTIM] + OTHERS
    model.train()
    steps = 0
    while steps < 300:
        for batch in loader:
            supernet.set_path(paths[steps % len(paths)])
            data = model.data_preprocessor(batch, True)
            loss = sum(model(**data, mode='loss').values())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            steps += 1
            if steps == 300:
                break
    val_loader = Runner.build_dataloader(
        _loader(root, 'val', 32, False, test_pipeline), seed=0)
    evaluator = Evaluator([dict(type='Accuracy', topk=(1, ))])
    evaluator.dataset_meta = val_loader.dataset.metainfo
    calibration = CalibrationSet(train_cfg, 64, seed=0)
    return dict(model=model, calibration=calibration, loader=val_loader,
                evaluator=evaluator, num_classes=num_classes)


def _scramble(model, arch):
    """Replace the conv weights of every op of ``arch`` by noise."""
    supernet = find_supernet(model)
    generator = torch.Generator().manual_seed(1)
    for block, choice in zip(supernet.blocks, arch):
        for m in block.ops[str(choice)].modules():
            if isinstance(m, torch.nn.Conv2d):
                m.weight.data = torch.randn(
                    m.weight.shape, generator=generator) * m.weight.std()


def test_a_scrambled_path_is_ranked_last(trained):
    before = {}
    for arch in [VICTIM] + OTHERS:
        metrics, _ = score_path(trained['model'], arch,
                                trained['calibration'], trained['loader'],
                                trained['evaluator'])
        before[arch] = metrics['accuracy/top1']
    model = copy.deepcopy(trained['model'])
    _scramble(model, VICTIM)
    scores = {}
    for arch in [VICTIM] + OTHERS:
        metrics, _ = score_path(model, arch, trained['calibration'],
                                trained['loader'], trained['evaluator'])
        scores[arch] = metrics['accuracy/top1']
    chance = 100 / trained['num_classes']
    # Trained, every path scored above chance; scrambled, the victim drops
    # to last, and the other paths keep their scores exactly.
    print(f'\nbefore {before}\nafter {scores}')
    assert min(before.values()) > chance, before
    ranked = sorted(scores, key=scores.get)
    assert ranked[0] == VICTIM, scores
    assert scores[VICTIM] < before[VICTIM], (before, scores)
    assert all(scores[a] == before[a] for a in OTHERS), (before, scores)


def test_scores_are_deterministic_and_use_the_recalibration(trained):
    model = copy.deepcopy(trained['model'])
    arch = OTHERS[1]
    first, _ = score_path(model, arch, trained['calibration'],
                          trained['loader'], trained['evaluator'])
    again, _ = score_path(model, arch, trained['calibration'],
                          trained['loader'], trained['evaluator'])
    # The same calibration images and augmentation every time.
    assert first == again
    # With the running statistics training left (shared by every path)
    # the same path scores otherwise: the recalibration is part of it.
    fresh = copy.deepcopy(trained['model'])
    find_supernet(fresh).set_path(arch)
    stale = evaluate(fresh, trained['loader'], trained['evaluator'])
    assert stale['accuracy/top1'] != first['accuracy/top1']
    recalibrate(fresh, trained['calibration'])
    assert evaluate(fresh, trained['loader'], trained['evaluator']) == \
        pytest.approx(first)


def test_calibration_batches_mix_the_classes(trained):
    # The classification folders list the images class by class; batches
    # of consecutive indices would hold one or two classes each, and the
    # training-mode forward of the recalibration would normalise the class
    # signal away (a trained path then scores near chance).
    calibration = trained['calibration']
    for _, batch in calibration:
        labels = {int(sample.gt_label) for sample in batch['data_samples']}
        assert len(labels) == trained['num_classes']
    # The same images whatever their order: the recorded set is sorted.
    assert calibration.indices == sorted(calibration.indices)
