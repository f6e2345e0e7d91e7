"""DetNAS search spaces and the gene-string encoding of architectures.

A search space is a small table: blocks per stage, channels, and the choice
ops every block can take. An architecture is one choice digit per block,
written per stage and separated by ``|``, e.g. ``2120|2112|33130031|3132``.
"""
from dataclasses import asdict, dataclass
from typing import Dict, Sequence, Tuple, Union

# Choice ops, indexed by their gene digit.
CHOICE_OPS = ('shufflenet_3x3', 'shufflenet_5x5', 'shufflenet_7x7',
              'xception')
# Depthwise kernel of each choice op (the Xception block uses 3x3 convs).
CHOICE_KERNELS = (3, 5, 7, 3)


@dataclass(frozen=True)
class SearchSpace:
    """Shape of a DetNAS supernet.

    Args:
        name: Name of the space, e.g. ``'300M'``.
        depths: Number of blocks in each stage.
        stem_channels: Output channels of the stride-2 stem conv.
        stage_channels: Output channels of each stage.
        last_channels: Output channels of the 1x1 conv of the ImageNet form.
        choices: Gene digits every block may take (indices into
            ``CHOICE_OPS``).
    """
    name: str
    depths: Tuple[int, ...]
    stem_channels: int
    stage_channels: Tuple[int, ...]
    last_channels: int
    choices: Tuple[int, ...] = (0, 1, 2, 3)

    def __post_init__(self):
        # Lists from configs become tuples so spaces hash and compare.
        for field in ('depths', 'stage_channels', 'choices'):
            object.__setattr__(self, field, tuple(getattr(self, field)))
        if not self.depths or any(d < 1 for d in self.depths):
            raise ValueError(f'depths must be positive integers, got '
                             f'{self.depths}')
        if len(self.stage_channels) != len(self.depths):
            raise ValueError(
                f'stage_channels {self.stage_channels} must have one entry '
                f'per stage of depths {self.depths}')
        bad = [c for c in self.choices if c not in range(len(CHOICE_OPS))]
        if bad or not self.choices or len(set(self.choices)) != len(
                self.choices):
            raise ValueError(
                f'choices {self.choices} must be distinct digits from '
                f'{tuple(range(len(CHOICE_OPS)))} ({", ".join(CHOICE_OPS)})')
        in_channels = self.stem_channels
        for out_channels in self.stage_channels:
            # The stride-2 block's main branch makes out - in channels and
            # the stride-1 blocks split the channels into two halves.
            if out_channels <= in_channels or out_channels % 4:
                raise ValueError(
                    f'stage_channels {self.stage_channels} must grow from '
                    f'stem_channels {self.stem_channels} and be multiples '
                    f'of 4')
            in_channels = out_channels

    @property
    def num_blocks(self) -> int:
        return sum(self.depths)

    @property
    def num_stages(self) -> int:
        return len(self.depths)

    def block_stages(self) -> Tuple[int, ...]:
        """Stage index of every block, in order."""
        return tuple(s for s, d in enumerate(self.depths) for _ in range(d))

    def to_dict(self) -> dict:
        return asdict(self)

    def signature(self) -> Tuple[int, ...]:
        """Integers that identify the space's shape (stored in checkpoints)."""
        return (len(self.depths), *self.depths, self.stem_channels,
                *self.stage_channels, self.last_channels, len(self.choices),
                *self.choices)


SEARCH_SPACES: Dict[str, SearchSpace] = {
    space.name: space
    for space in [
        SearchSpace('300M', (4, 4, 8, 4), 16, (64, 160, 320, 640), 1024),
        SearchSpace('1.3G', (8, 8, 16, 8), 48, (96, 240, 480, 960), 1024),
        # The 1.3G depths with wider channels.
        SearchSpace('3.8G', (8, 8, 16, 8), 72, (172, 432, 864, 1728), 1728),
        # CPU size only: the 300M widths at depths 1/1/2/1 (5 blocks, 1024
        # paths), which a uniform-path supernet learns in CPU minutes
        # (docs/pretraining.md, docs/rank_correlation.md).
        SearchSpace('300M-d1121', (1, 1, 2, 1), 16, (64, 160, 320, 640),
                    1024),
    ]
}

SpaceLike = Union[str, dict, SearchSpace]


def get_search_space(space: SpaceLike) -> SearchSpace:
    """Return a :class:`SearchSpace` from a name, a dict or a space.

    Args:
        space: One of ``SEARCH_SPACES`` by name (``'300M'``, ``'1.3G'``,
            ``'3.8G'``), or a dict with the fields of :class:`SearchSpace`
            (``name`` optional) for a space defined in a config.

    Returns:
        SearchSpace: The space.
    """
    if isinstance(space, SearchSpace):
        return space
    if isinstance(space, str):
        if space not in SEARCH_SPACES:
            raise ValueError(f'Unknown search space {space!r}; known spaces: '
                             f'{sorted(SEARCH_SPACES)}, or a dict with '
                             f'depths, stem_channels, stage_channels, '
                             f'last_channels and optionally choices')
        return SEARCH_SPACES[space]
    if isinstance(space, dict):
        fields = dict(space)
        fields.setdefault('name', 'custom')
        allowed = set(SearchSpace.__dataclass_fields__)
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f'Unknown search space keys {sorted(unknown)}; '
                             f'allowed: {sorted(allowed)}')
        return SearchSpace(**fields)
    raise ValueError(f'space must be a name from {sorted(SEARCH_SPACES)}, a '
                     f'dict or a SearchSpace, got {space!r}')


def parse_arch(arch: Union[str, Sequence[int]],
               space: SpaceLike) -> Tuple[int, ...]:
    """Decode an architecture into one choice index per block.

    The gene string has one digit per block and ``|`` between stages; every
    stage must have exactly as many digits as the space has blocks in it.
    Digits (see ``CHOICE_OPS``):

    - ``0``: ShuffleNetV2 block, depthwise kernel 3x3
    - ``1``: ShuffleNetV2 block, depthwise kernel 5x5
    - ``2``: ShuffleNetV2 block, depthwise kernel 7x7
    - ``3``: Xception-like block (three depthwise 3x3 convs)

    A space may allow only some of the digits (``SearchSpace.choices``).

    Args:
        arch: Gene string such as ``'2120|2112|33130031|3132'``, or a
            sequence of choice digits, one per block.
        space: The search space the architecture belongs to.

    Returns:
        tuple[int]: The choice digit of every block.
    """
    space = get_search_space(space)
    stage_lens = '/'.join(map(str, space.depths))
    allowed = ''.join(map(str, space.choices))
    if isinstance(arch, str):
        stages = arch.strip().split('|')
        lens = tuple(len(s) for s in stages)
        if lens != space.depths:
            raise ValueError(
                f'Architecture {arch!r} has stages of '
                f'{"/".join(map(str, lens))} blocks but space '
                f'{space.name!r} needs {stage_lens} '
                f'(one digit per block, "|" between stages)')
        genes = ''.join(stages)
        bad = sorted({g for g in genes if g not in allowed})
        if bad:
            raise ValueError(f'Architecture {arch!r} has invalid digits {bad};'
                             f' space {space.name!r} allows {list(allowed)}')
        return tuple(int(g) for g in genes)
    try:
        choices = tuple(int(c) for c in arch)
    except (TypeError, ValueError):
        raise ValueError(f'Architecture must be a gene string like '
                         f'"2120|2112|33130031|3132" or a sequence of digits, '
                         f'got {arch!r}') from None
    if len(choices) != space.num_blocks:
        raise ValueError(f'Architecture {arch!r} has {len(choices)} blocks '
                         f'but space {space.name!r} has {space.num_blocks} '
                         f'({stage_lens})')
    bad = sorted({c for c in choices if c not in space.choices})
    if bad:
        raise ValueError(f'Architecture {arch!r} has invalid choices {bad}; '
                         f'space {space.name!r} allows {list(space.choices)}')
    return choices


def format_arch(choices: Sequence[int], space: SpaceLike) -> str:
    """Encode choice digits as a gene string (the inverse of parse_arch)."""
    space = get_search_space(space)
    choices = parse_arch(choices, space)
    genes, start = [], 0
    for depth in space.depths:
        genes.append(''.join(map(str, choices[start:start + depth])))
        start += depth
    return '|'.join(genes)
