import json
import sys

import numpy as np
import pytest
import torch

from detnas_mm.cost.latency import (LatencyTable, TableBuilder, Timing,
                                    build_latency_table, random_archs,
                                    resolve_clock, time_interleaved)
from detnas_mm.models.backbones import format_arch, get_search_space
from tests.utils import TINY_SPACE, load_script, run_tool

TINY = dict(TINY_SPACE, name='tiny')


def hand_made_table(space=TINY,
                    input_size=(64, 64),
                    backend='torch',
                    device='cpu',
                    offset_ms=0.25):
    """A table with known entries: block b, choice c takes b + c / 10 ms."""
    space = get_search_space(space)
    blocks = {
        (b, c): Timing(b + c / 10, 0.01, 3)
        for b in range(space.num_blocks)
        for c in space.choices
    }
    return LatencyTable(
        space,
        input_size,
        backend,
        device,
        Timing(0.5, 0.01, 3),
        blocks,
        offset_ms,
        meta=dict(device_name='test cpu', threads=1))


def test_prediction_is_the_sum_of_entries_plus_the_offset():
    table = hand_made_table()
    arch = '3|1|02|2'
    expected = 0.5 + (0 + .3) + (1 + .1) + (2 + 0) + (3 + .2) + (4 + .2)
    assert table.sum_of_entries(arch) == pytest.approx(expected)
    assert table.predict(arch) == pytest.approx(expected + 0.25)
    assert table.predict_path([3, 1, 0, 2, 2]) == table.predict(arch)
    low, high = table.bounds()
    assert low == pytest.approx(table.predict('0|0|00|0'))
    assert high == pytest.approx(table.predict('3|3|33|3'))
    with pytest.raises(ValueError, match='needs 1/1/2/1'):
        table.predict('0|0|0|0')


def test_save_load_round_trip(tmp_path):
    table = hand_made_table()
    table.save(tmp_path / 't.json')
    loaded = LatencyTable.load(
        str(tmp_path / 't.json'),
        space=TINY,
        input_size=64,
        backend='torch',
        device='cpu')
    for arch in random_archs(TINY, 5):
        assert loaded.predict(arch) == pytest.approx(table.predict(arch))
    assert loaded.blocks == table.blocks and loaded.stem == table.stem
    assert loaded.meta['device_name'] == 'test cpu'


@pytest.mark.parametrize('request_, message', [
    (dict(input_size=(800, 1333)),
     'measured at input size 64x64, not the requested 800x1333'),
    (dict(input_size=128), 'not the requested 128x128'),
    (dict(backend='onnxruntime'),
     "measured with backend 'torch', not the requested 'onnxruntime'"),
    (dict(space='300M'), "space 'tiny' (depths 1/1/2/1"),
    (dict(space=dict(TINY, stem_channels=12)), 'stem 12'),
    (dict(device='cuda'), "on device 'cpu' (test cpu), not the requested"),
])
def test_load_refuses_a_table_measured_for_something_else(
        tmp_path, request_, message):
    path = str(tmp_path / 'table.json')
    hand_made_table().save(path)
    with pytest.raises(ValueError) as error:
        LatencyTable.load(path, **request_)
    assert message in str(error.value)
    assert path in str(error.value)


def test_load_refuses_a_file_that_is_not_a_table(tmp_path):
    path = tmp_path / 'other.json'
    path.write_text(json.dumps(dict(format='something else')))
    with pytest.raises(ValueError, match='Not a latency table'):
        LatencyTable.load(str(path))
    path.write_text('not json')
    with pytest.raises(ValueError, match='not a JSON latency table'):
        LatencyTable.load(str(path))


def test_a_table_needs_every_entry():
    table = hand_made_table()
    blocks = dict(table.blocks)
    del blocks[(2, 3)]
    with pytest.raises(ValueError, match=r'lacks .*\(2, 3\)'):
        LatencyTable(TINY, 64, 'torch', 'cpu', table.stem, blocks, 0.0)


def test_time_interleaved_runs_each_runner_as_asked():
    calls = []
    runners = [lambda i=i: calls.append(i) for i in range(3)]
    samples = time_interleaved(runners, rounds=4, repeats=2, warmup=1)
    assert [len(s) for s in samples] == [8, 8, 8]
    assert calls[:3] == [0, 1, 2]  # warm-up, in order
    timed = calls[3:]
    # Each round calls every runner `repeats` times back to back, in an
    # order that changes between rounds.
    rounds = [timed[i:i + 6] for i in range(0, 24, 6)]
    assert all(sorted(r) == [0, 0, 1, 1, 2, 2] for r in rounds)
    assert all(r[0] == r[1] and r[2] == r[3] for r in rounds)
    assert len({tuple(r) for r in rounds}) > 1
    with pytest.raises(ValueError, match='rounds must be an int >= 1'):
        time_interleaved(runners, rounds=0)


def test_clock_choice():
    assert resolve_clock('auto', 'cpu', 1) == 'cpu'
    assert resolve_clock('auto', 'cpu', 2) == 'wall'
    assert resolve_clock('auto', 'cuda', 1) == 'wall'
    with pytest.raises(ValueError, match='needs device .cpu. and threads=1'):
        resolve_clock('cpu', 'cpu', 2)
    with pytest.raises(ValueError, match='clock must be one of'):
        resolve_clock('sundial')


def test_the_builder_times_the_blocks_at_their_real_input_shapes():
    builder = TableBuilder(TINY, (64, 96), num_calibration=1)
    # Stem stride 2, then the first block of every stage halves the size.
    assert builder.shapes == [[8, 32, 48], [16, 16, 24], [32, 8, 12],
                              [48, 4, 6], [48, 4, 6]]
    assert builder.keys[0] == 'stem' and len(builder.keys) == 1 + 5 * 4
    assert len(builder.runners) == len(builder.keys) + 1


@pytest.mark.parametrize('backend', ['torch', 'onnxruntime'])
def test_build_a_tiny_table(tmp_path, backend):
    threads = torch.get_num_threads()
    table = build_latency_table(
        TINY,
        32,
        backend,
        threads=1,
        rounds=2,
        repeats=1,
        warmup=0,
        num_calibration=3)
    assert torch.get_num_threads() == threads  # restored
    space = get_search_space(TINY)
    assert set(table.blocks) == {(b, c)
                                 for b in range(space.num_blocks)
                                 for c in space.choices}
    for timing in [table.stem, *table.blocks.values()]:
        assert timing.median_ms > 0 and timing.count == 2
    # The offset: median over the calibration archs of whole - sum.
    diffs = [
        c['measured']['median_ms'] - c['sum_ms'] for c in table.calibration
    ]
    assert len(diffs) == 3
    assert table.offset_ms == pytest.approx(float(np.median(diffs)))
    for c in table.calibration:
        assert c['sum_ms'] == pytest.approx(table.sum_of_entries(c['arch']))
    meta = table.meta
    assert meta['threads'] == 1 and meta['clock'] == 'cpu'
    assert meta['device_name'] and meta['date']
    assert meta['versions']['torch'] == torch.__version__
    assert meta['versions']['onnxruntime']
    assert meta['build_seconds'] > 0
    path = str(tmp_path / 'table.json')
    table.save(path)
    loaded = LatencyTable.load(path, TINY, 32, backend, 'cpu')
    arch = format_arch([3, 2, 1, 0, 3], TINY)
    assert loaded.predict(arch) == pytest.approx(table.predict(arch))


def load_tool():
    return load_script('tools/analysis/latency_table.py')


@pytest.mark.e2e
def test_latency_table_tool(tmp_path):
    # The real command line once (a subprocess), bad input in-process.
    out = tmp_path / 'table.json'
    result = run_tool([
        'tools/analysis/latency_table.py', '--space',
        json.dumps(TINY), '--input-size', '32', '48', '--rounds', '1',
        '--repeats', '1', '--warmup', '0', '--calibration', '1', '--out',
        out, '--json'
    ])
    summary = json.loads(result.stdout)
    assert summary['input_size'] == [32, 48] and summary['threads'] == 1
    table = LatencyTable.load(str(out), TINY, (32, 48), 'torch')
    assert summary['offset_ms'] == pytest.approx(table.offset_ms)


@pytest.mark.parametrize('args, message', [
    (('--space', '2G', '--input-size', '64'), "Unknown search space '2G'"),
    (('--space', '300M', '--input-size', '1', '2', '3'),
     'takes S or H W, got [1, 2, 3]'),
    (('--space', '300M', '--input-size', '0'), "positive integer, got '0'"),
    (('--space', '300M', '--input-size', '64', '--backend', 'tflite'),
     "invalid choice: 'tflite'"),
])
def test_latency_table_tool_bad_input(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as exit_:
        load_tool().main([*args, '--out', str(tmp_path / 'x.json')])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / 'x.json').exists()


def test_arch_cost_prints_the_predicted_latency(tmp_path, monkeypatch, capsys):
    path = str(tmp_path / 'table.json')
    hand_made_table(space='300M', input_size=(128, 128)).save(path)
    tool = load_script('tools/analysis/arch_cost.py')
    arch = '2120|2112|33130031|3132'
    argv = [
        'arch_cost.py', '--space', '300M', '--arch', arch, '--latency-table',
        path
    ]
    monkeypatch.setattr(sys, 'argv', argv + ['--json'])
    tool.main()
    result = json.loads(capsys.readouterr().out)
    expected = LatencyTable.load(path).predict(arch)
    assert result['latency_ms'] == pytest.approx(expected)
    assert result['latency_table']['input_size'] == [128, 128]
    monkeypatch.setattr(sys, 'argv', argv)
    tool.main()
    assert f'backbone latency at 128x128: {expected:.2f} ms (predicted' in \
        capsys.readouterr().out
    # A table of another space is refused with the reason.
    monkeypatch.setattr(
        sys, 'argv', argv[:2] + [
            '1.3G', '--arch', '|'.join(['0' * 8, '0' * 8, '0' * 16, '0' * 8]),
            '--latency-table', path
        ])
    with pytest.raises(SystemExit, match="measured for space '300M'"):
        tool.main()
    monkeypatch.setattr(sys, 'argv', argv[:-1] + [str(tmp_path / 'no')])
    with pytest.raises(SystemExit, match='No latency table at'):
        tool.main()
