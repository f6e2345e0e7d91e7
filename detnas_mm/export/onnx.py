"""ONNX export of a DetNAS detector's backbone and neck, checked in ORT.

The searched part of a DetNAS detector is its backbone; with the FPN neck
it is the part whose speed an architecture decides. :func:`export_onnx`
builds both from an mmdet config (a ``DetNASNet`` with its arch; a
``DetNASSupernet`` config with an ``arch`` given), turns SyncBN into BN,
exports them with ``torch.onnx`` (batch 1, static input size), runs the
ONNX model in ONNX Runtime on the same input as PyTorch, reports the
largest absolute difference of the outputs, and times both, interleaved,
with pinned threads::

    from detnas_mm.export.onnx import export_onnx
    report = export_onnx('faster-rcnn_detnasnet-..._coco.py',
                         'backbone_fpn.onnx', checkpoint='inherited.pth')
    report['max_abs_diff'], report['onnxruntime']['median_ms']

The RPN/RoI heads and post-processing (NMS, RoIAlign) are not exported:
MMDeploy, which exports whole mmdet detectors, does not run with torch 2.13
(see docs/latency.md).
"""
import datetime
import os
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope

from detnas_mm.cost.detector_flops import (detector_input_size,
                                           standalone_backbone)
from detnas_mm.cost.latency import (Timing, device_name, input_hw,
                                    library_versions, make_runner, measure,
                                    onnx_model_bytes, ort_session,
                                    resolve_clock)
from detnas_mm.utils.checkpoint import safe_checkpoint_loading
from detnas_mm.utils.io import atomic_write_json

ArchLike = Union[str, Sequence[int]]


class BackboneNeck(nn.Module):
    """A detector's backbone followed by its neck (if any)."""

    def __init__(self, backbone: nn.Module, neck: Optional[nn.Module]):
        super().__init__()
        self.backbone = backbone
        self.neck = neck

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        feats = self.backbone(x)
        return tuple(self.neck(feats)) if self.neck is not None else feats


def build_backbone_neck(config: Union[str, Config],
                        arch: Optional[ArchLike] = None,
                        checkpoint: Optional[str] = None) -> BackboneNeck:
    """The eval-mode backbone (+ neck) of a DetNAS detector config.

    Args:
        config: Path of an mmdet config or a loaded :class:`Config`.
        arch: Gene string; None takes the arch of the config's backbone
            (a ``DetNASSupernet`` config needs one).
        checkpoint: Detector checkpoint whose ``backbone.*`` and
            ``neck.*`` entries are loaded (a supernet checkpoint works: the
            unchosen ops are dropped). None keeps the initial weights.

    Returns:
        BackboneNeck: The module, SyncBN reverted to BN, in eval mode.
    """
    cfg = config if isinstance(config, Config) else Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    from mmdet.registry import MODELS
    backbone = MODELS.build(standalone_backbone(cfg.model.backbone, arch))
    neck = MODELS.build(cfg.model.neck) if cfg.model.get('neck') else None
    model = revert_sync_batchnorm(BackboneNeck(backbone, neck))
    if checkpoint is not None:
        # weights_only, with mmengine's non-tensor types allowed (and
        # nothing that would run code).
        with safe_checkpoint_loading():
            state = torch.load(
                checkpoint, map_location='cpu', weights_only=True)
        state = state.get('state_dict', state)
        # A checkpoint saved from a DDP-wrapped model by hand.
        state = {
            k[len('module.'):] if k.startswith('module.') else k: v
            for k, v in state.items()
        }
        parts = ('backbone.', 'neck.') if neck is not None else ('backbone.', )
        state = {k: v for k, v in state.items() if k.startswith(parts)}
        if not state:
            raise ValueError(f'checkpoint {checkpoint} has no backbone.* '
                             f'entries')
        model.load_state_dict(state, strict=True)
    return model.eval()


def detector_input_hw(cfg: Config, input_size=None) -> Tuple[int, int]:
    """Input ``(H, W)``: given, or the config's test scale as (short,
    long) side; padded to the data preprocessor's size divisor."""
    return detector_input_size(
        cfg, None if input_size is None else input_hw(input_size))


def export_onnx(config: Union[str, Config],
                out_file: str,
                arch: Optional[ArchLike] = None,
                checkpoint: Optional[str] = None,
                input_size=None,
                threads: int = 1,
                rounds: int = 10,
                repeats: int = 2,
                opset_version: int = 17,
                atol: Optional[float] = None,
                seed: int = 0,
                clock: str = 'auto') -> dict:
    """Export a detector's backbone (+ neck) to ONNX and check it in ORT.

    Args:
        config: mmdet config (path or :class:`Config`) with a DetNAS
            backbone.
        out_file: Where to write the ``.onnx`` model.
        arch: Gene string (needed for a supernet config).
        checkpoint: Detector checkpoint to take the weights from.
        input_size: Input ``(H, W)`` or an int; default: the config's test
            scale (``(800, 1333)`` for mmdet's COCO pipeline), padded to
            the size divisor as in testing.
        threads: Intra-op threads of ONNX Runtime and torch.
        rounds, repeats: Timing: interleaved rounds of ``repeats`` calls
            of each runtime (see :func:`~detnas_mm.cost.time_interleaved`).
        opset_version: ONNX opset.
        atol: Raise ``RuntimeError`` if the outputs differ by more.
        seed: Seed of the random input.
        clock: Timing clock (see :mod:`detnas_mm.cost.latency`).

    Returns:
        dict: ``onnx`` (the file), ``input_shape``, ``output_shapes``,
        ``max_abs_diff`` (ONNX Runtime vs PyTorch, over every output),
        ``max_abs_output`` (for scale), ``onnxruntime`` and ``torch``
        (:class:`~detnas_mm.cost.Timing` dicts, ms), ``threads``,
        ``device_name``, ``versions``, ``date``.
    """
    cfg = config if isinstance(config, Config) else Config.fromfile(config)
    model = build_backbone_neck(cfg, arch, checkpoint)
    h, w = detector_input_hw(cfg, input_size)
    x = torch.randn(1, 3, h, w, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        reference = [t.numpy() for t in model(x)]
    names = [f'out{i}' for i in range(len(reference))]
    model_bytes = onnx_model_bytes(model, x, names, opset_version)
    import onnx
    onnx.checker.check_model(onnx.load_from_string(model_bytes))
    folder = osp.dirname(osp.abspath(out_file))
    os.makedirs(folder, exist_ok=True)
    tmp = out_file + '.part'
    with open(tmp, 'wb') as f:
        f.write(model_bytes)
    os.replace(tmp, out_file)

    session = ort_session(out_file, threads)
    feed = {session.get_inputs()[0].name: x.numpy()}
    outputs = session.run(names, feed)
    diff = max(float(np.abs(o - r).max()) for o, r in zip(outputs, reference))
    scale = max(float(np.abs(r).max()) for r in reference)
    if atol is not None and not diff <= atol:
        raise RuntimeError(f'ONNX Runtime outputs differ from PyTorch by '
                           f'{diff:.3g} (largest output {scale:.3g}), more '
                           f'than atol={atol}')
    runners = [
        lambda: session.run(names, feed),
        make_runner(model, x, 'torch', 'cpu', threads)
    ]
    ort_s, torch_s = measure(
        runners,
        'onnxruntime',
        'cpu',
        threads,
        rounds,
        repeats,
        warmup=2,
        seed=seed,
        clock=clock)
    backbone = model.backbone
    return dict(
        onnx=out_file,
        space=backbone.space.name,
        arch=backbone.arch,
        neck=type(model.neck).__name__ if model.neck is not None else None,
        input_shape=[1, 3, h, w],
        output_shapes={
            n: list(r.shape)
            for n, r in zip(names, reference)
        },
        opset_version=opset_version,
        max_abs_diff=diff,
        max_abs_output=scale,
        onnxruntime=Timing.of(ort_s).to_dict(),
        torch=Timing.of(torch_s).to_dict(),
        threads=threads,
        clock=resolve_clock(clock, 'cpu', threads),
        device_name=device_name('cpu'),
        versions=library_versions(),
        date=datetime.datetime.now(
            datetime.timezone.utc).isoformat(timespec='seconds'))


def export_onnx_files(detection_config: str,
                      checkpoint: Optional[str] = None,
                      **kwargs) -> Dict[str, str]:
    """:func:`export_onnx` next to an exported detection config.

    Writes ``<config stem>_backbone-neck.onnx`` and its check report
    ``<config stem>_onnx.json`` beside ``detection_config``.

    Returns:
        dict: ``onnx`` and ``onnx_report`` paths.
    """
    stem = osp.splitext(detection_config)[0]
    report = export_onnx(
        detection_config,
        stem + '_backbone-neck.onnx',
        checkpoint=checkpoint,
        **kwargs)
    atomic_write_json(stem + '_onnx.json', report, indent=1)
    return dict(onnx=report['onnx'], onnx_report=stem + '_onnx.json')
