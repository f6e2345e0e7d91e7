"""How fast does the 300M supernet learn as paths share more of its ops?

Trains the ImageNet-form supernet of the shipped model config
(``configs/_base_/models/detnas-supernet_in1k.py``: backbone with its last
1x1 conv, global pooling, dropout 0.2, fc; SGD momentum 0.9, lr decayed
linearly to 0,
label smoothing 0.1, wd 4e-5 on conv/fc weights) on images held in memory,
under one of these path schedules:

- ``one``: always the published COCO FPN 300M path (a plain network);
- ``disjoint``: cycling through the four single-op paths (all ``0``, all
  ``1``, ...): four networks sharing only the stem, last conv and fc;
- ``pool``: cycling through ``--pool-size`` uniformly drawn paths (two
  such paths share about a quarter of their ops);
- ``uniform``: a new uniformly drawn path every iteration (DetNAS/SPOS).

It reports the mean training loss of the last 50 iterations and the top-1
on the validation images of the trained paths (the first 4 of a pool; for
``uniform``, 4 seeded random paths), each after recomputing BN statistics
with :func:`detnas_mm.engine.bn_recalibration.recalibrate_bn` on 320
training images.

``--memorize`` trains on 4 fixed batches (128 images) instead of random
batches of the whole training set: an overfitting test.

``--init`` picks the backbone's initialisation: ``detnas`` (the official
DetNAS init, ``detnas_mm.DetNASInit``, the backbone's default) or
``kaiming`` (mmengine's Kaiming fan-out convs, BN weight 1 and bias 0).
``--seed`` seeds the weights, the batches and the paths.

    python benchmarks/supernet_path_interference.py --schedule uniform
    python benchmarks/supernet_path_interference.py --schedule pool \\
        --pool-size 8
    python benchmarks/supernet_path_interference.py --depths 1,1,2,1 \\
        --iters 2400
    python benchmarks/supernet_path_interference.py --init kaiming \\
        --lr 0.1 --seed 1

Data: an ImageNet-style folder (``<root>/{train,val}/<class>/*.jpg``),
resized to ``--resize`` px and randomly cropped to ``--crop`` px, flipped.
"""
import argparse
import json
import os
import os.path as osp
import random
import time

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmpretrain.registry import MODELS
from PIL import Image

from detnas_mm.engine.bn_recalibration import recalibrate_bn
from detnas_mm.models.backbones import get_search_space
from detnas_mm.published_archs import PUBLISHED_ARCHS

MODEL_CONFIG = osp.join(
    osp.dirname(osp.abspath(__file__)), '..', 'configs', '_base_', 'models',
    'detnas-supernet_in1k.py')

# The two initialisations --init chooses from (model.backbone.init_cfg).
INITS = dict(
    detnas=dict(type='detnas_mm.DetNASInit'),
    kaiming=[
        dict(type='Kaiming', layer='Conv2d'),
        dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])
    ])

MEAN = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
STD = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)


def load_split(root, size):
    """All images of a split as one normalised tensor, and their labels."""
    classes = sorted(os.listdir(root))
    images, labels = [], []
    for label, name in enumerate(classes):
        for file in sorted(os.listdir(osp.join(root, name))):
            img = Image.open(osp.join(root, name, file)).convert('RGB')
            img = img.resize((size, size), Image.BILINEAR)
            images.append(torch.from_numpy(np.asarray(img).copy()))
            labels.append(label)
    x = torch.stack(images).permute(0, 3, 1, 2).float()
    return (x - MEAN) / STD, torch.tensor(labels), len(classes)


def build_classifier(space, num_classes, init='detnas'):
    """The shipped ImageNet-form model config, for ``num_classes``."""
    if init not in INITS:
        raise ValueError(f'init must be one of {sorted(INITS)}, got '
                         f'{init!r}')
    cfg = Config.fromfile(MODEL_CONFIG).model
    cfg.backbone.space = space
    cfg.backbone.init_cfg = INITS[init]
    cfg.head.num_classes = num_classes
    cfg.head.in_channels = get_search_space(space).last_channels
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def path_schedule(name, space, seed, pool_size):
    """The paths to train on, and a function of the iteration that picks."""
    rng = random.Random(seed)

    def draw():
        return tuple(
            rng.choice(space.choices) for _ in range(space.num_blocks))

    if name == 'one':
        paths = [PUBLISHED_ARCHS['coco_fpn_300M'][1]]
    elif name == 'disjoint':
        paths = [(c, ) * space.num_blocks for c in space.choices]
    elif name == 'pool':
        pool = [draw() for _ in range(pool_size)]
        return pool[:4], lambda it: pool[it % pool_size]
    elif name == 'uniform':
        eval_rng = random.Random(seed + 1)
        paths = [
            tuple(
                eval_rng.choice(space.choices)
                for _ in range(space.num_blocks)) for _ in range(4)
        ]
        return paths, lambda it: draw()
    else:
        raise ValueError(f'unknown schedule {name!r}')
    return paths, lambda it: paths[it % len(paths)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data-root', default='../shared/data/imagenette_sub')
    parser.add_argument(
        '--schedule',
        default='uniform',
        choices=['one', 'disjoint', 'pool', 'uniform'])
    parser.add_argument('--pool-size', type=int, default=2)
    parser.add_argument('--space', default='300M')
    parser.add_argument(
        '--depths',
        help='blocks per stage, e.g. 1,1,2,1: the --space widths at '
        'another depth')
    parser.add_argument('--iters', type=int, default=600)
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--lr', type=float, default=0.05)
    parser.add_argument('--head-lr-mult', type=float, default=0.1)
    parser.add_argument('--resize', type=int, default=72)
    parser.add_argument('--crop', type=int, default=64)
    parser.add_argument('--memorize', action='store_true')
    parser.add_argument(
        '--init',
        default='detnas',
        choices=sorted(INITS),
        help='backbone initialisation (default: '
        '%(default)s, the official one)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', help='append the result as a JSON line')
    args = parser.parse_args()
    if args.pool_size < 1:
        parser.error(f'--pool-size must be at least 1, got {args.pool_size}')

    # mmengine logs every initialised tensor at INFO level.
    MMLogger.get_current_instance().setLevel('WARNING')
    torch.manual_seed(args.seed)
    x_train, y_train, num_classes = load_split(
        osp.join(args.data_root, 'train'), args.resize)
    x_val, y_val, _ = load_split(osp.join(args.data_root, 'val'), args.resize)
    space = get_search_space(args.space)
    if args.depths:
        depths = tuple(int(d) for d in args.depths.split(','))
        space = get_search_space(
            dict(
                space.to_dict(),
                name=f'{space.name}-{args.depths}',
                depths=depths))
    model = build_classifier(space.to_dict(), num_classes, args.init)
    eval_paths, path_of = path_schedule(args.schedule, space, args.seed,
                                        args.pool_size)

    head = list(model.head.parameters())
    body = list(model.backbone.parameters())
    groups = [
        dict(params=[p for p in body if p.ndim > 1], lr_mult=1.),
        dict(
            params=[p for p in body if p.ndim <= 1],
            lr_mult=1.,
            weight_decay=0.),
        dict(
            params=[p for p in head if p.ndim > 1], lr_mult=args.head_lr_mult),
        dict(
            params=[p for p in head if p.ndim <= 1],
            lr_mult=args.head_lr_mult,
            weight_decay=0.),
    ]
    optimizer = torch.optim.SGD(
        groups, lr=args.lr, momentum=0.9, weight_decay=4e-5)

    gen = torch.Generator().manual_seed(args.seed)
    margin = args.resize - args.crop
    losses, start = [], time.time()
    model.train()
    for it in range(args.iters):
        for group in optimizer.param_groups:
            group['lr'] = group['lr_mult'] * args.lr * (1 - it / args.iters)
        if args.memorize:
            index = torch.arange(args.batch_size) * 3 + (it % 4) * 100
            index = index % len(x_train)
        else:
            index = torch.randint(
                0, len(x_train), (args.batch_size, ), generator=gen)
        top, left = torch.randint(0, margin + 1, (2, ), generator=gen)
        x = x_train[index, :, top:top + args.crop, left:left + args.crop]
        if torch.rand(1, generator=gen) < 0.5:
            x = x.flip(3)
        model.backbone.set_path(path_of(it))
        loss = F.cross_entropy(model(x), y_train[index], label_smoothing=0.1)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    train_time = time.time() - start

    def centre(x):
        o = margin // 2
        return x[:, :, o:o + args.crop, o:o + args.crop]

    calib = [
        centre(x_train[i:i + 32]) for i in range(0, min(320, len(x_train)), 32)
    ]
    top1 = []
    for path in eval_paths:
        model.backbone.set_path(path)
        recalibrate_bn(model, calib, lambda m, batch: m(batch))
        model.eval()
        with torch.no_grad():
            pred = model(centre(x_val)).argmax(1)
        top1.append(round((pred == y_val).float().mean().item() * 100, 1))
    result = dict(
        schedule=args.schedule,
        init=args.init,
        seed=args.seed,
        depths=list(space.depths),
        pool_size=args.pool_size if args.schedule == 'pool' else None,
        memorize=args.memorize,
        iters=args.iters,
        lr=args.lr,
        head_lr_mult=args.head_lr_mult,
        crop=args.crop,
        loss_first50=round(float(np.mean(losses[:50])), 3),
        loss_last50=round(float(np.mean(losses[-50:])), 3),
        val_top1=top1,
        mean_val_top1=round(float(np.mean(top1)), 1),
        train_seconds=round(train_time))
    print(json.dumps(result))
    if args.out:
        with open(args.out, 'a') as f:
            f.write(json.dumps(result) + '\n')


if __name__ == '__main__':
    main()
