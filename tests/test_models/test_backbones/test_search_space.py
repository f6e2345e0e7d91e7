import pytest

from detnas_mm.models.backbones import (SEARCH_SPACES, format_arch,
                                        get_search_space, parse_arch)
from detnas_mm.published_archs import PUBLISHED_ARCHS


@pytest.mark.parametrize('name,arch', PUBLISHED_ARCHS.values())
def test_published_archs_round_trip(name, arch):
    path = parse_arch(arch, name)
    assert len(path) == SEARCH_SPACES[name].num_blocks
    assert format_arch(path, name) == arch


def test_space_table():
    assert SEARCH_SPACES['300M'].depths == (4, 4, 8, 4)
    assert SEARCH_SPACES['1.3G'].stage_channels == (96, 240, 480, 960)
    assert SEARCH_SPACES['3.8G'].last_channels == 1728
    assert SEARCH_SPACES['3.8G'].depths == SEARCH_SPACES['1.3G'].depths


@pytest.mark.parametrize('arch,match', [
    ('2120|2112|33130031|313', r'stages of 4/4/8/3 blocks.*needs 4/4/8/4'),
    ('2120|2112|33130031|3134', r"invalid digits \['4'\].*allows"),
    ('2120|2x12|33130031|3132', r"invalid digits \['x'\]"),
    ('00312102|03123320|2113202221310333|13333333', r'needs 4/4/8/4'),
    ('212021123313003131', r'stages of 18 blocks'),
    ((0, ) * 19, r'has 19 blocks but space .300M. has 20'),
    ((0, ) * 19 + (5, ), r'invalid choices \[5\]'),
])
def test_bad_arch_raises(arch, match):
    with pytest.raises(ValueError, match=match):
        parse_arch(arch, '300M')


def test_custom_space_and_restricted_choices():
    space = get_search_space(
        dict(depths=[1, 2], stem_channels=8, stage_channels=[16, 32],
             last_channels=64, choices=[0, 3]))
    assert parse_arch('3|03', space) == (3, 0, 3)
    with pytest.raises(ValueError, match=r"invalid digits \['1'\].*\['0', "
                       r"'3'\]"):
        parse_arch('1|00', space)


@pytest.mark.parametrize('space,match', [
    ('500M', r"Unknown search space '500M'.*'1.3G', '3.8G', '300M'"),
    (dict(depths=[1], stem_channels=8, stage_channels=[6],
          last_channels=8), 'must grow from stem_channels 8'),
    (dict(depths=[1, 1], stem_channels=8, stage_channels=[16],
          last_channels=8), 'one entry per stage'),
    (dict(depths=[1], stem_channels=8, stage_channels=[16],
          last_channels=8, choices=[0, 7]), r'choices \(0, 7\)'),
    (dict(depth=[1]), "Unknown search space keys \\['depth'\\]"),
])
def test_bad_space_raises(space, match):
    with pytest.raises(ValueError, match=match):
        get_search_space(space)
