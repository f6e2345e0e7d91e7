"""Schedule sizes and the input scale of a pipeline run.

A preset names a kind of run: ``default`` chooses every size from the data
and the time budget (:func:`choose_sizes`); ``quick`` is a smoke run of
the plumbing with fixed tiny sizes at 128 px, whatever the data and the
budget. ``--img-scale`` and the per-stage ``--<stage>-cfg-options`` take
precedence over both. docs/pipeline.md ("Your own data") explains the
rule with a measured run.

**Input scale.** The detector of the CPU configs is mmdet's Faster R-CNN +
FPN: anchors of scale 8 on strides 4..64 (ratios 0.5, 1, 2), so the
smallest anchor is 8 x 4 = 32 px. The RPN takes an anchor as positive at
IoU >= 0.7 with a box, or at IoU >= 0.3 when it is that box's best anchor;
a square box of side ``s`` inside a 32 px anchor has IoU ``(s / 32)**2``:
a box under 32 x sqrt(0.3) = 17.5 px gets no positive anchor at all, one
under 32 x sqrt(0.7) = 27 px only its low-quality best match, and the
RPN, trained on nothing, proposes nothing. The scale (the longer side)
is therefore chosen so that the *median* object is as large as the
smallest anchor::

    scale = smallest_anchor / median(object size / longer image side)

rounded up to a multiple of 32 (the FPN pads to 32), then bounded: at
least 128 px (the scale of the CPU configs; the stride-64 level is 2 px
wide there); at most the median longer side of the images rounded up to
32 (upscaling adds pixels and time, no detail); at most 640 px (CPU); and
at most the largest scale at which every schedule still gets its minimum
length within the budget (:data:`MIN_ITERS`: fine-tuning 300 iterations,
the shipped CPU schedule; retraining 100; pretraining 50; and 8 search
candidates). The anchor size and IoU thresholds are
read from the fine-tuning config, so the rule follows a detector with
other anchors.

**Schedules.** The time of a run is modelled stage by stage from costs
measured on this machine (:data:`COSTS`, by
``benchmarks/pipeline_stage_costs.py``): a fixed part per stage (starting
the tool, building the model, loading data) and a part per unit (an
iteration, a calibration image, an evaluated image), the detection units
growing linearly with the pixel count. The budget less the fixed parts
(and less the parts that do not depend on the schedules: the tests on the
test split, the exports, the supernet scores of the retrained
architectures) is split over the stages in fixed shares
(:data:`SHARES`, the default preset's proportions on the built-in data),
and each share buys its stage's units: pretraining and fine-tuning
iterations, search candidates (population x generations), retraining
iterations of each retrained architecture. Data-driven, not budgeted:
the search split (a tenth of the training images, at least 20, at most a
quarter and at most 5000, DetNAS's size on COCO), the calibration images
(32) and the random architectures (two per 30 minutes of budget, 1 to 8).

**This machine, now.** The costs were measured once, on a busy shared
machine. At start the pipeline times a small fixed torch workload
(:func:`probe_seconds`, about a second) and multiplies every cost by its
ratio to the value stored with the costs (:func:`measure_slowdown`): a
busier or slower machine gets shorter schedules, a faster one longer
ones. The sizes chosen for a work dir are saved there and reused by a
rerun with the same options (:func:`sizes_for_run`), so that resumed
stages get the sizes the finished ones had.
"""
import json
import math
import os.path as osp
import statistics
import time
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn

from detnas_mm.datasets.data_checks import DataStats
from detnas_mm.utils import atomic_write_json

SIZES_FILE = 'sizes.json'


@dataclass(frozen=True)
class Sizes:
    """Everything the pipeline scales.

    Attributes:
        det_scale: Detection input scale (longer side, pixels).
        pretrain_iters: Supernet classification pretraining iterations.
        finetune_iters: Supernet detection fine-tuning iterations.
        num_search: Training images held out as the search split.
        population: Candidates per search generation.
        generations: Search generations.
        top_k: Search parents.
        calib_images: BN calibration images per scored path.
        retrain_iters: Iterations of each standalone retraining.
        retrain_pretrain_iters: Classification pretraining iterations of
            each retrained architecture, for a recipe that retrains
            standalone (the built-in task's); the other recipe starts
            retraining from the supernet's weights.
        num_random: Random architectures retrained beside the searched one.
        estimated_minutes: The modelled time of the run on this machine
            (None: not modelled).
        reasons: Why the sizes are what they are, one sentence each.
    """
    det_scale: int = 128
    pretrain_iters: int = 200
    finetune_iters: int = 600
    num_search: int = 50
    population: int = 10
    generations: int = 3
    top_k: int = 3
    calib_images: int = 32
    retrain_iters: int = 200
    retrain_pretrain_iters: int = 200
    num_random: int = 2
    estimated_minutes: Optional[float] = None
    reasons: Tuple[str, ...] = field(default=(), compare=False)

    def to_dict(self) -> dict:
        data = asdict(self)
        data['reasons'] = list(self.reasons)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> 'Sizes':
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in data.items() if k in known}
        data['reasons'] = tuple(data.get('reasons', ()))
        return cls(**data)

    def format(self) -> str:
        """The sizes on one line, then the reasons, for the console."""
        numbers = ', '.join(f'{k}={v}' for k, v in self.to_dict().items()
                            if k != 'reasons')
        return '\n'.join([f'sizes of this run: {numbers}'] +
                         [f'    {r}' for r in self.reasons])


# 'default' is the README's main job on the built-in data (choose_sizes
# adapts it to other data and budgets); 'quick' a smoke run for tests.
PRESETS = {
    'default': Sizes(),
    'quick': Sizes(pretrain_iters=4, finetune_iters=4, num_search=8,
                   population=4, generations=2, top_k=2, calib_images=4,
                   retrain_iters=4, retrain_pretrain_iters=4,
                   num_random=1),
}
# The main job on the built-in task (detnas_mm.datasets.halo): the sizes of
# its rank study (docs/rank_correlation.md), fixed: its recipe was measured
# at these sizes, and the cost model below is the FPN recipe's. 9 random
# architectures: with the searched one, 10 retrainings fill 5 rounds of the
# 2 cores, the time 9 take, and the rank agreement is over 10. The
# standalone classification pretraining is half the study's 600
# iterations: its loss reaches its floor (label smoothing) by iteration
# 100 on every architecture, and the 10 retrainings take 2.5 min less
# (600 would put the main job at 30.3 min). The price: the standalone
# test mAP's run-to-run noise was SD 0.018 instead of 0.0057 on halo
# version 1 (docs/pipeline.md).
BUILTIN_TASK_SIZES = Sizes(det_scale=96, pretrain_iters=1000,
                           finetune_iters=600, num_search=200, population=8,
                           generations=3, top_k=3, calib_images=64,
                           retrain_iters=600, retrain_pretrain_iters=300,
                           num_random=9)


@dataclass(frozen=True)
class DetectorGeometry:
    """What the scale rule needs of the detector.

    Attributes:
        smallest_anchor: Side of the smallest anchor in pixels.
        pos_iou: IoU at which the RPN (or a one-stage head) takes an anchor
            as positive.
        min_pos_iou: IoU at which a box's best anchor is still positive.
    """
    smallest_anchor: float = 32.0
    pos_iou: float = 0.7
    min_pos_iou: float = 0.3

    @classmethod
    def of_config(cls, cfg) -> 'DetectorGeometry':
        """From a detector config: Faster R-CNN (``rpn_head``) or a
        one-stage detector (``bbox_head``) with an ``AnchorGenerator``."""
        model = cfg['model']
        head = model.get('rpn_head') or model.get('bbox_head')
        anchors = head['anchor_generator']
        if 'octave_base_scale' in anchors:  # RetinaNet
            scale = anchors['octave_base_scale']
        else:
            scale = min(anchors['scales'])
        train_cfg = model.get('train_cfg') or {}
        assigner = (train_cfg.get('rpn') or train_cfg)['assigner']
        return cls(
            smallest_anchor=float(scale * min(anchors['strides'])),
            pos_iou=float(assigner['pos_iou_thr']),
            min_pos_iou=float(assigner.get('min_pos_iou', 0.0)))


# Seconds of each part of a run, measured by
# benchmarks/pipeline_stage_costs.py on 2026-11-30 on this machine (2 CPU
# cores shared with other jobs, load average 5 to 6, OMP_NUM_THREADS=1) on
# coco_tiny at 128, 256 and 384 px (aspect 0.75), each scale normalised to
# the median speed probe (probe_s). Per-unit costs of detection are
# a + b * pixels, pixels = scale**2 * aspect (the images' shorter / longer
# side); the large a is what does not grow with the image (the RoI head's
# 128 sampled RoIs per image, Python, data loading). other_fixed_s: the
# data checks, the split and the report (0.8 s) and the start of
# tools/pipeline.py with its imports, probe and config reading (16 s,
# timed apart). Run-to-run noise: the fine-tuning iteration measured
# 0.95 s at 128 px and 0.92 s at 256 px, so trust the fit to about 20 %.
COSTS = dict(
    probe_s=0.165,
    pretrain_s_per_iter=0.7528,
    pretrain_fixed_s=45.4,
    finetune_fixed_s=23.1,
    search_fixed_s=27.7,
    export_fixed_s=3.7,
    retrain_fixed_s_per_arch=34.4,
    other_fixed_s=16.8,
    finetune_s_per_iter=dict(a=0.6591, b=7.47e-06),
    retrain_s_per_iter=dict(a=0.598, b=9.217e-06),
    calib_s_per_image=dict(a=0.0572, b=3.178e-06),
    eval_s_per_image=dict(a=0.0927, b=2.075e-06),
)
# Shares of the budget left after the fixed parts: the default preset's
# proportions at 128 px on the built-in data under COSTS (pretraining
# 151 s, fine-tuning 469 s, 30 search candidates 305 s, 4 x 200
# retraining iterations 599 s; with the fixed parts 31 minutes).
SHARES = dict(pretrain=0.10, finetune=0.31, search=0.20, retrain=0.39)
# Shortest schedules worth running: the scale drops until they fit.
MIN_ITERS = dict(pretrain=50, finetune=300, retrain=100)
MIN_CANDIDATES = 8
SCALE_STEP = 32
MIN_SCALE = 128
MAX_SCALE = 640
SEARCH_FRACTION = 0.1
MIN_SEARCH = 20
MAX_SEARCH = 5000
CALIB_IMAGES = 32
RANDOM_PER_30_MIN = 2
MAX_RANDOM = 8
# Keys of the per-stage --cfg-options that set a size themselves.
OVERRIDES = {
    ('pretrain', 'train_cfg.max_iters'): 'pretrain_iters',
    ('finetune', 'train_cfg.max_iters'): 'finetune_iters',
    ('retrain', 'train_cfg.max_iters'): 'retrain_iters',
    ('search', 'train_cfg.num_generations'): 'generations',
    ('search', 'train_cfg.population_size'): 'population',
    ('search', 'train_cfg.top_k'): 'top_k',
    ('search', 'train_cfg.num_calibration_images'): 'calib_images',
}


def choose_sizes(preset: str, stats: Optional[DataStats] = None,
                 budget_minutes: Optional[float] = None,
                 img_scale: Optional[int] = None,
                 overrides: Optional[Dict[str, dict]] = None,
                 num_test_images: Optional[int] = None,
                 geometry: Optional[DetectorGeometry] = None,
                 slowdown: float = 1.0,
                 builtin_task: bool = False) -> Sizes:
    """The sizes of a run (the rule: this module's docstring).

    Args:
        preset: A key of :data:`PRESETS`. ``default`` follows the data and
            the budget; ``quick`` keeps its fixed sizes.
        stats: Statistics of the training split (None: the preset as is).
        budget_minutes: Time budget of the whole run (default 30).
        img_scale: Input scale given by the user (takes precedence).
        overrides: Per-stage ``--cfg-options`` (``{'finetune':
            {'train_cfg.max_iters': 2000}}``); those that set a size
            (:data:`OVERRIDES`) take precedence.
        num_test_images: Images of the test split (each retrained
            architecture is tested on it). Defaults to a quarter of the
            training images.
        geometry: The detector's anchors. Defaults to those of the
            pipeline's fine-tuning config.
        slowdown: How many times slower the machine is now than when
            :data:`COSTS` were measured (:func:`measure_slowdown`); every
            cost is multiplied by it. Defaults to 1.
        builtin_task: The data is the built-in task's: ``default`` takes
            :data:`BUILTIN_TASK_SIZES` as they are (not modelled).

    Returns:
        Sizes: The sizes, with the reasons and the modelled time.
    """
    if preset not in PRESETS:
        raise ValueError(f'preset must be one of {sorted(PRESETS)}, got '
                         f'{preset!r}')
    if budget_minutes is not None and budget_minutes <= 0:
        raise ValueError(f'budget_minutes must be positive, got '
                         f'{budget_minutes}')
    if img_scale is not None and img_scale < SCALE_STEP:
        raise ValueError(f'img_scale must be at least {SCALE_STEP}, got '
                         f'{img_scale}')
    if not slowdown > 0:
        raise ValueError(f'slowdown must be positive, got {slowdown}')
    sizes, reasons = PRESETS[preset], []
    budget_minutes = 30.0 if budget_minutes is None else budget_minutes
    aspect = 1.0 if stats is None else _aspect(stats)
    if num_test_images is None and stats is not None:
        num_test_images = stats.num_images // 4
    if preset == 'default' and builtin_task:
        sizes = BUILTIN_TASK_SIZES
        if img_scale is not None:
            sizes = replace(sizes, det_scale=int(img_scale))
        reasons.append('built-in task: the sizes of its rank study '
                       '(docs/rank_correlation.md), whatever the budget')
    elif preset == 'default' and stats is not None and stats.num_boxes:
        sizes, reasons = _adapt(stats, budget_minutes, img_scale,
                                num_test_images, geometry
                                or _pipeline_geometry(), slowdown)
    else:
        if img_scale is not None:
            sizes = replace(sizes, det_scale=int(img_scale))
        reasons.append(f'preset {preset}: fixed sizes'
                       + (', scale from --img-scale'
                          if img_scale is not None else ''))
    sizes, changed = _apply_overrides(sizes, overrides)
    reasons += changed
    if builtin_task:
        reasons.append('time not modelled: the stage costs were measured '
                       'for the FPN recipe of other data')
        return replace(sizes, reasons=tuple(reasons))
    minutes = estimate_seconds(sizes, aspect, num_test_images or 0,
                               slowdown)['total'] / 60
    reasons.append(
        f'modelled time {minutes:.1f} min (budget {budget_minutes:g} min), '
        f'from the costs measured by benchmarks/pipeline_stage_costs.py '
        f'x {slowdown:.2f} (this machine now against then)')
    return replace(sizes, estimated_minutes=round(minutes, 1),
                   reasons=tuple(reasons))


def sizes_for_run(work_dir: str, request: dict, choose) -> Sizes:
    """The sizes of a run in ``work_dir``: chosen once, then reused.

    A rerun (after an interruption) must give the unfinished stages the
    sizes the finished ones had, although the speed probe, and so the
    chosen schedules, differ from one call to the next. The sizes are
    saved with the request that chose them (preset, budget, scale,
    overrides); the same request reuses them, another chooses anew.

    Args:
        work_dir: The run's folder.
        request: The options that choose sizes (JSON-able).
        choose: ``choose() -> Sizes``, called when nothing is reused.

    Returns:
        Sizes: The sizes.
    """
    path = osp.join(work_dir, SIZES_FILE)
    request = json.loads(json.dumps(request))  # as it reads back
    if osp.isfile(path):
        with open(path) as f:
            saved = json.load(f)
        if saved.get('request') == request:
            sizes = Sizes.from_dict(saved['sizes'])
            return replace(sizes, reasons=sizes.reasons + (
                f'chosen by the first run in this work dir ({path})', ))
    sizes = choose()
    atomic_write_json(path, dict(request=request, sizes=sizes.to_dict()),
                      indent=1)
    return sizes


class _ProbeNet(nn.Module):
    """A few convolutions at detection sizes: the probe's workload."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 32, 3, 2, 1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.Conv2d(32, 64, 3, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
            nn.Conv2d(64, 64, 3, 1, 1), nn.BatchNorm2d(64), nn.ReLU(),
            nn.Conv2d(64, 128, 3, 2, 1), nn.BatchNorm2d(128), nn.ReLU())

    def forward(self, x):
        return self.body(x)


def probe_seconds(repeats: int = 5, steps: int = 5) -> float:
    """Wall seconds of a fixed small torch workload, now (median of
    ``repeats``; about 0.1 s each on an idle core).

    Every stage of the pipeline is torch work on the same cores, so one
    workload's slowdown (other jobs on a shared machine, another CPU,
    more threads) is every stage's, to a first approximation.
    """
    generator = torch.Generator().manual_seed(0)
    net = _ProbeNet()
    data = torch.rand(2, 3, 128, 128, generator=generator)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            net.zero_grad()
            net(data).square().mean().backward()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure_slowdown() -> float:
    """How many times slower this machine is now than when :data:`COSTS`
    were measured (:func:`probe_seconds` now / then)."""
    return probe_seconds() / COSTS['probe_s']


def data_scale(stats: DataStats, geometry: DetectorGeometry
               ) -> Tuple[int, str]:
    """The scale the objects ask for, bounded by the images and the CPU.

    Returns:
        tuple: The scale and why, one sentence.
    """
    rel = stats.object_size_rel.get('p50')
    longer = stats.image_longer_side.get('p50')
    anchor = geometry.smallest_anchor
    if not rel:
        return MIN_SCALE, (f'no object sizes in the annotations: '
                           f'{MIN_SCALE} px')
    wanted = _round_up(anchor / rel)
    why = (f'median object {100 * rel:.1f}% of the longer side -> '
           f'{wanted} px would make it {rel * wanted:.0f} px, as large as '
           f'the smallest anchor ({anchor:.0f} px)')
    scale = wanted
    if longer and scale > _round_up(longer):
        scale = _round_up(longer)
        why += (f'; the images are {longer:.0f} px (median longer side): '
                f'{scale} px, no upscaling')
    if scale > MAX_SCALE:
        scale = MAX_SCALE
        why += f'; CPU maximum {MAX_SCALE} px'
    if scale < MIN_SCALE:
        scale = MIN_SCALE
        why += f'; CPU-config minimum {MIN_SCALE} px'
    return scale, why


def search_images(num_images: int) -> int:
    """Training images held out as the search split."""
    wanted = max(MIN_SEARCH, round(SEARCH_FRACTION * num_images))
    return max(1, min(wanted, num_images // 4, MAX_SEARCH))


def estimate_seconds(sizes: Sizes, aspect: float = 1.0,
                     num_test_images: int = 0,
                     slowdown: float = 1.0) -> dict:
    """Modelled seconds of each stage of a run with these sizes.

    Args:
        sizes: The sizes.
        aspect: The images' shorter / longer side (pixels per image are
            ``scale**2 * aspect``).
        num_test_images: Images of the test split.
        slowdown: Factor on every cost (see :func:`choose_sizes`).

    Returns:
        dict: Seconds per stage (``pretrain``, ``finetune``, ``search``,
        ``retrain``, the latter with the export; ``other``: data checks,
        split, report) and ``total``.
    """
    model = _CostModel(sizes.det_scale, aspect, slowdown)
    candidate = model.candidate(sizes.calib_images, sizes.num_search)
    archs = 2 + sizes.num_random
    seconds = dict(
        pretrain=model.pretrain(sizes.pretrain_iters),
        finetune=model.finetune(sizes.finetune_iters),
        search=model.search(sizes.population * sizes.generations,
                            candidate),
        retrain=model.retrain_fixed(archs, num_test_images, candidate,
                                    sizes.calib_images) +
        archs * sizes.retrain_iters * model.per('retrain_s_per_iter'),
        other=model.fixed('other_fixed_s'))
    seconds['total'] = sum(seconds.values())
    return seconds


class _CostModel:
    """The measured costs at one scale, on the machine as it is now."""

    def __init__(self, scale, aspect, slowdown):
        self.pixels = scale * scale * aspect
        self.slowdown = slowdown

    def fixed(self, key):
        return COSTS[key] * self.slowdown

    def per(self, key):
        fit = COSTS[key]
        if not isinstance(fit, dict):
            return fit * self.slowdown
        return (fit['a'] + fit['b'] * self.pixels) * self.slowdown

    def pretrain(self, iters):
        return self.fixed('pretrain_fixed_s') + iters * self.per(
            'pretrain_s_per_iter')

    def finetune(self, iters):
        return self.fixed('finetune_fixed_s') + iters * self.per(
            'finetune_s_per_iter')

    def candidate(self, calib_images, num_search):
        return (calib_images * self.per('calib_s_per_image') +
                num_search * self.per('eval_s_per_image'))

    def search(self, candidates, candidate):
        # One more evaluation: the re-score that measures the noise.
        return self.fixed('search_fixed_s') + (candidates + 1) * candidate

    def retrain_fixed(self, archs, num_test, candidate, calib_images):
        """Retraining less its iterations, with the export stage: per
        architecture the tool starts, the test, the supernet score and
        the export (BN calibration)."""
        export = self.fixed('export_fixed_s') + calib_images * self.per(
            'calib_s_per_image')
        return export + archs * (
            self.fixed('retrain_fixed_s_per_arch') + candidate +
            num_test * self.per('eval_s_per_image'))


def _adapt(stats, budget_minutes, img_scale, num_test, geometry, slowdown):
    """Scale and schedules for the data and the budget."""
    budget = 60.0 * budget_minutes
    aspect = _aspect(stats)
    num_search = search_images(stats.num_images)
    calib = max(1, min(CALIB_IMAGES, stats.num_images - num_search))
    num_random = max(1, min(MAX_RANDOM, round(
        RANDOM_PER_30_MIN * budget_minutes / 30)))
    fixed = dict(num_search=num_search, calib_images=calib,
                 num_random=num_random)
    reasons = []
    if img_scale is not None:
        wanted, why = int(img_scale), 'scale from --img-scale'
        scales = [wanted]
    else:
        wanted, why = data_scale(stats, geometry)
        scales = list(range(wanted, MIN_SCALE - 1, -SCALE_STEP)) or [wanted]
    for scale in scales:
        sizes, fits = _schedules(scale, budget, aspect, num_test, fixed,
                                 slowdown)
        if fits:
            break
    reasons.append(why)
    rel = stats.object_size_rel['p50']
    if sizes.det_scale < wanted:
        need = _budget_for(wanted, aspect, num_test, fixed, slowdown)
        median = rel * sizes.det_scale
        positive = geometry.smallest_anchor * math.sqrt(geometry.pos_iou)
        weak = (f', under the {positive:.0f} px at which a box still '
                f'overlaps the smallest anchor at IoU {geometry.pos_iou:g}: '
                f'expect weak detection' if median < positive else '')
        reasons.append(
            f'the {budget_minutes:g}-minute budget allows {sizes.det_scale}'
            f' px (median object {median:.0f} px{weak}); {wanted} px needs '
            f'about {need:.0f} minutes (--budget-minutes)')
    if not fits:
        reasons.append(
            f'even the shortest schedules at {sizes.det_scale} px (fine-'
            f'tuning {MIN_ITERS["finetune"]}, retraining '
            f'{MIN_ITERS["retrain"]} iterations, {MIN_CANDIDATES} '
            f'candidates) do not fit the {budget_minutes:g}-minute budget')
    small = stats.object_size_rel.get('p10')
    smallest = geometry.smallest_anchor * math.sqrt(geometry.min_pos_iou)
    if small and small * sizes.det_scale < smallest:
        reasons.append(
            f'at {sizes.det_scale} px a tenth of the objects are under '
            f'{small * sizes.det_scale:.0f} px; under {smallest:.1f} px no '
            f'anchor overlaps an object at IoU {geometry.min_pos_iou:g} '
            f'(the RPN\'s lowest positive match): those are not learnt')
    reasons.append(
        f'schedules fill the budget in fixed shares (pretrain '
        f'{SHARES["pretrain"]:.0%}, finetune {SHARES["finetune"]:.0%}, '
        f'search {SHARES["search"]:.0%}, retrain {SHARES["retrain"]:.0%} '
        f'of what the fixed costs leave); search split {num_search} of '
        f'{stats.num_images} training images')
    return sizes, reasons


def _schedules(scale, budget, aspect, num_test, fixed, slowdown):
    """Schedules filling the budget at one scale; and whether they reach
    their minimum lengths."""
    model = _CostModel(scale, aspect, slowdown)
    archs = 2 + fixed['num_random']
    candidate = model.candidate(fixed['calib_images'], fixed['num_search'])
    # Parts that do not depend on the schedule lengths.
    static = (model.pretrain(0) + model.finetune(0) + model.search(
        0, candidate) + model.fixed('other_fixed_s') + model.retrain_fixed(
            archs, num_test, candidate, fixed['calib_images']))
    left = max(budget - static, 0.0)
    pretrain = SHARES['pretrain'] * left / model.per('pretrain_s_per_iter')
    finetune = SHARES['finetune'] * left / model.per('finetune_s_per_iter')
    retrain = SHARES['retrain'] * left / (archs *
                                          model.per('retrain_s_per_iter'))
    candidates = SHARES['search'] * left / candidate
    fits = (pretrain >= MIN_ITERS['pretrain'] and
            finetune >= MIN_ITERS['finetune'] and
            retrain >= MIN_ITERS['retrain'] and candidates >= MIN_CANDIDATES)
    population, generations = _population(max(candidates, MIN_CANDIDATES))
    sizes = Sizes(
        det_scale=scale,
        pretrain_iters=_iters(pretrain, MIN_ITERS['pretrain']),
        finetune_iters=_iters(finetune, MIN_ITERS['finetune']),
        retrain_iters=_iters(retrain, MIN_ITERS['retrain']),
        population=population, generations=generations,
        top_k=max(2, round(0.3 * population)), **fixed)
    return sizes, fits


def _budget_for(scale, aspect, num_test, fixed, slowdown):
    """Minutes a run at ``scale`` needs for the shortest schedules."""
    for minutes in range(5, 24 * 60, 5):
        if _schedules(scale, 60.0 * minutes, aspect, num_test, fixed,
                      slowdown)[1]:
            return minutes
    return float('inf')


def _population(candidates):
    """Population x generations of about ``candidates`` evaluations, in
    the default preset's proportions (10 x 3)."""
    generations = max(2, min(20, round(math.sqrt(0.3 * candidates))))
    population = max(4, min(50, int(candidates // generations)))
    return population, generations


def _iters(value, minimum):
    """Iterations, floored to a multiple of 10, at least ``minimum``."""
    return max(minimum, int(value // 10 * 10))


def _round_up(value):
    return int(math.ceil(value / SCALE_STEP) * SCALE_STEP)


def _aspect(stats):
    width, height = stats.image_width.get('p50'), stats.image_height.get(
        'p50')
    if not width or not height:
        return 1.0
    return min(width, height) / max(width, height)


def _apply_overrides(sizes, overrides):
    """Sizes set by per-stage ``--cfg-options`` (they take precedence)."""
    changed, reasons = {}, []
    for stage, options in (overrides or {}).items():
        for key, value in (options or {}).items():
            name = OVERRIDES.get((stage, key))
            if name is not None and isinstance(value, int):
                changed[name] = value
                reasons.append(f'{name}={value} from --{stage}-cfg-options '
                               f'{key}')
    return replace(sizes, **changed), reasons


def _pipeline_geometry() -> DetectorGeometry:
    # Imported here: stages imports this module.
    from detnas_mm.pipeline.config_edits import load_shipped
    from detnas_mm.pipeline.stages import FINETUNE_CONFIG
    return DetectorGeometry.of_config(load_shipped(FINETUNE_CONFIG))
