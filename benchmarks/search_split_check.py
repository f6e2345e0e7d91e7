"""Time of ``check_search_split`` on a COCO-sized search split.

The check runs before every search: 5k search images against a 20k-image
training file and a 5k-image test file (COCO ``train2017``/``val2017``
proportions, one box and one 20-point polygon per image, so that the files
have the size of real annotation files per image). Reports the CPU time
(``time.process_time``: other processes on a shared machine do not count)
and the wall time of each repeat, their median, min and max, and the load
average before and after. Target: about a second of CPU time (``json.load``
of the three files), at most 5 s on a 2-core machine.

    python benchmarks/search_split_check.py --repeats 5
"""
import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from detnas_mm.datasets import check_search_split


def _write_coco_file(path, ids):
    images = [
        dict(id=i, file_name=f'{i:012d}.jpg', width=640, height=480)
        for i in ids
    ]
    annotations = [
        dict(id=i, image_id=i, bbox=[0, 0, 1, 1], segmentation=[[0.5] * 40])
        for i in ids
    ]
    with open(path, 'w') as f:
        json.dump(
            dict(images=images, annotations=annotations, categories=[]), f)
    return Path(path)


def write_coco_sized_split(folder,
                           num_search=5000,
                           num_train=20000,
                           num_test=5000):
    """Search, training and test files with disjoint image ids.

    Returns:
        tuple[Path, Path, Path]: ``search.json``, ``train.json`` and
        ``test.json`` in ``folder``.
    """
    folder = Path(folder)
    ends = [
        num_search, num_search + num_train, num_search + num_train + num_test
    ]
    return (_write_coco_file(folder / 'search.json', range(ends[0])),
            _write_coco_file(folder / 'train.json', range(ends[0], ends[1])),
            _write_coco_file(folder / 'test.json', range(ends[1], ends[2])))


def _summary(values):
    return dict(
        median=statistics.median(values), min=min(values), max=max(values))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--num-search', type=int, default=5000)
    parser.add_argument('--num-train', type=int, default=20000)
    parser.add_argument('--num-test', type=int, default=5000)
    args = parser.parse_args()
    if args.repeats < 1:
        raise ValueError(f'--repeats must be >= 1, got {args.repeats}')
    load_before = os.getloadavg()
    cpu, wall = [], []
    with tempfile.TemporaryDirectory() as folder:
        files = write_coco_sized_split(folder, args.num_search, args.num_train,
                                       args.num_test)
        for _ in range(args.repeats):
            start_cpu, start_wall = time.process_time(), time.perf_counter()
            check_search_split(*files)
            cpu.append(time.process_time() - start_cpu)
            wall.append(time.perf_counter() - start_wall)
    result = dict(
        num_search=args.num_search,
        num_train=args.num_train,
        num_test=args.num_test,
        repeats=args.repeats,
        cpu_s=cpu,
        wall_s=wall,
        cpu=_summary(cpu),
        wall=_summary(wall),
        load_before=load_before,
        load_after=os.getloadavg())
    print(json.dumps(result, indent=1))


if __name__ == '__main__':
    main()
