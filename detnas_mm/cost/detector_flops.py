"""FLOPs and params of a whole detector with a given DetNAS architecture.

The lookup table of :mod:`detnas_mm.cost.lookup_table` counts the backbone
alone; here the detector of an mmdet config (backbone, neck and heads) is
built with the architecture and counted by mmengine's FLOP analyzer, at the
config's test resolution, as mmdet's ``tools/analysis_tools/get_flops.py``
does.
"""
import copy
import math
from functools import partial
from typing import Optional, Sequence, Tuple, Union

import torch
from mmengine.analysis import FlopAnalyzer, parameter_count
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope

_SUPERNET_TYPES = ('DetNASSupernet', 'detnas_mm.DetNASSupernet')
_NET_TYPES = ('DetNASNet', 'detnas_mm.DetNASNet')


def detector_cost(
        config: Union[str, Config],
        arch: Optional[Union[str, Sequence[int]]] = None,
        input_hw: Optional[Union[int, Sequence[int]]] = None) -> dict:
    """Count the FLOPs and params of a detector config with an arch.

    The backbone is built as a standalone :class:`DetNASNet` with ``arch``,
    whether the config holds a ``DetNASSupernet`` (fine-tuning, search) or
    a ``DetNASNet`` (retraining): the FLOPs are the same as the supernet's
    on that path, and the params are those of the architecture alone, not of
    every choice op. FLOPs are multiply-accumulates of one image in test
    mode (``mode='tensor'``): for a two-stage detector the RPN and the box
    head on the most proposals the test config keeps (``max_per_img``);
    NMS and RoIAlign are not counted by the analyzer. With the neck and
    heads fixed, two archs differ by exactly their backbone difference.

    Args:
        config: Path of an mmdet config, or a loaded :class:`Config`.
        arch: Gene string (``'2120|2112|33130031|3132'``) or choice digits.
            None takes the arch of the config's backbone.
        input_hw: Input size ``(H, W)`` or one int for a square. Default:
            the scale of the ``Resize`` in the config's test pipeline, as
            (short side, long side), the largest image the test resizes to
            (``(800, 1333)`` for mmdet's COCO pipeline). Padded to the data
            preprocessor's size divisor as in testing.

    Returns:
        dict: ``flops`` (int), ``params`` (int) and ``input_size``
        (``[H, W]`` of the padded input that was counted).
    """
    cfg = config if isinstance(config, Config) else Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.backbone = standalone_backbone(model_cfg.backbone, arch)
    rpn_test = (model_cfg.get('test_cfg') or {}).get('rpn')
    if rpn_test is not None and 'nms' in rpn_test:
        # NMS keeps a number of proposals that depends on the image and the
        # weights; without it the box head is counted on the most proposals
        # a test image gets (`max_per_img`), the same for every arch.
        rpn_test.nms.iou_threshold = 1.0
    height, width = _input_hw(cfg, input_hw)

    from mmdet.registry import MODELS
    from mmdet.structures import DetDataSample
    model = revert_sync_batchnorm(MODELS.build(model_cfg))
    model.eval()
    image = torch.zeros(3, height, width, dtype=torch.uint8)
    sample = DetDataSample(
        metainfo=dict(
            img_shape=(height, width),
            ori_shape=(height, width),
            scale_factor=(1.0, 1.0)))
    with torch.no_grad():
        data = model.data_preprocessor(
            dict(inputs=[image], data_samples=[sample]), False)
    inputs = data['inputs']
    # The analyzer traces model(inputs), as mmdet's get_flops.py does; the
    # data samples carry the image metadata the heads need.
    model.forward = partial(
        model.forward, data_samples=data['data_samples'], mode='tensor')
    analyzer = FlopAnalyzer(model, inputs)
    # Post-processing ops (sort, NMS, RoIAlign) have no FLOP handle.
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    return dict(
        flops=int(analyzer.total()),
        params=int(parameter_count(model)['']),
        input_size=list(inputs.shape[-2:]))


def standalone_backbone(backbone: dict, arch) -> dict:
    """The config of a DetNASNet with ``arch`` in place of ``backbone``."""
    backbone = copy.deepcopy(backbone)
    kind = backbone.get('type')
    if kind not in _SUPERNET_TYPES + _NET_TYPES:
        raise ValueError(f'detector_cost needs a DetNAS backbone, got '
                         f'type {kind!r}; allowed: '
                         f'{_SUPERNET_TYPES + _NET_TYPES}')
    if arch is None:
        arch = backbone.get('arch')
        if arch is None:
            raise ValueError(f'No arch given and the config\'s {kind} has '
                             f'none: pass a gene string')
    backbone.update(type='detnas_mm.DetNASNet', arch=arch)
    # Counting needs no weights.
    backbone.pop('init_cfg', None)
    return backbone


def _input_hw(cfg: Config, input_hw) -> Tuple[int, int]:
    if input_hw is None:
        return test_scale(cfg)
    if isinstance(input_hw, int):
        input_hw = (input_hw, input_hw)
    input_hw = tuple(input_hw)
    if len(input_hw) != 2 or not all(
            isinstance(v, int) and v > 0 for v in input_hw):
        raise ValueError(f'input_hw must be a positive int or (H, W), got '
                         f'{input_hw}')
    return input_hw


def detector_input_size(
        cfg: Config,
        input_hw: Optional[Union[int, Sequence[int]]] = None
) -> Tuple[int, int]:
    """The input ``(H, W)`` a detector config runs at, as in testing.

    The given size, or the config's :func:`test_scale` (the largest image
    its test pipeline resizes to), padded up to the data preprocessor's
    ``pad_size_divisor``: the size :func:`detector_cost` counts and a
    latency table must be measured at.
    """
    height, width = _input_hw(cfg, input_hw)
    divisor = (cfg.model.get('data_preprocessor')
               or {}).get('pad_size_divisor', 1)
    return (math.ceil(height / divisor) * divisor,
            math.ceil(width / divisor) * divisor)


def test_scale(cfg: Config) -> Tuple[int, int]:
    """(short, long) side of the Resize in the test (or val) pipeline."""
    for loader in ('test_dataloader', 'val_dataloader'):
        dataset = (cfg.get(loader) or {}).get('dataset', {})
        # Wrappers (ConcatDataset, RepeatDataset) hold the real dataset.
        while 'pipeline' not in dataset and ('dataset' in dataset
                                             or 'datasets' in dataset):
            dataset = dataset.get('dataset') or dataset['datasets'][0]
        for step in dataset.get('pipeline', []):
            if step.get('type') in ('Resize', 'mmdet.Resize') and \
                    step.get('scale') is not None:
                scale = step['scale']
                if isinstance(scale, int):
                    return scale, scale
                return min(scale), max(scale)
    raise ValueError('No Resize with a scale in the config\'s test or val '
                     'pipeline: pass input_hw')
