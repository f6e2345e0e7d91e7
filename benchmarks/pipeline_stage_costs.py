"""What each stage of the pipeline costs, per unit of its schedule.

``detnas_mm/pipeline/sizes.py`` chooses the schedule lengths of a run from
a time budget; it needs the seconds of one unit of each stage (one
pretraining iteration, one fine-tuning iteration, one calibration image,
one evaluated image, ...) and the fixed cost of each stage (starting a
tool, building a model, loading data). This script runs the pipeline
itself with small measuring sizes at one or more detection scales and
splits each stage's wall time into those parts:

- ``pretrain``, ``finetune``: seconds per iteration (median of mmengine's
  logged ``time``, the first logged window left out as warm-up), and the
  rest of the stage (tool start, building, checkpoint, validation);
- ``search``: per candidate, BN calibration seconds per calibration image
  and evaluation seconds per search-split image (the search log's
  ``calibration_s``/``evaluation_s``); the rest of the stage;
- ``export``: the stage's seconds less its BN calibration;
- ``retrain``: seconds per retraining iteration (logged ``time``), and per
  architecture everything else (export, supernet score, tool starts, the
  test on the test split, whose images are counted at the evaluation cost
  per image).

Before and after each scale the speed probe of ``sizes.py``
(``probe_seconds``: a fixed small torch workload) is timed; each
measurement is normalised to the median probe of all of them (a busier
machine during one scale scales its costs alike), and that median is
stored as ``COSTS['probe_s']``: at run time the pipeline times the probe
again and scales every cost by the ratio.

The pretraining does not depend on the detection scale: it runs once, at
the first scale, and is reused by the others. Scaled costs are fitted as
``a + b * pixels`` (``pixels = scale**2 * aspect``, the aspect being the
median shorter / longer image side of the data) when two or more scales
are measured; the fixed parts are medians over the scales. The figures go
into ``COSTS`` of ``detnas_mm/pipeline/sizes.py``.

    OMP_NUM_THREADS=1 python benchmarks/pipeline_stage_costs.py \\
        --scales 128 320 --out work_dirs/stage_costs.json
    # more scales, fitted with the measurements of an earlier run
    python benchmarks/pipeline_stage_costs.py --scales 256 \\
        --from-json work_dirs/stage_costs.json --out all.json
"""
import argparse
import json
import os
import os.path as osp
import shutil
import statistics
import sys
import time
import warnings
from dataclasses import replace

import numpy as np

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

from detnas_mm.datasets.data_checks import detection_data_stats  # noqa: E402
from detnas_mm.pipeline.data import open_detection_data  # noqa: E402
from detnas_mm.pipeline.sizes import Sizes, probe_seconds  # noqa: E402
from detnas_mm.pipeline.stages import Pipeline  # noqa: E402

SHARED = osp.join(REPO, '..', 'shared', 'data')
# Small, but long enough that per-unit times are medians of several logged
# windows.
MEASURE = Sizes(det_scale=128, pretrain_iters=40, finetune_iters=40,
                num_search=16, population=4, generations=1, top_k=2,
                calib_images=8, retrain_iters=24, num_random=0)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--det-data-root',
                        default=osp.join(SHARED, 'coco_tiny'))
    parser.add_argument('--cls-data-root',
                        default=osp.join(SHARED, 'imagenette_sub'))
    parser.add_argument('--scales', type=int, nargs='+',
                        help='detection scales to measure (default: 128 '
                        '320 unless --from-json is given)')
    parser.add_argument('--work-dir', default='work_dirs/stage_costs')
    parser.add_argument('--out', help='write the figures to this json')
    parser.add_argument('--from-json', nargs='+', default=[],
                        help='measurements of earlier runs (--out files) '
                        'to fit with the new ones')
    return parser.parse_args()


def logged_iter_seconds(work_dir):
    """Median logged seconds per training iteration of an mmengine run."""
    times = []
    for root, _, files in os.walk(work_dir):
        if 'scalars.json' in files:
            with open(osp.join(root, 'scalars.json')) as f:
                lines = [json.loads(line) for line in f if line.strip()]
            times += [line['time'] for line in lines[1:] if 'time' in line]
    if not times:
        raise RuntimeError(f'no logged iteration times in {work_dir}')
    return statistics.median(times)


def search_costs(search_dir, sizes):
    with open(osp.join(search_dir, 'search_log.jsonl')) as f:
        log = [json.loads(line) for line in f if line.strip()]
    log = [e for e in log if 'calibration_s' in e]
    # The first candidate pays lazy initialisation: leave it out.
    steady = log[1:] or log
    calib = statistics.median(e['calibration_s'] for e in steady)
    evaluation = statistics.median(e['evaluation_s'] for e in steady)
    return dict(
        calib_s_per_image=calib / sizes.calib_images,
        eval_s_per_image=evaluation / sizes.num_search,
        candidate_s=statistics.median(e['seconds'] for e in steady),
        candidates=len(log),
        candidates_s=sum(e['seconds'] for e in log))


def measure(args, data, scale, pretrain_dir):
    sizes = replace(MEASURE, det_scale=scale)
    work_dir = osp.abspath(osp.join(args.work_dir, f'scale_{scale}'))
    if pretrain_dir is not None and not osp.isdir(
            osp.join(work_dir, '1_pretrain')):
        os.makedirs(work_dir, exist_ok=True)
        shutil.copytree(pretrain_dir, osp.join(work_dir, '1_pretrain'))
    pipeline = Pipeline(work_dir, data, args.cls_data_root, sizes, seed=0)
    start = time.time()
    outputs = pipeline.run()
    wall = time.time() - start
    seconds = {name: out['seconds'] for name, out in outputs.items()}
    search = search_costs(pipeline.stage_dir('search'), sizes)
    n_archs = len(outputs['retrain']['results'])
    retrain_iter = statistics.median(
        logged_iter_seconds(osp.join(pipeline.stage_dir('retrain'),
                                     tag)) for tag in os.listdir(
                                         pipeline.stage_dir('retrain'))
        if osp.isfile(osp.join(pipeline.stage_dir('retrain'), tag,
                               'result.json')))
    finetune_iter = logged_iter_seconds(pipeline.stage_dir('finetune'))
    num_test = detection_data_stats(data.splits['test'],
                                    data.classes).num_images
    costs = dict(
        scale=scale,
        sizes=sizes.to_dict(),
        stage_seconds=seconds,
        wall_seconds=wall,
        finetune_s_per_iter=finetune_iter,
        finetune_fixed_s=seconds['finetune'] -
        sizes.finetune_iters * finetune_iter,
        search=search,
        search_fixed_s=seconds['search'] - search['candidates_s'],
        other_fixed_s=seconds['split'] + seconds['report'],
        export_fixed_s=seconds['export'] -
        sizes.calib_images * search['calib_s_per_image'],
        retrain_s_per_iter=retrain_iter,
        retrain_archs=n_archs,
        num_test_images=num_test,
        retrain_fixed_s_per_arch=(
            seconds['retrain'] - n_archs *
            (sizes.retrain_iters * retrain_iter + num_test *
             search['eval_s_per_image'] + search['candidate_s'])) / n_archs)
    if 'pretrain' in seconds and pretrain_dir is None:
        pre_iter = logged_iter_seconds(pipeline.stage_dir('pretrain'))
        costs.update(pretrain_s_per_iter=pre_iter,
                     pretrain_fixed_s=seconds['pretrain'] -
                     sizes.pretrain_iters * pre_iter)
    return costs, pipeline.stage_dir('pretrain')


def fit(costs, key, ref):
    """``a + b * pixels`` through the measured scales (least squares)."""
    pixels = np.array([c['pixels'] for c in costs], dtype=float)
    values = np.array([_get(c, key) * ref / c['probe_s'] for c in costs])
    if len(costs) == 1:
        return dict(a=0.0, b=float(values[0] / pixels[0]))
    b, a = np.polyfit(pixels, values, 1)
    return dict(a=round(float(a), 4), b=float(f'{b:.4g}'))


def _get(costs, key):
    for part in key.split('.'):
        costs = costs[part]
    return costs


def summarize(results):
    """The constants of sizes.COSTS from the measurements."""
    ref = statistics.median(r['probe_s'] for r in results)
    pretrain = [r for r in results if 'pretrain_s_per_iter' in r]

    def median(key, among=results, digits=1):
        return round(statistics.median(
            r[key] * ref / r['probe_s'] for r in among), digits)

    fixed = dict(
        probe_s=round(ref, 4),
        pretrain_s_per_iter=median('pretrain_s_per_iter', pretrain, 4),
        pretrain_fixed_s=median('pretrain_fixed_s', pretrain),
        finetune_fixed_s=median('finetune_fixed_s'),
        search_fixed_s=median('search_fixed_s'),
        export_fixed_s=median('export_fixed_s'),
        retrain_fixed_s_per_arch=median('retrain_fixed_s_per_arch'),
        other_fixed_s=median('other_fixed_s'))
    scaled = {
        key.split('.')[-1]: fit(results, key, ref)
        for key in ('finetune_s_per_iter', 'retrain_s_per_iter',
                    'search.calib_s_per_image', 'search.eval_s_per_image')
    }
    return fixed, scaled


def main():
    # mmengine's config lookup imports pkg_resources, deprecated upstream.
    warnings.filterwarnings('ignore', message='pkg_resources is deprecated')
    args = parse_args()
    results = []
    for path in args.from_json:
        with open(path) as f:
            results += json.load(f)['measured']
    scales = args.scales or ([] if results else [128, 320])
    if scales:
        start = time.time()
        data = open_detection_data(args.det_data_root)
        data.check()
        stats = data.stats()
        # What tools/pipeline.py does before stage 1.
        checks = time.time() - start
        aspect = min(stats.image_width['p50'], stats.image_height['p50']) / \
            max(stats.image_width['p50'], stats.image_height['p50'])
        pretrain_dir = None
        for scale in scales:
            before = probe_seconds()
            costs, stage = measure(args, data, scale, pretrain_dir)
            costs.update(probe_s=statistics.median([before, probe_seconds(),
                                                    probe_seconds()]),
                         aspect=aspect, pixels=scale * scale * aspect,
                         date=time.strftime('%Y-%m-%d %H:%M'),
                         load_average=os.getloadavg(),
                         omp_num_threads=os.environ.get('OMP_NUM_THREADS'))
            costs['other_fixed_s'] += checks
            pretrain_dir = pretrain_dir or stage
            results.append(costs)
            print(json.dumps(costs, indent=1), flush=True)
    summary = dict(det_data_root=args.det_data_root, measured=results)
    summary['fixed'], summary['scaled'] = summarize(results)
    print(json.dumps(dict(fixed=summary['fixed'], scaled=summary['scaled']),
                     indent=1))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(summary, f, indent=1)


if __name__ == '__main__':
    main()
