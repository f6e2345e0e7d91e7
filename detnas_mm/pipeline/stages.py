"""The stages of the whole DetNAS method, chained in one work dir.

Each stage is an ordinary config run by the repository's own tool (the
pipeline writes the config it runs into the stage's folder, so any stage
can be rerun alone):

1. ``pretrain``: supernet pretraining on classification
   (``tools/train.py``, mmpretrain config);
2. ``split``: a held-out search split carved out of the detection training
   set (:mod:`detnas_mm.datasets.search_split`), data checked again;
3. ``finetune``: supernet fine-tuning on detection, initialised from stage 1
   (``tools/train.py``, mmdet config);
4. ``search``: evolutionary search on the search split (``tools/search.py``);
5. ``export``: the best architecture as a plain mmdet config, with weights
   inherited from the supernet (:mod:`detnas_mm.export`);
6. ``retrain``: retraining of the searched architecture, of the published
   architecture of the space and of random architectures of equal FLOPs,
   each tested on the test split (``tools/train.py``, ``tools/test.py``),
   and their supernet scores (:mod:`detnas_mm.engine.search_scoring`);
7. ``report``: the summary table and the report folder.

Which configs are chained is the run's :class:`Recipe`. The built-in task
(:mod:`detnas_mm.datasets.halo`) has its own, measured in a rank study
(docs/rank_correlation.md): the depth-reduced 300M space, a detector
without top-down path, and a *standalone* retraining (each architecture
pretrained on the task's classification twin, then trained on detection,
never from the supernet's weights), the architectures spread over the CPU
cores. Other data get the FPN recipe, whose retraining starts from the
weights each architecture inherits from the supernet.

A stage whose ``done.json`` exists is skipped, so rerunning the command
after an interruption continues (the search resumes from its state).
"""
import json
import os
import os.path as osp
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Dict, List, Optional

import numpy as np
import torch
from mmengine.config import Config

from detnas_mm.analysis.standalone import (StandaloneRecipe,
                                           prepare_standalone, run_standalone)
from detnas_mm.cost import get_cost_table
from detnas_mm.engine.evolution import random_arch
from detnas_mm.engine.search_scoring import score_archs
from detnas_mm.engine.weight_inheritance import inherit_weights
from detnas_mm.export import export_search_result, read_search_result
from detnas_mm.models.backbones import format_arch, get_search_space
from detnas_mm.pipeline import config_edits as edits
from detnas_mm.pipeline.console import (Console, distributed_tool_command,
                                        output_to, tool_command)
from detnas_mm.pipeline.data import DetectionData
from detnas_mm.pipeline.report import pretraining_warning, write_report
from detnas_mm.pipeline.sizes import Sizes
from detnas_mm.published_archs import PUBLISHED_ARCHS
from detnas_mm.utils import atomic_write_json
from detnas_mm.utils.checkpoint import safe_checkpoint_loading

# The CPU-size configs the pipeline chains.
PRETRAIN_CONFIG = ('supernet/'
                   'detnas-supernet-300M_1xb32-600iter_imagenette-64px.py')
FINETUNE_CONFIG = ('supernet/faster-rcnn_detnas-supernet-300M_tiny-fpn_'
                   '1xb2-300iter_coco-tiny.py')
SEARCH_CONFIG = ('search/search_faster-rcnn_detnas-supernet-tiny_fpn_3x8_'
                 'coco-tiny.py')
RETRAIN_BASE = 'faster-rcnn_coco-tiny'
# Random architectures are compared at the searched one's FLOPs, +-3 %.
EQUAL_FLOPS = 0.03


@dataclass(frozen=True)
class Recipe:
    """The shipped configs a pipeline run chains.

    Attributes:
        name: Shown in the console and the summary.
        pretrain: Supernet classification pretraining config.
        finetune: Supernet detection fine-tuning config.
        search: Search config.
        retrain_base: Key of :data:`detnas_mm.export.RETRAIN_BASES`.
        standalone: Retrain each architecture from its own classification
            pretraining (the base's ImageNet config on the classification
            data); False: from the weights it inherits from the supernet.
        parallel: Spread the search's candidates and the retrained
            architectures over the CPU cores (one process and one thread
            each); False: one after the other.
    """
    name: str
    pretrain: str
    finetune: str
    search: str
    retrain_base: str
    standalone: bool
    parallel: bool


FPN_RECIPE = Recipe('FPN', PRETRAIN_CONFIG, FINETUNE_CONFIG, SEARCH_CONFIG,
                    RETRAIN_BASE, standalone=False, parallel=False)
BUILTIN_TASK_RECIPE = Recipe(
    'built-in task',
    'supernet/detnas-supernet-300M-d1121_1xb32-1000iter_halo-cls-48px.py',
    'supernet/faster-rcnn_detnas-supernet-300M-d1121_mapper_1xb8-600iter_'
    'halo-96px.py',
    'search/search_faster-rcnn_detnas-supernet-300M-d1121_mapper_'
    'halo-96px.py', 'faster-rcnn_halo', standalone=True, parallel=True)


class Pipeline:
    """The stages of one pipeline run, sharing one work dir.

    Args:
        work_dir: Folder of every stage's outputs.
        det_data: The detection data (COCO or VOC layout).
        cls_root: ImageNet-layout classification data (train/, val/).
        sizes: Schedule sizes and input scale.
        seed: Seed of every stage.
        stage_options: Per-stage ``--cfg-options`` overrides (``pretrain``,
            ``finetune``, ``search``, ``retrain``); they take precedence.
        recipe: The configs chained (default: the FPN recipe).
    """

    STAGES = (
        ('pretrain', 'supernet pretraining on classification'),
        ('split', 'carve the search split out of the detection training '
         'set'),
        ('finetune', 'supernet fine-tuning on detection'),
        ('search', 'evolutionary search on the search split'),
        ('export', 'export the best architecture as an mmdet config'),
        ('retrain', 'retrain and test the searched, published and random '
         'architectures'),
        ('report', 'summary table and report folder'),
    )

    def __init__(self, work_dir: str, det_data: DetectionData,
                 cls_root: str, sizes: Sizes, seed: int = 0,
                 stage_options: Optional[Dict[str, dict]] = None,
                 recipe: Recipe = FPN_RECIPE):
        self.recipe = recipe
        self.work_dir = osp.abspath(work_dir)
        self.data = det_data
        self.cls_root = osp.abspath(cls_root)
        self.sizes = sizes
        self.seed = seed
        self.stage_options = stage_options or {}
        self.console = Console(len(self.STAGES))
        self.outputs: Dict[str, dict] = {}
        if not osp.isdir(osp.join(self.cls_root, 'train')):
            raise ValueError(f'{self.cls_root}/train is missing: the '
                             f'classification data must be in ImageNet '
                             f'layout (train/<class>/, val/<class>/)')
        self.cls_classes = sorted(
            d for d in os.listdir(osp.join(self.cls_root, 'train'))
            if osp.isdir(osp.join(self.cls_root, 'train', d)))

    def stage_dir(self, name: str) -> str:
        index = [n for n, _ in self.STAGES].index(name) + 1
        return osp.join(self.work_dir, f'{index}_{name}')

    def run(self) -> Dict[str, dict]:
        os.makedirs(self.work_dir, exist_ok=True)
        for index, (name, what) in enumerate(self.STAGES, 1):
            stage_dir = self.stage_dir(name)
            os.makedirs(stage_dir, exist_ok=True)
            self.console.header(index, name, what, stage_dir)
            done = _done(stage_dir)
            if done is not None:
                self.console.skip(stage_dir)
                self.outputs[name] = done
                continue
            start = time.time()
            outputs = getattr(self, name)(stage_dir)
            outputs['seconds'] = time.time() - start
            atomic_write_json(osp.join(stage_dir, 'done.json'), outputs,
                              indent=1)
            self.outputs[name] = outputs
            self.console.say(
                f'    finished in {outputs["seconds"] / 60:.1f} min')
        return self.outputs

    def _write_config(self, base: str, stage: str, name: str,
                      update) -> str:
        """A resolved copy of a shipped config with the stage's settings
        and the user's overrides for the stage."""
        cfg = edits.load_shipped(base)
        update(cfg)
        edits.apply_options(cfg, self.stage_options.get(stage))
        path = osp.join(self.stage_dir(stage), name)
        cfg.dump(path)
        return path

    def _train(self, config: str, work_dir: str, label: str) -> str:
        self.console.run(tool_command('train.py', config, '--work-dir',
                                      work_dir),
                         osp.join(work_dir, f'{label}.log'), label)
        return edits.latest_checkpoint(work_dir)

    def _classification(self, cfg, iters: int):
        """Point a classification config at the run's data and length."""
        num_classes = len(self.cls_classes)
        for loader in ('train_dataloader', 'val_dataloader',
                       'test_dataloader'):
            cfg[loader].dataset.data_root = self.cls_root
        cfg.model.head.num_classes = num_classes
        cfg.data_preprocessor = dict(cfg.get('data_preprocessor') or {},
                                     num_classes=num_classes)
        edits.set_iters(cfg, iters)
        # Validation at the end only.
        cfg.train_cfg.val_interval = iters
        cfg.randomness = dict(seed=self.seed)

    # Stage 1 ---------------------------------------------------------------
    def pretrain(self, stage_dir: str) -> dict:

        def update(cfg):
            # Validation at the end: supernet top-1 of random paths, each
            # with recalibrated BN.
            self._classification(cfg, self.sizes.pretrain_iters)

        config = self._write_config(self.recipe.pretrain, 'pretrain',
                                    'pretrain_config.py', update)
        checkpoint = self._train(config, stage_dir, 'pretrain')
        outputs = dict(config=config, checkpoint=checkpoint,
                       val=_supernet_val(stage_dir),
                       num_classes=len(self.cls_classes))
        warning = pretraining_warning(outputs)
        if warning:
            self.console.say('    WARNING: ' + warning)
        return outputs

    # Stage 2 ---------------------------------------------------------------
    def split(self, stage_dir: str) -> dict:
        splits = self.data.make_search_split(stage_dir,
                                             self.sizes.num_search,
                                             self.seed)
        if splits['kept']:
            self.console.say(
                f'    {len(splits["kept"])} image(s) kept out of the search '
                f'split so that every class keeps a training box: ' +
                '; '.join(f'{k["image"]} ({", ".join(k["classes"])})'
                          for k in splits['kept'][:5]) +
                ('; ...' if len(splits['kept']) > 5 else ''))
        # Checked as trained: fine-tuning and search train on the remainder.
        report = self.data.check(dict(search=splits['search'],
                                      train_remain=splits['train']),
                                 train_split='train_remain')
        atomic_write_json(osp.join(stage_dir, 'data_check.json'),
                          report.to_dict(), indent=1)
        for line in report.format().splitlines():
            self.console.say('    ' + line)
        return dict(train=list(splits['train'].ann_files),
                    search=list(splits['search'].ann_files),
                    kept=splits['kept'])

    def _splits(self):
        """Training remainder, search and test splits (after stage 2)."""
        split = self.outputs['split']
        return (self.data.split_of(split['train']),
                self.data.split_of(split['search']), self.data.splits['test'])

    def _detection(self, cfg, val_split: str = 'search'):
        """Train on the remainder, validate on ``val_split``, test on test;
        the scale of the run; every detection kept."""
        train, search, test = self._splits()
        val = dict(search=search, test=test)[val_split]
        self.data.setup(cfg, train, val, test)
        edits.set_scale(cfg, self.sizes.det_scale)
        edits.keep_every_detection(cfg)
        cfg.randomness = dict(seed=self.seed)

    # Stage 3 ---------------------------------------------------------------
    def finetune(self, stage_dir: str) -> dict:
        pretrain = self.outputs['pretrain']

        def update(cfg):
            self._detection(cfg)
            cfg.model.backbone.init_cfg = dict(
                type='Pretrained', checkpoint=pretrain['checkpoint'],
                prefix='backbone.')
            edits.set_iters(cfg, self.sizes.finetune_iters)
            edits.without_validation(cfg)

        config = self._write_config(self.recipe.finetune, 'finetune',
                                    'finetune_config.py', update)
        return dict(config=config,
                    checkpoint=self._train(config, stage_dir, 'finetune'))

    # Stage 4 ---------------------------------------------------------------
    def search(self, stage_dir: str) -> dict:
        finetune = self.outputs['finetune']
        sizes = self.sizes

        def update(cfg):
            self._detection(cfg)
            cfg.train_cfg.update(
                num_generations=sizes.generations,
                population_size=sizes.population,
                top_k=sizes.top_k,
                num_mutation=sizes.population // 3,
                num_crossover=sizes.population // 3,
                num_calibration_images=sizes.calib_images,
                score_key=self.data.score_key,
                seed=self.seed)

        config = self._write_config(self.recipe.search, 'search',
                                    'search_config.py', update)
        args = [config, finetune['checkpoint'], '--work-dir', stage_dir]
        if osp.isfile(osp.join(stage_dir, 'search_state.json')):
            self.console.say('    resuming the interrupted search')
            args.append('--resume')
        processes, env = 1, None
        if self.recipe.parallel:
            processes = max(1, min(os.cpu_count() or 1, sizes.population))
        if processes > 1:
            # The candidates of a generation are dealt over the processes.
            cmd = distributed_tool_command(processes, 'search.py', *args)
            env = dict(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
        else:
            cmd = tool_command('search.py', *args)
        self.console.run(cmd, osp.join(stage_dir, 'search.log'), 'search',
                         env)
        result = read_search_result(stage_dir)['result']
        near = result.get('near_best') or []
        if result.get('can_rank') is False:
            self.console.say('    WARNING: ' + result['ranking_warning'])
        elif len(near) > 1:
            self.console.say(
                f'    note: {len(near)} architectures score within the '
                f'noise of one score of the best; the supernet does not '
                f'decide between them ({osp.basename(stage_dir)}/'
                f'best_arch.json: near_best)')
        return dict(config=config, best=result,
                    checkpoint=finetune['checkpoint'])

    # Stage 5 ---------------------------------------------------------------
    def export(self, stage_dir: str) -> dict:
        search_dir = self.stage_dir('search')
        result = read_search_result(search_dir)
        paths = self._export(result['arch'], result['space'], stage_dir,
                             result['provenance'])
        return dict(paths=paths, arch=result['arch'])

    def _export(self, arch: str, space, out_dir: str,
                provenance: Optional[dict] = None) -> dict:
        """The retraining configs of an arch and its weights inherited
        from the fine-tuned supernet (BN recalibrated as the search)."""
        train, _, test = self._splits()
        # The exported config trains on the whole training set and tests
        # on the test split of this run's data. A standalone recipe
        # pretrains the backbone itself (retrain stage).
        paths = export_search_result(
            arch, space, out_dir, self.recipe.retrain_base, provenance,
            pretrained=None if self.recipe.standalone else
            self.outputs['pretrain']['checkpoint'],
            update=lambda cfg: self.data.setup(cfg, self.data.splits[
                'train'], test, test))
        cfg = Config.fromfile(paths['detection'])
        self.data.setup(cfg, train, None)
        with safe_checkpoint_loading(), output_to(
                osp.join(out_dir, 'export.log')):
            paths['checkpoint'] = inherit_weights(
                self.outputs['finetune']['checkpoint'], cfg,
                osp.splitext(paths['detection'])[0] + '_inherited.pth',
                num_calibration_images=self.sizes.calib_images,
                seed=self.seed)
        return paths

    # Stage 6 ---------------------------------------------------------------
    def reference_archs(self) -> List[dict]:
        """The searched arch, the published arch of the space, and random
        archs of equal FLOPs (within 3 % of the searched one, seeded)."""
        best = self.outputs['search']['best']
        space = get_search_space(best['space'])
        table = get_cost_table(space)
        searched = 'searched' if best.get('can_rank', True) else \
            'search result (unranked)'
        archs = [dict(name=searched, role='searched', arch=best['arch'])]
        published = dict(coco='coco_fpn_300M', voc='voc_fpn_300M')
        name = published[self.data.layout]
        if PUBLISHED_ARCHS[name][0] == space.name:
            archs.append(dict(name=f'published ({name})', role='published',
                              arch=PUBLISHED_ARCHS[name][1]))
        flops = table.cost(best['arch'])[0]
        rng = np.random.default_rng(self.seed)
        seen = {a['arch'] for a in archs}
        for _ in range(100000):
            if sum(a['role'] == 'random' for a in archs) == \
                    self.sizes.num_random:
                break
            genes = format_arch(random_arch(space, rng), space)
            if genes in seen or abs(table.cost(genes)[0] - flops) > \
                    EQUAL_FLOPS * flops:
                continue
            seen.add(genes)
            number = sum(a['role'] == 'random' for a in archs) + 1
            archs.append(dict(name=f'random {number}', role='random',
                              arch=genes))
        for entry in archs:
            entry['flops'], entry['params'] = table.cost(entry['arch'])
        return archs

    def retrain(self, stage_dir: str) -> dict:
        search = self.outputs['search']
        archs = self.reference_archs()

        def supernet_scores():
            self.console.say(f'    supernet scores of {len(archs)} '
                             f'architectures (as the search scores)')
            with output_to(osp.join(stage_dir, 'supernet_scores.log')):
                # In this process: the search tool, when launched as
                # several processes, dumped its config with their launcher.
                return score_archs(search['config'], search['checkpoint'],
                                   [a['arch'] for a in archs],
                                   osp.join(stage_dir, 'supernet_scores'),
                                   cfg_options=dict(launcher='none'))

        # Standalone retrainings run in subprocesses: the supernet scoring
        # runs in this process beside them, on one thread (it needs none
        # of their results; it shares the cores with them for about a
        # minute and a half instead of adding that time after them).
        # Weight inheritance of the other recipe runs in this process:
        # scored first.
        scores = None if self.recipe.standalone else supernet_scores()
        results, pending, arch_dirs = {}, [], {}
        for index, entry in enumerate(archs):
            tag = re.sub(r'[^a-z0-9]+', '_', entry['name'].lower()).strip(
                '_')
            arch_dir = arch_dirs[index] = osp.join(stage_dir, tag)
            os.makedirs(arch_dir, exist_ok=True)
            result_file = osp.join(arch_dir, 'result.json')
            if osp.isfile(result_file):  # finished before an interruption
                with open(result_file) as f:
                    results[index] = json.load(f)
                continue
            # Exports and configs in this thread: weight inheritance
            # redirects output, and config building is not thread-safe.
            if self.recipe.standalone:
                paths = self._prepare_standalone(entry['arch'], arch_dir)
            elif entry['role'] == 'searched':
                paths = self.outputs['export']['paths']
            else:
                paths = self._export(entry['arch'],
                                     search['best']['space'], arch_dir)
            pending.append((index, entry, paths, arch_dir))

        def retrain_one(job):
            index, entry, paths, arch_dir = job
            self.console.say(f'  - {entry["name"]}: {entry["arch"]} '
                             f'({entry["flops"] / 1e6:.1f}M FLOPs)')
            if self.recipe.standalone:
                result = paths if isinstance(paths, dict) else \
                    run_standalone(paths, env)
                entry['test'] = _metrics_of(result['metrics'])
            else:
                entry['test'] = self._retrain_and_test(paths, arch_dir)
            entry['test_mAP'] = float(entry['test'].get(
                self.data.score_key, 0.0))
            atomic_write_json(osp.join(arch_dir, 'result.json'), entry,
                              indent=1)
            self.console.say(f'    {entry["name"]}: test '
                             f'{self.data.score_key} '
                             f'{entry["test_mAP"]:.3f}')
            return index, entry

        # Standalone retrainings are independent runs: one per CPU core,
        # one thread each (more threads per small run buy little).
        jobs = 1
        if self.recipe.parallel:
            jobs = max(1, min(len(pending), os.cpu_count() or 1))
        env = dict(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1') \
            if jobs > 1 else None
        if pending:
            self.console.say(f'    retraining {len(pending)} '
                             f'architecture(s), {jobs} at a time')
        with ThreadPoolExecutor(jobs) as pool:
            retrained = pool.map(retrain_one, pending)
            if scores is None:
                # One thread beside the retrainings' one each.
                threads = torch.get_num_threads()
                torch.set_num_threads(1 if jobs > 1 else threads)
                try:
                    scores = supernet_scores()
                finally:
                    torch.set_num_threads(threads)
            for index, entry in retrained:
                results[index] = entry
        for index, scored in enumerate(scores):
            results[index]['search_score'] = scored['score']
            atomic_write_json(osp.join(arch_dirs[index], 'result.json'),
                              results[index], indent=1)
        return dict(results=[results[i] for i in sorted(results)])

    def _prepare_standalone(self, arch: str, out_dir: str):
        """The standalone run of an architecture: classification
        pretraining on the run's classification data, then detection
        training on the whole training set and the test on the test
        split, in one process (:mod:`detnas_mm.analysis.standalone`)."""

        def det_update(cfg):
            self.data.setup(cfg, self.data.splits['train'], None,
                            self.data.splits['test'])
            edits.set_scale(cfg, self.sizes.det_scale)
            edits.keep_every_detection(cfg)
            edits.set_iters(cfg, self.sizes.retrain_iters)
            edits.without_validation(cfg)

        recipe = StandaloneRecipe(
            self.recipe.retrain_base, init='imagenet',
            det_options=self.stage_options.get('retrain') or {},
            det_update=det_update,
            cls_update=lambda cfg: self._classification(
                cfg, self.sizes.retrain_pretrain_iters),
            score_key=self.data.score_key)
        return prepare_standalone(
            arch, self.outputs['search']['best']['space'], recipe,
            osp.join(out_dir, 'standalone'), self.seed)

    def _retrain_and_test(self, paths: dict, out_dir: str) -> dict:
        """Retrain on the whole training set, test on the test split."""

        def update(cfg):
            self.data.setup(cfg, self.data.splits['train'], None,
                            self.data.splits['test'])
            edits.set_scale(cfg, self.sizes.det_scale)
            edits.keep_every_detection(cfg)
            cfg.randomness = dict(seed=self.seed)
            edits.set_iters(cfg, self.sizes.retrain_iters)
            edits.without_validation(cfg)
            cfg.load_from = paths['checkpoint']
            edits.apply_options(cfg, self.stage_options.get('retrain'))

        cfg = Config.fromfile(paths['detection'])
        update(cfg)
        config = osp.join(out_dir, 'retrain_config.py')
        cfg.dump(config)
        checkpoint = self._train(config, out_dir, 'retrain')
        test_dir = osp.join(out_dir, 'test')
        self.console.run(
            tool_command('test.py', config, checkpoint, '--work-dir',
                         test_dir), osp.join(out_dir, 'test.log'), 'test')
        return _metrics_of(edits.latest_metrics(test_dir))

    # Stage 7 ---------------------------------------------------------------
    def report(self, stage_dir: str) -> dict:
        search_dir = self.stage_dir('search')
        for name in ('search_scores.png', 'search_op_frequency.png',
                     'search_topk.md', 'search_log.jsonl'):
            if osp.isfile(osp.join(search_dir, name)):
                shutil.copy(osp.join(search_dir, name), stage_dir)
        for path in self.outputs['export']['paths'].values():
            if isinstance(path, str) and path.endswith('.py'):
                shutil.copy(path, stage_dir)
        summary = write_report(
            stage_dir, self.outputs, self.sizes, self.data, self.cls_root,
            self.seed, self.data.score_key, self.recipe)
        self.console.say('\n' + summary['text'])
        self.console.say(f'\nreport folder: {stage_dir}')
        return dict(summary=osp.join(stage_dir, 'summary.json'))


def _metrics_of(line: dict) -> dict:
    """Numbers of a logged metrics line, keys without their stage prefix
    (``coco/bbox_mAP``, ``pascal_voc/mAP``)."""
    return {k.split('/', 1)[1] if k.startswith(('test/', 'val/')) else k: v
            for k, v in line.items() if isinstance(v, (int, float))}


def _supernet_val(work_dir: str) -> Optional[dict]:
    """The last supernet validation record of a pretraining run."""
    for root, _, files in os.walk(work_dir):
        if 'supernet_val.jsonl' in files:
            with open(osp.join(root, 'supernet_val.jsonl')) as f:
                lines = [json.loads(line) for line in f if line.strip()]
            return lines[-1] if lines else None
    return None


def _done(stage_dir: str) -> Optional[dict]:
    path = osp.join(stage_dir, 'done.json')
    if osp.isfile(path):
        with open(path) as f:
            return json.load(f)
    return None
