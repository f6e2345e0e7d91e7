"""Carve a DetNAS search set out of the training annotations.

The input is checked first (detnas_mm.datasets.check_detection_data, see
docs/data_checks.md): fatal problems stop the tool with one line, warnings
are printed. COCO image files are checked only with --img-dir; VOC images
and annotations are checked when the lists sit in a VOC folder
(VOC20xx/ImageSets/Main/<list>.txt next to Annotations/ and JPEGImages/).

Examples:
    python tools/dataset/split_search_set.py coco \\
        data/coco/annotations/instances_train2017.json \\
        --img-dir data/coco/train2017 \\
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
from pathlib import Path

from detnas_mm.datasets.data_checks import DetectionSplit, check_detection_data
from detnas_mm.datasets.search_split import (MANIFEST_FILE, split_coco,
                                             split_voc, verify_manifest)
from detnas_mm.datasets.voc import ANN_SUBDIR, voc_sub_root


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
    coco.add_argument(
        '--img-dir',
        help='folder of the images of ann_file, e.g. train2017/: checks '
        'that every image exists and opens (without it only the '
        'annotations are checked)')
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


def check_input(args):
    """Check the data to split; fatal problems raise ``DataCheckError``.

    Returns:
        str: The report for the console (warnings, what was not checked).
    """
    if args.format == 'coco':
        if args.img_dir is not None and not Path(args.img_dir).is_dir():
            raise ValueError(f'--img-dir {args.img_dir} is not a folder')
        split = DetectionSplit.coco(args.ann_file, args.img_dir)
        report = check_detection_data({'train': split})
        text = report.format()
        if args.img_dir is None:
            text += ('\n  (give --img-dir to check that the image files '
                     'exist and open)')
        return text
    outside = []
    for list_file in args.list_files:
        if not Path(list_file).is_file():
            raise FileNotFoundError(f'No VOC image list at {list_file}')
        try:
            if not (voc_sub_root(list_file) / ANN_SUBDIR).is_dir():
                outside.append(list_file)
        except ValueError:
            outside.append(list_file)
    if outside:
        # Image-id lists alone can be split; there is nothing to check.
        return (f'Data checks skipped: {", ".join(map(str, outside))} '
                f'not in a VOC folder with {ANN_SUBDIR}/ (expected '
                f'VOC20xx/ImageSets/Main/<list>.txt)')
    report = check_detection_data(
        {'train': DetectionSplit.voc(*args.list_files)})
    return report.format()


def main(argv=None):
    args = parse_args(argv)
    try:
        if args.format == 'verify':
            manifest = verify_manifest(args.manifest)
            print(f'{args.manifest}: OK, the split is reproduced')
            return 0
        print(check_input(args))
        if args.format == 'coco':
            manifest = split_coco(args.ann_file, args.out_dir, args.num_search,
                                  args.seed)
        else:
            manifest = split_voc(args.list_files, args.out_dir,
                                 args.num_search, args.seed)
    except (OSError, ValueError) as error:
        # One line, no traceback: the message names the file and the fix.
        print(f'error: {" ".join(str(error).split())}', file=sys.stderr)
        return 2
    print(_summary(manifest, args.out_dir))
    return 0


if __name__ == '__main__':
    sys.exit(main())
