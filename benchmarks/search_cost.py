"""Where the time of one search candidate goes.

Runs one generation of the evolutionary search (``--candidates`` paths) and
splits each candidate's wall time into the model forwards of the BN
calibration, the model forwards of the evaluation (``val_step``), and
everything else (data loading, the metric, state writes, the loop itself).
Target: everything else at most 15% of the total. The first candidate is
reported apart (warm-up: lazy initialisation, caches).

    python benchmarks/search_cost.py                    # CPU-size config
    python benchmarks/search_cost.py CONFIG CHECKPOINT --candidates 10

Without a checkpoint the model keeps seeded random weights (timing only).
"""
import argparse
import json
import os
import os.path as osp
import statistics
import tempfile

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import MODELS, init_default_scope
from mmengine.runner import Runner

DEFAULT_CONFIG = osp.join(
    osp.dirname(__file__), '..', 'configs', 'search',
    'search_faster-rcnn_detnas-supernet-tiny_fpn_3x8_coco-tiny.py')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', nargs='?', default=DEFAULT_CONFIG)
    parser.add_argument('checkpoint', nargs='?', help='supernet weights')
    parser.add_argument('--candidates', type=int, default=8)
    parser.add_argument('--work-dir', help='default: a temporary folder')
    parser.add_argument('--threads', type=int, help='torch CPU threads')
    parser.add_argument('--json', help='write the figures to this file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def random_checkpoint(cfg, out_file):
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    torch.save(dict(state_dict=model.state_dict(), meta={}), out_file)
    return out_file


def summarize(entries):
    parts = dict(calibration_forward=[], evaluation_forward=[], other=[],
                 total=[])
    for e in entries:
        calib, evaluation = e['calibration_forward_s'], e[
            'evaluation_forward_s']
        parts['calibration_forward'].append(calib)
        parts['evaluation_forward'].append(evaluation)
        parts['other'].append(e['seconds'] - calib - evaluation)
        parts['total'].append(e['seconds'])
    total = sum(parts['total'])
    return {
        name: dict(mean_s=statistics.mean(values),
                   median_s=statistics.median(values),
                   share=sum(values) / total)
        for name, values in parts.items()
    }


def main():
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    work_dir = args.work_dir or tempfile.mkdtemp(prefix='search_cost_')
    os.makedirs(work_dir, exist_ok=True)
    cfg.work_dir = work_dir
    # One generation: random paths only.
    cfg.train_cfg.update(
        num_generations=1, population_size=args.candidates, num_mutation=0,
        num_crossover=0, top_k=min(cfg.train_cfg.get('top_k', 1),
                                   args.candidates), resume=False)
    cfg.load_from = args.checkpoint or random_checkpoint(
        cfg, osp.join(work_dir, 'random_supernet.pth'))
    cfg.log_level = 'WARNING'
    Runner.from_cfg(cfg).train()
    with open(osp.join(work_dir, 'search_state.json')) as f:
        log = [e for e in json.load(f)['log'] if not e['cached']]
    figures = dict(
        config=osp.basename(args.config),
        candidates=len(log),
        threads=torch.get_num_threads(),
        warmup=summarize(log[:1]),
        steady=summarize(log[1:] or log[:1]))
    print(f'{figures["candidates"]} candidates, {figures["threads"]} '
          f'threads; steady state (candidates 2..):')
    print(f'{"part":<22}{"mean s":>9}{"median s":>10}{"share":>8}')
    for name, row in figures['steady'].items():
        print(f'{name:<22}{row["mean_s"]:>9.3f}{row["median_s"]:>10.3f}'
              f'{row["share"]:>8.1%}')
    other = figures['steady']['other']['share']
    print(f'everything else {other:.1%} of the total (target <= 15%): '
          f'{"met" if other <= 0.15 else "MISSED"}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(figures, f, indent=1)


if __name__ == '__main__':
    main()
