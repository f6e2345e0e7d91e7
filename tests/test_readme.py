"""Every command and file the README names exists."""
import re

from tests.utils import REPO_ROOT

README = (REPO_ROOT / 'README.md').read_text()


def test_the_two_commands_exist_and_ci_calls_the_test_command():
    assert 'bash tools/run_main.sh' in README
    assert 'bash tools/run_tests.sh' in README
    for script in ('tools/run_main.sh', 'tools/run_tests.sh',
                   'tools/install.sh'):
        assert (REPO_ROOT / script).is_file(), script
    assert 'bash tools/run_tests.sh' in (REPO_ROOT / '.ci' / 'run').read_text()
    # Both commands install first.
    for script in ('tools/run_main.sh', 'tools/run_tests.sh'):
        assert 'tools/install.sh' in (REPO_ROOT / script).read_text()


def test_every_named_path_exists():
    paths = set(re.findall(
        r'((?:tools|configs|docs|benchmarks|detnas_mm)/[\w./-]+\.'
        r'(?:py|sh|md|yml))', README))
    assert paths
    missing = [p for p in sorted(paths) if not (REPO_ROOT / p).exists()]
    assert not missing, missing


def test_every_config_glob_matches():
    for pattern in re.findall(r'(configs/[\w/-]*\*[\w.*-]*\.py)', README):
        assert list(REPO_ROOT.glob(pattern)), pattern
