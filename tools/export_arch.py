"""Export a DetNAS architecture as plain mmdet and mmpretrain configs.

Examples:
    # From a gene string
    python tools/export_arch.py --space 300M \
        --arch '2120|2112|33130031|3132' --base faster-rcnn_coco
    # The best architecture of a finished search, with the weights of the
    # chosen ops inherited from the searched supernet (BN recalibrated)
    python tools/export_arch.py --search-dir work_dirs/search_x \
        --base faster-rcnn_coco-tiny --inherit-weights --calib-images 80
    # Member 2 of the Pareto front (score vs predicted latency) of a search
    # with a latency table (search_pareto.md lists the indices)
    python tools/export_arch.py --search-dir work_dirs/search_x \
        --pareto-index 2 --base faster-rcnn_coco-tiny

Writes ``<out-dir>/<detection config>.py``, ``<out-dir>/<ImageNet
config>.py`` and, with ``--inherit-weights``,
``<out-dir>/<detection config>_inherited.pth``; prints their paths (and,
with ``--json``, a JSON object of them).
"""
import argparse
import json
import os.path as osp
import sys

from detnas_mm.engine.weight_inheritance import inherit_weights
from detnas_mm.export import (PARETO_JSON, RETRAIN_BASES, export_search_result,
                              read_pareto_member, read_search_result)
from detnas_mm.utils.checkpoint import (CheckpointRefusedError,
                                        safe_checkpoint_loading)


def parse_args(argv=None):
    bases = '; '.join(f'{name}: {base.description}'
                      for name, base in RETRAIN_BASES.items())
    parser = argparse.ArgumentParser(
        description='Export a DetNAS architecture as mmdet/mmpretrain '
        'configs', formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument('--arch', help='gene string, e.g. 2120|2112|...')
    source.add_argument(
        '--search-dir',
        help='work dir of a finished search (reads best_arch.json)')
    parser.add_argument(
        '--pareto-index', type=int, metavar='I',
        help=f'with --search-dir: export member I of the search\'s Pareto '
        f'front of score vs predicted latency ({PARETO_JSON}; 0 is the '
        f'fastest) instead of the best architecture')
    parser.add_argument(
        '--space', help='search space of --arch (300M, 1.3G, 3.8G)')
    parser.add_argument(
        '--base', default='faster-rcnn_coco', choices=list(RETRAIN_BASES),
        metavar='BASE', help=f'retraining recipe; one of: {bases}')
    parser.add_argument(
        '--out-dir',
        help='where to write (default: <search-dir>/export, or '
        'work_dirs/export)')
    parser.add_argument(
        '--data-root',
        help='COCO-format folder replacing the recipe\'s dataset root '
        '(class names read from its training annotations)')
    parser.add_argument(
        '--pretrained',
        help='ImageNet checkpoint of the same backbone to initialise the '
        'detection backbone from')
    parser.add_argument(
        '--inherit-weights', nargs='?', const='search', metavar='CKPT',
        help='also write a checkpoint of the chosen ops from this supernet '
        'checkpoint (default with --search-dir: the checkpoint searched)')
    parser.add_argument(
        '--calib-images', type=int, default=80,
        help='training images to recalibrate BN on for --inherit-weights, '
        'as the search does (0 keeps the supernet statistics)')
    parser.add_argument('--score', type=float, help='search score')
    parser.add_argument(
        '--score-key', default='coco/bbox_mAP', help='metric of --score')
    parser.add_argument(
        '--onnx', action='store_true',
        help='also export the backbone + neck to ONNX, check it in ONNX '
        'Runtime against PyTorch and time both (<config>_backbone-neck.onnx'
        ', report <config>_onnx.json)')
    parser.add_argument(
        '--json', action='store_true', help='print the paths as JSON')
    args = parser.parse_args(argv)
    if args.arch is not None and args.space is None:
        parser.error('--arch needs --space (300M, 1.3G, 3.8G)')
    if args.pareto_index is not None and args.search_dir is None:
        parser.error('--pareto-index needs --search-dir')
    if args.calib_images < 0:
        parser.error(f'--calib-images must be >= 0, got '
                     f'{args.calib_images}')
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.search_dir is not None:
        try:
            result = read_search_result(args.search_dir) \
                if args.pareto_index is None else read_pareto_member(
                    args.search_dir, args.pareto_index)
        except (FileNotFoundError, ValueError) as e:
            sys.exit(f'error: {e}')
        arch, space = result['arch'], result['space']
        provenance = result['provenance']
        searched_ckpt = result['checkpoint']
        out_dir = args.out_dir or osp.join(args.search_dir, 'export')
    else:
        arch, space, searched_ckpt = args.arch, args.space, None
        provenance = {}
        if args.score is not None:
            provenance = dict(score=args.score, score_key=args.score_key)
        out_dir = args.out_dir or osp.join('work_dirs', 'export')
    supernet_ckpt = args.inherit_weights
    if supernet_ckpt == 'search':
        if not searched_ckpt:
            sys.exit('error: --inherit-weights without a path needs '
                     '--search-dir with the checkpoint searched in '
                     'best_arch.json')
        supernet_ckpt = searched_ckpt
    if supernet_ckpt is not None and not osp.isfile(supernet_ckpt):
        sys.exit(f'error: --inherit-weights: no checkpoint at '
                 f'{supernet_ckpt}')

    paths = export_search_result(arch, space, out_dir, args.base,
                                 provenance, args.data_root, args.pretrained)
    if supernet_ckpt is not None:
        try:
            with safe_checkpoint_loading():
                paths['checkpoint'] = inherit_weights(
                    supernet_ckpt, paths['detection'],
                    osp.splitext(paths['detection'])[0] + '_inherited.pth',
                    num_calibration_images=args.calib_images)
        except CheckpointRefusedError as e:
            sys.exit(f'error: {e} ({supernet_ckpt})')
    if args.onnx:
        from detnas_mm.export.onnx import export_onnx_files
        paths.update(
            export_onnx_files(paths['detection'], paths.get('checkpoint')))
    if args.json:
        print(json.dumps(paths))
    else:
        for kind, path in paths.items():
            print(f'{kind}: {path}')
    return paths


if __name__ == '__main__':
    main()
