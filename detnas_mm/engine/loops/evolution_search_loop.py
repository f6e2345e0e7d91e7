"""Evolutionary architecture search as the train loop of an mmengine Runner.

DetNAS (and SPOS before it) search a trained supernet by evolution: every
candidate path gets its BN statistics recomputed on training images and is
scored on a held-out search split; the best paths breed the next
generation. The loop is task-agnostic: it scores with whatever evaluator
the config has (CocoMetric, VOCMetric, mmpretrain's Accuracy).
"""
import copy
import hashlib
import json
import os.path as osp
import time
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
from mmengine import dist
from mmengine.model import is_model_wrapper
from mmengine.runner.base_loop import BaseLoop

from detnas_mm.cost.constraint import ArchConstraint
from detnas_mm.cost.detector_flops import detector_input_size
from detnas_mm.cost.latency import LatencyTable
from detnas_mm.engine.evolution import crossover, draw_new, mutate, random_arch
from detnas_mm.engine.pareto import first_front, pareto_order
from detnas_mm.engine.path_scoring import CalibrationSet, score_path
from detnas_mm.engine.search_data import refuse_bad_search_split
from detnas_mm.engine.search_plots import (plot_op_frequency, plot_pareto,
                                           plot_search)
from detnas_mm.engine.search_report import (  # noqa: F401 (re-exported)
    format_seconds, near_best, ranking_check, top_k_markdown)
from detnas_mm.engine.search_state import STATE_FILE, load_state, new_state
from detnas_mm.export import (export_search_result, get_retrain_base,
                              write_search_result)
from detnas_mm.export.search_result import (PARETO_PNG, provenance_of,
                                            write_pareto_result)
from detnas_mm.models.backbones.search_space import format_arch, parse_arch
from detnas_mm.models.utils import find_supernet
from detnas_mm.registry import LOOPS
from detnas_mm.utils import atomic_write_json, atomic_write_text

LOG_FILE = 'search_log.jsonl'
TOPK_JSON = 'search_topk.json'
TOPK_TABLE = 'search_topk.md'
SCORES_PNG = 'search_scores.png'
OPS_PNG = 'search_op_frequency.png'
CALIBRATION_FILE = 'calibration_images.json'
SELECTIONS = ('top_k', 'pareto')


@LOOPS.register_module()
class EvolutionSearchLoop(BaseLoop):
    """Evolutionary search over the paths of a DetNAS supernet.

    As the official DetNAS search: generation 0 is ``population_size``
    random paths that meet the constraints; every later generation has
    ``num_mutation`` mutants and ``num_crossover`` crossovers of the
    ``top_k`` best paths found so far, and random paths for the rest. A
    path evaluated before (or already drawn for the generation) is rejected
    and drawn again, so every generation evaluates ``population_size`` new
    paths.

    Latency: with ``latency_table`` (a table of
    ``tools/analysis/latency_table.py``) every candidate's backbone latency
    is predicted from the table (a sum, microseconds), recorded
    (``latency_ms`` in the log, state, ``best_arch.json``) and, with
    ``latency_limit_ms``, limited like FLOPs: a path predicted slower is
    never drawn. The table must have been measured for the supernet's space
    at the detector's input size (the config's test scale, padded as in
    testing; or ``latency_input_size``), else the loop refuses to start.
    The search then also writes its Pareto front of score vs predicted
    latency (``search_pareto.json``, ``.md``, ``.png``; members indexed by
    rising latency, exportable with ``tools/export_arch.py --pareto-index``).

    Selection of the ``top_k`` parents: ``'top_k'`` (DetNAS) takes the
    highest scores (ties: the path evaluated first); ``'pareto'`` ranks
    every evaluated path by non-dominated sorting on (score up, predicted
    latency down), front by front, within a front by NSGA-II crowding
    distance (the ends of a front first), then evaluation order (see
    :mod:`detnas_mm.engine.pareto`). Either way the best path reported and
    exported is the one with the highest score (in ``'pareto'`` mode ties
    go to the faster one). Each candidate is scored by
    :func:`~detnas_mm.engine.path_scoring.score_path`: its BN statistics
    recomputed on a fixed, seeded set of training images (training
    pipeline, model in training mode), then the evaluator over the search
    split.

    The search split is the config's ``val_dataloader`` and
    ``val_evaluator`` (a search config points them at the held-out search
    split), unless ``search_dataloader``/``search_evaluator`` are given.
    The calibration images come from the config's ``train_dataloader``.

    After generation 0 the loop checks that the scores can rank paths: it
    re-scores the best candidate with another calibration seed (the noise
    of a score) and warns, in the log and in the report, when the scores
    tie or spread no more than that noise (e.g. a supernet that detects
    nothing on the search split). The search continues.

    In a distributed run each candidate's work is split over the ranks:
    the calibration batches are dealt round-robin and the BN sums
    all-reduced, the search split is sharded by its ``DefaultSampler`` and
    the evaluator gathers the results; candidates are drawn on rank 0 and
    broadcast.

    Args:
        runner: The runner (given by ``Runner.build_train_loop``).
        dataloader: The config's ``train_dataloader`` (given by the
            runner): source of the calibration images.
        num_generations: Generations (DetNAS: 20).
        population_size: Candidates per generation (50).
        top_k: Parents: the best paths found so far (10).
        num_mutation: Mutants per generation (20).
        mutation_prob: Probability to re-draw each gene of a mutant (0.1).
        num_crossover: Crossovers per generation (20).
        flops_limit: Largest FLOPs (multiply-adds) of a candidate, or None.
        params_limit: Largest backbone params of a candidate, or None.
        flops_input_size: Input size at which FLOPs are counted (224, the
            paper's; the test size in ``'detector'`` mode).
        flops_mode: ``'backbone'`` or ``'detector'`` (see
            :class:`~detnas_mm.cost.constraint.ArchConstraint`).
        flops_count: ``'official'`` (conv only, the DetNAS search's count)
            or ``'full'`` (every op, BN included); backbone mode.
        latency_table: Path of a latency table JSON, or None.
        latency_limit_ms: Largest predicted backbone latency (ms) of a
            candidate, or None; needs ``latency_table``; combines with the
            FLOPs and params limits.
        latency_input_size: Input size the table must have been measured
            at; None: the detector's test scale, padded as in testing.
        selection: How parents are chosen: ``'top_k'`` or ``'pareto'``
            (needs ``latency_table``).
        score_key: Metric to maximise, e.g. ``'coco/bbox_mAP'``,
            ``'pascal_voc/mAP'``, ``'accuracy/top1'``.
        seed: Seed of the evolution and of the calibration set.
        num_calibration_images: Training images for BN statistics (DetNAS:
            500 iterations of 8 images); all of them if the set is smaller.
        calibration_batch_size: Images per calibration batch and rank;
            defaults to the train dataloader's batch size.
        calibration_num_workers: Loader workers; defaults to the train
            dataloader's.
        bn_averaging: ``'exact'`` or ``'running'`` (see
            :func:`~detnas_mm.engine.bn_recalibration.recalibrate_bn`).
        bn_momentum: BN momentum of the ``'running'`` average (DetNAS: 0.1).
        search_dataloader: Dataloader config of the search split.
        search_evaluator: Evaluator config of the search split.
        check_split: Refuse a search split that shares images with the
            training set or is the test split (``test_dataloader``).
        check_ranking: Re-score one candidate with another calibration seed
            after generation 0 and warn when the scores cannot rank.
        resume: Continue from ``search_state.json`` in the work dir.
        export_base: If set, a key of ``detnas_mm.export.RETRAIN_BASES``
            (e.g. ``'faster-rcnn_coco'``): the best path is also written as
            retraining configs (detection and ImageNet) in the work dir.
        max_tries: Draws allowed per operator and generation before giving
            up on finding new paths that meet the constraints.
    """

    def __init__(self,
                 runner,
                 dataloader=None,
                 num_generations: int = 20,
                 population_size: int = 50,
                 top_k: int = 10,
                 num_mutation: int = 20,
                 mutation_prob: float = 0.1,
                 num_crossover: int = 20,
                 flops_limit: Optional[float] = None,
                 params_limit: Optional[float] = None,
                 flops_input_size=224,
                 flops_mode: str = 'backbone',
                 flops_count: str = 'official',
                 latency_table: Optional[str] = None,
                 latency_limit_ms: Optional[float] = None,
                 latency_input_size=None,
                 selection: str = 'top_k',
                 score_key: str = 'coco/bbox_mAP',
                 seed: int = 0,
                 num_calibration_images: int = 4000,
                 calibration_batch_size: Optional[int] = None,
                 calibration_num_workers: Optional[int] = None,
                 bn_averaging: str = 'exact',
                 bn_momentum: float = 0.1,
                 search_dataloader: Optional[dict] = None,
                 search_evaluator=None,
                 check_split: bool = True,
                 check_ranking: bool = True,
                 resume: bool = False,
                 max_tries: int = 10000,
                 export_base: Optional[str] = None):
        # The train dataloader config is not built: only a fixed subset of
        # its images is loaded, for calibration.
        self._runner = runner
        self._check_settings(num_generations, population_size, top_k,
                             num_mutation, mutation_prob, num_crossover,
                             num_calibration_images, max_tries)
        self.num_generations = num_generations
        self.population_size = population_size
        self.top_k = top_k
        self.num_mutation = num_mutation
        self.mutation_prob = mutation_prob
        self.num_crossover = num_crossover
        self.score_key = score_key
        self.seed = seed
        self.bn_averaging = bn_averaging
        self.bn_momentum = bn_momentum
        self.check_ranking = check_ranking
        self.resume = resume
        self.max_tries = max_tries
        self.export_base = export_base
        if export_base is not None:
            get_retrain_base(export_base)  # fail now on an unknown name
        self.work_dir = runner.work_dir

        self.model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        self.supernet = find_supernet(self.model)
        self.space = self.supernet.space
        if selection not in SELECTIONS:
            raise ValueError(f'selection must be one of {SELECTIONS}, got '
                             f'{selection!r}')
        if selection == 'pareto' and latency_table is None:
            raise ValueError("selection='pareto' ranks by score and "
                             'predicted latency: it needs latency_table')
        self.selection = selection
        table = self._load_latency_table(latency_table, latency_input_size,
                                         runner.cfg)
        self.constraint = ArchConstraint(
            self.space, flops_limit, params_limit, flops_input_size,
            flops_mode, detector_config=runner.cfg, count=flops_count,
            latency_table=table, latency_limit_ms=latency_limit_ms)

        cfg = runner.cfg
        if dataloader is None:
            raise ValueError('EvolutionSearchLoop needs the train_dataloader '
                             'of the config: its images calibrate BN')
        search_dataloader = copy.deepcopy(
            search_dataloader or cfg.get('val_dataloader'))
        search_evaluator = search_evaluator or cfg.get('val_evaluator')
        if search_dataloader is None or search_evaluator is None:
            raise ValueError('No search split: give val_dataloader and '
                             'val_evaluator in the config, or '
                             'search_dataloader and search_evaluator in '
                             'train_cfg')
        self.search_dataloader = runner.build_dataloader(
            search_dataloader, seed=runner.seed)
        self.evaluator = runner.build_evaluator(search_evaluator)
        self.evaluator.dataset_meta = getattr(
            self.search_dataloader.dataset, 'metainfo', None)
        self._calibration_args = (dataloader, num_calibration_images,
                                  calibration_batch_size,
                                  calibration_num_workers)
        self.calibration = self._calibration_set(seed)
        self.calibration.check_even(self.model)
        if check_split:
            refuse_bad_search_split(
                search_dataloader['dataset'], dataloader['dataset'],
                cfg.get('test_dataloader'), self.search_dataloader.dataset,
                self.calibration.dataset)
        self.settings = json.loads(json.dumps(dict(
            space=list(self.space.signature()),
            num_generations=num_generations,
            population_size=population_size, top_k=top_k,
            num_mutation=num_mutation, mutation_prob=mutation_prob,
            num_crossover=num_crossover, flops_limit=flops_limit,
            params_limit=params_limit, flops_input_size=flops_input_size,
            flops_mode=flops_mode, flops_count=self.constraint.count,
            latency_table=_table_identity(table),
            latency_limit_ms=latency_limit_ms, selection=selection,
            score_key=score_key, seed=seed,
            calibration_images=len(self.calibration.indices),
            calibration_batch_size=self.calibration.batch_size,
            bn_averaging=bn_averaging, bn_momentum=bn_momentum,
            max_tries=max_tries)))
        self.state: Dict = {}
        self._session_seconds: List[float] = []

    def _load_latency_table(self, path, input_size, cfg):
        """The latency table, checked against the space and input size."""
        if path is None:
            if input_size is not None:
                raise ValueError(f'latency_input_size={input_size!r} '
                                 f'needs latency_table')
            return None
        if input_size is None:
            try:
                input_size = detector_input_size(cfg)
            except ValueError as e:
                raise ValueError(
                    f'latency_table: {e}; set latency_input_size to the '
                    f'input size the table must be measured at') from None
        # Load refuses a table of another space or input size.
        return LatencyTable.load(path, space=self.space,
                                 input_size=input_size)

    @property
    def latency_table(self) -> Optional[LatencyTable]:
        return self.constraint.latency_table

    def _calibration_set(self, seed: int) -> CalibrationSet:
        loader, num_images, batch_size, num_workers = self._calibration_args
        return CalibrationSet(loader, num_images, batch_size, num_workers,
                              seed)

    # mmengine's hooks, schedulers and optimizer wrapper read these from
    # the train loop.
    @property
    def dataloader(self):
        return self.calibration.loader

    @property
    def max_epochs(self) -> int:
        return self.num_generations

    @property
    def max_iters(self) -> int:
        return self.num_generations * self.population_size

    @property
    def epoch(self) -> int:
        return self.state.get('generation', 0)

    @property
    def iter(self) -> int:
        return len(self.state.get('log', []))

    # Set-up and checks (all before the first evaluation)

    @staticmethod
    def _check_settings(num_generations, population_size, top_k,
                        num_mutation, mutation_prob, num_crossover,
                        num_calibration_images, max_tries):
        positive = dict(num_generations=num_generations,
                        population_size=population_size, top_k=top_k,
                        num_calibration_images=num_calibration_images,
                        max_tries=max_tries)
        for name, value in positive.items():
            if not isinstance(value, int) or value < 1:
                raise ValueError(f'{name} must be a positive int, got '
                                 f'{value!r}')
        for name, value in dict(num_mutation=num_mutation,
                                num_crossover=num_crossover).items():
            if not isinstance(value, int) or value < 0:
                raise ValueError(f'{name} must be an int >= 0, got '
                                 f'{value!r}')
        if top_k > population_size:
            raise ValueError(f'top_k={top_k} must be at most '
                             f'population_size={population_size}')
        if num_mutation + num_crossover > population_size:
            raise ValueError(
                f'num_mutation + num_crossover = '
                f'{num_mutation + num_crossover} must be at most '
                f'population_size={population_size}')
        if not 0 <= mutation_prob <= 1:
            raise ValueError(f'mutation_prob must be in [0, 1], got '
                             f'{mutation_prob!r}')

    # The search

    def run(self):
        """Run (or resume) the search; returns the model."""
        self.runner.call_hook('before_train')
        self._start()
        while self.state['generation'] < self.num_generations:
            while self.state['next_candidate'] < len(
                    self.state['candidates']):
                self._run_candidate()
            if self.state['generation'] == 0 and self.check_ranking and \
                    self.state.get('ranking') is None:
                self._check_ranking()
            self._finish_generation()
        self._write_outputs()
        self.runner.call_hook('after_train')
        return self.runner.model

    def _start(self):
        state_file = osp.join(self.work_dir, STATE_FILE)
        state = None
        if self.resume:
            if dist.get_rank() == 0 and osp.isfile(state_file):
                state = load_state(state_file, self.settings)
            state = _broadcast(state)
        if state is None:
            if self.resume:
                self.runner.logger.warning(
                    f'--resume: no {state_file}, starting a new search')
            rng = np.random.default_rng(self.seed)
            state = new_state(self.settings, rng.bit_generator.state)
            self.state = state
            self._draw_generation()
        else:
            self.state = state
            self.runner.logger.info(
                f'Resumed the search at generation {state["generation"]}, '
                f'candidate {state["next_candidate"]} '
                f'({state["num_evaluations"]} evaluations done)')
        if dist.get_rank() == 0:
            atomic_write_json(
                osp.join(self.work_dir, CALIBRATION_FILE),
                dict(seed=self.seed, images=self.calibration.images()),
                indent=1)
            # The log is rebuilt from the state: a kill between the state
            # write and the log append must not lose or repeat a line.
            atomic_write_text(
                osp.join(self.work_dir, LOG_FILE),
                ''.join(json.dumps(e) + '\n' for e in self.state['log']))
            self._save()

    def _draw_generation(self):
        """Draw the current generation on rank 0 and broadcast it."""
        state = self.state
        if dist.get_rank() == 0:
            rng = np.random.default_rng()
            rng.bit_generator.state = state['rng']
            archs = self._new_candidates(rng)
            drawn = dict(candidates=[format_arch(a, self.space)
                                     for a in archs],
                         rng=rng.bit_generator.state)
        else:
            drawn = None
        drawn = _broadcast(drawn)
        state['candidates'] = drawn['candidates']
        state['rng'] = drawn['rng']
        state['next_candidate'] = 0

    def _new_candidates(self, rng) -> List[Tuple[int, ...]]:
        space, constraint = self.space, self.constraint
        # Nothing evaluated before is drawn again (the official `legal()`).
        taken = {parse_arch(a, space) for a in self.state['cache']}
        archs = []
        parents = [parse_arch(a, space) for a in self.state['top_k']]
        if parents:
            archs += draw_new(
                lambda: mutate(parents[rng.integers(len(parents))], space,
                               self.mutation_prob, rng),
                self.num_mutation, constraint, taken, self.max_tries)

            def make_crossover():
                # Two parents drawn with replacement, as officially.
                i, j = rng.integers(len(parents), size=2)
                return crossover(parents[i], parents[j], rng)

            archs += draw_new(make_crossover, self.num_crossover, constraint,
                              taken, self.max_tries)
        archs += draw_new(lambda: random_arch(space, rng),
                          self.population_size - len(archs), constraint,
                          taken, self.max_tries)
        if len(archs) < self.population_size:
            raise RuntimeError(
                f'Found only {len(archs)} of {self.population_size} new '
                f'paths meeting the constraints ({constraint.describe()}) '
                f'in {self.max_tries} draws per operator '
                f'({len(self.state["cache"])} paths evaluated before): '
                f'loosen the limits, raise max_tries or search fewer '
                f'generations')
        return archs

    def _run_candidate(self):
        state = self.state
        index = state['next_candidate']
        arch = state['candidates'][index]
        start = time.perf_counter()
        score, metrics, timing = self._evaluate(arch, self.calibration)
        path = parse_arch(arch, self.space)
        flops, params = self.constraint.cost(path)
        latency = self.constraint.latency(path)
        state['cache'][arch] = dict(
            order=len(state['cache']), generation=state['generation'],
            flops=flops, params=params, latency_ms=latency, score=score,
            metrics=metrics)
        state['num_evaluations'] += 1
        seconds = time.perf_counter() - start
        entry = dict(generation=state['generation'], candidate=index,
                     arch=arch, flops=flops, params=params,
                     latency_ms=latency, score=score,
                     seconds=round(seconds, 4),
                     **{k: round(v, 4) for k, v in timing.items()})
        state['log'].append(entry)
        state['next_candidate'] += 1
        state['seconds'] += seconds
        self._session_seconds.append(seconds)
        self._save(entry)
        latency_text = '' if latency is None else \
            f'latency {latency:.2f}ms '
        self.runner.logger.info(
            f'Search gen [{state["generation"] + 1}/{self.num_generations}]'
            f' cand [{index + 1}/{len(state["candidates"])}] {arch} '
            f'FLOPs {flops / 1e6:.1f}M params {params / 1e6:.2f}M '
            f'{latency_text}{self.score_key} {score:.4f} time '
            f'{seconds:.1f}s eta {self._eta()}')

    @torch.no_grad()
    def _evaluate(self, arch: str, calibration: CalibrationSet):
        """Score ``arch`` with the shared path scoring."""
        metrics, timing = score_path(self.model, arch, calibration,
                                     self.search_dataloader, self.evaluator,
                                     self.bn_averaging, self.bn_momentum)
        if not metrics:
            # mmdet's metrics return nothing when a path detects nothing:
            # the worst score.
            self.runner.logger.warning(
                f'{arch}: the evaluator returned no metrics (no '
                f'detections?); scored 0')
            metrics = {self.score_key: 0.0}
        if self.score_key not in metrics:
            raise ValueError(f'score_key {self.score_key!r} is not among the '
                             f'metrics of the search evaluator: '
                             f'{sorted(metrics)}')
        return metrics[self.score_key], metrics, timing

    def _check_ranking(self):
        """Warn when generation 0's scores cannot rank architectures."""
        state = self.state
        cache = state['cache']
        scores = [cache[a]['score'] for a in state['candidates']]
        best = max(state['candidates'], key=lambda a: cache[a]['score'])
        rescore, _, _ = self._evaluate(best,
                                       self._calibration_set(self.seed + 1))
        check = ranking_check(scores, cache[best]['score'], rescore,
                              self.score_key)
        check.update(rescored_arch=best)
        state['ranking'] = check
        self._save()
        if check['can_rank']:
            self.runner.logger.info(
                f'Ranking check: scores spread {check["spread"]:.4f} '
                f'{self.score_key}, above the calibration noise '
                f'{check["noise"]:.4f}')
        else:
            self.runner.logger.warning(check['message'])

    def _evaluated(self) -> List[str]:
        """Every evaluated path, in evaluation order."""
        cache = self.state['cache']
        return sorted(cache, key=lambda a: cache[a]['order'])

    def _ranked(self) -> List[str]:
        """Every evaluated path, best first: by score (ties: first
        evaluated), or by Pareto rank with ``selection='pareto'``."""
        cache = self.state['cache']
        if self.selection == 'pareto':
            archs = self._evaluated()
            order = pareto_order([(cache[a]['score'], cache[a]['latency_ms'])
                                  for a in archs])
            return [archs[i] for i in order]
        return sorted(cache,
                      key=lambda a: (-cache[a]['score'], cache[a]['order']))

    def _best(self) -> str:
        """The highest score (ties: first evaluated; in Pareto mode the
        faster, then the first evaluated)."""
        cache = self.state['cache']
        if self.selection == 'pareto':
            return min(cache, key=lambda a: (-cache[a]['score'],
                                             cache[a]['latency_ms'],
                                             cache[a]['order']))
        return self._ranked()[0]

    def _front(self) -> List[str]:
        """The Pareto front of score vs predicted latency, by rising
        latency (empty without a latency table)."""
        if self.latency_table is None:
            return []
        cache = self.state['cache']
        archs = self._evaluated()
        return [archs[i] for i in first_front(
            [(cache[a]['score'], cache[a]['latency_ms']) for a in archs])]

    def _finish_generation(self):
        state = self.state
        state['top_k'] = self._ranked()[:self.top_k]
        cache = state['cache']
        scores = [cache[a]['score'] for a in state['candidates']]
        top = [cache[a]['score'] for a in state['top_k']]
        best = self._best()
        summary = dict(
            generation=state['generation'],
            candidates=list(state['candidates']),
            scores=scores,
            best_arch=best,
            best_score=cache[best]['score'],
            top_k=list(state['top_k']),
            top_k_mean=float(np.mean(top)),
            num_evaluations=state['num_evaluations'])
        if self.latency_table is not None:
            summary.update(
                latencies=[cache[a]['latency_ms']
                           for a in state['candidates']],
                best_latency_ms=cache[best]['latency_ms'],
                pareto_front=self._front())
        state['history'].append(summary)
        parents = 'Pareto-ranked parents' if self.selection == 'pareto' \
            else f'top-{len(top)}'
        self.runner.logger.info(
            f'Search generation [{state["generation"] + 1}/'
            f'{self.num_generations}] done: best {self.score_key} '
            f'{summary["best_score"]:.4f} ({best}), {parents} mean '
            f'{summary["top_k_mean"]:.4f}, {len(state["candidates"])} new '
            f'evaluations ({state["num_evaluations"]} in all), elapsed '
            f'{format_seconds(state["seconds"])}, eta {self._eta()}')
        state['generation'] += 1
        if state['generation'] < self.num_generations:
            self._draw_generation()
        else:
            state['candidates'], state['next_candidate'] = [], 0
        self._save()
        if dist.get_rank() == 0:
            self._write_top_k()
            self._write_pareto()

    def _eta(self) -> str:
        state = self.state
        if not self._session_seconds:
            return 'unknown'
        left = (len(state['candidates']) - state['next_candidate'] +
                (self.num_generations - state['generation'] - 1) *
                self.population_size)
        return format_seconds(max(left, 0) * np.mean(self._session_seconds))

    # Files

    def _save(self, entry: Optional[dict] = None):
        if dist.get_rank() != 0:
            return
        atomic_write_json(osp.join(self.work_dir, STATE_FILE), self.state)
        if entry is not None:
            with open(osp.join(self.work_dir, LOG_FILE), 'a') as f:
                f.write(json.dumps(entry) + '\n')

    def _row(self, arch: str, **extra) -> dict:
        record = self.state['cache'][arch]
        row = dict(extra, arch=arch, score=record['score'],
                   flops=record['flops'], params=record['params'],
                   generation=record['generation'])
        if self.latency_table is not None:
            row['latency_ms'] = record['latency_ms']
        return row

    def _top_k_rows(self) -> List[dict]:
        return [self._row(a, rank=i + 1)
                for i, a in enumerate(self.state['top_k'])]

    def _warning(self) -> Optional[str]:
        ranking = self.state.get('ranking')
        if ranking is not None and not ranking['can_rank']:
            return ranking['message']
        return None

    def _write_top_k(self):
        rows = self._top_k_rows()
        atomic_write_json(osp.join(self.work_dir, TOPK_JSON), rows, indent=1)
        atomic_write_text(
            osp.join(self.work_dir, TOPK_TABLE),
            top_k_markdown(rows, self.score_key, self._warning(),
                           self.selection, self.latency_table is not None))

    def _write_pareto(self, plot: bool = False):
        """The Pareto front of score vs predicted latency (table, plot)."""
        table = self.latency_table
        if table is None:
            return
        front = self._front()
        info = table.info()
        write_pareto_result(
            self.work_dir, self.space, [self._row(a) for a in front],
            self.score_key, self.constraint.flops_mode,
            self.constraint.input_size, self.runner.cfg.get('load_from'),
            flops_count=self.constraint.count, latency_table=info,
            latency_limit_ms=self.constraint.latency_limit_ms,
            selection=self.selection, warning=self._warning())
        if plot:
            size = 'x'.join(map(str, info['input_size']))
            plot_pareto(
                self.state['cache'], front, self.score_key,
                osp.join(self.work_dir, PARETO_PNG),
                self.constraint.latency_limit_ms, self._best(),
                title=f'Score vs predicted latency ({info["backend"]} on '
                f'{info["device"]}, {size}; selection {self.selection})')

    def _write_outputs(self):
        if dist.get_rank() != 0:
            return
        state = self.state
        self._write_top_k()
        self._write_pareto(plot=True)
        plot_search(state['cache'], state['history'], self.score_key,
                    osp.join(self.work_dir, SCORES_PNG))
        plot_op_frequency(state['top_k'], self.space,
                          osp.join(self.work_dir, OPS_PNG))
        best = self._row(self._best(), rank=1)
        ranking = state.get('ranking') or {}
        extra = {}
        near = None
        if ranking:
            near = near_best(
                {a: r['score'] for a, r in state['cache'].items()},
                best['arch'], ranking['noise'], self.score_key)
            extra = dict(can_rank=ranking['can_rank'],
                         ranking_warning=None if ranking['can_rank'] else
                         ranking['message'],
                         near_best=near['archs'])
        if self.latency_table is not None:
            front = self._front()
            extra.update(
                latency_ms=best['latency_ms'],
                latency_limit_ms=self.constraint.latency_limit_ms,
                latency_table=self.latency_table.info(),
                selection=self.selection,
                # top_k mode breaks score ties by evaluation order: the
                # best may be a slower twin of a front member.
                pareto_index=front.index(best['arch'])
                if best['arch'] in front else None)
        write_search_result(
            self.work_dir, self.space, best['arch'], self.score_key,
            best['score'], best['flops'], best['params'],
            self.constraint.flops_mode, self.constraint.input_size,
            self.runner.cfg.get('load_from'),
            flops_count=self.constraint.count, **extra)
        if self.export_base is not None:
            provenance = provenance_of(
                dict(best, score_key=self.score_key,
                     flops_mode=self.constraint.flops_mode,
                     flops_input_size=list(self.constraint.input_size)),
                self.work_dir)
            paths = export_search_result(best['arch'], self.space,
                                         self.work_dir, self.export_base,
                                         provenance)
            self.runner.logger.info(f'Exported the best path: {paths}')
        table = '\n'.join(
            f'{r["rank"]:>3} {r["arch"]} {r["score"]:.4f} '
            f'{r["flops"] / 1e6:.1f}M' +
            (f' {r["latency_ms"]:.2f}ms' if 'latency_ms' in r else '')
            for r in self._top_k_rows())
        self.runner.logger.info(
            f'Search done: {state["num_evaluations"]} evaluations, '
            f'{format_seconds(state["seconds"])}; top-{self.top_k}:\n'
            f'{table}\nOutputs in {self.work_dir}')
        if ranking and not ranking['can_rank']:
            self.runner.logger.warning(ranking['message'])
        elif near is not None and near['message']:
            self.runner.logger.warning(near['message'])


def _table_identity(table: Optional[LatencyTable]) -> Optional[dict]:
    """What a resumed search must find again: the table's content (by
    digest), input size, backend and device; not where the file is."""
    if table is None:
        return None
    text = json.dumps(table.to_dict(), sort_keys=True)
    return dict(sha256=hashlib.sha256(text.encode()).hexdigest(),
                input_size=list(table.input_size), backend=table.backend,
                device=table.device)


def _broadcast(obj):
    if dist.get_world_size() == 1:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]
