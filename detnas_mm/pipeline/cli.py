"""``tools/pipeline.py``: the whole DetNAS method in one command."""
import argparse
import os.path as osp
import time
import warnings

from mmengine.config import DictAction

from detnas_mm.datasets.data_checks import DataCheckError
from detnas_mm.datasets.halo import ensure_halo_data, is_halo_data
from detnas_mm.pipeline.data import open_detection_data
from detnas_mm.pipeline.sizes import (PRESETS, choose_sizes, measure_slowdown,
                                      sizes_for_run)
from detnas_mm.pipeline.stages import BUILTIN_TASK_RECIPE, FPN_RECIPE, Pipeline
from detnas_mm.utils import atomic_write_json, atomic_write_text

STAGE_OPTIONS = ('pretrain', 'finetune', 'search', 'retrain')


class _StageOptions(DictAction):
    """``DictAction`` whose malformed pairs are a one-line error."""

    def __call__(self, parser, namespace, values, option_string=None):
        bad = [v for v in values if '=' not in v]
        if bad:
            parser.error(f'{option_string} takes KEY=VALUE pairs, got '
                         f'{bad[0]!r}')
        super().__call__(parser, namespace, values, option_string)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Run the whole DetNAS pipeline (CPU size by default, '
        'on built-in generated data)')
    parser.add_argument('--work-dir', default='work_dirs/detnas_pipeline',
                        help='where every stage writes (default: '
                        '%(default)s)')
    parser.add_argument(
        '--det-data-root',
        help='COCO-layout folder (annotations/instances_{train,val}2017.'
        'json, train2017/, val2017/) or VOC-layout folder (VOCdevkit with '
        'VOC2007[/VOC2012], ImageSets/Main); default: built-in data')
    parser.add_argument(
        '--test-list',
        help='VOC layout without VOC2007/ImageSets/Main/test.txt: the list '
        'of the test split (<VOC folder>/ImageSets/Main/<list>.txt)')
    parser.add_argument('--cls-data-root',
                        help='ImageNet-layout folder (train/<class>/, '
                        'val/<class>/); default: built-in generated data')
    parser.add_argument('--preset', choices=sorted(PRESETS),
                        default='default',
                        help='schedule sizes (quick: a smoke run)')
    parser.add_argument(
        '--budget-minutes', type=float, default=30.0,
        help='time budget of the whole run on this machine (default 30)')
    parser.add_argument(
        '--img-scale', type=int,
        help='detection input scale in pixels (longer side); default: '
        'chosen from the data')
    for stage in STAGE_OPTIONS:
        parser.add_argument(
            f'--{stage}-cfg-options', nargs='+', action=_StageOptions,
            metavar='KEY=VALUE',
            help=f'overrides of the {stage} config (take precedence), '
            f'e.g. train_cfg.max_iters=2000')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    for key in ('det_data_root', 'cls_data_root'):
        path = getattr(args, key)
        if path is not None and not osp.isdir(path):
            parser.error(f'--{key.replace("_", "-")} {path!r} is not a '
                         f'folder')
    if args.test_list is not None and not osp.isfile(args.test_list):
        parser.error(f'--test-list {args.test_list!r} is not a file')
    if args.budget_minutes <= 0:
        parser.error(f'--budget-minutes must be positive, got '
                     f'{args.budget_minutes}')
    if args.img_scale is not None and not 32 <= args.img_scale <= 4096:
        parser.error(f'--img-scale must be in [32, 4096] pixels, got '
                     f'{args.img_scale}')
    if args.seed < 0:
        parser.error(f'--seed must be >= 0, got {args.seed}')
    args.parser = parser
    return args


def main(argv=None):
    # mmengine's config lookup imports pkg_resources, deprecated upstream.
    warnings.filterwarnings('ignore', message='pkg_resources is deprecated')
    args = parse_args(argv)
    det_root, cls_root = args.det_data_root, args.cls_data_root
    if det_root is None or cls_root is None:
        print('Built-in data: the "halo" task (generated once, then cached; '
              'about 15 s the first time) ...', flush=True)
        data = ensure_halo_data()
        det_root = det_root or str(data['detection'])
        cls_root = cls_root or str(data['classification'])
    work_dir = osp.abspath(args.work_dir)
    print(f'detection data: {det_root}\nclassification data: {cls_root}\n'
          f'work dir: {work_dir}', flush=True)
    try:
        det_data = open_detection_data(det_root, args.test_list)
    except ValueError as e:
        args.parser.error(str(e))
    # Data checks, before any training.
    try:
        report = det_data.check()
    except (DataCheckError, ValueError, OSError) as e:
        args.parser.error(str(e))
    stats = det_data.stats()
    atomic_write_json(osp.join(work_dir, 'data_check.json'),
                      dict(report.to_dict(), stats=stats.to_dict()),
                      indent=1)
    atomic_write_text(osp.join(work_dir, 'data_check.md'),
                      report.format(markdown=True) + '\n\n' +
                      stats.format(markdown=True) + '\n')
    print(det_data.describe(), flush=True)
    for line in report.format().splitlines():
        print('    ' + line, flush=True)
    # The built-in task's data get the recipe measured on it.
    recipe = BUILTIN_TASK_RECIPE if is_halo_data(det_data.root) else \
        FPN_RECIPE
    retraining = ('each architecture trained on its own: classification, '
                  'then detection' if recipe.standalone else
                  'from the weights inherited from the supernet')
    print(f'recipe: {recipe.name} ({recipe.finetune}; retraining '
          f'{retraining})', flush=True)
    stage_options = {stage: getattr(args, f'{stage}_cfg_options')
                     for stage in STAGE_OPTIONS
                     if getattr(args, f'{stage}_cfg_options')}
    # Chosen once per work dir: a rerun continues with the same sizes.
    request = dict(preset=args.preset, budget_minutes=args.budget_minutes,
                   img_scale=args.img_scale, stage_options=stage_options,
                   det_data_root=det_data.root, recipe=recipe.name)
    sizes = sizes_for_run(work_dir, request, lambda: choose_sizes(
        args.preset, stats, args.budget_minutes, args.img_scale,
        stage_options, report.splits['test']['num_images'],
        slowdown=measure_slowdown(),
        builtin_task=recipe is BUILTIN_TASK_RECIPE))
    print(sizes.format(), flush=True)
    if stage_options:
        print(f'config overrides: {stage_options}', flush=True)
    try:
        pipeline = Pipeline(work_dir, det_data, cls_root, sizes, args.seed,
                            stage_options, recipe)
    except ValueError as e:
        args.parser.error(str(e))
    start = time.time()
    pipeline.run()
    print(f'\nwhole pipeline: {(time.time() - start) / 60:.1f} min '
          f'(this run; stages done before were skipped)', flush=True)
