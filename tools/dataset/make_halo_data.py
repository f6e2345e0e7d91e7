"""Generate the built-in "halo" task (detection set and classification twin).

    python tools/dataset/make_halo_data.py data/halo

writes ``data/halo/coco`` (COCO layout: ``train2017/``, ``val2017/``,
``annotations/``) and ``data/halo/cls`` (ImageNet folder layout), the
default data of the task's configs. Deterministic: the same arguments give
the same files; a complete dataset is not generated twice.
"""
import argparse
import os.path as osp

from detnas_mm.datasets.halo import (make_halo_classification_dataset,
                                     make_halo_detection_dataset)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out_dir', help='folder to write coco/ and cls/ in')
    parser.add_argument('--num-train', type=int, default=2000,
                        help='detection training images (default 2000)')
    parser.add_argument('--num-test', type=int, default=400,
                        help='detection test images (default 400)')
    parser.add_argument('--per-class-train', type=int, default=1000,
                        help='classification training images per class '
                        '(default 1000)')
    parser.add_argument('--per-class-val', type=int, default=100,
                        help='classification validation images per class '
                        '(default 100)')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    det = make_halo_detection_dataset(
        osp.join(args.out_dir, 'coco'), num_train=args.num_train,
        num_test=args.num_test, seed=args.seed)
    cls = make_halo_classification_dataset(
        osp.join(args.out_dir, 'cls'), per_class_train=args.per_class_train,
        per_class_val=args.per_class_val, seed=args.seed)
    print(f'detection: {det}\nclassification: {cls}')


if __name__ == '__main__':
    main()
