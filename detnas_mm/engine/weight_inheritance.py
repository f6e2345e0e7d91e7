"""A standalone network's weights, inherited from a trained supernet.

The exported config's model (a DetNASNet detector or classifier) is built,
the supernet checkpoint is loaded into it (the backbone keeps the chosen op
of every block; neck and heads load as they are), and the BN statistics are
recomputed for this path by the path scoring's recalibration, exactly as
the search scored it. The result has the keys of the exported model only
and loads with plain ``load_from``/``--checkpoint``/
``DetInferencer(weights=...)``.
"""
import os
import os.path as osp
from typing import Optional, Tuple, Union

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import MODELS, init_default_scope
from mmengine.runner import CheckpointLoader, save_checkpoint

from detnas_mm.engine.path_scoring import CalibrationSet, recalibrate
from detnas_mm.export.configs import read_arch_from_config


def _load_state_dict(checkpoint: str) -> Tuple[dict, dict]:
    ckpt = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    if 'state_dict' in ckpt:
        return ckpt['state_dict'], ckpt.get('meta') or {}
    return ckpt, {}


def inherit_weights(supernet_checkpoint: str,
                    config: Union[str, Config],
                    out_file: str,
                    num_calibration_images: int = 0,
                    calibration: Optional[CalibrationSet] = None,
                    seed: int = 0,
                    bn_averaging: str = 'exact') -> str:
    """Write a checkpoint of the chosen ops, inherited from a supernet.

    Args:
        supernet_checkpoint: Checkpoint of a supernet model whose parts
            other than the backbone match the config's (same detector).
        config: The exported config (path or Config).
        out_file: Path of the checkpoint to write.
        num_calibration_images: Images of the config's ``train_dataloader``
            to recompute BN on (a seeded :class:`CalibrationSet`, training
            pipeline); 0 keeps the supernet's statistics.
        calibration: A calibration set to use instead.
        seed: Seed of the calibration set.
        bn_averaging: ``'exact'`` or ``'running'``, as the search.

    Returns:
        str: The absolute path written.
    """
    if num_calibration_images < 0:
        raise ValueError(f'num_calibration_images must be >= 0, got '
                         f'{num_calibration_images}')
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    space, genes = read_arch_from_config(cfg)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    # One process: SyncBN computes exactly what BN does and has the same
    # state dict keys.
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    state_dict, meta = _load_state_dict(supernet_checkpoint)
    # A supernet checkpoint written by a DDP run has no prefix (mmengine
    # strips it); one saved by hand may.
    state_dict = {k[len('module.'):] if k.startswith('module.') else k: v
                  for k, v in state_dict.items()}
    result = model.load_state_dict(state_dict, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise ValueError(
            f'{supernet_checkpoint} does not fit the model of the exported '
            f'config (another detector or head?): missing keys '
            f'{result.missing_keys[:5]}, unexpected keys '
            f'{result.unexpected_keys[:5]}')
    dataset_meta = meta.get('dataset_meta')
    if calibration is None and num_calibration_images > 0:
        calibration = CalibrationSet(cfg.train_dataloader,
                                     num_calibration_images, seed=seed)
    calibrated = 0
    if calibration is not None:
        dataset_meta = dataset_meta or getattr(calibration.dataset,
                                               'metainfo', None)
        calibrated = recalibrate(model, calibration, bn_averaging)
        print_log(f'BN statistics of {genes} recalibrated on {calibrated} '
                  f'batches', logger='current')
    checkpoint = dict(
        meta=dict(
            detnas=dict(space=space, arch=genes,
                        supernet_checkpoint=osp.abspath(supernet_checkpoint),
                        bn_calibration_batches=calibrated)),
        state_dict=model.state_dict())
    if dataset_meta:
        checkpoint['meta']['dataset_meta'] = dataset_meta
    out_file = osp.abspath(out_file)
    os.makedirs(osp.dirname(out_file), exist_ok=True)
    save_checkpoint(checkpoint, out_file)
    return out_file
