import json

import pytest

from detnas_mm.cost import get_cost_table
from tests.utils import run_tool

# Every test runs the tool in a subprocess.
pytestmark = pytest.mark.e2e


def run(*args):
    return run_tool(['tools/analysis/arch_cost.py', *args], check=False)


def test_json_figures_match_the_table():
    arch = '2120|2112|33130031|3132'
    out = run('--space', '300M', '--arch', arch, '--imagenet-head', '--json')
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert (result['flops'], result['params']) == get_cost_table(
        '300M').cost(arch, imagenet_head=True)
    assert result['input_size'] == [224, 224]


def test_human_readable_output_and_input_size():
    out = run('--space', '300M', '--arch', '0000|0000|00000000|0000',
              '--input-size', '320', '480')
    assert out.returncode == 0, out.stderr
    assert 'backbone at 320x480' in out.stdout
    assert 'M FLOPs' in out.stdout and 'M params' in out.stdout


@pytest.mark.parametrize('args,message', [
    (('--space', '300M', '--arch', '0000|0000'), 'needs 4/4/8/4'),
    (('--space', '2G', '--arch', '0'), "Unknown search space '2G'"),
])
def test_bad_input_names_the_problem(args, message):
    out = run(*args)
    assert out.returncode != 0
    assert message in out.stderr
