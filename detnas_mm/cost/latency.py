"""Measured latency of DetNAS architectures from a per-block table.

FLOPs miss what makes a block slow on real hardware (memory traffic of
depthwise convs, per-op overheads), so a latency table stores *measured*
times: the stem and every (block position, choice op) of a space, each run
on its own at the input shape it sees inside the backbone (detector input
size, batch 1, eval mode). The latency of an architecture is then the sum
of its entries plus a measured constant: the part of a whole-network run
that no block accounts for (the loop over stages, the output tuple; for
ONNX Runtime, minus the per-call overhead of the many block sessions). The
constant is the median, over a few *calibration* architectures measured
whole in the same session, of (whole-network latency - sum of entries);
they are recorded in the table.

The machine that measures may be busy with other work, so everything is
timed in interleaved rounds: every round runs each entry a few times, the
entries in a new random order every round, so that a slow spell spreads
over all entries instead of inflating a few; each entry keeps the median
of its calls and their interquartile range (the spread). Threads are
pinned (``torch.set_num_threads`` / ONNX Runtime ``intra_op_num_threads``)
and denormals are flushed to zero in both backends, so tiny activations of
untrained weights cannot slow a run down.

Clocks: ``'wall'`` times calls with ``time.perf_counter``; ``'cpu'`` with
the CPU time of the calling thread (``time.thread_time``), valid for one
thread on the CPU, where both runtimes compute in the calling thread. On an
idle machine the two agree; on a machine shared with other processes the
wall time of a call longer than a scheduler time slice includes the time
the other processes ran, while its CPU time does not, so a table and a
measurement made at different loads still agree. ``'auto'`` (the default)
takes ``'cpu'`` for one thread on the CPU and ``'wall'`` otherwise.

Build a table with ``tools/analysis/latency_table.py`` or::

    table = build_latency_table('300M', (128, 128), backend='torch',
                                threads=1)
    table.save('latency_300M_128.json')
    table = LatencyTable.load('latency_300M_128.json', space='300M',
                              input_size=(128, 128), backend='torch')
    table.predict('2120|2112|33130031|3132')   # milliseconds

``load`` refuses a table measured for another space, input size, backend
or device with a ``ValueError`` naming both values.
"""
import datetime
import io
import os
import platform
import random
import sys
import time
import warnings
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import (Callable, Dict, Iterator, List, Optional, Sequence, Tuple,
                    Union)

import numpy as np
import torch
import torch.nn as nn

from detnas_mm.models.backbones.detnas_net import DetNASNet
from detnas_mm.models.backbones.detnas_supernet import DetNASSupernet
from detnas_mm.models.backbones.search_space import (CHOICE_OPS, SearchSpace,
                                                     SpaceLike, format_arch,
                                                     get_search_space,
                                                     parse_arch)
from detnas_mm.utils.io import atomic_write_json

BACKENDS = ('torch', 'onnxruntime')
DEVICES = ('cpu', 'cuda')
CLOCKS = ('auto', 'wall', 'cpu')
TABLE_FORMAT = 'detnas_mm.latency_table/1'
SizeLike = Union[int, Sequence[int]]
ArchLike = Union[str, Sequence[int]]


@dataclass(frozen=True)
class Timing:
    """Repeated timings of one thing, in milliseconds.

    Args:
        median_ms: Median of the calls.
        spread_ms: Interquartile range of the calls.
        count: Number of timed calls.
    """
    median_ms: float
    spread_ms: float
    count: int

    @classmethod
    def of(cls, seconds: Sequence[float]) -> 'Timing':
        """Summarise per-call times given in seconds."""
        if len(seconds) == 0:
            raise ValueError('no timings to summarise')
        ms = np.asarray(seconds, dtype=np.float64) * 1e3
        q25, q50, q75 = np.percentile(ms, [25, 50, 75])
        return cls(float(q50), float(q75 - q25), int(ms.size))

    def to_dict(self) -> dict:
        return asdict(self)


def input_hw(size: SizeLike) -> Tuple[int, int]:
    """``(height, width)`` from an int (square) or a pair."""
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        size = (int(size), int(size))
    try:
        size = tuple(int(s) for s in size)
    except (TypeError, ValueError):
        raise ValueError(f'input size must be an int or (height, width), '
                         f'got {size!r}') from None
    if len(size) != 2 or min(size) < 1:
        raise ValueError(f'input size must be an int or (height, width) of '
                         f'positive ints, got {size!r}')
    return size


def _check_choice(name: str, value, allowed: Sequence[str]):
    if value not in allowed:
        raise ValueError(f'{name} must be one of {list(allowed)}, got '
                         f'{value!r}')


def _check_threads(threads):
    if not isinstance(threads, int) or isinstance(threads, bool) \
            or threads < 1:
        raise ValueError(f'threads must be a positive int, got {threads!r}')


def resolve_clock(clock: str, device: str = 'cpu', threads: int = 1) -> str:
    """``'wall'`` or ``'cpu'`` for a clock name (see the module doc)."""
    _check_choice('clock', clock, CLOCKS)
    single = device == 'cpu' and threads == 1
    if clock == 'auto':
        return 'cpu' if single else 'wall'
    if clock == 'cpu' and not single:
        raise ValueError(f"clock 'cpu' times the calling thread: it needs "
                         f"device 'cpu' and threads=1, got device "
                         f"{device!r}, threads={threads}; use clock 'wall'")
    return clock


# ---------------------------------------------------------------- timing
def time_interleaved(runners: Sequence[Callable[[], object]],
                     rounds: int,
                     repeats: int = 1,
                     warmup: int = 2,
                     sync: Optional[Callable[[], None]] = None,
                     seed: int = 0,
                     clock: str = 'wall') -> List[List[float]]:
    """Time callables in interleaved rounds.

    Every runner is first called ``warmup`` times (untimed). Then, in each
    of ``rounds`` rounds, the runners are visited in a new random order and
    each is called ``repeats`` times back to back, every call timed on its
    own. Interleaving spreads the machine's slow spells over all runners.

    Args:
        runners: Callables taking no argument.
        rounds: Number of rounds.
        repeats: Timed calls of a runner per round.
        warmup: Untimed calls of every runner before the first round.
        sync: Called before and after each timed call (e.g.
            ``torch.cuda.synchronize``) so that asynchronous work is
            counted.
        seed: Seed of the visiting order.
        clock: ``'wall'`` (``time.perf_counter``) or ``'cpu'`` (CPU time
            of the calling thread, ``time.thread_time``).

    Returns:
        list[list[float]]: Per runner, the seconds of its timed calls.
    """
    _check_choice('clock', clock, CLOCKS[1:])
    for name, value, low in (('rounds', rounds, 1), ('repeats', repeats, 1),
                             ('warmup', warmup, 0)):
        if not isinstance(value, int) or value < low:
            raise ValueError(f'{name} must be an int >= {low}, got '
                             f'{value!r}')
    sync = sync or (lambda: None)
    for run in runners:
        for _ in range(warmup):
            run()
    sync()
    samples: List[List[float]] = [[] for _ in runners]
    order = list(range(len(runners)))
    rng = random.Random(seed)
    clock = time.perf_counter if clock == 'wall' else time.thread_time
    for _ in range(rounds):
        rng.shuffle(order)
        for i in order:
            run, out = runners[i], samples[i]
            for _ in range(repeats):
                sync()
                start = clock()
                run()
                sync()
                out.append(clock() - start)
    return samples


# --------------------------------------------------------------- backends
def device_name(device: str = 'cpu') -> str:
    """The CPU model or the CUDA device's name."""
    _check_choice('device', device, DEVICES)
    if device == 'cuda':
        return torch.cuda.get_device_name()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def library_versions() -> Dict[str, Optional[str]]:
    """Versions of what runs the measurements (None: not installed)."""
    from detnas_mm.version import __version__
    versions = dict(
        python=platform.python_version(),
        torch=torch.__version__,
        numpy=np.__version__,
        detnas_mm=__version__)
    for name in ('onnxruntime', 'onnx'):
        try:
            versions[name] = __import__(name).__version__
        except ImportError:
            versions[name] = None
    return versions


@contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Pin torch's intra-op threads and flush denormals, then restore."""
    _check_threads(threads)
    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    # Untrained weights can shrink activations towards denormals, which
    # are much slower on CPUs; trained networks do not have them.
    flushed = torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_num_threads(old)
        if flushed:
            torch.set_flush_denormal(False)


def onnx_model_bytes(module: nn.Module,
                     example: torch.Tensor,
                     output_names: Optional[Sequence[str]] = None,
                     opset_version: int = 17) -> bytes:
    """Export an eval-mode module to ONNX in memory (batch 1, static shape).

    Uses torch's TorchScript-based exporter (``dynamo=False``): it needs no
    extra package and exports these networks in well under a second.
    """
    module = module.cpu().eval()
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        # torch 2.9+ announces the dynamo exporter as the new default.
        warnings.simplefilter('ignore')
        torch.onnx.export(
            module, (example.cpu(), ),
            buffer,
            dynamo=False,
            opset_version=opset_version,
            input_names=['input'],
            output_names=list(output_names) if output_names else None,
            do_constant_folding=True)
    return buffer.getvalue()


def ort_session(model: Union[bytes, str],
                threads: int = 1,
                device: str = 'cpu'):
    """An ONNX Runtime session pinned to ``threads`` intra-op threads.

    Sequential execution (one op at a time, as a single-image latency
    measurement should), every graph optimisation, denormals flushed.

    Args:
        model: ONNX model bytes or file path.
        threads: Intra-op threads.
        device: ``'cpu'``, or ``'cuda'`` (needs an onnxruntime build with
            the CUDA execution provider).

    Returns:
        onnxruntime.InferenceSession: The session.
    """
    import onnxruntime as ort
    _check_threads(threads)
    _check_choice('device', device, DEVICES)
    provider = dict(
        cpu='CPUExecutionProvider', cuda='CUDAExecutionProvider')[device]
    available = ort.get_available_providers()
    if provider not in available:
        raise ValueError(f'onnxruntime {ort.__version__} has no {provider} '
                         f'(available: {available}); device {device!r} '
                         f'needs onnxruntime-gpu')
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = \
        ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    options.add_session_config_entry('session.set_denormal_as_zero', '1')
    return ort.InferenceSession(model, options, providers=[provider])


def make_runner(module: nn.Module,
                example: torch.Tensor,
                backend: str,
                device: str = 'cpu',
                threads: int = 1) -> Callable[[], object]:
    """A no-argument callable that runs ``module`` on ``example`` once.

    For ``'torch'`` the module runs in eval mode (call it under
    ``torch.no_grad()``, as :func:`measure` does); for ``'onnxruntime'``
    it is exported with :func:`onnx_model_bytes` and run in an
    :func:`ort_session`.
    """
    _check_choice('backend', backend, BACKENDS)
    _check_choice('device', device, DEVICES)
    if backend == 'torch':
        module = module.to(device).eval()
        x = example.to(device)
        return lambda: module(x)
    session = ort_session(onnx_model_bytes(module, example), threads, device)
    feed = {session.get_inputs()[0].name: example.cpu().numpy()}
    return lambda: session.run(None, feed)


def measure(runners: Sequence[Callable[[], object]],
            backend: str,
            device: str = 'cpu',
            threads: int = 1,
            rounds: int = 20,
            repeats: int = 3,
            warmup: int = 3,
            seed: int = 0,
            clock: str = 'auto') -> List[List[float]]:
    """:func:`time_interleaved` under the backend's settings.

    Pins torch's threads (also for ONNX Runtime: its sessions carry their
    own, and torch's pool then stays out of the way), flushes denormals,
    disables autograd and synchronises CUDA around every call. ``clock``:
    see the module docstring.
    """
    _check_choice('backend', backend, BACKENDS)
    _check_choice('device', device, DEVICES)
    clock = resolve_clock(clock, device, threads)
    sync = torch.cuda.synchronize if (backend == 'torch'
                                      and device == 'cuda') else None
    with torch_threads(threads), torch.no_grad():
        return time_interleaved(runners, rounds, repeats, warmup, sync, seed,
                                clock)


def random_archs(space: SpaceLike,
                 num: int,
                 seed: int = 0,
                 exclude: Sequence[str] = ()) -> List[str]:
    """``num`` distinct uniformly random gene strings of a space."""
    space = get_search_space(space)
    rng = random.Random(seed)
    seen, archs = set(exclude), []
    limit = len(space.choices)**space.num_blocks - len(seen)
    if num > limit:
        raise ValueError(f'space {space.name!r} has only {limit} '
                         f'architectures left, asked for {num}')
    while len(archs) < num:
        arch = format_arch(
            [rng.choice(space.choices) for _ in range(space.num_blocks)],
            space)
        if arch not in seen:
            seen.add(arch)
            archs.append(arch)
    return archs


def backbone_runner(arch: ArchLike,
                    space: SpaceLike,
                    input_size: SizeLike,
                    backend: str,
                    device: str = 'cpu',
                    threads: int = 1,
                    seed: int = 0) -> Callable[[], object]:
    """Runner of the whole :class:`DetNASNet` of ``arch`` (all 4 stage
    outputs, as a detector's neck takes them) at batch 1."""
    h, w = input_hw(input_size)
    # Default (PyTorch) initialisation: timings do not depend on the
    # weights (denormals are flushed), and init_weights() logs a lot.
    model = DetNASNet(space, arch)
    example = torch.randn(
        1, 3, h, w, generator=torch.Generator().manual_seed(seed))
    return make_runner(model, example, backend, device, threads)


def measure_backbones(archs: Sequence[ArchLike],
                      space: SpaceLike,
                      input_size: SizeLike,
                      backend: str = 'torch',
                      device: str = 'cpu',
                      threads: int = 1,
                      rounds: int = 20,
                      repeats: int = 3,
                      warmup: int = 3,
                      seed: int = 0,
                      clock: str = 'auto') -> List[List[float]]:
    """Whole-backbone timings of several architectures, interleaved.

    Arguments as in :func:`build_latency_table`.

    Returns:
        list[list[float]]: Per architecture, the seconds of its calls.
    """
    runners = [
        backbone_runner(arch, space, input_size, backend, device, threads)
        for arch in archs
    ]
    return measure(runners, backend, device, threads, rounds, repeats, warmup,
                   seed, clock)


# ------------------------------------------------------------------ table
class LatencyTable:
    """Measured latency of the stem and every (block, choice) of a space.

    Built by :func:`build_latency_table`, saved and loaded as JSON. The
    latency of an architecture is ``stem + sum of its block entries +
    offset`` (see the module docstring for the offset).

    Args:
        space: The search space.
        input_size: Detector input ``(height, width)`` (batch 1).
        backend: ``'torch'`` or ``'onnxruntime'``.
        device: ``'cpu'`` or ``'cuda'``.
        stem: Timing of the stem.
        blocks: Timing of every ``(block index, choice digit)`` of the
            space.
        offset_ms: Constant added to every prediction.
        calibration: The calibration architectures: dicts with ``arch``,
            ``measured`` (a :class:`Timing` dict) and ``sum_ms``.
        meta: What the table was measured on: ``device_name``,
            ``threads``, ``versions``, ``date``, build settings.
        shapes: Input shape ``[C, H, W]`` of every block (for reading).
    """

    def __init__(self,
                 space: SpaceLike,
                 input_size: SizeLike,
                 backend: str,
                 device: str,
                 stem: Timing,
                 blocks: Dict[Tuple[int, int], Timing],
                 offset_ms: float,
                 calibration: Sequence[dict] = (),
                 meta: Optional[dict] = None,
                 shapes: Optional[Sequence[Sequence[int]]] = None):
        _check_choice('backend', backend, BACKENDS)
        _check_choice('device', device, DEVICES)
        self.space: SearchSpace = get_search_space(space)
        self.input_size = input_hw(input_size)
        self.backend = backend
        self.device = device
        self.stem = stem
        self.blocks = dict(blocks)
        self.offset_ms = float(offset_ms)
        self.calibration = [dict(c) for c in calibration]
        self.meta = dict(meta or {})
        self.shapes = [list(s) for s in shapes] if shapes else None
        missing = [(b, c) for b in range(self.space.num_blocks)
                   for c in self.space.choices if (b, c) not in self.blocks]
        if missing:
            raise ValueError(f'latency table of space {self.space.name!r} '
                             f'lacks the (block, choice) entries {missing}')
        # NaN for choices outside the space: a path using one would sum to
        # NaN, but parse_arch refuses such paths first.
        self.block_ms = np.full((self.space.num_blocks, len(CHOICE_OPS)),
                                np.nan, np.float64)
        for (b, c), timing in self.blocks.items():
            self.block_ms[b, c] = timing.median_ms
        self._rows = np.arange(self.space.num_blocks)

    # ------------------------------------------------------- prediction
    def predict(self, arch: ArchLike) -> float:
        """Predicted whole-backbone latency of an architecture, in ms."""
        return self.predict_path(parse_arch(arch, self.space))

    def predict_path(self, path: Sequence[int]) -> float:
        """Like :meth:`predict` for an already validated path (faster)."""
        return float(self.stem.median_ms +
                     self.block_ms[self._rows, list(path)].sum() +
                     self.offset_ms)

    def sum_of_entries(self, arch: ArchLike) -> float:
        """Stem plus the arch's block entries, without the offset."""
        return self.predict(arch) - self.offset_ms

    def bounds(self) -> Tuple[float, float]:
        """Smallest and largest predicted latency in the space, in ms."""
        cols = list(self.space.choices)
        rest = self.stem.median_ms + self.offset_ms
        return (float(self.block_ms[:, cols].min(1).sum() + rest),
                float(self.block_ms[:, cols].max(1).sum() + rest))

    # ------------------------------------------------------- checking
    def check(self,
              space: Optional[SpaceLike] = None,
              input_size: Optional[SizeLike] = None,
              backend: Optional[str] = None,
              device: Optional[str] = None) -> 'LatencyTable':
        """Raise ``ValueError`` unless the table was measured for these.

        Args:
            space: Search space the latencies are for (compared by shape).
            input_size: Detector input size.
            backend: ``'torch'`` or ``'onnxruntime'``.
            device: ``'cpu'`` or ``'cuda'``.

        Returns:
            LatencyTable: self.
        """
        where = self.meta.get('path')
        what = f'latency table {where}' if where else 'latency table'
        fix = ('; build one with tools/analysis/latency_table.py for what '
               'you need')
        if space is not None:
            space = get_search_space(space)
            if space.signature() != self.space.signature():
                raise ValueError(
                    f'The {what} was measured for space '
                    f'{_describe_space(self.space)}, not the requested '
                    f'{_describe_space(space)}{fix}')
        if input_size is not None:
            size = input_hw(input_size)
            if size != self.input_size:
                raise ValueError(
                    f'The {what} was measured at input size '
                    f'{_hw_text(self.input_size)}, not the requested '
                    f'{_hw_text(size)}{fix}')
        if backend is not None:
            _check_choice('backend', backend, BACKENDS)
            if backend != self.backend:
                raise ValueError(
                    f'The {what} was measured with backend '
                    f'{self.backend!r}, not the requested {backend!r}{fix}')
        if device is not None:
            _check_choice('device', device, DEVICES)
            if device != self.device:
                raise ValueError(
                    f'The {what} was measured on device {self.device!r} '
                    f'({self.meta.get("device_name", "?")}), not the '
                    f'requested {device!r}{fix}')
        return self

    # ----------------------------------------------------------- files
    def to_dict(self) -> dict:
        entries = []
        for (b, c), timing in sorted(self.blocks.items()):
            entry = dict(
                block=b,
                stage=self.space.block_stages()[b],
                choice=c,
                op=CHOICE_OPS[c],
                **timing.to_dict())
            if self.shapes:
                entry['input_shape'] = self.shapes[b]
            entries.append(entry)
        meta = {k: v for k, v in self.meta.items() if k != 'path'}
        return dict(
            format=TABLE_FORMAT,
            space=dict(
                self.space.to_dict(), signature=list(self.space.signature())),
            input_size=list(self.input_size),
            backend=self.backend,
            device=self.device,
            meta=meta,
            stem=self.stem.to_dict(),
            blocks=entries,
            offset_ms=self.offset_ms,
            calibration=self.calibration)

    @classmethod
    def from_dict(cls, data: dict) -> 'LatencyTable':
        if not isinstance(data, dict) or data.get('format') != TABLE_FORMAT:
            got = data.get('format') if isinstance(data, dict) else data
            raise ValueError(f'Not a latency table: format {got!r}, '
                             f'expected {TABLE_FORMAT!r}')
        space = dict(data['space'])
        signature = space.pop('signature', None)
        space = get_search_space(space)
        if signature is not None and tuple(signature) != space.signature():
            raise ValueError(f'latency table space {space.name!r} does not '
                             f'match its signature {signature}')
        blocks, shapes = {}, {}
        for entry in data['blocks']:
            blocks[(int(entry['block']),
                    int(entry['choice']))] = Timing(entry['median_ms'],
                                                    entry['spread_ms'],
                                                    entry['count'])
            if 'input_shape' in entry:
                shapes[int(entry['block'])] = entry['input_shape']
        shapes = ([shapes[b] for b in range(space.num_blocks)]
                  if len(shapes) == space.num_blocks else None)
        return cls(space, data['input_size'], data['backend'], data['device'],
                   Timing(**data['stem']), blocks, data['offset_ms'],
                   data.get('calibration', ()), data.get('meta'), shapes)

    def save(self, path: str) -> None:
        """Write the table as JSON (atomically)."""
        atomic_write_json(path, self.to_dict(), indent=1)

    @classmethod
    def load(cls,
             path: str,
             space: Optional[SpaceLike] = None,
             input_size: Optional[SizeLike] = None,
             backend: Optional[str] = None,
             device: Optional[str] = None) -> 'LatencyTable':
        """Read a table and :meth:`check` it against what is requested.

        Args:
            path: JSON file written by :meth:`save`.
            space, input_size, backend, device: What the caller needs;
                None accepts any.

        Returns:
            LatencyTable: The table.
        """
        import json
        if not os.path.isfile(path):
            raise ValueError(f'No latency table at {path}')
        with open(path, encoding='utf-8') as f:
            try:
                data = json.load(f)
            except json.JSONDecodeError as e:
                raise ValueError(f'{path} is not a JSON latency table: '
                                 f'{e}') from None
        table = cls.from_dict(data)
        table.meta['path'] = path
        return table.check(space, input_size, backend, device)

    # --------------------------------------------------------- reading
    def info(self) -> dict:
        """What the table was measured for and on (for reports)."""
        meta = self.meta
        return dict(
            path=meta.get('path'),
            space=self.space.name,
            input_size=list(self.input_size),
            backend=self.backend,
            device=self.device,
            device_name=meta.get('device_name'),
            threads=meta.get('threads'),
            clock=meta.get('clock'),
            date=meta.get('date'))

    def summary(self) -> dict:
        """Per stage and choice, the median entry (ms); and the range."""
        stages = self.space.block_stages()
        per_stage = {}
        for s in range(self.space.num_stages):
            rows = [b for b in range(self.space.num_blocks) if stages[b] == s]
            per_stage[f'stage{s}'] = {
                CHOICE_OPS[c]: float(np.median(self.block_ms[rows, c]))
                for c in self.space.choices
            }
        low, high = self.bounds()
        return dict(
            stem_ms=self.stem.median_ms,
            offset_ms=self.offset_ms,
            min_arch_ms=low,
            max_arch_ms=high,
            block_median_ms_per_stage=per_stage)


def _hw_text(size: Tuple[int, int]) -> str:
    return f'{size[0]}x{size[1]}'


def _describe_space(space: SearchSpace) -> str:
    return (f'{space.name!r} (depths {"/".join(map(str, space.depths))}, '
            f'stem {space.stem_channels}, channels '
            f'{"/".join(map(str, space.stage_channels))}, choices '
            f'{"".join(map(str, space.choices))})')


# ----------------------------------------------------------------- build
class TableBuilder:
    """The runners a latency table times, and the table from their timings.

    :func:`build_latency_table` uses it; a benchmark can time other
    runners in the same rounds (``measure(builder.runners + mine, ...)``)
    and give the first ``len(builder.runners)`` sample lists to
    :meth:`table`.

    The entries are the stem and each choice op of each block of a
    :class:`DetNASSupernet` of the space (the very modules a network
    runs), in eval mode, each on a random input of the shape it sees at
    batch 1; then ``num_calibration`` random whole :class:`DetNASNet`
    backbones, timed in the same rounds to measure the offset.

    Args: as :func:`build_latency_table`.
    """

    def __init__(self,
                 space: SpaceLike,
                 input_size: SizeLike,
                 backend: str = 'torch',
                 device: str = 'cpu',
                 threads: int = 1,
                 num_calibration: int = 5,
                 seed: int = 0):
        self.space = get_search_space(space)
        self.input_size = size = input_hw(input_size)
        _check_choice('backend', backend, BACKENDS)
        _check_choice('device', device, DEVICES)
        _check_threads(threads)
        if not isinstance(num_calibration, int) or num_calibration < 1:
            raise ValueError(f'num_calibration must be an int >= 1, got '
                             f'{num_calibration!r}')
        if device == 'cuda' and not torch.cuda.is_available():
            raise ValueError("device 'cuda' requested but torch sees no "
                             "CUDA device; use device='cpu'")
        self.backend, self.device, self.threads = backend, device, threads
        gen = torch.Generator().manual_seed(seed)
        supernet = DetNASSupernet(self.space).eval()
        modules, examples, self.keys, self.shapes = [], [], [], []
        with torch.no_grad():
            x = torch.randn(1, 3, *size, generator=gen)
            modules.append(supernet.stem)
            examples.append(x)
            self.keys.append('stem')
            x = supernet.stem(x)
            for b, block in enumerate(supernet.blocks):
                self.shapes.append(list(x.shape[1:]))
                x = torch.randn(x.shape, generator=gen)
                for c in self.space.choices:
                    modules.append(block.ops[str(c)])
                    examples.append(x)
                    self.keys.append((b, c))
                x = block.ops[str(self.space.choices[0])](x)
        self.calibration_archs = random_archs(
            self.space, num_calibration, seed=seed + 1)
        self.runners = [
            make_runner(m, e, backend, device, threads)
            for m, e in zip(modules, examples)
        ] + [
            backbone_runner(a, self.space, size, backend, device, threads,
                            seed) for a in self.calibration_archs
        ]

    def table(self,
              samples: Sequence[Sequence[float]],
              meta: Optional[dict] = None) -> LatencyTable:
        """The table from the seconds of each runner's calls."""
        if len(samples) != len(self.runners):
            raise ValueError(f'expected timings of {len(self.runners)} '
                             f'runners, got {len(samples)}')
        timings = [Timing.of(s) for s in samples]
        n = len(self.keys)
        blocks = dict(zip(self.keys[1:], timings[1:n]))
        args = (self.space, self.input_size, self.backend, self.device,
                timings[0], blocks)
        no_offset = LatencyTable(*args, 0.0)
        calibration = [
            dict(
                arch=arch,
                measured=timing.to_dict(),
                sum_ms=no_offset.predict(arch))
            for arch, timing in zip(self.calibration_archs, timings[n:])
        ]
        diffs = [c['measured']['median_ms'] - c['sum_ms'] for c in calibration]
        meta = dict(meta or {})
        meta['offset_spread_ms'] = float(np.max(diffs) - np.min(diffs))
        return LatencyTable(*args, float(np.median(diffs)), calibration, meta,
                            self.shapes)


def build_latency_table(
        space: SpaceLike,
        input_size: SizeLike,
        backend: str = 'torch',
        device: str = 'cpu',
        threads: int = 1,
        rounds: int = 30,
        repeats: int = 3,
        warmup: int = 3,
        num_calibration: int = 5,
        seed: int = 0,
        clock: str = 'auto',
        log: Optional[Callable[[str], None]] = None) -> LatencyTable:
    """Measure a :class:`LatencyTable` on this machine.

    See :class:`TableBuilder` for what is timed.

    Args:
        space: Search space.
        input_size: Detector input size, an int or ``(height, width)``.
        backend: ``'torch'`` or ``'onnxruntime'``.
        device: ``'cpu'`` or ``'cuda'``.
        threads: Intra-op threads (torch and ONNX Runtime).
        rounds: Interleaved rounds (see :func:`time_interleaved`).
        repeats: Timed calls per entry and round.
        warmup: Untimed calls per entry before the first round.
        num_calibration: Whole architectures measured for the offset
            (>= 1).
        seed: Seed of the inputs, calibration archs and visiting order.
        clock: ``'auto'``, ``'wall'`` or ``'cpu'`` (module docstring).
        log: Called with progress messages.

    Returns:
        LatencyTable: The table, ``meta['build_seconds']`` included.
    """
    start = time.perf_counter()
    load_before = os.getloadavg()[0]
    clock = resolve_clock(clock, device, threads)
    log = log or (lambda msg: None)
    builder = TableBuilder(space, input_size, backend, device, threads,
                           num_calibration, seed)
    log(f'timing {len(builder.runners)} runners ({len(builder.keys)} '
        f'entries, {num_calibration} calibration archs; {backend} on '
        f'{device}): {rounds} rounds x {repeats} calls, {warmup} warm-up '
        f'calls, {clock} clock')
    samples = measure(builder.runners, backend, device, threads, rounds,
                      repeats, warmup, seed, clock)
    table = builder.table(
        samples,
        build_meta(
            device,
            threads,
            clock,
            rounds=rounds,
            repeats=repeats,
            warmup=warmup,
            seed=seed))
    table.meta.update(
        load_average=[load_before, os.getloadavg()[0]],
        build_seconds=time.perf_counter() - start)
    log(f'done in {table.meta["build_seconds"]:.1f} s; offset '
        f'{table.offset_ms:.3f} ms')
    return table


def build_meta(device: str, threads: int, clock: str, **settings) -> dict:
    """What a measurement ran on: device, threads, clock, versions, date."""
    return dict(
        device_name=device_name(device),
        threads=threads,
        clock=clock,
        versions=library_versions(),
        date=datetime.datetime.now(
            datetime.timezone.utc).isoformat(timespec='seconds'),
        platform=sys.platform,
        **settings)
