"""The whole DetNAS method, end to end, as one command.

Stages, each an ordinary config run by the repository's own tool (the
pipeline writes the config it runs into the stage's folder, so any stage
can be rerun alone):

1. ``pretrain``: supernet pretraining on classification
   (``tools/train.py``, mmpretrain config);
2. ``split``: a held-out search set carved out of the detection training
   annotations (``detnas_mm.datasets.split_coco``);
3. ``finetune``: supernet fine-tuning on detection, initialised from stage 1
   (``tools/train.py``, mmdet config);
4. ``search``: evolutionary search on the search set (``tools/search.py``);
5. ``export``: the best architecture as a plain mmdet config
   (``tools/export_arch.py``);
6. ``retrain``: short retraining of the searched architecture, of the
   published architecture of the space and of a few random architectures
   of similar FLOPs, each evaluated on the test split (``tools/train.py``,
   ``tools/test.py``);
7. ``report``: the summary table and the report folder.

A stage whose outputs exist is skipped, so rerunning the command after an
interruption continues (the search resumes from its saved state).
"""
import argparse
import json
import os
import os.path as osp
import re
import shutil
import statistics
import subprocess
import sys
import time
import warnings
from typing import Dict, List, Optional, Sequence

from mmengine.config import Config

REPO_TOOLS = osp.join(osp.dirname(osp.abspath(__file__)), '.mim', 'tools')
REPO_CONFIGS = osp.join(osp.dirname(osp.abspath(__file__)), '.mim',
                        'configs')

# The CPU-size configs the pipeline chains (all on the 300M space).
PRETRAIN_CONFIG = ('supernet/'
                   'detnas-supernet-300M_1xb32-600iter_imagenette-64px.py')
FINETUNE_CONFIG = ('supernet/faster-rcnn_detnas-supernet-300M_tiny-fpn_'
                   '1xb2-300iter_coco-tiny.py')
SEARCH_CONFIG = ('search/search_faster-rcnn_detnas-supernet-tiny_fpn_3x8_'
                 'coco-tiny.py')
RETRAIN_BASE = 'faster-rcnn_coco-tiny'
PUBLISHED = {'300M': ('COCO-FPN-300M', '2120|2112|33130031|3132')}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Run the whole DetNAS pipeline (CPU size by default, '
        'on built-in generated data)')
    parser.add_argument('--work-dir', default='work_dirs/detnas_pipeline',
                        help='where every stage writes (default: '
                        '%(default)s)')
    parser.add_argument('--det-data-root',
                        help='COCO-layout folder (annotations/instances_'
                        '{train,val}2017.json, train2017/, val2017/); '
                        'default: built-in generated data')
    parser.add_argument('--cls-data-root',
                        help='ImageNet-layout folder (train/<class>/, '
                        'val/<class>/); default: built-in generated data')
    parser.add_argument('--preset', choices=sorted(PRESETS),
                        default='default',
                        help='schedule sizes (quick: a smoke run)')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    for key in ('det_data_root', 'cls_data_root'):
        path = getattr(args, key)
        if path is not None and not osp.isdir(path):
            parser.error(f'--{key.replace("_", "-")} {path!r} is not a '
                         f'folder')
    return args


# Schedule sizes. 'default' is the README's main job (about 20-30 minutes
# on 2 cores); 'quick' is for tests.
PRESETS = {
    'default':
    dict(pretrain_iters=200, finetune_iters=600, num_search=50,
         population=10, generations=3, top_k=3, calib_images=32,
         retrain_iters=200, num_random=2),
    'quick':
    dict(pretrain_iters=4, finetune_iters=4, num_search=8, population=4,
         generations=2, top_k=2, calib_images=4, retrain_iters=4,
         num_random=1),
}


class Console:
    """Stage headers, filtered tool output and where things go."""

    # Lines of the tools' logs worth showing live: progress with ETA,
    # metrics, search progress, errors. Everything goes to the stage log.
    SHOW = re.compile(r'eta:|bbox_mAP:|accuracy/top1|candidate|generation|'
                      r'Error|Traceback|Saving checkpoint|best arch',
                      re.IGNORECASE)

    def __init__(self, num_stages: int):
        self.num_stages = num_stages
        self.start = time.time()
        self.times: Dict[str, float] = {}

    def header(self, index: int, name: str, what: str, out_dir: str):
        elapsed = time.time() - self.start
        print(f'\n=== [{index}/{self.num_stages}] {name}: {what}\n'
              f'    outputs: {out_dir}   (pipeline time so far '
              f'{elapsed / 60:.1f} min)', flush=True)

    def skip(self, name: str, out_dir: str):
        print(f'    done already ({out_dir}/done.json): skipped',
              flush=True)

    def run(self, cmd: Sequence[str], log_file: str, label: str):
        """Run a tool, echo its progress lines, keep its whole log."""
        print(f'    $ {" ".join(cmd)}\n    log: {log_file}', flush=True)
        start = time.time()
        env = dict(os.environ, PYTHONUNBUFFERED='1')
        with open(log_file, 'a') as log:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True,
                                    env=env)
            for line in proc.stdout:
                log.write(line)
                if self.SHOW.search(line):
                    print('    | ' + _shorten(line.rstrip()), flush=True)
            code = proc.wait()
        seconds = time.time() - start
        self.times[label] = self.times.get(label, 0.0) + seconds
        if code != 0:
            with open(log_file) as f:
                tail = f.readlines()[-30:]
            raise RuntimeError(f'{label} failed (exit {code}); last lines of '
                               f'{log_file}:\n' + ''.join(tail))
        return seconds


def _shorten(line: str, width: int = 150) -> str:
    # mmengine log lines start with a long timestamp/logger prefix.
    line = re.sub(r'^\d+/\d+ \d+:\d+:\d+ - mmengine - INFO - ', '', line)
    return line if len(line) <= width else line[:width - 3] + '...'


def _python_tool(name: str, *args) -> List[str]:
    return [sys.executable, osp.join(REPO_TOOLS, name), *map(str, args)]


def _done(stage_dir: str) -> Optional[dict]:
    path = osp.join(stage_dir, 'done.json')
    if osp.isfile(path):
        with open(path) as f:
            return json.load(f)
    return None


def _mark_done(stage_dir: str, outputs: dict) -> dict:
    tmp = osp.join(stage_dir, 'done.json.tmp')
    with open(tmp, 'w') as f:
        json.dump(outputs, f, indent=1)
    os.replace(tmp, osp.join(stage_dir, 'done.json'))
    return outputs


def _write_config(base: str, stage_dir: str, name: str,
                  update) -> str:
    """Write a resolved copy of a shipped config with pipeline settings."""
    cfg = Config.fromfile(osp.join(REPO_CONFIGS, base))
    update(cfg)
    path = osp.join(stage_dir, name)
    cfg.dump(path)
    return path


def _latest_checkpoint(work_dir: str) -> str:
    """The checkpoint mmengine's CheckpointHook wrote last."""
    last = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(last):
        raise RuntimeError(f'no checkpoint was written in {work_dir}')
    with open(last) as f:
        return f.read().strip()


def _test_metrics(work_dir: str) -> dict:
    """Metrics of the newest ``tools/test.py`` run in ``work_dir``."""
    runs = sorted(d for d in os.listdir(work_dir)
                  if re.fullmatch(r'\d{8}_\d{6}', d))
    for run in reversed(runs):
        path = osp.join(work_dir, run, f'{run}.json')
        if osp.isfile(path):
            with open(path) as f:
                lines = [json.loads(line) for line in f if line.strip()]
            if lines:
                return lines[-1]
    raise RuntimeError(f'no test metrics found in {work_dir}')


def _bbox_map(metrics: dict) -> float:
    """COCO bbox mAP from a metrics dict.

    mmdet's CocoMetric returns no figures at all when a model makes no
    detection on the whole set; the AP of no detections is 0.
    """
    keys = [k for k in metrics if k.endswith('coco/bbox_mAP')]
    return float(metrics[keys[0]]) if keys else 0.0


def _coco_classes(ann_file: str) -> tuple:
    with open(ann_file) as f:
        categories = json.load(f)['categories']
    return tuple(c['name'] for c in sorted(categories,
                                           key=lambda c: c['id']))


def _set_detection_data(cfg, loader: str, ann_file: str, img_dir: str,
                        classes: tuple, evaluator: Optional[str] = None):
    """Point one dataloader (and its evaluator) at a COCO-format split."""
    dataset = cfg[loader]['dataset']
    dataset.update(data_root='', ann_file=osp.abspath(ann_file),
                   data_prefix=dict(img=osp.abspath(img_dir) + '/'),
                   metainfo=dict(classes=classes))
    if evaluator is not None:
        cfg[evaluator]['ann_file'] = osp.abspath(ann_file)


def _set_num_classes(model: dict, num_classes: int):
    for head in ('bbox_head', 'head'):
        if head in model:
            model[head]['num_classes'] = num_classes
    if 'roi_head' in model:
        model['roi_head']['bbox_head']['num_classes'] = num_classes


def _set_iters(cfg, iters: int):
    """Shorten or stretch an iteration-based schedule, keeping its shape."""
    old = cfg.train_cfg.get('max_iters') or iters
    cfg.train_cfg.max_iters = iters
    scale = iters / old
    for scheduler in cfg.get('param_scheduler') or []:
        if scheduler.get('by_epoch', True):
            continue
        for key in ('begin', 'end'):
            if key in scheduler:
                scheduler[key] = min(iters, round(scheduler[key] * scale))
        if 'milestones' in scheduler:
            scheduler['milestones'] = [
                max(1, round(m * scale)) for m in scheduler['milestones']
            ]
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', by_epoch=False, interval=iters,
        max_keep_ckpts=1)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=max(
        1, min(20, iters // 10)))


def _without_validation(cfg):
    """Drop validation from a training config.

    mmengine validates at the last iteration whatever the interval; the
    pipeline evaluates in its own test steps instead.
    """
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
    cfg.train_cfg.pop('val_interval', None)


def _set_scale(cfg, scale: int):
    """Set the Resize scale of every data pipeline in a detection config."""

    def visit(node):
        if isinstance(node, dict):
            if node.get('type') == 'Resize' and 'scale' in node:
                node['scale'] = (scale, scale)
            for value in node.values():
                visit(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                visit(value)

    visit(cfg._cfg_dict)


class Pipeline:
    """The stages of one pipeline run, sharing one work dir.

    Args:
        work_dir: Folder of every stage's outputs.
        det_root: COCO-format detection data (train2017/, val2017/ and
            annotations/instances_{train,val}2017.json).
        cls_root: ImageNet-layout classification data (train/, val/).
        preset: Schedule sizes (a key of ``PRESETS``).
        seed: Seed of every stage.
    """

    def __init__(self, work_dir: str, det_root: str, cls_root: str,
                 preset: str = 'default', seed: int = 0):
        self.work_dir = osp.abspath(work_dir)
        self.det_root = osp.abspath(det_root)
        self.cls_root = osp.abspath(cls_root)
        self.sizes = dict(PRESETS[preset])
        self.seed = seed
        self.stages = [
            ('pretrain', 'supernet pretraining on classification',
             self.pretrain),
            ('split', 'carve the search set out of the detection training '
             'set', self.split),
            ('finetune', 'supernet fine-tuning on detection', self.finetune),
            ('search', 'evolutionary search on the search set',
             self.search),
            ('export', 'export the best architecture as an mmdet config',
             self.export),
            ('retrain', 'retrain and test the searched, published and '
             'random architectures', self.retrain),
            ('report', 'summary table and report folder', self.report),
        ]
        self.console = Console(len(self.stages))
        self.outputs: Dict[str, dict] = {}
        ann = osp.join(self.det_root, 'annotations')
        self.train_ann = osp.join(ann, 'instances_train2017.json')
        self.test_ann = osp.join(ann, 'instances_val2017.json')
        for path in (self.train_ann, self.test_ann,
                     osp.join(self.cls_root, 'train')):
            if not osp.exists(path):
                raise ValueError(f'{path} is missing: the detection data '
                                 f'must be in COCO layout and the '
                                 f'classification data in ImageNet layout')
        self.classes = _coco_classes(self.train_ann)
        self.cls_classes = sorted(
            d for d in os.listdir(osp.join(self.cls_root, 'train'))
            if osp.isdir(osp.join(self.cls_root, 'train', d)))

    def run(self):
        os.makedirs(self.work_dir, exist_ok=True)
        for index, (name, what, stage) in enumerate(self.stages, 1):
            stage_dir = osp.join(self.work_dir, f'{index}_{name}')
            os.makedirs(stage_dir, exist_ok=True)
            self.console.header(index, name, what, stage_dir)
            done = _done(stage_dir)
            if done is not None:
                self.console.skip(name, stage_dir)
                self.outputs[name] = done
                continue
            start = time.time()
            outputs = stage(stage_dir)
            outputs['seconds'] = time.time() - start
            self.outputs[name] = _mark_done(stage_dir, outputs)
            print(f'    finished in {outputs["seconds"] / 60:.1f} min',
                  flush=True)
        return self.outputs

    # Stage 1 ---------------------------------------------------------------
    def pretrain(self, stage_dir: str) -> dict:
        num_classes = len(self.cls_classes)

        def update(cfg):
            for loader in ('train_dataloader', 'val_dataloader',
                           'test_dataloader'):
                cfg[loader].dataset.data_root = self.cls_root
            cfg.model.head.num_classes = num_classes
            cfg.model.data_preprocessor = cfg.model.get(
                'data_preprocessor') or {}
            cfg.data_preprocessor.num_classes = num_classes
            _set_iters(cfg, self.sizes['pretrain_iters'])
            # Validation at the end: supernet top-1 of the published path
            # and of random paths, each with recalibrated BN.
            cfg.train_cfg.val_interval = self.sizes['pretrain_iters']
            cfg.randomness = dict(seed=self.seed)

        config = _write_config(PRETRAIN_CONFIG, stage_dir,
                               'pretrain_config.py', update)
        self.console.run(
            _python_tool('train.py', config, '--work-dir', stage_dir),
            osp.join(stage_dir, 'pretrain.log'), 'pretrain')
        return dict(config=config,
                    checkpoint=_latest_checkpoint(stage_dir))

    # Stage 2 ---------------------------------------------------------------
    def split(self, stage_dir: str) -> dict:
        from detnas_mm.datasets import split_coco
        manifest = split_coco(self.train_ann, stage_dir,
                              num_search=self.sizes['num_search'],
                              seed=self.seed)
        print(f'    {len(manifest["search_image_ids"])} search images, '
              f'{len(manifest["remain_image_ids"])} left to fine-tune on',
              flush=True)
        return dict(train_ann=osp.join(stage_dir, 'train_remain.json'),
                    search_ann=osp.join(stage_dir, 'search.json'),
                    manifest=osp.join(stage_dir, 'manifest.json'))

    def _detection_data(self, cfg, train_ann: str, val_ann: str):
        """Train on ``train_ann``, validate on ``val_ann``, test on test."""
        images = osp.join(self.det_root, 'train2017')
        _set_detection_data(cfg, 'train_dataloader', train_ann, images,
                            self.classes)
        _set_detection_data(cfg, 'val_dataloader', val_ann, images,
                            self.classes, 'val_evaluator')
        cfg.test_dataloader = Config(dict(cfg.val_dataloader)).to_dict()
        _set_detection_data(cfg, 'test_dataloader', self.test_ann,
                            osp.join(self.det_root, 'val2017'),
                            self.classes)
        cfg.test_evaluator = dict(cfg.val_evaluator,
                                  ann_file=self.test_ann)
        _set_num_classes(cfg.model, len(self.classes))
        _set_scale(cfg, self.sizes.get('det_scale', 128))
        # Models trained for minutes score low: keep every detection (COCO
        # AP ranks at most the top 100 per image anyway) instead of mmdet's
        # 0.05 threshold, which would leave most images empty.
        test_cfg = cfg.model.get('test_cfg') or {}
        for head in (test_cfg.get('rcnn'), test_cfg):
            if head is not None and 'score_thr' in head:
                head['score_thr'] = 0.0
        cfg.randomness = dict(seed=self.seed)

    # Stage 3 ---------------------------------------------------------------
    def finetune(self, stage_dir: str) -> dict:
        split, pretrain = self.outputs['split'], self.outputs['pretrain']

        def update(cfg):
            self._detection_data(cfg, split['train_ann'],
                                 split['search_ann'])
            cfg.model.backbone.init_cfg = dict(
                type='Pretrained', checkpoint=pretrain['checkpoint'],
                prefix='backbone.')
            _set_iters(cfg, self.sizes['finetune_iters'])
            _without_validation(cfg)

        config = _write_config(FINETUNE_CONFIG, stage_dir,
                               'finetune_config.py', update)
        self.console.run(
            _python_tool('train.py', config, '--work-dir', stage_dir),
            osp.join(stage_dir, 'finetune.log'), 'finetune')
        return dict(config=config,
                    checkpoint=_latest_checkpoint(stage_dir))

    # Stage 4 ---------------------------------------------------------------
    def search(self, stage_dir: str) -> dict:
        split, finetune = self.outputs['split'], self.outputs['finetune']
        sizes = self.sizes

        def update(cfg):
            self._detection_data(cfg, split['train_ann'],
                                 split['search_ann'])
            cfg.train_cfg.update(
                num_generations=sizes['generations'],
                population_size=sizes['population'],
                top_k=sizes['top_k'],
                num_mutation=sizes['population'] // 3,
                num_crossover=sizes['population'] // 3,
                num_calibration_images=sizes['calib_images'],
                seed=self.seed)

        config = _write_config(SEARCH_CONFIG, stage_dir, 'search_config.py',
                               update)
        cmd = _python_tool('search.py', config, finetune['checkpoint'],
                           '--work-dir', stage_dir)
        if osp.isfile(osp.join(stage_dir, 'search_state.json')):
            print('    resuming the interrupted search', flush=True)
            cmd.append('--resume')
        self.console.run(cmd, osp.join(stage_dir, 'search.log'), 'search')
        with open(osp.join(stage_dir, 'best_arch.json')) as f:
            best = json.load(f)
        return dict(config=config, best=best,
                    checkpoint=finetune['checkpoint'])

    # Stage 5 ---------------------------------------------------------------
    def export(self, stage_dir: str) -> dict:
        search = osp.join(self.work_dir, '4_search')
        paths = self._export(['--search-dir', search], stage_dir, 'export')
        return dict(paths=paths, arch=self.outputs['search']['best']['arch'])

    def _export(self, source: List[str], out_dir: str, label: str) -> dict:
        """Export an arch, with a checkpoint inherited from the supernet.

        At this size the retraining starts from the weights the fine-tuned
        supernet gives the path (BN recalibrated), for every compared
        architecture alike: the stand-in for the paper's ImageNet + COCO
        retraining from scratch, which needs hours of GPU time.
        """
        log = osp.join(out_dir, 'export.log')
        calib = max(1, self.sizes['calib_images'] // 2)
        self.console.run(
            _python_tool('export_arch.py', *source, '--base', RETRAIN_BASE,
                         '--data-root', self.det_root, '--pretrained',
                         self.outputs['pretrain']['checkpoint'],
                         '--inherit-weights',
                         self.outputs['finetune']['checkpoint'],
                         '--calib-batches', calib, '--out-dir', out_dir,
                         '--json'), log, label)
        with open(log) as f:
            return json.loads([line for line in f
                               if line.startswith('{')][-1])

    # Stage 6 ---------------------------------------------------------------
    def reference_archs(self) -> List[dict]:
        """The searched arch, the published arch, random archs of similar
        FLOPs (within 5% of the searched one, seeded)."""
        from detnas_mm.cost import get_cost_table
        from detnas_mm.samplers import FlopsConstrainedPathSampler
        from detnas_mm.models.backbones import format_arch
        best = self.outputs['search']['best']
        space = best['space']
        table = get_cost_table(space)
        archs = [dict(name='searched', arch=best['arch'])]
        if space in PUBLISHED:
            name, genes = PUBLISHED[space]
            archs.append(dict(name=f'published ({name})', arch=genes))
        flops = table.cost(best['arch'])[0]
        sampler = FlopsConstrainedPathSampler(
            space, 0.95 * flops, 1.05 * flops, num_bins=1, seed=self.seed)
        seen = {a['arch'] for a in archs}
        num_random = 0
        while num_random < self.sizes['num_random']:
            genes = format_arch(sampler.sample(), space)
            if genes not in seen:
                seen.add(genes)
                num_random += 1
                archs.append(dict(name=f'random {num_random}', arch=genes))
        for entry in archs:
            entry['flops'], entry['params'] = table.cost(entry['arch'])
        return archs

    def retrain(self, stage_dir: str) -> dict:
        results = []
        search = self.outputs['search']
        for entry in self.reference_archs():
            tag = re.sub(r'[^a-z0-9]+', '_', entry['name'].lower()).strip(
                '_')
            arch_dir = osp.join(stage_dir, tag)
            os.makedirs(arch_dir, exist_ok=True)
            result_file = osp.join(arch_dir, 'result.json')
            if osp.isfile(result_file):  # finished before an interruption
                with open(result_file) as f:
                    results.append(json.load(f))
                continue
            print(f'  - {entry["name"]}: {entry["arch"]} '
                  f'({entry["flops"] / 1e6:.1f}M FLOPs)', flush=True)
            if entry['name'] == 'searched':
                entry['search_score'] = search['best']['score']
            else:
                entry['search_score'] = self._supernet_score(
                    entry['arch'], arch_dir)
            if entry['name'] == 'searched':
                paths = self.outputs['export']['paths']
            else:
                paths = self._export(['--arch', entry['arch'], '--space',
                                      search['best']['space']], arch_dir,
                                     'export')
            entry['test'] = self._retrain_and_test(
                paths['detection'], paths['checkpoint'], arch_dir)
            entry['test_mAP'] = _bbox_map(entry['test'])
            with open(result_file, 'w') as f:
                json.dump(entry, f, indent=1)
            results.append(entry)
        return dict(results=results)

    def _supernet_score(self, arch: str, out_dir: str) -> float:
        """Score of a path of the fine-tuned supernet on the search set,
        with its BN statistics recalibrated (as the search scores)."""
        finetune = self.outputs['finetune']
        calib = max(1, self.sizes['calib_images'] // 2)

        def update(cfg):
            _set_detection_data(cfg, 'test_dataloader',
                                self.outputs['split']['search_ann'],
                                osp.join(self.det_root, 'train2017'),
                                self.classes, 'test_evaluator')
            cfg.test_cfg = dict(type='detnas_mm.SupernetTestLoop',
                                fixed_arch=arch, num_random_paths=0,
                                seed=self.seed, calib_batches=calib)

        config = osp.join(out_dir, 'supernet_score_config.py')
        cfg = Config.fromfile(finetune['config'])
        update(cfg)
        cfg.dump(config)
        work = osp.join(out_dir, 'supernet_score')
        self.console.run(
            _python_tool('test.py', config, finetune['checkpoint'],
                         '--work-dir', work),
            osp.join(out_dir, 'supernet_score.log'), 'supernet scores')
        return _bbox_map(_test_metrics(work))

    def _retrain_and_test(self, exported: str, inherited: str,
                          out_dir: str) -> dict:

        def update(cfg):
            # Retrain on the whole training set; test on the test split.
            self._detection_data(cfg, self.train_ann, self.test_ann)
            _set_iters(cfg, self.sizes['retrain_iters'])
            _without_validation(cfg)
            cfg.load_from = inherited

        cfg = Config.fromfile(exported)
        update(cfg)
        config = osp.join(out_dir, 'retrain_config.py')
        cfg.dump(config)
        self.console.run(
            _python_tool('train.py', config, '--work-dir', out_dir),
            osp.join(out_dir, 'retrain.log'), 'retrain')
        checkpoint = _latest_checkpoint(out_dir)
        test_dir = osp.join(out_dir, 'test')
        self.console.run(
            _python_tool('test.py', config, checkpoint, '--work-dir',
                         test_dir),
            osp.join(out_dir, 'test.log'), 'test')
        return _test_metrics(test_dir)

    # Stage 7 ---------------------------------------------------------------
    def report(self, stage_dir: str) -> dict:
        results = self.outputs['retrain']['results']
        searched = results[0]
        randoms = [r for r in results if r['name'].startswith('random')]
        rows = [_row(r) for r in results if not r['name'].startswith(
            'random')]
        if randoms:
            rows.append(dict(
                name=f'random, median of {len(randoms)}', arch='-',
                flops=statistics.median(r['flops'] for r in randoms),
                params=statistics.median(r['params'] for r in randoms),
                search_score=statistics.median(r['search_score']
                                               for r in randoms),
                test_mAP=statistics.median(r['test_mAP'] for r in randoms)))
        table = _format_table(rows)
        stage_times = {name: out.get('seconds') for name, out in
                       self.outputs.items()}
        summary = dict(searched=searched, results=results, table=rows,
                       stage_seconds=stage_times, sizes=self.sizes,
                       det_data_root=self.det_root,
                       cls_data_root=self.cls_root, seed=self.seed)
        search_dir = osp.join(self.work_dir, '4_search')
        for name in ('search_scores.png', 'search_op_frequency.png',
                     'search_topk.md', 'search_log.jsonl'):
            if osp.isfile(osp.join(search_dir, name)):
                shutil.copy(osp.join(search_dir, name), stage_dir)
        exported = self.outputs['export']['paths']
        for path in exported.values():
            if isinstance(path, str) and osp.isfile(path):
                shutil.copy(path, stage_dir)
        with open(osp.join(stage_dir, 'summary.json'), 'w') as f:
            json.dump(summary, f, indent=1)
        with open(osp.join(stage_dir, 'summary.md'), 'w') as f:
            f.write(table + '\n')
        print('\n' + table, flush=True)
        print(f'\nreport folder: {stage_dir}', flush=True)
        return dict(summary=osp.join(stage_dir, 'summary.json'))


def _row(result: dict) -> dict:
    return {k: result[k] for k in ('name', 'arch', 'flops', 'params',
                                   'search_score', 'test_mAP')}


def _format_table(rows: List[dict]) -> str:
    head = ('| architecture | genes | FLOPs (224 px) | params | '
            'search-split mAP (supernet) | test mAP (retrained) |\n'
            '|---|---|---|---|---|---|')
    lines = [head]
    for r in rows:
        lines.append(
            f'| {r["name"]} | `{r["arch"]}` | {r["flops"] / 1e6:.1f}M | '
            f'{r["params"] / 1e6:.2f}M | {r["search_score"]:.3f} | '
            f'{r["test_mAP"]:.3f} |')
    return '\n'.join(lines)


def main(argv=None):
    # mmengine's config lookup imports pkg_resources, deprecated upstream.
    warnings.filterwarnings('ignore', message='pkg_resources is deprecated')
    args = parse_args(argv)
    det_root, cls_root = args.det_data_root, args.cls_data_root
    if det_root is None or cls_root is None:
        from detnas_mm.datasets import ensure_builtin_data
        print('Built-in data (generated once, then cached) ...', flush=True)
        data = ensure_builtin_data()
        det_root = det_root or str(data['detection'])
        cls_root = cls_root or str(data['classification'])
    print(f'detection data: {det_root}\nclassification data: {cls_root}\n'
          f'work dir: {osp.abspath(args.work_dir)}', flush=True)
    pipeline = Pipeline(args.work_dir, det_root, cls_root, args.preset,
                        args.seed)
    start = time.time()
    pipeline.run()
    print(f'\nwhole pipeline: {(time.time() - start) / 60:.1f} min '
          f'(this run; stages done before were skipped)', flush=True)


if __name__ == '__main__':
    main()
