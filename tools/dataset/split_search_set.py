"""Carve a DetNAS search set out of the training annotations.

Examples:
    python tools/dataset/split_search_set.py coco \\
        data/coco/annotations/instances_train2017.json \\
        --out-dir data/coco/detnas_split --num-search 5000 --seed 0
    python tools/dataset/split_search_set.py voc \\
        data/VOCdevkit/VOC2007/ImageSets/Main/trainval.txt \\
        data/VOCdevkit/VOC2012/ImageSets/Main/trainval.txt \\
        --out-dir data/VOCdevkit/detnas_split
    python tools/dataset/split_search_set.py verify \\
        data/coco/detnas_split/manifest.json
"""
import argparse
import sys

from detnas_mm.datasets.search_split import (MANIFEST_FILE, split_coco,
                                             split_voc, verify_manifest)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Hold out a search set from the training images, as '
        'DetNAS does: fine-tune the supernet on the remaining images, score '
        'architectures on the search set, report on the untouched test '
        'split. Writes the two parts and a manifest.json recording the '
        'seed, the image ids and the sha256 of every file.',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('Examples:', 1)[1])
    subparsers = parser.add_subparsers(dest='format', required=True)

    coco = subparsers.add_parser(
        'coco',
        help='split a COCO instances json into search.json and '
        'train_remain.json')
    coco.add_argument(
        'ann_file',
        help='COCO training annotations, e.g. '
        'annotations/instances_train2017.json')
    _add_split_args(coco)

    voc = subparsers.add_parser(
        'voc',
        help='split VOC image-id lists into <tag>/search.txt and '
        '<tag>/<list>_remain.txt')
    voc.add_argument(
        'list_files',
        nargs='+',
        help='image-id lists, e.g. VOC2007/ImageSets/Main/trainval.txt and '
        'VOC2012/ImageSets/Main/trainval.txt; the search set is drawn from '
        'all of them together')
    _add_split_args(voc)

    verify = subparsers.add_parser(
        'verify',
        help='check that re-running a split from its manifest gives the '
        'same images and files')
    verify.add_argument('manifest', help=f'a {MANIFEST_FILE} to check')
    return parser.parse_args(argv)


def _add_split_args(parser):
    parser.add_argument(
        '--out-dir', required=True, help='folder for the split files')
    parser.add_argument(
        '--num-search',
        type=int,
        default=5000,
        help='images in the search set (default: 5000, as in DetNAS)')
    parser.add_argument(
        '--seed',
        type=int,
        default=0,
        help='seed of the image permutation (default: 0)')


def _summary(manifest, out_dir):
    lines = [
        f'{manifest["format"]} split, seed {manifest["seed"]}, '
        f'{manifest["num_search"]} search images'
    ]
    for source in manifest['sources']:
        lines.append(f'  source {source["path"]}: '
                     f'{source["num_images"]} images')
    for name, output in manifest['outputs'].items():
        lines.append(f'  {output["role"]:>6}: {out_dir}/{name} '
                     f'({output["num_images"]} images)')
    lines.append(f'  manifest: {out_dir}/{MANIFEST_FILE}')
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    try:
        if args.format == 'verify':
            manifest = verify_manifest(args.manifest)
            print(f'{args.manifest}: OK, the split is reproduced')
            return 0
        if args.format == 'coco':
            manifest = split_coco(args.ann_file, args.out_dir, args.num_search,
                                  args.seed)
        else:
            manifest = split_voc(args.list_files, args.out_dir,
                                 args.num_search, args.seed)
    except (OSError, ValueError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    print(_summary(manifest, args.out_dir))
    return 0


if __name__ == '__main__':
    sys.exit(main())
