"""Export searched DetNAS architectures as plain mmdet/mmpretrain configs.

The product of a search is a gene string. This module turns it into the
files people share and retrain: a self-contained mmdet config whose
backbone is ``dict(type='detnas_mm.DetNASNet', space=..., arch=...)``, the
mmpretrain config that pretrains the same backbone on ImageNet, and,
optionally, a checkpoint of the chosen ops inherited from the supernet.

At the end of a search (the search loop calls this)::

    from detnas_mm.export import export_search_result
    paths = export_search_result(
        arch='2120|2112|33130031|3132', space='300M',
        out_dir=work_dir,                 # where the files go
        base='faster-rcnn_coco',          # a key of RETRAIN_BASES
        provenance=dict(search_run=work_dir, score=0.361,
                        score_key='coco/bbox_mAP', flops=..., params=...))
    paths['detection']  # .../faster-rcnn_detnasnet-<space>-<tag>_....py
    paths['imagenet']   # .../detnasnet-<space>-<tag>_8xb128-300k_in1k.py

``flops``/``params`` default to the backbone's cost at 224x224 from
:func:`detnas_mm.cost.get_cost_table`; every provenance entry is optional.
``RETRAIN_BASES`` lists the retraining recipes (``--base`` of
``tools/export_arch.py``); the CPU-size ones are ``'faster-rcnn_coco-tiny'``
and ``'faster-rcnn_halo'`` (the built-in task).

Exported configs are written fully resolved (``Config.pretty_text``): they
inherit nothing, so they load from any directory and run with MMDetection
and ``detnas_mm`` installed, and nothing else of this repository.
mmengine's ``package::`` base syntax only knows the OpenMMLab packages
listed in its ``MODULE2PACKAGE``, so ``_base_ = 'detnas_mm::...'`` cannot
be used by a config run through ``mim train mmdet``.

Other entry points: :func:`export_detection_config`,
:func:`export_imagenet_config` and :func:`read_arch_from_config`; the
search's result file is read by :mod:`detnas_mm.export.search_result`, and
weights are inherited by :mod:`detnas_mm.engine.weight_inheritance`.
"""
import datetime
import os.path as osp
import textwrap
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, Optional, Tuple, Union

from mmengine.config import Config

from detnas_mm.cost import get_cost_table
from detnas_mm.datasets.coco import set_coco_data_root
from detnas_mm.export.search_result import space_value
from detnas_mm.models.backbones.search_space import (SearchSpace, SpaceLike,
                                                     format_arch,
                                                     get_search_space,
                                                     parse_arch)
from detnas_mm.utils import atomic_write_text
from detnas_mm.utils.paths import configs_root
from detnas_mm.version import __version__

_BACKBONE_TYPES = ('DetNASNet', 'DetNASSupernet')


@dataclass(frozen=True)
class RetrainBase:
    """A retraining recipe an architecture can be exported onto.

    Args:
        detection: mmdet config, relative to the ``configs`` folder.
        imagenet: mmpretrain config pretraining the same backbone.
        description: One line for ``--help`` and provenance headers.
    """
    detection: str
    imagenet: str
    description: str


_IN1K = 'detnasnet/shufflenetv2-20_8xb128-300k_in1k.py'
RETRAIN_BASES: Dict[str, RetrainBase] = {
    'faster-rcnn_coco':
    RetrainBase('detnasnet/faster-rcnn_shufflenetv2-20_fpn_1x_coco.py',
                _IN1K, 'Faster R-CNN FPN, COCO 2017, 90k iterations at '
                'batch 16, SyncBN'),
    'retinanet_coco':
    RetrainBase('detnasnet/retinanet_shufflenetv2-20_fpn_1x_coco.py', _IN1K,
                'RetinaNet FPN, COCO 2017, 90k iterations at batch 16, '
                'SyncBN'),
    'faster-rcnn_voc':
    RetrainBase('detnasnet/faster-rcnn_shufflenetv2-20_fpn_1x_voc0712.py',
                _IN1K, 'Faster R-CNN FPN, VOC 07+12, 22.5k iterations at '
                'batch 16, SyncBN'),
    'retinanet_voc':
    RetrainBase('detnasnet/retinanet_shufflenetv2-20_fpn_1x_voc0712.py',
                _IN1K, 'RetinaNet FPN, VOC 07+12, 22.5k iterations at batch '
                '16, SyncBN'),
    'faster-rcnn_coco-tiny':
    RetrainBase(
        'detnasnet/faster-rcnn_shufflenetv2-20_fpn_cpu_coco-tiny.py',
        'detnasnet/shufflenetv2-20_1xb32-600iter_imagenette-64px.py',
        'CPU size: Faster R-CNN FPN on coco_tiny, 128 px, 200 iterations'),
    'faster-rcnn_halo':
    RetrainBase(
        'detnasnet/faster-rcnn_shufflenetv2-d1121_mapper_cpu_halo-96px.py',
        'detnasnet/shufflenetv2-d1121_1xb32-600iter_halo-cls-48px.py',
        'CPU size, built-in halo task: Faster R-CNN without top-down path, '
        '96 px, 600 iterations, from a 600-iteration classification '
        'pretraining of the same net'),
}

# Where each kind of config keeps what depends on the search space.
_KINDS = ('detection', 'imagenet')


def get_retrain_base(base: str) -> RetrainBase:
    """Look up a retraining recipe by name, with a clear error."""
    if base not in RETRAIN_BASES:
        listing = '; '.join(f'{name!r}: {b.description}'
                            for name, b in RETRAIN_BASES.items())
        raise ValueError(f'Unknown retraining base {base!r}; allowed: '
                         f'{listing}')
    return RETRAIN_BASES[base]


def _canonical(arch, space: SpaceLike) -> Tuple[SearchSpace, str]:
    space = get_search_space(space)
    return space, format_arch(parse_arch(arch, space), space)


def arch_tag(arch: str, space: SpaceLike) -> str:
    """A short file-name tag of an architecture: its digits without bars."""
    space, genes = _canonical(arch, space)
    return genes.replace('|', '')


def build_export_config(arch: Union[str, Iterable[int]],
                        space: SpaceLike,
                        base: str = 'faster-rcnn_coco',
                        kind: str = 'detection',
                        data_root: Optional[str] = None,
                        pretrained: Optional[str] = None,
                        update: Optional[Callable[[Config], None]] = None
                        ) -> Config:
    """The resolved config of an architecture on a retraining recipe.

    Args:
        arch: Gene string or choice digits.
        space: Search space (name, dict or :class:`SearchSpace`).
        base: Key of :data:`RETRAIN_BASES`.
        kind: ``'detection'`` (mmdet) or ``'imagenet'`` (mmpretrain).
        data_root: Optional COCO-format folder (``train2017/``,
            ``val2017/``, ``annotations/instances_*2017.json``) replacing
            the recipe's dataset root, detection only; class names are read
            from its training annotations.
        pretrained: Optional checkpoint of the ImageNet-pretrained
            classifier (keys ``backbone.*``) to initialise the detection
            backbone from.
        update: Optional ``update(cfg)`` applied last, detection only
            (e.g. pointing the dataloaders at a VOC-layout folder).

    Returns:
        Config: The config, ready to dump.
    """
    if kind not in _KINDS:
        raise ValueError(f'kind must be one of {_KINDS}, got {kind!r}')
    recipe = get_retrain_base(base)
    space, genes = _canonical(arch, space)
    cfg = Config.fromfile(osp.join(configs_root(), getattr(recipe, kind)))
    backbone = cfg.model.backbone
    if backbone.get('type', '').split('.')[-1] != 'DetNASNet':
        raise ValueError(f'Recipe {getattr(recipe, kind)} must have a '
                         f'detnas_mm.DetNASNet backbone, got '
                         f'{backbone.get("type")!r}')
    backbone.space = space_value(space)
    backbone.arch = genes
    if kind == 'imagenet':
        cfg.model.head.in_channels = space.last_channels
        if data_root is not None or pretrained is not None or \
                update is not None:
            raise ValueError('data_root, pretrained and update apply to '
                             'detection configs only')
        return cfg
    cfg.model.neck.in_channels = list(space.stage_channels)
    if pretrained is not None:
        # An existing local file is written absolute: the exported config
        # may run from any directory.
        if osp.isfile(pretrained):
            pretrained = osp.abspath(pretrained)
        backbone.init_cfg = dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')
    if data_root is not None:
        set_coco_data_root(cfg, data_root)
    if update is not None:
        update(cfg)
    return cfg


_PROVENANCE_KEYS = ('search_run', 'score', 'score_key', 'search_split',
                    'flops', 'params', 'flops_mode', 'flops_count',
                    'flops_input_size', 'latency_ms', 'date', 'note')


def _provenance_lines(space: SearchSpace, genes: str, kind: str,
                      base: str, provenance: Optional[dict]) -> list:
    info = {k: v for k, v in (provenance or {}).items() if v is not None}
    unknown = sorted(set(info) - set(_PROVENANCE_KEYS))
    if unknown:
        raise ValueError(f'Unknown provenance keys {unknown}; allowed: '
                         f'{", ".join(_PROVENANCE_KEYS)}')
    if 'flops' not in info or 'params' not in info:
        # The search's default constraint: the backbone at 224x224.
        flops, params = get_cost_table(space, 224).cost(genes)
        info = dict(info, flops=flops, params=params, flops_mode='backbone',
                    flops_count='official', flops_input_size=(224, 224))
    size = info.get('flops_input_size', (224, 224))
    size = 'x'.join(map(str, size if isinstance(size, (list, tuple))
                        else (size, size)))
    date = info.get('date') or datetime.datetime.now(
        datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')
    recipe = get_retrain_base(base)
    package = 'mmdet' if kind == 'detection' else 'mmpretrain'
    text = [
        f'DetNASNet architecture exported by detnas_mm {__version__} '
        f'(detnas_mm.export) on {date}.',
        f'Search space: {space.name}; architecture: {genes}',
        f'Cost ({info.get("flops_mode", "backbone")} at {size}, '
        f'{info.get("flops_count", "official")} count): '
        f'{info["flops"] / 1e6:.1f} MFLOPs (multiply-adds), '
        f'{info["params"] / 1e6:.3f} M params.',
    ]
    if 'latency_ms' in info:
        text.append(f'Predicted backbone latency: {info["latency_ms"]:.2f} '
                    f'ms (the search\'s latency table).')
    if 'search_run' in info:
        text.append(f'Search run: {info["search_run"]}')
    if 'score' in info:
        text.append(f'Search score: {info.get("score_key", "score")} = '
                    f'{info["score"]:.4f} on '
                    f'{info.get("search_split", "the search split")}.')
    if 'note' in info:
        text.append(str(info['note']))
    text += [
        f'Retraining recipe: {getattr(recipe, kind)} '
        f'({recipe.description}).',
        f'Self-contained (no _base_): it needs {package} and detnas_mm '
        f'(for the backbone class) only: `mim train {package} <this '
        f'file>`.',
    ]
    lines = []
    for paragraph in text:
        lines += ['# ' + line for line in textwrap.wrap(paragraph, 77)]
    return lines


def _write(cfg: Config, out_file: str, header: list) -> str:
    out_file = osp.abspath(out_file)
    atomic_write_text(
        out_file, '\n'.join(header) + '\n' + cfg.pretty_text.rstrip() + '\n')
    return out_file


def _export(kind, arch, space, out_file, base, provenance, **kwargs) -> str:
    space, genes = _canonical(arch, space)
    cfg = build_export_config(genes, space, base, kind, **kwargs)
    header = _provenance_lines(space, genes, kind, base, provenance)
    out_file = _write(cfg, out_file, header)
    read_space, read_genes = read_arch_from_config(out_file)
    if read_genes != genes or get_search_space(read_space) != space:
        raise RuntimeError(f'{out_file} reads back as {read_genes} in '
                           f'{read_space}, not {genes} in {space.name}')
    return out_file


def export_detection_config(arch: Union[str, Iterable[int]],
                            space: SpaceLike,
                            out_file: str,
                            base: str = 'faster-rcnn_coco',
                            provenance: Optional[dict] = None,
                            data_root: Optional[str] = None,
                            pretrained: Optional[str] = None,
                            update: Optional[Callable[[Config], None]] = None
                            ) -> str:
    """Write the mmdet retraining config of an architecture.

    Args:
        arch: Gene string or choice digits.
        space: Search space (name, dict or :class:`SearchSpace`).
        out_file: Path of the ``.py`` file to write.
        base: Key of :data:`RETRAIN_BASES`.
        provenance: Optional header facts: ``search_run``, ``score``,
            ``score_key``, ``search_split``, ``flops``, ``params`` (default:
            the backbone at 224x224), ``date`` (default: now), ``note``.
        data_root: See :func:`build_export_config`.
        pretrained: See :func:`build_export_config`.
        update: See :func:`build_export_config`.

    Returns:
        str: The absolute path written.
    """
    return _export('detection', arch, space, out_file, base, provenance,
                   data_root=data_root, pretrained=pretrained, update=update)


def export_imagenet_config(arch: Union[str, Iterable[int]],
                           space: SpaceLike,
                           out_file: str,
                           base: str = 'faster-rcnn_coco',
                           provenance: Optional[dict] = None) -> str:
    """Write the mmpretrain ImageNet config of the same backbone.

    Args:
        arch: Gene string or choice digits.
        space: Search space.
        out_file: Path of the ``.py`` file to write.
        base: Key of :data:`RETRAIN_BASES` (its ImageNet recipe is used).
        provenance: See :func:`export_detection_config`.

    Returns:
        str: The absolute path written.
    """
    return _export('imagenet', arch, space, out_file, base, provenance)


def export_names(arch: Union[str, Iterable[int]], space: SpaceLike,
                 base: str = 'faster-rcnn_coco') -> Dict[str, str]:
    """mmdet-style file names of the exported configs.

    The backbone is named ``detnasnet-<space>-<digits>``; the rest of the
    name is the recipe's, e.g.
    ``faster-rcnn_detnasnet-300M-21202112331300313132_fpn_1x_coco.py``.
    """
    space, genes = _canonical(arch, space)
    backbone = f'detnasnet-{space.name}-{arch_tag(genes, space)}'
    recipe = get_retrain_base(base)
    names = {}
    for kind in _KINDS:
        parts = osp.basename(getattr(recipe, kind)).split('_')
        # Recipes are named after the ShuffleNetV2 baseline backbone.
        parts = [backbone if p.startswith('shufflenetv2-') else p
                 for p in parts]
        names[kind] = '_'.join(parts)
    return names


def export_search_result(arch: Union[str, Iterable[int]],
                         space: SpaceLike,
                         out_dir: str,
                         base: str = 'faster-rcnn_coco',
                         provenance: Optional[dict] = None,
                         data_root: Optional[str] = None,
                         pretrained: Optional[str] = None,
                         update: Optional[Callable[[Config], None]] = None
                         ) -> Dict[str, str]:
    """Write the detection and ImageNet configs of a searched architecture.

    Args:
        arch: Gene string or choice digits.
        space: Search space.
        out_dir: Folder to write into (created if needed).
        base: Key of :data:`RETRAIN_BASES`.
        provenance: See :func:`export_detection_config`.
        data_root: See :func:`build_export_config` (detection config only).
        pretrained: See :func:`build_export_config`.
        update: See :func:`build_export_config` (detection config only).

    Returns:
        dict: ``{'detection': path, 'imagenet': path}``.
    """
    names = export_names(arch, space, base)
    return dict(
        detection=export_detection_config(
            arch, space, osp.join(out_dir, names['detection']), base,
            provenance, data_root, pretrained, update),
        imagenet=export_imagenet_config(
            arch, space, osp.join(out_dir, names['imagenet']), base,
            provenance))


def read_arch_from_config(config: Union[str, Config]
                          ) -> Tuple[Union[str, dict], str]:
    """Read the architecture of a DetNAS config back.

    Args:
        config: Path of an mmdet/mmpretrain config (or a loaded one) whose
            ``model.backbone`` is a DetNASNet (or a supernet with an arch).

    Returns:
        tuple: ``(space, genes)``: the space as written in the config (a
        name or a dict) and the canonical gene string.
    """
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    backbone = cfg.get('model', {}).get('backbone')
    if backbone is None or str(backbone.get('type', '')).split(
            '.')[-1] not in _BACKBONE_TYPES:
        raise ValueError(f'{config} has no DetNAS backbone '
                         f'(model.backbone.type in {_BACKBONE_TYPES})')
    if backbone.get('arch') is None:
        raise ValueError(f'{config}: model.backbone has no arch')
    space = backbone.get('space', '300M')
    written = space if isinstance(space, str) else dict(space)
    _, genes = _canonical(backbone.arch, written)
    return written, genes
