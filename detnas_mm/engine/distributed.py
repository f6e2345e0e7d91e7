"""Multi-process runs on CPU (gloo) with mmengine's Runner.

mmengine's ``init_dist`` calls ``torch.cuda.set_device`` unconditionally,
and its default DDP wrapper passes ``device_ids=[local_rank]``; both fail on
a machine without a GPU. The Runner skips its own initialisation when a
process group exists, so we create a gloo group first and adapt the config.

Only what CPU needs changes: the gloo backend, ``device_ids=None`` and
SyncBN turned into BN. Everything else (``find_unused_parameters`` above
all) stays as the config says, so a CPU run resolves the config as a GPU
run would and fails where a GPU run would.
"""
import os

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.logging import print_log


def replace_sync_bn(cfg, new_type: str = 'BN'):
    """Turn every ``SyncBN`` norm config in ``cfg`` into ``new_type``.

    torch's SyncBatchNorm needs CUDA tensors in a multi-process group, so CPU
    runs train with plain BN instead (a per-process batch statistic).

    Returns:
        int: How many norm configs were changed.
    """
    changed = 0
    if isinstance(cfg, dict):
        if cfg.get('type') in ('SyncBN', 'MMSyncBN', 'nn.SyncBatchNorm'):
            cfg['type'] = new_type
            changed += 1
        for value in cfg.values():
            changed += replace_sync_bn(value, new_type)
    elif isinstance(cfg, (list, tuple)):
        for value in cfg:
            changed += replace_sync_bn(value, new_type)
    return changed


def setup_cpu_distributed(cfg: Config, launcher: str) -> bool:
    """Prepare a distributed CPU run; return True if it did anything.

    With ``launcher='pytorch'`` (torchrun) and no GPU, this initialises a
    gloo process group, turns SyncBN into BN and makes DDP wrap CPU modules
    (``device_ids=None``); the rest of ``model_wrapper_cfg`` is the
    config's.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return False
    if launcher != 'pytorch':
        raise ValueError(f'On a machine without GPU only the pytorch '
                         f'launcher is supported, got {launcher!r}')
    if not torch_dist.is_initialized():
        torch_dist.init_process_group('gloo')
    if replace_sync_bn(cfg.model):
        print_log(
            'No GPU: SyncBN replaced by BN for this CPU run', logger='current')
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel')
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    os.environ.setdefault('LOCAL_RANK', '0')
    return True
