"""Train a model from a config (mmdet or mmpretrain), as mmdet's train.py.

Examples:
    python tools/train.py configs/supernet/<config>.py
    bash tools/dist_train.sh configs/supernet/<config>.py 8
    mim train detnas_mm <config>.py --launcher pytorch --gpus 8
"""
import argparse

from mmengine.config import Config

from detnas_mm.engine import launch


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    launch.add_common_args(parser, 'the dir to save logs and models')
    parser.add_argument(
        '--amp', action='store_true', help='enable automatic mixed precision')
    parser.add_argument(
        '--auto-scale-lr', action='store_true',
        help='scale the lr by the actual batch size')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from this checkpoint, or from the latest checkpoint in '
        'the work dir if no path is given')
    return launch.parse_args(parser, argv)


def build_cfg(args) -> Config:
    cfg = launch.load_config(args)
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in \
                cfg.auto_scale_lr:
            raise ValueError('--auto-scale-lr needs auto_scale_lr with '
                             'base_batch_size in the config')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    return cfg


def main(argv=None):
    args = parse_args(argv)
    launch.run(build_cfg(args), lambda runner: runner.train())


if __name__ == '__main__':
    main()
