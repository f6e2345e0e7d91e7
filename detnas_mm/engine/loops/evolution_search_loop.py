"""Evolutionary architecture search as the train loop of an mmengine Runner.

DetNAS (and SPOS before it) search a trained supernet by evolution: every
candidate path gets its BN statistics recomputed on training images and is
scored on a held-out search split; the best paths breed the next
generation. The loop is task-agnostic: it scores with whatever evaluator
the config has (CocoMetric, VOCMetric, mmpretrain's Accuracy).
"""
import copy
import json
import os.path as osp
import time
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine import dist
from mmengine.model import is_model_wrapper
from mmengine.runner.base_loop import BaseLoop

from detnas_mm.engine.bn_recalibration import (forward_tensor_mode,
                                               recalibrate_bn)
from detnas_mm.engine.evolution import (ArchConstraint, crossover, draw_unique,
                                        mutate, random_arch)
from detnas_mm.engine.hooks.path_sampler_hook import find_supernet
from detnas_mm.engine.search_data import (build_calibration_loader,
                                          dataset_pipeline,
                                          refuse_bad_search_split)
from detnas_mm.engine.search_plots import plot_op_frequency, plot_search
from detnas_mm.engine.search_state import (STATE_FILE, atomic_write_json,
                                           atomic_write_text, load_state,
                                           new_state)
from detnas_mm.models.backbones.search_space import (SEARCH_SPACES,
                                                     format_arch, parse_arch)
from detnas_mm.registry import LOOPS

LOG_FILE = 'search_log.jsonl'
TOPK_JSON = 'search_topk.json'
TOPK_TABLE = 'search_topk.md'
SCORES_PNG = 'search_scores.png'
OPS_PNG = 'search_op_frequency.png'
BEST_ARCH = 'best_arch.json'
CALIBRATION_FILE = 'calibration_images.json'


@LOOPS.register_module()
class EvolutionSearchLoop(BaseLoop):
    """Evolutionary search over the paths of a DetNAS supernet.

    Generation 0 is ``population_size`` random paths that meet the
    constraints. Every later generation has ``num_mutation`` mutants and
    ``num_crossover`` crossovers of the ``top_k`` best paths found so far,
    and random paths for the rest; a generation holds no duplicate. Each
    candidate is scored after its BN statistics are recomputed from scratch
    on a fixed calibration set of training images. Scored paths are cached:
    a path met again (a mutant equal to its parent, say) costs nothing, and
    the top-k holds distinct paths.

    The search split is the config's ``val_dataloader`` and
    ``val_evaluator`` (a search config points them at the held-out search
    split), unless ``search_dataloader``/``search_evaluator`` are given.
    The calibration images are drawn (seeded) from the config's
    ``train_dataloader`` dataset and loaded with the search split's
    pipeline, so every candidate sees the same pixels.

    In a distributed run each candidate's work is split over the ranks: the
    calibration batches are dealt round-robin and the BN sums all-reduced,
    the search split is sharded by its ``DefaultSampler`` and the evaluator
    gathers the results; candidates are drawn on rank 0 and broadcast.

    Args:
        runner: The runner (given by ``Runner.build_train_loop``).
        dataloader: The config's ``train_dataloader`` (given by the
            runner): source of the calibration images.
        num_generations: Generations (DetNAS: 20).
        population_size: Candidates per generation (50).
        top_k: Parents kept for the next generation (10).
        num_mutation: Mutants per generation (20).
        mutation_prob: Probability to re-draw each gene of a mutant (0.1).
        num_crossover: Crossovers per generation (20).
        flops_limit: Largest FLOPs (multiply-adds) of a candidate, or None.
        params_limit: Largest backbone params of a candidate, or None.
        flops_input_size: Input size at which FLOPs are counted (224, the
            paper's backbone FLOPs; the test size in ``'detector'`` mode).
        flops_mode: ``'backbone'`` or ``'detector'`` (see
            :class:`~detnas_mm.engine.evolution.ArchConstraint`).
        score_key: Metric to maximise, e.g. ``'coco/bbox_mAP'``,
            ``'pascal_voc/mAP'``, ``'accuracy/top1'``.
        seed: Seed of the evolution and of the calibration-set draw.
        num_calibration_images: Training images for BN statistics
            (DetNAS: about 4k); all of them if the set is smaller.
        calibration_batch_size: Images per calibration batch; defaults to
            the train dataloader's batch size.
        calibration_num_workers: Loader workers; defaults to the train
            dataloader's.
        search_dataloader: Dataloader config of the search split.
        search_evaluator: Evaluator config of the search split.
        check_split: Refuse a search split that shares images with the
            training set or is the test split (``test_dataloader``).
        use_cache: Answer paths met before from the cache. False
            re-evaluates them (what mmrazor does), to measure the saving.
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
                 score_key: str = 'coco/bbox_mAP',
                 seed: int = 0,
                 num_calibration_images: int = 4096,
                 calibration_batch_size: Optional[int] = None,
                 calibration_num_workers: Optional[int] = None,
                 search_dataloader: Optional[dict] = None,
                 search_evaluator=None,
                 check_split: bool = True,
                 use_cache: bool = True,
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
        self.use_cache = use_cache
        self.resume = resume
        self.max_tries = max_tries
        self.export_base = export_base
        if export_base is not None:
            from detnas_mm.export import get_retrain_base
            get_retrain_base(export_base)  # fail now on an unknown name
        self.work_dir = runner.work_dir

        self.model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        self.supernet = find_supernet(self.model)
        self.space = self.supernet.space
        self.constraint = ArchConstraint(
            self.space, flops_limit, params_limit, flops_input_size,
            flops_mode, detector_config=runner.cfg)

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
        self.dataloader, self.calibration_images = build_calibration_loader(
            dataloader, dataset_pipeline(search_dataloader['dataset']),
            num_calibration_images, calibration_batch_size,
            calibration_num_workers, seed, self.model)
        if check_split:
            refuse_bad_search_split(
                search_dataloader['dataset'], dataloader['dataset'],
                cfg.get('test_dataloader'), self.search_dataloader.dataset,
                self.dataloader.dataset)
        self.settings = json.loads(json.dumps(dict(
            space=list(self.space.signature()),
            num_generations=num_generations,
            population_size=population_size, top_k=top_k,
            num_mutation=num_mutation, mutation_prob=mutation_prob,
            num_crossover=num_crossover, flops_limit=flops_limit,
            params_limit=params_limit, flops_input_size=flops_input_size,
            flops_mode=flops_mode, score_key=score_key, seed=seed,
            calibration_images=len(self.calibration_images),
            use_cache=use_cache, max_tries=max_tries)))
        self.state: Dict = {}
        self._session_seconds: List[float] = []

    # mmengine's hooks and optimizer wrapper read these from the train loop.
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
                dict(seed=self.seed, images=self.calibration_images),
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
        taken = set()
        archs = []
        parents = [parse_arch(a, space) for a in self.state['top_k']]
        if parents:
            archs += draw_unique(
                lambda: mutate(parents[rng.integers(len(parents))], space,
                               self.mutation_prob, rng),
                self.num_mutation, constraint, taken, self.max_tries)
        if len(parents) >= 2:

            def make_crossover():
                i, j = rng.choice(len(parents), 2, replace=False)
                return crossover(parents[i], parents[j], rng)

            archs += draw_unique(make_crossover, self.num_crossover,
                                 constraint, taken, self.max_tries)
        archs += draw_unique(lambda: random_arch(space, rng),
                             self.population_size - len(archs), constraint,
                             taken, self.max_tries)
        if len(archs) < self.population_size:
            raise RuntimeError(
                f'Found only {len(archs)} of {self.population_size} distinct '
                f'paths meeting the constraints (flops_limit='
                f'{constraint.flops_limit}, params_limit='
                f'{constraint.params_limit}) in {self.max_tries} draws per '
                f'operator: loosen the limits or raise max_tries')
        return archs

    def _run_candidate(self):
        state = self.state
        index = state['next_candidate']
        arch = state['candidates'][index]
        start = time.perf_counter()
        record = state['cache'].get(arch)
        cached = record is not None and self.use_cache
        if cached:
            state['num_cache_hits'] += 1
            timing = dict(calibration_s=0.0, evaluation_s=0.0,
                          calibration_forward_s=0.0,
                          evaluation_forward_s=0.0)
        else:
            score, metrics, timing = self._evaluate(arch)
            flops, params = self.constraint.cost(parse_arch(arch,
                                                            self.space))
            if record is None:
                record = dict(order=len(state['cache']),
                              generation=state['generation'])
                state['cache'][arch] = record
            record.update(flops=flops, params=params, score=score,
                          metrics=metrics)
            state['num_evaluations'] += 1
        seconds = time.perf_counter() - start
        entry = dict(generation=state['generation'], candidate=index,
                     arch=arch, flops=record['flops'],
                     params=record['params'], score=record['score'],
                     cached=cached, seconds=round(seconds, 4),
                     **{k: round(v, 4) for k, v in timing.items()})
        state['log'].append(entry)
        state['next_candidate'] += 1
        state['seconds'] += seconds
        if not cached:
            self._session_seconds.append(seconds)
        self._save(entry)
        self.runner.logger.info(
            f'Search gen [{state["generation"] + 1}/{self.num_generations}]'
            f' cand [{index + 1}/{len(state["candidates"])}] {arch} '
            f'FLOPs {record["flops"] / 1e6:.1f}M params '
            f'{record["params"] / 1e6:.2f}M {self.score_key} '
            f'{record["score"]:.4f}'
            f'{" (cached)" if cached else ""} time {seconds:.1f}s '
            f'eta {self._eta()}')

    @torch.no_grad()
    def _evaluate(self, arch: str):
        """Calibrate BN for ``arch`` and score it on the search split."""
        self.supernet.set_path(arch)
        forward_time = [0.0]

        def timed_forward(model, batch):
            start = time.perf_counter()
            forward_tensor_mode(model, batch)
            forward_time[0] += time.perf_counter() - start

        start = time.perf_counter()
        recalibrate_bn(self.model, self.dataloader, timed_forward)
        calibrated = time.perf_counter()
        self.model.eval()
        eval_forward = 0.0
        for batch in self.search_dataloader:
            step = time.perf_counter()
            outputs = self.model.val_step(batch)
            eval_forward += time.perf_counter() - step
            self.evaluator.process(data_samples=outputs, data_batch=batch)
        metrics = self.evaluator.evaluate(
            len(self.search_dataloader.dataset))
        done = time.perf_counter()
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
        metrics = {k: float(v) for k, v in metrics.items()
                   if isinstance(v, (int, float, np.floating))}
        timing = dict(calibration_s=calibrated - start,
                      evaluation_s=done - calibrated,
                      calibration_forward_s=forward_time[0],
                      evaluation_forward_s=eval_forward)
        return metrics[self.score_key], metrics, timing

    def _ranked(self) -> List[str]:
        """Every evaluated path, best first (ties: first evaluated)."""
        cache = self.state['cache']
        return sorted(cache,
                      key=lambda a: (-cache[a]['score'], cache[a]['order']))

    def _finish_generation(self):
        state = self.state
        state['top_k'] = self._ranked()[:self.top_k]
        cache = state['cache']
        scores = [cache[a]['score'] for a in state['candidates']]
        top = [cache[a]['score'] for a in state['top_k']]
        summary = dict(
            generation=state['generation'],
            candidates=list(state['candidates']),
            scores=scores,
            best_arch=state['top_k'][0],
            best_score=top[0],
            top_k=list(state['top_k']),
            top_k_mean=float(np.mean(top)),
            num_evaluations=state['num_evaluations'],
            num_cache_hits=state['num_cache_hits'])
        state['history'].append(summary)
        self.runner.logger.info(
            f'Search generation [{state["generation"] + 1}/'
            f'{self.num_generations}] done: best {self.score_key} '
            f'{top[0]:.4f} ({state["top_k"][0]}), top-{len(top)} mean '
            f'{summary["top_k_mean"]:.4f}, evaluations '
            f'{state["num_evaluations"]}, cache hits '
            f'{state["num_cache_hits"]}, elapsed '
            f'{_format_seconds(state["seconds"])}, eta {self._eta()}')
        state['generation'] += 1
        if state['generation'] < self.num_generations:
            self._draw_generation()
        else:
            state['candidates'], state['next_candidate'] = [], 0
        self._save()
        if dist.get_rank() == 0:
            self._write_top_k()

    def _eta(self) -> str:
        state = self.state
        if not self._session_seconds:
            return 'unknown'
        left = (len(state['candidates']) - state['next_candidate'] +
                (self.num_generations - state['generation'] - 1) *
                self.population_size)
        # An upper bound: some of the remaining candidates will be cached.
        return _format_seconds(max(left, 0) * np.mean(self._session_seconds))

    # Files

    def _save(self, entry: Optional[dict] = None):
        if dist.get_rank() != 0:
            return
        atomic_write_json(osp.join(self.work_dir, STATE_FILE), self.state)
        if entry is not None:
            with open(osp.join(self.work_dir, LOG_FILE), 'a') as f:
                f.write(json.dumps(entry) + '\n')

    def _top_k_rows(self) -> List[dict]:
        cache = self.state['cache']
        return [dict(rank=i + 1, arch=a, score=cache[a]['score'],
                     flops=cache[a]['flops'], params=cache[a]['params'],
                     generation=cache[a]['generation'])
                for i, a in enumerate(self.state['top_k'])]

    def _write_top_k(self):
        rows = self._top_k_rows()
        atomic_write_json(osp.join(self.work_dir, TOPK_JSON), rows, indent=1)
        lines = [f'| rank | arch | {self.score_key} | FLOPs (M) | '
                 f'params (M) | found in generation |',
                 '|---:|---|---:|---:|---:|---:|']
        # GitHub markdown splits table cells at every unescaped '|'.
        lines += [f'| {r["rank"]} | `{_md(r["arch"])}` | {r["score"]:.4f} | '
                  f'{r["flops"] / 1e6:.1f} | {r["params"] / 1e6:.3f} | '
                  f'{r["generation"]} |' for r in rows]
        atomic_write_text(osp.join(self.work_dir, TOPK_TABLE),
                          '\n'.join(lines) + '\n')

    def _write_outputs(self):
        if dist.get_rank() != 0:
            return
        state = self.state
        self._write_top_k()
        plot_search(state['cache'], state['history'], self.score_key,
                    osp.join(self.work_dir, SCORES_PNG))
        plot_op_frequency(state['top_k'], self.space,
                          osp.join(self.work_dir, OPS_PNG))
        best = self._top_k_rows()[0]
        space = self.space.to_dict()
        if SEARCH_SPACES.get(self.space.name) == self.space:
            space = self.space.name
        atomic_write_json(
            osp.join(self.work_dir, BEST_ARCH),
            dict(space=space, arch=best['arch'],
                 score_key=self.score_key, score=best['score'],
                 flops=best['flops'], params=best['params'],
                 flops_mode=self.constraint.flops_mode,
                 flops_input_size=list(self.constraint.table.input_size),
                 checkpoint=self.runner.cfg.get('load_from')),
            indent=1)
        if self.export_base is not None:
            from detnas_mm.export import (export_search_result,
                                          read_search_result)
            result = read_search_result(self.work_dir)
            paths = export_search_result(
                result['arch'], result['space'], self.work_dir,
                self.export_base, result['provenance'])
            self.runner.logger.info(f'Exported the best path: {paths}')
        table = '\n'.join(
            f'{r["rank"]:>3} {r["arch"]} {r["score"]:.4f} '
            f'{r["flops"] / 1e6:.1f}M' for r in self._top_k_rows())
        self.runner.logger.info(
            f'Search done: {state["num_evaluations"]} evaluations, '
            f'{state["num_cache_hits"]} cache hits, '
            f'{_format_seconds(state["seconds"])}; top-{self.top_k}:\n'
            f'{table}\nOutputs in {self.work_dir}')


def _md(text: str) -> str:
    return text.replace('|', '\\|')


def _broadcast(obj):
    if dist.get_world_size() == 1:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def _format_seconds(seconds: float) -> str:
    seconds = int(round(seconds))
    return f'{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}'


def top_k_archs(work_dir: str) -> Sequence[str]:
    """Gene strings of the final top-k of a search in ``work_dir``."""
    with open(osp.join(work_dir, TOPK_JSON)) as f:
        return [row['arch'] for row in json.load(f)]
