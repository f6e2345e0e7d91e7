"""Test a checkpoint with a config (mmdet or mmpretrain), as mmdet's test.py.

Examples:
    python tools/test.py <config>.py <checkpoint>.pth
    bash tools/dist_test.sh <config>.py <checkpoint>.pth 8
"""
import argparse

from mmengine.config import Config

from detnas_mm.engine import launch


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    launch.add_common_args(parser, 'the dir to save evaluation logs')
    parser.add_argument(
        '--out', help='dump predictions to a pickle file for offline eval')
    args = launch.parse_args(parser, argv)
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        parser.error(f'--out must be a .pkl or .pickle file, got '
                     f'{args.out!r}')
    return args


def build_cfg(args) -> Config:
    cfg = launch.load_config(args)
    cfg.load_from = args.checkpoint
    return cfg


def test(runner, out=None):
    if out is not None:
        from mmengine.evaluator import DumpResults
        runner.test_evaluator.metrics.append(DumpResults(out_file_path=out))
    return runner.test()


def main(argv=None):
    args = parse_args(argv)
    launch.run(build_cfg(args), lambda runner: test(runner, args.out))


if __name__ == '__main__':
    main()
