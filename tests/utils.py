"""What several test modules share: paths, ports, thread settings, random
architectures, tool runs in subprocesses and tiny detection searches.

Imported as ``from tests.utils import ...``: pytest puts the repository
root on ``sys.path`` (``tests`` is a package), nothing else has to.

The tiny search set-up: a width-reduced space (5 blocks, 8-64 channels),
64 px images, 4 calibration and 6 search images, so that one candidate
takes well under a second.
"""
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIGS = REPO_ROOT / 'configs'

# One intra-op thread per process: on a shared 2-core machine two threads
# per process fight over the cores and tiny convolutions get many times
# slower.
ONE_THREAD_ENV = dict(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')


def tool_env(**extra):
    """The environment of a tool run: this one, one thread, ``extra``.

    The checkout comes first on ``PYTHONPATH``, so that the tools import
    this ``detnas_mm`` even where the package is not installed.
    """
    path = os.pathsep.join(
        filter(None,
               [str(REPO_ROOT), os.environ.get('PYTHONPATH')]))
    return dict(os.environ, **ONE_THREAD_ENV, PYTHONPATH=path, **extra)


def free_port():
    """A TCP port that is free now (a distributed rendezvous)."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def random_arch(space, seed):
    """A seeded uniform random gene string of ``space``.

    Args:
        space: A space name, dict or :class:`SearchSpace`.
        seed: Seed of the draw.

    Returns:
        str: The gene string, e.g. ``'2120|2112|33130031|3132'``.
    """
    from detnas_mm.models.backbones import format_arch, get_search_space
    space = get_search_space(space)
    rng = random.Random(seed)
    return format_arch(
        [rng.choice(space.choices) for _ in range(space.num_blocks)], space)


def load_script(path):
    """Import a script of the checkout (``tools/search.py``) as a module.

    Args:
        path: The script's path, relative to the repository root.
    """
    import importlib.util
    path = REPO_ROOT / path
    name = path.stem.replace('-', '_')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def output_tail(result, chars=3000):
    """The last ``chars`` of a finished run's stdout and of its stderr."""
    return (result.stdout or '')[-chars:] + (result.stderr or '')[-chars:]


def run_tool(cmd, timeout=600, check=True, cwd=REPO_ROOT, env=None):
    """Run ``cmd`` to its end in a subprocess, output captured.

    Args:
        cmd: The command line; items are turned into strings. A ``.py``
            first item runs with this Python.
        timeout: Seconds before the run is killed (a test failure).
        check: Assert exit status 0, showing the output's tail if not.
        cwd: Working directory, the repository root by default.
        env: Environment, :func:`tool_env` by default.

    Returns:
        subprocess.CompletedProcess: With ``stdout`` and ``stderr`` text.
    """
    cmd = [str(c) for c in cmd]
    if cmd[0].endswith('.py'):
        cmd.insert(0, sys.executable)
    result = subprocess.run(
        cmd,
        cwd=cwd,
        env=env or tool_env(),
        capture_output=True,
        text=True,
        timeout=timeout)
    if check:
        assert result.returncode == 0, output_tail(result)
    return result


def kill_when(cmd, ready, timeout=600, poll_s=0.05, cwd=REPO_ROOT, env=None):
    """Start ``cmd``, SIGKILL it (with its children) once ``ready()``.

    Asserts that the run was still going when killed: an interruption,
    not an end.
    """
    cmd = [str(c) for c in cmd]
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env or tool_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            if ready():
                break
            time.sleep(poll_s)
        assert proc.poll() is None, 'the run ended before the kill'
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def line_count(path):
    """Lines in a file that may not exist yet (0 then)."""
    path = Path(path)
    return len(path.read_text().splitlines()) if path.exists() else 0


# The tiny detection search.

DET_CONFIG = (
    CONFIGS / 'search' /
    'search_faster-rcnn_detnas-supernet-tiny_fpn_3x8_coco-tiny.py')
TINY_SPACE = dict(
    depths=[1, 1, 2, 1],
    stem_channels=8,
    stage_channels=[16, 32, 48, 64],
    last_channels=64)

DET_TEMPLATE = '''
_base_ = {base!r}
images = {images!r}
split = {split!r}
# The data's classes: coco_tiny's 80 or the generated set's shapes.
classes = {classes!r}
w = 16
model = dict(
    backbone=dict(space=dict(_delete_=True, **{space!r})),
    neck=dict(in_channels={channels!r}, out_channels=w),
    rpn_head=dict(in_channels=w, feat_channels=w),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=w),
        bbox_head=dict(in_channels=w, conv_out_channels=w,
                       fc_out_channels=32, num_classes={num_classes})),
    # score_thr 0: a random supernet still detects something to score.
    test_cfg=dict(rpn=dict(nms_pre=100, max_per_img=30),
                  rcnn=dict(score_thr=0.0, max_per_img=20)))
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(64, 64), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor'))
]
train_dataloader = dict(dataset=dict(
    ann_file=split + 'train_remain.json', metainfo=dict(classes=classes),
    data_prefix=dict(img=images + 'train2017/'), pipeline=test_pipeline))
val_dataloader = dict(dataset=dict(
    ann_file=split + 'search.json', metainfo=dict(classes=classes),
    data_prefix=dict(img=images + 'train2017/'), pipeline=test_pipeline))
val_evaluator = dict(ann_file=split + 'search.json')
test_dataloader = dict(dataset=dict(
    data_root=images, metainfo=dict(classes=classes),
    pipeline=test_pipeline))
test_evaluator = dict(ann_file=images + 'annotations/instances_val2017.json')
train_cfg = dict(
    num_generations=3, population_size=6, top_k=2, num_mutation=2,
    num_crossover=2, flops_limit=None, num_calibration_images=4,
    calibration_batch_size=2, seed=0, **{loop!r})
default_hooks = dict(logger=dict(interval=1000),
                     checkpoint=dict(interval=1000000))
'''


def make_split(coco_root, out_dir, num_search=6):
    """Hold ``num_search`` images out of the training json."""
    from detnas_mm.datasets.search_split import split_coco
    split_coco(
        Path(coco_root) / 'annotations' / 'instances_train2017.json',
        out_dir,
        num_search=num_search,
        seed=0)
    return Path(out_dir)


def write_det_config(path, coco_root, split_dir, **loop):
    """A tiny detection search config inheriting the CPU-size config."""
    from detnas_mm.datasets.coco import coco_class_names
    classes = coco_class_names(
        Path(coco_root) / 'annotations' / 'instances_train2017.json')
    text = DET_TEMPLATE.format(
        classes=classes,
        num_classes=len(classes),
        base=str(DET_CONFIG),
        images=str(coco_root) + '/',
        split=str(split_dir) + '/',
        space=TINY_SPACE,
        channels=TINY_SPACE['stage_channels'],
        loop=loop)
    Path(path).write_text(text)
    return Path(path)


def save_random_supernet(config, out_file, seed=0):
    """A checkpoint of the config's model with seeded random weights."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope
    cfg = Config.fromfile(str(config))
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    torch.save(dict(state_dict=model.state_dict(), meta={}), str(out_file))
    return Path(out_file)


def search_setup(root,
                 coco_root,
                 name='search_tiny.py',
                 supernet=True,
                 **loop):
    """A tiny detection search in ``root``, ready to run.

    Args:
        root: An empty folder.
        coco_root: A COCO-layout data root (``coco_data_root``).
        name: File name of the config.
        supernet: Also save a random supernet checkpoint.
        **loop: Search loop settings (``train_cfg``) of the config.

    Returns:
        dict: ``root``, ``coco``, ``split``, ``config`` and, with
        ``supernet``, ``checkpoint`` (paths).
    """
    root, coco_root = Path(root), Path(coco_root)
    split = make_split(coco_root, root / 'split')
    config = write_det_config(root / name, coco_root, split, **loop)
    setup = dict(root=root, coco=coco_root, split=split, config=config)
    if supernet:
        setup['checkpoint'] = save_random_supernet(config,
                                                   root / 'supernet.pth')
    return setup


def search_cmd(setup, work_dir, *extra):
    """``tools/search.py`` on the tiny search, writing to ``work_dir``."""
    return [
        sys.executable, 'tools/search.py',
        str(setup['config']),
        str(setup['checkpoint']), '--work-dir',
        str(work_dir), *extra
    ]


def search_cfg(setup, work_dir, name, checkpoint=True, **loop):
    """The tiny search's config, ready for ``Runner.from_cfg``.

    Args:
        setup: A :func:`search_setup`.
        work_dir: Where the runner writes.
        name: The experiment name, new for every runner of a session
            (mmengine keeps its loggers by name).
        checkpoint: Start from the setup's random supernet.
        **loop: Search loop settings replacing the config's.
    """
    from mmengine.config import Config
    cfg = Config.fromfile(str(setup['config']))
    cfg.train_cfg.update(loop)
    cfg.work_dir = str(work_dir)
    if checkpoint:
        cfg.load_from = str(setup['checkpoint'])
    cfg.log_level = 'WARNING'
    cfg.experiment_name = name
    return cfg


def idle_search_runner(setup, work_dir, name):
    """A runner of the tiny search that has built nothing yet, to build
    loops with (no checkpoint is loaded)."""
    from mmengine.runner import Runner
    return Runner.from_cfg(search_cfg(setup, work_dir, name, checkpoint=False))


def assert_loop_refused(runner, loop_cfg, match, monkeypatch):
    """Building the search loop raises ``match`` before scoring a path."""
    calls = []
    monkeypatch.setattr(
        'detnas_mm.engine.loops.evolution_search_loop.score_path',
        lambda *args, **kwargs: calls.append('scoring'))
    with pytest.raises(ValueError, match=match):
        runner.build_train_loop(loop_cfg)
    assert calls == []


def assert_search_refused(cfg, match, monkeypatch):
    """``Runner.train`` raises ``match`` before evaluating a candidate or
    writing the search state."""
    from mmengine.runner import Runner

    from detnas_mm.engine.loops import EvolutionSearchLoop
    calls = []
    monkeypatch.setattr(EvolutionSearchLoop, '_evaluate',
                        lambda self, arch, calibration: calls.append(arch))
    with pytest.raises(ValueError, match=match):
        Runner.from_cfg(cfg).train()
    assert calls == []
    assert not (Path(cfg.work_dir) / 'search_state.json').exists()


def kill_and_resume_search(cmd, work_dir, total, timeout):
    """SIGKILL a search tool run after a random number of its ``total``
    candidates (at a random point of the next one), check what it left,
    then finish it with ``--resume``."""
    work_dir = Path(work_dir)
    kill_after = random.SystemRandom().randint(1, total - 2)
    log = work_dir / 'search_log.jsonl'
    kill_when(cmd, lambda: line_count(log) >= kill_after, timeout, poll_s=0.02)
    state = json.loads((work_dir / 'search_state.json').read_text())
    done = len(state['log'])
    assert kill_after <= done < total, (kill_after, done)
    assert not (work_dir / 'best_arch.json').exists()
    run_tool(list(cmd) + ['--resume'], timeout)
    print(f'\nkilled after {done} of {total} candidates, resumed')


def read_result(work_dir):
    """What must not depend on how the search ran: archs and scores."""
    work_dir = Path(work_dir)
    state = json.loads((work_dir / 'search_state.json').read_text())
    best = json.loads((work_dir / 'best_arch.json').read_text())
    last = state['history'][-1]
    return dict(
        population=list(zip(last['candidates'], last['scores'])),
        top_k=json.loads((work_dir / 'search_topk.json').read_text()),
        best=(best['arch'], best['score'], best['flops']),
        log=[(e['arch'], e['score']) for e in state['log']],
        num_evaluations=state['num_evaluations'],
        ranking=state['ranking'])


# Hand-made latency of the tiny space (ms): per choice, ShuffleNetV2 3x3,
# 5x5, 7x7 and the Xception-like block; later blocks cost a little more.
# Not proportional to FLOPs, so the latency and FLOPs fronts differ.
TINY_LATENCY_MS = {0: 0.30, 1: 0.34, 2: 0.41, 3: 0.62}


def write_latency_table(path, input_size=(64, 64), space=TINY_SPACE):
    """A latency table of the tiny space written by hand (deterministic).

    Returns:
        LatencyTable: The table (also saved at ``path``).
    """
    from detnas_mm.cost.latency import LatencyTable, Timing
    from detnas_mm.models.backbones import get_search_space
    space = get_search_space(space)
    blocks = {
        (b, c): Timing(TINY_LATENCY_MS[c] * (1 + 0.1 * b), 0.01, 9)
        for b in range(space.num_blocks)
        for c in space.choices
    }
    table = LatencyTable(
        space,
        input_size,
        'torch',
        'cpu',
        Timing(0.2, 0.01, 9),
        blocks,
        0.05,
        meta=dict(device_name='hand-made', threads=1))
    table.save(str(path))
    return table
