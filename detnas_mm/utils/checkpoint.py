"""Loading mmengine checkpoints safely (``torch.load(weights_only=True)``).

mmengine 0.10.7 calls ``torch.load`` without ``weights_only``; torch >= 2.6
then unpickles with its restricted unpickler, which refuses every object
type not on an allow-list. mmengine checkpoints hold, besides tensors, the
message hub's numpy history (``HistoryBuffer``, numpy arrays, scalars and
dtypes, and its statistics methods, pickled through ``getattr``), so every
resume and every ``Pretrained`` init fails on them.

The fix keeps ``weights_only=True`` and allow-lists exactly those types
(:func:`checkpoint_safe_globals`), never anything that runs code:

- the repository's entry points (``tools/train.py``, ``test.py``,
  ``search.py``, ``export_arch.py``) load within
  :func:`safe_checkpoint_loading`, which also turns a refusal into a clear
  error;
- importing the DetNAS models (:mod:`detnas_mm.models`, which every config
  with a DetNAS backbone does) adds the same types with
  :func:`allow_mmengine_checkpoints`, so that plain mmdet and mmpretrain
  entry points (``mim train/test mmdet``, ``DetInferencer``) load the
  project's checkpoints too.

A shared checkpoint whose pickle would run code is refused either way.
"""
import builtins
import pickle
import re
from contextlib import contextmanager
from typing import List

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer


class CheckpointRefusedError(ValueError):
    """A checkpoint holds objects outside the allow-list."""


def checkpoint_safe_globals() -> List[object]:
    """The non-tensor types mmengine checkpoints hold (the allow-list).

    ``getattr`` is there because a ``HistoryBuffer``'s statistics methods
    are pickled as ``getattr(HistoryBuffer, 'mean')``; torch's restricted
    unpickler calls only allow-listed callables, so what ``getattr``
    returns can never be called during the load.
    """
    multiarray = getattr(np, '_core', None) or np.core
    return [
        multiarray.multiarray._reconstruct, multiarray.multiarray.scalar,
        np.ndarray, np.dtype,
        *{type(np.dtype(t)) for t in (np.float16, np.float32, np.float64,
                                      np.int32, np.int64, np.uint8,
                                      np.bool_)},
        HistoryBuffer, builtins.getattr
    ]


def allow_mmengine_checkpoints() -> None:
    """Add the types of :func:`checkpoint_safe_globals` to torch's
    allow-list (``weights_only`` stays on). Idempotent."""
    allowed = torch.serialization.get_safe_globals()
    torch.serialization.add_safe_globals(
        [t for t in checkpoint_safe_globals() if t not in allowed])


@contextmanager
def safe_checkpoint_loading():
    """Load mmengine checkpoints with ``weights_only=True`` within the
    block, and turn a refusal into a clear error.

    The allow-list is added process-wide (:func:`allow_mmengine_checkpoints`,
    what importing :mod:`detnas_mm.models` does anyway), not for the block
    only: torch's ``safe_globals`` context restores the list it found on
    exit, and would drop the types that a first import of
    :mod:`detnas_mm.models` within the block adds for the whole process.

    Raises:
        CheckpointRefusedError: When a checkpoint loaded within the block
            holds another type (e.g. a pickle that would run code).
    """
    allow_mmengine_checkpoints()
    try:
        yield
    except pickle.UnpicklingError as e:
        # torch's message explains weights_only at length; the reason is
        # the global it refused.
        found = re.search(r'GLOBAL ([\w.]+)', str(e))
        detail = (f'it would call {found.group(1)}' if found else
                  str(e).strip().splitlines()[-1])
        raise CheckpointRefusedError(
            f'Refused to load a checkpoint: it holds objects that are not '
            f'weights or mmengine training state ({detail}). Loading it '
            f'could run code from the file; only load checkpoints you '
            f'trust, re-saved as plain state dicts') from None
