"""Scoring one path of a supernet: set it, recalibrate BN, evaluate.

The search, the supernet validation loop, weight inheritance and the
rank-correlation tool all score paths; they do it through this module, so
a path gets the same score wherever it is scored:

1. :meth:`DetNASSupernet.set_path`;
2. :func:`~detnas_mm.engine.bn_recalibration.recalibrate_bn` on a
   :class:`CalibrationSet`: a fixed, seeded subset of the *training* images
   loaded with the *training* pipeline, run through the model in training
   mode with the losses computed (the official DetNAS recalibration);
3. the evaluator over the scoring split (eval mode).

Randomness is a function of the seed and the image (augmentation) or batch
(the detector's samplers) index only, so a path's score is the same in
every call, after a resume, and for any number of ranks.
"""
import copy
import random
import time
from contextlib import contextmanager
from functools import partial
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import torch
from mmengine import dist
from mmengine.registry import DATASETS, FUNCTIONS
from torch.utils.data import DataLoader, Dataset

from detnas_mm.engine.bn_recalibration import loss_forward, recalibrate_bn
from detnas_mm.models.utils import find_supernet


def _seed_of(*keys: int) -> int:
    """A 63-bit seed from integers (numpy's SeedSequence mixing)."""
    state = np.random.SeedSequence([int(k) for k in keys])
    return int(state.generate_state(1, np.uint64)[0] >> 1)


def seed_everything(seed: int) -> None:
    """Seed python's, numpy's and torch's global RNGs."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


@contextmanager
def global_rng_kept():
    """Restore the python, numpy and torch global RNG states on exit.

    Scoring then leaves the caller's randomness (training augmentation,
    dropout, the search's own RNG) exactly as it found it.
    """
    states = (random.getstate(), np.random.get_state(), torch.get_rng_state(),
              torch.cuda.get_rng_state_all()
              if torch.cuda.is_available() else None)
    try:
        yield
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
        torch.set_rng_state(states[2])
        if states[3] is not None:
            torch.cuda.set_rng_state_all(states[3])


class _SeededImages(Dataset):
    """A dataset whose item ``i`` is drawn with RNGs seeded by ``(seed, i)``.

    The training pipeline's random transforms (flip, crops, ...) draw from
    the global RNGs of whichever process loads the image; seeding them per
    image makes every image's augmentation the same in every pass, in any
    dataloader worker, on any rank.
    """

    def __init__(self, dataset, seed: int):
        self.dataset = dataset
        self.seed = seed

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        seed_everything(_seed_of(self.seed, index))
        return self.dataset[index]


class CalibrationSet:
    """A fixed, seeded set of training images to recompute BN statistics.

    ``num_images`` images are drawn (seeded) from the dataset of a
    dataloader config and loaded with that config's pipeline (the training
    pipeline, as the official recalibration), in batches of
    ``batch_size`` in the random order of the draw. Batch ``b`` holds the
    same images with the same augmentation whatever the number of ranks;
    rank ``r`` runs batches ``r, r + world_size, ...``.

    Args:
        loader_cfg: A dataloader config (the config's ``train_dataloader``).
        num_images: Images to draw (all of them if the set is smaller).
        batch_size: Images per batch (default: the loader's).
        num_workers: Loader workers (default: the loader's).
        seed: Seed of the draw and of the augmentation.
        cache: Keep this rank's batches in memory after the first pass
            (decoded once; the same batches every pass).
    """

    def __init__(self, loader_cfg: dict, num_images: int,
                 batch_size: Optional[int] = None,
                 num_workers: Optional[int] = None, seed: int = 0,
                 cache: bool = False):
        if not isinstance(num_images, int) or num_images < 1:
            raise ValueError(f'num_images must be a positive int, got '
                             f'{num_images!r}')
        cfg = copy.deepcopy(loader_cfg)
        dataset = cfg['dataset']
        self.dataset = DATASETS.build(dataset) if isinstance(
            dataset, dict) else dataset
        if len(self.dataset) == 0:
            raise ValueError('The calibration dataset is empty')
        self.seed = seed
        self.batch_size = batch_size or cfg.get('batch_size', 1)
        rng = np.random.default_rng(seed)
        count = min(num_images, len(self.dataset))
        drawn = [int(i) for i in rng.permutation(len(self.dataset))[:count]]
        self.indices = sorted(drawn)
        # Batches in the drawn (random) order, as the official shuffled
        # training loader gives them. Batches of consecutive indices would
        # be one class each in a folder-per-class dataset: BN's batch
        # statistics in the training-mode forward then normalise the class
        # away before the next layer is measured, and a well-trained path
        # scores near chance.
        batches = [drawn[i:i + self.batch_size]
                   for i in range(0, count, self.batch_size)]
        rank, world_size = dist.get_rank(), dist.get_world_size()
        self.num_batches = len(batches)
        self.batch_ids = list(range(rank, len(batches), world_size))
        if num_workers is None:
            num_workers = cfg.get('num_workers', 0)
        collate_cfg = copy.deepcopy(
            cfg.get('collate_fn', dict(type='pseudo_collate')))
        collate_fn = FUNCTIONS.get(collate_cfg.pop('type'))
        # No persistent workers: every pass starts from the seeds.
        self.loader = DataLoader(
            _SeededImages(self.dataset, seed),
            batch_sampler=[batches[b] for b in self.batch_ids],
            num_workers=num_workers,
            collate_fn=partial(collate_fn, **collate_cfg))
        self.cache = cache
        self._cached: Optional[List] = None

    def __len__(self) -> int:
        """Batches of this rank."""
        return len(self.batch_ids)

    def __iter__(self):
        """``(batch index, batch)`` pairs of this rank."""
        if self._cached is not None:
            return iter(zip(self.batch_ids, self._cached))
        if not self.cache:
            return iter(zip(self.batch_ids, self.loader))
        self._cached = list(self.loader)
        return iter(zip(self.batch_ids, self._cached))

    def images(self) -> List[dict]:
        """The drawn images: dataset index, image id and path."""
        images = []
        for i in self.indices:
            info = self.dataset.get_data_info(i)
            images.append(dict(index=i, img_id=info.get('img_id'),
                               img_path=info.get('img_path')))
        return images

    def check_even(self, model: torch.nn.Module) -> None:
        """Refuse batches that SyncBN ranks cannot share evenly.

        Every SyncBN forward is a collective: ranks must run the same
        number of batches.
        """
        world_size = dist.get_world_size()
        if world_size == 1 or self.num_batches % world_size == 0:
            return
        if any(isinstance(m, torch.nn.SyncBatchNorm)
               for m in model.modules()):
            raise ValueError(
                f'{self.num_batches} calibration batches cannot be shared '
                f'evenly by {world_size} ranks with SyncBN: make the number '
                f'of calibration images a multiple of world_size x batch '
                f'size ({world_size * self.batch_size})')


def recalibrate(model: torch.nn.Module, calibration: CalibrationSet,
                averaging: str = 'exact', momentum: float = 0.1,
                forward_fn: Optional[Callable] = None) -> int:
    """Recompute the BN statistics of the model's current path.

    The detector's own randomness in the training forward (the RPN's and
    the RoI head's samplers) is seeded per batch; the caller's RNG states
    are restored afterwards.

    Returns:
        int: Batches run on this rank.
    """
    forward_fn = forward_fn or loss_forward

    def batches():
        for index, batch in calibration:
            seed_everything(_seed_of(calibration.seed, 1 << 20, index))
            yield batch

    with global_rng_kept():
        return recalibrate_bn(model, batches(), forward_fn, averaging,
                              momentum)


@torch.no_grad()
def evaluate(model: torch.nn.Module, dataloader, evaluator,
             run_iter: Optional[Callable] = None) -> Dict[str, float]:
    """Run an mmengine evaluator over a dataloader, model in eval mode.

    Args:
        model: The (possibly wrapped) model; its ``val_step`` is called.
        dataloader: The scoring split.
        evaluator: An mmengine ``Evaluator``.
        run_iter: Optional ``run_iter(idx, batch)`` that does the step and
            ``evaluator.process`` itself (a loop calling its hooks).

    Returns:
        dict: The evaluator's metrics; ``{}`` if it returned nothing (mmdet's
        metrics return nothing when a model detects nothing).
    """
    model.eval()
    for idx, batch in enumerate(dataloader):
        if run_iter is not None:
            run_iter(idx, batch)
            continue
        outputs = model.val_step(batch)
        evaluator.process(data_samples=outputs, data_batch=batch)
    return evaluator.evaluate(len(dataloader.dataset)) or {}


def score_path(model: torch.nn.Module, arch, calibration: CalibrationSet,
               dataloader, evaluator, averaging: str = 'exact',
               momentum: float = 0.1,
               run_iter: Optional[Callable] = None
               ) -> Tuple[Dict[str, float], Dict[str, float]]:
    """Score one path: set it, recalibrate BN, evaluate.

    Args:
        model: The model whose backbone is a ``DetNASSupernet`` (possibly
            wrapped).
        arch: Gene string or choice digits.
        calibration: The calibration set.
        dataloader: The scoring split (a built dataloader).
        evaluator: The scoring split's evaluator.
        averaging, momentum: See :func:`recalibrate_bn`.
        run_iter: See :func:`evaluate`.

    Returns:
        tuple: The metrics (numbers only) and the timing in seconds
        (``calibration_s``, ``evaluation_s``).
    """
    find_supernet(model).set_path(arch)
    start = time.perf_counter()
    recalibrate(model, calibration, averaging, momentum)
    calibrated = time.perf_counter()
    metrics = evaluate(model, dataloader, evaluator, run_iter)
    done = time.perf_counter()
    metrics = {k: float(v) for k, v in metrics.items()
               if isinstance(v, (int, float, np.floating, np.integer))}
    return metrics, dict(calibration_s=calibrated - start,
                         evaluation_s=done - calibrated)
