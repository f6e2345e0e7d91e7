"""Seed torch's RNG from the iteration, for bit-exact resume."""
from typing import Optional

import numpy as np
import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook

from detnas_mm.registry import HOOKS


@HOOKS.register_module()
class IterationSeedHook(Hook):
    """Reseed torch's global RNG before every training iteration.

    mmengine checkpoints hold no RNG state, and a resumed run skips the
    trained batches without running the model, so from the first resumed
    step on, dropout draws different masks than the uninterrupted run did.
    With this hook the torch RNG state at the start of iteration ``i`` is a
    function of ``(seed, i, rank)`` only, so a resumed run draws exactly the
    masks the uninterrupted run drew. Ranks get different streams, as they
    train on different images.

    Data augmentation is unaffected: mmcv/mmpretrain transforms draw from
    numpy, and mmengine's dataloader skip on resume replays those draws.

    Args:
        seed: Base seed; None takes the runner's seed (``randomness.seed``,
            which a resumed run takes from the checkpoint).
    """

    priority = 'VERY_HIGH'

    def __init__(self, seed: Optional[int] = None):
        if seed is not None and (not isinstance(seed, int) or seed < 0):
            raise ValueError(f'seed must be None or a non-negative int, got '
                             f'{seed!r}')
        self.seed = seed

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        seed = runner.seed if self.seed is None else self.seed
        state = np.random.SeedSequence([seed, runner.iter, get_rank()])
        # torch.manual_seed seeds the CPU and every CUDA generator.
        torch.manual_seed(int(state.generate_state(1, np.uint64)[0] >> 1))
