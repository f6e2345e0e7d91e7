from .choice_blocks import (ChoiceBlock, ShuffleNetV2Block,
                            ShuffleXceptionBlock, build_choice_op)
from .detnas_backbone import DetNASBackbone
from .detnas_net import DetNASNet
from .detnas_supernet import DetNASSupernet
from .search_space import (CHOICE_OPS, SEARCH_SPACES, SearchSpace, format_arch,
                           get_search_space, parse_arch)
from .weight_init import DetNASInit

__all__ = [
    'ChoiceBlock', 'ShuffleNetV2Block', 'ShuffleXceptionBlock',
    'build_choice_op', 'DetNASBackbone', 'DetNASNet', 'DetNASSupernet',
    'CHOICE_OPS', 'SEARCH_SPACES', 'SearchSpace', 'format_arch',
    'get_search_space', 'parse_arch', 'DetNASInit'
]
